import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { StageError } from '../../../src/engine/stage.js';
import { PocketsphinxRecognizer, compileGrammar, type RecognitionEvent } from '../../../src/engine/stt/index.js';
import { openLibrary } from '../../../src/engine/stt/pocketsphinx-binding.js';
import { normalizeHypothesis } from '../../../src/engine/stt/pocketsphinx-decoder.js';
import { phoneBandFeatParams, resolvePocketsphinxModel } from '../../../src/engine/stt/pocketsphinx-model.js';
import { concat, flite, phoneBand, removeScratch, silence, wordErrors } from './speech-fixtures.js';

// Test speech comes from Debian's flite command line with voices other than Koe's own (slt), through the
// phone band. espeak-ng is not used here: pocketsphinx's en-us model recognises it badly even on clean
// 16 kHz audio (≈80 % WER), which would grade espeak, not the recogniser.
const SENTENCES = [
  'please call me back tomorrow morning',
  'i would like to book a table for two people',
  'can you tell me the opening hours',
  'i need to change my delivery address',
  'what time does the store close today',
  'thank you very much for your help',
];
const VOICES = ['awb', 'kal16'];
/** Measured 12.5 % (12 utterances, 88 words), the same on every run; the bound leaves room for other builds. */
const MAX_WER = 0.25;
const DIGIT_STRINGS = ['eight zero zero five five five one two three four', 'four one five two nine', 'six zero one', 'two eight zero', 'nine one one', 'three zero two six', 'seven three'];
/** Measured 13.3 % (14 strings, 60 digits) with the digits grammar. */
const MAX_DIGIT_WER = 0.25;

