import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import {
  decodeTwilioMessage,
  encodeClearMessage,
  encodeMarkMessage,
  encodeMediaMessage,
  isBase64,
  type DecodeErrorKind,
  type DecodeResult,
  type TwilioInbound,
} from '../../../src/twilio/media-stream.js';

const STREAM = 'MZ18ad3ab5a668481ce02b83e7395059f0';
const CALL = 'CA3a4f6b7e2c1d0e9f8a7b6c5d4e3f2a1b';
const ACCOUNT = 'AC11111111111111111111111111111111';

// The documented examples (protocol/twilio.md §1), verbatim apart from the SIDs.
const CONNECTED = '{"event":"connected","protocol":"Call","version":"1.0.0"}';
const START = JSON.stringify({
  event: 'start',
  sequenceNumber: '1',
  start: {
    accountSid: ACCOUNT,
    streamSid: STREAM,
    callSid: CALL,
    tracks: ['inbound'],
    mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    customParameters: { FirstName: 'Jane', LastName: 'Doe', RemoteParty: 'Bob' },
  },
  streamSid: STREAM,
});
const FRAME = Buffer.from(Array.from({ length: 160 }, (_, i) => (i * 37) & 0xff));
const MEDIA = JSON.stringify({
  event: 'media',
  sequenceNumber: '4',
  media: { track: 'inbound', chunk: '2', timestamp: '5', payload: FRAME.toString('base64') },
  streamSid: STREAM,
});
const DTMF = JSON.stringify({ event: 'dtmf', streamSid: STREAM, sequenceNumber: '5', dtmf: { track: 'inbound_track', digit: '1' } });
const MARK = JSON.stringify({ event: 'mark', sequenceNumber: '4', streamSid: STREAM, mark: { name: 'my label' } });
const STOP = JSON.stringify({ event: 'stop', sequenceNumber: '5', stop: { accountSid: ACCOUNT, callSid: CALL }, streamSid: STREAM });

function ok(result: DecodeResult): TwilioInbound {
  if (!result.ok) assert.fail(`expected ok, got ${result.error.kind}: ${result.error.detail}`);
  return result.message;
}

function errorKind(result: DecodeResult): DecodeErrorKind {
  if (result.ok) assert.fail(`expected an error, got ${result.message.event}`);
  return result.error.kind;
}

// Test-only mutation of parsed JSON: any keeps the edits short.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

function edit(json: string, change: (msg: Loose) => void): string {
  const msg = JSON.parse(json) as Loose;
  change(msg);
  return JSON.stringify(msg);
}

void test('decodes every documented inbound message', () => {
  assert.deepEqual(ok(decodeTwilioMessage(CONNECTED)), { event: 'connected', protocol: 'Call', version: '1.0.0' });
  assert.deepEqual(ok(decodeTwilioMessage(START)), {
    event: 'start',
    sequenceNumber: 1,
    streamSid: STREAM,
    start: {
      accountSid: ACCOUNT,
      streamSid: STREAM,
      callSid: CALL,
      tracks: ['inbound'],
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      customParameters: { FirstName: 'Jane', LastName: 'Doe', RemoteParty: 'Bob' },
    },
  });
  assert.deepEqual(ok(decodeTwilioMessage(MEDIA)), {
    event: 'media',
    sequenceNumber: 4,
    streamSid: STREAM,
    media: { track: 'inbound', chunk: 2, timestamp: 5, payload: FRAME },
  });
  assert.deepEqual(ok(decodeTwilioMessage(DTMF)), {
    event: 'dtmf',
    sequenceNumber: 5,
    streamSid: STREAM,
    dtmf: { track: 'inbound_track', digit: '1' },
  });
  assert.deepEqual(ok(decodeTwilioMessage(MARK)), { event: 'mark', sequenceNumber: 4, streamSid: STREAM, mark: { name: 'my label' } });
  assert.deepEqual(ok(decodeTwilioMessage(STOP)), {
    event: 'stop',
    sequenceNumber: 5,
    streamSid: STREAM,
    stop: { accountSid: ACCOUNT, callSid: CALL },
  });
});

void test('accepts a Buffer as well as a string', () => {
  const message = ok(decodeTwilioMessage(Buffer.from(MEDIA)));
  assert.equal(message.event, 'media');
});

void test('tolerates unknown extra fields anywhere', () => {
  const media = edit(MEDIA, (m) => {
    m.newTopLevel = { anything: 1 };
    m.media.newInner = 'x';
  });
  assert.equal(ok(decodeTwilioMessage(media)).event, 'media');
  const start = edit(START, (m) => {
    m.start.newField = [1, 2];
    m.start.mediaFormat.bitDepth = 8;
  });
  assert.equal(ok(decodeTwilioMessage(start)).event, 'start');
});

