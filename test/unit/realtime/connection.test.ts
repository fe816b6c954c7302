import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import {
  RealtimeConnectError,
  RealtimeConnection,
  buildRealtimeUrl,
  createBetaToGaState,
  decodeServerFrame,
  isKnownServerEvent,
  type RealtimeCloseInfo,
  type RealtimeServerEvent,
} from '../../../src/realtime/index.js';
import { startFakeRealtimeServer, toneAudio, type FakeRealtimeServer } from '../../fakes/fake-realtime-server.js';

/** Collects a connection's events; `waitFor` resolves on the event that makes the predicate true. */
function recorder(connection: RealtimeConnection) {
  const events: RealtimeServerEvent[] = [];
  const invalid: { raw: string; reason: string }[] = [];
  const closes: RealtimeCloseInfo[] = [];
  const wakers = new Set<() => void>();
  const wake = (): void => {
    for (const waker of [...wakers]) waker();
  };
  connection.on('event', (event) => {
    events.push(event);
    wake();
  });
  connection.on('invalid', (info) => {
    invalid.push(info);
    wake();
  });
  connection.on('close', (info) => {
    closes.push(info);
    wake();
  });
  function waitFor(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        wakers.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        wakers.delete(check);
        reject(new Error(`timed out; events: ${events.map((event) => event.type).join(', ')}`));
      }, timeoutMs);
      wakers.add(check);
    });
  }
  async function next<T extends string>(type: T, timeoutMs?: number): Promise<Extract<RealtimeServerEvent, { type: T }>> {
    let found: RealtimeServerEvent | undefined;
    await waitFor(() => (found = events.find((event) => event.type === type)) !== undefined, timeoutMs);
    return found as Extract<RealtimeServerEvent, { type: T }>;
  }
  return { events, invalid, closes, waitFor, next };
}

