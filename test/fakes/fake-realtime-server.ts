// A faithful fake of OpenAI's Realtime service over WebSocket, for tests and the load benchmark.
// It follows ../shared/protocol/realtime.md: GA by default, beta when the client sends
// `OpenAI-Beta: realtime=v1` (event names, flat sessions, one `conversation.item.created` per item,
// `rate_limits.updated` right after `response.created`). Ids are prefix + 21 alphanumerics.
//
// What it does, per session:
// - `session.created` first, with the documented defaults; `session.update` → the full effective
//   session in `session.updated`, or an `error` with the live codes.
// - Server VAD on appended audio (an energy detector, 10 ms frames, the session's threshold,
//   prefix padding and silence duration) → speech_started / speech_stopped / committed / item
//   events / input transcription (transcripts chosen by the test) / a response when
//   `create_response`; barge-in cancels a producing response when `interrupt_response`.
// - Responses planned by `respond(ctx)`: audio (a 440 Hz tone in the output format, paced at
//   `generationSpeed` × real time, transcript word by word), text, function calls.
// - response.cancel, truncate, item create/retrieve/delete, commit/clear, with the errors the live
//   service gives for bad requests. Input audio is not stored: `conversation.item.retrieved`
//   returns user audio items without their `audio` bytes.
// Every timer and socket is released by `close()`.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import {
  audioBytesPerMs,
  newRealtimeId,
  parseClientFrame,
  serverEventGaToBeta,
  type AudioFormat,
  type AudioFormatType,
  type ClientEventError,
  type ConversationItemCreateEvent,
  type ConversationItemTruncateEvent,
  type RealtimeClientEvent,
  type RealtimeItem,
  type RealtimeResponse,
  type RealtimeSession,
  type RealtimeShape,
  type ResponseCreateParams,
  type ResponseUsage,
  type ServerSession,
  type SessionConfig,
  type TranscriptionSession,
  type TurnDetection,
} from '../../src/realtime/index.js';

// ── public API ──────────────────────────────────────────────────────────────────────────────────

export type FakeResponseOutput =
  | { type: 'audio'; transcript: string; audioMs: number }
  | { type: 'text'; text: string }
  | { type: 'function_call'; name: string; arguments: object | string; callId?: string };
export type ResponsePlan = FakeResponseOutput[];

export interface ResponseContext {
  session: FakeRealtimeSession;
  responseId: string;
  /** What started it: the VAD (create_response), or the client's `response.create`. */
  trigger: 'vad' | 'client';
  /** The `response.create.response` parameters, GA shape (undefined for VAD responses). */
  request: ResponseCreateParams | undefined;
  /** Effective for this response (the request's override, else the session's). */
  instructions: string;
  metadata: Record<string, unknown> | null;
  conversation: string;
  outputModalities: readonly ('text' | 'audio')[];
  /** The conversation as it stands (GA items). */
  items: readonly RealtimeItem[];
  /** The last completed user transcript, if transcription is on. */
  lastUserTranscript: string | undefined;
  /** 0 for the session's first response. */
  index: number;
}

export interface TranscriptContext {
  session: FakeRealtimeSession;
  itemId: string;
  audioMs: number;
}

export interface FakeRealtimeServerOptions {
  /** Require `Authorization: Bearer <apiKey>`; anything else is refused with HTTP 401. */
  apiKey?: string;
  respond?: (ctx: ResponseContext) => ResponsePlan;
  /** `energy` (default): detect speech in appended audio. `manual`: only `speechStarted()` / `speechStopped()`. */
  vad?: 'energy' | 'manual';
  /** Size of each audio delta; default 100. */
  audioChunkMs?: number;
  /** × real time; default 10. `Infinity` sends as fast as timers allow. */
  generationSpeed?: number;
  /** Input transcripts, consumed in order (`null` → a `.failed` event), or a function. Default `""`. */
  transcripts?: (string | null)[] | ((ctx: TranscriptContext) => string | null);
  /** Keep `received` / `sent` logs (default true). Off for long benchmarks. */
  record?: boolean;
}

type ResolvedOptions = Required<Pick<FakeRealtimeServerOptions, 'vad' | 'audioChunkMs' | 'generationSpeed' | 'record'>> &
  FakeRealtimeServerOptions;

export interface RecordedFrame {
  /** The wire JSON, or the raw text when it was not JSON. */
  json: unknown;
  text: string;
}

const DEFAULT_INSTRUCTIONS =
  "Your knowledge cutoff is 2023-10. You are a helpful, witty, and friendly AI. Act like a human, but remember that you aren't a human.";
const DEFAULT_GA_MODEL = 'gpt-realtime';
const DEFAULT_BETA_MODEL = 'gpt-4o-realtime-preview';
const SESSION_LIFETIME_S = 30 * 60;
const VAD_FRAME_MS = 10;
/** The service refuses to commit less than this. */
const MIN_COMMIT_MS = 100;

type Json = Record<string, unknown>;
/** A GA server event before `event_id` is set. */
type OutEvent = { type: string } & Json;

// ── audio: a small local G.711 codec (tests must not depend on src/audio) ────────────────────────

const MULAW_DECODE = new Int16Array(256);
const ALAW_DECODE = new Int16Array(256);
for (let i = 0; i < 256; i++) {
  const u = ~i & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << exponent) - 0x84;
  MULAW_DECODE[i] = u & 0x80 ? -magnitude : magnitude;
  const a = i ^ 0x55;
  let t = (a & 0x0f) << 4;
  const segment = (a & 0x70) >> 4;
  if (segment === 0) t += 8;
  else if (segment === 1) t += 0x108;
  else t = (t + 0x108) << (segment - 1);
  ALAW_DECODE[i] = a & 0x80 ? t : -t;
}

