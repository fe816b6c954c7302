// One call's link to the realtime model: connects (retrying once), configures the session and waits for
// `session.updated`, holds caller audio that arrives before the model is ready (nothing is dropped), and
// reconnects once if the socket drops mid-call, re-seeding the conversation so the model keeps context.
import { EventEmitter } from 'node:events';
import type { Logger } from '../log/logger.js';
import type { KoeMetrics } from '../metrics/metrics.js';
import type { RealtimeClientEvent, RealtimeServerEvent } from '../realtime/index.js';
import { InputAudioClock } from './input-audio-clock.js';
import type { SessionUpdatePayload } from './session-config.js';

export interface ModelConnection {
  send(event: RealtimeClientEvent): boolean;
  close(code?: number, reason?: string): void;
  on(event: 'event', listener: (event: RealtimeServerEvent) => void): this;
  on(event: 'invalid', listener: (info: { raw: string; reason: string }) => void): this;
  on(event: 'close', listener: (info: { code: number; reason: string; error?: Error }) => void): this;
}

/** Opens a realtime connection; must honour the signal (abort = no socket left open). */
export type ModelConnector = (signal: AbortSignal) => Promise<ModelConnection>;

export class ModelSetupError extends Error {
  constructor(
    message: string,
    /** False when retrying cannot help (the session configuration was refused). */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ModelSetupError';
  }
}

interface BufferedFrame {
  audio: Buffer;
  arrivedAtMs: number;
}

const MULAW_BYTES_PER_MS = 8;
const SESSION_UPDATE_EVENT_ID = 'koe_session_setup';
const RETRY_DELAY_MS = 250;
/** Buffered audio is flushed in appends of about a second instead of one message per 20 ms frame. */
const FLUSH_APPEND_MS = 1000;

export interface ModelLinkOptions {
  connect: ModelConnector;
  /** The session configuration, asked for on every (re)connect. */
  sessionPayload: () => SessionUpdatePayload;
  /** Items that re-create the conversation so far on a fresh model session. */
  conversationSeed: () => RealtimeClientEvent[];
  handshakeTimeoutMs: number;
  maxBufferedAudioMs: number;
  maxReconnects: number;
  log: Logger;
  metrics: KoeMetrics;
  signal: AbortSignal;
}

type LinkState = 'idle' | 'connecting' | 'ready' | 'closed';

