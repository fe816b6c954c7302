// Session modes the other engine tests do not use: semantic VAD (its eagerness becomes a silence window),
// server VAD's idle timeout, and text-only responses.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { concat, flite, removeScratch, silence } from '../unit/engine/speech-fixtures.js';
import type { RunningKoe } from './engine-harness.js';
import { EngineClient, GA_FORMAT, encodeForWire, responseOf, sendSpeech, startKoe } from './engine-harness.js';

const INSTRUCTIONS = 'You are the friendly receptionist of Sakura Dental Clinic. Opening hours: Monday to Friday, 9 am to 6 pm.';

describe('engine: session modes', () => {
  let koe: RunningKoe;
  before(async () => {
    koe = await startKoe();
  });
  after(async () => {
    await koe.close();
    removeScratch();
  });

  test('semantic_vad: a turn ends after the eagerness window and gets a reply', async () => {
    const client = await EngineClient.connect(koe.realtimeUrl);
    try {
      await client.configure({
        type: 'realtime',
        instructions: INSTRUCTIONS,
        audio: {
          input: { format: GA_FORMAT.g711_ulaw, turn_detection: { type: 'semantic_vad', eagerness: 'high' } },
          output: { format: GA_FORMAT.g711_ulaw },
        },
      });
      const from = client.mark;
      sendSpeech(client, concat(silence(300), flite('What are your opening hours?', 'kal16'), silence(1500)), 'g711_ulaw');
      const started = await client.waitFor('input_audio_buffer.speech_started', { from });
      const stopped = await client.waitFor('input_audio_buffer.speech_stopped', { from });
      assert.equal(stopped.item_id, started.item_id);
      const done = await client.waitFor('response.done', { from, timeoutMs: 20_000 });
      assert.equal(responseOf(done).status, 'completed');
    } finally {
      await client.close();
    }
  });

  test('idle_timeout_ms: when the caller says nothing, timeout_triggered commits the silence and a response follows', async () => {
    const client = await EngineClient.connect(koe.realtimeUrl);
    try {
      await client.configure({
        type: 'realtime',
        instructions: INSTRUCTIONS,
        audio: {
          input: { format: GA_FORMAT.g711_ulaw, turn_detection: { type: 'server_vad', idle_timeout_ms: 5_000 } },
          output: { format: GA_FORMAT.g711_ulaw },
        },
      });
      const from = client.mark;
      // The caller says nothing at all: only line silence keeps arriving.
      const started = performance.now();
      const line = encodeForWire(silence(200), 'g711_ulaw');
      const pump = setInterval(() => client.appendAudio(line, 8), 200);
      try {
        const timeout = await client.waitFor('input_audio_buffer.timeout_triggered', { from, timeoutMs: 12_000 });
        const elapsedMs = performance.now() - started;
        assert.ok(elapsedMs >= 4_900, `fired after ${Math.round(elapsedMs)} ms, not before the 5 s idle timeout`);
        assert.equal(typeof timeout.item_id, 'string');
        await client.waitFor((e) => e.type === 'input_audio_buffer.committed' && e.item_id === timeout.item_id, { from });
        await client.waitFor('response.created', { from, timeoutMs: 5_000 });
      } finally {
        clearInterval(pump);
      }
    } finally {
      await client.close();
    }
  });

  test('output_modalities ["text"]: the reply is text deltas, with no audio', async () => {
    const client = await EngineClient.connect(koe.realtimeUrl);
    try {
      await client.configure({
        type: 'realtime',
        instructions: INSTRUCTIONS,
        output_modalities: ['text'],
        audio: { input: { format: GA_FORMAT.g711_ulaw, turn_detection: null } },
      });
      const from = client.mark;
      client.send({
        type: 'conversation.item.create',
        item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'when are you open' }] },
      });
      client.send({ type: 'response.create' });
      const done = await client.waitFor('response.done', { from, timeoutMs: 15_000 });
      assert.equal(responseOf(done).status, 'completed');
      const text = client
        .all('response.output_text.delta', from)
        .map((e) => e.delta as string)
        .join('');
      assert.match(text, /Monday to Friday/);
      const textDone = await client.waitFor('response.output_text.done', { from });
      assert.equal(textDone.text, text);
      assert.equal(client.all('response.output_audio.delta', from).length, 0);
      assert.deepEqual(client.invalid, []);
    } finally {
      await client.close();
    }
  });
});
