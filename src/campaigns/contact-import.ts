// A campaign's contact list: CSV text → contacts with E.164 numbers, plus a report of every row that was not
// imported and why, by line number. Problems with the file as a whole (no phone column, a header that cannot
// be a template variable, too many rows …) throw ContactImportError listing all of them at once; problems with
// a row reject that row only. rows === imported + rejected: nothing is dropped silently.
//
// Phone numbers: libphonenumber-js with the `max` metadata. `min` (the package default) checks little more
// than a number's length for its country, so it accepts e.g. "+81 90-1234-567" (a mobile number one digit
// short) and "00 81 90-1234-5678" with JP as default (read as a 16-digit Japanese number); `max` checks the
// numbering plan. Measured on this 2-core machine (AMD EPYC, Node 20, quiet), the 100,000 mixed JP/US numbers
// of bench/contact-csv.ts, parse + isValid, best of 3: `max` 833 ms, `min` 765 ms (+9 %); `max` called 468
// numbers invalid that `min` accepted, all of them really invalid. The whole import of those 100,000 rows ×
// 4 columns takes 1.18-1.19 s with `max` (cold and warm; bench/contact-import.ts), well under the ~3 s
// budget. So `max`.
//
// Line numbers are computed here, not taken from csv-parse: its `info.lines` is the line a record ENDS on,
// and it counts a CRLF inside a quoted field as two lines, so every later line number in a Windows file
// with a multi-line cell would be off by one.
import type { Options } from 'csv-parse/sync';
import { CsvError, parse } from 'csv-parse/sync';
import type { CountryCode, PhoneNumber } from 'libphonenumber-js/max';
import {
  getCountryCallingCode,
  isSupportedCountry,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
} from 'libphonenumber-js/max';
import type { ImportRejection, ImportReport } from '../store/records.js';
import { maxVariableChars } from '../call/stream-parameter-names.js';

export interface ParsedContact {
  /** Line in the CSV file where the contact's record starts (1 = the header line). */
  line: number;
  /** E.164, e.g. +819012345678. */
  phone: string;
  /** IANA time zone, or null when the file has no time zone column or the cell is empty. */
  timezone: string | null;
  variables: Record<string, string>;
}

export interface ContactImportOptions {
  /** Header of the phone column; default: the first header (case-insensitive, trimmed) among phone, phone_number, phonenumber, number, tel, telephone, mobile, to. */
  phoneColumn?: string;
  /** ISO 3166-1 alpha-2 (JP, US, GB …) used for numbers written without a leading +; undefined → such numbers are rejected with a reason saying to give +country or a default country. */
  defaultCountry?: string;
  /** Rejections kept in the report (default 1000); counts stay exact. */
  maxRejectionsKept?: number;
}

/** One phone number read: E.164, or why it cannot be called. */
export type PhoneResult = { ok: true; e164: string } | { ok: false; reason: string };

/** The file as a whole cannot be imported; `problems` lists every reason found. */
export class ContactImportError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(problems.length === 1 ? `contact file: ${problems[0] as string}` : `contact file has ${problems.length} problems: ${problems.join('; ')}`);
    this.name = 'ContactImportError';
    this.problems = problems;
  }
}

export const MAX_CONTACTS = 1_000_000;

const PHONE_HEADERS = ['phone', 'phone_number', 'phonenumber', 'number', 'tel', 'telephone', 'mobile', 'to'];
const TIMEZONE_HEADERS = ['timezone', 'time_zone', 'tz'];
/** What a `{{name}}` placeholder accepts (src/agents/template.ts). */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const DEFAULT_MAX_REJECTIONS_KEPT = 1000;
const RAW_ROW_CHARS = 200;
/** csv-parse's own line breaks: any of these ends a record outside quotes. */
const RECORD_DELIMITERS = ['\r\n', '\n', '\r'];

/**
 * Parses a contact CSV (UTF-8 text, BOM allowed; comma, or ; / tab when the header has no comma).
 * Throws ContactImportError for whole-file problems; row problems go to `report.rejections`.
 */
