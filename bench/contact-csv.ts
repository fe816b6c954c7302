// A campaign contact CSV as people really hand them over: a Japanese campaign (default country JP) whose
// numbers are written every which way, for the contact-import bench and any other bench that needs a list.
//
// Columns: phone,name,appointment,timezone (4 columns, 2 of them template variables).
//   - ~70 % Japanese numbers: national ("090-1234-5678", "09012345678", "03 1234 5678", full-width digits)
//     and international ("+81 90 1234 5678", "+81-3-1234-5678", "+81 (0)90-…", "+819012345678").
//   - ~29 % US numbers in international form ("+1 (415) 555-2671", "+1.415.555.2671", "+14155552671").
//   - ~1 % invalid: junk text, too short, a mobile number one digit short, a US number written nationally
//     (with JP as the default country it reads as a Japanese number and is not valid there).
//   - ~1 % duplicates: an earlier contact's number again, usually written in another format.
// Time zones: Asia/Tokyo for JP, three US zones, ~10 % empty. Names sometimes need quoting (commas, quotes).
// The same rows and seed give the same file.

export const CONTACTS_DEFAULT_COUNTRY = 'JP';

export interface ContactsSample {
  csv: string;
  /** What the generator meant: rows it wrote, invalid numbers, repeats of an earlier number. */
  expected: { rows: number; invalid: number; duplicates: number };
}

/** mulberry32: small, fast, seedable. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Area codes that never read as a valid Japanese number when written nationally (202, 206 and 702 can).
const US_AREAS = ['212', '415', '646', '310', '312', '617', '512', '303', '404', '305', '718', '213'];
const US_ZONES: Record<string, string> = {
  '212': 'America/New_York', '646': 'America/New_York', '718': 'America/New_York', '617': 'America/New_York',
  '404': 'America/New_York', '305': 'America/New_York', '312': 'America/Chicago', '512': 'America/Chicago',
  '303': 'America/Denver', '415': 'America/Los_Angeles', '310': 'America/Los_Angeles', '213': 'America/Los_Angeles',
};
const FAMILY = ['Sato', 'Suzuki', 'Takahashi', 'Tanaka', 'Ito', 'Watanabe', 'Smith', 'Johnson', 'Garcia', "O'Brien", '佐藤', '鈴木'];
const GIVEN = ['Aiko', 'Haruto', 'Yui', 'Sota', 'Emma', 'Liam', 'Olivia', 'Noah', 'Mei', '陽翔', '結衣'];
const JUNK = ['n/a', 'unknown', 'TBD', '12345', 'call me', '+81 90', '0000'];

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const FULL_WIDTH_DIGITS = '０１２３４５６７８９';
const toFullWidth = (s: string): string => s.replace(/[0-9]/g, (d) => FULL_WIDTH_DIGITS[Number(d)] as string).replace(/-/g, '－');

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Generator and what it meant to write (so a bench can check the importer's counts). */
export function generateContactsSample(rows: number, seed = 1): ContactsSample {
  const rand = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const digits = (count: number, first = 0): string => {
    let s = String(first + Math.floor(rand() * (10 - first)));
    for (let i = 1; i < count; i++) s += String(Math.floor(rand() * 10));
    return s;
  };
  const seen: { forms: string[]; zone: string }[] = [];
  const used = new Set<string>(); // numbers drawn so far, so only the deliberate repeats are duplicates
  const lines: string[] = ['phone,name,appointment,timezone'];
  let invalid = 0;
  let duplicates = 0;

  for (let i = 0; i < rows; i++) {
    const roll = rand();
    let phone: string;
    let zone: string;
    if (roll < 0.01) {
      invalid++;
      zone = 'Asia/Tokyo';
      const kind = rand();
      if (kind < 0.3) phone = pick(JUNK);
      else if (kind < 0.6) phone = `090-${digits(4, 1)}-${digits(3)}`; // one digit short
      else {
        const area = pick(US_AREAS);
        phone = `(${area}) ${digits(3, 2)}-${digits(4)}`; // US national number in a JP campaign
        zone = US_ZONES[area] ?? 'America/New_York';
      }
    } else if (roll < 0.02 && seen.length > 0) {
      duplicates++;
      const earlier = pick(seen);
      zone = earlier.zone;
      phone = pick(earlier.forms);
    } else {
      // Every way this number is written in the wild; one is used now, another maybe for a duplicate.
      let forms: string[];
      if (rand() < 0.71) {
        let a: string, b: string, c: string;
        do {
          a = rand() < 0.75 ? pick(['70', '80', '90']) : pick(['3', '6']);
          b = digits(4, 1);
          c = digits(4);
        } while (used.has(`81${a}${b}${c}`));
        used.add(`81${a}${b}${c}`);
        forms = [
          `0${a}-${b}-${c}`, `0${a}-${b}-${c}`, `0${a}${b}${c}`, `0${a} ${b} ${c}`, // national, dashes most common
          `+81 ${a} ${b} ${c}`, `+81-${a}-${b}-${c}`, `+81 (0)${a}-${b}-${c}`, `+81${a}${b}${c}`,
        ];
        if (rand() < 0.25) forms.push(toFullWidth(`0${a}-${b}-${c}`));
        zone = 'Asia/Tokyo';
      } else {
        let area: string, exchange: string, line: string;
        do {
          area = pick(US_AREAS);
          exchange = digits(3, 2);
          if (exchange.endsWith('11')) exchange = `${exchange.slice(0, 2)}2`;
          line = digits(4);
        } while (used.has(`1${area}${exchange}${line}`));
        used.add(`1${area}${exchange}${line}`);
        forms = [`+1 (${area}) ${exchange}-${line}`, `+1.${area}.${exchange}.${line}`, `+1${area}${exchange}${line}`, `+1 ${area}-${exchange}-${line}`];
        zone = US_ZONES[area] ?? 'America/New_York';
      }
      phone = pick(forms);
      seen.push({ forms, zone });
    }
    const given = pick(GIVEN);
    const family = pick(FAMILY);
    const name = rand() < 0.2 ? `${family}, ${given}` : `${given} ${family}`;
    const appointment = `2025-${pad(1 + Math.floor(rand() * 12), 2)}-${pad(1 + Math.floor(rand() * 28), 2)} ${pad(9 + Math.floor(rand() * 9), 2)}:${pick(['00', '15', '30', '45'])}`;
    const tz = rand() < 0.1 ? '' : zone;
    lines.push(`${csvCell(phone)},${csvCell(name)},${appointment},${tz}`);
  }
  return { csv: `${lines.join('\n')}\n`, expected: { rows, invalid, duplicates } };
}

/** `rows` contact rows (plus the header) for a JP campaign; see the top of this file for the mix. */
export function generateContactsCsv(rows: number, seed = 1): string {
  return generateContactsSample(rows, seed).csv;
}
