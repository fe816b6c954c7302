// A RecognitionStream over any whole-utterance recogniser: buffers pushed audio, hands each flushed
// utterance to `transcribe` one at a time, and reports results in order.
import { StageError, StageOutput, type StageStatus } from '../stage.js';
import type { RecognitionGrammar } from './grammar.js';
import type { RecognitionEvent, RecognitionStream, Transcript, UtteranceOptions } from './recognizer.js';

/** Language and prompt of one utterance: the flush's own, else the stream's. */
export type RecognitionHints = Pick<UtteranceOptions, 'language' | 'prompt'>;

export type TranscribeFunction = (pcm: Int16Array, grammar: RecognitionGrammar | undefined, signal: AbortSignal, hints: RecognitionHints) => Promise<Transcript>;

export class UtteranceRecognitionStream implements RecognitionStream {
  readonly #transcribe: TranscribeFunction;
  readonly #grammar: RecognitionGrammar | undefined;
  readonly #hints: RecognitionHints;
  readonly #output: StageOutput<RecognitionEvent>;
  readonly #abort = new AbortController();
  readonly #sampleRateHz: number;
  #chunks: Int16Array[] = [];
  #samples = 0;
  #utterances = 0;
  #pending: Promise<void> = Promise.resolve();
  #status: StageStatus = 'open';

  constructor(transcribe: TranscribeFunction, options: UtteranceOptions & { sampleRateHz?: number } = {}) {
    this.#transcribe = transcribe;
    this.#sampleRateHz = options.sampleRateHz ?? 16_000;
    this.#grammar = options.grammar ?? undefined;
    this.#hints = hintsOf(options, {});
    this.#output = new StageOutput<RecognitionEvent>(() => this.abort());
  }

  get status(): StageStatus {
    return this.#status;
  }

  /** Audio buffered for the current utterance. */
  get bufferedMs(): number {
    return (this.#samples * 1000) / this.#sampleRateHz;
  }

  push(pcm: Int16Array): void {
    this.#assertOpen('push');
    if (pcm.length === 0) return;
    // Copied: callers reuse their buffers.
    this.#chunks.push(pcm.slice());
    this.#samples += pcm.length;
  }

  flush(utterance: UtteranceOptions = {}): void {
    this.#assertOpen('flush');
    const pcm = new Int16Array(this.#samples);
    let offset = 0;
    for (const chunk of this.#chunks) {
      pcm.set(chunk, offset);
      offset += chunk.length;
    }
    this.#chunks = [];
    this.#samples = 0;
    const index = this.#utterances++;
    const grammar = utterance.grammar === null ? undefined : (utterance.grammar ?? this.#grammar);
    const hints = hintsOf(utterance, this.#hints);
    // One utterance at a time keeps the events in order and this stream to one decoder.
    this.#pending = this.#pending.then(() => this.#recognize(index, pcm, grammar, hints));
  }

  end(): void {
    if (this.#status !== 'open') return;
    if (this.#samples > 0) this.flush();
    this.#status = 'ending';
    this.#pending = this.#pending.then(() => {
      if (this.#status === 'ending') this.#status = 'done';
      this.#output.end();
    });
  }

  abort(): void {
    this.#status = 'done';
    this.#chunks = [];
    this.#samples = 0;
    this.#abort.abort();
    this.#output.abort();
  }

  close(): void {
    this.abort();
  }

  [Symbol.asyncIterator](): AsyncIterator<RecognitionEvent> {
    return this.#output[Symbol.asyncIterator]();
  }

  async #recognize(utteranceIndex: number, pcm: Int16Array, grammar: RecognitionGrammar | undefined, hints: RecognitionHints): Promise<void> {
    if (this.#abort.signal.aborted) return;
    try {
      const transcript = await this.#transcribe(pcm, grammar, this.#abort.signal, hints);
      this.#output.push({ type: 'transcript', utteranceIndex, ...transcript });
    } catch (error) {
      const stageError = error instanceof StageError ? error : new StageError('internal', String(error), { cause: error });
      if (stageError.code !== 'aborted') this.#output.push({ type: 'failed', utteranceIndex, error: stageError });
    }
  }

  #assertOpen(action: string): void {
    if (this.#status !== 'open') throw new Error(`RecognitionStream: ${action} after end, abort or close`);
  }
}

function hintsOf(options: UtteranceOptions, fallback: RecognitionHints): RecognitionHints {
  const language = options.language ?? fallback.language;
  const prompt = options.prompt ?? fallback.prompt;
  return { ...(language ? { language } : {}), ...(prompt ? { prompt } : {}) };
}
