// Records both sides of a call to `<dir>/<callId>.wav`: stereo 16-bit PCM at 8 kHz, the caller on the
// left, the agent on the right as the caller heard it.
//
// What the caller heard is not what Koe sent when Koe sent it: Twilio plays agent audio at real time, in
// order, buffering what arrives faster, and `clear` drops whatever it has not played yet. The recording
// models that player. Caller frames (Twilio sends one every 20 ms, silence included) are the clock: each
// one writes as many stereo samples as it carries, the right channel taking that many from the queue of
// agent audio not yet played (silence when it is empty). Agent audio joins the queue, `clear` empties
// it, and what is still queued when the call ends was never heard and is not written.
//
// Writes never block the audio path: samples collect in memory and go to disk in one asynchronous
// append about every half second, followed by a rewrite of the header's sizes, so after a crash the
// file is a valid WAV of everything but the last half second or so. A write error is logged once and
// stops the recording; the call goes on.
import { mkdirSync, openSync, close as closeFd, write as writeFd } from 'node:fs';
import { join } from 'node:path';
import { mulawDecodeSample, wavHeader } from '../audio/index.js';
import type { Logger } from '../log/logger.js';
import type { TwilioMediaSink } from './call-session.js';

export const RECORDING_SAMPLE_RATE_HZ = 8_000;
const CHANNELS = 2;
const FRAME_BYTES = CHANNELS * 2;
const FORMAT = { sampleRateHz: RECORDING_SAMPLE_RATE_HZ, channels: CHANNELS, encoding: 'pcm16' } as const;
const HEADER_BYTES = wavHeader(FORMAT, 0).byteLength;
const DEFAULT_FLUSH_EVERY_MS = 500;

export interface CallRecordingOptions {
  /** Folder of recordings; created if missing. */
  dir: string;
  callId: string;
  log: Logger;
  /** Audio held in memory between appends to the file. */
  flushEveryMs?: number;
}

/** The recording could not be started (folder or file not creatable); the call goes on without it. */
export class RecordingUnavailableError extends Error {
  override readonly name = 'RecordingUnavailableError';
}

export class CallRecording {
  readonly path: string;
  readonly #log: Logger;
  readonly #flushEveryBytes: number;
  #fd: number | undefined;
  /** Agent audio sent to Twilio and not yet played, oldest first; the head is read from `#headOffset`. */
  #queue: Uint8Array[] = [];
  #headOffset = 0;
  /** Stereo samples waiting for the next append. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Sample bytes handed to the writer (on disk once `#writes` settles). */
  #dataBytes = 0;
  #writes: Promise<void> = Promise.resolve();
  #state: 'recording' | 'closed' | 'failed' = 'recording';
  #closing: Promise<void> | undefined;

  /**
   * Creates the folder and the file. Synchronous, once per call and before any audio flows, so the
   * call knows whether it is recorded when it starts. Throws RecordingUnavailableError.
   */
  static open(opts: CallRecordingOptions): CallRecording {
    const path = join(opts.dir, `${opts.callId}.wav`);
    let fd: number;
    try {
      mkdirSync(opts.dir, { recursive: true });
      fd = openSync(path, 'w');
    } catch (err) {
      throw new RecordingUnavailableError(`cannot create ${path}: ${(err as Error).message}`);
    }
    return new CallRecording(path, fd, opts);
  }

  /** Like open(), but logs why the call cannot be recorded and returns undefined instead of throwing. */
  static tryOpen(opts: CallRecordingOptions): CallRecording | undefined {
    try {
      return CallRecording.open(opts);
    } catch (err) {
      if (!(err instanceof RecordingUnavailableError)) throw err;
      opts.log.error({ err: err.message }, 'cannot record this call; it goes on without a recording');
      return undefined;
    }
  }

  private constructor(path: string, fd: number, opts: CallRecordingOptions) {
    this.path = path;
    this.#fd = fd;
    this.#log = opts.log;
    const flushEveryMs = opts.flushEveryMs ?? DEFAULT_FLUSH_EVERY_MS;
    this.#flushEveryBytes = Math.max(1, Math.round((flushEveryMs * RECORDING_SAMPLE_RATE_HZ) / 1000)) * FRAME_BYTES;
    // The header goes first so that even a call that dies at once leaves a valid (empty) WAV.
    this.#enqueueWrite(wavHeader(FORMAT, 0), 0);
  }

  /** False once the recording was closed or failed. */
  get active(): boolean {
    return this.#state === 'recording';
  }

