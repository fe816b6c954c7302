// The HTTP synthesizer against a local server that takes OpenAI's `POST /v1/audio/speech` JSON body and
// answers with real audio: raw 24 kHz PCM16 (OpenAI's `pcm`), or WAV files the way other servers write them.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { StageError } from '../../../../src/engine/stage.js';
import { HttpSpeechSynthesizer, type HttpSpeechSynthesizerOptions } from '../../../../src/engine/tts/http-speech-synthesizer.js';
import type { SpeechChunk, SynthesisEvent, SynthesisStream } from '../../../../src/engine/tts/synthesizer.js';
import { answerAudio, answerError, bytesOf, FakeSpeechServer, tone, toneFrequencyHz, wavFile, within, type SpeechExchange } from './fake-speech-server.js';

async function collect(stream: SynthesisStream): Promise<SynthesisEvent[]> {
  const events: SynthesisEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

function audioOf(events: SynthesisEvent[], sentenceIndex?: number): Int16Array {
  const chunks = events.filter((e): e is SpeechChunk => e.type === 'audio' && (sentenceIndex === undefined || e.sentenceIndex === sentenceIndex));
  const out = new Int16Array(chunks.reduce((n, c) => n + c.audio.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk.audio, offset);
    offset += chunk.audio.length;
  }
  return out;
}

/** The length of the tone the fake server speaks for a sentence: 100 ms per word. */
const msFor = (input: string): number => input.split(/\s+/).length * 100;

describe('HTTP speech synthesizer (OpenAI-compatible /audio/speech)', () => {
  let server: FakeSpeechServer;
  const synthesizers: HttpSpeechSynthesizer[] = [];
  const synthesizer = (options: Partial<HttpSpeechSynthesizerOptions> = {}) => {
    const created = new HttpSpeechSynthesizer({ baseUrl: server.baseUrl, ...options });
    synthesizers.push(created);
    return created;
  };
  /** OpenAI's `pcm`: raw 24 kHz 16-bit little-endian mono. */
  const speakPcm = async ({ res, json }: SpeechExchange): Promise<void> => answerAudio(res, bytesOf(tone(24_000, msFor(String(json().input)))));

  before(async () => {
    server = await FakeSpeechServer.start();
  });
  beforeEach(() => server.reset());
  after(async () => {
    await Promise.all(synthesizers.map((s) => s.close()));
    await server.close();
  });

  test('one request per sentence with OpenAI’s JSON body; chunks placed on the reply’s timeline', async () => {
    server.always(speakPcm);
    const tts = synthesizer({ model: 'gpt-4o-mini-tts', apiKey: 'sk-tts' });
    assert.equal(tts.sampleRateHz, 24_000);
    const stream = tts.stream({ voice: 'coral', chunkMs: 100 });
    stream.push('Hello there, friend. How can I ');
    stream.push('help you today?');
    stream.end();
    const events = await collect(stream);

    assert.equal(server.received.length, 2);
    for (const request of server.received) {
      assert.equal(request.method, 'POST');
      assert.equal(request.path, '/v1/audio/speech');
      assert.equal(request.headers['content-type'], 'application/json');
      assert.equal(request.headers.authorization, 'Bearer sk-tts');
    }
    // Both requests are in flight at once, so they may arrive in either order.
    assert.deepEqual(
      server.received.map((r) => r.json()).sort((a, b) => String(a.input).localeCompare(String(b.input))),
      [
        { model: 'gpt-4o-mini-tts', input: 'Hello there, friend.', voice: 'coral', response_format: 'pcm' },
        { model: 'gpt-4o-mini-tts', input: 'How can I help you today?', voice: 'coral', response_format: 'pcm' },
      ],
    );

    const chunks = events as SpeechChunk[];
    assert.ok(chunks.every((e) => e.type === 'audio'));
    // 300 ms and 600 ms of audio at 24 kHz in 100 ms chunks (2 400 samples).
    assert.deepEqual(
      chunks.map((c) => [c.sentenceIndex, c.sentenceStartMs, c.sentenceDurationMs, c.chunkStartMs, c.audio.length, c.lastInSentence]),
      [
        [0, 0, 300, 0, 2_400, false],
        [0, 0, 300, 100, 2_400, false],
        [0, 0, 300, 200, 2_400, true],
        [1, 300, 600, 300, 2_400, false],
        [1, 300, 600, 400, 2_400, false],
        [1, 300, 600, 500, 2_400, false],
        [1, 300, 600, 600, 2_400, false],
        [1, 300, 600, 700, 2_400, false],
        [1, 300, 600, 800, 2_400, true],
      ],
    );
    assert.equal(chunks[0]?.sentenceText, 'Hello there, friend.');
    assert.deepEqual(audioOf(events, 0), tone(24_000, 300));
    assert.deepEqual(audioOf(events, 1), tone(24_000, 600));
  });

  test('the next sentences are requested while one is pending; answers out of order still come out in order', async () => {
    let releaseFirst!: () => void;
    const firstMayAnswer = new Promise<void>((resolve) => (releaseFirst = resolve));
    let inFlightWhenSecondAnswered = 0;
    server.always(async (exchange) => {
      const input = exchange.json().input;
      if (input === 'One two three.') {
        // The first sentence is answered only after the second.
        await firstMayAnswer;
      } else if (input === 'Four five.') {
        await server.requests(2);
        inFlightWhenSecondAnswered = server.received.length;
      }
      await speakPcm(exchange);
      if (input === 'Four five.') releaseFirst();
    });
    const stream = synthesizer({ concurrency: 2 }).stream({ chunkMs: 0 });
    stream.push('One two three. Four five. Six.');
    stream.end();
    const events = await within(collect(stream), 5_000, 'all three sentences');
    assert.equal(inFlightWhenSecondAnswered, 2, 'two requests in flight, the third waits for a free slot');
    assert.equal(server.received[2]?.json().input, 'Six.');
    assert.deepEqual(
      (events as SpeechChunk[]).map((c) => [c.type, c.sentenceIndex, c.sentenceStartMs, c.sentenceDurationMs, c.chunkStartMs]),
      [
        ['audio', 0, 0, 300, 0],
        ['audio', 1, 300, 200, 300],
        ['audio', 2, 500, 100, 500],
      ],
    );
  });

  test('wav: the header’s rate is read and converted (22 050 Hz from ffmpeg with streamed sizes → 24 kHz), stereo mixed down', async () => {
    const source = tone(22_050, 1_000, 440);
    server.next(
      ({ res }) => answerAudio(res, wavFile(source, 22_050, { streamedSizes: 0xffffffff, listChunk: true }), 'audio/wav'),
      ({ res }) => answerAudio(res, wavFile(source, 22_050, { streamedSizes: 0 }), 'audio/wav'),
      ({ res }) => answerAudio(res, wavFile(tone(24_000, 500), 24_000, { channels: 2 }), 'audio/wav'),
    );
    const tts = synthesizer({ format: 'wav' });
    assert.equal(tts.sampleRateHz, 24_000);
    const stream = tts.stream({ voice: 'af_heart' });
    stream.push('First one. Second one. Third one.');
    stream.end();
    const events = await collect(stream);
    assert.equal(server.received[0]?.json().response_format, 'wav');
    for (const index of [0, 1]) {
      const audio = audioOf(events, index);
      assert.ok(Math.abs(audio.length - 24_000) <= 24, `1 s at 24 kHz, got ${audio.length} samples`);
      const hz = toneFrequencyHz(audio.subarray(1_000, 23_000), 24_000);
      assert.ok(Math.abs(hz - 440) < 5, `the tone keeps its pitch: ${hz} Hz`);
    }
    assert.deepEqual(audioOf(events, 2), tone(24_000, 500), 'a 24 kHz stereo file of one signal is that signal');
    const timeline = (events as SpeechChunk[]).filter((c) => c.chunkStartMs === c.sentenceStartMs).map((c) => Math.round(c.sentenceStartMs));
    assert.deepEqual(timeline, [0, 1_000, 2_000]);
  });

  test('a server that answers a WAV file when pcm was asked (LocalAI) is understood; a rate can be configured', async () => {
    server.next(({ res }) => answerAudio(res, wavFile(tone(16_000, 500, 300), 16_000), 'audio/x-wav'));
    const events = await (async () => {
      const stream = synthesizer().stream();
      stream.push('Hi.');
      stream.end();
      return collect(stream);
    })();
    const audio = audioOf(events);
    assert.ok(Math.abs(audio.length - 12_000) <= 12, `0.5 s at 24 kHz, got ${audio.length}`);

    // A Piper voice served as raw pcm at its own rate.
    server.next(({ res }) => answerAudio(res, bytesOf(tone(22_050, 500, 300))));
    const piper = synthesizer({ sampleRateHz: 22_050 });
    const stream = piper.stream({ chunkMs: 0 });
    stream.push('Hi.');
    stream.end();
    const [chunk] = (await collect(stream)) as SpeechChunk[];
    assert.equal(chunk?.audio.length, 11_025);
    assert.equal(chunk?.sentenceDurationMs, 500);
  });

  test('an answer Koe cannot play (MP3 despite response_format, an HTML page) fails that sentence only', async () => {
    server.next(
      ({ res }) => answerAudio(res, Buffer.concat([Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00', 'latin1'), Buffer.alloc(400, 0xaa)]), 'audio/mpeg'),
      ({ res }) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Gateway login</body></html>'),
      speakPcm,
    );
    const stream = synthesizer({ concurrency: 1 }).stream({ chunkMs: 0 });
    stream.push('One. Two. Three.');
    stream.end();
    const events = await collect(stream);
    assert.equal(events.length, 3);
    const [mp3, html, ok] = events;
    assert.ok(mp3?.type === 'failed' && mp3.error.code === 'unavailable' && !mp3.error.retryable, String(mp3?.type));
    assert.match(mp3.error.message, /MP3.*response_format was pcm.*TTS_FORMAT/);
    assert.ok(html?.type === 'failed' && html.error.code === 'internal');
    assert.match(html.error.message, /text\/html instead of audio/);
    assert.ok(ok?.type === 'audio' && ok.sentenceIndex === 2 && ok.sentenceStartMs === 0, 'failed sentences take no time on the timeline');
  });

  test('401, 429, 500 and a timeout fail their sentences with clear, classified errors; the stream goes on', async () => {
    server.next(
      ({ res }) => answerError(res, 401, 'Incorrect API key provided.', 'invalid_api_key'),
      ({ res }) => answerError(res, 429, 'Rate limit reached for tts-1.', 'rate_limit_exceeded', { 'retry-after': '1' }),
      ({ res }) => answerError(res, 500, 'The server had an error while processing your request.'),
      () => undefined,
      speakPcm,
    );
    // One at a time, so the timeout is the fourth sentence's own.
    const stream = synthesizer({ timeoutMs: 600, concurrency: 1 }).stream({ chunkMs: 0 });
    stream.push('One. Two. Three. Four. Five.');
    stream.end();
    const events = await within(collect(stream), 5_000, 'the stream ends');
    assert.deepEqual(
      events.map((e) => (e.type === 'failed' ? [e.sentenceIndex, e.error.code, e.error.retryable] : [e.sentenceIndex, 'audio'])),
      [
        [0, 'unavailable', false],
        [1, 'unavailable', true],
        [2, 'internal', true],
        [3, 'unavailable', true],
        [4, 'audio'],
      ],
    );
    const messages = events.flatMap((e) => (e.type === 'failed' ? [e.error.message] : []));
    assert.match(messages[0] ?? '', /HTTP 401: Incorrect API key provided\.\).*TTS_API_KEY/);
    assert.match(messages[1] ?? '', /rate limiting.*retry after 1 s/);
    assert.match(messages[3] ?? '', /did not answer within 600 ms/);
    await within(server.received[3]?.clientGone ?? Promise.reject(new Error('no 4th request')), 2_000, 'the timed-out request is closed');
  });

  test('a voice the model does not have: the 400 says to set TTS_VOICE', async () => {
    server.next(({ res }) => answerError(res, 400, "Invalid value: 'verse'. Supported values are: 'alloy', 'ash', 'coral', 'echo', 'fable', 'onyx', 'nova', 'sage' and 'shimmer'.", 'invalid_value'));
    await assert.rejects(synthesizer().synthesize('Hello.', { voice: 'verse' }), (error: unknown) => {
      assert.ok(error instanceof StageError && error.code === 'bad_input');
      assert.match(error.message, /voice "verse".*TTS_VOICE/);
      return true;
    });
  });

  test('abort (barge-in) ends the stream at once and cancels the requests in flight; close() cancels the rest', async () => {
    server.always(() => undefined);
    const stream = synthesizer({ concurrency: 2 }).stream();
    stream.push('First sentence. Second sentence. Third sentence.');
    const [first, second] = await server.requests(2);
    const iteration = collect(stream);
    stream.abort();
    assert.deepEqual(await within(iteration, 1_000, 'iteration ends'), []);
    await within(Promise.all([first?.clientGone, second?.clientGone]), 2_000, 'both requests are closed');
    assert.equal(server.received.length, 2, 'the waiting third sentence is never requested');

    const tts = synthesizer();
    const pending = tts.synthesize('Still talking.');
    const [, , third] = await server.requests(3);
    await tts.close();
    await assert.rejects(pending, (error: unknown) => error instanceof StageError && error.code === 'closed');
    await within(third?.clientGone ?? Promise.reject(new Error('no request')), 2_000, 'closed request');
  });

  test('speed is sent when not 1; Markdown is not read out; Japanese is split at 。 and ？', async () => {
    server.always(speakPcm);
    // One request at a time, so they arrive in sentence order.
    const tts = synthesizer({ voice: 'nova', concurrency: 1 });
    const stream = tts.stream({ speed: 1.25, chunkMs: 0 });
    stream.push('**Great**, see `you` soon! こんにちは。ご用件は何でしょうか？');
    stream.end();
    await collect(stream);
    assert.deepEqual(
      server.received.map((r) => r.json()),
      [
        { model: 'tts-1', input: 'Great, see you soon!', voice: 'nova', response_format: 'pcm', speed: 1.25 },
        { model: 'tts-1', input: 'こんにちは。', voice: 'nova', response_format: 'pcm', speed: 1.25 },
        { model: 'tts-1', input: 'ご用件は何でしょうか？', voice: 'nova', response_format: 'pcm', speed: 1.25 },
      ],
    );
    assert.throws(() => tts.stream({ speed: 5 }), /speed/);
  });

  test('synthesize(): the whole text as one buffer; a failed sentence rejects; a signal aborts', async () => {
    server.always(speakPcm);
    const tts = synthesizer();
    const audio = await tts.synthesize('One two. Three.');
    assert.equal(audio.length, 24_000 * 0.3);

    server.reset();
    server.next(speakPcm, ({ res }) => answerError(res, 500, 'boom'));
    await assert.rejects(tts.synthesize('Fine. Broken.'), (error: unknown) => error instanceof StageError && /HTTP 500: boom/.test(error.message));

    server.reset();
    server.always(() => undefined);
    const controller = new AbortController();
    const pending = tts.synthesize('Never answered.', { signal: controller.signal });
    const [request] = await server.requests(1);
    controller.abort();
    await assert.rejects(pending, (error: unknown) => error instanceof StageError && error.code === 'aborted');
    await within(request?.clientGone ?? Promise.reject(new Error('no request')), 2_000, 'aborted request');
  });
});
