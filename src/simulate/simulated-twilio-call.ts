// Twilio's side of a bidirectional Media Stream (protocol/twilio.md §1, §2), over a real `ws` client.
// It sends what Twilio sends (connected, start, 20 ms μ-law media, dtmf, mark echoes, stop) with the
// documented field names and string counters, and treats what it receives the way Twilio does:
// outbound media goes into a playout buffer drained at real time, marks echo once the audio queued
// before them has played (at once when nothing is buffered), clear drops the buffer and echoes every
// pending mark. Anything Twilio would flag with warning 31950/31951 is ignored and recorded in
// `protocolViolations`, which tests assert stays empty.
//
// Deliberately independent of src/twilio (its own parsing and framing): a codec bug must not be mirrored by
// the simulator that tests it. Used by `koe simulate`, the load benchmark and the bridge tests.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import twilio from 'twilio';
import WebSocket from 'ws';

export const FRAME_BYTES = 160;
export const FRAME_MS = 20;
export const BYTES_PER_MS = 8;
const MULAW_SILENCE = 0xff;

export interface SimulatedTwilioCallOptions {
  /** e.g. `ws://127.0.0.1:PORT/twilio/stream`. */
  url: string;
  /** Extra upgrade headers, e.g. `x-twilio-signature`. */
  headers?: Record<string, string>;
  /** Sign the upgrade like Twilio: HMAC over `url` (default: the URL connected to) with `{}` params. */
  signWith?: { authToken: string; url?: string };
  accountSid?: string;
  callSid?: string;
  streamSid?: string;
  customParameters?: Record<string, string>;
  /** Send `start` right after `connected` (default true); otherwise call sendStart(). */
  sendStart?: boolean;
  /** Playout speed multiplier for tests (default 1 = real time, 8 bytes per ms). */
  playbackRate?: number;
  /** Keep copies of received and played audio for assertions (default true; off for load runs). */
  recordAudio?: boolean;
  /** WebSocket handshake timeout (default 5000 ms). */
  connectTimeoutMs?: number;
}

export interface SimulatedTwilioCallStats {
  /** `media` messages accepted from the server. */
  mediaMessagesReceived: number;
  bytesReceived: number;
  bytesPlayed: number;
  bytesDiscarded: number;
  /** Audio still waiting in the playout buffer. */
  bytesBuffered: number;
  marksReceived: number;
  marksEchoed: number;
  clears: number;
  /** Inbound `media` frames sent to the server. */
  framesSent: number;
}

export interface SimulatedTwilioCallEvents {
  /** A valid outbound `media` message was queued for playout (decoded μ-law). */
  media: [payload: Buffer];
  /** A mark was echoed back to the server. */
  mark: [name: string];
  clear: [info: { discardedBytes: number; echoedMarks: string[] }];
  violation: [description: string];
  close: [info: { code: number; reason: string }];
}

type PlayoutItem = { kind: 'audio'; data: Buffer; offset: number } | { kind: 'mark'; name: string };

interface Waiter {
  check(): void;
  closed(): void;
}