export function parseContactsCsv(csv: string, opts: ContactImportOptions = {}): { contacts: ParsedContact[]; report: ImportReport } {
  const text = csv.charCodeAt(0) === 0xfeff ? csv.slice(1) : csv;
  checkEncoding(text);
  const problems: string[] = [];
  const defaultCountry = checkDefaultCountry(opts.defaultCountry, problems);
  const kept = opts.maxRejectionsKept;
  const maxKept = kept === undefined || Number.isNaN(kept) ? DEFAULT_MAX_REJECTIONS_KEPT : Math.max(0, Math.floor(kept));

  const records = readRecords(text);
  // Each record spans 1 + (line breaks inside its quoted cells) lines; an empty line is a record of its own.
  let nextLine = 1;
  let index = 0;
  let header: string[] | undefined;
  while (index < records.length && header === undefined) {
    const record = records[index++] as string[];
    nextLine += lineSpan(record);
    if (!isBlank(record)) header = record.map((h) => h.trim());
  }
  let dataRows = 0;
  for (let i = index; i < records.length; i++) if (!isBlank(records[i] as string[])) dataRows++;

  if (header === undefined) {
    throw new ContactImportError([...problems, 'the file is empty: it needs a header line (e.g. phone,name) and one contact per line']);
  }
  if (dataRows === 0) problems.push(`the file has a header (${header.join(',').slice(0, 200)}) but no contacts`);
  if (dataRows > MAX_CONTACTS) problems.push(`the file has more than ${MAX_CONTACTS.toLocaleString('en-US')} contacts, the most a campaign takes`);
  const columns = resolveColumns(header, opts.phoneColumn, problems);
  if (problems.length > 0 || columns === undefined) throw new ContactImportError(problems);

  const phones = new PhoneReader(defaultCountry);
  const { contacts, rows, rejected, rejections } = withoutStackTraces(() =>
    importRows(records, index, nextLine, header.length, columns, phones, new RawRows(text), maxKept),
  );
  return {
    contacts,
    report: {
      rows,
      imported: contacts.length,
      rejected,
      rejections,
      variables: columns.variableNames,
      phoneColumn: header[columns.phoneIndex] as string,
      timezoneColumn: columns.timezoneIndex === -1 ? null : (header[columns.timezoneIndex] as string),
    },
  };
}

/**
 * One number typed by a person (e.g. POST /api/calls `to`) → E.164, by the same rules as a CSV's phone cells.
 * Not part of the CSV import contract: src/server/api/call-routes.ts uses it so both paths agree.
 */
export function normalizePhoneNumber(text: string, defaultCountry?: string): PhoneResult {
  const problems: string[] = [];
  const country = checkDefaultCountry(defaultCountry, problems);
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };
  return new PhoneReader(country).read(text);
}

/** The data records from `index` (whose record starts on `line`) → contacts and rejections, in line order. */
function importRows(
  records: readonly string[][],
  index: number,
  line: number,
  cellCount: number,
  columns: Columns,
  phones: PhoneReader,
  rawRows: RawRows,
  maxKept: number,
): { contacts: ParsedContact[]; rows: number; rejected: number; rejections: ImportRejection[] } {
  const { phoneIndex, timezoneIndex, variableIndexes, variableNames } = columns;
  const zones = new TimeZoneCache();
  const firstLineOf = new Map<string, number>();
  const contacts: ParsedContact[] = [];
  const rejections: ImportRejection[] = [];
  let rows = 0;
  let rejected = 0;
  const reject = (at: number, value: string, reason: string): void => {
    rejected++;
    if (rejections.length < maxKept) rejections.push({ line: at, value, reason });
  };

  for (let nextLine = line; index < records.length; index++) {
    const record = records[index] as string[];
    const start = nextLine;
    const span = lineSpan(record);
    nextLine += span;
    if (isBlank(record)) continue;
    rows++;
    if (record.length !== cellCount) {
      reject(start, rawRows.text(start, span, RAW_ROW_CHARS), `${cells(record.length)}, header has ${cellCount}`);
      continue;
    }
    const rawPhone = record[phoneIndex] as string;
    const phone = phones.read(rawPhone);
    if (!phone.ok) {
      reject(start, rawPhone, phone.reason);
      continue;
    }
    let timezone: string | null = null;
    if (timezoneIndex !== -1) {
      const rawZone = (record[timezoneIndex] as string).trim();
      if (rawZone !== '') {
        timezone = zones.canonical(rawZone);
        if (timezone === null) {
          reject(start, rawPhone, `unknown time zone "${rawZone.slice(0, 60)}": use an IANA name such as Asia/Tokyo or America/New_York`);
          continue;
        }
      }
    }
    const first = firstLineOf.get(phone.e164);
    if (first !== undefined) {
      reject(start, rawPhone, `duplicate of line ${first} (${phone.e164})`);
      continue;
    }
    firstLineOf.set(phone.e164, start);
    const variables: Record<string, string> = {};
    let tooLong: string | undefined;
    for (let v = 0; v < variableIndexes.length; v++) {
      const name = variableNames[v] as string;
      const value = (record[variableIndexes[v] as number] as string).trim();
      if (value.length > maxVariableChars(name)) tooLong ??= `${name} is ${value.length} characters; a call carries at most ${maxVariableChars(name)}`;
      variables[name] = value;
    }
    if (tooLong !== undefined) {
      firstLineOf.delete(phone.e164);
      reject(start, rawPhone, tooLong);
      continue;
    }
    contacts.push({ line: start, phone: phone.e164, timezone, variables });
  }
  return { contacts, rows, rejected, rejections };
}

