import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ContactImportError, MAX_CONTACTS, normalizePhoneNumber, parseContactsCsv } from '../../../src/campaigns/contact-import.js';
import type { ContactImportOptions } from '../../../src/campaigns/contact-import.js';
import type { ImportReport } from '../../../src/store/records.js';
import { maxVariableChars } from '../../../src/call/stream-parameter-names.js';
import { parseContactsCsvOffThread } from '../../../src/campaigns/contact-import-off-thread.js';

/** Parses and checks the invariant every report must keep. */
function importCsv(csv: string, opts?: ContactImportOptions): ReturnType<typeof parseContactsCsv> {
  const result = parseContactsCsv(csv, opts);
  const { report } = result;
  assert.equal(report.rows, report.imported + report.rejected, 'rows === imported + rejected');
  assert.equal(report.imported, result.contacts.length);
  return result;
}

/** The ContactImportError parseContactsCsv throws. */
function importError(csv: string, opts?: ContactImportOptions): ContactImportError {
  try {
    parseContactsCsv(csv, opts);
  } catch (err) {
    assert.ok(err instanceof ContactImportError, `expected ContactImportError, got ${String(err)}`);
    assert.equal(err.name, 'ContactImportError');
    return err;
  }
  assert.fail('expected ContactImportError');
}

const lines = (report: ImportReport): number[] => report.rejections.map((r) => r.line);
const NO_COUNTRY =
  'no country code: write the number with + and its country code (e.g. +81 90-1234-5678), or set a default country for numbers written without one';

