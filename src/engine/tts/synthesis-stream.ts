// A SynthesisStream over any one-sentence synthesizer: splits pushed text into sentences, speaks them in
// order (the next sentences are synthesized while the consumer still plays the previous one, up to
// `concurrency` at a time), and places each sentence's audio on the reply's timeline.
import { StageError, StageOutput, type StageStatus } from '../stage.js';
import { SentenceSplitter } from './sentence-splitter.js';
import type { SynthesisEvent, SynthesisStream } from './synthesizer.js';

export type SynthesizeSentence = (sentence: string, signal: AbortSignal) => Promise<Int16Array>;

export interface SentenceSynthesisStreamOptions {
  sampleRateHz: number;
  /** Audio per chunk; 0 = one chunk per sentence. Default 200. */
  chunkMs?: number;
  maxSentenceChars?: number;
  /**
   * Sentences synthesized at the same time. 1 (the default) suits a local engine that is CPU-bound anyway;
   * a remote service hides its round trip better with 2 or 3. Audio still comes out in sentence order.
   */
  concurrency?: number;
}

export class SentenceSynthesisStream implements SynthesisStream {
  readonly #synthesize: SynthesizeSentence;
  readonly #sampleRateHz: number;
  readonly #chunkSamples: number;
  readonly #splitter: SentenceSplitter;
  readonly #output: StageOutput<SynthesisEvent>;
  readonly #abort = new AbortController();
  readonly #concurrency: number;
  /** Sentences waiting for a free synthesis slot, in order. */
  readonly #waiting: Array<() => void> = [];
  #running = 0;
  #pending: Promise<void> = Promise.resolve();
  #sentences = 0;
  #samplesOut = 0;
  #status: StageStatus = 'open';

  constructor(synthesize: SynthesizeSentence, options: SentenceSynthesisStreamOptions) {
    const chunkMs = options.chunkMs ?? 200;
    if (!(chunkMs >= 0)) throw new RangeError(`chunkMs must be ≥ 0, got ${chunkMs}`);
    const concurrency = options.concurrency ?? 1;
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new RangeError(`concurrency must be an integer ≥ 1, got ${concurrency}`);
    this.#concurrency = concurrency;
    this.#synthesize = synthesize;
    this.#sampleRateHz = options.sampleRateHz;
    this.#chunkSamples = Math.round((chunkMs * options.sampleRateHz) / 1000);
    this.#splitter = new SentenceSplitter(options.maxSentenceChars === undefined ? {} : { maxChars: options.maxSentenceChars });
    this.#output = new StageOutput<SynthesisEvent>(() => this.abort());
  }

  get status(): StageStatus {
    return this.#status;
  }

  /** Audio produced so far. */
  get audioMs(): number {
    return (this.#samplesOut * 1000) / this.#sampleRateHz;
  }

  push(text: string): void {
    this.#assertOpen('push');
    for (const sentence of this.#splitter.push(text)) this.#enqueue(sentence);
  }

  flush(): void {
    this.#assertOpen('flush');
    for (const sentence of this.#splitter.flush()) this.#enqueue(sentence);
  }

  end(): void {
    if (this.#status !== 'open') return;
    this.flush();
    this.#status = 'ending';
    this.#pending = this.#pending.then(() => {
      if (this.#status === 'ending') this.#status = 'done';
      this.#output.end();
    });
  }

  abort(): void {
    this.#status = 'done';
    this.#abort.abort();
    this.#output.abort();
    // Waiting sentences wake up, see the abort and stop.
    for (const wake of this.#waiting.splice(0)) wake();
  }

  close(): void {
    this.abort();
  }

  [Symbol.asyncIterator](): AsyncIterator<SynthesisEvent> {
    return this.#output[Symbol.asyncIterator]();
  }

  #enqueue(sentence: string): void {
    const index = this.#sentences++;
    const audio = this.#scheduled(sentence);
    // Settled in order by #speak; a failure before its turn must not count as unhandled.
    audio.catch(() => undefined);
    this.#pending = this.#pending.then(() => this.#speak(index, sentence, audio));
  }

  /** Synthesizes `sentence` once a slot is free; slots are handed out in sentence order. */
  async #scheduled(sentence: string): Promise<Int16Array> {
    const signal = this.#abort.signal;
    // A finishing sentence hands its slot straight to the next waiting one, so a sentence pushed meanwhile
    // cannot overtake it.
    if (this.#running < this.#concurrency) this.#running++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      if (signal.aborted) throw new StageError('aborted', 'synthesis aborted');
      return await this.#synthesize(sentence, signal);
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }

  async #speak(sentenceIndex: number, sentenceText: string, synthesized: Promise<Int16Array>): Promise<void> {
    const signal = this.#abort.signal;
    if (signal.aborted) return;
    let audio: Int16Array;
    try {
      audio = await synthesized;
    } catch (error) {
      const stageError = error instanceof StageError ? error : new StageError('internal', String(error), { cause: error });
      if (stageError.code !== 'aborted' && !signal.aborted) this.#output.push({ type: 'failed', sentenceIndex, sentenceText, error: stageError });
      return;
    }
    if (signal.aborted || audio.length === 0) return;
    const toMs = (samples: number): number => (samples * 1000) / this.#sampleRateHz;
    const sentenceStart = this.#samplesOut;
    this.#samplesOut += audio.length;
    const step = this.#chunkSamples > 0 ? this.#chunkSamples : audio.length;
    for (let offset = 0; offset < audio.length; offset += step) {
      const end = Math.min(audio.length, offset + step);
      this.#output.push({
        type: 'audio',
        sentenceIndex,
        sentenceText,
        sentenceStartMs: toMs(sentenceStart),
        sentenceDurationMs: toMs(audio.length),
        chunkStartMs: toMs(sentenceStart + offset),
        audio: step === audio.length ? audio : audio.slice(offset, end),
        lastInSentence: end === audio.length,
      });
    }
  }

  #assertOpen(action: string): void {
    if (this.#status !== 'open') throw new Error(`SynthesisStream: ${action} after end, abort or close`);
  }
}