/** A server that accepts TCP and never answers the WebSocket upgrade. */
async function silentServer(): Promise<{ url: string; sockets: Set<Socket>; upgrades: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let upgrades = 0;
  const server: Server = createServer();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (_req, socket) => {
    upgrades++;
    // http servers allow half-open sockets: a client that gives up only sends FIN.
    socket.on('end', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `ws://127.0.0.1:${port}/v1/realtime`,
    sockets,
    upgrades: () => upgrades,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('RealtimeConnection against the fake (GA)', () => {
  let fake: FakeRealtimeServer;
  before(async () => {
    fake = await startFakeRealtimeServer({
      apiKey: 'sk-test',
      generationSpeed: Infinity,
      respond: () => [{ type: 'audio', transcript: 'Hello caller', audioMs: 200 }],
    });
  });
  after(() => fake.close());

  test('connects with the key and the model, receives typed GA events, sends GA events', async () => {
    const connection = await RealtimeConnection.connect({ url: fake.url, shape: 'ga', apiKey: 'sk-test', model: 'gpt-realtime', connectTimeoutMs: 2000 });
    const rec = recorder(connection);
    const session = await fake.waitForSession(fake.sessions.length === 0 ? 0 : fake.sessions.length - 1);
    assert.equal(connection.isOpen, true);
    assert.equal(connection.shape, 'ga');
    assert.match(session.request.url, /[?&]model=gpt-realtime/);
    assert.equal(session.request.headers.authorization, 'Bearer sk-test');
    assert.equal(session.request.headers['openai-beta'], undefined);

    const created = await rec.next('session.created');
    assert.equal(created.session.type, 'realtime');
    assert.ok(
      connection.send({
        type: 'session.update',
        session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } } },
      }),
    );
    const updated = await rec.next('session.updated');
    assert.deepEqual(updated.session.type === 'realtime' ? updated.session.audio?.output?.format : undefined, { type: 'audio/pcmu' });
    connection.send({ type: 'response.create' });
    await rec.next('response.done');
    assert.ok(rec.events.some((event) => event.type === 'response.output_audio.delta'));
    assert.equal(rec.invalid.length, 0);
    const received = await session.waitForReceived('response.create');
    assert.equal(received.type, 'response.create');

    connection.close();
    connection.close();
    await rec.waitFor(() => rec.closes.length === 1);
    assert.equal(rec.closes[0]?.code, 1000);
    assert.equal(connection.isOpen, false);
    assert.equal(connection.send({ type: 'input_audio_buffer.clear' }), false);
    // Still exactly one close, however often close() is called.
    connection.close();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(rec.closes.length, 1);
  });

  test('keeps the URL\'s own model and adds none when not asked', () => {
    assert.equal(buildRealtimeUrl('wss://api.openai.com/v1/realtime?model=a', 'b').searchParams.get('model'), 'a');
    assert.equal(buildRealtimeUrl('wss://api.openai.com/v1/realtime', 'b').searchParams.get('model'), 'b');
    assert.equal(buildRealtimeUrl('ws://x/v1/realtime', undefined).search, '');
    assert.throws(() => buildRealtimeUrl('ftp://x', undefined), TypeError);
  });

  test('401 refusal is not retryable; 5xx is', async () => {
    await assert.rejects(
      RealtimeConnection.connect({ url: fake.url, shape: 'ga', apiKey: 'wrong', connectTimeoutMs: 2000 }),
      (err: unknown) => err instanceof RealtimeConnectError && err.status === 401 && err.retryable === false,
    );
    fake.refuseNext(1, 503);
    await assert.rejects(
      RealtimeConnection.connect({ url: fake.url, shape: 'ga', apiKey: 'sk-test', connectTimeoutMs: 2000 }),
      (err: unknown) => err instanceof RealtimeConnectError && err.status === 503 && err.retryable === true,
    );
  });

  test('a refused TCP connection is a retryable network error', async () => {
    const closed = await silentServer();
    const url = closed.url;
    await closed.close();
    await assert.rejects(
      RealtimeConnection.connect({ url, shape: 'ga', connectTimeoutMs: 2000 }),
      (err: unknown) => err instanceof RealtimeConnectError && err.retryable && err.status === undefined,
    );
  });

  test('invalid frames go to `invalid`; unknown events are kept; the socket stays open', async () => {
    const connection = await RealtimeConnection.connect({ url: fake.url, shape: 'ga', apiKey: 'sk-test', connectTimeoutMs: 2000 });
    const rec = recorder(connection);
    const session = await fake.waitForSession(fake.sessions.length - 1);
    await rec.next('session.created');
    session.sendRaw('this is not json');
    session.sendRaw(JSON.stringify({ type: 'response.output_audio.delta', event_id: 'e', response_id: 'r', item_id: 'i', output_index: 0 }));
    session.sendRaw(JSON.stringify({ type: 'input_audio_buffer.speech_started', event_id: 'e' }));
    session.emitEvent({ type: 'response.brand_new_thing', payload: { a: 1 } });
    await rec.waitFor(() => rec.invalid.length === 3 && rec.events.some((event) => event.type === 'response.brand_new_thing'));
    assert.match(rec.invalid[0]?.reason ?? '', /invalid JSON/);
    assert.equal(rec.invalid[0]?.raw, 'this is not json');
    assert.match(rec.invalid[1]?.reason ?? '', /delta/);
    assert.match(rec.invalid[2]?.reason ?? '', /input_audio_buffer\.speech_started/);
    const unknown = rec.events.find((event) => event.type === 'response.brand_new_thing') as RealtimeServerEvent;
    assert.equal(isKnownServerEvent(unknown), false);
    assert.deepEqual((unknown as Record<string, unknown>).payload, { a: 1 });
    assert.equal(connection.isOpen, true);
    connection.send({ type: 'input_audio_buffer.clear' });
    await rec.next('input_audio_buffer.cleared');
    connection.close();
    await rec.waitFor(() => rec.closes.length === 1);
  });

  test('a dropped socket emits close once, with 1006', async () => {
    const connection = await RealtimeConnection.connect({ url: fake.url, shape: 'ga', apiKey: 'sk-test', connectTimeoutMs: 2000 });
    const rec = recorder(connection);
    const session = await fake.waitForSession(fake.sessions.length - 1);
    await rec.next('session.created');
    session.drop();
    await rec.waitFor(() => rec.closes.length === 1);
    assert.equal(rec.closes[0]?.code, 1006);
    assert.equal(connection.isOpen, false);
  });

  test('aborting the signal after open destroys the socket', async () => {
    const controller = new AbortController();
    const connection = await RealtimeConnection.connect({
      url: fake.url,
      shape: 'ga',
      apiKey: 'sk-test',
      connectTimeoutMs: 2000,
      signal: controller.signal,
    });
    const rec = recorder(connection);
    await rec.next('session.created');
    controller.abort();
    await rec.waitFor(() => rec.closes.length === 1);
    assert.equal(rec.closes[0]?.reason, 'aborted');
    await fake.waitFor(() => fake.connections === 0);
  });
});