/**
 * Runs fn with Error.stackTraceLimit = 0. csv-parse builds an error object for every record whose cell count
 * differs from the first record's (with relax_column_count too), and libphonenumber throws and catches one
 * for every cell it cannot parse; capturing their stack traces was half the time of a file full of such rows
 * (csv-parse alone on 100,000 rows ending in an extra comma: 3.5 s → 1.5 s). fn is synchronous, so no other
 * code runs while the limit is 0. Nothing inside is expected to throw except csv-parse's CsvError, which
 * callers turn into a ContactImportError outside.
 */
function withoutStackTraces<T>(fn: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

// ---------------------------------------------------------------------------------------------- the file

/** The option as libphonenumber's code (upper-cased); a problem when it is not a country it knows. */
function checkDefaultCountry(value: string | undefined, problems: string[]): CountryCode | undefined {
  if (value === undefined) return undefined;
  const code = value.trim().toUpperCase();
  if (isSupportedCountry(code)) return code;
  problems.push(`default country ${JSON.stringify(value)} is not a country code libphonenumber knows: use ISO 3166-1 alpha-2 such as JP, US or GB`);
  return undefined;
}

/** Files that are not CSV text fail here with a reason people can act on. */
function checkEncoding(text: string): void {
  if (text.startsWith('PK\u0003\u0004')) {
    throw new ContactImportError(['this is an Excel workbook (.xlsx) or another zip file, not CSV: save it as "CSV UTF-8" first']);
  }
  if (text.includes('\u0000')) {
    throw new ContactImportError(['the file contains NUL characters, so it is probably UTF-16: save it as "CSV UTF-8"']);
  }
}

/** Comma, unless the header line has none but has ; (Excel in many locales) or tabs. */
function detectDelimiter(text: string): string {
  const start = text.search(/\S/);
  if (start === -1) return ',';
  let end = text.slice(start).search(/[\r\n]/);
  end = end === -1 ? text.length : start + end;
  const headerLine = text.slice(start, end).replace(/"(?:[^"]|"")*"/g, '');
  if (headerLine.includes(',')) return ',';
  const semicolons = headerLine.split(';').length - 1;
  const tabs = headerLine.split('\t').length - 1;
  if (semicolons === 0 && tabs === 0) return ',';
  return tabs > semicolons ? '\t' : ';';
}

/**
 * Every record, empty lines included (as ['']), so line numbers can be counted. Malformed quoting cannot be
 * recovered from (everything after an unclosed quote would be one cell), so it fails the whole file.
 */
function readRecords(text: string): string[][] {
  const options: Options = {
    delimiter: detectDelimiter(text),
    record_delimiter: RECORD_DELIMITERS,
    trim: true,
    relax_quotes: true,
    relax_column_count: true,
    // The header and one record past the limit are enough to know the file is too big, without reading
    // a huge file to its end (when empty lines used up some of these records, it is read again in full).
    to: MAX_CONTACTS + 2,
  };
  try {
    return withoutStackTraces(() => {
      const records = parse(text, options);
      if (records.length < MAX_CONTACTS + 2 || !records.some(isBlank)) return records;
      return parse(text, { ...options, to: undefined });
    });
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    throw new ContactImportError([csvProblem(text, options, err)]);
  }
}

function csvProblem(text: string, options: Options, err: CsvError): string {
  // The failing record comes after err.records complete ones; count their lines to find where it starts.
  const before = typeof err.records === 'number' && err.records > 0 ? parse(text, { ...options, to: err.records }) : [];
  let line = 1;
  for (const record of before) line += lineSpan(record);
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return `line ${line}: a quoted cell is never closed (a " is missing), so the rest of the file cannot be read`;
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
    case 'CSV_INVALID_CLOSING_QUOTE':
      return `line ${line}: text after the closing quote of a cell (write a " inside a quoted cell as "")`;
    default:
      return `line ${line}: the CSV cannot be read (${err.message.replace(/ at line \d+$/, '')})`;
  }
}

interface Columns {
  phoneIndex: number;
  timezoneIndex: number;
  variableIndexes: number[];
  variableNames: string[];
}

