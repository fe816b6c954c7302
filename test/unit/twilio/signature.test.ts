import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeSignature,
  publicRequestUrl,
  toWebSocketUrl,
  validateStreamUpgradeSignature,
  validateWebhookSignature,
} from '../../../src/twilio/signature.js';

// protocol/twilio.md §4.1, Twilio's own worked example.
const EXAMPLE = {
  authToken: '12345',
  url: 'https://example.com/myapp.php?foo=1&bar=2',
  params: { Digits: '1234', To: '+18005551212', From: '+14158675310', Caller: '+14158675310', CallSid: 'CA1234567890ABCDE' },
  signature: 'L/OH5YylLD5NRKLltdqwSvS0BnU=',
};

void test('computeSignature reproduces the documented example', () => {
  assert.equal(computeSignature(EXAMPLE.authToken, EXAMPLE.url, EXAMPLE.params), EXAMPLE.signature);
});

void test('validateWebhookSignature accepts the documented example and rejects any change', () => {
  assert.equal(validateWebhookSignature(EXAMPLE), true);
  // HTTPS callbacks may be signed with or without the default port.
  assert.equal(validateWebhookSignature({ ...EXAMPLE, url: 'https://example.com:443/myapp.php?foo=1&bar=2' }), true);
  assert.equal(validateWebhookSignature({ ...EXAMPLE, authToken: '12346' }), false);
  assert.equal(validateWebhookSignature({ ...EXAMPLE, url: 'http://example.com/myapp.php?foo=1&bar=2' }), false);
  assert.equal(validateWebhookSignature({ ...EXAMPLE, url: 'https://example.com/myapp.php?foo=1' }), false);
  assert.equal(validateWebhookSignature({ ...EXAMPLE, params: { ...EXAMPLE.params, Digits: '1235' } }), false);
  assert.equal(validateWebhookSignature({ ...EXAMPLE, params: { ...EXAMPLE.params, Extra: 'x' } }), false);
  assert.equal(validateWebhookSignature({ ...EXAMPLE, signature: undefined }), false);
  assert.equal(validateWebhookSignature({ ...EXAMPLE, signature: '' }), false);
  assert.equal(validateWebhookSignature({ ...EXAMPLE, url: 'not a url' }), false);
});

void test('repeated form keys (string[]) are signed the way Twilio signs them', () => {
  const params = { CallSid: 'CA1', StatusCallbackEvent: ['ringing', 'answered'] };
  const signature = computeSignature('secret-token', 'https://koe.example.com/twilio/status', params);
  assert.equal(validateWebhookSignature({ authToken: 'secret-token', signature, url: 'https://koe.example.com/twilio/status', params }), true);
  const reordered = { CallSid: 'CA1', StatusCallbackEvent: ['answered', 'ringing'] };
  assert.equal(validateWebhookSignature({ authToken: 'secret-token', signature, url: 'https://koe.example.com/twilio/status', params: reordered }), true);
});

void test('stream upgrade: signed over the wss URL with {} params, with or without a trailing slash', () => {
  const authToken = 'upgrade-token';
  const wssUrl = 'wss://koe.example.com/twilio/stream';
  const plain = computeSignature(authToken, wssUrl, {});
  const slashed = computeSignature(authToken, `${wssUrl}/`, {});
  assert.equal(validateStreamUpgradeSignature({ authToken, signature: plain, wssUrl }), true);
  assert.equal(validateStreamUpgradeSignature({ authToken, signature: slashed, wssUrl }), true);
  assert.equal(validateStreamUpgradeSignature({ authToken, signature: plain, wssUrl: `${wssUrl}/` }), true);
  // Signed over https:// (what a proxy reports) is not what Twilio signs.
  const https = computeSignature(authToken, 'https://koe.example.com/twilio/stream', {});
  assert.equal(validateStreamUpgradeSignature({ authToken, signature: https, wssUrl }), false);
  assert.equal(validateStreamUpgradeSignature({ authToken: 'other', signature: plain, wssUrl }), false);
  assert.equal(validateStreamUpgradeSignature({ authToken, signature: undefined, wssUrl }), false);
});