describe('contact CSV: reading the file', () => {
  test('header, rows, variables in header order, phone and time zone columns not variables', () => {
    const { contacts, report } = importCsv(
      'name,phone,plan,timezone,note\n' + 'Aiko,+81 90-1234-5678,gold,Asia/Tokyo,\n' + 'Liam,+1 415 555 2671,silver,America/Los_Angeles,VIP\n',
    );
    assert.deepEqual(contacts, [
      { line: 2, phone: '+819012345678', timezone: 'Asia/Tokyo', variables: { name: 'Aiko', plan: 'gold', note: '' } },
      { line: 3, phone: '+14155552671', timezone: 'America/Los_Angeles', variables: { name: 'Liam', plan: 'silver', note: 'VIP' } },
    ]);
    assert.deepEqual(report, {
      rows: 2,
      imported: 2,
      rejected: 0,
      rejections: [],
      variables: ['name', 'plan', 'note'],
      phoneColumn: 'phone',
      timezoneColumn: 'timezone',
    });
  });

  test('UTF-8 BOM and CRLF: the first header is still "phone", lines count as in an editor', () => {
    const { contacts, report } = importCsv('\uFEFFphone,name\r\n+81 90-1234-5678,Aiko\r\n+81 80-1111-2222,Sota\r\n');
    assert.equal(report.phoneColumn, 'phone');
    assert.deepEqual(report.variables, ['name']);
    assert.deepEqual(contacts.map((c) => [c.line, c.phone, c.variables.name]), [
      [2, '+819012345678', 'Aiko'],
      [3, '+818011112222', 'Sota'],
    ]);
    // Classic Mac line endings (CR alone) too.
    assert.deepEqual(importCsv('phone\r+81 90-1234-5678\rbad\r').report.rejections.map((r) => r.line), [3]);
  });

  test('semicolon delimiter (Excel in many locales): commas inside cells are text', () => {
    const { contacts, report } = importCsv('Telephone;Name;City\r\n+81 90-1234-5678;Tanaka, Aiko;Osaka\r\n"+1 415 555 2671";"Smith; John";NYC\r\n');
    assert.equal(report.phoneColumn, 'Telephone');
    assert.deepEqual(contacts.map((c) => c.variables), [
      { Name: 'Tanaka, Aiko', City: 'Osaka' },
      { Name: 'Smith; John', City: 'NYC' },
    ]);
  });

  test('a comma inside a quoted header does not make a semicolon file comma-separated', () => {
    const { contacts, report } = importCsv('"Phone, mobile";name\n+81 90-1234-5678;Aiko Tanaka\n', { phoneColumn: 'phone, mobile' });
    assert.equal(report.phoneColumn, 'Phone, mobile');
    assert.deepEqual(contacts[0]?.variables, { name: 'Aiko Tanaka' });
  });

  test('tab delimiter, with an empty cell in the middle kept', () => {
    const { contacts, report } = importCsv('phone\tname\tnote\n+81 90-1234-5678\t\tcall after 6\n');
    assert.deepEqual(report.variables, ['name', 'note']);
    assert.deepEqual(contacts[0]?.variables, { name: '', note: 'call after 6' });
  });

  test('quoted cells with commas, doubled quotes and line breaks; later line numbers account for them', () => {
    const csv = [
      'phone,name,address',
      '+81 90-1111-1111,"Tanaka, Aiko","1-2-3 Shibuya"', // line 2
      '+81 90-2222-2222,"Sato ""Ken""","Flat 4', // line 3 (address spans lines 3-5)
      'Building B',
      'Tokyo"',
      '+81 90-3333-3333,Yui,"a,b"', // line 6
      'not-a-number,Mei,x', // line 7: rejected, must say line 7
      '',
    ].join('\n');
    const { contacts, report } = importCsv(csv, { defaultCountry: 'JP' });
    assert.deepEqual(contacts.map((c) => [c.line, c.variables.name, c.variables.address]), [
      [2, 'Tanaka, Aiko', '1-2-3 Shibuya'],
      [3, 'Sato "Ken"', 'Flat 4\nBuilding B\nTokyo'],
      [6, 'Yui', 'a,b'],
    ]);
    assert.deepEqual(lines(report), [7]);
  });

  test('CRLF inside a quoted cell counts as one line (csv-parse info.lines would count two)', () => {
    const csv = 'phone,note\r\n+81 90-1111-1111,"first\r\nsecond\r\nthird"\r\n+81 90-2222-2222,x\r\nbad,y\r\n';
    const { contacts, report } = importCsv(csv, { defaultCountry: 'JP' });
    assert.deepEqual(contacts.map((c) => c.line), [2, 5]);
    assert.equal(contacts[0]?.variables.note, 'first\r\nsecond\r\nthird');
    assert.deepEqual(lines(report), [6]);
  });

  test('empty and blank lines are skipped, not counted as rows, but still count as lines', () => {
    const csv = '\nphone,name\n\n+81 90-1111-1111,Aiko\n   \n,\n\n+81 90-2222-2222,Sota\n\n\n';
    const { contacts, report } = importCsv(csv);
    assert.equal(report.rows, 2);
    assert.deepEqual(contacts.map((c) => c.line), [4, 8]);
  });

  test('surrounding whitespace is trimmed, quoted or not; a last line without a line break is read', () => {
    const { contacts } = importCsv('  phone  , name \n  +81 90-1234-5678 ,  "  Aiko  "  \n+81 80-1111-2222,Sota');
    assert.deepEqual(contacts.map((c) => [c.phone, c.variables]), [
      ['+819012345678', { name: 'Aiko' }],
      ['+818011112222', { name: 'Sota' }],
    ]);
  });

  test('line numbers stay right through any mix of line endings, multi-line cells and empty lines', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const eol = (): string => (rand() < 0.5 ? '\n' : '\r\n');
    // A lone CR only inside cells: a CR ending one line and an LF ending the next would read as one CRLF.
    const cellBreak = (): string => ['\n', '\r\n', '\r'][Math.floor(rand() * 3)] as string;
    let csv = `phone,note${eol()}`;
    let line = 2;
    const expected: number[] = [];
    for (let i = 0; i < 300; i++) {
      while (rand() < 0.2) {
        csv += `${rand() < 0.5 ? '' : '  '}${eol()}`; // an empty or blank line
        line++;
      }
      expected.push(line);
      const breaks = Math.floor(rand() * 3);
      let note = 'a';
      for (let b = 0; b < breaks; b++) note += `${cellBreak()}b${b}`;
      csv += `bad${i},${breaks > 0 || rand() < 0.3 ? `"${note}"` : note}${eol()}`;
      line += 1 + breaks;
    }
    const { report } = importCsv(csv, { maxRejectionsKept: 1000 });
    assert.equal(report.rows, 300);
    assert.deepEqual(lines(report), expected);
    assert.deepEqual(report.rejections.map((r) => r.value), expected.map((_, i) => `bad${i}`));
  });

  test('a quote that is never closed fails the whole file at the line it opens', () => {
    const err = importError('phone,note\r\n+81 90-1111-1111,"a\r\nb"\r\n+81 90-2222-2222,"oops\r\n+81 90-3333-3333,x\r\n');
    assert.equal(err.problems.length, 1);
    assert.match(err.problems[0] as string, /^line 4: a quoted cell is never closed/);
  });

  test('text after a closing quote fails the whole file with its line', () => {
    const err = importError('phone,note\n+81 90-1111-1111,"a"b\n');
    assert.match(err.problems[0] as string, /^line 2: text after the closing quote/);
  });

  test('an Excel workbook or a UTF-16 file is named as such', () => {
    assert.match(importError('PK\u0003\u0004\u0014\u0000garbage').message, /Excel workbook/);
    assert.match(importError('p\u0000h\u0000o\u0000n\u0000e\u0000\n\u0000').message, /UTF-16/);
  });
});