void test('start without customParameters reads as no parameters; a "__proto__" parameter stays plain data', () => {
  const without = ok(decodeTwilioMessage(edit(START, (m) => delete m.start.customParameters)));
  assert.ok(without.event === 'start');
  assert.deepEqual(without.start.customParameters, {});
  const raw = START.replace('"FirstName":"Jane"', '"__proto__":"x"');
  const withProto = ok(decodeTwilioMessage(raw));
  assert.ok(withProto.event === 'start');
  assert.equal(Object.getPrototypeOf(withProto.start.customParameters), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(withProto.start.customParameters, '__proto__')?.value, 'x');
});

void test('too_large: over maxBytes, counted in UTF-8 bytes', () => {
  assert.equal(errorKind(decodeTwilioMessage(MEDIA, { maxBytes: 100 })), 'too_large');
  assert.equal(errorKind(decodeTwilioMessage(Buffer.from(MEDIA), { maxBytes: 100 })), 'too_large');
  // 30 three-byte characters: 32 UTF-16 units, but 92 bytes.
  const wide = `"${'€'.repeat(30)}"`;
  assert.equal(errorKind(decodeTwilioMessage(wide, { maxBytes: 64 })), 'too_large');
  assert.equal(errorKind(decodeTwilioMessage(wide, { maxBytes: 92 })), 'not_an_object');
  // Default limit is 64 KiB.
  const big = JSON.stringify({ event: 'mark', sequenceNumber: '1', streamSid: STREAM, mark: { name: 'x'.repeat(70_000) } });
  assert.equal(errorKind(decodeTwilioMessage(big)), 'too_large');
});

void test('invalid_json and not_an_object', () => {
  assert.equal(errorKind(decodeTwilioMessage('{"event":"media",')), 'invalid_json');
  assert.equal(errorKind(decodeTwilioMessage('')), 'invalid_json');
  assert.equal(errorKind(decodeTwilioMessage('[1,2]')), 'not_an_object');
  assert.equal(errorKind(decodeTwilioMessage('null')), 'not_an_object');
  assert.equal(errorKind(decodeTwilioMessage('"media"')), 'not_an_object');
});

void test('unknown_event; a missing event is invalid_fields', () => {
  assert.equal(errorKind(decodeTwilioMessage('{"event":"clear","streamSid":"MZ1"}')), 'unknown_event');
  assert.equal(errorKind(decodeTwilioMessage('{"event":"bogus"}')), 'unknown_event');
  assert.equal(errorKind(decodeTwilioMessage('{"streamSid":"MZ1"}')), 'invalid_fields');
  assert.equal(errorKind(decodeTwilioMessage('{"event":7}')), 'invalid_fields');
});

void test('invalid_fields: missing, mistyped or non-numeric values', () => {
  const cases: Array<[string, string]> = [
    ['media without streamSid', edit(MEDIA, (m) => delete m.streamSid)],
    ['media with empty streamSid', edit(MEDIA, (m) => (m.streamSid = ''))],
    ['media without media', edit(MEDIA, (m) => delete m.media)],
    ['media.media is an array', edit(MEDIA, (m) => (m.media = []))],
    ['chunk not numeric', edit(MEDIA, (m) => (m.media.chunk = 'two'))],
    ['timestamp negative', edit(MEDIA, (m) => (m.media.timestamp = '-5'))],
    ['timestamp fractional', edit(MEDIA, (m) => (m.media.timestamp = '5.5'))],
    ['sequenceNumber empty', edit(MEDIA, (m) => (m.sequenceNumber = ''))],
    ['sequenceNumber with spaces', edit(MEDIA, (m) => (m.sequenceNumber = ' 4'))],
    ['sequenceNumber missing', edit(MEDIA, (m) => delete m.sequenceNumber)],
    ['sequenceNumber boolean', edit(MEDIA, (m) => (m.sequenceNumber = true))],
    ['payload not a string', edit(MEDIA, (m) => (m.media.payload = 12))],
    ['track missing', edit(MEDIA, (m) => delete m.media.track)],
    ['start streamSid mismatch', edit(START, (m) => (m.start.streamSid = 'MZother'))],
    ['start without callSid', edit(START, (m) => delete m.start.callSid)],
    ['start tracks not strings', edit(START, (m) => (m.start.tracks = [1]))],
    ['start sampleRate as string', edit(START, (m) => (m.start.mediaFormat.sampleRate = '8000'))],
    ['start parameter not a string', edit(START, (m) => (m.start.customParameters.FirstName = 1))],
    ['dtmf digit too long', edit(DTMF, (m) => (m.dtmf.digit = '12'))],
    ['dtmf digit not a key', edit(DTMF, (m) => (m.dtmf.digit = 'x'))],
    ['mark without name', edit(MARK, (m) => (m.mark = {}))],
    ['stop without stop', edit(STOP, (m) => delete m.stop)],
    ['connected without version', edit(CONNECTED, (m) => delete m.version)],
  ];
  for (const [what, raw] of cases) {
    const result = decodeTwilioMessage(raw);
    assert.equal(result.ok, false, what);
    assert.equal(errorKind(result), 'invalid_fields', what);
  }
});

