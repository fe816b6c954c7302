// Server VAD for one audio stream: cuts pushed 16 kHz PCM16 into the scorer's frames, scores each one,
// and runs the debounced state machine. Scoring is cheap (well under a millisecond per 32 ms frame), so
// it runs inline in `push`.
import { StageOutput, type StageStatus, type StageStream } from '../stage.js';
import type { FrameScorer } from './frame-scorer.js';
import { VadStateMachine, type VadEvent, type VadOptions, type VadState } from './vad-state-machine.js';

export interface VadStreamOptions extends Partial<VadOptions> {
  /** Where this stream's audio clock starts (ms since the session's first sample). Default 0. */
  startMs?: number;
}

export class VadStream implements StageStream<Int16Array, VadEvent> {
  readonly #scorer: FrameScorer;
  readonly #machine: VadStateMachine;
  readonly #output: StageOutput<VadEvent>;
  readonly #frame: Float32Array;
  readonly #startMs: number;
  #filled = 0;
  #framesScored = 0;
  #samplesPushed = 0;
  #status: StageStatus = 'open';
  #closed = false;

  /** The stream owns `scorer` from here on and closes it in `close()`. */
  constructor(scorer: FrameScorer, options: VadStreamOptions = {}) {
    const { startMs = 0, ...vadOptions } = options;
    this.#scorer = scorer;
    this.#machine = new VadStateMachine(vadOptions);
    this.#output = new StageOutput<VadEvent>(() => this.abort());
    this.#frame = new Float32Array(scorer.frameSamples);
    this.#startMs = startMs;
  }

  get status(): StageStatus {
    return this.#status;
  }

  get state(): VadState {
    return this.#machine.state;
  }

  get options(): VadOptions {
    return this.#machine.options;
  }

  /** End of the audio pushed so far, on the stream's clock. */
  get audioMs(): number {
    return this.#startMs + (this.#samplesPushed * 1000) / this.#scorer.sampleRateHz;
  }

  /** Frames scored so far (for metrics: multiply by the frame length for audio time). */
  get framesScored(): number {
    return this.#framesScored;
  }

  /** 16 kHz mono PCM16. Any length; frames are assembled across pushes. */
  push(pcm: Int16Array): void {
    this.#assertOpen('push');
    const frame = this.#frame;
    const frameSamples = frame.length;
    for (let i = 0; i < pcm.length; ) {
      const take = Math.min(frameSamples - this.#filled, pcm.length - i);
      for (let j = 0; j < take; j++) frame[this.#filled + j] = (pcm[i + j] as number) / 32768;
      this.#filled += take;
      this.#samplesPushed += take;
      i += take;
      if (this.#filled === frameSamples) {
        this.#filled = 0;
        this.#scoreFrame();
      }
    }
  }

  /** Closes a turn in progress at the current audio time (the caller stopped sending audio). */
  flush(): void {
    this.#assertOpen('flush');
    const event = this.#machine.finish(this.audioMs);
    if (event) this.#output.push(event);
  }

  /** Forgets a turn in progress without an event (the input buffer was cleared). */
  reset(): void {
    this.#assertOpen('reset');
    this.#machine.reset(this.audioMs);
  }

  end(): void {
    if (this.#status !== 'open') return;
    this.flush();
    this.#status = 'done';
    this.#output.end();
  }

  abort(): void {
    this.#status = 'done';
    this.#output.abort();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.abort();
    this.#scorer.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<VadEvent> {
    return this.#output[Symbol.asyncIterator]();
  }

  #scoreFrame(): void {
    const scorer = this.#scorer;
    const frameMs = (scorer.frameSamples * 1000) / scorer.sampleRateHz;
    const frameStartMs = this.#startMs + this.#framesScored * frameMs - scorer.delayMs;
    this.#framesScored += 1;
    const probability = scorer.score(this.#frame);
    const event = this.#machine.push({ startMs: Math.max(this.#startMs, frameStartMs), durationMs: frameMs, probability });
    if (event) this.#output.push(event);
  }

  #assertOpen(action: string): void {
    if (this.#status !== 'open') throw new Error(`VadStream: ${action} after end, abort or close`);
  }
}
