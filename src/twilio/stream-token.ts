// Short-lived per-call stream tokens (protocol/twilio.md §4.3 "defence in depth", §6.3).
// Issued only in signature-checked TwiML as a <Parameter>, checked in `start` before any audio is bridged.
// Stateless (HMAC, no store), so any Koe process holding the shared secret can verify a token another minted.
//
// Format: `v1.<payload>.<mac>`, both parts base64url (URL- and XML-safe, no escaping needed).
//   payload = JSON {c: callSid, a: agentId, e: expiresAtMs, p: hash of the other custom parameters}
//   mac     = HMAC-SHA256(secret, "v1." + payload)
// Within its lifetime a token can be presented again for the same call with the same parameters;
// keeping one live stream per call is the session layer's job (pitfall 4).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const VERSION = 'v1';
/** The `<Parameter>` name that carries the token; excluded from the parameter hash. */
export const STREAM_TOKEN_PARAMETER = 'token';
/** Tokens stay well under Twilio's 500-character name+value limit per parameter. */
export const MAX_STREAM_TOKEN_CHARS = 300;
const MIN_SECRET_BYTES = 16;

export interface StreamTokenClaims {
  callSid: string;
  agentId: string;
  expiresAtMs: number;
}

export type StreamTokenFailure = 'malformed' | 'bad_signature' | 'expired' | 'call_mismatch' | 'parameters_mismatch';

export type VerifyStreamTokenResult = { ok: true; claims: StreamTokenClaims } | { ok: false; reason: StreamTokenFailure };

export interface MintStreamTokenOptions {
  secret: string | Buffer;
  callSid: string;
  agentId: string;
  /** The other `<Parameter>`s sent with the token; the token's own parameter is ignored if present. */
  parameters: Record<string, string>;
  ttlMs: number;
  nowMs?: number;
  /** Name of the token's own parameter (default `token`). */
  tokenParameter?: string;
}

export interface VerifyStreamTokenOptions {
  secret: string | Buffer;
  token: string;
  /** `start.callSid` as received. */
  callSid: string;
  /** `start.customParameters` as received (the token's own entry is ignored). */
  parameters: Record<string, string>;
  nowMs?: number;
  tokenParameter?: string;
}

interface Payload {
  c: string;
  a: string;
  e: number;
  p: string;
}

export function mintStreamToken(opts: MintStreamTokenOptions): string {
  const secret = secretBytes(opts.secret);
  if (typeof opts.callSid !== 'string' || opts.callSid.length === 0) throw new TypeError('callSid must be a non-empty string');
  if (typeof opts.agentId !== 'string' || opts.agentId.length === 0) throw new TypeError('agentId must be a non-empty string');
  if (!Number.isFinite(opts.ttlMs) || opts.ttlMs <= 0) throw new RangeError(`ttlMs must be a positive number, got ${opts.ttlMs}`);
  const nowMs = opts.nowMs ?? Date.now();
  const payload: Payload = {
    c: opts.callSid,
    a: opts.agentId,
    e: Math.floor(nowMs + opts.ttlMs),
    p: parametersHash(opts.parameters, opts.tokenParameter ?? STREAM_TOKEN_PARAMETER),
  };
  const body = `${VERSION}.${Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')}`;
  const token = `${body}.${mac(secret, body).toString('base64url')}`;
  if (token.length >= MAX_STREAM_TOKEN_CHARS) {
    throw new RangeError(`stream token would be ${token.length} characters (limit ${MAX_STREAM_TOKEN_CHARS}); shorten the agent id or call sid`);
  }
  return token;
}

export function verifyStreamToken(opts: VerifyStreamTokenOptions): VerifyStreamTokenResult {
  const secret = secretBytes(opts.secret);
  const token = opts.token;
  if (typeof token !== 'string' || token.length === 0 || token.length >= MAX_STREAM_TOKEN_CHARS) return failure('malformed');
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) return failure('malformed');
  const [, payloadPart = '', macPart = ''] = parts;
  if (!isBase64Url(payloadPart) || !isBase64Url(macPart)) return failure('malformed');

  // The MAC is checked before the payload is parsed: nothing an attacker wrote is interpreted unsigned.
  // Compared as canonical base64url text, so no alternative spelling of the same bytes is accepted.
  const expected = mac(secret, `${VERSION}.${payloadPart}`).toString('base64url');
  if (!equalStrings(macPart, expected)) return failure('bad_signature');

  const payload = parsePayload(payloadPart);
  if (payload === undefined) return failure('malformed');
  const nowMs = opts.nowMs ?? Date.now();
  if (nowMs >= payload.e) return failure('expired');
  if (!equalStrings(payload.c, opts.callSid)) return failure('call_mismatch');
  if (!equalStrings(payload.p, parametersHash(opts.parameters, opts.tokenParameter ?? STREAM_TOKEN_PARAMETER))) {
    return failure('parameters_mismatch');
  }
  return { ok: true, claims: { callSid: payload.c, agentId: payload.a, expiresAtMs: payload.e } };
}

function failure(reason: StreamTokenFailure): VerifyStreamTokenResult {
  return { ok: false, reason };
}

function secretBytes(secret: string | Buffer): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (!Buffer.isBuffer(bytes) || bytes.length < MIN_SECRET_BYTES) {
    throw new RangeError(`stream token secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  return bytes;
}

function mac(secret: Buffer, body: string): Buffer {
  return createHmac('sha256', secret).update(body, 'utf8').digest();
}

// Canonical form: entries sorted by name (code-unit order), JSON-encoded as pairs, so no choice of
// names or values can make two different parameter sets collide. 128 bits of SHA-256 keep the token short.
function parametersHash(parameters: Record<string, string>, tokenParameter: string): string {
  const entries = Object.keys(parameters)
    .filter((name) => name !== tokenParameter)
    .sort()
    .map((name) => [name, parameters[name]]);
  return createHash('sha256').update(JSON.stringify(entries), 'utf8').digest().subarray(0, 16).toString('base64url');
}

function parsePayload(part: string): Payload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { c, a, e, p } = value as Record<string, unknown>;
  if (typeof c !== 'string' || typeof a !== 'string' || typeof p !== 'string' || typeof e !== 'number' || !Number.isFinite(e)) {
    return undefined;
  }
  return { c, a, e, p };
}

function isBase64Url(s: string): boolean {
  return s.length > 0 && /^[A-Za-z0-9_-]+$/.test(s);
}

function equalStrings(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
