// Koe's engine configured with OpenAI-compatible speech services (STT_BASE_URL, TTS_BASE_URL) pointing at
// local fakes: a spoken turn over /v1/realtime goes through Silero VAD → the transcription service → the
// embedded dialogue → the speech service → μ-law deltas, and pocketsphinx is never loaded.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { mulawToPcm16, pcm16ToMulaw, resamplePcm16 } from '../../../../src/audio/index.js';
import { AgentRegistry, defineAgent } from '../../../../src/agents/index.js';
import { loadConfig } from '../../../../src/config/index.js';
import { FliteSynthesizer } from '../../../../src/engine/tts/flite-synthesizer.js';
import { createLogger } from '../../../../src/log/logger.js';
import type { RealtimeServerEvent } from '../../../../src/realtime/index.js';
import { RealtimeConnection } from '../../../../src/realtime/index.js';
import type { KoeServer } from '../../../../src/server/app.js';
import { buildServer } from '../../../../src/server/app.js';
import { answerAudio, answerError, answerJson, bytesOf, FakeSpeechServer, field, readWav, tone, toneFrequencyHz, type SpeechExchange } from './fake-speech-server.js';

const INSTRUCTIONS = 'You are the friendly receptionist of Sakura Dental Clinic, answering the phone. Opening hours: Monday to Friday, 9 am to 6 pm.';
const HEARD = 'What are your opening hours?';
/** The fake speech service speaks 100 ms of a 440 Hz tone per word. */
const msFor = (input: string): number => input.split(/\s+/).length * 100;

