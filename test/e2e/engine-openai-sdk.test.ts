// The official `openai` npm package's Realtime WebSocket client (OpenAIRealtimeWS) holding a spoken turn
// with Koe's engine: its own URL building (baseURL + /realtime?model=…), its Bearer header, its typed
// events. Any API key works: the client is on loopback and KOE_ENGINE_KEY is not set.
//
// The SDK always dials wss:// (internal-base.ts sets `url.protocol = 'wss'` whatever the baseURL says),
// and Koe serves plain HTTP. A deployment puts TLS in front of Koe; here the SDK's own `options` hand ws
// a plain TCP connection to the same host and port, and everything above TCP is the SDK's.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import type { RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import { removeScratch } from '../unit/engine/speech-fixtures.js';
import type { RunningKoe } from './engine-harness.js';
import { BYTES_PER_MS, encodeForWire, peak, decodeFromWire, startKoe, utterance } from './engine-harness.js';

describe('engine: the official openai SDK as the client', () => {
  let koe: RunningKoe;
  before(async () => {
    koe = await startKoe();
  });
  after(async () => {
    await koe.close();
    removeScratch();
  });

  test('OpenAIRealtimeWS connects, updates the session, sends audio and holds a turn', async () => {
    const openai = new OpenAI({ apiKey: 'sk-anything-works-on-loopback', baseURL: `http://127.0.0.1:${koe.port}/v1` });
    const rt = await OpenAIRealtimeWS.create(openai, {
      model: 'gpt-realtime',
      options: { createConnection: () => connect({ host: '127.0.0.1', port: koe.port }) },
    });
    assert.equal(rt.url.pathname, '/v1/realtime');
    assert.equal(rt.url.searchParams.get('model'), 'gpt-realtime');

    const events: RealtimeServerEvent[] = [];
    const errors: Error[] = [];
    const waiters: Array<{ type: string; resolve: (e: RealtimeServerEvent) => void }> = [];
    rt.on('event', (event) => {
      events.push(event);
      for (const waiter of waiters.filter((w) => w.type === event.type)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    });
    rt.on('error', (error) => errors.push(error));
    const next = <T extends RealtimeServerEvent['type']>(type: T, timeoutMs = 20_000): Promise<Extract<RealtimeServerEvent, { type: T }>> => {
      const found = events.find((e) => e.type === type);
      if (found) return Promise.resolve(found as Extract<RealtimeServerEvent, { type: T }>);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${type} in ${timeoutMs} ms; saw ${events.map((e) => e.type).join(', ')}`)), timeoutMs);
        waiters.push({
          type,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e as Extract<RealtimeServerEvent, { type: T }>);
          },
        });
      });
    };
    const closed = new Promise<void>((resolve) => rt.socket.once('close', () => resolve()));
    try {
      const created = await next('session.created');
      assert.equal(created.session.type, 'realtime');

      rt.send({
        type: 'session.update',
        session: {
          type: 'realtime',
          instructions: 'You are the friendly receptionist of Sakura Dental Clinic. Opening hours: Monday to Friday, 9 am to 6 pm.',
          output_modalities: ['audio'],
          audio: {
            input: {
              format: { type: 'audio/pcm', rate: 24000 },
              transcription: { model: 'gpt-4o-mini-transcribe' },
              turn_detection: { type: 'server_vad', silence_duration_ms: 600, create_response: true, interrupt_response: true },
            },
            output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'marin' },
          },
        },
      });
      const updated = await next('session.updated');
      assert.equal(updated.session.type, 'realtime');

      const audio = encodeForWire(utterance('When are you open?', 'awb'), 'pcm16');
      for (let offset = 0; offset < audio.length; offset += 960) {
        rt.send({ type: 'input_audio_buffer.append', audio: audio.subarray(offset, offset + 960).toString('base64') });
      }
      await next('input_audio_buffer.speech_started');
      const transcript = await next('conversation.item.input_audio_transcription.completed');
      assert.match(transcript.transcript, /when are you open/);
      const done = await next('response.done', 30_000);
      assert.equal(done.response.status, 'completed');
      const message = done.response.output?.[0];
      assert.ok(message?.type === 'message' && message.role === 'assistant');
      const said = message.content?.[0]?.transcript ?? '';
      assert.match(said, /monday|friday|9|nine/i, `a relevant reply: "${said}"`);

      const deltas = events.filter((e): e is Extract<RealtimeServerEvent, { type: 'response.output_audio.delta' }> => e.type === 'response.output_audio.delta');
      const reply = Buffer.concat(deltas.map((e) => Buffer.from(e.delta, 'base64')));
      assert.ok(reply.length / BYTES_PER_MS.pcm16 > 1000, 'more than a second of PCM16 audio');
      assert.ok(peak(decodeFromWire(reply, 'pcm16')) > 2000, 'audible');
      assert.deepEqual(errors.map((e) => e.message), [], 'no error events');
    } finally {
      rt.close();
      await closed;
    }
  });
});