function encodeMulaw(sample: number): number {
  const BIAS = 0x84;
  let s = Math.max(-32635, Math.min(32635, sample));
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function encodeAlaw(sample: number): number {
  let pcm = Math.max(-32768, Math.min(32767, sample)) >> 3;
  let mask: number;
  if (pcm >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const ends = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
  let segment = 0;
  while (segment < 8 && pcm > (ends[segment] as number)) segment++;
  if (segment >= 8) return 0x7f ^ mask;
  let value = segment << 4;
  value |= segment < 2 ? (pcm >> 1) & 0x0f : (pcm >> segment) & 0x0f;
  return value ^ mask;
}

function sampleRateOf(format: AudioFormatType): number {
  return format === 'audio/pcm' ? 24000 : 8000;
}

/** `ms` of a sine tone in `format` (raw frames). 440 Hz loops seamlessly every second. */
export function toneAudio(format: AudioFormatType, ms: number, amplitude = 0.3, frequencyHz = 440, startSample = 0): Buffer {
  const rate = sampleRateOf(format);
  const samples = Math.round((rate * ms) / 1000);
  const out = Buffer.alloc(format === 'audio/pcm' ? samples * 2 : samples);
  for (let i = 0; i < samples; i++) {
    const value = Math.round(Math.sin((2 * Math.PI * frequencyHz * (startSample + i)) / rate) * amplitude * 32767);
    if (format === 'audio/pcm') out.writeInt16LE(value, i * 2);
    else out[i] = format === 'audio/pcmu' ? encodeMulaw(value) : encodeAlaw(value);
  }
  return out;
}

/** `ms` of digital silence in `format`. */
export function silenceAudio(format: AudioFormatType, ms: number): Buffer {
  const samples = Math.round((sampleRateOf(format) * ms) / 1000);
  if (format === 'audio/pcm') return Buffer.alloc(samples * 2);
  return Buffer.alloc(samples, format === 'audio/pcmu' ? 0xff : 0xd5);
}

const toneLoops = new Map<AudioFormatType, Buffer>();
const chunkCache = new Map<string, string>();

/** Base64 of `bytes` of the looping tone starting at `offset`: deltas repeat, so they are cached. */
function toneChunkBase64(format: AudioFormatType, offset: number, bytes: number): string {
  const key = `${format}:${offset}:${bytes}`;
  const cached = chunkCache.get(key);
  if (cached !== undefined) return cached;
  let loop = toneLoops.get(format);
  if (!loop) {
    loop = toneAudio(format, 1000);
    toneLoops.set(format, loop);
  }
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = loop[(offset + i) % loop.length] as number;
  const base64 = out.toString('base64');
  if (chunkCache.size < 4096) chunkCache.set(key, base64);
  return base64;
}

/** Energy detector over one frame: RMS of the samples, 0..1. */
function frameRms(frame: Buffer, format: AudioFormatType): number {
  let sum = 0;
  let count = 0;
  if (format === 'audio/pcm') {
    for (let i = 0; i + 1 < frame.length; i += 2) {
      const s = frame.readInt16LE(i) / 32768;
      sum += s * s;
      count++;
    }
  } else {
    const table = format === 'audio/pcmu' ? MULAW_DECODE : ALAW_DECODE;
    for (let i = 0; i < frame.length; i++) {
      const s = (table[frame[i] as number] as number) / 32768;
      sum += s * s;
      count++;
    }
  }
  return count === 0 ? 0 : Math.sqrt(sum / count);
}

// ── defaults ──────────────────────────────────────────────────────────────────────────────────

function defaultServerVad(): TurnDetection {
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

function withTurnDetectionDefaults(td: TurnDetection): TurnDetection {
  if (td.type === 'server_vad') return { ...defaultServerVad(), ...td };
  return { eagerness: 'auto', create_response: true, interrupt_response: true, ...td };
}

function defaultRealtimeSession(model: string): RealtimeSession {
  return {
    type: 'realtime',
    object: 'realtime.session',
    id: newRealtimeId('sess'),
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
      input: {
        format: { type: 'audio/pcm', rate: 24000 },
        transcription: null,
        noise_reduction: null,
        turn_detection: defaultServerVad(),
      },
      output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy', speed: 1.0 },
    },
    include: null,
  };
}

function defaultTranscriptionSession(): TranscriptionSession {
  return {
    type: 'transcription',
    object: 'realtime.transcription_session',
    id: newRealtimeId('sess'),
    expires_at: Math.floor(Date.now() / 1000) + SESSION_LIFETIME_S,
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: 24000 },
        transcription: null,
        noise_reduction: null,
        turn_detection: defaultServerVad(),
      },
    },
    include: null,
  };
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;

