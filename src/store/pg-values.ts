// How values cross the wire identically on both backends. node-postgres and PGlite parse result columns
// differently (timestamps → Date with driver-specific rules, int8 → string vs number), so both are given
// the same text parsers here: records get ISO-8601 strings and plain numbers whichever database answered.
//
// Parameters: every value is sent as text. Pass jsonb values as JSON *strings* (`jsonText`) with a
// `$n::jsonb` cast: node-postgres turns a JS array into a PostgreSQL array literal (not JSON), PGlite
// passes strings through unchanged, so a string is the one form both treat the same way.

/** PostgreSQL type oids whose text form we parse ourselves. */
export const PG_OID = {
  int8: 20,
  numeric: 1700,
  timestamp: 1114,
  timestamptz: 1184,
} as const;

const TIMESTAMP_PATTERN = /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(\.\d+)?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?( BC)?$/;

/**
 * A timestamp's text form (`2024-05-01 12:00:00.123456+09`, DateStyle ISO) as an ISO string in UTC.
 * Without an offset (timestamp without time zone) the value is taken as UTC. Values JavaScript cannot
 * represent (infinity, BC dates) come back as PostgreSQL wrote them.
 */
export function timestampToIso(text: string): string {
  const m = TIMESTAMP_PATTERN.exec(text);
  if (!m || m[12]) return text;
  const [, year, month, day, hour, minute, second, fraction, sign, offH, offM, offS] = m;
  const ms = fraction ? Math.floor(Number(fraction) * 1000) : 0;
  let epochMs = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), ms);
  if (sign) {
    const offsetMs = ((Number(offH) * 60 + Number(offM ?? 0)) * 60 + Number(offS ?? 0)) * 1000;
    epochMs += sign === '+' ? -offsetMs : offsetMs;
  }
  const date = new Date(epochMs);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

/** int8 (count(*), sums) as a number; beyond 2^53 precision would be lost, so those stay strings. */
export function int8ToNumber(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

export function numericToNumber(text: string): number | string {
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

/** Parsers keyed by oid, in the shape PGlite's `parsers` option takes. */
export const TEXT_PARSERS: Readonly<Record<number, (text: string) => unknown>> = {
  [PG_OID.int8]: int8ToNumber,
  [PG_OID.numeric]: numericToNumber,
  [PG_OID.timestamp]: timestampToIso,
  [PG_OID.timestamptz]: timestampToIso,
};

const MAX_JSON_DEPTH = 32;

/**
 * A value as JSON text for a jsonb parameter. Strings lose NUL characters (jsonb rejects \u0000) and are
 * cut to `maxStringChars`; bigints become strings; values JSON cannot hold (cycles, functions) become null
 * instead of throwing, because this runs on data from the wire.
 */
export function jsonText(value: unknown, maxStringChars = Number.POSITIVE_INFINITY): string {
  return JSON.stringify(cleanJson(value, maxStringChars, 0, new Set())) ?? 'null';
}

function cleanJson(value: unknown, maxStringChars: number, depth: number, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
      return cleanText(value, maxStringChars);
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_JSON_DEPTH || seen.has(value)) return null;
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
      seen.add(value);
      try {
        if (Array.isArray(value)) return value.map((v) => cleanJson(v, maxStringChars, depth + 1, seen) ?? null);
        const out: Record<string, unknown> = {};
        for (const [key, v] of Object.entries(value)) {
          const cleaned = cleanJson(v, maxStringChars, depth + 1, seen);
          if (cleaned !== undefined) out[cleanText(key, 200)] = cleaned;
        }
        return out;
      } finally {
        seen.delete(value);
      }
    }
    default:
      return undefined; // undefined, functions, symbols: omitted like JSON.stringify does
  }
}

/** Text fit for a text column: no NUL characters (PostgreSQL refuses them), at most `maxChars`. */
export function cleanText(text: string, maxChars = Number.POSITIVE_INFINITY): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.includes('\u0000') ? text.replace(/\u0000/g, '') : text;
  return clean.length > maxChars ? `${clean.slice(0, Math.max(0, maxChars - 1))}…` : clean;
}

/** A millisecond figure for an integer column: events carry fractional ms, and '12.5' is not an integer. */
export function wholeMs(ms: number | null | undefined): number | null {
  return typeof ms === 'number' && Number.isFinite(ms) ? Math.round(ms) : null;
}