async function collect(stream: AsyncIterable<RecognitionEvent>): Promise<RecognitionEvent[]> {
  const events: RecognitionEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe('pocketsphinx recogniser (Debian pocketsphinx 0.8 through koffi)', () => {
  let recognizer: PocketsphinxRecognizer;
  before(async () => {
    recognizer = await PocketsphinxRecognizer.create({ decoders: 2 });
  });
  after(async () => {
    await recognizer.close();
    removeScratch();
  });

  test(`open vocabulary: WER on phone-band sentences stays under ${MAX_WER * 100} %`, async (t) => {
    const cases = SENTENCES.flatMap((text) => VOICES.map((voice) => ({ text, voice, pcm: phoneBand(flite(text, voice)) })));
    const startedAt = performance.now();
    const transcripts = await Promise.all(cases.map((c) => recognizer.transcribe(c.pcm)));
    const wallMs = performance.now() - startedAt;
    let errors = 0;
    let words = 0;
    transcripts.forEach((transcript, i) => {
      const expected = cases[i]?.text ?? '';
      const score = wordErrors(expected, transcript.text);
      errors += score.errors;
      words += score.words;
      if (score.errors > 0) t.diagnostic(`${cases[i]?.voice}: "${expected}" → "${transcript.text}"`);
    });
    const audioMs = transcripts.reduce((n, x) => n + x.audioMs, 0);
    const decodeMs = transcripts.reduce((n, x) => n + x.decodeMs, 0);
    const wer = errors / words;
    t.diagnostic(`WER ${(wer * 100).toFixed(1)} % (${errors}/${words} words, ${cases.length} utterances)`);
    t.diagnostic(`real-time factor ${(decodeMs / audioMs).toFixed(3)} per decoder; ${(audioMs / 1000).toFixed(1)} s of audio in ${(wallMs / 1000).toFixed(1)} s on ${recognizer.decoders} decoders`);
    assert.ok(wer <= MAX_WER, `WER ${wer}`);
    assert.ok(decodeMs / audioMs < 1, 'slower than real time');
  });

  test('decoding a 3 s utterance blocks its thread far longer than an event loop can afford', async (t) => {
    const pcm = phoneBand(concat(flite('i would like to book a table for two people', 'awb'), silence(300)));
    const transcript = await recognizer.transcribe(pcm);
    t.diagnostic(`${(transcript.audioMs / 1000).toFixed(1)} s decoded in ${transcript.decodeMs.toFixed(0)} ms inside one ps_process_raw/ps_end_utt`);
    // Why decoders live in worker threads: one call is hundreds of milliseconds of blocking native code.
    assert.ok(transcript.decodeMs > 50);
  });

  test('the event loop keeps running while utterances decode', async () => {
    const pcm = phoneBand(flite('i need to change my delivery address', 'kal16'));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const [a, b] = await Promise.all([recognizer.transcribe(pcm), recognizer.transcribe(pcm)]);
    clearInterval(timer);
    assert.equal(a.text, b.text);
    // Had decoding run on this thread, no timer could have fired in between.
    assert.ok(ticks >= 5, `${ticks} timer ticks during ${a.decodeMs.toFixed(0)} ms of decoding`);
  });

  test('a result depends only on its utterance, not on what the decoder heard before', async () => {
    const probe = phoneBand(flite('seven three', 'kal16'));
    // Open vocabulary too: with pocketsphinx's silence removal on, a used decoder heard this as
    // "five six seven eight" where a fresh one heard "product of an egg".
    const openProbe = phoneBand(flite('five six seven eight', 'kal16'));
    const first = await recognizer.transcribe(probe, { grammar: { type: 'digits' } });
    const firstOpen = await recognizer.transcribe(openProbe);
    const noisy = phoneBand(concat(flite('what time does the store close today', 'awb'), silence(500)));
    await Promise.all([recognizer.transcribe(noisy), recognizer.transcribe(noisy)]);
    const again = await Promise.all([0, 1].map(() => recognizer.transcribe(probe, { grammar: { type: 'digits' } })));
    const againOpen = await Promise.all([0, 1].map(() => recognizer.transcribe(openProbe)));
    assert.deepEqual(
      again.map((t) => t.text),
      [first.text, first.text],
    );
    assert.deepEqual(
      againOpen.map((t) => t.text),
      [firstOpen.text, firstOpen.text],
    );
  });

  test('yes / no grammar', async () => {
    for (const voice of VOICES) {
      for (const word of ['yes', 'no']) {
        const transcript = await recognizer.transcribe(phoneBand(flite(word, voice)), { grammar: { type: 'yes_no' } });
        assert.equal(transcript.text, word, `${voice} said ${word}`);
      }
    }
  });

  test(`digits grammar: digit WER under ${MAX_DIGIT_WER * 100} %, and clear strings exact`, async (t) => {
    const cases = DIGIT_STRINGS.flatMap((digits) => VOICES.map((voice) => ({ digits, voice, pcm: phoneBand(flite(digits, voice)) })));
    const transcripts = await Promise.all(cases.map((c) => recognizer.transcribe(c.pcm, { grammar: { type: 'digits' } })));
    let errors = 0;
    let words = 0;
    let exact = 0;
    transcripts.forEach((transcript, i) => {
      const expected = cases[i]?.digits ?? '';
      const score = wordErrors(expected, transcript.text);
      errors += score.errors;
      words += score.words;
      if (score.errors === 0) exact++;
      else t.diagnostic(`${cases[i]?.voice}: "${expected}" → "${transcript.text}"`);
    });
    t.diagnostic(`digit WER ${((100 * errors) / words).toFixed(1)} %, ${exact}/${cases.length} strings exact`);
    assert.ok(errors / words <= MAX_DIGIT_WER);
    // Clear, short strings: measured 5 of 6 exact with deterministic decoding (kal16 "four one five" is
    // heard with a trailing "two"); before, the count depended on what each decoder had heard earlier.
    const clear: string[] = [];
    for (const voice of VOICES) {
      for (const digits of ['four one five', 'seven three', 'one two three four']) {
        const transcript = await recognizer.transcribe(phoneBand(flite(digits, voice)), { grammar: { type: 'digits' } });
        if (transcript.text === digits) clear.push(`${voice}:${digits}`);
        else t.diagnostic(`clear string ${voice}: "${digits}" → "${transcript.text}"`);
      }
    }
    assert.ok(clear.length >= 5, `clear digit strings exact: ${clear.length}/6`);
  });

  test('keyword list (phrases) and JSGF grammars', async () => {
    const phrases = { type: 'phrases' as const, phrases: ['billing', 'technical support', 'cancel my account', 'speak to a person'] };
    const heard = await recognizer.transcribe(phoneBand(flite('technical support', 'awb')), { grammar: phrases });
    assert.equal(heard.text, 'technical support');
    const jsgf = '#JSGF V1.0;\ngrammar size;\npublic <size> = (small | medium | large) [please];\n';
    const size = await recognizer.transcribe(phoneBand(flite('large please', 'kal16')), { grammar: { type: 'jsgf', jsgf } });
    assert.equal(size.text, 'large please');
  });

  test('a stream: one event per flush, in order, with a session grammar and a per-utterance override', async () => {
    const stream = recognizer.stream({ grammar: { type: 'digits' } });
    const digits = phoneBand(flite('three one four', 'awb'));
    for (let i = 0; i < digits.length; i += 320) stream.push(digits.subarray(i, i + 320));
    stream.flush();
    stream.push(phoneBand(flite('yes', 'kal16')));
    stream.flush({ grammar: { type: 'yes_no' } });
    stream.flush(); // empty utterance
    stream.push(phoneBand(flite('please call me back tomorrow morning', 'awb')));
    stream.flush({ grammar: null });
    stream.end();
    const events = await collect(stream);
    assert.deepEqual(
      events.map((e) => [e.utteranceIndex, e.type === 'transcript' ? e.text : e.error.code]),
      [
        [0, 'three one four'],
        [1, 'yes'],
        [2, ''],
        [3, 'please call me back tomorrow morning'],
      ],
    );
    assert.equal(stream.status, 'done');
  });

  test('a bad grammar fails that utterance only', async () => {
    const stream = recognizer.stream();
    stream.push(phoneBand(flite('yes', 'awb')));
    stream.flush({ grammar: { type: 'phrases', phrases: ['flibbertigibbetzork'] } });
    stream.push(phoneBand(flite('yes', 'awb')));
    stream.flush({ grammar: { type: 'yes_no' } });
    stream.end();
    const [failed, ok] = await collect(stream);
    assert.ok(failed?.type === 'failed' && failed.error.code === 'bad_input' && /flibbertigibbetzork/.test(failed.error.message));
    assert.ok(ok?.type === 'transcript' && ok.text === 'yes');
    assert.throws(() => compileGrammar({ type: 'jsgf', jsgf: 'public <x> = yes;' }), (e: unknown) => e instanceof StageError && e.code === 'bad_input');
    assert.throws(() => compileGrammar({ type: 'phrases', phrases: [] }), /at least one phrase/);
  });

  test('abort ends the stream at once, even with a decode running', async () => {
    const stream = recognizer.stream();
    stream.push(phoneBand(flite('i would like to book a table for two people', 'awb')));
    stream.flush();
    const iterating = collect(stream);
    stream.abort();
    assert.deepEqual(await iterating, []);
    assert.throws(() => stream.push(new Int16Array(10)), /after end, abort or close/);
    // The decoder finishes its call, drops the result, and serves the next utterance.
    assert.equal((await recognizer.transcribe(phoneBand(flite('no', 'awb')), { grammar: { type: 'yes_no' } })).text, 'no');
  });

  test('a missing library or model is a clear error naming the Debian packages', async () => {
    assert.throws(() => openLibrary(['libpocketsphinx-not-here.so.3']), (error: unknown) => {
      return error instanceof StageError && error.code === 'unavailable' && /apt-get install -y libpocketsphinx3 pocketsphinx-en-us/.test(error.message);
    });
    await assert.rejects(PocketsphinxRecognizer.create({ modelDir: '/nonexistent/pocketsphinx' }), (error: unknown) => {
      return error instanceof StageError && error.code === 'unavailable' && /apt-get install -y libpocketsphinx3 pocketsphinx-en-us/.test(error.message);
    });
  });

  test('phone-band feature parameters replace the model’s wideband -cmninit', () => {
    const text = phoneBandFeatParams('-lowerf 130\n-upperf 6800\n-cmn batch\n-cmninit 41.00,-5.29,-0.12\n');
    assert.match(text, /^-lowerf 130\n-upperf 6800\n-cmn batch\n-cmninit 45\.8,30\.6,/);
    assert.doesNotMatch(text, /41\.00/);
    const model = resolvePocketsphinxModel();
    assert.match(model.featParamsPath, /koe-pocketsphinx\/feat-[0-9a-f]+\.params$/);
    assert.equal(normalizeHypothesis(' read(2)  <sil> the [NOISE] book '), 'read the book');
  });
});
