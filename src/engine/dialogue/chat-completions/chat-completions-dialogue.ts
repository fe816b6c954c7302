// The dialogue step through any OpenAI-compatible `POST /chat/completions` endpoint (Ollama, llama.cpp's
// server, vLLM, LocalAI, OpenAI), streamed over Server-Sent Events with plain fetch.
import type { DialogueEngine, DialogueEvent, DialogueRequest, DialogueUsage } from '../dialogue.js';
import { DialogueError, estimateTokens, verbatimLine } from '../dialogue.js';
import { httpError, networkError, serverErrorMessage, streamError } from './chat-errors.js';
import { chatCompletionsBody, OPENAI_COMPATIBILITY, type BodyCompatibility, type ChatCompletionsBody } from './chat-request.js';
import { ChatStream, isRecord } from './chat-stream.js';
import { readServerSentEvents } from './server-sent-events.js';

export interface ChatCompletionsDialogueOptions {
  /** The API root, e.g. `http://127.0.0.1:11434/v1`; `/chat/completions` is appended. */
  baseUrl: string;
  model: string;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  /**
   * How long the server may stay silent: until the first token (which includes a local server loading
   * its model), and between chunks after that. Default 30 000 ms.
   */
  timeoutMs?: number;
  /** Sampling temperature; the server's default when unset. */
  temperature?: number;
  extraHeaders?: Record<string, string>;
  /**
   * The field that carries `maxOutputTokens`. OpenAI's newer models accept only `max_completion_tokens`;
   * Ollama reads only `max_tokens`. Default: `max_completion_tokens` for api.openai.com, else `max_tokens`.
   * Either way the engine switches once if a server refuses the field it sent.
   */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /** For tests and custom transports. Default: the global fetch. */
  fetchImpl?: typeof fetch;
}

export const DEFAULT_CHAT_TIMEOUT_MS = 30_000;

/** Abort reasons of our own, told apart from the caller's. */
const TIMED_OUT = Symbol('timed out');
const CLOSED = Symbol('closed');

export function createChatCompletionsDialogue(options: ChatCompletionsDialogueOptions): DialogueEngine {
  return new ChatCompletionsDialogue(options);
}

class ChatCompletionsDialogue implements DialogueEngine {
  readonly name: string;
  readonly #url: string;
  /** The endpoint as errors name it: no credentials, no query. */
  readonly #where: string;
  readonly #model: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #temperature: number | undefined;
  readonly #fetch: typeof fetch;
  readonly #compat: BodyCompatibility;
  readonly #active = new Set<AbortController>();
  #closed = false;

  constructor(options: ChatCompletionsDialogueOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new TypeError(`chat completions: baseUrl is not a URL: ${JSON.stringify(options.baseUrl)}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`chat completions: baseUrl must be http(s), got ${base.protocol}`);
    if (!options.model.trim()) throw new TypeError('chat completions: model is required');
    const timeoutMs = options.timeoutMs ?? DEFAULT_CHAT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError(`chat completions: timeoutMs must be a positive number, got ${timeoutMs}`);

    const url = new URL(base.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/chat/completions`;
    // fetch refuses URLs with credentials (and would print them in its error): they become a Basic header.
    const basic = url.username || url.password ? Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64') : undefined;
    url.username = '';
    url.password = '';
    this.#url = url.href;
    this.#where = `${url.origin}${url.pathname}`;
    this.#model = options.model;
    this.name = `chat-completions:${options.model}`;
    this.#timeoutMs = timeoutMs;
    this.#temperature = options.temperature;
    this.#fetch = options.fetchImpl ?? fetch;
    this.#headers = {
      ...options.extraHeaders,
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(basic ? { authorization: `Basic ${basic}` } : {}),
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    };
    this.#compat = {
      ...OPENAI_COMPATIBILITY,
      maxTokensField: options.maxTokensField ?? (base.hostname === 'api.openai.com' ? 'max_completion_tokens' : 'max_tokens'),
    };
  }

  respond(request: DialogueRequest): AsyncIterable<DialogueEvent> {
    return this.#respond(request);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const controller of this.#active) controller.abort(CLOSED);
    this.#active.clear();
  }

  async *#respond(request: DialogueRequest): AsyncGenerator<DialogueEvent> {
    if (this.#closed) throw new DialogueError('chat completions: the engine is closed', 'unavailable', false);
    const line = verbatimLine(request.metadata);
    if (line !== undefined) {
      if (request.signal.aborted) return;
      yield { type: 'text.delta', delta: line };
      yield { type: 'done', usage: { inputTokens: 0, outputTokens: estimateTokens(line) } };
      return;
    }
    if (request.signal.aborted) return;

    const controller = new AbortController();
    const onAbort = () => controller.abort(request.signal.reason);
    request.signal.addEventListener('abort', onAbort, { once: true });
    this.#active.add(controller);
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(TIMED_OUT), this.#timeoutMs);
    };
    const disarm = () => clearTimeout(timer);
    let delivered = false;

    try {
      arm();
      const response = await this.#post(request, controller.signal);
      const stream = new ChatStream();
      const finish = (): DialogueEvent[] => [...stream.end(), { type: 'done', usage: stream.usage ?? estimatedUsage(request, stream.producedText) }];

      if (!isEventStream(response)) {
        // A server that ignored `stream: true` answers with one whole completion.
        const completion: unknown = JSON.parse(await response.text());
        if (isRecord(completion) && completion.error !== undefined && completion.error !== null) throw streamError(completion);
        disarm();
        yield* stream.accept(completion).events;
        yield* finish();
        return;
      }
      if (!response.body) throw new DialogueError(`chat completions: ${this.#where} answered with an empty body`, 'internal', true);
      for await (const event of readServerSentEvents(response.body)) {
        // After [DONE] the rest is read, not parsed, so the connection goes back to the pool for the next turn.
        if (delivered) continue;
        if (event.event === 'error') throw streamError(parseJson(event.data) ?? event.data);
        const data = event.data.trim();
        if (data === '[DONE]') {
          disarm();
          yield* finish();
          delivered = true;
          arm();
          continue;
        }
        const chunk = parseJson(data);
        // Keep-alive noise that is not JSON is skipped; a truncated stream still fails below.
        if (chunk === undefined) continue;
        if (isRecord(chunk) && chunk.error !== undefined && chunk.error !== null) throw streamError(chunk);
        const { events, progressed } = stream.accept(chunk);
        if (progressed) arm();
        if (events.length > 0) {
          // A slow reader is not a silent server.
          disarm();
          yield* events;
          arm();
        }
      }
      if (delivered) return;
      // Some servers (ik_llama.cpp) never send [DONE]; a finish_reason is as good.
      if (!stream.finished) throw new DialogueError(`chat completions: ${this.#where} ended the stream before the reply was complete`, 'unavailable', true);
      disarm();
      yield* finish();
    } catch (error) {
      const reason: unknown = controller.signal.reason;
      // The reply was whole; only the tail after [DONE] failed.
      if (request.signal.aborted || delivered) return;
      if (reason === CLOSED) throw new DialogueError('chat completions: the engine was closed', 'unavailable', false, { cause: error });
      if (reason === TIMED_OUT) {
        throw new DialogueError(`chat completions: ${this.#where} sent nothing for ${this.#timeoutMs} ms`, 'timeout', true, { cause: error });
      }
      if (error instanceof DialogueError) throw error;
      if (error instanceof SyntaxError) {
        throw new DialogueError(`chat completions: ${this.#where} answered with something that is not JSON`, 'internal', true, { cause: error });
      }
      throw networkError(error, this.#where);
    } finally {
      disarm();
      request.signal.removeEventListener('abort', onAbort);
      this.#active.delete(controller);
      // Closes the connection when the consumer stopped early; a no-op after a response read to its end.
      controller.abort();
    }
  }

  /** Sends the request; a 400 that names a field this server does not take is retried without it. */
  async #post(request: DialogueRequest, signal: AbortSignal): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const body = chatCompletionsBody(request, { model: this.#model, ...(this.#temperature !== undefined ? { temperature: this.#temperature } : {}) }, this.#compat);
      const response = await this.#fetch(this.#url, { method: 'POST', headers: this.#headers, body: JSON.stringify(body), signal });
      if (response.ok) return response;
      const text = await response.text().catch(() => '');
      if (attempt < 4 && this.#adapt(response.status, serverErrorMessage(text).message, body)) continue;
      throw httpError(response.status, text, response.headers.get('retry-after'));
    }
  }

  /** Learns from a refusal: returns true when the body can be changed so the server accepts it. */
  #adapt(status: number, message: string, sent: ChatCompletionsBody): boolean {
    // Chat templates raise these while rendering; vLLM answers 400, others 500.
    if (this.#compat.systemRole && sent.messages[0]?.role === 'system' && /system role (is )?not supported|system messages? (are )?not supported/i.test(message)) {
      this.#compat.systemRole = false;
      return true;
    }
    if (!this.#compat.alternateRoles && /roles must alternate/i.test(message)) {
      this.#compat.alternateRoles = true;
      return true;
    }
    if (status !== 400 || !/unsupported|unrecognized|unknown|not supported|not permitted|not allowed|extra/i.test(message)) return false;
    if (sent.stream_options && /stream_options/.test(message)) {
      this.#compat.streamOptions = false;
      return true;
    }
    if (sent.max_completion_tokens !== undefined && /max_completion_tokens/.test(message)) {
      this.#compat.maxTokensField = 'max_tokens';
      return true;
    }
    if (sent.max_tokens !== undefined && /max_tokens/.test(message)) {
      this.#compat.maxTokensField = 'max_completion_tokens';
      return true;
    }
    if (sent.temperature !== undefined && /temperature/.test(message)) {
      this.#compat.temperature = false;
      return true;
    }
    return false;
  }
}

function isEventStream(response: Response): boolean {
  const type = response.headers.get('content-type') ?? '';
  // Some servers stream without naming the type; only an explicit JSON answer is read as one completion.
  return !/application\/json/i.test(type);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function estimatedUsage(request: DialogueRequest, produced: string): DialogueUsage {
  const prompt = [
    request.instructions,
    ...request.messages.map((m) => (m.role === 'assistant' ? m.content + (m.toolCalls ?? []).map((c) => c.name + c.arguments).join('') : m.content)),
    request.tools.length > 0 ? JSON.stringify(request.tools) : '',
  ].join('\n');
  return { inputTokens: estimateTokens(prompt), outputTokens: estimateTokens(produced) };
}