function splitWords(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

// ── a response in flight ──────────────────────────────────────────────────────────────────────

interface OpenOutput {
  output: FakeResponseOutput;
  index: number;
  itemId: string;
  item: RealtimeItem;
  /** The item is in the conversation (not an out-of-band response). */
  inConversation: boolean;
  /** Ticks of this output; each emits deltas. */
  ticks: number;
  tick: number;
  words: string[];
  wordsSent: number;
  text: string;
  argumentsText: string;
  argumentsSent: number;
  audioBytesSent: number;
  format: AudioFormat;
  callId: string;
}

class FakeResponse {
  readonly id: string;
  readonly outputModalities: ('text' | 'audio')[];
  readonly format: AudioFormat;
  readonly voice: string;
  readonly conversation: string;
  readonly metadata: Record<string, unknown> | null;
  readonly maxOutputTokens: number | 'inf';
  readonly outputs: FakeResponseOutput[];
  readonly conversationId: string;
  readonly finalItems: RealtimeItem[] = [];
  current: OpenOutput | null = null;
  nextOutput = 0;
  done = false;
  timer: NodeJS.Timeout | undefined;
  textTokens = 0;
  audioMs = 0;

  constructor(init: {
    id: string;
    outputModalities: ('text' | 'audio')[];
    format: AudioFormat;
    voice: string;
    conversation: string;
    metadata: Record<string, unknown> | null;
    maxOutputTokens: number | 'inf';
    outputs: FakeResponseOutput[];
    conversationId: string;
  }) {
    this.id = init.id;
    this.conversationId = init.conversationId;
    this.outputModalities = init.outputModalities;
    this.format = init.format;
    this.voice = init.voice;
    this.conversation = init.conversation;
    this.metadata = init.metadata;
    this.maxOutputTokens = init.maxOutputTokens;
    this.outputs = init.outputs;
  }

  get outOfBand(): boolean {
    return this.conversation === 'none';
  }

  /** True between `response.created` and `response.done` while output is being produced. */
  get producing(): boolean {
    return !this.done;
  }

  object(status: RealtimeResponse['status'], extra: Partial<RealtimeResponse> = {}): RealtimeResponse {
    const response: RealtimeResponse = {
      object: 'realtime.response',
      id: this.id,
      status,
      status_details: null,
      output: this.finalItems.map((item) => clone(item)),
      output_modalities: [...this.outputModalities],
      max_output_tokens: this.maxOutputTokens,
      audio: { output: { format: clone(this.format), voice: this.voice } },
      usage: null,
      metadata: this.metadata,
      ...extra,
    };
    if (!this.outOfBand) response.conversation_id = this.conversationId;
    return response;
  }
}

// ── one session ───────────────────────────────────────────────────────────────────────────────

interface StoredItem {
  item: RealtimeItem;
  /** Assistant audio generated for the item, in ms (what truncation is checked against). */
  audioMs: number;
}

interface VadState {
  speaking: boolean;
  itemId: string | undefined;
  silenceMs: number;
  /** Bytes of an incomplete 10 ms frame carried to the next append. */
  remainder: Buffer;
}

export class FakeRealtimeSession {
  readonly shape: RealtimeShape;
  readonly model: string;
  /** The upgrade request: `url` (path + query) and lower-cased headers. */
  readonly request: { url: string; headers: Record<string, string | string[] | undefined> };
  /** Valid client events received, in GA shape (beta events translated). */
  readonly received: RealtimeClientEvent[] = [];
  /** Every frame received, as sent (including invalid ones). */
  readonly receivedRaw: RecordedFrame[] = [];
  /** Every event sent, in wire shape (beta when the session is beta). */
  readonly sent: ({ type: string } & Json)[] = [];
  /** Counts for benchmarks that turn recording off. */
  readonly counts = { received: 0, sent: 0, audioDeltas: 0 };

  readonly #ws: WebSocket;
  readonly #server: FakeRealtimeServer;
  readonly #opts: ResolvedOptions;
  #config: ServerSession;
  #betaTemperature = 0.8;
  readonly #conversationId = newRealtimeId('conv');
  readonly #items: StoredItem[] = [];
  #inputBytes = 0;
  #inputChunks: Buffer[] = [];
  /** All audio written this session, in ms: the clock of audio_start_ms / audio_end_ms. */
  #inputMs = 0;
  #vad: VadState = { speaking: false, itemId: undefined, silenceMs: 0, remainder: Buffer.alloc(0) };
  #response: FakeResponse | null = null;
  #responseCount = 0;
  #assistantAudioProduced = false;
  #lastUserTranscript: string | undefined;
  #closed = false;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(
    server: FakeRealtimeServer,
    ws: WebSocket,
    req: IncomingMessage,
    opts: ResolvedOptions,
  ) {
    this.#server = server;
    this.#ws = ws;
    this.#opts = opts;
    const url = new URL(req.url ?? '/', 'http://fake');
    const beta = String(req.headers['openai-beta'] ?? '').includes('realtime=v1');
    this.shape = beta ? 'beta' : 'ga';
    this.model = url.searchParams.get('model') ?? (beta ? DEFAULT_BETA_MODEL : DEFAULT_GA_MODEL);
    this.request = { url: req.url ?? '/', headers: { ...req.headers } };
    this.#config =
      url.searchParams.get('intent') === 'transcription' ? defaultTranscriptionSession() : defaultRealtimeSession(this.model);
    ws.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    ws.on('close', () => this.#onClose());
    ws.on('error', () => undefined);
    this.#emit({ type: 'session.created', session: clone(this.#config) });
  }

  get id(): string {
    return this.#config.id ?? '';
  }
  get isOpen(): boolean {
    return !this.#closed && this.#ws.readyState === WebSocket.OPEN;
  }
  /** The full effective session (GA shape). */
  get config(): ServerSession {
    return clone(this.#config);
  }
  get items(): readonly RealtimeItem[] {
    return this.#items.map((stored) => stored.item);
  }
  /** Milliseconds of input audio appended so far. */
  get inputAudioMs(): number {
    return this.#inputMs;
  }
  get activeResponseId(): string | undefined {
    return this.#response?.id;
  }
  /** Sent events of one type, wire shape. */
  sentOfType(type: string): ({ type: string } & Json)[] {
    return this.sent.filter((event) => event.type === type);
  }

  /** Resolves with the first received event matching (already there or still to come). */
  async waitForReceived<T extends RealtimeClientEvent['type']>(
    type: T,
    timeoutMs = 2000,
  ): Promise<Extract<RealtimeClientEvent, { type: T }>> {
    let found: RealtimeClientEvent | undefined;
    await this.#server.waitFor(() => (found = this.received.find((event) => event.type === type)) !== undefined, timeoutMs);
    return found as Extract<RealtimeClientEvent, { type: T }>;
  }

  /** Resolves with the first sent event of `type` (wire shape) for which `where` holds. */
  async waitForSent(type: string, timeoutMs = 2000, where: (event: Json) => boolean = () => true): Promise<{ type: string } & Json> {
    let found: ({ type: string } & Json) | undefined;
    await this.#server.waitFor(
      () => (found = this.sent.find((event) => event.type === type && where(event))) !== undefined,
      timeoutMs,
    );
    return found as { type: string } & Json;
  }

  /** As if the VAD heard speech start now. */
  speechStarted(): void {
    if (this.#closed || this.#vad.speaking) return;
    this.#startSpeech(this.#inputMs);
  }

  /** As if the VAD heard the end of speech now: speech_stopped, commit, transcription, response. */
  speechStopped(): void {
    if (this.#closed) return;
    if (!this.#vad.speaking) this.#startSpeech(this.#inputMs);
    this.#stopSpeech(this.#inputMs);
  }

  /** Sends a GA server event (translated for beta sessions); `event_id` is added when missing. */
  emitEvent(event: { type: string } & Json): void {
    this.#emit(event);
  }

  /** Sends a text frame as is (for invalid-frame tests). */
  sendRaw(text: string): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(text);
  }

  /** Closes the socket from the server side. */
  close(code = 1000, reason = ''): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(code, reason);
    this.#shutdown();
  }

  /** Cuts the socket without a closing handshake, as a network drop would. */
  drop(): void {
    this.#ws.terminate();
    this.#shutdown();
  }

  // ── wire ──

  #emit(event: OutEvent): void {
    if (this.#closed || this.#ws.readyState !== WebSocket.OPEN) return;
    const full = { ...event, event_id: typeof event.event_id === 'string' ? event.event_id : newRealtimeId('event') };
    const wire: Json[] = this.shape === 'beta' ? (serverEventGaToBeta(full as never) as unknown as Json[]) : [full];
    for (const out of wire) {
      if (this.shape === 'beta') this.#betaExtras(out);
      this.counts.sent++;
      if (out.type === 'response.output_audio.delta' || out.type === 'response.audio.delta') this.counts.audioDeltas++;
      if (this.#opts.record) this.sent.push(out as { type: string } & Json);
      this.#ws.send(JSON.stringify(out));
    }
    this.#server.notify();
  }

  /** Beta-only fields the GA model does not hold. */
  #betaExtras(event: Json): void {
    if (event.type === 'session.created' || event.type === 'session.updated') {
      const session = event.session as Json;
      session.temperature = this.#betaTemperature;
      session.client_secret = null;
    } else if (event.type === 'response.created' || event.type === 'response.done') {
      (event.response as Json).temperature = this.#betaTemperature;
    }
  }

  #error(source: unknown, error: Omit<ClientEventError, 'event_id' | 'type'> & { type?: string }): void {
    const eventId = isRecord(source) && typeof source.event_id === 'string' ? source.event_id : null;
    this.#emit({
      type: 'error',
      error: {
        type: error.type ?? 'invalid_request_error',
        code: error.code,
        message: error.message,
        param: error.param,
        event_id: eventId,
      },
    });
  }

  #onFrame(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.#closed) return;
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as Buffer).toString('utf8');
    this.counts.received++;
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {
      // parseClientFrame answers it.
    }
    if (this.#opts.record) this.receivedRaw.push({ json, text });
    if (isBinary) {
      this.#error(undefined, { code: 'invalid_event', message: 'Binary frames are not supported.', param: null });
      this.#server.notify();
      return;
    }
    const parsed = parseClientFrame(text, this.shape);
    if (!parsed.ok) {
      this.#emit({ type: 'error', error: { ...parsed.error } });
      this.#server.notify();
      return;
    }
    const event = parsed.event;
    if (this.#opts.record) this.received.push(event);
    this.#handle(event, json);
    // After handling, so waiters see its effects (e.g. inputAudioMs after an append).
    this.#server.notify();
  }

  #handle(event: RealtimeClientEvent, raw: unknown): void {
    switch (event.type) {
      case 'session.update':
        this.#onSessionUpdate(event.session, raw);
        break;
      case 'input_audio_buffer.append':
        this.#onAppend(event.audio, raw);
        break;
      case 'input_audio_buffer.commit':
        this.#onCommit(raw);
        break;
      case 'input_audio_buffer.clear':
        this.#clearInput();
        this.#emit({ type: 'input_audio_buffer.cleared' });
        break;
      case 'output_audio_buffer.clear':
        this.#error(raw, {
          code: 'invalid_event',
          message: "'output_audio_buffer.clear' is only supported for WebRTC and SIP connections.",
          param: 'type',
        });
        break;
      case 'conversation.item.create':
        this.#onItemCreate(event, raw);
        break;
      case 'conversation.item.retrieve': {
        const stored = this.#findItem(event.item_id);
        if (!stored) this.#error(raw, this.#itemNotFound(event.item_id));
        else this.#emit({ type: 'conversation.item.retrieved', item: clone(stored.item) });
        break;
      }
      case 'conversation.item.delete': {
        const index = this.#items.findIndex((stored) => stored.item.id === event.item_id);
        if (index < 0) this.#error(raw, this.#itemNotFound(event.item_id));
        else {
          this.#items.splice(index, 1);
          this.#emit({ type: 'conversation.item.deleted', item_id: event.item_id });
        }
        break;
      }
      case 'conversation.item.truncate':
        this.#onTruncate(event, raw);
        break;
      case 'response.create':
        this.#onResponseCreate(event.response, raw);
        break;
      case 'response.cancel': {
        const active = this.#response;
        if (!active || (event.response_id !== undefined && event.response_id !== active.id)) {
          this.#error(raw, {
            code: 'response_cancel_not_active',
            message: 'Cancellation failed: no active response found',
            param: null,
          });
        } else {
          this.#cancelResponse(active, 'client_cancelled');
        }
        break;
      }
    }
  }

  #itemNotFound(itemId: string): Omit<ClientEventError, 'event_id' | 'type'> {
    return { code: 'item_not_found', message: `Item with item_id not found: ${itemId}`, param: 'item_id' };
  }

  // ── session ──

  #onSessionUpdate(update: SessionConfig, raw: unknown): void {
    const current = this.#config;
    if (update.type !== current.type) {
      this.#error(raw, {
        code: 'invalid_value',
        message: `Passing a ${update.type} session update event to a ${current.type} session is not allowed.`,
        param: 'session.type',
      });
      return;
    }
    if (update.type === 'realtime' && current.type === 'realtime') {
      if (update.model !== undefined && update.model !== current.model) {
        this.#error(raw, { code: 'invalid_value', message: 'The session model cannot be changed.', param: 'session.model' });
        return;
      }
      const newVoice = update.audio?.output?.voice;
      const currentVoice = current.audio?.output?.voice;
      if (
        newVoice !== undefined &&
        this.#assistantAudioProduced &&
        JSON.stringify(newVoice) !== JSON.stringify(currentVoice)
      ) {
        this.#error(raw, {
          code: 'cannot_update_voice',
          message: "Cannot update a conversation's voice if assistant audio is present.",
          param: null,
        });
        return;
      }
    }
    const next = clone(current) as unknown as Json;
    const patch = clone(update) as unknown as Json;
    const audio = patch.audio;
    delete patch.audio;
    Object.assign(next, patch);
    if (isRecord(audio)) {
      const nextAudio = (isRecord(next.audio) ? next.audio : (next.audio = {})) as Json;
      for (const side of ['input', 'output'] as const) {
        const sidePatch = audio[side];
        if (!isRecord(sidePatch)) continue;
        const target = (isRecord(nextAudio[side]) ? nextAudio[side] : (nextAudio[side] = {})) as Json;
        for (const [key, value] of Object.entries(sidePatch)) {
          target[key] = key === 'turn_detection' && isRecord(value) ? withTurnDetectionDefaults(value as unknown as TurnDetection) : value;
        }
      }
    }
    if (this.shape === 'beta' && isRecord(raw) && isRecord(raw.session) && typeof raw.session.temperature === 'number') {
      this.#betaTemperature = raw.session.temperature;
    }
    this.#config = next as unknown as ServerSession;
    this.#emit({ type: 'session.updated', session: clone(this.#config) });
  }

  #turnDetection(): TurnDetection | null {
    return this.#config.audio?.input?.turn_detection ?? null;
  }
  #inputFormat(): AudioFormat {
    return this.#config.audio?.input?.format ?? { type: 'audio/pcm', rate: 24000 };
  }
  #outputFormat(): AudioFormat {
    return (this.#config.type === 'realtime' ? this.#config.audio?.output?.format : undefined) ?? {
      type: 'audio/pcm',
      rate: 24000,
    };
  }

  // ── input audio and VAD ──

  #onAppend(audio: string, raw: unknown): void {
    const format = this.#inputFormat();
    if (!BASE64_PATTERN.test(audio)) {
      this.#error(raw, {
        code: 'invalid_value',
        message: "Invalid 'audio'. Expected base64-encoded audio bytes but got an invalid value.",
        param: 'audio',
      });
      return;
    }
    const bytes = Buffer.from(audio, 'base64');
    if (bytes.length === 0) return;
    this.#inputChunks.push(bytes);
    this.#inputBytes += bytes.length;
    const td = this.#turnDetection();
    if (td === null || this.#opts.vad !== 'energy') {
      this.#inputMs += bytes.length / audioBytesPerMs(format);
      return;
    }
    this.#runVad(bytes, format.type, td);
  }

  #runVad(bytes: Buffer, format: AudioFormatType, td: TurnDetection): void {
    const bytesPerMs = audioBytesPerMs(this.#inputFormat());
    const frameBytes = bytesPerMs * VAD_FRAME_MS;
    const data = this.#vad.remainder.length > 0 ? Buffer.concat([this.#vad.remainder, bytes]) : bytes;
    // The clock counts every byte; frames carried over were counted when they arrived.
    const carried = this.#vad.remainder.length;
    let offset = 0;
    let clockMs = this.#inputMs - carried / bytesPerMs;
    const thresholdRms = (td.type === 'server_vad' ? (td.threshold ?? 0.5) : 0.5) * 0.04;
    const silenceLimitMs =
      td.type === 'server_vad'
        ? (td.silence_duration_ms ?? 200)
        : ({ low: 900, medium: 500, high: 250, auto: 500 } as const)[td.eagerness ?? 'auto'];
    while (offset + frameBytes <= data.length) {
      const frame = data.subarray(offset, offset + frameBytes);
      offset += frameBytes;
      const startMs = clockMs;
      clockMs += VAD_FRAME_MS;
      const speech = frameRms(frame, format) >= thresholdRms;
      if (!this.#vad.speaking) {
        if (speech) this.#startSpeech(startMs);
        if (this.#closed) return;
        continue;
      }
      if (speech) {
        this.#vad.silenceMs = 0;
        continue;
      }
      this.#vad.silenceMs += VAD_FRAME_MS;
      if (this.#vad.silenceMs >= silenceLimitMs) {
        this.#stopSpeech(clockMs);
        if (this.#closed) return;
      }
    }
    this.#vad.remainder = Buffer.from(data.subarray(offset));
    this.#inputMs += bytes.length / bytesPerMs;
  }

  #startSpeech(atMs: number): void {
    const td = this.#turnDetection();
    const prefixMs = td?.type === 'server_vad' ? (td.prefix_padding_ms ?? 300) : 300;
    const itemId = newRealtimeId('item');
    this.#vad = { ...this.#vad, speaking: true, itemId, silenceMs: 0 };
    this.#emit({
      type: 'input_audio_buffer.speech_started',
      audio_start_ms: Math.max(0, Math.round(atMs - prefixMs)),
      item_id: itemId,
    });
    const interrupt = td ? (td.interrupt_response ?? true) : true;
    if (interrupt && this.#response?.producing) this.#cancelResponse(this.#response, 'turn_detected');
  }

  #stopSpeech(atMs: number): void {
    const itemId = this.#vad.itemId ?? newRealtimeId('item');
    this.#vad = { ...this.#vad, speaking: false, itemId: undefined, silenceMs: 0 };
    this.#emit({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: Math.round(atMs), item_id: itemId });
    this.#commit(itemId);
    const td = this.#turnDetection();
    const create = td ? (td.create_response ?? true) : false;
    if (create && this.#config.type === 'realtime' && !this.#response) this.#startResponse('vad', undefined);
  }

  #clearInput(): void {
    this.#inputChunks = [];
    this.#inputBytes = 0;
    this.#vad = { speaking: false, itemId: undefined, silenceMs: 0, remainder: Buffer.alloc(0) };
  }

  #onCommit(raw: unknown): void {
    const bufferedMs = this.#inputBytes / audioBytesPerMs(this.#inputFormat());
    if (bufferedMs < MIN_COMMIT_MS) {
      this.#error(raw, {
        code: 'input_audio_buffer_commit_empty',
        message: `Error committing input audio buffer: buffer too small. Expected at least ${MIN_COMMIT_MS}ms of audio, but buffer only has ${bufferedMs.toFixed(2)}ms of audio.`,
        param: null,
      });
      return;
    }
    const itemId = this.#vad.itemId ?? newRealtimeId('item');
    this.#vad = { ...this.#vad, speaking: false, itemId: undefined, silenceMs: 0 };
    this.#commit(itemId);
  }

  /** committed → item added + done (beta: created) → transcription. */
  #commit(itemId: string): void {
    const audioMs = this.#inputBytes / audioBytesPerMs(this.#inputFormat());
    this.#inputChunks = [];
    this.#inputBytes = 0;
    const previous = this.#lastItemId();
    this.#emit({ type: 'input_audio_buffer.committed', previous_item_id: previous, item_id: itemId });
    const item: RealtimeItem = {
      id: itemId,
      type: 'message',
      status: 'completed',
      role: 'user',
      content: [{ type: 'input_audio', transcript: null }],
    };
    this.#items.push({ item, audioMs: 0 });
    this.#emit({ type: 'conversation.item.added', previous_item_id: previous, item: clone(item) });
    this.#emit({ type: 'conversation.item.done', previous_item_id: previous, item: clone(item) });
    this.#transcribe(item, audioMs);
  }

  #transcribe(item: RealtimeItem, audioMs: number): void {
    const transcription = this.#config.audio?.input?.transcription;
    if (!transcription || item.type !== 'message' || item.role !== 'user' || !item.id) return;
    const source = this.#opts.transcripts;
    const transcript =
      typeof source === 'function'
        ? source({ session: this, itemId: item.id, audioMs })
        : Array.isArray(source) && source.length > 0
          ? (source.shift() as string | null)
          : '';
    if (transcript === null) {
      this.#emit({
        type: 'conversation.item.input_audio_transcription.failed',
        item_id: item.id,
        content_index: 0,
        error: { type: 'server_error', code: 'transcription_failed', message: 'Input transcription failed.', param: null },
      });
      return;
    }
    const whisper = transcription.model === 'whisper-1';
    const pieces = whisper ? [transcript] : splitWords(transcript);
    for (const delta of pieces) {
      this.#emit({ type: 'conversation.item.input_audio_transcription.delta', item_id: item.id, content_index: 0, delta });
    }
    const content = item.content[0];
    if (content && content.type === 'input_audio') content.transcript = transcript;
    this.#lastUserTranscript = transcript;
    const audioTokens = Math.ceil(audioMs / 100);
    const textTokens = countTokens(transcript);
    this.#emit({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: item.id,
      content_index: 0,
      transcript,
      usage: whisper
        ? { type: 'duration', seconds: Math.round(audioMs) / 1000 }
        : {
            type: 'tokens',
            total_tokens: audioTokens + textTokens,
            input_tokens: audioTokens,
            input_token_details: { text_tokens: 0, audio_tokens: audioTokens },
            output_tokens: textTokens,
          },
    });
  }

  // ── items ──

  #lastItemId(): string | null {
    return this.#items[this.#items.length - 1]?.item.id ?? null;
  }

  #findItem(itemId: string): StoredItem | undefined {
    return this.#items.find((stored) => stored.item.id === itemId);
  }

  #onItemCreate(event: ConversationItemCreateEvent, raw: unknown): void {
    const item = clone(event.item);
    if ('id' in item && item.id !== undefined && this.#findItem(item.id)) {
      this.#error(raw, { code: 'invalid_value', message: `Item with id '${item.id}' already exists.`, param: 'item.id' });
      return;
    }
    let index = this.#items.length;
    if (event.previous_item_id === 'root') index = 0;
    else if (event.previous_item_id !== undefined) {
      const found = this.#items.findIndex((stored) => stored.item.id === event.previous_item_id);
      if (found < 0) {
        this.#error(raw, {
          code: 'item_not_found',
          message: `Previous item with id '${event.previous_item_id}' not found.`,
          param: 'previous_item_id',
        });
        return;
      }
      index = found + 1;
    }
    if (item.id === undefined) item.id = newRealtimeId('item');
    if ('status' in item || item.type === 'message' || item.type === 'function_call' || item.type === 'function_call_output') {
      (item as { status?: string }).status ??= 'completed';
    }
    const previous = index === 0 ? null : (this.#items[index - 1]?.item.id ?? null);
    this.#items.splice(index, 0, { item, audioMs: 0 });
    this.#emit({ type: 'conversation.item.added', previous_item_id: previous, item: clone(item) });
    this.#emit({ type: 'conversation.item.done', previous_item_id: previous, item: clone(item) });
  }

  #onTruncate(event: ConversationItemTruncateEvent, raw: unknown): void {
    const stored = this.#findItem(event.item_id);
    if (!stored) {
      this.#error(raw, {
        code: 'item_truncate_invalid_item_id',
        message: `Item with item_id not found: ${event.item_id}`,
        param: 'item_id',
      });
      return;
    }
    const { item } = stored;
    const content = item.type === 'message' && item.role === 'assistant' ? item.content[event.content_index] : undefined;
    if (item.type !== 'message' || item.role !== 'assistant' || !content || content.type !== 'output_audio') {
      this.#error(raw, {
        code: 'unsupported_content_type',
        message: 'Only model output audio messages can be truncated',
        param: null,
      });
      return;
    }
    if (event.audio_end_ms > stored.audioMs) {
      this.#error(raw, {
        code: 'invalid_value',
        message: `Audio content of ${Math.floor(stored.audioMs)}ms is already shorter than ${event.audio_end_ms}ms`,
        param: 'audio_end_ms',
      });
      return;
    }
    stored.audioMs = event.audio_end_ms;
    // The service deletes the transcript so no unheard text stays in the model's context.
    content.transcript = '';
    this.#emit({
      type: 'conversation.item.truncated',
      item_id: event.item_id,
      content_index: event.content_index,
      audio_end_ms: event.audio_end_ms,
    });
  }

  // ── responses ──

  #onResponseCreate(params: ResponseCreateParams | undefined, raw: unknown): void {
    if (this.#config.type !== 'realtime') {
      this.#error(raw, { code: 'invalid_value', message: 'Responses are not supported in transcription sessions.', param: 'type' });
      return;
    }
    if (this.#response) {
      this.#error(raw, {
        code: 'conversation_already_has_active_response',
        message: `Conversation already has an active response in progress: ${this.#response.id}. Wait until the response is finished before creating a new one.`,
        param: null,
      });
      return;
    }
    this.#startResponse('client', params);
  }

  #startResponse(trigger: 'vad' | 'client', params: ResponseCreateParams | undefined): void {
    const config = this.#config;
    if (config.type !== 'realtime') return;
    const id = newRealtimeId('resp');
    const outputModalities = params?.output_modalities ?? config.output_modalities ?? ['audio'];
    const format = params?.audio?.output?.format ?? this.#outputFormat();
    const voiceSetting = params?.audio?.output?.voice ?? config.audio?.output?.voice ?? 'alloy';
    const voice = typeof voiceSetting === 'string' ? voiceSetting : voiceSetting.id;
    const conversation = params?.conversation ?? 'auto';
    const ctx: ResponseContext = {
      session: this,
      responseId: id,
      trigger,
      request: params ? clone(params) : undefined,
      instructions: params?.instructions ?? config.instructions ?? '',
      metadata: params?.metadata ?? null,
      conversation,
      outputModalities,
      items: this.items.map((item) => clone(item)),
      lastUserTranscript: this.#lastUserTranscript,
      index: this.#responseCount++,
    };
    let outputs: FakeResponseOutput[];
    let planError: string | undefined;
    try {
      outputs = this.#opts.respond
        ? this.#opts.respond(ctx)
        : [{ type: 'audio', transcript: 'Hello from the fake realtime model.', audioMs: 1200 }];
    } catch (err) {
      outputs = [];
      planError = err instanceof Error ? err.message : String(err);
    }
    const audioAllowed = outputModalities.includes('audio');
    outputs = outputs.map((output) =>
      output.type === 'audio' && !audioAllowed ? { type: 'text', text: output.transcript } : output,
    );
    const response = new FakeResponse({
      id,
      outputModalities: [...outputModalities],
      format,
      voice,
      conversation,
      metadata: ctx.metadata,
      maxOutputTokens: params?.max_output_tokens ?? config.max_output_tokens ?? 'inf',
      outputs,
      conversationId: this.#conversationId,
    });
    this.#response = response;
    this.#emit({ type: 'response.created', response: response.object('in_progress') });
    if (this.shape === 'beta') this.#emitRateLimits();
    if (planError !== undefined) {
      this.#finishResponse(response, 'failed', {
        type: 'failed',
        error: { type: 'server_error', code: `respond threw: ${planError}` },
      });
      return;
    }
    this.#advance(response);
  }

  #tickIntervalMs(): number {
    const speed = this.#opts.generationSpeed;
    return speed > 0 && Number.isFinite(speed) ? this.#opts.audioChunkMs / speed : 0;
  }

  #schedule(response: FakeResponse, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      response.timer = undefined;
      if (!response.done && !this.#closed) fn();
    }, this.#tickIntervalMs());
    response.timer = timer;
    this.#timers.add(timer);
  }

  /** Opens the next output, or finishes the response. */
  #advance(response: FakeResponse): void {
    if (response.done || this.#closed) return;
    const output = response.outputs[response.nextOutput];
    if (!output) {
      this.#finishResponse(response, 'completed', null);
      return;
    }
    const index = response.nextOutput++;
    const itemId = newRealtimeId('item');
    const format = response.format;
    let item: RealtimeItem;
    let ticks: number;
    let words: string[] = [];
    let argumentsText = '';
    const callId = output.type === 'function_call' ? (output.callId ?? newRealtimeId('call')) : '';
    if (output.type === 'function_call') {
      argumentsText = typeof output.arguments === 'string' ? output.arguments : JSON.stringify(output.arguments);
      item = { id: itemId, type: 'function_call', status: 'in_progress', call_id: callId, name: output.name, arguments: '' };
      ticks = Math.max(1, Math.ceil(argumentsText.length / 16));
    } else {
      item = { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] };
      words = splitWords(output.type === 'audio' ? output.transcript : output.text);
      ticks = output.type === 'audio' ? Math.max(1, Math.ceil(output.audioMs / this.#opts.audioChunkMs)) : Math.max(1, words.length);
    }
    const open: OpenOutput = {
      output,
      index,
      itemId,
      item,
      inConversation: !response.outOfBand,
      ticks,
      tick: 0,
      words,
      wordsSent: 0,
      text: '',
      argumentsText,
      argumentsSent: 0,
      audioBytesSent: 0,
      format,
      callId,
    };
    response.current = open;
    this.#emit({ type: 'response.output_item.added', response_id: response.id, output_index: index, item: clone(item) });
    if (open.inConversation) {
      const previous = this.#lastItemId();
      this.#items.push({ item, audioMs: 0 });
      this.#emit({ type: 'conversation.item.added', previous_item_id: previous, item: clone(item) });
    }
    if (item.type === 'message') {
      const audio = output.type === 'audio';
      this.#emit({
        ...this.#contentRef(response, open),
        type: 'response.content_part.added',
        part: audio ? { type: 'audio', transcript: '' } : { type: 'text', text: '' },
      });
      // The item holds the part from now on (empty until it completes).
      item.content = [audio ? { type: 'output_audio', transcript: '' } : { type: 'output_text', text: '' }];
    }
    this.#schedule(response, () => this.#tick(response));
  }

  #contentRef(response: FakeResponse, open: OpenOutput): Json {
    return { response_id: response.id, item_id: open.itemId, output_index: open.index, content_index: 0 };
  }

  #tick(response: FakeResponse): void {
    const open = response.current;
    if (!open || response.done) return;
    const { output } = open;
    if (output.type === 'function_call') {
      const piece = open.argumentsText.slice(open.argumentsSent, open.argumentsSent + 16);
      open.argumentsSent += piece.length;
      if (piece.length > 0) {
        this.#emit({
          type: 'response.function_call_arguments.delta',
          response_id: response.id,
          item_id: open.itemId,
          output_index: open.index,
          call_id: open.callId,
          delta: piece,
        });
      }
    } else if (output.type === 'text') {
      const word = open.words[open.wordsSent];
      if (word !== undefined) {
        open.wordsSent++;
        open.text += word;
        response.textTokens += 1;
        this.#emit({ ...this.#contentRef(response, open), type: 'response.output_text.delta', delta: word });
      }
    } else {
      // Transcript words run slightly ahead of the audio they describe, as on the live service.
      const wordsDue = Math.ceil(((open.tick + 1) * open.words.length) / open.ticks);
      while (open.wordsSent < wordsDue) {
        const word = open.words[open.wordsSent++] as string;
        open.text += word;
        response.textTokens += 1;
        this.#emit({ ...this.#contentRef(response, open), type: 'response.output_audio_transcript.delta', delta: word });
      }
      const bytesPerMs = audioBytesPerMs(open.format);
      const totalBytes = Math.round(output.audioMs * bytesPerMs);
      const chunkBytes = Math.min(Math.round(this.#opts.audioChunkMs * bytesPerMs), totalBytes - open.audioBytesSent);
      if (chunkBytes > 0) {
        const delta = toneChunkBase64(open.format.type, open.audioBytesSent, chunkBytes);
        open.audioBytesSent += chunkBytes;
        const ms = chunkBytes / bytesPerMs;
        response.audioMs += ms;
        this.#assistantAudioProduced = true;
        const stored = this.#findItem(open.itemId);
        if (stored) stored.audioMs += ms;
        this.#emit({ ...this.#contentRef(response, open), type: 'response.output_audio.delta', delta });
      }
    }
    open.tick++;
    if (open.tick < open.ticks) {
      this.#schedule(response, () => this.#tick(response));
      return;
    }
    this.#closeOutput(response, open, 'completed');
    this.#advance(response);
  }

  /** The closing group of one output: *.done, content_part.done, output_item.done, item.done. */
  #closeOutput(response: FakeResponse, open: OpenOutput, status: 'completed' | 'incomplete'): void {
    const { output, item } = open;
    const ref = this.#contentRef(response, open);
    if (item.type === 'function_call') {
      const args = status === 'completed' ? open.argumentsText : open.argumentsText.slice(0, open.argumentsSent);
      this.#emit({
        type: 'response.function_call_arguments.done',
        response_id: response.id,
        item_id: open.itemId,
        output_index: open.index,
        call_id: open.callId,
        name: item.name,
        arguments: args,
      });
      item.arguments = args;
    } else if (item.type === 'message' && item.role === 'assistant') {
      if (output.type === 'audio') {
        const transcript = status === 'completed' ? open.words.join('') : open.text;
        this.#emit({ ...ref, type: 'response.output_audio.done' });
        this.#emit({ ...ref, type: 'response.output_audio_transcript.done', transcript });
        this.#emit({ ...ref, type: 'response.content_part.done', part: { type: 'audio', transcript } });
        item.content = [{ type: 'output_audio', transcript }];
      } else {
        const text = status === 'completed' ? open.words.join('') : open.text;
        this.#emit({ ...ref, type: 'response.output_text.done', text });
        this.#emit({ ...ref, type: 'response.content_part.done', part: { type: 'text', text } });
        item.content = [{ type: 'output_text', text }];
      }
    }
    (item as { status?: string }).status = status;
    response.finalItems.push(clone(item));
    response.current = null;
    this.#emit({ type: 'response.output_item.done', response_id: response.id, output_index: open.index, item: clone(item) });
    if (open.inConversation) {
      const index = this.#items.findIndex((stored) => stored.item.id === open.itemId);
      const previous = index > 0 ? (this.#items[index - 1]?.item.id ?? null) : null;
      this.#emit({ type: 'conversation.item.done', previous_item_id: previous, item: clone(item) });
    }
  }

  #cancelResponse(response: FakeResponse, reason: 'client_cancelled' | 'turn_detected'): void {
    if (response.done) return;
    if (response.timer) {
      clearTimeout(response.timer);
      this.#timers.delete(response.timer);
      response.timer = undefined;
    }
    if (response.current) this.#closeOutput(response, response.current, 'incomplete');
    this.#finishResponse(response, 'cancelled', { type: 'cancelled', reason });
  }

  #finishResponse(
    response: FakeResponse,
    status: 'completed' | 'cancelled' | 'failed',
    details: RealtimeResponse['status_details'],
  ): void {
    response.done = true;
    if (this.#response === response) this.#response = null;
    this.#emit({ type: 'response.done', response: response.object(status, { status_details: details, usage: this.#usage(response) }) });
    if (this.shape === 'ga') this.#emitRateLimits();
  }

  #usage(response: FakeResponse): ResponseUsage {
    const instructionsTokens = countTokens(this.#config.type === 'realtime' ? (this.#config.instructions ?? '') : '');
    const inputAudioTokens = Math.ceil(this.#inputMs / 100);
    const outputAudioTokens = Math.ceil(response.audioMs / 50);
    const input = instructionsTokens + inputAudioTokens;
    const output = response.textTokens + outputAudioTokens;
    return {
      total_tokens: input + output,
      input_tokens: input,
      output_tokens: output,
      input_token_details: {
        text_tokens: instructionsTokens,
        audio_tokens: inputAudioTokens,
        image_tokens: 0,
        cached_tokens: 0,
        cached_tokens_details: { text_tokens: 0, audio_tokens: 0, image_tokens: 0 },
      },
      output_token_details: { text_tokens: response.textTokens, audio_tokens: outputAudioTokens },
    };
  }

  #emitRateLimits(): void {
    const remaining = Math.max(0, 40000 - 500 * this.#responseCount);
    this.#emit({
      type: 'rate_limits.updated',
      rate_limits: [{ name: 'tokens', limit: 40000, remaining, reset_seconds: 2.265 }],
    });
  }

  // ── lifetime ──

  #onClose(): void {
    this.#shutdown();
    this.#server.notify();
  }

  #shutdown(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#response) this.#response.done = true;
    this.#response = null;
  }
}