void test('numeric strings become numbers; plain JSON integers are accepted too', () => {
  const m = ok(decodeTwilioMessage(edit(MEDIA, (x) => Object.assign(x.media, { chunk: '000123', timestamp: 987654321 }))));
  assert.ok(m.event === 'media');
  assert.equal(m.media.chunk, 123);
  assert.equal(m.media.timestamp, 987654321);
});

void test('bad_base64: alphabet, padding and length are checked', () => {
  for (const payload of ['abc$', 'ab=c', 'a===', 'abcde', 'ab-_', 'YWJj\n', 'YQ=', 'Y']) {
    const raw = edit(MEDIA, (m) => (m.media.payload = payload));
    assert.equal(errorKind(decodeTwilioMessage(raw)), 'bad_base64', payload);
  }
  for (const payload of ['', 'YQ==', 'YWI=', 'YWJj', 'YQ', 'YWI', '+/+/']) assert.ok(isBase64(payload), payload);
});

void test('encoders produce exactly the documented outbound JSON', () => {
  const mulaw = new Uint8Array([0xff, 0x7f, 0x00, 0x80]);
  const media = encodeMediaMessage(STREAM, mulaw);
  assert.equal(media, `{"event":"media","streamSid":"${STREAM}","media":{"payload":"/38AgA=="}}`);
  assert.deepEqual(JSON.parse(media), { event: 'media', streamSid: STREAM, media: { payload: '/38AgA==' } });
  assert.equal(encodeMarkMessage(STREAM, 'my "label"'), `{"event":"mark","streamSid":"${STREAM}","mark":{"name":"my \\"label\\""}}`);
  assert.equal(encodeClearMessage(STREAM), `{"event":"clear","streamSid":"${STREAM}"}`);
});

void test('encodeMediaMessage honours a view into a larger buffer', () => {
  const backing = Buffer.from([1, 2, 3, 4, 5, 6]);
  const view = backing.subarray(2, 4);
  const decoded = JSON.parse(encodeMediaMessage(STREAM, view)) as { media: { payload: string } };
  assert.deepEqual([...Buffer.from(decoded.media.payload, 'base64')], [3, 4]);
});

void test('encoders throw on misuse', () => {
  assert.throws(() => encodeMediaMessage('', new Uint8Array(1)), /streamSid/);
  assert.throws(() => encodeMarkMessage(STREAM, ''), /mark name/);
  assert.throws(() => encodeClearMessage(''), /streamSid/);
});

void test('an encoded outbound media payload round-trips through an inbound media message', () => {
  const audio = Buffer.from(Array.from({ length: 800 }, (_, i) => (i * 13 + 7) & 0xff));
  const outbound = JSON.parse(encodeMediaMessage(STREAM, audio)) as { media: { payload: string } };
  const inbound = JSON.stringify({
    event: 'media',
    sequenceNumber: '9',
    media: { track: 'inbound', chunk: '8', timestamp: '140', payload: outbound.media.payload },
    streamSid: STREAM,
  });
  const message = ok(decodeTwilioMessage(inbound));
  assert.ok(message.event === 'media');
  assert.deepEqual(message.media.payload, audio);
});

void test('media decode cost per message (hot path)', (t) => {
  const frames = Array.from({ length: 1000 }, (_, i) =>
    JSON.stringify({
      event: 'media',
      sequenceNumber: String(i + 2),
      media: { track: 'inbound', chunk: String(i + 1), timestamp: String(i * 20), payload: FRAME.toString('base64') },
      streamSid: STREAM,
    }),
  );
  for (let i = 0; i < 20_000; i++) decodeTwilioMessage(frames[i % frames.length]!); // warm up the JIT
  const n = 100_000;
  let bytes = 0;
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const result = decodeTwilioMessage(frames[i % frames.length]!);
    if (result.ok && result.message.event === 'media') bytes += result.message.media.payload.length;
  }
  const usPerMessage = ((performance.now() - started) * 1000) / n;
  assert.equal(bytes, n * 160);
  t.diagnostic(`decodeTwilioMessage(media, 160 bytes): ${usPerMessage.toFixed(2)} µs/message over ${n} messages`);
  // 50 messages/s per call: even 1000 calls need only 50k decodes/s. Generous ceiling for slow CI.
  assert.ok(usPerMessage < 50, `${usPerMessage} µs/message`);
});