  /** Milliseconds of audio recorded so far (written or waiting to be). */
  get durationMs(): number {
    return ((this.#dataBytes + this.#pendingBytes) / FRAME_BYTES / RECORDING_SAMPLE_RATE_HZ) * 1000;
  }

  /** One frame from the caller: advances the clock by its length, playing queued agent audio beside it. */
  onCallerAudio(mulaw: Uint8Array): void {
    if (this.#state !== 'recording' || mulaw.length === 0) return;
    const frame = Buffer.allocUnsafe(mulaw.length * FRAME_BYTES);
    for (let i = 0; i < mulaw.length; i++) {
      frame.writeInt16LE(mulawDecodeSample(mulaw[i]!), i * FRAME_BYTES);
      frame.writeInt16LE(this.#nextAgentSample(), i * FRAME_BYTES + 2);
    }
    this.#pending.push(frame);
    this.#pendingBytes += frame.length;
    if (this.#pendingBytes >= this.#flushEveryBytes) this.#flush();
  }

  /** Agent audio as sent to Twilio: queued behind what Twilio has not played yet. */
  onAgentAudio(mulaw: Uint8Array): void {
    if (this.#state !== 'recording' || mulaw.length === 0) return;
    // Copied: the sender may reuse its buffer once sent.
    this.#queue.push(Uint8Array.from(mulaw));
  }

  /** Twilio `clear`: everything not yet played is dropped unheard. */
  onClear(): void {
    this.#queue = [];
    this.#headOffset = 0;
  }

  /** Resolves once every append so far is on disk (or failed). */
  async settled(): Promise<void> {
    await this.#writes;
  }

  /**
   * Ends the recording: writes what was heard, drops the agent audio never played, finalizes the header
   * and closes the file. Idempotent; never rejects.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.onClear();
    if (this.#state === 'recording') {
      this.#flush();
      this.#state = 'closed';
    }
    await this.#writes;
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd === undefined) return;
    await new Promise<void>((resolve) => {
      closeFd(fd, (err) => {
        if (err) this.#fail(err);
        resolve();
      });
    });
  }

  #nextAgentSample(): number {
    const head = this.#queue[0];
    if (!head) return 0;
    const sample = mulawDecodeSample(head[this.#headOffset]!);
    this.#headOffset += 1;
    if (this.#headOffset === head.length) {
      this.#queue.shift();
      this.#headOffset = 0;
    }
    return sample;
  }

  #flush(): void {
    if (this.#pendingBytes === 0) return;
    const data = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    const position = HEADER_BYTES + this.#dataBytes;
    this.#dataBytes += this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#enqueueWrite(data, position);
    // The sizes are rewritten after the samples they count, so the header never claims bytes not written.
    this.#enqueueWrite(wavHeader(FORMAT, this.#dataBytes), 0);
  }

  #enqueueWrite(bytes: Buffer, position: number): void {
    this.#writes = this.#writes.then(() => this.#write(bytes, position));
  }

  #write(bytes: Buffer, position: number): Promise<void> {
    const fd = this.#fd;
    if (fd === undefined || this.#state === 'failed') return Promise.resolve();
    return new Promise((resolve) => {
      writeFd(fd, bytes, 0, bytes.length, position, (err, written) => {
        if (err) this.#fail(err);
        else if (written !== bytes.length) this.#fail(new Error(`short write: ${written} of ${bytes.length} bytes`));
        resolve();
      });
    });
  }

  #fail(err: Error): void {
    if (this.#state === 'failed') return;
    this.#state = 'failed';
    this.#log.error({ err: err.message, path: this.path }, 'call recording failed; the call goes on without it');
    this.#pending = [];
    this.#pendingBytes = 0;
    this.onClear();
    const fd = this.#fd;
    this.#fd = undefined;
    // Already failing: the first error is the one worth logging.
    if (fd !== undefined) closeFd(fd, () => undefined);
  }
}

/** The sink the session talks to, with what Koe sends to Twilio also going to the recording. */
export function recordedTwilioSink(sink: TwilioMediaSink, recording: CallRecording): TwilioMediaSink {
  return {
    sendMedia: (mulaw) => {
      recording.onAgentAudio(mulaw);
      sink.sendMedia(mulaw);
    },
    sendMark: (name) => sink.sendMark(name),
    sendClear: () => {
      recording.onClear();
      sink.sendClear();
    },
    close: () => sink.close(),
  };
}