describe('RealtimeConnection against the fake (beta)', () => {
  test('sends beta, receives GA: header, translated session, deltas, added + done items', async () => {
    const fake = await startFakeRealtimeServer({
      generationSpeed: Infinity,
      transcripts: ['Is anyone there?'],
      respond: () => [{ type: 'audio', transcript: 'Yes, hello!', audioMs: 200 }],
    });
    try {
      const connection = await RealtimeConnection.connect({
        url: fake.url,
        shape: 'beta',
        model: 'gpt-4o-realtime-preview',
        connectTimeoutMs: 2000,
      });
      const rec = recorder(connection);
      const session = await fake.waitForSession(0);
      assert.equal(session.shape, 'beta');
      assert.equal(session.request.headers['openai-beta'], 'realtime=v1');

      const created = await rec.next('session.created');
      assert.equal(created.session.type, 'realtime');
      assert.deepEqual(created.session.type === 'realtime' ? created.session.output_modalities : undefined, ['audio']);

      connection.send({
        type: 'session.update',
        session: {
          type: 'realtime',
          audio: {
            input: {
              format: { type: 'audio/pcmu' },
              transcription: { model: 'gpt-4o-transcribe' },
              turn_detection: { type: 'server_vad', silence_duration_ms: 200 },
            },
            output: { format: { type: 'audio/pcmu' }, voice: 'ash' },
          },
        },
      });
      await rec.next('session.updated');
      // On the wire the fake got the flat beta session.
      assert.deepEqual(session.receivedRaw.at(-1)?.json, {
        type: 'session.update',
        session: {
          input_audio_format: 'g711_ulaw',
          input_audio_transcription: { model: 'gpt-4o-transcribe' },
          turn_detection: { type: 'server_vad', silence_duration_ms: 200 },
          output_audio_format: 'g711_ulaw',
          voice: 'ash',
        },
      });

      const audio = Buffer.concat([toneAudio('audio/pcmu', 300), Buffer.alloc(8 * 400, 0xff)]);
      for (let offset = 0; offset < audio.length; offset += 160) {
        connection.send({ type: 'input_audio_buffer.append', audio: audio.subarray(offset, offset + 160).toString('base64') });
      }
      await rec.next('response.done');
      await rec.waitFor(() => rec.events.filter((event) => event.type === 'conversation.item.done').length === 2);
      const types = rec.events.map((event) => event.type).filter((type) => !type.endsWith('.delta'));
      const from = types.indexOf('input_audio_buffer.committed');
      assert.deepEqual(types.slice(from), [
        'input_audio_buffer.committed',
        'conversation.item.added',
        'conversation.item.done',
        'conversation.item.input_audio_transcription.completed',
        'response.created',
        'rate_limits.updated',
        'response.output_item.added',
        'conversation.item.added',
        'response.content_part.added',
        'response.output_audio.done',
        'response.output_audio_transcript.done',
        'response.content_part.done',
        'response.output_item.done',
        'conversation.item.done',
        'response.done',
      ]);
      assert.ok(rec.events.some((event) => event.type === 'response.output_audio.delta'));
      assert.ok(rec.events.some((event) => event.type === 'response.output_audio_transcript.delta'));
      const itemDone = rec.events.filter((event) => event.type === 'conversation.item.done')[1];
      assert.ok(itemDone && isKnownServerEvent(itemDone) && itemDone.type === 'conversation.item.done');
      assert.deepEqual(itemDone.item.type === 'message' ? itemDone.item.content : undefined, [{ type: 'output_audio', transcript: 'Yes, hello!' }]);
      assert.equal(rec.invalid.length, 0, JSON.stringify(rec.invalid));
      connection.close();
      await rec.waitFor(() => rec.closes.length === 1);
    } finally {
      await fake.close();
    }
  });
});

