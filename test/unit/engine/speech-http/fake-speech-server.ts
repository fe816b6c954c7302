// A local HTTP server that speaks OpenAI's audio endpoints: `POST /v1/audio/transcriptions` (multipart/form-data
// in, `{"text": …}` out) and `POST /v1/audio/speech` (JSON in, audio bytes out). Each test scripts what the
// server answers. The multipart parser, WAV reader and WAV writer here are written from the RFCs and the RIFF
// layout, not taken from Koe, so these tests do not grade Koe with itself.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SpeechExchange {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  res: ServerResponse;
  /** Resolves when the client closed the connection before the answer ended. */
  clientGone: Promise<void>;
  /** The parts of a multipart body (transcriptions). */
  parts(): MultipartPart[];
  /** The JSON body (speech). */
  json(): Record<string, unknown>;
}

export type SpeechScript = (exchange: SpeechExchange) => void | Promise<void>;

export class FakeSpeechServer {
  readonly received: SpeechExchange[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #scripts: SpeechScript[] = [];
  #fallback: SpeechScript | undefined;
  #arrivals: Array<() => void> = [];
  baseUrl = '';
  port = 0;

  private constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (part: Buffer) => chunks.push(part));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const clientGone = new Promise<void>((resolve) => res.on('close', () => (res.writableFinished ? undefined : resolve())));
        const exchange: SpeechExchange = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          raw,
          res,
          clientGone,
          parts: () => parseMultipart(String(req.headers['content-type'] ?? ''), raw),
          json: () => JSON.parse(raw.toString('utf8')) as Record<string, unknown>,
        };
        this.received.push(exchange);
        for (const wake of this.#arrivals.splice(0)) wake();
        const script = this.#scripts.shift() ?? this.#fallback;
        if (!script) {
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'no script' } }));
          return;
        }
        Promise.resolve(script(exchange)).catch((error: unknown) => {
          res.destroy(error instanceof Error ? error : new Error(String(error)));
        });
      });
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(): Promise<FakeSpeechServer> {
    const server = new FakeSpeechServer();
    server.#server.listen(0, '127.0.0.1');
    await once(server.#server, 'listening');
    server.port = (server.#server.address() as AddressInfo).port;
    server.baseUrl = `http://127.0.0.1:${server.port}/v1`;
    return server;
  }

  /** Scripts for the next requests, in order. */
  next(...scripts: SpeechScript[]): void {
    this.#scripts.push(...scripts);
  }

  /** The script for every request without one of its own. */
  always(script: SpeechScript): void {
    this.#fallback = script;
  }

  reset(): void {
    this.received.length = 0;
    this.#scripts = [];
    this.#fallback = undefined;
  }

  /** Resolves once `count` requests have arrived in all. */
  async requests(count: number, timeoutMs = 5_000): Promise<SpeechExchange[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${count} requests, got ${this.received.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#arrivals.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received.slice(0, count);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#server.close();
    await once(this.#server, 'close');
  }
}

// ── answers the way OpenAI sends them ─────────────────────────────────────────

export function answerJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** OpenAI's error object. */
export function answerError(res: ServerResponse, status: number, message: string, code: string | null = null, headers: Record<string, string> = {}): void {
  answerJson(res, status, { error: { message, type: status === 429 ? 'requests' : 'invalid_request_error', param: null, code } }, headers);
}

/** Audio bytes, streamed in a few pieces with chunked transfer encoding. */
export async function answerAudio(res: ServerResponse, bytes: Uint8Array, contentType = 'audio/pcm', pieces = 3): Promise<void> {
  res.writeHead(200, { 'content-type': contentType });
  const step = Math.max(1, Math.ceil(bytes.byteLength / pieces));
  for (let offset = 0; offset < bytes.byteLength; offset += step) {
    res.write(Buffer.from(bytes.subarray(offset, offset + step)));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  res.end();
}

// ── multipart/form-data (RFC 7578) ────────────────────────────────────────────

export interface MultipartPart {
  name: string;
  filename: string | undefined;
  contentType: string | undefined;
  data: Buffer;
  text: string;
}

export function parseMultipart(contentType: string, body: Buffer): MultipartPart[] {
  const match = /^multipart\/form-data;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!match) throw new Error(`not multipart/form-data: ${contentType}`);
  const boundary = Buffer.from(`--${match[1] ?? match[2]}`);
  const parts: MultipartPart[] = [];
  let start = body.indexOf(boundary);
  if (start !== 0) throw new Error('the body does not start with the boundary');
  for (;;) {
    const afterBoundary = start + boundary.length;
    if (body.subarray(afterBoundary, afterBoundary + 2).toString() === '--') break;
    if (body.subarray(afterBoundary, afterBoundary + 2).toString() !== '\r\n') throw new Error('a boundary line must end in CRLF');
    const headerEnd = body.indexOf('\r\n\r\n', afterBoundary);
    if (headerEnd < 0) throw new Error('a part has no end of headers');
    const headers = new Map<string, string>();
    for (const line of body.subarray(afterBoundary + 2, headerEnd).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), boundary]), headerEnd + 4);
    if (next < 0) throw new Error('a part is not closed by the boundary');
    const data = body.subarray(headerEnd + 4, next);
    const disposition = headers.get('content-disposition') ?? '';
    if (!/^form-data\b/i.test(disposition)) throw new Error(`a part's Content-Disposition is not form-data: ${disposition}`);
    const name = /\bname="([^"]*)"/.exec(disposition)?.[1];
    if (name === undefined) throw new Error(`a part has no name: ${disposition}`);
    parts.push({ name, filename: /\bfilename="([^"]*)"/.exec(disposition)?.[1], contentType: headers.get('content-type'), data, text: data.toString('utf8') });
    start = next + 2;
  }
  return parts;
}

