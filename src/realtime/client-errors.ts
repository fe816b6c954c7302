// Turns a zod issue on a client event into the `error` the live Realtime service would send:
// the same codes (`missing_required_parameter`, `unknown_parameter`, `invalid_type`,
// `invalid_value`, `integer_above_max_value`, …), the same message wording, and a dotted `param`
// path with `[i]` for array indexes (`session.tools[0].meta`), as quoted in realtime.md §b.8.

import type { z } from 'zod';

export interface ClientEventError {
  type: 'invalid_request_error';
  code: string | null;
  message: string;
  param: string | null;
  /** The offending client event's `event_id`, when it had one. */
  event_id: string | null;
}

type Issue = z.core.$ZodIssue;

/** Fields the service types as decimals, whose range errors say "decimal" even for 3. */
const DECIMAL_PARAM = /(threshold|speed|temperature|retention_ratio)$/;
type PathSegment = PropertyKey;

export function formatParam(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** "a string", "an integer", "a decimal", "an object", "an array", "a boolean", "null". */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isInteger(value) ? 'an integer' : 'a decimal';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return `a ${typeof value}`;
  }
}

function describeExpected(expected: string): string {
  switch (expected) {
    case 'int':
    case 'integer':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    case 'boolean':
      return 'a boolean';
    case 'string':
      return 'a string';
    default:
      return expected;
  }
}

function quote(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/** "'a'", "'a' and 'b'", "'a', 'b', and 'c'" (the service's Oxford-comma list). */
export function listValues(values: readonly unknown[]): string {
  const quoted = values.map(quote);
  if (quoted.length <= 1) return quoted.join('');
  if (quoted.length === 2) return `${quoted[0]} and ${quoted[1]}`;
  return `${quoted.slice(0, -1).join(', ')}, and ${quoted[quoted.length - 1]}`;
}

function invalidValue(param: string, value: unknown, supported: readonly unknown[]): Omit<ClientEventError, 'type' | 'event_id'> {
  const shown = typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
  return {
    code: 'invalid_value',
    message: `Invalid value: ${shown}. Supported values are: ${listValues(supported)}.`,
    param,
  };
}

function missing(param: string): Omit<ClientEventError, 'type' | 'event_id'> {
  return { code: 'missing_required_parameter', message: `Missing required parameter: '${param}'.`, param };
}

function invalidType(param: string, expected: string, value: unknown): Omit<ClientEventError, 'type' | 'event_id'> {
  return {
    code: 'invalid_type',
    message: `Invalid type for '${param}': expected ${expected}, but got ${describeValue(value)} instead.`,
    param,
  };
}

/** The literal values a union branch wanted at `type` (or at the root), for a combined message. */
function expectedLiterals(branches: readonly (readonly Issue[])[], at: readonly PathSegment[]): unknown[] {
  const out: unknown[] = [];
  for (const issues of branches) {
    for (const issue of issues) {
      if (issue.code === 'invalid_value' && samePath(issue.path, at)) out.push(...issue.values);
    }
  }
  return [...new Set(out)];
}

function samePath(a: readonly PathSegment[], b: readonly PathSegment[]): boolean {
  return a.length === b.length && a.every((segment, i) => segment === b[i]);
}

/**
 * A plain union (`"auto" | {type:"function",…}`): report the branch the value was aiming at —
 * the first whose failure is not about the value's own kind or its `type` tag.
 */
function fromUnion(issue: Extract<Issue, { code: 'invalid_union' }>, input: unknown, base: readonly PathSegment[]) {
  const path = [...base, ...issue.path];
  const value = valueAt(input, path);
  const discriminator = (issue as { discriminator?: unknown }).discriminator;
  if (typeof discriminator === 'string') {
    const options = (issue as { options?: unknown[] }).options ?? [];
    // zod puts the path on the discriminator already.
    const tagValue = valueAt(input, path);
    const param = formatParam(path);
    if (tagValue === undefined) return missing(param);
    if (typeof tagValue !== 'string') return invalidType(param, 'a string', tagValue);
    return invalidValue(param, tagValue, options);
  }
  const aimed = issue.errors.find(
    (branch) =>
      !branch.some(
        (sub) =>
          (sub.path.length === 0 && (sub.code === 'invalid_type' || sub.code === 'invalid_value')) ||
          (sub.path.length === 1 && sub.path[0] === 'type' && (sub.code === 'invalid_value' || sub.code === 'invalid_type')),
      ),
  );
  if (aimed && aimed[0]) return fromIssue(aimed[0], input, path);
  const param = formatParam(path);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const tags = expectedLiterals(issue.errors, ['type']);
    const tag = (value as Record<string, unknown>).type;
    if (tags.length > 0) return tag === undefined ? missing(`${param}.type`) : invalidValue(`${param}.type`, tag, tags);
  }
  const literals = expectedLiterals(issue.errors, []);
  if (typeof value === 'string' && literals.length > 0) return invalidValue(param, value, literals);
  const kinds = new Set<string>();
  for (const branch of issue.errors) {
    for (const sub of branch) {
      if (sub.path.length !== 0) continue;
      if (sub.code === 'invalid_type') kinds.add(describeExpected(sub.expected));
      else if (sub.code === 'invalid_value') kinds.add(describeValue(sub.values[0]));
    }
  }
  return invalidType(param, [...kinds].join(' or ') || 'a valid value', value);
}

