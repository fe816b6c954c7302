// Server-side identifiers as the live service makes them (realtime.md §c.1): a prefix, `_`, then
// 21 characters of [A-Za-z0-9] (`call_` ids: 16). Random bytes are drawn in batches because a
// busy engine or fake mints one per server event.

import { randomFillSync } from 'node:crypto';

export type RealtimeIdPrefix = 'event' | 'sess' | 'conv' | 'item' | 'resp' | 'call';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
// 248 = 4 × 62: bytes at or above it are skipped so every character is equally likely.
const UNBIASED_LIMIT = 248;
const pool = new Uint8Array(4096);
let poolOffset = pool.length;

function nextByte(): number {
  if (poolOffset >= pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++] as number;
}

export function randomAlphanumeric(length: number): string {
  let out = '';
  while (out.length < length) {
    const byte = nextByte();
    if (byte < UNBIASED_LIMIT) out += ALPHABET[byte % 62];
  }
  return out;
}

export function newRealtimeId(prefix: RealtimeIdPrefix): string {
  return `${prefix}_${randomAlphanumeric(prefix === 'call' ? 16 : 21)}`;
}

const ID_PATTERN = /^(event|sess|conv|item|resp|call)_[A-Za-z0-9]+$/;

/** True for an id shaped like the service's (prefix checked, length not: the spec fixes none). */
export function isRealtimeId(value: string, prefix?: RealtimeIdPrefix): boolean {
  const match = ID_PATTERN.exec(value);
  return match !== null && (prefix === undefined || match[1] === prefix);
}
