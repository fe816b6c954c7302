// The client side of one Realtime WebSocket, used by the call bridge whether the far side is OpenAI
// (GA or beta shape) or Koe's engine. Koe speaks GA: what is sent is translated to beta when the
// server is beta, and what arrives is translated back, validated, and emitted as typed events.
// Bad frames are reported on `invalid` and never close the socket.

import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { clientEventGaToBeta, createBetaToGaState, type BetaToGaState, type RealtimeShape } from './beta.js';
import type { RealtimeClientEvent } from './client-events.js';
import { decodeServerFrame } from './server-event-parser.js';
import type { RealtimeServerEvent } from './server-events.js';

export type { RealtimeShape } from './beta.js';

export interface RealtimeConnectOptions {
  /** `wss://api.openai.com/v1/realtime`, or Koe's engine (`ws://…/v1/realtime`). */
  url: string;
  shape: RealtimeShape;
  /** Sent as `Authorization: Bearer …`; never logged. */
  apiKey?: string;
  /** Added as `?model=` unless the URL already names one. */
  model?: string;
  /** From the first byte to the open socket, TCP and TLS included. */
  connectTimeoutMs: number;
  /** Aborting destroys the socket at once: mid-handshake, or later for the connection's whole life. */
  signal?: AbortSignal;
  /** Largest accepted frame; default 16 MiB. */
  maxPayloadBytes?: number;
  headers?: Record<string, string>;
}

export class RealtimeConnectError extends Error {
  readonly retryable: boolean;
  /** HTTP status the server answered the upgrade with, when it refused it. */
  readonly status?: number;

  constructor(message: string, opts: { retryable: boolean; status?: number; cause?: unknown; name?: string }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = opts.name ?? 'RealtimeConnectError';
    this.retryable = opts.retryable;
    if (opts.status !== undefined) this.status = opts.status;
  }
}

export interface RealtimeCloseInfo {
  code: number;
  reason: string;
  error?: Error;
}

const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
/** After `close()`, how long the peer gets to finish the closing handshake before the socket is cut. */
const CLOSE_GRACE_MS = 2000;

