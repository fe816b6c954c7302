// A faithful fake of OpenAI's Realtime service over WebSocket, for tests. The protocol itself —
// sessions, the conversation, the input buffer, response event order, errors, GA and beta — is Koe's
// own protocol core (src/engine/protocol/, the same code the engine serves), so it is not written twice.
// This file adds only what a test needs around it:
// - the WebSocket plumbing: upgrade checks (API key, refusals, stalls, drops), recording what went in
//   and out, waiting for it;
// - an energy VAD (10 ms frames, the session's threshold, prefix padding and silence duration) that
//   drives the core's speech_started / speech_stopped, and manual `speechStarted()` / `speechStopped()`;
// - scripted input transcripts (chosen by the test) and scripted responses planned by `respond(ctx)`:
//   audio (a 440 Hz tone in the output format, paced at `generationSpeed` × real time, transcript word
//   by word), text, function calls.
// Input audio is not stored: `conversation.item.retrieved` returns user audio items without their
// `audio` bytes. Every timer and socket is released by `close()`.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import {
  DEFAULT_MODEL,
  ProtocolSession,
  type CommittedAudio,
  type ResponseHandle,
  type SessionBrain,
  type SessionControl,
  type WireEvent,
} from '../../src/engine/protocol/index.js';
import {
  audioBytesPerMs,
  type AudioFormat,
  type AudioFormatType,
  type RealtimeClientEvent,
  type RealtimeItem,
  type RealtimeShape,
  type ResponseCreateParams,
  type ServerSession,
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
  /** What the response sees (GA items): the conversation as it stands, or the request's `input`. */
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

const VAD_FRAME_MS = 10;
const DEFAULT_REPLY: ResponsePlan = [{ type: 'audio', transcript: 'Hello from the fake realtime model.', audioMs: 1200 }];

type Json = Record<string, unknown>;

function splitWords(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

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

/** `bytes` of the looping tone starting at `offset`: one second of it is made once per format. */
function toneChunk(format: AudioFormatType, offset: number, bytes: number): Buffer {
  let loop = toneLoops.get(format);
  if (!loop) {
    loop = toneAudio(format, 1000);
    toneLoops.set(format, loop);
  }
  const start = offset % loop.length;
  if (start + bytes <= loop.length) return loop.subarray(start, start + bytes);
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = loop[(start + i) % loop.length] as number;
  return out;
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

// ── the brain: energy VAD, scripted transcripts, scripted and paced responses ─────────────────

function prefixPaddingMs(session: ServerSession): number {
  const td = session.audio?.input?.turn_detection;
  return td?.type === 'server_vad' ? (td.prefix_padding_ms ?? 300) : 300;
}

/** Speech is a 10 ms frame louder than the session's threshold; its end, enough quiet frames in a row. */
class EnergyVad {
  readonly #control: SessionControl;
  #silenceMs = 0;
  /** Bytes of an incomplete frame carried to the next append. */
  #remainder = Buffer.alloc(0);

  constructor(control: SessionControl) {
    this.#control = control;
  }

  push(bytes: Buffer, format: AudioFormat, startMs: number, td: TurnDetection): void {
    const control = this.#control;
    const bytesPerMs = audioBytesPerMs(format);
    const frameBytes = bytesPerMs * VAD_FRAME_MS;
    const data = this.#remainder.length > 0 ? Buffer.concat([this.#remainder, bytes]) : bytes;
    // Carried bytes were on the clock already when they arrived.
    let clockMs = startMs - this.#remainder.length / bytesPerMs;
    let offset = 0;
    const thresholdRms = (td.type === 'server_vad' ? (td.threshold ?? 0.5) : 0.5) * 0.04;
    const silenceLimitMs =
      td.type === 'server_vad'
        ? (td.silence_duration_ms ?? 200)
        : ({ low: 900, medium: 500, high: 250, auto: 500 } as const)[td.eagerness ?? 'auto'];
    while (offset + frameBytes <= data.length) {
      const frame = data.subarray(offset, offset + frameBytes);
      offset += frameBytes;
      const frameStartMs = clockMs;
      clockMs += VAD_FRAME_MS;
      const speech = frameRms(frame, format.type) >= thresholdRms;
      // The core's turn state is the truth: a commit, a clear or speechStarted() may have changed it.
      if (!control.speaking) {
        this.#silenceMs = 0;
        if (speech) control.speechStarted(frameStartMs - prefixPaddingMs(control.config));
        continue;
      }
      if (speech) {
        this.#silenceMs = 0;
        continue;
      }
      this.#silenceMs += VAD_FRAME_MS;
      if (this.#silenceMs >= silenceLimitMs) {
        control.speechStopped(clockMs);
        this.#silenceMs = 0;
      }
    }
    this.#remainder = Buffer.from(data.subarray(offset));
  }

  clear(): void {
    this.#silenceMs = 0;
    this.#remainder = Buffer.alloc(0);
  }
}

/** One scripted response, output by output, one tick of `audioChunkMs` at a time. */
class PacedReply {
  readonly #handle: ResponseHandle;
  readonly #outputs: readonly FakeResponseOutput[];
  readonly #opts: ResolvedOptions;
  readonly #timers: Set<NodeJS.Timeout>;
  #next = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(handle: ResponseHandle, outputs: readonly FakeResponseOutput[], opts: ResolvedOptions, timers: Set<NodeJS.Timeout>) {
    this.#handle = handle;
    this.#outputs = outputs;
    this.#opts = opts;
    this.#timers = timers;
    handle.signal.addEventListener('abort', () => this.#stop(), { once: true });
  }

  /** Opens the next output, or finishes the response. */
  advance(): void {
    const handle = this.#handle;
    if (handle.done) return;
    const output = this.#outputs[this.#next++];
    if (!output) {
      handle.finish();
      return;
    }
    if (output.type === 'function_call') {
      const args = typeof output.arguments === 'string' ? output.arguments : JSON.stringify(output.arguments);
      const call = handle.beginFunctionCall({ name: output.name, ...(output.callId ? { callId: output.callId } : {}) });
      this.#play(Math.max(1, Math.ceil(args.length / 16)), (tick) => call.arguments(args.slice(tick * 16, tick * 16 + 16)), call.end);
    } else if (output.type === 'text') {
      const message = handle.beginMessage({ modality: 'text' });
      const words = splitWords(output.text);
      this.#play(Math.max(1, words.length), (tick) => message.text(words[tick] ?? ''), message.end);
    } else {
      this.#playAudio(output, handle.beginMessage({ modality: 'audio' }));
    }
  }

  #playAudio(output: { transcript: string; audioMs: number }, message: ReturnType<ResponseHandle['beginMessage']>): void {
    const format = this.#handle.request.outputFormat;
    const chunkMs = this.#opts.audioChunkMs;
    const bytesPerMs = audioBytesPerMs(format);
    const totalBytes = Math.round(output.audioMs * bytesPerMs);
    const words = splitWords(output.transcript);
    const ticks = Math.max(1, Math.ceil(output.audioMs / chunkMs));
    let wordsSent = 0;
    let bytesSent = 0;
    this.#play(
      ticks,
      (tick) => {
        // Transcript words run slightly ahead of the audio they describe, as on the live service.
        const wordsDue = Math.ceil(((tick + 1) * words.length) / ticks);
        while (wordsSent < wordsDue) message.text(words[wordsSent++] as string);
        const chunkBytes = Math.min(Math.round(chunkMs * bytesPerMs), totalBytes - bytesSent);
        if (chunkBytes <= 0) return;
        message.audio(toneChunk(format.type, bytesSent, chunkBytes));
        bytesSent += chunkBytes;
      },
      message.end,
    );
  }

  /** `ticks` ticks of one output, then its end and the next output. */
  #play(ticks: number, tick: (index: number) => void, end: () => void): void {
    let index = 0;
    const step = (): void => {
      tick(index++);
      if (index < ticks) return this.#schedule(step);
      end();
      this.advance();
    };
    this.#schedule(step);
  }

  #schedule(fn: () => void): void {
    const speed = this.#opts.generationSpeed;
    const intervalMs = speed > 0 && Number.isFinite(speed) ? this.#opts.audioChunkMs / speed : 0;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#timer = undefined;
      if (!this.#handle.done) fn();
    }, intervalMs);
    this.#timer = timer;
    this.#timers.add(timer);
  }

  #stop(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timers.delete(this.#timer);
    this.#timer = undefined;
  }
}

