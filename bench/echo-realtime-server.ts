// An echo model speaking the GA Realtime protocol (../shared/protocol/realtime.md), for the bridge load
// benchmark. Per session: `session.created` on connect; `session.updated` (the full effective session)
// for every `session.update`; after the first one, a single long-running response is opened
// (`response.created`, `response.output_item.added` with an assistant message, `conversation.item.added`,
// `response.content_part.added`), and every `input_audio_buffer.append` is streamed straight back as a
// `response.output_audio.delta` of that response carrying the very same base64 bytes.
//
// Deliberately small and independent of src/: no validation beyond what the echo needs, no VAD, no
// transcripts. Client events it does not expect are counted (a bridge under load should send none).
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, WebSocket } from 'ws';

export interface EchoRealtimeServerOptions {
  /** Called for every append, after its delta was written: base64 audio, when it arrived, when it went back. */
  onAppend?: (audioBase64: string, receivedAtMs: number, echoedAtMs: number) => void;
}

export interface EchoCounts {
  sessions: number;
  sessionUpdates: number;
  appends: number;
  deltas: number;
  /** Client events other than session.update and input_audio_buffer.append, by type. */
  unexpected: Record<string, number>;
  /** Frames that were not JSON objects with a string `type`. */
  invalid: number;
}

export interface EchoRealtimeServer {
  /** `ws://127.0.0.1:PORT/v1/realtime` */
  readonly url: string;
  readonly counts: EchoCounts;
  close(): Promise<void>;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DEFAULT_INSTRUCTIONS =
  "Your knowledge cutoff is 2023-10. You are a helpful, witty, and friendly AI. Act like a human, but remember that you aren't a human.";
const SESSION_LIFETIME_S = 30 * 60;

/** prefix + `_` + 21 alphanumerics, as the live service makes them (realtime.md §c.1). */
function newId(prefix: string): string {
  let out = '';
  for (const byte of randomBytes(32)) {
    if (byte < 248) out += ALPHABET[byte % 62];
    if (out.length === 21) break;
  }
  return `${prefix}_${out.padEnd(21, 'A')}`;
}

/** Cheap unique event ids: 13 random characters per session, then an 8-character base-62 counter. */
function eventIdMaker(): () => string {
  const prefix = `event_${newId('x').slice(2, 15)}`;
  let n = 0;
  return () => {
    n += 1;
    let v = n;
    let tail = '';
    for (let i = 0; i < 8; i += 1) {
      tail = ALPHABET[v % 62] + tail;
      v = Math.floor(v / 62);
    }
    return prefix + tail;
  };
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function defaultServerVad(): Json {
  return {
    type: 'server_vad',
    threshold: 0.5,
    prefix_padding_ms: 300,
    silence_duration_ms: 200,
    idle_timeout_ms: null,
    create_response: true,
    interrupt_response: true,
  };
}

function defaultSession(model: string): Json {
  return {
    type: 'realtime',
    object: 'realtime.session',
    id: newId('sess'),
    model,
    output_modalities: ['audio'],
    instructions: DEFAULT_INSTRUCTIONS,
    tools: [],
    tool_choice: 'auto',
    max_output_tokens: 'inf',
    tracing: null,
    truncation: 'auto',
    prompt: null,
    expires_at: Math.floor(Date.now() / 1000) + SESSION_LIFETIME_S,
    audio: {
      input: { format: { type: 'audio/pcm', rate: 24000 }, transcription: null, noise_reduction: null, turn_detection: defaultServerVad() },
      output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy', speed: 1.0 },
    },
    include: null,
  };
}

/** Applies a `session.update` patch: top-level fields replace, `audio.input` / `audio.output` merge field by field. */
function mergeSession(current: Json, patch: Json): Json {
  const next: Json = structuredClone(current);
  for (const [key, value] of Object.entries(patch)) {
    if (key !== 'audio') next[key] = structuredClone(value);
  }
  const audio = patch.audio;
  if (isRecord(audio)) {
    const nextAudio = (isRecord(next.audio) ? next.audio : (next.audio = {})) as Json;
    for (const side of ['input', 'output'] as const) {
      const sidePatch = audio[side];
      if (!isRecord(sidePatch)) continue;
      const target = (isRecord(nextAudio[side]) ? nextAudio[side] : (nextAudio[side] = {})) as Json;
      for (const [key, value] of Object.entries(sidePatch)) {
        target[key] =
          key === 'turn_detection' && isRecord(value)
            ? { ...(value.type === 'server_vad' ? defaultServerVad() : { eagerness: 'auto', create_response: true, interrupt_response: true }), ...value }
            : structuredClone(value);
      }
    }
  }
  return next;
}

class EchoSession {
  readonly #ws: WebSocket;
  readonly #counts: EchoCounts;
  readonly #onAppend: EchoRealtimeServerOptions['onAppend'];
  readonly #eventId = eventIdMaker();
  readonly #conversationId = newId('conv');
  #session: Json;
  /** The prefix of every delta of the one response: everything but `event_id` and `delta`. */
  #deltaHead: string | undefined;

  constructor(ws: WebSocket, model: string, counts: EchoCounts, onAppend: EchoRealtimeServerOptions['onAppend']) {
    this.#ws = ws;
    this.#counts = counts;
    this.#onAppend = onAppend;
    this.#session = defaultSession(model);
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('error', () => undefined);
    this.#send({ type: 'session.created', session: this.#session });
  }

  #send(event: Json): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    this.#ws.send(JSON.stringify({ ...event, event_id: this.#eventId() }));
  }

  #error(code: string, message: string, param: string | null, eventId: unknown): void {
    this.#send({
      type: 'error',
      error: { type: 'invalid_request_error', code, message, param, event_id: typeof eventId === 'string' ? eventId : null },
    });
  }

  #onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    const receivedAt = performance.now();
    if (isBinary) {
      this.#counts.invalid += 1;
      this.#error('invalid_event', 'Binary frames are not supported.', null, undefined);
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as Buffer).toString('utf8');
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      event = undefined;
    }
    if (!isRecord(event) || typeof event.type !== 'string') {
      this.#counts.invalid += 1;
      this.#error('invalid_event', "The 'type' field is missing.", null, undefined);
      return;
    }
    switch (event.type) {
      case 'input_audio_buffer.append': {
        this.#counts.appends += 1;
        const audio = event.audio;
        if (typeof audio !== 'string') {
          this.#error('missing_required_parameter', "Missing required parameter: 'audio'.", 'audio', event.event_id);
          return;
        }
        this.#echo(audio, receivedAt);
        return;
      }
      case 'session.update': {
        this.#counts.sessionUpdates += 1;
        const patch = event.session;
        if (!isRecord(patch) || patch.type !== 'realtime') {
          this.#error('missing_required_parameter', "Missing required parameter: 'session.type'.", 'session.type', event.event_id);
          return;
        }
        this.#session = mergeSession(this.#session, patch);
        this.#send({ type: 'session.updated', session: this.#session });
        this.#openResponse();
        return;
      }
      default:
        this.#counts.unexpected[event.type] = (this.#counts.unexpected[event.type] ?? 0) + 1;
    }
  }

  /** The one response of the session, opened once: created → output item → conversation item → audio part. */
  #openResponse(): void {
    if (this.#deltaHead !== undefined) return;
    const responseId = newId('resp');
    const itemId = newId('item');
    const output = isRecord(this.#session.audio) && isRecord(this.#session.audio.output) ? this.#session.audio.output : {};
    this.#send({
      type: 'response.created',
      response: {
        object: 'realtime.response',
        id: responseId,
        status: 'in_progress',
        status_details: null,
        output: [],
        conversation_id: this.#conversationId,
        output_modalities: this.#session.output_modalities ?? ['audio'],
        max_output_tokens: this.#session.max_output_tokens ?? 'inf',
        audio: { output: { format: output.format, voice: output.voice } },
        usage: null,
        metadata: null,
      },
    });
    const item = { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] };
    this.#send({ type: 'response.output_item.added', response_id: responseId, output_index: 0, item });
    this.#send({ type: 'conversation.item.added', previous_item_id: null, item });
    this.#send({
      type: 'response.content_part.added',
      response_id: responseId,
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      part: { type: 'audio', transcript: '' },
    });
    this.#deltaHead = `{"type":"response.output_audio.delta","response_id":"${responseId}","item_id":"${itemId}","output_index":0,"content_index":0,"event_id":"`;
  }

  #echo(audioBase64: string, receivedAt: number): void {
    if (this.#deltaHead === undefined) this.#openResponse();
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    // Base64 needs no JSON escaping: the appended string goes back byte for byte.
    this.#ws.send(`${this.#deltaHead}${this.#eventId()}","delta":"${audioBase64}"}`);
    this.#counts.deltas += 1;
    this.#onAppend?.(audioBase64, receivedAt, performance.now());
  }
}

/** Starts the echo model on 127.0.0.1 (port 0 unless given). */
export async function startEchoRealtimeServer(opts: EchoRealtimeServerOptions = {}, port = 0): Promise<EchoRealtimeServer> {
  const counts: EchoCounts = { sessions: 0, sessionUpdates: 0, appends: 0, deltas: 0, unexpected: {}, invalid: 0 };
  const http = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket upgrade expected');
  });
  const sockets = new Set<Socket>();
  http.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
  wss.on('connection', (ws, req) => {
    counts.sessions += 1;
    const model = new URL(req.url ?? '/', 'http://echo').searchParams.get('model') ?? 'gpt-realtime';
    new EchoSession(ws, model, counts, opts.onAppend);
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, '127.0.0.1', () => resolve());
  });
  let closed = false;
  const address = http.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `ws://127.0.0.1:${actualPort}/v1/realtime`,
    counts,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