describe('contact CSV: whole-file problems', () => {
  test('empty, blank and header-only files', () => {
    assert.match(importError('').problems[0] as string, /the file is empty/);
    assert.match(importError('\uFEFF\r\n  \r\n').problems[0] as string, /the file is empty/);
    assert.deepEqual(importError('phone,name\n').problems, ['the file has a header (phone,name) but no contacts']);
    assert.match(importError('phone,name\n\n,\n\n').problems[0] as string, /but no contacts/);
  });

  test('every header problem is listed at once', () => {
    const err = importError('Name,first name,,NAME,1st,ok.var-1,tz\nx,x,x,x,x,x,Asia/Tokyo\n', { defaultCountry: 'XX' });
    assert.equal(err.problems.length, 6, err.problems.join('\n'));
    const [country, empty, duplicate, noPhone, firstName, first] = err.problems as [string, string, string, string, string, string];
    assert.match(country, /default country "XX" is not a country code/);
    assert.match(empty, /column 3 has no header/);
    assert.match(duplicate, /header "NAME" appears twice \(columns 1 and 4; case is ignored\)/);
    assert.match(noPhone, /no phone column: the header has "Name", "first name", "", "NAME", "1st", "ok.var-1", "tz"/);
    assert.match(noPhone, /phone, phone_number, phonenumber, number, tel, telephone, mobile, to/);
    assert.match(noPhone, /phoneColumn option/);
    assert.match(firstName, /column 2 header "first name" cannot be a template variable.*\(e\.g\. first_name\)/);
    assert.match(first, /column 5 header "1st" cannot be a template variable/);
    assert.match(err.message, /^contact file has 6 problems: /);
  });

  test('a phoneColumn that is not in the header', () => {
    const err = importError('phone,name\n+81 90-1234-5678,Aiko\n', { phoneColumn: 'mobile_no' });
    assert.deepEqual(err.problems, ['the phone column "mobile_no" is not in the header ("phone", "name")']);
  });

  test('an unknown default country throws even when the file is fine; any case is accepted', () => {
    assert.match(importError('phone\n+81 90-1234-5678\n', { defaultCountry: 'Japan' }).message, /default country "Japan"/);
    assert.equal(importCsv('phone\n090-1234-5678\n', { defaultCountry: ' jp ' }).contacts[0]?.phone, '+819012345678');
  });

  test('"__proto__" cannot be a column (it would vanish from the variables object)', () => {
    assert.match(importError('phone,__proto__\n+81 90-1234-5678,x\n').problems[0] as string, /"__proto__" is reserved/);
  });

  test(`more than MAX_CONTACTS (${MAX_CONTACTS.toLocaleString('en-US')}) data rows; empty lines do not count`, () => {
    const err = importError(`phone\n${'1\n'.repeat(MAX_CONTACTS + 1)}`);
    assert.deepEqual(err.problems, ['the file has more than 1,000,000 contacts, the most a campaign takes']);
    // Exactly the limit, with empty lines between: read to the end, all rows counted (and rejected: "1" is no number).
    const { report } = importCsv(`phone\n\n\n${'1\n'.repeat(MAX_CONTACTS)}`, { maxRejectionsKept: 1 });
    assert.equal(report.rows, MAX_CONTACTS);
    assert.deepEqual(report.rejections, [{ line: 4, value: '1', reason: NO_COUNTRY }]);
  });
});