// ── the server ────────────────────────────────────────────────────────────────────────────────

export interface FakeRealtimeServer {
  /** `ws://127.0.0.1:<port>/v1/realtime` */
  readonly url: string;
  readonly port: number;
  readonly sessions: FakeRealtimeSession[];
  /** Open WebSocket sessions. */
  readonly connections: number;
  /** Open TCP sockets, upgraded or not (a stalled or aborted handshake shows here). */
  readonly openSockets: number;
  /** Upgrade requests seen, accepted or not. */
  readonly upgradeCount: number;
  /** Answer the next `n` upgrades with HTTP `status` (default 500). */
  refuseNext(n: number, status?: number): void;
  /** Never answer the next `n` upgrades (the socket stays open until the client gives up). */
  stallNext(n: number): void;
  /** Cut every open session's socket without a close handshake. */
  dropAll(): void;
  /** Resolves when `predicate` holds; re-checked on every event in or out. */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  /** The `index`th session (default: the next one to open when none is given and none exists yet). */
  waitForSession(index?: number, timeoutMs?: number): Promise<FakeRealtimeSession>;
  /** Wakes `waitFor` waiters; called by sessions. */
  notify(): void;
  close(): Promise<void>;
}

interface Waiter {
  predicate: () => boolean;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

class FakeRealtimeServerImpl implements FakeRealtimeServer {
  readonly sessions: FakeRealtimeSession[] = [];
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #opts: ResolvedOptions;
  readonly #sockets = new Set<Socket>();
  readonly #stalled = new Set<Duplex>();
  readonly #waiters = new Set<Waiter>();
  #refuse: { count: number; status: number } = { count: 0, status: 500 };
  #stall = 0;
  #upgrades = 0;
  #port = 0;
  #closed = false;

