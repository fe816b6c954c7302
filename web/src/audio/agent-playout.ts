// Plays the agent's μ-law audio gaplessly and answers marks the way Twilio does (protocol/twilio.md §2.3–2.4):
// a mark is echoed once all audio queued before it has finished playing (at once when nothing is queued);
// `clear` stops and discards everything scheduled and echoes every pending mark immediately.
// "Finished playing" is judged on the AudioContext clock plus its reported output latency.
import { decodeMulaw } from './mulaw.js';

const SAMPLE_RATE_HZ = 8000;
/** Headroom before the first chunk after silence, so its start is never in the past when scheduled. */
const START_LEAD_S = 0.03;

interface PendingMark {
  name: string;
  /** Context time when the audio queued before this mark has played. */
  playedAt: number;
}

export interface PlayoutStats {
  chunks: number;
  bytes: number;
  marksReceived: number;
  marksEchoed: number;
  clears: number;
  discardedMs: number;
}

export class AgentPlayout {
  readonly #ctx: AudioContext;
  readonly #echo: (name: string) => void;
  readonly #output: AudioNode;
  readonly #sources = new Set<AudioBufferSourceNode>();
  readonly #marks: PendingMark[] = [];
  #nextStart = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  readonly stats: PlayoutStats = { chunks: 0, bytes: 0, marksReceived: 0, marksEchoed: 0, clears: 0, discardedMs: 0 };

  constructor(ctx: AudioContext, echoMark: (name: string) => void, output: AudioNode = ctx.destination) {
    this.#ctx = ctx;
    this.#echo = echoMark;
    this.#output = output;
  }

  /** Milliseconds of audio scheduled but not yet played. */
  get bufferedMs(): number {
    return Math.max(0, (this.#nextStart - this.#ctx.currentTime) * 1000);
  }

  enqueue(mulaw: Uint8Array): void {
    if (this.#closed || mulaw.length === 0) return;
    const samples = decodeMulaw(mulaw);
    const buffer = this.#ctx.createBuffer(1, samples.length, SAMPLE_RATE_HZ);
    buffer.copyToChannel(samples, 0);
    const source = this.#ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.#output);
    const now = this.#ctx.currentTime;
    const startAt = this.#nextStart > now ? this.#nextStart : now + START_LEAD_S;
    source.start(startAt);
    this.#nextStart = startAt + buffer.duration;
    this.#sources.add(source);
    source.onended = () => {
      this.#sources.delete(source);
      source.disconnect();
    };
    this.stats.chunks += 1;
    this.stats.bytes += mulaw.length;
  }

  mark(name: string): void {
    if (this.#closed) return;
    this.stats.marksReceived += 1;
    this.#marks.push({ name, playedAt: this.#nextStart });
    this.#flushPlayed();
  }

  /** Twilio's `clear`: silence now, forget the queue, echo every pending mark in order. */
  clear(): void {
    if (this.#closed) return;
    this.stats.clears += 1;
    this.stats.discardedMs += this.bufferedMs;
    this.#stopSources();
    this.#nextStart = 0;
    this.#cancelTimer();
    const pending = this.#marks.splice(0);
    for (const mark of pending) this.#sendEcho(mark.name);
  }

  /** Stops playback without echoing anything (the call is over). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelTimer();
    this.#marks.length = 0;
    this.#stopSources();
  }

  #outputLatencyS(): number {
    const latency = this.#ctx.outputLatency;
    return typeof latency === 'number' && Number.isFinite(latency) && latency > 0 && latency < 1 ? latency : 0;
  }

  #flushPlayed(): void {
    this.#cancelTimer();
    const heardUntil = this.#ctx.currentTime - this.#outputLatencyS();
    while (this.#marks.length > 0 && (this.#marks[0] as PendingMark).playedAt <= heardUntil) {
      this.#sendEcho((this.#marks.shift() as PendingMark).name);
    }
    const next = this.#marks[0];
    if (!next) return;
    const waitMs = Math.max(5, (next.playedAt - heardUntil) * 1000 + 2);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (!this.#closed) this.#flushPlayed();
    }, waitMs);
  }

  #sendEcho(name: string): void {
    this.stats.marksEchoed += 1;
    this.#echo(name);
  }

  #cancelTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #stopSources(): void {
    for (const source of this.#sources) {
      source.onended = null;
      try {
        source.stop();
      } catch {
        // Already stopped.
      }
      source.disconnect();
    }
    this.#sources.clear();
  }
}