function fromIssue(issue: Issue, input: unknown, base: readonly PathSegment[] = []): Omit<ClientEventError, 'type' | 'event_id'> {
  const path = [...base, ...issue.path];
  const param = formatParam(path);
  const value = valueAt(input, path);
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return missing(param);
      return invalidType(param, describeExpected(issue.expected), value);
    case 'unrecognized_keys': {
      const key = issue.keys[0] ?? '';
      const full = param === '' ? key : `${param}.${key}`;
      return { code: 'unknown_parameter', message: `Unknown parameter: '${full}'.`, param: full };
    }
    case 'invalid_value':
      if (value === undefined) return missing(param);
      return invalidValue(param, value, issue.values);
    case 'invalid_union':
      return fromUnion(issue, input, base);
    case 'too_big':
    case 'too_small': {
      const above = issue.code === 'too_big';
      const limit = above ? issue.maximum : issue.minimum;
      if (issue.origin === 'string') {
        const length = typeof value === 'string' ? value.length : 0;
        return {
          code: above ? 'string_above_max_length' : 'string_below_min_length',
          message: `Invalid '${param}': string too ${above ? 'long' : 'short'}. Expected a string with ${above ? 'maximum' : 'minimum'} length ${String(limit)}, but got a string with length ${length} instead.`,
          param,
        };
      }
      if (issue.origin === 'array') {
        const length = Array.isArray(value) ? value.length : 0;
        return {
          code: above ? 'array_above_max_length' : 'array_below_min_length',
          message: `Invalid '${param}': array too ${above ? 'long' : 'short'}. Expected an array with ${above ? 'maximum' : 'minimum'} length ${String(limit)}, but got an array with length ${length} instead.`,
          param,
        };
      }
      const kind = DECIMAL_PARAM.test(param) || !Number.isInteger(value) ? 'decimal' : 'integer';
      return {
        code: `${kind}_${above ? 'above_max' : 'below_min'}_value`,
        message: `Invalid '${param}': ${kind} ${above ? 'above maximum' : 'below minimum'} value. Expected a value ${above ? '<=' : '>='} ${String(limit)}, but got ${String(value)} instead.`,
        param,
      };
    }
    default:
      return { code: 'invalid_value', message: `Invalid '${param}': ${issue.message}.`, param: param || null };
  }
}

export function clientErrorFromIssues(issues: readonly Issue[], input: unknown): ClientEventError {
  const first = issues[0];
  const detail = first
    ? fromIssue(first, input)
    : { code: 'invalid_event', message: 'The event is invalid.', param: null };
  return { type: 'invalid_request_error', ...detail, param: detail.param === '' ? null : detail.param, event_id: eventIdOf(input) };
}

export function eventIdOf(input: unknown): string | null {
  if (input === null || typeof input !== 'object') return null;
  const id = (input as { event_id?: unknown }).event_id;
  return typeof id === 'string' ? id : null;
}

export function clientError(
  input: unknown,
  code: string | null,
  message: string,
  param: string | null = null,
): ClientEventError {
  return { type: 'invalid_request_error', code, message, param, event_id: eventIdOf(input) };
}