export function field(parts: MultipartPart[], name: string): string | undefined {
  return parts.find((p) => p.name === name)?.text;
}

// ── WAV, by hand ──────────────────────────────────────────────────────────────

export interface WavHeader {
  formatTag: number;
  channels: number;
  sampleRateHz: number;
  byteRate: number;
  blockAlign: number;
  bitsPerSample: number;
  samples: Int16Array;
}

/** Reads a canonical 16-bit PCM WAV; throws on anything else. */
export function readWav(buf: Buffer): WavHeader {
  if (buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') throw new Error('not RIFF/WAVE');
  if (buf.readUInt32LE(4) !== buf.length - 8) throw new Error(`RIFF size ${buf.readUInt32LE(4)} ≠ file size − 8 (${buf.length - 8})`);
  let offset = 12;
  let header: Omit<WavHeader, 'samples'> | undefined;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('latin1', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      header = {
        formatTag: buf.readUInt16LE(offset + 8),
        channels: buf.readUInt16LE(offset + 10),
        sampleRateHz: buf.readUInt32LE(offset + 12),
        byteRate: buf.readUInt32LE(offset + 16),
        blockAlign: buf.readUInt16LE(offset + 20),
        bitsPerSample: buf.readUInt16LE(offset + 22),
      };
    } else if (id === 'data') {
      if (!header) throw new Error('"data" before "fmt "');
      if (offset + 8 + size !== buf.length) throw new Error(`data size ${size} does not reach the end of the file`);
      const samples = new Int16Array(size / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(offset + 8 + i * 2);
      return { ...header, samples };
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error('no "data" chunk');
}

export interface WavFileOptions {
  channels?: number;
  /** How a writer that cannot seek leaves the sizes: ffmpeg's 0xFFFFFFFF, or 0. */
  streamedSizes?: 0xffffffff | 0;
  /** A LIST/INFO chunk before "data", as ffmpeg writes. */
  listChunk?: boolean;
}

/** A 16-bit PCM WAV file of `pcm` (mono; with `channels` > 1 each sample is repeated on every channel). */
export function wavFile(pcm: Int16Array, sampleRateHz: number, options: WavFileOptions = {}): Buffer {
  const channels = options.channels ?? 1;
  const data = Buffer.alloc(pcm.length * 2 * channels);
  for (let i = 0; i < pcm.length; i++) for (let c = 0; c < channels; c++) data.writeInt16LE(pcm[i] as number, (i * channels + c) * 2);
  const list = options.listChunk ? Buffer.concat([Buffer.from('LIST'), u32(26), Buffer.from('INFOISFT'), u32(14), Buffer.from('Lavf60.16.100\0')]) : Buffer.alloc(0);
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(sampleRateHz, 12);
  fmt.writeUInt32LE(sampleRateHz * 2 * channels, 16);
  fmt.writeUInt16LE(2 * channels, 20);
  fmt.writeUInt16LE(16, 22);
  const total = 12 + fmt.length + list.length + 8 + data.length;
  const streamed = options.streamedSizes;
  return Buffer.concat([
    Buffer.from('RIFF'),
    u32(streamed ?? total - 8),
    Buffer.from('WAVE'),
    fmt,
    list,
    Buffer.from('data'),
    u32(streamed ?? data.length),
    data,
  ]);
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value, 0);
  return b;
}

// ── signals ───────────────────────────────────────────────────────────────────

export function tone(sampleRateHz: number, ms: number, frequencyHz = 440, amplitude = 8_000): Int16Array {
  const out = new Int16Array(Math.round((sampleRateHz * ms) / 1000));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / sampleRateHz));
  return out;
}

export function bytesOf(pcm: Int16Array): Buffer {
  const out = Buffer.alloc(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i] as number, i * 2);
  return out;
}

/** The dominant frequency by counting upward zero crossings (a pure tone only). */
export function toneFrequencyHz(pcm: Int16Array, sampleRateHz: number): number {
  let crossings = 0;
  for (let i = 1; i < pcm.length; i++) if ((pcm[i - 1] as number) < 0 && (pcm[i] as number) >= 0) crossings++;
  return (crossings * sampleRateHz) / pcm.length;
}

/** Resolves `promise` or rejects after `ms`, naming what was awaited. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
