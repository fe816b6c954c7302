// Speech-to-text with Debian's pocketsphinx 0.8 and its en-us model, in-process through koffi. Each
// worker thread owns one decoder (≈100 MB); utterances wait for a free one.
import { availableParallelism } from 'node:os';
import { StageError } from '../stage.js';
import { WorkerPool, workerEntry } from '../worker-pool.js';
import { compileGrammar, type RecognitionGrammar } from './grammar.js';
import { loadPocketsphinx } from './pocketsphinx-binding.js';
import type { DecodeResult } from './pocketsphinx-decoder.js';
import { resolvePocketsphinxModel, type PocketsphinxModel, type PocketsphinxModelOptions } from './pocketsphinx-model.js';
import type { DecodeRequest } from './pocketsphinx-worker.js';
import { UtteranceRecognitionStream } from './recognition-stream.js';
import type { RecognitionStream, SpeechRecognizer, Transcript, UtteranceOptions } from './recognizer.js';

const SAMPLE_RATE_HZ = 16_000;

export interface PocketsphinxRecognizerOptions extends PocketsphinxModelOptions {
  /** Decoders (and worker threads) to keep. Default: 2, or 1 on a single core. */
  decoders?: number;
}

export class PocketsphinxRecognizer implements SpeechRecognizer {
  readonly sampleRateHz = SAMPLE_RATE_HZ;
  readonly #pool: WorkerPool<DecodeRequest, DecodeResult>;
  readonly model: PocketsphinxModel;

  private constructor(pool: WorkerPool<DecodeRequest, DecodeResult>, model: PocketsphinxModel) {
    this.#pool = pool;
    this.model = model;
  }

  /**
   * Loads the decoders. Rejects with StageError `unavailable` (naming the Debian packages) when
   * pocketsphinx or its model is not installed.
   */
  static async create(options: PocketsphinxRecognizerOptions = {}): Promise<PocketsphinxRecognizer> {
    // Checked here first so a missing package fails fast with one clear error, before any thread starts.
    loadPocketsphinx();
    const model = resolvePocketsphinxModel(options);
    const size = options.decoders ?? Math.min(2, availableParallelism());
    const pool = await WorkerPool.start<DecodeRequest, DecodeResult>({
      name: 'pocketsphinx',
      entry: workerEntry(import.meta.url, 'pocketsphinx-worker'),
      size,
      workerData: model,
    });
    return new PocketsphinxRecognizer(pool, model);
  }

  get decoders(): number {
    return this.#pool.size;
  }

  stream(options: UtteranceOptions = {}): RecognitionStream {
    return new UtteranceRecognitionStream((pcm, grammar, signal) => this.#decode(pcm, grammar, signal), { ...options, sampleRateHz: SAMPLE_RATE_HZ });
  }

  transcribe(pcm: Int16Array, options: UtteranceOptions & { signal?: AbortSignal } = {}): Promise<Transcript> {
    return this.#decode(pcm.slice(), options.grammar ?? undefined, options.signal);
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  /** `pcm` is moved into the worker: the caller must not use it afterwards. */
  async #decode(pcm: Int16Array, grammar: RecognitionGrammar | undefined, signal: AbortSignal | undefined): Promise<Transcript> {
    const audioMs = (pcm.length * 1000) / SAMPLE_RATE_HZ;
    if (pcm.length === 0) return { text: '', audioMs: 0, decodeMs: 0 };
    let compiled;
    try {
      compiled = grammar ? compileGrammar(grammar) : undefined;
    } catch (error) {
      throw error instanceof StageError ? error : new StageError('bad_input', String(error));
    }
    // A view into a larger buffer cannot be moved whole; copy it into its own.
    const own = pcm.byteOffset === 0 && pcm.byteLength === pcm.buffer.byteLength ? pcm : pcm.slice();
    const buffer = own.buffer as ArrayBuffer;
    const result = await this.#pool.run(
      { pcm: buffer, ...(compiled ? { grammar: compiled } : {}) },
      { transfer: [buffer], ...(signal ? { signal } : {}) },
    );
    return { text: result.text, audioMs, decodeMs: result.decodeMs };
  }
}