export class ModelLink extends EventEmitter<{
  ready: [{ reconnect: boolean }];
  event: [RealtimeServerEvent];
  /** The model is gone for good: connecting failed twice or a dropped socket could not be replaced. */
  failed: [ModelSetupError];
}> {
  #state: LinkState = 'idle';
  #connection: ModelConnection | undefined;
  #buffer: BufferedFrame[] = [];
  #bufferedMs = 0;
  #reconnects = 0;
  readonly clock = new InputAudioClock();

  constructor(private readonly opts: ModelLinkOptions) {
    super();
    opts.signal.addEventListener('abort', () => this.close(), { once: true });
  }

  get ready(): boolean {
    return this.#state === 'ready';
  }

  start(): void {
    if (this.#state !== 'idle') return;
    this.#run(false).catch((err: unknown) => this.opts.log.error({ err }, 'model link crashed'));
  }

  /** Sends caller audio now, or buffers it until the model is ready. */
  appendAudio(mulaw: Buffer, arrivedAtMs: number): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'ready' && this.#connection) {
      this.clock.record(mulaw.length / MULAW_BYTES_PER_MS, arrivedAtMs);
      this.#connection.send({ type: 'input_audio_buffer.append', audio: mulaw.toString('base64') });
      return;
    }
    this.#buffer.push({ audio: mulaw, arrivedAtMs });
    this.#bufferedMs += mulaw.length / MULAW_BYTES_PER_MS;
    while (this.#bufferedMs > this.opts.maxBufferedAudioMs && this.#buffer.length > 1) {
      const dropped = this.#buffer.shift() as BufferedFrame;
      this.#bufferedMs -= dropped.audio.length / MULAW_BYTES_PER_MS;
      this.opts.metrics.badInput.inc({ source: 'twilio', kind: 'audio_buffer_overflow' });
    }
  }

  /** Sends a client event if the model is ready; returns false otherwise. */
  send(event: RealtimeClientEvent): boolean {
    if (this.#state !== 'ready' || !this.#connection) return false;
    return this.#connection.send(event);
  }

  /** A method, not a property read, so TypeScript does not narrow it away across awaits. */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#buffer = [];
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.close(1000, 'call ended');
  }

  async #run(reconnect: boolean): Promise<void> {
    this.#state = 'connecting';
    let lastError: ModelSetupError | undefined;
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      if (this.opts.signal.aborted) return;
      try {
        const connection = await this.#connectAndConfigure();
        if (this.#isClosed()) {
          connection.close(1000, 'call ended');
          return;
        }
        this.#state = 'ready';
        if (reconnect) for (const event of this.opts.conversationSeed()) connection.send(event);
        this.#flushBuffer(connection);
        this.emit('ready', { reconnect });
        return;
      } catch (err) {
        if (this.opts.signal.aborted || this.#isClosed()) return;
        lastError = err instanceof ModelSetupError ? err : new ModelSetupError((err as Error).message, true);
        this.opts.metrics.modelConnectFailures.inc({ retryable: String(lastError.retryable) });
        this.opts.log.warn({ attempt, err: lastError.message, retryable: lastError.retryable }, 'model connection failed');
        if (!lastError.retryable) break;
        if (attempt === 1) await delay(RETRY_DELAY_MS, this.opts.signal);
      }
    }
    if (this.#isClosed()) return;
    this.close();
    this.emit('failed', lastError ?? new ModelSetupError('model connection failed', false));
  }

  /** Opens a socket, sends session.update and resolves on session.updated. */
  async #connectAndConfigure(): Promise<ModelConnection> {
    const connection = await this.opts.connect(this.opts.signal);
    return new Promise<ModelConnection>((resolve, reject) => {
      let settled = false;
      const settle = (err?: ModelSetupError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.opts.signal.removeEventListener('abort', onAbort);
        if (err) {
          connection.close(1000, 'setup failed');
          reject(err);
          return;
        }
        // Adopted synchronously: events in the same socket read as session.updated must not be lost.
        this.#connection = connection;
        resolve(connection);
      };
      const onAbort = (): void => settle(new ModelSetupError('call ended during model setup', false));
      const timer = setTimeout(
        () => settle(new ModelSetupError(`no session.updated within ${this.opts.handshakeTimeoutMs} ms`, true)),
        this.opts.handshakeTimeoutMs,
      );
      this.opts.signal.addEventListener('abort', onAbort, { once: true });
      connection.on('event', (event) => {
        if (!settled) {
          if (event.type === 'session.updated') settle();
          else if (event.type === 'error' && errorEventId(event) === SESSION_UPDATE_EVENT_ID) {
            settle(new ModelSetupError(`the model refused the session configuration: ${errorMessage(event)}`, false));
          }
          return;
        }
        if (connection === this.#connection) this.emit('event', event);
      });
      connection.on('invalid', ({ reason }) => {
        this.opts.metrics.badInput.inc({ source: 'model', kind: 'invalid_event' });
        this.opts.log.warn({ reason }, 'dropped an invalid message from the model');
      });
      connection.on('close', ({ code, reason }) => {
        if (!settled) {
          settle(new ModelSetupError(`model socket closed during setup (${code} ${reason})`, true));
          return;
        }
        if (connection !== this.#connection || this.#state === 'closed') return;
        this.opts.log.warn({ code, reason }, 'model socket dropped mid-call');
        this.#onDropped();
      });
      connection.send({ type: 'session.update', event_id: SESSION_UPDATE_EVENT_ID, session: this.opts.sessionPayload() });
    });
  }

  #onDropped(): void {
    this.#connection = undefined;
    if (this.#reconnects >= this.opts.maxReconnects) {
      this.close();
      this.emit('failed', new ModelSetupError('the model socket dropped and the reconnect budget is spent', false));
      return;
    }
    this.#reconnects += 1;
    this.clock.reset();
    this.#run(true).catch((err: unknown) => this.opts.log.error({ err }, 'model reconnect crashed'));
  }

  #flushBuffer(connection: ModelConnection): void {
    const frames = this.#buffer;
    this.#buffer = [];
    this.#bufferedMs = 0;
    let batch: Buffer[] = [];
    let batchMs = 0;
    const sendBatch = (): void => {
      if (batch.length === 0) return;
      connection.send({ type: 'input_audio_buffer.append', audio: Buffer.concat(batch).toString('base64') });
      batch = [];
      batchMs = 0;
    };
    for (const frame of frames) {
      const ms = frame.audio.length / MULAW_BYTES_PER_MS;
      this.clock.record(ms, frame.arrivedAtMs);
      batch.push(frame.audio);
      batchMs += ms;
      if (batchMs >= FLUSH_APPEND_MS) sendBatch();
    }
    sendBatch();
  }
}

function errorEventId(event: RealtimeServerEvent): string | undefined {
  const error = (event as { error?: { event_id?: unknown } }).error;
  return typeof error?.event_id === 'string' ? error.event_id : undefined;
}

function errorMessage(event: RealtimeServerEvent): string {
  const error = (event as { error?: { message?: unknown; code?: unknown } }).error;
  return `${typeof error?.code === 'string' ? `${error.code}: ` : ''}${typeof error?.message === 'string' ? error.message : 'unknown error'}`;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
