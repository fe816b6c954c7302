// The HTTP recognizer against a local server that reads its multipart request the way OpenAI's
// `POST /v1/audio/transcriptions` does and answers in the shapes real servers use.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { StageError } from '../../../../src/engine/stage.js';
import { HttpTranscriptionRecognizer, type HttpTranscriptionRecognizerOptions } from '../../../../src/engine/stt/http-transcription-recognizer.js';
import type { RecognitionEvent } from '../../../../src/engine/stt/recognizer.js';
import { answerError, answerJson, FakeSpeechServer, field, readWav, tone, within } from './fake-speech-server.js';

function isStageError(code: StageError['code'], retryable: boolean, message?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof StageError, `expected a StageError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.retryable, retryable, error.message);
    if (message) assert.match(error.message, message);
    return true;
  };
}

describe('HTTP transcription recognizer (OpenAI-compatible /audio/transcriptions)', () => {
  let server: FakeSpeechServer;
  const recognizers: HttpTranscriptionRecognizer[] = [];
  const recognizer = (options: Partial<HttpTranscriptionRecognizerOptions> = {}) => {
    const created = new HttpTranscriptionRecognizer({ baseUrl: server.baseUrl, ...options });
    recognizers.push(created);
    return created;
  };
  const utterance = tone(16_000, 1_200, 300);

  before(async () => {
    server = await FakeSpeechServer.start();
  });
  beforeEach(() => server.reset());
  after(async () => {
    await Promise.all(recognizers.map((r) => r.close()));
    await server.close();
  });

  test('sends a 16 kHz mono PCM16 WAV with model, language, prompt and response_format as multipart/form-data', async () => {
    server.next(({ res }) => answerJson(res, 200, { text: 'What are your opening hours?', usage: { type: 'duration', seconds: 2 } }));
    const stt = recognizer({ model: 'gpt-4o-mini-transcribe', apiKey: 'sk-test', language: 'en' });
    const transcript = await stt.transcribe(utterance, { prompt: 'Sakura Dental Clinic' });
    assert.equal(transcript.text, 'What are your opening hours?');
    assert.equal(transcript.audioMs, 1_200);
    assert.ok(transcript.decodeMs >= 0);

    const [request] = server.received;
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/v1/audio/transcriptions');
    assert.equal(request.headers.authorization, 'Bearer sk-test');
    assert.match(String(request.headers['content-type']), /^multipart\/form-data; boundary=/);
    const parts = request.parts();
    const file = parts.find((p) => p.name === 'file');
    assert.ok(file, 'a "file" part');
    assert.equal(file.filename, 'audio.wav', 'services pick the decoder by the file extension');
    assert.equal(file.contentType, 'audio/wav');
    const wav = readWav(file.data);
    assert.deepEqual(
      { formatTag: wav.formatTag, channels: wav.channels, sampleRateHz: wav.sampleRateHz, byteRate: wav.byteRate, blockAlign: wav.blockAlign, bitsPerSample: wav.bitsPerSample },
      { formatTag: 1, channels: 1, sampleRateHz: 16_000, byteRate: 32_000, blockAlign: 2, bitsPerSample: 16 },
    );
    assert.deepEqual(wav.samples, utterance, 'the samples are the utterance, unchanged');
    assert.equal(field(parts, 'model'), 'gpt-4o-mini-transcribe');
    assert.equal(field(parts, 'language'), 'en');
    assert.equal(field(parts, 'prompt'), 'Sakura Dental Clinic');
    assert.equal(field(parts, 'response_format'), 'json');
  });

  test('language: the utterance’s own (en-US becomes en), else the configured one, else none at all; model defaults to whisper-1', async () => {
    server.always(({ res }) => answerJson(res, 200, { text: 'ok' }));
    await recognizer({ language: 'ja' }).transcribe(utterance, { language: 'en-US' });
    await recognizer({ language: 'JA' }).transcribe(utterance);
    await recognizer().transcribe(utterance);
    const [first, second, third] = server.received.map((r) => r.parts());
    assert.equal(field(first ?? [], 'language'), 'en');
    assert.equal(field(second ?? [], 'language'), 'ja');
    assert.equal(field(third ?? [], 'language'), undefined);
    assert.equal(field(third ?? [], 'prompt'), undefined);
    assert.equal(field(third ?? [], 'model'), 'whisper-1');
    assert.equal(server.received[2]?.headers.authorization, undefined, 'no key, no header');
  });

  test('reads every answer shape: json, verbose_json segments, plain text, whisper.cpp text/html; drops [BLANK_AUDIO]', async () => {
    server.next(
      ({ res }) => answerJson(res, 200, { text: ' Hello there. ' }),
      ({ res }) => answerJson(res, 200, { task: 'transcribe', language: 'english', segments: [{ id: 0, text: ' Book me' }, { id: 1, text: ' for Monday.' }] }),
      ({ res }) => void res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('Plain words\n'),
      ({ res }) => void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(' [BLANK_AUDIO]\n'),
      ({ res }) => answerJson(res, 200, { segments: [], text: '[Music] Yes please. (silence)' }),
    );
    const stt = recognizer();
    const texts: string[] = [];
    for (let i = 0; i < 5; i++) texts.push((await stt.transcribe(utterance)).text);
    assert.deepEqual(texts, ['Hello there.', 'Book me for Monday.', 'Plain words', '', 'Yes please.']);
  });

  test('an empty utterance sends nothing; one shorter than 0.1 s is padded with silence to 0.1 s', async () => {
    server.always(({ res }) => answerJson(res, 200, { text: 'uh' }));
    const stt = recognizer();
    assert.deepEqual(await stt.transcribe(new Int16Array(0)), { text: '', audioMs: 0, decodeMs: 0 });
    assert.equal(server.received.length, 0);
    const short = tone(16_000, 40, 300);
    const transcript = await stt.transcribe(short);
    assert.equal(transcript.audioMs, 40);
    const wav = readWav(server.received[0]?.parts().find((p) => p.name === 'file')?.data ?? Buffer.alloc(0));
    assert.equal(wav.samples.length, 1_600);
    assert.deepEqual(wav.samples.subarray(0, short.length), short);
    assert.ok(wav.samples.subarray(short.length).every((s) => s === 0));
  });

  test('failures become clear StageErrors: 401, 404, 400, 429 (quota or rate), 500, 503, whisper.cpp’s 200 with an error', async () => {
    server.next(
      ({ res }) => answerError(res, 401, 'Incorrect API key provided: sk-bad.', 'invalid_api_key'),
      ({ res }) => answerJson(res, 404, { detail: "Model 'whisper-9' is not installed locally." }),
      ({ res }) => answerError(res, 400, 'Audio file is too short. Minimum audio length is 0.1 seconds.', 'audio_too_short'),
      ({ res }) => answerError(res, 429, 'You exceeded your current quota.', 'insufficient_quota'),
      ({ res }) => answerError(res, 429, 'Rate limit reached for whisper-1.', 'rate_limit_exceeded', { 'retry-after': '2' }),
      ({ res }) => answerError(res, 500, 'The server had an error while processing your request.'),
      ({ res }) => void res.writeHead(503, { 'content-type': 'text/plain' }).end('upstream connect error'),
      ({ res }) => answerJson(res, 200, { error: 'failed to read WAV file' }),
    );
    const stt = recognizer({ apiKey: 'sk-bad' });
    await assert.rejects(stt.transcribe(utterance), isStageError('unavailable', false, /HTTP 401: Incorrect API key.*STT_API_KEY/));
    await assert.rejects(stt.transcribe(utterance), isStageError('unavailable', false, /HTTP 404: Model 'whisper-9' is not installed.*API root/));
    await assert.rejects(stt.transcribe(utterance), isStageError('bad_input', false, /too short/));
    await assert.rejects(stt.transcribe(utterance), isStageError('unavailable', false, /quota/));
    await assert.rejects(stt.transcribe(utterance), isStageError('unavailable', true, /rate limiting.*retry after 2 s/));
    await assert.rejects(stt.transcribe(utterance), isStageError('internal', true, /HTTP 500/));
    await assert.rejects(stt.transcribe(utterance), isStageError('unavailable', true, /HTTP 503: upstream connect error/));
    await assert.rejects(stt.transcribe(utterance), isStageError('internal', false, /failed to read WAV file/));
  });

  test('a server that never answers times out (retryable); the request is cancelled', async () => {
    server.next(() => undefined);
    const stt = recognizer({ timeoutMs: 150 });
    await assert.rejects(stt.transcribe(utterance), isStageError('unavailable', true, /did not answer within 150 ms/));
    await within(server.received[0]?.clientGone ?? Promise.reject(new Error('no request')), 2_000, 'the timed-out request is closed');
  });

  test('an unreachable server is a retryable "cannot reach", naming the endpoint and never the key', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const stt = recognizer({ baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: 'sk-secret' });
    await assert.rejects(stt.transcribe(utterance), (error: unknown) => {
      assert.ok(isStageError('unavailable', true, new RegExp(`cannot reach http://127.0.0.1:${port}/v1/audio/transcriptions \\(ECONNREFUSED\\)`))(error));
      assert.doesNotMatch((error as Error).message, /sk-secret/);
      return true;
    });
  });

  test('a connection dropped before any answer (a stale keep-alive socket) is retried once, then reported', async () => {
    server.next(({ res }) => void res.socket?.destroy(), ({ res }) => answerJson(res, 200, { text: 'second try' }));
    const stt = recognizer();
    assert.equal((await stt.transcribe(utterance)).text, 'second try');
    assert.equal(server.received.length, 2);

    server.reset();
    server.always(({ res }) => void res.socket?.destroy());
    await assert.rejects(stt.transcribe(utterance), isStageError('unavailable', true, /cannot reach .*\/v1\/audio\/transcriptions/));
    assert.equal(server.received.length, 2, 'one retry, not more');
  });

  test('the caller’s AbortSignal cancels the request at once; close() cancels what is in flight', async () => {
    server.always(() => undefined);
    const stt = recognizer();
    const controller = new AbortController();
    const pending = stt.transcribe(utterance, { signal: controller.signal });
    const [request] = await server.requests(1);
    controller.abort();
    await assert.rejects(pending, isStageError('aborted', false));
    await within(request?.clientGone ?? Promise.reject(new Error('no request')), 2_000, 'the aborted request is closed');

    const inFlight = stt.transcribe(utterance);
    await server.requests(2);
    await stt.close();
    await assert.rejects(inFlight, isStageError('closed', false));
    await assert.rejects(stt.transcribe(utterance), isStageError('closed', false));
  });

  test('stream(): one event per flush, in order, with the stream’s language and prompt', async () => {
    let answered = 0;
    server.always(({ res, parts }) => answerJson(res, 200, { text: `${field(parts(), 'language')}:${field(parts(), 'prompt')}:${answered++}` }));
    const stream = recognizer().stream({ language: 'de', prompt: 'Zahnarzt' });
    stream.push(utterance.subarray(0, 8_000));
    stream.push(utterance.subarray(8_000));
    stream.flush();
    stream.push(utterance);
    stream.flush({ language: 'fr' });
    stream.end();
    const events: RecognitionEvent[] = [];
    for await (const event of stream) events.push(event);
    assert.deepEqual(
      events.map((e) => (e.type === 'transcript' ? [e.utteranceIndex, e.text, e.audioMs] : [e.utteranceIndex, e.error.code])),
      [
        [0, 'de:Zahnarzt:0', 1_200],
        [1, 'fr:Zahnarzt:1', 1_200],
      ],
    );
  });

  test('stream(): a failed utterance is an event and the stream goes on', async () => {
    server.next(
      ({ res }) => answerError(res, 500, 'boom'),
      ({ res }) => answerJson(res, 200, { text: 'second' }),
    );
    const stream = recognizer().stream();
    stream.push(utterance);
    stream.flush();
    stream.push(utterance);
    stream.end();
    const events: RecognitionEvent[] = [];
    for await (const event of stream) events.push(event);
    assert.equal(events[0]?.type, 'failed');
    assert.deepEqual(events[1] && events[1].type === 'transcript' ? events[1].text : undefined, 'second');
  });

  test('base URL: a trailing slash, a pasted full endpoint and user:password@ all reach the same endpoint', async () => {
    server.always(({ res }) => answerJson(res, 200, { text: 'ok' }));
    await recognizer({ baseUrl: `${server.baseUrl}/` }).transcribe(utterance);
    await recognizer({ baseUrl: `${server.baseUrl}/audio/transcriptions` }).transcribe(utterance);
    await recognizer({ baseUrl: `http://user:p%40ss@127.0.0.1:${server.port}/v1` }).transcribe(utterance);
    assert.deepEqual(
      server.received.map((r) => r.path),
      ['/v1/audio/transcriptions', '/v1/audio/transcriptions', '/v1/audio/transcriptions'],
    );
    assert.equal(server.received[2]?.headers.authorization, `Basic ${Buffer.from('user:p@ss').toString('base64')}`);
    assert.throws(() => recognizer({ baseUrl: 'ftp://example.com' }), /http\(s\)/);
    assert.throws(() => recognizer({ baseUrl: 'not a url' }), /not a URL/);
  });
});
