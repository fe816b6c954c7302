// Filling `{slot}` / `{{slot}}` placeholders in replies (with the spoken form of values) and in tool
// arguments (with the raw form). A placeholder without a value renders as nothing, and the spaces and
// commas it leaves behind are tidied, so speech never says "curly brace".
import { PLACEHOLDER } from './agent-script.js';

export type Lookup = (name: string) => string | undefined;

export function renderReply(template: string, lookup: Lookup): string {
  return template
    .replace(PLACEHOLDER, (_all, a: string | undefined, b: string | undefined) => lookup((a ?? b) as string) ?? '')
    .replace(/\s+([,.!?。、])/gu, '$1')
    .replace(/,\s*([,.!?])/g, '$1')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

/** Renders every string in the arguments; a string that is exactly one placeholder takes the raw value. */
export function renderArguments(value: unknown, lookup: Lookup): unknown {
  if (typeof value === 'string') {
    const whole = value.match(/^\s*(?:\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}|\{([A-Za-z_][A-Za-z0-9_.]*)\})\s*$/);
    if (whole) return lookup((whole[1] ?? whole[2]) as string) ?? '';
    return value.replace(PLACEHOLDER, (_all, a: string | undefined, b: string | undefined) => lookup((a ?? b) as string) ?? '');
  }
  if (Array.isArray(value)) return value.map((v) => renderArguments(v, lookup));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderArguments(v, lookup)]));
  }
  return value;
}

/** `result` is the whole tool output (when short), `result.a.b` a field of its JSON. */
export function resultLookup(output: unknown, raw: string): Lookup {
  return (name) => {
    if (name === 'result') return typeof output === 'string' ? output : raw.length <= 200 ? raw : undefined;
    if (!name.startsWith('result.')) return undefined;
    let current: unknown = output;
    for (const key of name.slice('result.'.length).split('.')) {
      if (current === null || typeof current !== 'object') return undefined;
      current = (current as Record<string, unknown>)[key];
    }
    if (typeof current === 'string') return current;
    if (typeof current === 'number' || typeof current === 'boolean') return String(current);
    return undefined;
  };
}
