// A local HTTP server that speaks `POST /v1/chat/completions` the way OpenAI streams it: SSE `data:` lines of
// `chat.completion.chunk` objects, a usage chunk with empty `choices` when asked, then `data: [DONE]`.
// Each test scripts what the server does with the requests it receives.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exchange {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  res: ServerResponse;
  /** Which TCP connection carried the request, numbered in order of arrival. */
  connection: number;
  /** Resolves when the client closes the connection before the response ended. */
  clientGone: Promise<void>;
}

export type Script = (exchange: Exchange) => void | Promise<void>;

export class FakeChatServer {
  readonly received: Exchange[] = [];
  readonly #server: Server;
  #scripts: Script[] = [];
  #fallback: Script | undefined;
  readonly #connections = new WeakMap<object, number>();
  #connectionCount = 0;
  baseUrl = '';

  private constructor() {
    this.#server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (part: string) => (raw += part));
      req.on('end', () => {
        const clientGone = new Promise<void>((resolve) => res.on('close', () => (res.writableFinished ? undefined : resolve())));
        let connection = this.#connections.get(req.socket);
        if (connection === undefined) {
          connection = ++this.#connectionCount;
          this.#connections.set(req.socket, connection);
        }
        const exchange: Exchange = {
          connection,
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {},
          res,
          clientGone,
        };
        this.received.push(exchange);
        const script = this.#scripts.shift() ?? this.#fallback;
        if (!script) {
          res.writeHead(500).end('no script');
          return;
        }
        Promise.resolve(script(exchange)).catch((error: unknown) => {
          res.destroy(error instanceof Error ? error : new Error(String(error)));
        });
      });
    });
  }

  static async start(): Promise<FakeChatServer> {
    const server = new FakeChatServer();
    server.#server.listen(0, '127.0.0.1');
    await once(server.#server, 'listening');
    const { port } = server.#server.address() as AddressInfo;
    server.baseUrl = `http://127.0.0.1:${port}/v1`;
    return server;
  }

  /** Scripts for the next requests, in order. */
  next(...scripts: Script[]): void {
    this.#scripts.push(...scripts);
  }

  /** The script for every request without one of its own. */
  always(script: Script): void {
    this.#fallback = script;
  }

  reset(): void {
    this.#scripts = [];
    this.#fallback = undefined;
    this.received.length = 0;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

// ── what OpenAI sends ──────────────────────────────────────────────────────

let created = 1_700_000_000;

export function chunk(delta: Record<string, unknown>, finishReason: string | null = null): Record<string, unknown> {
  return {
    id: 'chatcmpl-koe-test',
    object: 'chat.completion.chunk',
    created: created++,
    model: 'gpt-test',
    system_fingerprint: 'fp_test',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    usage: null,
  };
}

export function usageChunk(promptTokens: number, completionTokens: number): Record<string, unknown> {
  return {
    id: 'chatcmpl-koe-test',
    object: 'chat.completion.chunk',
    created: created++,
    model: 'gpt-test',
    system_fingerprint: 'fp_test',
    choices: [],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
  };
}

export function startStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
}

export function send(res: ServerResponse, data: unknown): void {
  res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

export function errorJson(res: ServerResponse, status: number, message: string, type: string, code: string | null, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error: { message, type, param: null, code } }));
}

/** A whole OpenAI-style streamed text reply: role chunk, one chunk per piece, stop, usage, [DONE]. */
export function streamText(pieces: string[], usage: [number, number] | null = [12, pieces.length]): Script {
  return ({ res, body }) => {
    startStream(res);
    send(res, chunk({ role: 'assistant', content: '', refusal: null }));
    for (const piece of pieces) send(res, chunk({ content: piece }));
    send(res, chunk({}, 'stop'));
    const wantsUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    if (usage && wantsUsage) send(res, usageChunk(usage[0], usage[1]));
    send(res, '[DONE]');
    res.end();
  };
}