/** Finds the phone, time zone and variable columns; adds every header problem to `problems`. */
function resolveColumns(header: string[], phoneColumn: string | undefined, problems: string[]): Columns | undefined {
  const lower = header.map((h) => h.toLowerCase());
  const quoted = (h: string): string => JSON.stringify(h.length > 40 ? `${h.slice(0, 40)}…` : h);

  const firstIndex = new Map<string, number>();
  lower.forEach((name, i) => {
    if (name === '') {
      problems.push(`column ${i + 1} has no header: name it, or delete the column`);
      return;
    }
    const first = firstIndex.get(name);
    if (first === undefined) firstIndex.set(name, i);
    else problems.push(`header ${quoted(header[i] as string)} appears twice (columns ${first + 1} and ${i + 1}; case is ignored)`);
  });

  let phoneIndex: number;
  if (phoneColumn !== undefined) {
    phoneIndex = lower.indexOf(phoneColumn.trim().toLowerCase());
    if (phoneIndex === -1) {
      problems.push(`the phone column ${quoted(phoneColumn)} is not in the header (${header.slice(0, 30).map(quoted).join(', ')})`);
    }
  } else {
    // "Phone Number" and "phone-number" as spreadsheets write them.
    phoneIndex = lower.findIndex((name) => PHONE_HEADERS.includes(name.replace(/[\s-]+/g, '_')));
    if (phoneIndex === -1) {
      problems.push(
        `no phone column: the header has ${header.slice(0, 30).map(quoted).join(', ')}${header.length > 30 ? ' …' : ''}; ` +
          `name the column one of ${PHONE_HEADERS.join(', ')}, or give its name in the phoneColumn option`,
      );
    }
  }
  const timezoneIndex = lower.findIndex((name, i) => i !== phoneIndex && TIMEZONE_HEADERS.includes(name));

  const variableIndexes: number[] = [];
  const variableNames: string[] = [];
  header.forEach((name, i) => {
    if (i === phoneIndex || i === timezoneIndex || name === '') return;
    if (!VARIABLE_NAME.test(name)) {
      const suggestion = name.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^(?=[^A-Za-z_])/, '_');
      problems.push(
        `column ${i + 1} header ${quoted(name)} cannot be a template variable: use letters, digits, _ . - and start with a letter or _ (e.g. ${suggestion})`,
      );
    } else if (name === '__proto__') {
      problems.push(`column ${i + 1} header "__proto__" is reserved: rename it`);
    }
    variableIndexes.push(i);
    variableNames.push(name);
  });
  return phoneIndex === -1 ? undefined : { phoneIndex, timezoneIndex, variableIndexes, variableNames };
}

// ---------------------------------------------------------------------------------------------- rows

function isBlank(record: readonly string[]): boolean {
  for (const cell of record) if (cell.trim() !== '') return false;
  return true;
}

/** Lines a record occupies: 1 + the line breaks inside its (quoted) cells; CRLF, CR and LF each count once. */
function lineSpan(record: readonly string[]): number {
  let span = 1;
  for (const cell of record) {
    if (cell.indexOf('\n') === -1 && cell.indexOf('\r') === -1) continue;
    for (let i = 0; i < cell.length; i++) {
      const c = cell.charCodeAt(i);
      if (c === 10) span++;
      else if (c === 13) {
        span++;
        if (cell.charCodeAt(i + 1) === 10) i++;
      }
    }
  }
  return span;
}

const cells = (n: number): string => (n === 1 ? '1 cell' : `${n} cells`);

/** The file's text by line number, read forward once (rows come in line order). */
class RawRows {
  #pos = 0;
  #line = 1;
  readonly #breaks = /\r\n?|\n/g;

  constructor(private readonly source: string) {}

  /** Lines [line, line + span) without the final line break, cut to `max` characters. */
  text(line: number, span: number, max: number): string {
    this.#advanceTo(line);
    const start = this.#pos;
    this.#advanceTo(line + span - 1);
    this.#breaks.lastIndex = this.#pos;
    const end = this.#breaks.exec(this.source)?.index ?? this.source.length;
    const raw = this.source.slice(start, Math.min(end, start + max + 1));
    return raw.length > max ? `${raw.slice(0, max - 1)}…` : raw;
  }

  #advanceTo(line: number): void {
    while (this.#line < line) {
      this.#breaks.lastIndex = this.#pos;
      const match = this.#breaks.exec(this.source);
      if (match === null) return;
      this.#pos = match.index + match[0].length;
      this.#line++;
    }
  }
}