void test('publicRequestUrl: PUBLIC_URL wins over what the server saw, keeping its path prefix', () => {
  const base = { headers: { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'evil.example' }, fallbackProtocol: 'http', fallbackHost: '10.0.0.5:5050' };
  assert.equal(
    publicRequestUrl({ ...base, publicBaseUrl: 'https://koe.example.com', path: '/twilio/voice?agent=sales' }),
    'https://koe.example.com/twilio/voice?agent=sales',
  );
  assert.equal(publicRequestUrl({ ...base, publicBaseUrl: 'https://koe.example.com/', path: '/twilio/voice' }), 'https://koe.example.com/twilio/voice');
  assert.equal(
    publicRequestUrl({ ...base, publicBaseUrl: 'https://example.com/koe/', path: '/twilio/voice' }),
    'https://example.com/koe/twilio/voice',
  );
  // A proxy that passes the prefix through does not get it twice.
  assert.equal(
    publicRequestUrl({ ...base, publicBaseUrl: 'https://example.com/koe', path: '/koe/twilio/voice' }),
    'https://example.com/koe/twilio/voice',
  );
  assert.equal(
    publicRequestUrl({ ...base, publicBaseUrl: 'https://user:pw@koe.example.com:8443', path: '/twilio/voice' }),
    'https://koe.example.com:8443/twilio/voice',
  );
  assert.throws(() => publicRequestUrl({ ...base, publicBaseUrl: 'koe.example.com', path: '/x' }), /absolute/);
});

void test('publicRequestUrl: first X-Forwarded-* values, else the request itself', () => {
  const path = '/twilio/voice';
  assert.equal(
    publicRequestUrl({
      path,
      headers: { 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'abc.ngrok.app, internal:8080' },
      fallbackProtocol: 'http',
      fallbackHost: '127.0.0.1:5050',
    }),
    'https://abc.ngrok.app/twilio/voice',
  );
  assert.equal(
    publicRequestUrl({ path, headers: { 'x-forwarded-proto': ['https'] }, fallbackProtocol: 'http:', fallbackHost: 'koe.internal:5050' }),
    'https://koe.internal:5050/twilio/voice',
  );
  assert.equal(publicRequestUrl({ path, headers: {}, fallbackProtocol: 'http', fallbackHost: '127.0.0.1:5050' }), 'http://127.0.0.1:5050/twilio/voice');
  // Junk in the headers is ignored rather than pasted into the URL.
  assert.equal(
    publicRequestUrl({
      path,
      headers: { 'x-forwarded-proto': 'gopher', 'x-forwarded-host': 'evil.example/path@x' },
      fallbackProtocol: 'http',
      fallbackHost: 'koe:5050',
    }),
    'http://koe:5050/twilio/voice',
  );
  assert.equal(
    publicRequestUrl({
      path,
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'abc.ngrok.app' },
      fallbackProtocol: 'http',
      fallbackHost: 'koe:5050',
      trustForwardedHeaders: false,
    }),
    'http://koe:5050/twilio/voice',
  );
});

void test('a webhook signed for the public URL validates through publicRequestUrl behind a TLS proxy', () => {
  const params = { CallSid: 'CA1', From: '+14158675310' };
  const signature = computeSignature('tok', 'https://abc.ngrok.app/twilio/voice', params);
  const url = publicRequestUrl({
    path: '/twilio/voice',
    headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'abc.ngrok.app' },
    fallbackProtocol: 'http',
    fallbackHost: '127.0.0.1:5050',
  });
  assert.equal(validateWebhookSignature({ authToken: 'tok', signature, url, params }), true);
});

void test('toWebSocketUrl maps https→wss and http→ws, leaving the rest untouched', () => {
  assert.equal(toWebSocketUrl('https://koe.example.com/twilio/stream'), 'wss://koe.example.com/twilio/stream');
  assert.equal(toWebSocketUrl('HTTPS://Koe.example.com/a%20b'), 'wss://Koe.example.com/a%20b');
  assert.equal(toWebSocketUrl('http://127.0.0.1:5050/twilio/stream'), 'ws://127.0.0.1:5050/twilio/stream');
  assert.equal(toWebSocketUrl('wss://x/y'), 'wss://x/y');
  assert.throws(() => toWebSocketUrl('ftp://x/y'), /http/);
  assert.throws(() => toWebSocketUrl('/relative'), /http/);
});