  constructor(opts: FakeRealtimeServerOptions) {
    this.#opts = {
      vad: 'energy',
      audioChunkMs: 100,
      generationSpeed: 10,
      record: true,
      ...opts,
      transcripts: Array.isArray(opts.transcripts) ? [...opts.transcripts] : opts.transcripts,
    };
    this.#http = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'Upgrade required', type: 'invalid_request_error' } }));
    });
    this.#wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    this.#http.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => {
        this.#sockets.delete(socket);
        this.notify();
      });
    });
    this.#http.on('upgrade', (req, socket, head) => this.#onUpgrade(req, socket, head));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(0, '127.0.0.1', () => {
        this.#http.off('error', reject);
        resolve();
      });
    });
    const address = this.#http.address();
    this.#port = typeof address === 'object' && address ? address.port : 0;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.#port}/v1/realtime`;
  }
  get port(): number {
    return this.#port;
  }
  get connections(): number {
    return this.sessions.filter((session) => session.isOpen).length;
  }
  get openSockets(): number {
    return this.#sockets.size;
  }
  get upgradeCount(): number {
    return this.#upgrades;
  }

  refuseNext(n: number, status = 500): void {
    this.#refuse = { count: n, status };
  }
  stallNext(n: number): void {
    this.#stall = n;
  }
  dropAll(): void {
    for (const session of this.sessions) session.drop();
  }

  #reject(socket: Duplex, status: number, code: string, message: string): void {
    const body = JSON.stringify({ error: { message, type: 'invalid_request_error', code, param: null } });
    const response =
      `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : 'Error'}\r\n` +
        'Content-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body;
    socket.end(response, () => socket.destroy());
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#upgrades++;
    this.notify();
    socket.on('error', () => undefined);
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (this.#stall > 0) {
      this.#stall--;
      this.#stalled.add(socket);
      // http servers allow half-open sockets: a client that gives up only sends FIN.
      socket.on('end', () => socket.destroy());
      socket.on('close', () => this.#stalled.delete(socket));
      return;
    }
    if (this.#refuse.count > 0) {
      this.#refuse.count--;
      this.#reject(socket, this.#refuse.status, 'server_error', 'The server had an error while processing your request.');
      return;
    }
    if (path !== '/v1/realtime') {
      this.#reject(socket, 404, 'not_found', `Invalid URL (GET ${path})`);
      return;
    }
    if (this.#opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.#opts.apiKey}`) {
      this.#reject(socket, 401, 'invalid_api_key', 'Incorrect API key provided.');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      if (this.#closed) {
        ws.terminate();
        return;
      }
      this.sessions.push(new FakeRealtimeSession(this, ws, req, this.#opts));
      this.notify();
    });
  }

  notify(): void {
    for (const waiter of this.#waiters) {
      let done: boolean;
      try {
        done = waiter.predicate();
      } catch (err) {
        this.#waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.reject(err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      if (done) {
        this.#waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve();
      }
    }
  }

  waitFor(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new Error(`waitFor timed out after ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  async waitForSession(index?: number, timeoutMs = 2000): Promise<FakeRealtimeSession> {
    const wanted = index ?? 0;
    await this.waitFor(() => this.sessions.length > wanted, timeoutMs);
    return this.sessions[wanted] as FakeRealtimeSession;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const session of this.sessions) session.drop();
    for (const socket of this.#stalled) socket.destroy();
    for (const socket of this.#sockets) socket.destroy();
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('fake realtime server closed'));
    }
    this.#waiters.clear();
    this.#wss.close();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }
}

export async function startFakeRealtimeServer(opts: FakeRealtimeServerOptions = {}): Promise<FakeRealtimeServer> {
  const server = new FakeRealtimeServerImpl(opts);
  await server.listen();
  return server;
}
