// The media-stream fake against a tiny ws server written here: what it sends, and how it plays, echoes and complains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, type WebSocket } from 'ws';
import { FakeTwilioCall } from '../../fakes/fake-twilio-media.js';
import { computeSignature } from '../../../src/twilio/signature.js';

type Json = Record<string, unknown>;

interface ServerSide {
  socket: WebSocket;
  request: IncomingMessage;
  messages: Json[];
  /** Resolves once at least n messages arrived (or rejects after timeoutMs). */
  waitForMessages(n: number, timeoutMs?: number): Promise<Json[]>;
  send(message: Json | string): void;
}

interface TinyServer {
  url: string;
  nextConnection(): Promise<ServerSide>;
  close(): Promise<void>;
}

async function startTinyServer(opts: { reject?: boolean } = {}): Promise<TinyServer> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (_info, done) => done(!opts.reject, 403, 'Forbidden'),
  });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const pending: Array<(side: ServerSide) => void> = [];
  const ready: ServerSide[] = [];
  wss.on('connection', (socket, request) => {
    const messages: Json[] = [];
    const listeners = new Set<() => void>();
    socket.on('message', (data) => {
      messages.push(JSON.parse(data.toString()) as Json);
      for (const l of [...listeners]) l();
    });
    const side: ServerSide = {
      socket,
      request,
      messages,
      waitForMessages(n, timeoutMs = 2000) {
        if (messages.length >= n) return Promise.resolve(messages);
        return new Promise((resolve, reject) => {
          const check = (): void => {
            if (messages.length >= n) {
              clearTimeout(timer);
              listeners.delete(check);
              resolve(messages);
            }
          };
          const timer = setTimeout(() => {
            listeners.delete(check);
            reject(new Error(`server saw ${messages.length} of ${n} messages`));
          }, timeoutMs);
          listeners.add(check);
        });
      },
      send(message) {
        socket.send(typeof message === 'string' ? message : JSON.stringify(message));
      },
    };
    const waiter = pending.shift();
    if (waiter) waiter(side);
    else ready.push(side);
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/twilio/stream`,
    nextConnection() {
      const side = ready.shift();
      if (side) return Promise.resolve(side);
      return new Promise((resolve) => pending.push(resolve));
    },
    close() {
      for (const client of wss.clients) client.terminate();
      return new Promise((resolve) => wss.close(() => resolve()));
    },
  };
}

async function setup(options: Partial<Parameters<typeof FakeTwilioCall.connect>[0]> = {}) {
  const server = await startTinyServer();
  const connection = server.nextConnection();
  const call = await FakeTwilioCall.connect({ url: server.url, customParameters: { token: 't0k' }, ...options });
  const side = await connection;
  return {
    server,
    call,
    side,
    async done() {
      await call.close();
      await server.close();
    },
  };
}

function ramp(bytes: number): Buffer {
  return Buffer.from(Array.from({ length: bytes }, (_, i) => (i * 7 + 1) & 0x7f));
}

void test('connect sends connected, then start exactly as documented', async () => {
  const { call, side, done } = await setup({ headers: { 'x-custom': 'yes' } });
  try {
    const [connected, start] = await side.waitForMessages(2);
    assert.deepEqual(connected, { event: 'connected', protocol: 'Call', version: '1.0.0' });
    assert.deepEqual(start, {
      event: 'start',
      sequenceNumber: '1',
      start: {
        accountSid: call.accountSid,
        streamSid: call.streamSid,
        callSid: call.callSid,
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters: { token: 't0k' },
      },
      streamSid: call.streamSid,
    });
    assert.match(call.accountSid, /^AC[0-9a-f]{32}$/);
    assert.match(call.callSid, /^CA[0-9a-f]{32}$/);
    assert.match(call.streamSid, /^MZ[0-9a-f]{32}$/);
    assert.equal(side.request.headers['x-custom'], 'yes');
  } finally {
    await done();
  }
});

void test('signWith signs the upgrade like Twilio (wss URL, {} params)', async () => {
  const { side, done } = await setup({ signWith: { authToken: 'tok', url: 'wss://koe.example.com/twilio/stream' } });
  try {
    assert.equal(side.request.headers['x-twilio-signature'], computeSignature('tok', 'wss://koe.example.com/twilio/stream', {}));
  } finally {
    await done();
  }
});

void test('sendStart: false holds start back until sendStart()', async () => {
  const { call, side, done } = await setup({ sendStart: false, callSid: 'CA' + 'a'.repeat(32) });
  try {
    await side.waitForMessages(1);
    assert.throws(() => call.sendDtmf('1'), /start first/);
    call.sendStart();
    const messages = await side.waitForMessages(2);
    assert.equal(messages[1]?.['event'], 'start');
    assert.equal((messages[1]?.['start'] as Json)['callSid'], 'CA' + 'a'.repeat(32));
  } finally {
    await done();
  }
});

void test('refused upgrade rejects connect', async () => {
  const server = await startTinyServer({ reject: true });
  try {
    await assert.rejects(FakeTwilioCall.connect({ url: server.url }), /403/);
  } finally {
    await server.close();
  }
});

void test('sendAudio: 160-byte media frames with string counters, last frame padded with 0xFF', async () => {
  const { call, side, done } = await setup();
  try {
    const audio = ramp(400);
    assert.equal(await call.sendAudio(audio, { pace: 'fast' }), 3);
    const messages = await side.waitForMessages(5);
    const media = messages.slice(2);
    media.forEach((m, i) => {
      assert.deepEqual(Object.keys(m), ['event', 'sequenceNumber', 'media', 'streamSid']);
      assert.equal(m['event'], 'media');
      assert.equal(m['sequenceNumber'], String(i + 2));
      assert.equal(m['streamSid'], call.streamSid);
      const body = m['media'] as Json;
      assert.deepEqual(Object.keys(body), ['track', 'chunk', 'timestamp', 'payload']);
      assert.equal(body['track'], 'inbound');
      assert.equal(body['chunk'], String(i + 1));
      assert.equal(typeof body['timestamp'], 'string');
      assert.equal(Buffer.from(String(body['payload']), 'base64').length, 160);
    });
    const timestamps = media.map((m) => Number((m['media'] as Json)['timestamp']));
    assert.deepEqual([timestamps[1]! - timestamps[0]!, timestamps[2]! - timestamps[1]!], [20, 20]);
    const sent = Buffer.concat(media.map((m) => Buffer.from(String((m['media'] as Json)['payload']), 'base64')));
    assert.deepEqual(sent.subarray(0, 400), audio);
    assert.ok(sent.subarray(400).every((b) => b === 0xff));

    call.sendDtmf('#');
    const [dtmf] = (await side.waitForMessages(6)).slice(5);
    assert.deepEqual(dtmf, { event: 'dtmf', streamSid: call.streamSid, sequenceNumber: '5', dtmf: { track: 'inbound_track', digit: '#' } });
  } finally {
    await done();
  }
});

void test('realtime pacing: one frame per 20 ms on a monotonic grid, calls queued in order', async () => {
  const { call, side, done } = await setup();
  try {
    const started = performance.now();
    const first = call.sendSilence(100); // 5 frames
    const second = call.sendAudio(ramp(160 * 5)); // 5 more, queued behind the first
    assert.deepEqual(await Promise.all([first, second]), [5, 5]);
    const elapsedMs = performance.now() - started;
    // Frame k leaves at start + 20k: the 10th at +180 ms at the earliest.
    assert.ok(elapsedMs >= 178, `10 paced frames took only ${elapsedMs.toFixed(1)} ms`);
    const media = (await side.waitForMessages(12)).slice(2);
    assert.deepEqual(
      media.map((m) => (m['media'] as Json)['chunk']),
      ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'],
    );
    assert.equal(call.stats.framesSent, 10);
  } finally {
    await done();
  }
});

void test('mark with nothing buffered is echoed at once', async () => {
  const { call, side, done } = await setup();
  try {
    side.send({ event: 'mark', streamSid: call.streamSid, mark: { name: 'empty' } });
    await call.waitForMarkEcho('empty', 1000);
    const echo = (await side.waitForMessages(3))[2];
    assert.deepEqual(echo, { event: 'mark', sequenceNumber: '2', streamSid: call.streamSid, mark: { name: 'empty' } });
    assert.equal(call.stats.marksEchoed, 1);
    assert.deepEqual(call.protocolViolations, []);
  } finally {
    await done();
  }
});

void test('mark after buffered audio is echoed only once that audio has played', async () => {
  const { call, side, done } = await setup();
  try {
    const audio = ramp(800); // 100 ms
    const sentAt = performance.now();
    side.send({ event: 'media', streamSid: call.streamSid, media: { payload: audio.subarray(0, 400).toString('base64') } });
    side.send({ event: 'media', streamSid: call.streamSid, media: { payload: audio.subarray(400).toString('base64') } });
    side.send({ event: 'mark', streamSid: call.streamSid, mark: { name: 'after-100ms' } });
    await call.waitForReceivedBytes(800);
    assert.equal(call.marksEchoed.length, 0);
    let playedAtEcho = -1;
    call.once('mark', () => (playedAtEcho = call.stats.bytesPlayed));
    await call.waitForMarkEcho('after-100ms', 2000);
    const elapsedMs = performance.now() - sentAt;
    assert.ok(elapsedMs >= 95, `echoed after ${elapsedMs.toFixed(1)} ms, before the audio could have played`);
    assert.equal(playedAtEcho, 800);
    assert.deepEqual(call.playedAudio(), audio);
    assert.deepEqual(call.receivedAudio(), audio);
    const stats = call.stats;
    assert.deepEqual([stats.bytesReceived, stats.bytesPlayed, stats.bytesBuffered, stats.bytesDiscarded], [800, 800, 0, 0]);
    assert.deepEqual(call.protocolViolations, []);
  } finally {
    await done();
  }
});

void test('playbackRate speeds playout up for tests', async () => {
  const { call, side, done } = await setup({ playbackRate: 10 });
  try {
    const sentAt = performance.now();
    side.send({ event: 'media', streamSid: call.streamSid, media: { payload: ramp(8000).toString('base64') } }); // 1 s
    side.send({ event: 'mark', streamSid: call.streamSid, mark: { name: 'end' } });
    await call.waitForMarkEcho('end', 2000);
    const elapsedMs = performance.now() - sentAt;
    assert.ok(elapsedMs >= 95, `1 s of audio at 10× played in ${elapsedMs.toFixed(1)} ms`);
    assert.equal(call.stats.bytesPlayed, 8000);
  } finally {
    await done();
  }
});

void test('clear drops buffered audio and echoes every pending mark at once, in order', async () => {
  const { call, side, done } = await setup();
  try {
    side.send({ event: 'media', streamSid: call.streamSid, media: { payload: ramp(8000).toString('base64') } });
    side.send({ event: 'mark', streamSid: call.streamSid, mark: { name: 'a' } });
    side.send({ event: 'media', streamSid: call.streamSid, media: { payload: ramp(8000).toString('base64') } });
    side.send({ event: 'mark', streamSid: call.streamSid, mark: { name: 'b' } });
    await call.waitFor(() => call.stats.marksReceived === 2, 1000, 'both marks');
    const clearSeen = new Promise<{ discardedBytes: number; echoedMarks: string[] }>((resolve) => call.once('clear', resolve));
    side.send({ event: 'clear', streamSid: call.streamSid });
    const info = await clearSeen;
    assert.deepEqual(info.echoedMarks, ['a', 'b']);
    assert.deepEqual(call.marksEchoed, ['a', 'b']);
    const stats = call.stats;
    assert.equal(stats.clears, 1);
    assert.equal(stats.bytesBuffered, 0);
    assert.equal(stats.bytesPlayed + stats.bytesDiscarded, 16000);
    assert.ok(stats.bytesPlayed < 8000, `${stats.bytesPlayed} bytes played before the clear`);
    assert.equal(info.discardedBytes, stats.bytesDiscarded);
    const echoes = (await side.waitForMessages(4)).slice(2);
    assert.deepEqual(
      echoes.map((m) => [m['event'], (m['mark'] as Json)['name'], m['sequenceNumber']]),
      [
        ['mark', 'a', '2'],
        ['mark', 'b', '3'],
      ],
    );
    // Audio after a clear starts a fresh buffer.
    side.send({ event: 'media', streamSid: call.streamSid, media: { payload: ramp(80).toString('base64') } });
    side.send({ event: 'mark', streamSid: call.streamSid, mark: { name: 'c' } });
    await call.waitForMarkEcho('c', 1000);
    assert.deepEqual(call.protocolViolations, []);
  } finally {
    await done();
  }
});

void test('protocol violations are recorded and ignored, like Twilio warnings 31950/31951', async () => {
  const { call, side, done } = await setup();
  try {
    const payload = ramp(160).toString('base64');
    side.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    side.send('not json');
    side.send('[1]');
    side.send({ event: 'play', streamSid: call.streamSid });
    side.send({ event: 'media', streamSid: call.streamSid, media: { payload, track: 'outbound' } });
    side.send({ event: 'media', streamSid: call.streamSid, sequenceNumber: '1', media: { payload } });
    side.send({ event: 'media', streamSid: call.streamSid });
    side.send({ event: 'media', streamSid: 'MZwrong', media: { payload } });
    side.send({ event: 'media', streamSid: call.streamSid, media: { payload: 'not base64!' } });
    side.send({ event: 'mark', streamSid: call.streamSid, mark: {} });
    side.send({ event: 'mark', streamSid: call.streamSid, mark: { name: 7 } });
    side.send({ event: 'clear' });
    await call.waitFor(() => call.protocolViolations.length >= 12, 2000, '12 violations');
    const v = call.protocolViolations;
    assert.match(v[0]!, /^31950 binary/);
    assert.match(v[1]!, /non-JSON/);
    assert.match(v[2]!, /not a JSON object/);
    assert.match(v[3]!, /unknown event "play"/);
    assert.match(v[4]!, /media\.media: extra track/);
    assert.match(v[5]!, /media: extra sequenceNumber/);
    assert.match(v[6]!, /media: missing media/);
    assert.match(v[7]!, /wrong streamSid "MZwrong"/);
    assert.match(v[8]!, /not a base64 string/);
    assert.match(v[9]!, /mark\.mark: missing name/);
    assert.match(v[10]!, /mark\.name is not a string/);
    assert.match(v[11]!, /clear: missing streamSid/);
    const stats = call.stats;
    assert.deepEqual([stats.bytesReceived, stats.marksEchoed, stats.clears], [0, 0, 0]);
  } finally {
    await done();
  }
});

void test('a WAV header in the payload is flagged (it would play as noise)', async () => {
  const { call, side, done } = await setup();
  try {
    const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(156, 0xff)]);
    side.send({ event: 'media', streamSid: call.streamSid, media: { payload: wav.toString('base64') } });
    await call.waitForReceivedBytes(160);
    assert.match(call.protocolViolations[0] ?? '', /RIFF/);
  } finally {
    await done();
  }
});

void test('stop sends the documented stop and closes; close releases every timer', async () => {
  const baselineTimers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const { call, side, server } = await setup();
  try {
    side.send({ event: 'media', streamSid: call.streamSid, media: { payload: ramp(8000).toString('base64') } });
    side.send({ event: 'mark', streamSid: call.streamSid, mark: { name: 'never' } });
    await call.waitFor(() => call.stats.marksReceived === 1, 1000, 'the mark');
    const pacing = call.sendSilence(2000); // still pacing when the call stops
    await call.waitFor(() => call.stats.framesSent >= 2, 1000, 'two frames');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => call.once('close', resolve));
    await call.stop();
    assert.ok(call.closed);
    assert.equal((await closed).code, 1000);
    assert.ok((await pacing) < 100, 'pacing stopped with the socket');
    const messages = await side.waitForMessages(2 + call.stats.framesSent + 1);
    assert.deepEqual(messages.at(-1), {
      event: 'stop',
      sequenceNumber: String(1 + call.stats.framesSent + 1),
      stop: { accountSid: call.accountSid, callSid: call.callSid },
      streamSid: call.streamSid,
    });
    assert.deepEqual(call.marksEchoed, []);
    await assert.rejects(call.waitFor(() => false, 1000, 'anything'), /closed/);
    const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    assert.equal(timers, baselineTimers, 'timers left running after close');
  } finally {
    await server.close();
  }
});

void test('a server-side close is seen by waitForClose with its code', async () => {
  const { call, side, done } = await setup();
  try {
    side.socket.close(4000, 'bye');
    assert.deepEqual(await call.waitForClose(1000), { code: 4000, reason: 'bye' });
  } finally {
    await done();
  }
});