/** Valid zones by what the file wrote (a 100k-row file has only a few distinct values). */
class TimeZoneCache {
  readonly #known = new Map<string, string | null>();

  /** The zone's IANA name as Intl spells it, or null when Intl does not know it. */
  canonical(zone: string): string | null {
    let known = this.#known.get(zone);
    if (known === undefined) {
      try {
        known = new Intl.DateTimeFormat(undefined, { timeZone: zone }).resolvedOptions().timeZone;
      } catch {
        known = null;
      }
      this.#known.set(zone, known);
    }
    return known;
  }
}

let regionNames: Intl.DisplayNames | undefined;
function countryName(code: string): string {
  regionNames ??= new Intl.DisplayNames(['en'], { type: 'region' });
  const name = regionNames.of(code);
  return name === undefined || name === code ? code : `${name} (${code})`;
}

const HAS_DIGIT = /[0-9０-９]/;
const LETTER = /\p{L}/u;
/** A + before the first digit: the number says its country. */
const INTERNATIONAL = /^[^0-9０-９]*[+＋]/;
/** Only what people put between the digits of a number written nationally. */
const NATIONAL_SHAPE = /^[0-9０-９\s()（）.\-－‐/]+$/;
const NO_COUNTRY_CODE =
  'no country code: write the number with + and its country code (e.g. +81 90-1234-5678), or set a default country for numbers written without one';
/** Rejected cells remembered, so a column full of "n/a" is judged once (bounded: distinct junk is not kept forever). */
const REASON_CACHE_SIZE = 10_000;

/** Phone cells → E.164, with the reason when a cell is not a number Koe can dial. */
class PhoneReader {
  readonly #options: { defaultCountry?: CountryCode; extract: false };
  readonly #defaultCallingCode: string | undefined;
  readonly #reasons = new Map<string, string>();

  constructor(defaultCountry: CountryCode | undefined) {
    this.#options = defaultCountry === undefined ? { extract: false } : { defaultCountry, extract: false };
    this.#defaultCallingCode = defaultCountry === undefined ? undefined : getCountryCallingCode(defaultCountry);
  }

  read(cell: string): PhoneResult {
    const raw = cell.trim();
    if (raw === '') return { ok: false, reason: 'no phone number' };
    let reason = this.#reasons.get(raw);
    if (reason === undefined) {
      const parsed = HAS_DIGIT.test(raw) ? this.#parse(raw) : 'not a phone number';
      if (typeof parsed !== 'string') return { ok: true, e164: parsed.number };
      reason = parsed;
      if (this.#reasons.size < REASON_CACHE_SIZE) this.#reasons.set(raw, reason);
    }
    return { ok: false, reason };
  }

  /** The valid number, or why the cell is not one. */
  #parse(raw: string): PhoneNumber | string {
    const international = INTERNATIONAL.test(raw);
    // libphonenumber cannot read a national number without a country; say so without asking it.
    if (!international && this.#defaultCallingCode === undefined && NATIONAL_SHAPE.test(raw)) return NO_COUNTRY_CODE;
    const parsed = parsePhoneNumberFromString(raw, this.#options);
    if (parsed === undefined) {
      // Letters other than an extension marker (those cells parse) make it text, whatever else is wrong.
      if (LETTER.test(raw)) return 'not a phone number';
      // Why it could not be parsed: validatePhoneNumberLength returns libphonenumber's ParseError code.
      switch (validatePhoneNumberLength(raw, this.#options)) {
        case 'INVALID_COUNTRY':
          return international ? 'unknown country calling code' : NO_COUNTRY_CODE;
        case 'TOO_SHORT':
          return 'too short to be a phone number';
        case 'TOO_LONG':
          return 'too long to be a phone number';
        default:
          return 'not a phone number';
      }
    }
    if (parsed.ext !== undefined) {
      return `has an extension (${parsed.ext}); Koe dials the number only: remove the extension or move it to another column`;
    }
    if (parsed.isValid()) return parsed;
    const length = parsed.isPossible() ? undefined : validatePhoneNumberLength(raw, this.#options);
    const detail = length === 'TOO_SHORT' ? ': too short' : length === 'TOO_LONG' ? ': too long' : '';
    if (parsed.country === undefined) {
      return `not a valid number for any country with calling code +${parsed.countryCallingCode}${detail}`;
    }
    const readAsNational = !international && parsed.countryCallingCode === this.#defaultCallingCode;
    return `not a valid number for ${countryName(parsed.country)}${detail}${readAsNational ? ' (written without +country code, so read as a number of the default country)' : ''}`;
  }
}