/** 401/403 and other 4xx refusals will not change on retry; 408, 429 and 5xx may. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export function buildRealtimeUrl(url: string, model: string | undefined): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`realtime url is not a valid URL: ${url}`);
  }
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(parsed.protocol)) {
    throw new TypeError(`realtime url must be ws(s):// or http(s)://, got ${parsed.protocol}`);
  }
  if (model !== undefined && model !== '' && !parsed.searchParams.has('model')) parsed.searchParams.set('model', model);
  return parsed;
}

function abortError(signal: AbortSignal): RealtimeConnectError {
  return new RealtimeConnectError('realtime connect aborted', {
    retryable: false,
    name: 'AbortError',
    cause: signal.reason,
  });
}

export class RealtimeConnection extends EventEmitter<{
  event: [RealtimeServerEvent];
  invalid: [{ raw: string; reason: string }];
  close: [RealtimeCloseInfo];
}> {
  readonly shape: RealtimeShape;
  readonly #ws: WebSocket;
  readonly #betaState: BetaToGaState | undefined;
  #closing = false;
  #closeEmitted = false;
  #error: Error | undefined;
  #closeTimer: NodeJS.Timeout | undefined;
  #abortReason: string | undefined;
  /**
   * Frames that arrived before the caller could listen: the server's first event often shares
   * the TCP chunk of the 101 response, and ws emits it synchronously, before the continuation of
   * `await connect()` runs. They are delivered on the next macrotask, in order.
   */
  #held: { data: WebSocket.RawData; isBinary: boolean }[] | null = [];
  #heldClose: { code: number; reason: string } | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => {
    if (this.#closeEmitted) return;
    this.#closing = true;
    this.#abortReason = 'aborted';
    this.#ws.terminate();
  };

  /**
   * Opens the socket. Resolves once it is open; rejects with a `RealtimeConnectError` on timeout,
   * refusal (`status` set) or network failure, and with one named `AbortError` when `signal` aborts.
   * Invalid options throw at once.
   */
  static connect(opts: RealtimeConnectOptions): Promise<RealtimeConnection> {
    if (!(opts.connectTimeoutMs > 0) || !Number.isFinite(opts.connectTimeoutMs)) {
      throw new RangeError(`connectTimeoutMs must be a positive number, got ${opts.connectTimeoutMs}`);
    }
    if (opts.shape !== 'ga' && opts.shape !== 'beta') throw new TypeError(`shape must be 'ga' or 'beta', got ${String(opts.shape)}`);
    const url = buildRealtimeUrl(opts.url, opts.model);
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(abortError(signal));

    const headers: Record<string, string> = { ...opts.headers };
    if (opts.apiKey) headers.Authorization = `Bearer ${opts.apiKey}`;
    if (opts.shape === 'beta') headers['OpenAI-Beta'] = 'realtime=v1';

    const ws = new WebSocket(url, {
      headers,
      maxPayload: opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
      // Base64 audio barely compresses, and inflating every frame of every call costs CPU.
      perMessageDeflate: false,
    });

    return new Promise<RealtimeConnection>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        fail(new RealtimeConnectError(`realtime connect timed out after ${opts.connectTimeoutMs} ms`, { retryable: true }));
      }, opts.connectTimeoutMs);
      const onAbort = (): void => {
        if (signal) fail(abortError(signal));
      };
      const onError = (err: Error): void => {
        fail(new RealtimeConnectError(`realtime connect failed: ${err.message}`, { retryable: true, cause: err }));
      };
      const onUnexpectedResponse = (_req: unknown, res: { statusCode?: number; resume(): void }): void => {
        const status = res.statusCode ?? 0;
        res.resume();
        fail(
          new RealtimeConnectError(`realtime server refused the connection with HTTP ${status}`, {
            retryable: isRetryableStatus(status),
            status,
          }),
        );
      };
      const onOpen = (): void => {
        if (settled) return;
        settled = true;
        cleanup();
        resolve(new RealtimeConnection(ws, opts.shape, signal));
      };
      function cleanup(): void {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        ws.off('open', onOpen);
        ws.off('error', onError);
        ws.off('unexpected-response', onUnexpectedResponse);
      }
      function fail(err: RealtimeConnectError): void {
        if (settled) return;
        settled = true;
        cleanup();
        // `terminate` while connecting destroys the request and its socket; the error it emits
        // later must not be unhandled.
        ws.on('error', () => undefined);
        ws.terminate();
        reject(err);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      ws.on('open', onOpen);
      ws.on('error', onError);
      ws.on('unexpected-response', onUnexpectedResponse);
    });
  }

  private constructor(ws: WebSocket, shape: RealtimeShape, signal: AbortSignal | undefined) {
    super();
    this.shape = shape;
    this.#ws = ws;
    this.#signal = signal;
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (signal?.aborted) queueMicrotask(this.#onAbort);
    this.#betaState = shape === 'beta' ? createBetaToGaState() : undefined;
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (this.#held) this.#held.push({ data, isBinary });
      else this.#onMessage(data, isBinary);
    });
    ws.on('error', (err: Error) => {
      this.#error ??= err;
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (this.#held) this.#heldClose = { code, reason: reason.toString('utf8') };
      else this.#emitClose(code, reason.toString('utf8'));
    });
    setImmediate(() => this.#release());
  }

  get isOpen(): boolean {
    return !this.#closing && this.#ws.readyState === WebSocket.OPEN;
  }

  /** Bytes queued in the socket, not yet written: back-pressure for the caller. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** Sends one GA event (translated for a beta server). False, without throwing, once closed. */
  send(event: RealtimeClientEvent): boolean {
    if (!this.isOpen) return false;
    const wire = this.shape === 'beta' ? clientEventGaToBeta(event) : event;
    this.#ws.send(JSON.stringify(wire));
    return true;
  }

  /** Idempotent. Events still arriving are dropped; `close` is emitted once, when the socket is gone. */
  close(code = 1000, reason = ''): void {
    if (this.#closing) return;
    const ws = this.#ws;
    if (ws.readyState === WebSocket.OPEN) {
      ws.close(code, reason);
      this.#closeTimer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
      this.#closeTimer.unref();
    }
    this.#closing = true;
  }

  #release(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const frame of held) this.#onMessage(frame.data, frame.isBinary);
    if (this.#heldClose) this.#emitClose(this.#heldClose.code, this.#heldClose.reason);
  }

  #onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.#closing) return;
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.isBuffer(data)
        ? data.toString('utf8')
        : Buffer.from(data).toString('utf8');
    if (isBinary) {
      this.emit('invalid', { raw: text, reason: 'binary frame' });
      return;
    }
    for (const result of decodeServerFrame(text, this.shape, this.#betaState)) {
      if (this.#closing) return;
      if (result.ok) this.emit('event', result.event);
      else this.emit('invalid', { raw: text, reason: result.reason });
    }
  }

  #emitClose(code: number, reason: string): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.#closing = true;
    clearTimeout(this.#closeTimer);
    this.#signal?.removeEventListener('abort', this.#onAbort);
    const info: RealtimeCloseInfo = { code, reason: this.#abortReason ?? reason };
    if (this.#error) info.error = this.#error;
    this.emit('close', info);
  }
}
