// The input audio buffer of a session and its clock: every millisecond appended this session, the
// time base of `audio_start_ms` / `audio_end_ms` (realtime.md §c.2). Commit and clear empty the
// buffer; the clock never goes back.

import { audioBytesPerMs, type AudioFormat } from '../../realtime/index.js';
import { MIN_COMMIT_MS, protocolErrors, type ProtocolError } from './errors.js';

const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;

export interface TakenAudio {
  audio: Buffer;
  audioMs: number;
  audioStartMs: number;
  audioEndMs: number;
}

export class InputBuffer {
  #chunks: Buffer[] = [];
  #bytes = 0;
  #clockMs = 0;

  /** Milliseconds appended this session. */
  get clockMs(): number {
    return this.#clockMs;
  }

  /** Base64 of an `append`, decoded; undefined when it is not base64. */
  static decode(base64: string): Buffer | undefined {
    return BASE64_PATTERN.test(base64) ? Buffer.from(base64, 'base64') : undefined;
  }

  /** Adds raw audio; returns where it starts on the clock. */
  append(bytes: Buffer, format: AudioFormat): number {
    const startMs = this.#clockMs;
    this.#chunks.push(bytes);
    this.#bytes += bytes.length;
    this.#clockMs += bytes.length / audioBytesPerMs(format);
    return startMs;
  }

  bufferedMs(format: AudioFormat): number {
    return this.#bytes / audioBytesPerMs(format);
  }

  /** Why a client's `input_audio_buffer.commit` is refused now, if it is. */
  commitError(format: AudioFormat): ProtocolError | undefined {
    const bufferedMs = this.bufferedMs(format);
    return bufferedMs < MIN_COMMIT_MS ? protocolErrors.commitTooSmall(bufferedMs) : undefined;
  }

  /** Empties the buffer, returning what it held (possibly nothing: a VAD commit is never refused). */
  take(format: AudioFormat): TakenAudio {
    const audioMs = this.bufferedMs(format);
    const audio = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
    this.clear();
    return { audio, audioMs, audioStartMs: this.#clockMs - audioMs, audioEndMs: this.#clockMs };
  }

  clear(): void {
    this.#chunks = [];
    this.#bytes = 0;
  }
}