describe('RealtimeConnection.connect failures', () => {
  test('times out against a server that never answers the upgrade, and leaves no socket', async () => {
    const silent = await silentServer();
    try {
      const started = Date.now();
      await assert.rejects(
        RealtimeConnection.connect({ url: silent.url, shape: 'ga', connectTimeoutMs: 150 }),
        (err: unknown) => err instanceof RealtimeConnectError && err.retryable && /timed out/.test(err.message),
      );
      assert.ok(Date.now() - started >= 140);
      await waitUntil(() => silent.sockets.size === 0);
    } finally {
      await silent.close();
    }
  });

  test('abort mid-handshake rejects with AbortError at once and the server sees the socket close', async () => {
    const fake = await startFakeRealtimeServer();
    try {
      fake.stallNext(1);
      const controller = new AbortController();
      const pending = RealtimeConnection.connect({ url: fake.url, shape: 'ga', connectTimeoutMs: 10_000, signal: controller.signal });
      await fake.waitFor(() => fake.upgradeCount === 1 && fake.openSockets === 1);
      controller.abort(new Error('call ended'));
      await assert.rejects(pending, (err: unknown) => err instanceof RealtimeConnectError && err.name === 'AbortError' && !err.retryable);
      await fake.waitFor(() => fake.openSockets === 0, 1000);
      assert.equal(fake.sessions.length, 0);
    } finally {
      await fake.close();
    }
  });

  test('an already aborted signal rejects without connecting', async () => {
    const fake = await startFakeRealtimeServer();
    try {
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(
        RealtimeConnection.connect({ url: fake.url, shape: 'ga', connectTimeoutMs: 1000, signal: controller.signal }),
        (err: unknown) => err instanceof RealtimeConnectError && err.name === 'AbortError',
      );
      assert.equal(fake.upgradeCount, 0);
    } finally {
      await fake.close();
    }
  });

  test('misuse throws at once', () => {
    assert.throws(() => RealtimeConnection.connect({ url: 'ws://127.0.0.1:1', shape: 'ga', connectTimeoutMs: 0 }), RangeError);
    assert.throws(() => RealtimeConnection.connect({ url: 'not a url', shape: 'ga', connectTimeoutMs: 100 }), TypeError);
  });
});

describe('hot path: audio delta parse cost', () => {
  test('µs per response.output_audio.delta, GA and beta', () => {
    // 100 ms of μ-law (800 bytes): a typical delta for a telephone call.
    const delta = Buffer.alloc(800, 0x7f).toString('base64');
    const fields = { response_id: 'resp_Ct1OZ5ukpGEZNeUWx1iOH', item_id: 'item_Ct1OXLqYLre7VW2Bz9Eoy', output_index: 0, content_index: 0, delta };
    const ga = JSON.stringify({ type: 'response.output_audio.delta', event_id: 'event_Ct1OVqJmiaDhg4nkh3JWr', ...fields });
    const beta = JSON.stringify({ type: 'response.audio.delta', event_id: 'event_Ct1OVqJmiaDhg4nkh3JWr', ...fields });
    const state = createBetaToGaState();
    const measure = (frame: string, shape: 'ga' | 'beta'): number => {
      for (let i = 0; i < 2000; i++) decodeServerFrame(frame, shape, state);
      const runs = 20_000;
      const start = process.hrtime.bigint();
      for (let i = 0; i < runs; i++) {
        const [result] = decodeServerFrame(frame, shape, state);
        if (!result?.ok) throw new Error('delta rejected');
      }
      return Number(process.hrtime.bigint() - start) / 1000 / runs;
    };
    const gaUs = measure(ga, 'ga');
    const betaUs = measure(beta, 'beta');
    console.log(`realtime delta parse: ${gaUs.toFixed(2)} µs (GA), ${betaUs.toFixed(2)} µs (beta), ${ga.length}-byte frame`);
    // Generous bound: catches a regression to zod-per-delta on a slow machine, not noise.
    assert.ok(gaUs < 500 && betaUs < 500);
  });
});

async function waitUntil(predicate: () => boolean, timeoutMs = 1000): Promise<void> {
  // Polls a server's socket set, which has no event to wait on; bounded, and only in this helper.
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
