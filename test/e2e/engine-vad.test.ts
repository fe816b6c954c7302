// Server VAD inside a real engine session (Silero with the tone gate): a spoken sentence with pauses
// inside it is one turn, placed where the speech is; silence, low noise and DTMF key presses are none.
// Responses are off (create_response: false), so only turn detection is on the wire.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateDtmfMulaw } from '../../src/audio/index.js';
import { activeSpanMs, concat, flite, removeScratch, silence, whiteNoise } from '../unit/engine/speech-fixtures.js';
import type { RunningKoe } from './engine-harness.js';
import { EngineClient, GA_FORMAT, encodeForWire, sendSpeech, startKoe } from './engine-harness.js';

const PREFIX_PADDING_MS = 300;
const SILENCE_DURATION_MS = 500;

/** White noise at `dbfs` RMS (relative to a full-scale square wave), as the fixtures' peak amplitude. */
function noise(ms: number, dbfs: number, seed: number): Int16Array {
  return whiteNoise(ms, 32768 * 10 ** (dbfs / 20) * Math.sqrt(3), seed);
}

async function phoneSession(koe: RunningKoe): Promise<EngineClient> {
  const client = await EngineClient.connect(koe.realtimeUrl);
  await client.configure({
    type: 'realtime',
    audio: {
      input: {
        format: GA_FORMAT.g711_ulaw,
        turn_detection: { type: 'server_vad', prefix_padding_ms: PREFIX_PADDING_MS, silence_duration_ms: SILENCE_DURATION_MS, create_response: false },
      },
      output: { format: GA_FORMAT.g711_ulaw },
    },
  });
  return client;
}

describe('engine: server VAD in a session', () => {
  let koe: RunningKoe;
  before(async () => {
    koe = await startKoe();
  });
  after(async () => {
    await koe.close();
    removeScratch();
  });

  test('a sentence with pauses inside is one turn, placed where the speech is', async () => {
    const client = await phoneSession(koe);
    try {
      const speech = concat(silence(1000), flite('Hello, I would like to know, when are you open, please?', 'awb'), silence(1500));
      const span = activeSpanMs(speech);
      assert.ok(span);
      const from = client.mark;
      sendSpeech(client, speech, 'g711_ulaw');
      const committed = await client.waitFor('input_audio_buffer.committed', { from });
      await client.sync();
      const started = client.all('input_audio_buffer.speech_started', from);
      const stopped = client.all('input_audio_buffer.speech_stopped', from);
      assert.equal(started.length, 1, 'one speech_started');
      assert.equal(stopped.length, 1, 'one speech_stopped');
      assert.equal(client.all('input_audio_buffer.committed', from).length, 1, 'one commit');
      assert.equal(started[0]?.item_id, committed.item_id);
      assert.equal(client.all('response.created', from).length, 0, 'create_response: false');
      // audio_start_ms includes the prefix padding; audio_end_ms includes the silence duration.
      const startMs = started[0]?.audio_start_ms as number;
      const endMs = stopped[0]?.audio_end_ms as number;
      console.log(`# speech ${span.startMs.toFixed(0)}–${span.endMs.toFixed(0)} ms; audio_start_ms ${startMs}, audio_end_ms ${endMs}`);
      assert.ok(Math.abs(startMs - (span.startMs - PREFIX_PADDING_MS)) < 200, `audio_start_ms ${startMs} near ${span.startMs} − ${PREFIX_PADDING_MS}`);
      assert.ok(Math.abs(endMs - (span.endMs + SILENCE_DURATION_MS)) < 250, `audio_end_ms ${endMs} near ${span.endMs} + ${SILENCE_DURATION_MS}`);
      assert.deepEqual(client.invalid, []);
    } finally {
      await client.close();
    }
  });

  test('silence, low noise and DTMF key presses give no speech_started; speech afterwards still does', async () => {
    const client = await phoneSession(koe);
    try {
      const quiet = async (what: string, mulaw: Buffer): Promise<void> => {
        const from = client.mark;
        client.appendAudio(mulaw, 8);
        await client.sync();
        const heard = client.events.slice(from).filter((e) => e.type.startsWith('input_audio_buffer.') || e.type === 'response.created');
        assert.deepEqual(heard.map((e) => e.type), [], `${what}: no turn`);
      };
      await quiet('3 s of digital silence', encodeForWire(silence(3000), 'g711_ulaw'));
      await quiet('4 s of white noise at −40 dBFS', encodeForWire(noise(4000, -40, 7), 'g711_ulaw'));
      await quiet('4 s of white noise at −30 dBFS', encodeForWire(noise(4000, -30, 11), 'g711_ulaw'));
      await quiet('DTMF, 100 ms per key', Buffer.from(generateDtmfMulaw('123456789*0#', { toneMs: 100, gapMs: 100 })));
      await quiet('DTMF, 250 ms per key', Buffer.from(generateDtmfMulaw('5550123', { toneMs: 250, gapMs: 150 })));
      await quiet('DTMF, held 1 s', Buffer.from(generateDtmfMulaw('0', { toneMs: 1000, gapMs: 500 })));

      // The same session's VAD was listening all along.
      const from = client.mark;
      sendSpeech(client, concat(silence(300), flite('When are you open?', 'kal16'), silence(1200)), 'g711_ulaw');
      await client.waitFor('input_audio_buffer.committed', { from });
      await client.sync();
      assert.equal(client.all('input_audio_buffer.speech_started', from).length, 1);
      assert.deepEqual(client.invalid, []);
    } finally {
      await client.close();
    }
  });
});