class FakeBrain implements SessionBrain {
  readonly #control: SessionControl;
  readonly #session: FakeRealtimeSession;
  readonly #opts: ResolvedOptions;
  readonly #vad: EnergyVad;
  readonly #timers = new Set<NodeJS.Timeout>();
  #responses = 0;
  #lastUserTranscript: string | undefined;

  constructor(control: SessionControl, session: FakeRealtimeSession, opts: ResolvedOptions) {
    this.#control = control;
    this.#session = session;
    this.#opts = opts;
    this.#vad = new EnergyVad(control);
  }

  onInputAudio(audio: Buffer, format: AudioFormat, startMs: number): void {
    const td = this.#control.config.audio?.input?.turn_detection ?? null;
    if (td !== null && this.#opts.vad === 'energy') this.#vad.push(audio, format, startMs, td);
  }

  onInputCleared(): void {
    this.#vad.clear();
  }

  onCommitted(committed: CommittedAudio): void {
    const { itemId, transcription } = committed;
    if (!transcription) return;
    const source = this.#opts.transcripts;
    const transcript =
      typeof source === 'function'
        ? source({ session: this.#session, itemId, audioMs: committed.audioMs })
        : Array.isArray(source) && source.length > 0
          ? (source.shift() as string | null)
          : '';
    if (transcript === null) {
      this.#control.transcriptionFailed(itemId, { code: 'transcription_failed', message: 'Input transcription failed.' });
      return;
    }
    const pieces = transcription.model === 'whisper-1' ? [transcript] : splitWords(transcript);
    for (const delta of pieces) this.#control.transcriptionDelta(itemId, delta);
    this.#lastUserTranscript = transcript;
    this.#control.transcriptionCompleted(itemId, transcript);
  }

  onResponse(response: ResponseHandle): void {
    const { request } = response;
    const ctx: ResponseContext = {
      session: this.#session,
      responseId: response.id,
      trigger: request.trigger,
      request: request.params,
      instructions: request.instructions,
      metadata: request.metadata,
      conversation: request.conversation,
      outputModalities: request.outputModalities,
      items: request.items,
      lastUserTranscript: this.#lastUserTranscript,
      index: this.#responses++,
    };
    let outputs: FakeResponseOutput[];
    try {
      outputs = this.#opts.respond ? this.#opts.respond(ctx) : DEFAULT_REPLY;
    } catch (err) {
      response.fail({ type: 'server_error', code: `respond threw: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    const audioAllowed = request.outputModalities.includes('audio');
    outputs = outputs.map((output) => (output.type === 'audio' && !audioAllowed ? { type: 'text', text: output.transcript } : output));
    new PacedReply(response, outputs, this.#opts, this.#timers).advance();
  }

  onSessionUpdated(): void {}

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}

// ── one session: the socket around the protocol core ─────────────────────────────────────────

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
  readonly #record: boolean;
  readonly #core: ProtocolSession;

  constructor(server: FakeRealtimeServer, ws: WebSocket, req: IncomingMessage, opts: ResolvedOptions) {
    this.#server = server;
    this.#ws = ws;
    this.#record = opts.record;
    const url = new URL(req.url ?? '/', 'http://fake');
    this.shape = String(req.headers['openai-beta'] ?? '').includes('realtime=v1') ? 'beta' : 'ga';
    this.model = url.searchParams.get('model') ?? DEFAULT_MODEL[this.shape];
    this.request = { url: req.url ?? '/', headers: { ...req.headers } };
    ws.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    ws.on('close', () => {
      this.#core.close();
      this.#server.notify();
    });
    ws.on('error', () => undefined);
    this.#core = new ProtocolSession({
      shape: this.shape,
      model: this.model,
      sessionType: url.searchParams.get('intent') === 'transcription' ? 'transcription' : 'realtime',
      send: (text, event) => this.#send(text, event),
      brain: (control) => new FakeBrain(control, this, opts),
    });
  }

  get id(): string {
    return this.#core.id;
  }
  get isOpen(): boolean {
    return !this.#core.closed && this.#ws.readyState === WebSocket.OPEN;
  }
  /** The full effective session (GA shape). */
  get config(): ServerSession {
    return structuredClone(this.#core.config);
  }
  get items(): readonly RealtimeItem[] {
    return this.#core.items;
  }
  /** Milliseconds of input audio appended so far. */
  get inputAudioMs(): number {
    return this.#core.inputAudioMs;
  }
  get activeResponseId(): string | undefined {
    return this.#core.activeResponse?.id;
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
    const core = this.#core;
    if (core.closed || core.speaking) return;
    core.speechStarted(core.inputAudioMs - prefixPaddingMs(core.config));
  }

  /** As if the VAD heard the end of speech now: speech_stopped, commit, transcription, response. */
  speechStopped(): void {
    if (this.#core.closed) return;
    this.speechStarted();
    this.#core.speechStopped(this.#core.inputAudioMs);
  }

  /** Sends a GA server event (translated for beta sessions); `event_id` is added when missing. */
  emitEvent(event: { type: string } & Json): void {
    this.#core.emitEvent(event);
  }

  /** Sends a text frame as is (for invalid-frame tests). */
  sendRaw(text: string): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(text);
  }

  /** Closes the socket from the server side. */
  close(code = 1000, reason = ''): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(code, reason);
    this.#core.close();
  }

  /** Cuts the socket without a closing handshake, as a network drop would. */
  drop(): void {
    this.#ws.terminate();
    this.#core.close();
  }

  #send(text: string, event: WireEvent): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    this.counts.sent++;
    if (event.type === 'response.output_audio.delta' || event.type === 'response.audio.delta') this.counts.audioDeltas++;
    if (this.#record) this.sent.push(event as { type: string } & Json);
    this.#ws.send(text);
    this.#server.notify();
  }

  #onFrame(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.#core.closed) return;
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as Buffer).toString('utf8');
    this.counts.received++;
    if (this.#record) {
      let json: unknown = text;
      try {
        json = JSON.parse(text);
      } catch {
        // The core answers it.
      }
      this.receivedRaw.push({ json, text });
    }
    const event = this.#core.receive(text, isBinary);
    if (event && this.#record) this.received.push(event);
    // After handling, so waiters see its effects (e.g. inputAudioMs after an append).
    this.#server.notify();
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
