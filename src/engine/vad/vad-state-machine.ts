// Turns per-frame speech probabilities into debounced speech_started / speech_stopped events.
// Pure: no model, no clock, no I/O; the caller supplies each frame's time.
//
//   quiet ──p≥threshold──▶ starting ──speech lasted minSpeechMs──▶ speaking ◀──p≥threshold── stopping
//     ▲                       │ p<negThreshold                        │ p<negThreshold        │
//     └───────────────────────┘                                       └──────────────────────▶│
//     ▲                                                                                       │
//     └────────────────────────── silence lasted silenceDurationMs ───────────────────────────┘

export interface VadOptions {
  /** Probability at or above which a frame counts as speech (OpenAI's `threshold`). */
  threshold: number;
  /**
   * Probability below which a frame counts as silence once speech began. Between the two thresholds
   * a frame changes nothing, so a wavering score does not toggle the state. Default: threshold − 0.15.
   */
  negThreshold: number;
  /** Audio kept before the detected onset (OpenAI's `prefix_padding_ms`). */
  prefixPaddingMs: number;
  /** Silence that ends a turn (OpenAI's `silence_duration_ms`). */
  silenceDurationMs: number;
  /** Speech must last this long before `speech_started`; shorter blips (a click, a cough, a tone burst) are ignored. */
  minSpeechMs: number;
}

export const defaultVadOptions: Readonly<Omit<VadOptions, 'negThreshold'>> = Object.freeze({
  threshold: 0.5,
  prefixPaddingMs: 300,
  silenceDurationMs: 500,
  minSpeechMs: 150,
});

export type VadEvent =
  | {
      type: 'speech_started';
      /** Start of the turn's audio, prefix padding included (OpenAI's `audio_start_ms`). */
      audioStartMs: number;
      /** Where the speech itself was first heard. */
      speechStartMs: number;
    }
  | {
      type: 'speech_stopped';
      /** End of the turn's audio, trailing silence included (OpenAI's `audio_end_ms`). */
      audioEndMs: number;
      /** Where the speech itself ended. */
      speechEndMs: number;
    };

export type VadState = 'quiet' | 'starting' | 'speaking' | 'stopping';

export interface VadFrame {
  /** Start of the frame on the stream's audio clock. */
  startMs: number;
  durationMs: number;
  /** Speech probability in [0, 1]. */
  probability: number;
}

export function resolveVadOptions(options: Partial<VadOptions> = {}): VadOptions {
  const threshold = options.threshold ?? defaultVadOptions.threshold;
  const resolved: VadOptions = {
    threshold,
    negThreshold: options.negThreshold ?? Math.max(0.01, threshold - 0.15),
    prefixPaddingMs: options.prefixPaddingMs ?? defaultVadOptions.prefixPaddingMs,
    silenceDurationMs: options.silenceDurationMs ?? defaultVadOptions.silenceDurationMs,
    minSpeechMs: options.minSpeechMs ?? defaultVadOptions.minSpeechMs,
  };
  if (!(resolved.threshold > 0 && resolved.threshold <= 1)) throw new RangeError(`VAD threshold must be in (0, 1], got ${resolved.threshold}`);
  if (!(resolved.negThreshold > 0 && resolved.negThreshold <= resolved.threshold)) {
    throw new RangeError(`VAD negThreshold must be in (0, threshold], got ${resolved.negThreshold}`);
  }
  for (const key of ['prefixPaddingMs', 'silenceDurationMs', 'minSpeechMs'] as const) {
    if (!(Number.isFinite(resolved[key]) && resolved[key] >= 0)) throw new RangeError(`VAD ${key} must be a number ≥ 0, got ${resolved[key]}`);
  }
  if (resolved.silenceDurationMs === 0) throw new RangeError('VAD silenceDurationMs must be > 0');
  return resolved;
}

export class VadStateMachine {
  readonly options: VadOptions;
  #state: VadState = 'quiet';
  #onsetMs = 0;
  #silenceStartMs = 0;
  /** No turn may reach back before the end of the previous one (or a reset). */
  #floorMs = 0;
  #clockMs = 0;

  constructor(options: Partial<VadOptions> = {}) {
    this.options = resolveVadOptions(options);
  }

  get state(): VadState {
    return this.#state;
  }

  /** True from `speech_started` until `speech_stopped`. */
  get inSpeech(): boolean {
    return this.#state === 'speaking' || this.#state === 'stopping';
  }

  push(frame: VadFrame): VadEvent | undefined {
    const { threshold, negThreshold, minSpeechMs, silenceDurationMs } = this.options;
    const p = frame.probability;
    const endMs = frame.startMs + frame.durationMs;
    this.#clockMs = Math.max(this.#clockMs, endMs);
    switch (this.#state) {
      case 'quiet':
        if (p < threshold) return undefined;
        this.#state = 'starting';
        this.#onsetMs = Math.max(frame.startMs, this.#floorMs);
        return this.#confirmStart(endMs, minSpeechMs);
      case 'starting':
        if (p < negThreshold) {
          this.#state = 'quiet';
          return undefined;
        }
        return this.#confirmStart(endMs, minSpeechMs);
      case 'speaking':
        if (p >= negThreshold) return undefined;
        this.#state = 'stopping';
        this.#silenceStartMs = frame.startMs;
        return this.#confirmStop(endMs, silenceDurationMs);
      case 'stopping':
        if (p >= threshold) {
          this.#state = 'speaking';
          return undefined;
        }
        return this.#confirmStop(endMs, silenceDurationMs);
    }
  }

  /**
   * The audio ended (or paused for good) at `atMs`: an open turn stops there, an unconfirmed onset is
   * dropped.
   */
  finish(atMs: number = this.#clockMs): VadEvent | undefined {
    const state = this.#state;
    this.#state = 'quiet';
    if (state === 'speaking' || state === 'stopping') {
      const speechEndMs = state === 'stopping' ? this.#silenceStartMs : atMs;
      this.#floorMs = atMs;
      return { type: 'speech_stopped', audioEndMs: atMs, speechEndMs };
    }
    return undefined;
  }

  /** Forget any turn in progress (the input buffer was cleared at `atMs`). No event is produced. */
  reset(atMs: number = this.#clockMs): void {
    this.#state = 'quiet';
    this.#floorMs = atMs;
  }

  #confirmStart(endMs: number, minSpeechMs: number): VadEvent | undefined {
    if (endMs - this.#onsetMs < minSpeechMs) return undefined;
    this.#state = 'speaking';
    const audioStartMs = Math.max(this.#floorMs, this.#onsetMs - this.options.prefixPaddingMs);
    return { type: 'speech_started', audioStartMs, speechStartMs: this.#onsetMs };
  }

  #confirmStop(endMs: number, silenceDurationMs: number): VadEvent | undefined {
    if (endMs - this.#silenceStartMs < silenceDurationMs) return undefined;
    this.#state = 'quiet';
    this.#floorMs = endMs;
    return { type: 'speech_stopped', audioEndMs: endMs, speechEndMs: this.#silenceStartMs };
  }
}