export function randomSid(prefix: 'AC' | 'CA' | 'MZ'): string {
  return prefix + randomBytes(16).toString('hex');
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class SimulatedTwilioCall extends EventEmitter<SimulatedTwilioCallEvents> {
  readonly accountSid: string;
  readonly callSid: string;
  readonly streamSid: string;
  readonly customParameters: Record<string, string>;
  readonly protocolViolations: string[] = [];
  /** Names of marks the server sent, in order. */
  readonly marksSent: string[] = [];
  /** Names of marks echoed back, in order. */
  readonly marksEchoed: string[] = [];
  closeInfo: { code: number; reason: string } | undefined;

  readonly #ws: WebSocket;
  readonly #playbackRate: number;
  readonly #recordAudio: boolean;
  #sequenceNumber = 0;
  #chunk = 0;
  #nextTimestampMs = 0;
  #startedAtMs: number | undefined;
  #closed = false;

  readonly #queue: PlayoutItem[] = [];
  #playClockMs = 0;
  #playCarryBytes = 0;
  #playTimer: NodeJS.Timeout | undefined;
  readonly #played: Buffer[] = [];
  readonly #received: Buffer[] = [];
  readonly #stats: SimulatedTwilioCallStats = {
    mediaMessagesReceived: 0,
    bytesReceived: 0,
    bytesPlayed: 0,
    bytesDiscarded: 0,
    bytesBuffered: 0,
    marksReceived: 0,
    marksEchoed: 0,
    clears: 0,
    framesSent: 0,
  };

  #audioChain: Promise<unknown> = Promise.resolve();
  #nextFrameAtMs = -Infinity;
  #sleep: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  readonly #waiters = new Set<Waiter>();

  private constructor(ws: WebSocket, opts: SimulatedTwilioCallOptions) {
    super();
    this.#ws = ws;
    this.accountSid = opts.accountSid ?? randomSid('AC');
    this.callSid = opts.callSid ?? randomSid('CA');
    this.streamSid = opts.streamSid ?? randomSid('MZ');
    this.customParameters = { ...(opts.customParameters ?? {}) };
    this.#playbackRate = opts.playbackRate ?? 1;
    this.#recordAudio = opts.recordAudio ?? true;
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString('utf8')));
    // Errors are followed by 'close'; without a listener they would crash the test process.
    ws.on('error', () => undefined);
  }

  /** Opens the socket, sends `connected` and (unless sendStart is false) `start`. Rejects if the upgrade is refused. */
  static async connect(opts: SimulatedTwilioCallOptions): Promise<SimulatedTwilioCall> {
    if (opts.playbackRate !== undefined && !(opts.playbackRate > 0)) throw new RangeError('playbackRate must be positive');
    const headers = { ...(opts.headers ?? {}) };
    if (opts.signWith !== undefined) {
      headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(opts.signWith.authToken, opts.signWith.url ?? opts.url, {});
    }
    const ws = new WebSocket(opts.url, { headers, handshakeTimeout: opts.connectTimeoutMs ?? 5000 });
    // Listeners go on before the handshake completes, so no early server message can slip past them.
    const call = new SimulatedTwilioCall(ws, opts);
    await new Promise<void>((resolve, reject) => {
      const onOpen = (): void => {
        ws.off('error', onError);
        resolve();
      };
      const onError = (err: Error): void => {
        ws.off('open', onOpen);
        reject(new Error(`fake Twilio media stream could not connect to ${opts.url}: ${err.message}`));
      };
      ws.once('open', onOpen);
      ws.once('error', onError);
    });
    call.#sendJson({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    if (opts.sendStart ?? true) call.sendStart();
    return call;
  }

  get isOpen(): boolean {
    return !this.#closed && this.#ws.readyState === WebSocket.OPEN;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A snapshot of the counters (playback is accounted at each buffered chunk's end). */
  get stats(): SimulatedTwilioCallStats {
    return { ...this.#stats };
  }

  /** μ-law audio that finished playing, in order (not what was cleared). */
  playedAudio(): Buffer {
    return Buffer.concat(this.#played);
  }

  /** Every μ-law byte the server sent in valid `media` messages. */
  receivedAudio(): Buffer {
    return Buffer.concat(this.#received);
  }

  sendStart(): void {
    if (this.#startedAtMs !== undefined) throw new Error('start was already sent');
    this.#startedAtMs = performance.now();
    this.#sendJson({
      event: 'start',
      sequenceNumber: this.#nextSequenceNumber(),
      start: {
        accountSid: this.accountSid,
        streamSid: this.streamSid,
        callSid: this.callSid,
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters: this.customParameters,
      },
      streamSid: this.streamSid,
    });
  }

  /**
   * Sends caller audio as 160-byte (20 ms) `media` frames, the last one padded with μ-law silence.
   * `realtime` (default) paces frames every 20 ms from a monotonic clock, continuing the previous
   * call's cadence without drift; `fast` sends everything at once. Calls are queued, never interleaved.
   * Resolves with the number of frames sent (fewer if the socket closed first).
   */
  sendAudio(mulaw: Uint8Array, opts?: { pace?: 'realtime' | 'fast' }): Promise<number> {
    const pace = opts?.pace ?? 'realtime';
    const run = this.#audioChain.then(() => this.#pumpAudio(mulaw, pace));
    this.#audioChain = run.catch(() => undefined);
    return run;
  }

  sendSilence(ms: number, opts?: { pace?: 'realtime' | 'fast' }): Promise<number> {
    return this.sendAudio(Buffer.alloc(Math.round(ms * BYTES_PER_MS), MULAW_SILENCE), opts);
  }

  sendDtmf(digit: string): void {
    if (!/^[0-9*#]$/.test(digit)) throw new RangeError(`not a DTMF key: ${digit}`);
    this.#requireStarted();
    this.#sendJson({
      event: 'dtmf',
      streamSid: this.streamSid,
      sequenceNumber: this.#nextSequenceNumber(),
      dtmf: { track: 'inbound_track', digit },
    });
  }

  /** Sends anything as is: a string as a text frame, a Buffer as a binary frame. For malformed-input tests. */
  sendRaw(data: string | Buffer): void {
    if (this.isOpen) this.#ws.send(data, { binary: typeof data !== 'string' });
  }

  /** Sends `stop` as Twilio does when the call ends, then (by default) closes the socket like Twilio. */
  async stop(opts?: { close?: boolean }): Promise<void> {
    this.#requireStarted();
    this.#sendJson({
      event: 'stop',
      sequenceNumber: this.#nextSequenceNumber(),
      stop: { accountSid: this.accountSid, callSid: this.callSid },
      streamSid: this.streamSid,
    });
    if (opts?.close ?? true) await this.close();
  }

  /** Closes the socket and releases every timer. Resolves once the socket is closed. */
  async close(code = 1000, reason = ''): Promise<void> {
    if (this.#closed) return;
    const closed = new Promise<void>((resolve) => this.#ws.once('close', () => resolve()));
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) this.#ws.close(code, reason);
    // A peer that never answers the close handshake must not hold the test: ws terminates after 30 s, we after 2 s.
    const guard = setTimeout(() => this.#ws.terminate(), 2000);
    try {
      await closed;
    } finally {
      clearTimeout(guard);
    }
  }

  /** Resolves when `predicate` holds, re-checked on every message, send, playback step and close. */
  waitFor(predicate: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
    if (predicate()) return Promise.resolve();
    if (this.#closed) return Promise.reject(new Error(`stream closed while waiting for ${what}`));
    return new Promise<void>((resolve, reject) => {
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        if (err) reject(err);
        else resolve();
      };
      const waiter: Waiter = {
        check: () => {
          try {
            if (predicate()) finish();
          } catch (err) {
            finish(err as Error);
          }
        },
        closed: () => {
          waiter.check();
          if (this.#waiters.has(waiter)) finish(new Error(`stream closed while waiting for ${what}`));
        },
      };
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  waitForMarkEcho(name: string, timeoutMs = 2000): Promise<void> {
    return this.waitFor(() => this.marksEchoed.includes(name), timeoutMs, `echo of mark ${JSON.stringify(name)}`);
  }

  waitForReceivedBytes(bytes: number, timeoutMs = 2000): Promise<void> {
    return this.waitFor(() => this.#stats.bytesReceived >= bytes, timeoutMs, `${bytes} bytes of outbound audio`);
  }

  waitForPlayedBytes(bytes: number, timeoutMs = 2000): Promise<void> {
    return this.waitFor(() => this.#stats.bytesPlayed >= bytes, timeoutMs, `${bytes} bytes played`);
  }

  /** Resolves with the close code and reason once the server (or we) closed the socket. */
  async waitForClose(timeoutMs = 2000): Promise<{ code: number; reason: string }> {
    await this.waitFor(() => this.#closed, timeoutMs, 'the socket to close').catch((err: unknown) => {
      if (!this.#closed) throw err;
    });
    return this.closeInfo ?? { code: 1006, reason: '' };
  }

  // ── sending ───────────────────────────────────────────────────────────────────────────────────

  #nextSequenceNumber(): string {
    this.#sequenceNumber += 1;
    return String(this.#sequenceNumber);
  }

  #requireStarted(): void {
    if (this.#startedAtMs === undefined) throw new Error('send start first');
  }

  #sendJson(message: object): void {
    if (!this.isOpen) return;
    this.#ws.send(JSON.stringify(message));
  }

  async #pumpAudio(mulaw: Uint8Array, pace: 'realtime' | 'fast'): Promise<number> {
    this.#requireStarted();
    let sent = 0;
    if (pace === 'realtime') {
      const now = performance.now();
      // Back-to-back calls keep the 20 ms grid; after an idle gap the grid restarts now.
      if (this.#nextFrameAtMs < now - FRAME_MS) this.#nextFrameAtMs = now;
    }
    for (let offset = 0; offset < mulaw.length; offset += FRAME_BYTES) {
      if (pace === 'realtime') {
        const waitMs = this.#nextFrameAtMs - performance.now();
        if (waitMs > 0) await this.#sleepMs(waitMs);
        this.#nextFrameAtMs += FRAME_MS;
      }
      if (!this.isOpen) break;
      let frame = Buffer.from(mulaw.subarray(offset, offset + FRAME_BYTES));
      if (frame.length < FRAME_BYTES) frame = Buffer.concat([frame, Buffer.alloc(FRAME_BYTES - frame.length, MULAW_SILENCE)]);
      this.#sendFrame(frame);
      sent += 1;
    }
    return sent;
  }

  #sendFrame(frame: Buffer): void {
    // Twilio's stream clock: audio position, jumping forward over gaps in which nothing was sent.
    const elapsedMs = Math.round(performance.now() - (this.#startedAtMs ?? 0));
    const timestampMs = Math.max(this.#nextTimestampMs, elapsedMs);
    this.#nextTimestampMs = timestampMs + FRAME_MS;
    this.#chunk += 1;
    this.#sendJson({
      event: 'media',
      sequenceNumber: this.#nextSequenceNumber(),
      media: { track: 'inbound', chunk: String(this.#chunk), timestamp: String(timestampMs), payload: frame.toString('base64') },
      streamSid: this.streamSid,
    });
    this.#stats.framesSent += 1;
    this.#checkWaiters();
  }

  #sleepMs(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#sleep = undefined;
        resolve();
      }, ms);
      this.#sleep = { timer, resolve };
    });
  }

  // ── receiving ─────────────────────────────────────────────────────────────────────────────────

  #violation(description: string): void {
    this.protocolViolations.push(description);
    this.emit('violation', description);
  }

  #onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.#violation('31950 binary frame (Twilio only decodes text frames)');
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.#violation(`31951 non-JSON text: ${text.slice(0, 80)}`);
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.#violation(`31951 not a JSON object: ${text.slice(0, 80)}`);
      return;
    }
    this.#handle(message as Record<string, unknown>);
    this.#checkWaiters();
  }

  #handle(msg: Record<string, unknown>): void {
    const event = msg['event'];
    if (event !== 'media' && event !== 'mark' && event !== 'clear') {
      this.#violation(`31951 unknown event ${JSON.stringify(event)}`);
      return;
    }
    const shape: Record<typeof event, string[]> = { media: ['event', 'streamSid', 'media'], mark: ['event', 'streamSid', 'mark'], clear: ['event', 'streamSid'] };
    if (!this.#exactFields(event, msg, shape[event])) return;
    if (this.#startedAtMs === undefined) {
      this.#violation(`31951 ${event} before start (no streamSid was issued yet)`);
      return;
    }
    if (msg['streamSid'] !== this.streamSid) {
      this.#violation(`31951 ${event} with wrong streamSid ${JSON.stringify(msg['streamSid'])}`);
      return;
    }
    switch (event) {
      case 'media': {
        const media = msg['media'];
        if (!this.#isObject(event, 'media', media) || !this.#exactFields('media.media', media, ['payload'])) return;
        const payload = media['payload'];
        if (typeof payload !== 'string' || !BASE64_RE.test(payload)) {
          this.#violation('31951 media.payload is not a base64 string');
          return;
        }
        this.#onMedia(Buffer.from(payload, 'base64'));
        return;
      }
      case 'mark': {
        const mark = msg['mark'];
        if (!this.#isObject(event, 'mark', mark) || !this.#exactFields('mark.mark', mark, ['name'])) return;
        const name = mark['name'];
        if (typeof name !== 'string') {
          this.#violation('31951 mark.name is not a string');
          return;
        }
        this.#onMark(name);
        return;
      }
      case 'clear':
        this.#onClear();
        return;
    }
  }

  #isObject(event: string, field: string, value: unknown): value is Record<string, unknown> {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return true;
    this.#violation(`31951 ${event}: ${field} is not an object`);
    return false;
  }

  #exactFields(where: string, obj: Record<string, unknown>, fields: string[]): boolean {
    const missing = fields.filter((f) => !(f in obj));
    const extra = Object.keys(obj).filter((f) => !fields.includes(f));
    if (missing.length === 0 && extra.length === 0) return true;
    const parts = [];
    if (missing.length > 0) parts.push(`missing ${missing.join(', ')}`);
    if (extra.length > 0) parts.push(`extra ${extra.join(', ')}`);
    this.#violation(`31951 ${where}: ${parts.join('; ')}`);
    return false;
  }

  // ── playback ──────────────────────────────────────────────────────────────────────────────────

  #onMedia(audio: Buffer): void {
    if (audio.length >= 4 && audio.toString('latin1', 0, 4) === 'RIFF') {
      // Not a Twilio warning: Twilio would play the header as noise. Flag it all the same.
      this.#violation('media payload starts with a RIFF/WAV header (played as noise)');
    }
    this.#advancePlayback();
    this.#stats.mediaMessagesReceived += 1;
    this.#stats.bytesReceived += audio.length;
    if (this.#recordAudio) this.#received.push(audio);
    if (audio.length > 0) {
      if (this.#queue.length === 0) {
        this.#playClockMs = performance.now();
        this.#playCarryBytes = 0;
      }
      this.#queue.push({ kind: 'audio', data: audio, offset: 0 });
      this.#stats.bytesBuffered += audio.length;
      this.#schedulePlayback();
    }
    this.emit('media', audio);
  }

  #onMark(name: string): void {
    this.#stats.marksReceived += 1;
    this.marksSent.push(name);
    this.#advancePlayback();
    if (this.#queue.length === 0) this.#echoMark(name);
    else this.#queue.push({ kind: 'mark', name });
  }

  #onClear(): void {
    this.#advancePlayback();
    this.#clearPlayTimer();
    let discardedBytes = 0;
    const echoedMarks: string[] = [];
    for (const item of this.#queue.splice(0)) {
      if (item.kind === 'audio') discardedBytes += item.data.length - item.offset;
      else echoedMarks.push(item.name);
    }
    this.#stats.bytesDiscarded += discardedBytes;
    this.#stats.bytesBuffered = 0;
    this.#stats.clears += 1;
    for (const name of echoedMarks) this.#echoMark(name);
    this.emit('clear', { discardedBytes, echoedMarks });
  }

  #echoMark(name: string): void {
    this.#sendJson({ event: 'mark', sequenceNumber: this.#nextSequenceNumber(), streamSid: this.streamSid, mark: { name } });
    this.#stats.marksEchoed += 1;
    this.marksEchoed.push(name);
    this.emit('mark', name);
  }

  /** Plays what the elapsed time allows, echoing marks whose preceding audio is done. */
  #advancePlayback(): void {
    const now = performance.now();
    if (this.#queue.length === 0) {
      this.#playClockMs = now;
      return;
    }
    // A tiny epsilon keeps float error from leaving a 1-byte remainder and an extra timer tick.
    let budget = (now - this.#playClockMs) * BYTES_PER_MS * this.#playbackRate + this.#playCarryBytes + 1e-6;
    this.#playClockMs = now;
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      if (head.kind === 'mark') {
        this.#queue.shift();
        this.#echoMark(head.name);
        continue;
      }
      const remaining = head.data.length - head.offset;
      const take = Math.min(remaining, Math.floor(budget));
      if (take > 0) {
        if (this.#recordAudio) this.#played.push(head.data.subarray(head.offset, head.offset + take));
        head.offset += take;
        budget -= take;
        this.#stats.bytesPlayed += take;
        this.#stats.bytesBuffered -= take;
      }
      if (head.offset < head.data.length) break;
      this.#queue.shift();
    }
    this.#playCarryBytes = this.#queue.length > 0 ? Math.max(0, budget - 1e-6) : 0;
  }

  #schedulePlayback(): void {
    if (this.#playTimer !== undefined || this.#closed) return;
    const head = this.#queue[0];
    if (head === undefined || head.kind !== 'audio') return;
    const remaining = head.data.length - head.offset - this.#playCarryBytes;
    const delayMs = Math.max(1, Math.ceil(remaining / (BYTES_PER_MS * this.#playbackRate)));
    this.#playTimer = setTimeout(() => {
      this.#playTimer = undefined;
      this.#advancePlayback();
      this.#schedulePlayback();
      this.#checkWaiters();
    }, delayMs);
  }

  #clearPlayTimer(): void {
    if (this.#playTimer !== undefined) clearTimeout(this.#playTimer);
    this.#playTimer = undefined;
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────────────────────

  #checkWaiters(): void {
    for (const waiter of [...this.#waiters]) waiter.check();
  }

  #onClose(code: number, reason: string): void {
    if (this.#closed) return;
    // Whatever is still buffered is neither played nor echoed: the stream is gone.
    this.#closed = true;
    this.closeInfo = { code, reason };
    this.#clearPlayTimer();
    if (this.#sleep !== undefined) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.resolve();
      this.#sleep = undefined;
    }
    this.emit('close', this.closeInfo);
    for (const waiter of [...this.#waiters]) waiter.closed();
  }
}
