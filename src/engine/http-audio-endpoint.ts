// One OpenAI-compatible audio endpoint (`POST {base}/audio/transcriptions` or `POST {base}/audio/speech`)
// reached with plain fetch: the URL built from a base URL, the key, one deadline per request (body
// included), and every failure turned into a StageError that names the endpoint, never the key.
import { serverErrorMessage } from './dialogue/chat-completions/chat-errors.js';
import { StageError } from './stage.js';

export type AudioEndpointPath = 'audio/transcriptions' | 'audio/speech';

export interface HttpAudioEndpointOptions {
  /** The API root, e.g. `https://api.openai.com/v1`. A pasted full endpoint URL is accepted too. */
  baseUrl: string;
  path: AudioEndpointPath;
  /** `STT` or `TTS`: prefixes error messages and names the key variable (`STT_API_KEY`). */
  stage: 'STT' | 'TTS';
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  /** Time allowed for one request, from sending to the last byte of the answer. */
  timeoutMs: number;
  /** For tests and custom transports. Default: the global fetch. */
  fetchImpl?: typeof fetch;
}

export interface AudioEndpointResponse {
  contentType: string;
  body: Uint8Array;
  /** Time from sending the request to the answer's last byte. */
  elapsedMs: number;
}

/** Abort reasons of our own, told apart from the caller's. */
const TIMED_OUT = Symbol('timed out');
const CLOSED = Symbol('closed');

export class HttpAudioEndpoint {
  /** The endpoint as errors and logs name it: no credentials, no query. */
  readonly where: string;
  readonly #url: string;
  readonly #stage: 'STT' | 'TTS';
  readonly #authorization: string | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #active = new Set<AbortController>();
  #closed = false;

  constructor(options: HttpAudioEndpointOptions) {
    const { stage } = options;
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new TypeError(`${stage}: base URL is not a URL: ${JSON.stringify(options.baseUrl)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`${stage}: base URL must be http(s), got ${url.protocol}`);
    if (!(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) throw new TypeError(`${stage}: timeoutMs must be a positive number, got ${options.timeoutMs}`);
    // `…/v1`, `…/v1/` and a pasted `…/v1/audio/speech` all mean the same endpoint.
    const root = url.pathname.replace(/\/+$/, '').replace(/\/audio\/(transcriptions|speech|translations)$/, '');
    url.pathname = `${root}/${options.path}`;
    url.hash = '';
    // fetch refuses URLs with credentials (and would print them in its error): they become a Basic header.
    const basic = url.username || url.password ? Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64') : undefined;
    url.username = '';
    url.password = '';
    this.#url = url.href;
    this.where = `${url.origin}${url.pathname}`;
    this.#stage = stage;
    this.#authorization = options.apiKey ? `Bearer ${options.apiKey}` : basic ? `Basic ${basic}` : undefined;
    this.#timeoutMs = options.timeoutMs;
    this.#fetch = options.fetchImpl ?? fetch;
  }

  /** Requests in flight. */
  get active(): number {
    return this.#active.size;
  }

  /**
   * Sends one request and reads the whole answer. Rejects with a StageError: `aborted` when `signal`
   * fired, `closed` after `close`, otherwise what the failure means (see `httpStatusError`).
   */
  async post(body: string | FormData, headers: Record<string, string>, signal?: AbortSignal): Promise<AudioEndpointResponse> {
    if (this.#closed) throw new StageError('closed', `${this.#stage}: the endpoint was closed`);
    if (signal?.aborted) throw new StageError('aborted', `${this.#stage}: aborted`);
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#active.add(controller);
    const timer = setTimeout(() => controller.abort(TIMED_OUT), this.#timeoutMs);
    const started = performance.now();
    try {
      const response = await this.#send(body, headers, controller.signal);
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (!response.ok) {
        throw httpStatusError(this.#stage, this.where, response.status, Buffer.from(bytes).toString('utf8'), response.headers.get('retry-after'));
      }
      return { contentType: response.headers.get('content-type') ?? '', body: bytes, elapsedMs: performance.now() - started };
    } catch (error) {
      const reason: unknown = controller.signal.reason;
      if (signal?.aborted) throw new StageError('aborted', `${this.#stage}: aborted`, { cause: error });
      if (reason === CLOSED) throw new StageError('closed', `${this.#stage}: the endpoint was closed`, { cause: error });
      if (reason === TIMED_OUT) {
        throw new StageError('unavailable', `${this.#stage}: ${this.where} did not answer within ${this.#timeoutMs} ms`, { retryable: true, cause: error });
      }
      if (error instanceof StageError) throw error;
      throw networkError(this.#stage, this.where, error);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      this.#active.delete(controller);
    }
  }

  /** Aborts every request in flight; later requests reject with `closed`. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const controller of this.#active) controller.abort(CLOSED);
    this.#active.clear();
  }

  async #send(body: string | FormData, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    const init = { method: 'POST', headers: { ...headers, ...(this.#authorization ? { authorization: this.#authorization } : {}) }, body, signal };
    try {
      return await this.#fetch(this.#url, init);
    } catch (error) {
      // A kept-alive socket the server had already closed fails before any answer ("other side closed",
      // ECONNRESET): the request never ran, so it is sent once more on a fresh connection.
      if (signal.aborted || !isStaleConnection(error)) throw error;
      return this.#fetch(this.#url, init);
    }
  }
}

/** An HTTP failure status, classified: what to fix, and whether trying again may help. */
export function httpStatusError(stage: 'STT' | 'TTS', where: string, status: number, body: string, retryAfter: string | null): StageError {
  const { message, code } = serverErrorMessage(body);
  const said = `HTTP ${status}${message ? `: ${message}` : ''}`;
  if (status === 401 || status === 403) {
    return new StageError('unavailable', `${stage}: ${where} refused the request (${said}); check ${stage}_API_KEY`, { retryable: false });
  }
  if (status === 404) {
    return new StageError('unavailable', `${stage}: ${where} does not exist or does not serve the model (${said}); the base URL should be the API root, e.g. http://host:8000/v1`, {
      retryable: false,
    });
  }
  if (status === 429) {
    // OpenAI answers an exhausted quota with 429 too; waiting does not help.
    if (code === 'insufficient_quota') return new StageError('unavailable', `${stage}: ${where}: quota exhausted (${said})`, { retryable: false });
    return new StageError('unavailable', `${stage}: ${where} is rate limiting (${said})${retryAfter ? `; retry after ${retryAfter} s` : ''}`, { retryable: true });
  }
  if (status === 408) return new StageError('unavailable', `${stage}: ${where} timed out (${said})`, { retryable: true });
  if (status >= 400 && status < 500) return new StageError('bad_input', `${stage}: ${where} rejected the request (${said})`, { retryable: false });
  if (status === 502 || status === 503 || status === 504) return new StageError('unavailable', `${stage}: ${where} is unavailable (${said})`, { retryable: true });
  return new StageError('internal', `${stage}: ${where} failed (${said})`, { retryable: true });
}

/** fetch's own failure: the server is unreachable or the connection broke. */
function networkError(stage: string, where: string, error: unknown): StageError {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = isRecord(cause) && typeof cause.code === 'string' ? cause.code : undefined;
  const reason = code ?? (cause instanceof Error ? cause.message : String(cause));
  return new StageError('unavailable', `${stage}: cannot reach ${where} (${reason})`, { retryable: true, cause: error });
}

function isStaleConnection(error: unknown): boolean {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const code = isRecord(cause) && typeof cause.code === 'string' ? cause.code : '';
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE';
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
