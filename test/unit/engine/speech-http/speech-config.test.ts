// STT_* and TTS_* configuration: validation, defaults, and what the engine is built with.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../../../src/config/index.js';
import { createRecognizer, createSynthesizer, speechStageOptions, voiceMapper } from '../../../../src/engine/speech-stages.js';
import { HttpTranscriptionRecognizer } from '../../../../src/engine/stt/http-transcription-recognizer.js';
import { HttpSpeechSynthesizer } from '../../../../src/engine/tts/http-speech-synthesizer.js';
import { embeddedVoiceFor, passThroughVoiceFor } from '../../../../src/engine/voices.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('speech service configuration', () => {
  test('without base URLs the engine keeps its embedded speech', () => {
    const config = loadConfig({});
    assert.deepEqual(config.stt, { kind: 'embedded' });
    assert.deepEqual(config.tts, { kind: 'embedded' });
    const options = speechStageOptions(config);
    assert.equal(options.sttHttp, undefined);
    assert.equal(options.ttsHttp, undefined);
    assert.equal(voiceMapper(options), embeddedVoiceFor);
  });

  test('defaults with base URLs: whisper-1, tts-1, pcm at 24 kHz, 15 s timeouts, no voice override; frozen', () => {
    const config = loadConfig({ STT_BASE_URL: 'http://127.0.0.1:8000/v1', TTS_BASE_URL: 'http://127.0.0.1:8880/v1' });
    assert.deepEqual(config.stt, { kind: 'http', baseUrl: 'http://127.0.0.1:8000/v1', model: 'whisper-1', apiKey: undefined, language: undefined, timeoutMs: 15_000 });
    assert.deepEqual(config.tts, {
      kind: 'http',
      baseUrl: 'http://127.0.0.1:8880/v1',
      model: 'tts-1',
      apiKey: undefined,
      voice: undefined,
      format: 'pcm',
      sampleRateHz: 24_000,
      timeoutMs: 15_000,
    });
    assert.ok(Object.isFrozen(config.stt) && Object.isFrozen(config.tts));
  });

  test('every setting is read, and becomes the engine’s options', () => {
    const config = loadConfig({
      STT_BASE_URL: 'https://stt.example.com/v1',
      STT_MODEL: 'Systran/faster-whisper-small',
      STT_API_KEY: 'stt-key',
      STT_LANGUAGE: 'JA',
      STT_TIMEOUT_MS: '8000',
      TTS_BASE_URL: 'https://tts.example.com/v1',
      TTS_MODEL: 'speaches-ai/Kokoro-82M-v1.0-ONNX',
      TTS_API_KEY: 'tts-key',
      TTS_VOICE: 'af_heart',
      TTS_FORMAT: 'WAV',
      TTS_SAMPLE_RATE_HZ: '16000',
      TTS_TIMEOUT_MS: '9000',
      ENGINE_TTS_WORKERS: '3',
    });
    assert.deepEqual(speechStageOptions(config), {
      ttsWorkers: 3,
      sttHttp: { baseUrl: 'https://stt.example.com/v1', model: 'Systran/faster-whisper-small', timeoutMs: 8_000, apiKey: 'stt-key', language: 'ja' },
      ttsHttp: { baseUrl: 'https://tts.example.com/v1', model: 'speaches-ai/Kokoro-82M-v1.0-ONNX', format: 'wav', sampleRateHz: 16_000, timeoutMs: 9_000, apiKey: 'tts-key', voice: 'af_heart' },
    });
  });

  test('OPENAI_API_KEY is never used as a speech key (it would also move calls to OpenAI’s Realtime service)', () => {
    const config = loadConfig({ OPENAI_API_KEY: 'sk-o', REALTIME_URL: 'ws://127.0.0.1:5050/v1/realtime', STT_BASE_URL: 'http://127.0.0.1:8000/v1', STT_API_KEY: 'sk-s' });
    assert.equal(config.stt.kind === 'http' && config.stt.apiKey, 'sk-s');
    assert.deepEqual(problems({ OPENAI_API_KEY: 'sk-o', STT_BASE_URL: 'https://api.openai.com/v1' }), ['STT_API_KEY: required for api.openai.com']);
  });

  test('bad values are reported by name, all at once', () => {
    const found = problems({
      STT_BASE_URL: 'ftp://x',
      STT_LANGUAGE: 'english',
      STT_TIMEOUT_MS: '10',
      TTS_BASE_URL: 'http://127.0.0.1:8880/v1',
      TTS_FORMAT: 'mp3',
      TTS_SAMPLE_RATE_HZ: '96000',
    });
    for (const name of ['STT_BASE_URL', 'STT_LANGUAGE', 'STT_TIMEOUT_MS', 'TTS_FORMAT', 'TTS_SAMPLE_RATE_HZ']) {
      assert.ok(found.some((p) => p.startsWith(`${name}:`)), `${name} in ${JSON.stringify(found)}`);
    }
    assert.ok(found.some((p) => /TTS_FORMAT: must be pcm or wav/.test(p)));
    assert.ok(found.some((p) => /STT_LANGUAGE: must be an ISO-639-1 language code/.test(p)));
  });

  test('settings without their base URL, and OpenAI without a key, are mistakes worth a clear error', () => {
    assert.deepEqual(problems({ STT_MODEL: 'whisper-1', TTS_VOICE: 'nova' }), [
      'STT_MODEL: only used with STT_BASE_URL (the OpenAI-compatible API root, e.g. https://api.openai.com/v1); set it or remove STT_MODEL',
      'TTS_VOICE: only used with TTS_BASE_URL (the OpenAI-compatible API root, e.g. https://api.openai.com/v1); set it or remove TTS_VOICE',
    ]);
    assert.deepEqual(problems({ STT_BASE_URL: 'https://api.openai.com/v1', TTS_BASE_URL: 'https://api.openai.com/v1', TTS_SAMPLE_RATE_HZ: '16000' }), [
      'STT_API_KEY: required for api.openai.com',
      'TTS_API_KEY: required for api.openai.com',
      "TTS_SAMPLE_RATE_HZ: OpenAI's pcm is 24000 Hz; leave it unset, or use TTS_FORMAT=wav to convert",
    ]);
    assert.deepEqual(problems({ STT_MODEL: '', TTS_VOICE: ' ' }), [], 'empty counts as unset');
  });

  test('voices: passed through to a speech service (unless TTS_VOICE), mapped to Flite for the embedded one', () => {
    const passThrough = voiceMapper(speechStageOptions(loadConfig({ TTS_BASE_URL: 'http://127.0.0.1:8880/v1' })));
    assert.equal(passThrough('verse'), 'verse');
    assert.equal(passThrough({ id: 'voice_1234' }), 'voice_1234');
    const overridden = voiceMapper(speechStageOptions(loadConfig({ TTS_BASE_URL: 'http://127.0.0.1:8880/v1', TTS_VOICE: 'af_heart' })));
    assert.equal(overridden('alloy'), 'af_heart');
    assert.equal(passThroughVoiceFor()('marin'), 'marin');
    assert.equal(embeddedVoiceFor('ash'), 'rms');
  });

  test('the HTTP stages are built from configuration without loading pocketsphinx (koffi stays unloaded)', async () => {
    const koffiLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => /[\\/]koffi[\\/]/.test(path));
    assert.equal(koffiLoaded(), false);
    const options = speechStageOptions(loadConfig({ STT_BASE_URL: 'http://127.0.0.1:9/v1', TTS_BASE_URL: 'http://127.0.0.1:9/v1', TTS_FORMAT: 'wav', TTS_SAMPLE_RATE_HZ: '16000' }));
    const recognizer = await createRecognizer(options);
    const synthesizer = await createSynthesizer(options);
    try {
      assert.ok(recognizer instanceof HttpTranscriptionRecognizer);
      assert.ok(synthesizer instanceof HttpSpeechSynthesizer);
      assert.equal(recognizer.sampleRateHz, 16_000);
      assert.equal(synthesizer.sampleRateHz, 16_000);
      assert.equal(synthesizer.format, 'wav');
      assert.equal(koffiLoaded(), false, 'pocketsphinx’s binding was not imported');
    } finally {
      await recognizer.close();
      await synthesizer.close();
    }
  });
});