describe('contact CSV: columns', () => {
  test('the phone column is the first accepted header, any case; others become variables', () => {
    const { report, contacts } = importCsv('Mobile,TEL,name\n+81 90-1234-5678,03-1234-5678,Aiko\n');
    assert.equal(report.phoneColumn, 'Mobile');
    assert.deepEqual(report.variables, ['TEL', 'name']);
    assert.deepEqual(contacts[0]?.variables, { TEL: '03-1234-5678', name: 'Aiko' });
  });

  test('custom phoneColumn (case-insensitive); a "phone" column is then a variable', () => {
    const { report, contacts } = importCsv('phone,Customer_Cell,tz\nhome,+81 90-1234-5678,Asia/Tokyo\n', { phoneColumn: 'customer_cell' });
    assert.equal(report.phoneColumn, 'Customer_Cell');
    assert.equal(report.timezoneColumn, 'tz');
    assert.deepEqual(report.variables, ['phone']);
    assert.deepEqual(contacts[0], { line: 2, phone: '+819012345678', timezone: 'Asia/Tokyo', variables: { phone: 'home' } });
  });

  test('the phone column header need not be a variable name', () => {
    const { report } = importCsv('Phone Number (mobile),name\n+81 90-1234-5678,Aiko\n', { phoneColumn: 'phone number (mobile)' });
    assert.equal(report.phoneColumn, 'Phone Number (mobile)');
  });

  test('without a time zone column, timezone is null and timezoneColumn null', () => {
    const { contacts, report } = importCsv('to\n+81 90-1234-5678\n');
    assert.equal(report.timezoneColumn, null);
    assert.deepEqual(report.variables, []);
    assert.deepEqual(contacts[0], { line: 2, phone: '+819012345678', timezone: null, variables: {} });
  });
});