describe('engine with HTTP speech services: a spoken turn over /v1/realtime', () => {
  let stt: FakeSpeechServer;
  let tts: FakeSpeechServer;
  let koe: KoeServer;
  let url = '';
  let speech16k: Int16Array;

  before(async () => {
    [stt, tts] = await Promise.all([FakeSpeechServer.start(), FakeSpeechServer.start()]);
    // The caller's words, spoken by Flite (the npm package; no Debian speech packages needed).
    const flite = await FliteSynthesizer.create({ voice: 'awb' });
    try {
      const words = await flite.synthesize(HEARD);
      speech16k = new Int16Array(words.length + 16_000 * 1.5);
      speech16k.set(words, 16_000 * 0.3);
    } finally {
      await flite.close();
    }
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.KOE_TEST_LOG ?? 'silent',
      STT_BASE_URL: stt.baseUrl,
      STT_API_KEY: 'stt-key',
      TTS_BASE_URL: tts.baseUrl,
      TTS_API_KEY: 'tts-key',
    });
    const log = createLogger({ level: config.logLevel });
    koe = await buildServer({ config, log, agents: new AgentRegistry([defineAgent({ id: 'a', name: 'A', instructions: 'x' })]) });
    await koe.app.listen({ port: 0, host: '127.0.0.1' });
    const address = koe.app.server.address();
    url = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1/realtime`;
  });
  after(async () => {
    await koe.app.close();
    await Promise.all([stt.close(), tts.close()]);
  });

  test('μ-law in, transcript from the STT service, a reply spoken by the TTS service, μ-law out', async () => {
    stt.always(({ res }) => answerJson(res, 200, { text: HEARD }));
    tts.always(({ res, json }: SpeechExchange) => answerAudio(res, bytesOf(tone(24_000, msFor(String(json().input)))), 'audio/pcm'));

    const connection = await RealtimeConnection.connect({ url, shape: 'ga', model: 'koe', connectTimeoutMs: 10_000 });
    const events: RealtimeServerEvent[] = [];
    connection.on('event', (e) => events.push(e));
    /** The first event of `type` at or after position `from` in the log. */
    const waitFor = (type: string, from = 0, timeoutMs = 20_000) =>
      new Promise<RealtimeServerEvent>((resolve, reject) => {
        const found = events.slice(from).find((e) => e.type === type);
        if (found) return resolve(found);
        const timer = setTimeout(() => reject(new Error(`no ${type} in ${timeoutMs} ms; saw ${events.map((e) => e.type).join(', ')}`)), timeoutMs);
        connection.on('event', function listener(e) {
          if (e.type !== type) return;
          clearTimeout(timer);
          connection.off('event', listener);
          resolve(e);
        });
      });
    try {
      await waitFor('session.created');
      connection.send({
        type: 'session.update',
        session: {
          type: 'realtime',
          instructions: INSTRUCTIONS,
          audio: {
            input: {
              format: { type: 'audio/pcmu' },
              transcription: { model: 'whisper-1', language: 'en', prompt: 'Sakura Dental Clinic' },
              turn_detection: { type: 'server_vad', silence_duration_ms: 600 },
            },
            output: { format: { type: 'audio/pcmu' }, voice: 'verse' },
          },
        },
      });
      await waitFor('session.updated');
      const phone = pcm16ToMulaw(resamplePcm16(speech16k, 16_000, 8_000));
      for (let offset = 0; offset < phone.length; offset += 160) {
        connection.send({ type: 'input_audio_buffer.append', audio: Buffer.from(phone.subarray(offset, offset + 160)).toString('base64') });
      }

      const transcript = (await waitFor('conversation.item.input_audio_transcription.completed')) as { transcript: string };
      assert.equal(transcript.transcript, HEARD);
      const [sttRequest] = stt.received;
      assert.ok(sttRequest);
      assert.equal(sttRequest.path, '/v1/audio/transcriptions');
      assert.equal(sttRequest.headers.authorization, 'Bearer stt-key');
      const parts = sttRequest.parts();
      assert.equal(field(parts, 'model'), 'whisper-1', 'STT_MODEL, not the session’s transcription model');
      assert.equal(field(parts, 'language'), 'en');
      assert.equal(field(parts, 'prompt'), 'Sakura Dental Clinic');
      const wav = readWav(parts.find((p) => p.name === 'file')?.data ?? Buffer.alloc(0));
      assert.equal(wav.sampleRateHz, 16_000);
      assert.equal(wav.channels, 1);
      const speechMs = (wav.samples.length * 1000) / 16_000;
      assert.ok(speechMs > 800 && speechMs < 4_000, `the committed turn holds the speech: ${speechMs} ms`);
      assert.ok(wav.samples.some((s) => Math.abs(s) > 1_000), 'the uploaded audio is not silence');

      const done = (await waitFor('response.done', 0, 30_000)) as unknown as { response: { status: string; output: Array<{ content?: Array<{ transcript?: string }> }> } };
      assert.equal(done.response.status, 'completed');
      const said = done.response.output[0]?.content?.[0]?.transcript ?? '';
      assert.match(said, /9|nine|monday|friday/i, `the reply answers with the opening hours: "${said}"`);

      const inputs = tts.received.map((r) => r.json());
      assert.ok(inputs.length >= 1);
      for (const [i, body] of inputs.entries()) {
        assert.deepEqual(Object.keys(body).sort(), ['input', 'model', 'response_format', 'voice']);
        assert.equal(body.model, 'tts-1');
        assert.equal(body.voice, 'verse', 'the session’s voice is passed through');
        assert.equal(body.response_format, 'pcm');
        assert.equal(tts.received[i]?.headers.authorization, 'Bearer tts-key');
      }
      assert.equal(
        said,
        inputs
          .map((b) => String(b.input))
          .sort((a, b) => said.indexOf(a) - said.indexOf(b))
          .join(' '),
        'the transcript is the sentences the speech service spoke',
      );

      const audio = Buffer.concat(events.filter((e) => e.type === 'response.output_audio.delta').map((e) => Buffer.from((e as { delta: string }).delta, 'base64')));
      const expectedMs = inputs.reduce((ms, b) => ms + msFor(String(b.input)), 0);
      const gotMs = audio.length / 8;
      assert.ok(Math.abs(gotMs - expectedMs) <= 5, `μ-law at 8 kHz: ${gotMs} ms for ${expectedMs} ms of speech`);
      const pcm = mulawToPcm16(audio);
      const hz = toneFrequencyHz(pcm.subarray(80, Math.min(pcm.length, 80 + 8 * (msFor(String(inputs[0]?.input)) - 20))), 8_000);
      assert.ok(Math.abs(hz - 440) < 10, `the speech service's audio, resampled 24 → 8 kHz: ${hz} Hz`);

      // A speech service refusing every sentence fails the reply instead of leaving the caller in silence.
      tts.always(({ res }) => answerError(res, 401, 'Incorrect API key provided.', 'invalid_api_key'));
      const from = events.length;
      connection.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: HEARD }] } });
      connection.send({ type: 'response.create' });
      const failed = (await waitFor('response.done', from)) as unknown as { response: { status: string; status_details: { error?: { code?: string } } } };
      assert.equal(failed.response.status, 'failed');
      assert.equal(failed.response.status_details.error?.code, 'unavailable');

      const koffiLoaded = Object.keys(createRequire(import.meta.url).cache).some((path) => /[\\/]koffi[\\/]/.test(path));
      assert.equal(koffiLoaded, false, 'pocketsphinx was never loaded');
    } finally {
      connection.close();
    }
  });
});
