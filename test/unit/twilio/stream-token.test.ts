import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_STREAM_TOKEN_CHARS, mintStreamToken, verifyStreamToken } from '../../../src/twilio/stream-token.js';

const secret = 'a-shared-secret-of-enough-length';
const callSid = 'CA0123456789abcdef0123456789abcdef';
const parameters = { callId: '42', lang: 'en-US' };
const nowMs = 1_750_000_000_000;

function mint(overrides: Partial<Parameters<typeof mintStreamToken>[0]> = {}): string {
  return mintStreamToken({ secret, callSid, agentId: 'support', parameters, ttlMs: 60_000, nowMs, ...overrides });
}

void test('a fresh token verifies and yields its claims', () => {
  const token = mint();
  assert.match(token, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  assert.ok(token.length < MAX_STREAM_TOKEN_CHARS, `${token.length} chars`);
  // As Twilio delivers it: the token travels among the other parameters.
  const result = verifyStreamToken({ secret, token, callSid, parameters: { ...parameters, token }, nowMs: nowMs + 59_999 });
  assert.deepEqual(result, { ok: true, claims: { callSid, agentId: 'support', expiresAtMs: nowMs + 60_000 } });
  // Key order of the parameters does not matter.
  assert.equal(verifyStreamToken({ secret, token, callSid, parameters: { lang: 'en-US', token, callId: '42' }, nowMs }).ok, true);
  // A Buffer secret with the same bytes is the same secret.
  assert.equal(verifyStreamToken({ secret: Buffer.from(secret), token, callSid, parameters, nowMs }).ok, true);
});

void test('expired at the expiry instant', () => {
  const token = mint();
  assert.deepEqual(verifyStreamToken({ secret, token, callSid, parameters, nowMs: nowMs + 60_000 }), { ok: false, reason: 'expired' });
});

void test('bound to the call', () => {
  const token = mint();
  const other = 'CAffffffffffffffffffffffffffffffff';
  assert.deepEqual(verifyStreamToken({ secret, token, callSid: other, parameters, nowMs }), { ok: false, reason: 'call_mismatch' });
});

void test('bound to the other parameters: swapped, added or removed ones fail', () => {
  const token = mint();
  for (const changed of [{ ...parameters, callId: '43' }, { ...parameters, extra: 'x' }, { lang: 'en-US' }, { callId: 'en-US', lang: '42' }]) {
    assert.deepEqual(verifyStreamToken({ secret, token, callSid, parameters: changed, nowMs }), { ok: false, reason: 'parameters_mismatch' });
  }
  // Moving a value between names cannot collide: the hash covers name/value pairs, not a concatenation.
  const a = mint({ parameters: { ab: 'c' } });
  assert.equal(verifyStreamToken({ secret, token: a, callSid, parameters: { a: 'bc' }, nowMs }).ok, false);
});

void test('tampering anywhere breaks the signature; a wrong secret too', () => {
  const token = mint();
  const [version, payload, mac] = token.split('.') as [string, string, string];
  const forged = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  forged['a'] = 'admin';
  forged['e'] = nowMs + 10 ** 9;
  const forgedPayload = Buffer.from(JSON.stringify(forged)).toString('base64url');
  assert.deepEqual(verifyStreamToken({ secret, token: `${version}.${forgedPayload}.${mac}`, callSid, parameters, nowMs }), {
    ok: false,
    reason: 'bad_signature',
  });
  const flipped = mac.startsWith('A') ? `B${mac.slice(1)}` : `A${mac.slice(1)}`;
  assert.deepEqual(verifyStreamToken({ secret, token: `${version}.${payload}.${flipped}`, callSid, parameters, nowMs }), {
    ok: false,
    reason: 'bad_signature',
  });
  assert.deepEqual(verifyStreamToken({ secret: 'another-secret-of-enough-length', token, callSid, parameters, nowMs }), {
    ok: false,
    reason: 'bad_signature',
  });
});

void test('malformed tokens', () => {
  const token = mint();
  for (const bad of ['', 'v1', 'v1..', 'v2' + token.slice(2), token + '.x', token.replace('.', '.+'), 'x'.repeat(400)]) {
    assert.deepEqual(verifyStreamToken({ secret, token: bad, callSid, parameters, nowMs }), { ok: false, reason: 'malformed' }, bad);
  }
});

void test('misuse throws', () => {
  assert.throws(() => mint({ secret: 'short' }), /at least 16 bytes/);
  assert.throws(() => mint({ ttlMs: 0 }), /ttlMs/);
  assert.throws(() => mint({ callSid: '' }), /callSid/);
  assert.throws(() => mint({ agentId: '' }), /agentId/);
  assert.throws(() => mint({ agentId: 'x'.repeat(200) }), /characters/);
});