describe('contact CSV: phone numbers', () => {
  test('international numbers with spaces, dashes, dots and brackets → E.164, no default country needed', () => {
    const { contacts } = importCsv(
      'phone\n+81 90-1234-5678\n+1.415.555.2671\n+1 (212) 555-0123\n+44 20 7946 0958\n+819087654321\n+81 (0)3-1234-5678\n',
    );
    assert.deepEqual(contacts.map((c) => c.phone), ['+819012345678', '+14155552671', '+12125550123', '+442079460958', '+819087654321', '+81312345678']);
  });

  test('Japanese national numbers with defaultCountry JP, full-width digits included', () => {
    const { contacts } = importCsv('phone\n090 1234 5678\n03-1234-5678\n0120-123-456\n０８０－１１１１－２２２２\n', { defaultCountry: 'JP' });
    assert.deepEqual(contacts.map((c) => c.phone), ['+819012345678', '+81312345678', '+81120123456', '+818011112222']);
  });

  test('US national numbers with defaultCountry US', () => {
    const { contacts } = importCsv('phone\n(415) 555-2671\n415.555.0100\n1-212-555-0123\n', { defaultCountry: 'US' });
    assert.deepEqual(contacts.map((c) => c.phone), ['+14155552671', '+14155550100', '+12125550123']);
  });

  test("international dialling prefixes work only as the default country dials abroad (JP 010, US 011, GB 00)", () => {
    assert.equal(importCsv('phone\n010 1 415 555 2671\n', { defaultCountry: 'JP' }).contacts[0]?.phone, '+14155552671');
    assert.equal(importCsv('phone\n011 81 90 1234 5678\n', { defaultCountry: 'US' }).contacts[0]?.phone, '+819012345678');
    assert.equal(importCsv('phone\n00 81 90 1234 5678\n', { defaultCountry: 'GB' }).contacts[0]?.phone, '+819012345678');
    // Japan does not dial abroad with 00: read as a Japanese number, which it is not.
    const { report } = importCsv('phone\n00 81 90 1234 5678\n', { defaultCountry: 'JP' });
    assert.match(report.rejections[0]?.reason ?? '', /not a valid number for Japan \(JP\)/);
  });

  test('without a default country, national numbers are rejected saying to add +country or a default country', () => {
    const { contacts, report } = importCsv('phone\n090-1234-5678\n+81 90-1234-5678\n');
    assert.deepEqual(contacts.map((c) => c.phone), ['+819012345678']);
    assert.equal(report.rejections[0]?.line, 2);
    assert.equal(report.rejections[0]?.value, '090-1234-5678');
    assert.match(report.rejections[0]?.reason ?? '', /no country code: write the number with \+ and its country code.*default country/);
  });

  test('invalid numbers are rejected with the reason, naming the country libphonenumber saw', () => {
    const csv = [
      'phone,name',
      ',empty', // 2
      'hello,text', // 3
      '+81 90-1234-567,mobile one digit short', // 4 (the full metadata knows; length alone would pass)
      '+1 555 555 5555,no NANP country', // 5
      '+999 1234567,unknown calling code', // 6
      '(415) 555-2671,US number read as Japanese', // 7
      '12,too short', // 8
      '+1 415 555 2671 ext. 12,extension', // 9
      '+81 90,short international', // 10
    ].join('\n');
    const { contacts, report } = importCsv(csv, { defaultCountry: 'JP' });
    assert.equal(contacts.length, 0);
    assert.equal(report.rows, 9);
    const reasons = Object.fromEntries(report.rejections.map((r) => [r.line, r.reason]));
    assert.equal(reasons[2], 'no phone number');
    assert.equal(reasons[3], 'not a phone number');
    assert.equal(reasons[4], 'not a valid number for Japan (JP)');
    assert.equal(reasons[5], 'not a valid number for any country with calling code +1');
    assert.equal(reasons[6], 'unknown country calling code');
    assert.equal(reasons[7], 'not a valid number for Japan (JP) (written without +country code, so read as a number of the default country)');
    assert.match(reasons[8] ?? '', /too short/);
    assert.match(reasons[9] ?? '', /^has an extension \(12\)/);
    assert.equal(reasons[10], 'not a valid number for Japan (JP): too short');
    assert.deepEqual(report.rejections.map((r) => r.value), ['', 'hello', '+81 90-1234-567', '+1 555 555 5555', '+999 1234567', '(415) 555-2671', '12', '+1 415 555 2671 ext. 12', '+81 90']);
  });

  test('duplicates across formats: the first is kept, later ones name its line', () => {
    const csv = 'phone,name\n+81 90-1234-5678,first\n+1 415 555 2671,us\n090-1234-5678,national\n+819012345678,compact\n(415) 555-2671,us again\n';
    const { contacts, report } = importCsv(csv, { defaultCountry: 'JP' });
    assert.deepEqual(contacts.map((c) => [c.line, c.variables.name]), [
      [2, 'first'],
      [3, 'us'],
    ]);
    assert.deepEqual(report.rejections.slice(0, 2), [
      { line: 4, value: '090-1234-5678', reason: 'duplicate of line 2 (+819012345678)' },
      { line: 5, value: '+819012345678', reason: 'duplicate of line 2 (+819012345678)' },
    ]);
    // (415) 555-2671 with JP as default is not the US number: it is rejected as invalid, not as a duplicate.
    assert.match(report.rejections[2]?.reason ?? '', /not a valid number for Japan/);
  });

  test('a rejected row does not claim its number: the next valid occurrence is imported', () => {
    const { contacts, report } = importCsv('phone,tz\n+81 90-1234-5678,Mars/Olympus\n090-1234-5678,Asia/Tokyo\n', { defaultCountry: 'JP' });
    assert.deepEqual(contacts.map((c) => c.line), [3]);
    assert.deepEqual(lines(report), [2]);
  });

  test('normalizePhoneNumber: one number by the same rules', () => {
    assert.deepEqual(normalizePhoneNumber(' 090-1234-5678 ', 'JP'), { ok: true, e164: '+819012345678' });
    assert.deepEqual(normalizePhoneNumber('+1.415.555.2671'), { ok: true, e164: '+14155552671' });
    assert.equal(normalizePhoneNumber('090-1234-5678').ok, false);
    const bad = normalizePhoneNumber('090-1234-5678', 'ZZ');
    assert.ok(!bad.ok && /default country "ZZ"/.test(bad.reason));
  });
});

describe('contact CSV: rows', () => {
  test('a row with the wrong number of cells is rejected with its raw text', () => {
    const csv = 'phone,name,plan,note\n+81 90-1111-1111,Aiko,gold\n+81 90-2222-2222,Sota,gold,x,extra\n+81 90-3333-3333,Yui,gold,ok\n';
    const { contacts, report } = importCsv(csv);
    assert.deepEqual(contacts.map((c) => c.line), [4]);
    assert.deepEqual(report.rejections, [
      { line: 2, value: '+81 90-1111-1111,Aiko,gold', reason: '3 cells, header has 4' },
      { line: 3, value: '+81 90-2222-2222,Sota,gold,x,extra', reason: '5 cells, header has 4' },
    ]);
  });

  test('raw text of a bad multi-line row is the whole record, cut to 200 characters', () => {
    const long = 'x'.repeat(300);
    const csv = `phone,a,b\r\n+81 90-1111-1111,"one\r\ntwo"\r\n+81 90-2222-2222,${long}\r\n+81 90-3333-3333,a,b\r\n`;
    const { contacts, report } = importCsv(csv);
    assert.deepEqual(contacts.map((c) => c.line), [5]);
    assert.deepEqual(report.rejections.map((r) => [r.line, r.reason]), [
      [2, '2 cells, header has 3'],
      [4, '2 cells, header has 3'],
    ]);
    assert.equal(report.rejections[0]?.value, '+81 90-1111-1111,"one\r\ntwo"');
    assert.equal(report.rejections[1]?.value.length, 200);
    assert.ok(report.rejections[1]?.value.startsWith('+81 90-2222-2222,xxx'));
    assert.ok(report.rejections[1]?.value.endsWith('…'));
  });

  test('time zones: valid (any case → canonical), empty → null, unknown → rejected', () => {
    const csv = 'phone,Time_Zone\n+81 90-1111-1111,Asia/Tokyo\n+81 90-2222-2222,asia/tokyo\n+81 90-3333-3333,\n+81 90-4444-4444,Asia/Tokio\n+1 415 555 2671,America/Los_Angeles\n+81 90-5555-5555,UTC\n';
    const { contacts, report } = importCsv(csv);
    assert.equal(report.timezoneColumn, 'Time_Zone');
    assert.deepEqual(report.variables, []);
    assert.deepEqual(contacts.map((c) => [c.line, c.timezone]), [
      [2, 'Asia/Tokyo'],
      [3, 'Asia/Tokyo'],
      [4, null],
      [6, 'America/Los_Angeles'],
      [7, 'UTC'],
    ]);
    assert.deepEqual(report.rejections, [
      { line: 5, value: '+81 90-4444-4444', reason: 'unknown time zone "Asia/Tokio": use an IANA name such as Asia/Tokyo or America/New_York' },
    ]);
  });

  test('time zone checks are cached per distinct value', (t) => {
    const rows = Array.from({ length: 2000 }, (_, i) => `+81 90-${String(1000 + (i % 9000)).padStart(4, '0')}-${String(i).padStart(4, '0')},${['Asia/Tokyo', 'UTC', 'Nowhere/Land'][i % 3]}`);
    const formats = t.mock.method(Intl, 'DateTimeFormat');
    const { report } = importCsv(`phone,timezone\n${rows.join('\n')}\n`);
    assert.equal(formats.mock.callCount(), 3);
    assert.equal(report.rejected, 666);
  });

  test('maxRejectionsKept caps the list, in line order; the counts stay exact', () => {
    const rows = ['phone,name'];
    for (let i = 0; i < 60; i++) rows.push(i % 3 === 0 ? `+81 90-1234-${String(1000 + i)},ok` : `bad-${i},x`);
    const { report } = importCsv(rows.join('\n'), { maxRejectionsKept: 10 });
    assert.equal(report.rows, 60);
    assert.equal(report.imported, 20);
    assert.equal(report.rejected, 40);
    assert.equal(report.rejections.length, 10);
    assert.deepEqual(lines(report), [3, 4, 6, 7, 9, 10, 12, 13, 15, 16]);
    assert.equal(importCsv(rows.join('\n'), { maxRejectionsKept: 0 }).report.rejections.length, 0);
    assert.equal(importCsv(rows.join('\n')).report.rejections.length, 40);
  });

  test('by default 1,000 rejections are kept', () => {
    const csv = `phone\n${Array.from({ length: 1500 }, (_, i) => `bad${i}`).join('\n')}\n`;
    const { report } = importCsv(csv);
    assert.equal(report.rejected, 1500);
    assert.equal(report.rejections.length, 1000);
    assert.equal(report.rejections[999]?.line, 1001);
  });

  test('a mixed file: nothing is dropped silently', () => {
    const csv = [
      '\uFEFFphone;name;tz',
      '+81 90-1111-1111;Aiko;Asia/Tokyo', // imported
      '', // skipped, not a row
      '090-1111-1111;dup;', // duplicate
      '080-2222-2222;"multi', // imported (2 lines)
      'line";',
      ';no number;', // rejected
      '+81 90-3333-3333;bad tz;Mars/Base', // rejected
      '+81 90-4444-4444;short', // cell count
      '(415) 555-2671;us national;', // invalid for JP
    ].join('\r\n');
    const { contacts, report } = importCsv(csv, { defaultCountry: 'JP' });
    assert.equal(report.rows, 7);
    assert.equal(report.imported, 2);
    assert.equal(report.rejected, 5);
    assert.deepEqual(contacts.map((c) => c.line), [2, 5]);
    assert.deepEqual(lines(report), [4, 7, 8, 9, 10]);
    assert.deepEqual(report.rejections.map((r) => r.reason.split(/[:(]/)[0]?.trim()), [
      'duplicate of line 2',
      'no phone number',
      'unknown time zone "Mars/Base"',
      '2 cells, header has 3',
      'not a valid number for Japan',
    ]);
  });
});

test('a variable too long for a call (Twilio caps each <Parameter> below 500 characters) refuses its row', () => {
  const long = 'x'.repeat(maxVariableChars('note') + 1);
  const { contacts, report } = parseContactsCsv(`phone,note\n+14155550001,${long}\n+14155550002,${long.slice(1)}\n+14155550001,short\n`);
  assert.deepEqual(contacts.map((c) => c.line), [3, 4], 'the refused row does not make a later row with its number a duplicate');
  assert.equal(report.rejections[0]?.line, 2);
  assert.equal(maxVariableChars('note'), 500 - 1 - 'var_note'.length);
  assert.equal(report.rejections[0]?.reason, `note is ${long.length} characters; a call carries at most ${maxVariableChars('note')}`);
});

test('parsed in a worker thread: the same result, and the same ContactImportError', async () => {
  const csv = 'phone,name\n+14155550001,Aiko\nnot a number,Ken\n';
  assert.deepEqual(await parseContactsCsvOffThread(csv), parseContactsCsv(csv));
  await assert.rejects(parseContactsCsvOffThread('name\nAiko\n'), (err: unknown) => err instanceof ContactImportError && err.problems.length === 1);
});

test('the phone column may be written as spreadsheets write it: "Phone Number"', () => {
  const { contacts, report } = parseContactsCsv('Phone Number,name\n+14155550001,Aiko\n');
  assert.equal(report.phoneColumn, 'Phone Number');
  assert.equal(contacts[0]?.phone, '+14155550001');
});
