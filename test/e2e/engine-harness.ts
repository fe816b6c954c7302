// What the engine's end-to-end tests share: a real Koe server on loopback with its real engine (models
// loaded before the first test), a raw WebSocket client that keeps every event exactly as it came over
// the wire (beta names for beta sessions) and checks each one against Koe's own schemas of the protocol,
// and test speech encoded in a session's audio format.
//
// Speech comes from Debian's flite (voices awb and kal16; Koe itself speaks with slt) through
// test/unit/engine/speech-fixtures.ts. The encoding to the wire formats is done by sox, not by Koe's
// src/audio, so the engine's decoder is not graded with its own twin.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';
import { AgentRegistry, defineAgent } from '../../src/agents/index.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log/logger.js';
import { createBetaToGaState, decodeServerFrame } from '../../src/realtime/index.js';
import type { BetaToGaState } from '../../src/realtime/index.js';
import type { KoeServer } from '../../src/server/app.js';
import { buildServer } from '../../src/server/app.js';
import type { Script } from '../unit/engine/dialogue-llm/fake-chat-server.js';
import { chunk, send, startStream } from '../unit/engine/dialogue-llm/fake-chat-server.js';
import { concat, flite, RATE_HZ, silence } from '../unit/engine/speech-fixtures.js';

export const LOG_LEVEL = process.env.KOE_TEST_LOG ?? 'silent';

// ── Koe ────────────────────────────────────────────────────────────────────

export interface RunningKoe {
  server: KoeServer;
  port: number;
  /** `ws://127.0.0.1:PORT/v1/realtime` */
  realtimeUrl: string;
  close(): Promise<void>;
}

/**
 * Starts Koe on a free port with `env` on top of the defaults, and loads the engine's models. It listens on
 * loopback unless `host` says otherwise; `realtimeUrl` always dials loopback.
 */
export async function startKoe(env: Record<string, string> = {}, opts: { host?: string } = {}): Promise<RunningKoe> {
  const host = opts.host ?? '127.0.0.1';
  const config = loadConfig({ PORT: '0', HOST: host, LOG_LEVEL, ...env });
  const log = createLogger({ level: config.logLevel });
  const server = await buildServer({ config, log, agents: new AgentRegistry([defineAgent({ id: 'a', name: 'A', instructions: 'x' })]) });
  await server.app.listen({ port: 0, host });
  // Loaded here, so a test's timeouts measure its own work and not the start of the models.
  await server.engine();
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, port, realtimeUrl: `ws://127.0.0.1:${port}/v1/realtime`, close: () => server.app.close() };
}

// ── the client ─────────────────────────────────────────────────────────────

/** A server event as it was on the wire. */
export type WireEvent = { type: string; event_id: string } & Record<string, unknown>;
export type Match = string | ((event: WireEvent) => boolean);

export interface ConnectOptions {
  /** Sends `OpenAI-Beta: realtime=v1`. */
  beta?: boolean;
  /** Sent as `Authorization: Bearer …`. */
  apiKey?: string;
  model?: string;
  /** WebSocket subprotocols to offer (browsers pass the key as `openai-insecure-api-key.<key>`). */
  protocols?: string[];
}

interface Waiter {
  match: (event: WireEvent) => boolean;
  from: number;
  resolve: (event: WireEvent) => void;
}

export class EngineClient {
  /** Every server event in arrival order. */
  readonly events: WireEvent[] = [];
  /** Frames Koe's own client would have refused (schema violations), with the reason. */
  readonly invalid: string[] = [];
  readonly shape: 'ga' | 'beta';
  readonly #ws: WebSocket;
  readonly #betaState: BetaToGaState;
  #waiters: Waiter[] = [];
  #closed: Promise<void>;

  private constructor(ws: WebSocket, shape: 'ga' | 'beta') {
    this.#ws = ws;
    this.shape = shape;
    this.#betaState = createBetaToGaState();
    this.#closed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data: WebSocket.RawData) => this.#onFrame(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8')));
  }

  static connect(url: string, opts: ConnectOptions = {}): Promise<EngineClient> {
    const target = new URL(url);
    target.searchParams.set('model', opts.model ?? 'koe');
    const headers: Record<string, string> = {};
    if (opts.beta) headers['OpenAI-Beta'] = 'realtime=v1';
    if (opts.apiKey) headers.Authorization = `Bearer ${opts.apiKey}`;
    const ws = new WebSocket(target, opts.protocols ?? [], { headers, perMessageDeflate: false });
    // Listening from the first frame: session.created may share the TCP segment of the 101 answer.
    const client = new EngineClient(ws, opts.beta ? 'beta' : 'ga');
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (part: string) => (body += part));
        response.on('end', () => {
          ws.terminate();
          reject(new UpgradeRefused(response.statusCode ?? 0, body));
        });
      });
    });
  }

  send(event: Record<string, unknown>): void {
    this.#ws.send(JSON.stringify(event));
  }

  /** Sends audio (raw bytes in the session's input format) as appends of `frameMs` each. */
  appendAudio(bytes: Buffer, bytesPerMs: number, frameMs = 20): void {
    const step = Math.round(bytesPerMs * frameMs);
    for (let offset = 0; offset < bytes.length; offset += step) {
      this.send({ type: 'input_audio_buffer.append', audio: bytes.subarray(offset, offset + step).toString('base64') });
    }
  }

  /** Position in `events` now: pass it as `from` to wait only for what comes later. */
  get mark(): number {
    return this.events.length;
  }

  /** The first event at index `from` or later that matches; rejects after `timeoutMs` naming what came. */
  waitFor(match: Match, opts: { from?: number; timeoutMs?: number } = {}): Promise<WireEvent> {
    const test = typeof match === 'string' ? (e: WireEvent) => e.type === match : match;
    const from = opts.from ?? 0;
    const timeoutMs = opts.timeoutMs ?? 20_000;
    const found = this.events.slice(from).find(test);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match: test,
        from,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        const what = typeof match === 'string' ? match : 'a matching event';
        reject(new Error(`no ${what} within ${timeoutMs} ms; after #${from} came: ${this.events.slice(from).map((e) => e.type).join(', ') || 'nothing'}`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Index of an event in `events`. */
  indexOf(event: WireEvent): number {
    return this.events.indexOf(event);
  }

  /** Events of `type` (optionally from index `from`). */
  all(type: string, from = 0): WireEvent[] {
    return this.events.slice(from).filter((e) => e.type === type);
  }

  /** `session.update`, then waits for `session.updated` (fails on an `error`). */
  async configure(session: Record<string, unknown>): Promise<WireEvent> {
    const from = this.mark;
    this.send({ type: 'session.update', session });
    const answer = await this.waitFor((e) => e.type === 'session.updated' || e.type === 'error', { from });
    if (answer.type === 'error') throw new Error(`session.update refused: ${JSON.stringify(answer.error)}`);
    return answer;
  }

  /**
   * Everything the server did with what was sent so far, short of work in other threads (speech
   * recognition and synthesis, the dialogue): in `events` once this resolves. Each probe is a
   * `conversation.item.retrieve` of a made-up id, answered in order on the socket. Two rounds, because
   * several frames of one TCP read are handled in one tick and the engine's VAD reports through promises
   * that settle after that tick: the second probe is read only after they ran.
   */
  async sync(): Promise<void> {
    for (let round = 0; round < 2; round++) {
      const probe = `sync_${Math.random().toString(36).slice(2)}`;
      const from = this.mark;
      this.send({ type: 'conversation.item.retrieve', item_id: probe, event_id: probe });
      await this.waitFor((e) => e.type === 'error' && (e.error as { event_id?: string }).event_id === probe, { from });
    }
  }

  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) this.#ws.close();
    await this.#closed;
  }

  #onFrame(text: string): void {
    let event: WireEvent;
    try {
      event = JSON.parse(text) as WireEvent;
    } catch {
      this.invalid.push(`not JSON: ${text.slice(0, 100)}`);
      return;
    }
    for (const result of decodeServerFrame(text, this.shape, this.#betaState)) {
      if (!result.ok) this.invalid.push(result.reason);
    }
    this.events.push(event);
    const index = this.events.length - 1;
    for (const waiter of [...this.#waiters]) {
      if (index >= waiter.from && waiter.match(event)) {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        waiter.resolve(event);
      }
    }
  }
}

export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`the server refused the WebSocket upgrade with HTTP ${status}: ${body}`);
  }
}

// ── a language model the test holds the reins of ──────────────────────────

export interface HeldReply {
  script: Script;
  /** Lets the model go on with `rest`. */
  release(): void;
  /** Resolves when the engine dropped the request before the reply ended (a cancel reached the model). */
  gone: Promise<void>;
}

/**
 * A streamed chat-completions reply that sends `first` at once, then waits for `release()` before it sends
 * `rest` and ends; so a test knows the reply is still being produced while it does something.
 */
export function heldReply(first: readonly string[], rest: readonly string[]): HeldReply {
  let release = (): void => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let gone = (): void => undefined;
  const dropped = new Promise<void>((resolve) => (gone = resolve));
  const script: Script = async (exchange) => {
    const { res } = exchange;
    void exchange.clientGone.then(gone);
    startStream(res);
    send(res, chunk({ role: 'assistant', content: '' }));
    for (const piece of first) send(res, chunk({ content: piece }));
    const outcome = await Promise.race([released.then(() => 'released' as const), exchange.clientGone.then(() => 'gone' as const)]);
    if (outcome === 'gone' || res.destroyed) return;
    for (const piece of rest) send(res, chunk({ content: piece }));
    send(res, chunk({}, 'stop'));
    send(res, '[DONE]');
    res.end();
  };
  return { script, release: () => release(), gone: dropped };
}

// ── what tests read from events ────────────────────────────────────────────

export interface ResponseDone {
  id: string;
  status: string;
  status_details: { type?: string; reason?: string; error?: { code?: string } } | null;
  output: Array<{ id: string; type: string; status?: string; name?: string; call_id?: string; arguments?: string; content?: Array<{ type: string; transcript?: string | null }> }>;
}

export function responseOf(event: WireEvent): ResponseDone {
  return event.response as ResponseDone;
}

/** The transcript of a response's first audio message. */
export function spokenTranscript(done: WireEvent): string {
  const message = responseOf(done).output.find((item) => item.type === 'message');
  return message?.content?.[0]?.transcript ?? '';
}

/** All audio deltas of `responseId` (either shape), decoded and joined. */
export function responseAudio(client: EngineClient, responseId: string): Buffer {
  const type = audioEventNames(client.shape).delta;
  return Buffer.concat(client.all(type).filter((e) => e.response_id === responseId).map((e) => Buffer.from(e.delta as string, 'base64')));
}

/** Event names of an audio message that differ between the shapes (realtime.md §a.2). */
export function audioEventNames(shape: 'ga' | 'beta'): { delta: string; transcriptDelta: string; done: string; transcriptDone: string } {
  return shape === 'beta'
    ? { delta: 'response.audio.delta', transcriptDelta: 'response.audio_transcript.delta', done: 'response.audio.done', transcriptDone: 'response.audio_transcript.done' }
    : { delta: 'response.output_audio.delta', transcriptDelta: 'response.output_audio_transcript.delta', done: 'response.output_audio.done', transcriptDone: 'response.output_audio_transcript.done' };
}

/**
 * The documented order of one response on the wire (realtime.md §b.4, b.5): response.created first and
 * response.done last of everything about it; each message's deltas inside its content part; an item's
 * output_item.done after its part closed.
 */
export function assertResponseOrder(client: EngineClient, responseId: string): void {
  const { events } = client;
  const names = audioEventNames(client.shape);
  const created = events.findIndex((e) => e.type === 'response.created' && (e.response as { id: string }).id === responseId);
  const done = events.findIndex((e) => e.type === 'response.done' && (e.response as { id: string }).id === responseId);
  assert.ok(created >= 0 && done > created, `response.created before response.done for ${responseId}`);
  const own = events.flatMap((e, i) => (e.response_id === responseId ? [i] : []));
  assert.ok(own.every((i) => i > created && i < done), 'every event of the response between response.created and response.done');
  const itemIds = new Set(own.map((i) => (events[i] as WireEvent).item_id ?? ((events[i] as WireEvent).item as { id?: string } | undefined)?.id));
  for (const itemId of itemIds) {
    if (typeof itemId !== 'string') continue;
    const at = (type: string) => events.findIndex((e, i) => own.includes(i) && e.type === type && (e.item_id ?? (e.item as { id?: string } | undefined)?.id) === itemId);
    const partAdded = at('response.content_part.added');
    const partDone = at('response.content_part.done');
    const itemDone = at('response.output_item.done');
    assert.ok(at('response.output_item.added') >= 0 && itemDone > at('response.output_item.added'), `output_item.added, then output_item.done for ${itemId}`);
    if (partAdded < 0) continue;
    const deltas = own.filter((i) => (events[i] as WireEvent).item_id === itemId && [names.delta, names.transcriptDelta].includes((events[i] as WireEvent).type));
    assert.ok(deltas.every((i) => i > partAdded && i < partDone), `the deltas of ${itemId} inside its content part`);
    assert.ok(partDone < itemDone, `content_part.done before output_item.done for ${itemId}`);
  }
}

// ── audio on the wire ──────────────────────────────────────────────────────

export type WireFormat = 'pcm16' | 'g711_ulaw' | 'g711_alaw';

/** GA `audio.*.format` objects. */
export const GA_FORMAT = {
  pcm16: { type: 'audio/pcm', rate: 24_000 },
  g711_ulaw: { type: 'audio/pcmu' },
  g711_alaw: { type: 'audio/pcma' },
} as const;

export const BYTES_PER_MS: Record<WireFormat, number> = { pcm16: 48, g711_ulaw: 8, g711_alaw: 8 };

/** 16 kHz PCM16 (the speech fixtures' rate) → raw bytes of a wire format, by sox without dither. */
export function encodeForWire(pcm16k: Int16Array, format: WireFormat): Buffer {
  const input = Buffer.from(pcm16k.buffer, pcm16k.byteOffset, pcm16k.byteLength);
  const out = format === 'pcm16' ? ['-r', '24000', '-e', 'signed', '-b', '16'] : ['-r', '8000', '-e', format === 'g711_ulaw' ? 'u-law' : 'a-law'];
  return execFileSync('sox', ['-D', '-t', 'raw', '-r', String(RATE_HZ), '-e', 'signed', '-b', '16', '-c', '1', '-', '-t', 'raw', ...out, '-c', '1', '-'], {
    input,
    maxBuffer: 64 << 20,
  });
}

/** Raw bytes of a wire format → PCM16 samples at the format's own rate (24 or 8 kHz), by sox. */
export function decodeFromWire(bytes: Buffer, format: WireFormat): Int16Array {
  const input = format === 'pcm16' ? ['-r', '24000', '-e', 'signed', '-b', '16'] : ['-r', '8000', '-e', format === 'g711_ulaw' ? 'u-law' : 'a-law'];
  const raw = execFileSync('sox', ['-t', 'raw', ...input, '-c', '1', '-', '-t', 'raw', '-e', 'signed', '-b', '16', '-'], { input: bytes, maxBuffer: 64 << 20 });
  const pcm = new Int16Array(raw.length >> 1);
  for (let i = 0; i < pcm.length; i++) pcm[i] = raw.readInt16LE(i * 2);
  return pcm;
}

/** A caller's sentence by a flite voice that is not Koe's, with silence around it; 16 kHz PCM16. */
export function utterance(text: string, voice: 'awb' | 'kal16', opts: { leadMs?: number; tailMs?: number } = {}): Int16Array {
  return concat(silence(opts.leadMs ?? 300), flite(text, voice), silence(opts.tailMs ?? 1200));
}

/** Sends 16 kHz speech to the session in its input format. */
export function sendSpeech(client: EngineClient, pcm16k: Int16Array, format: WireFormat): void {
  client.appendAudio(encodeForWire(pcm16k, format), BYTES_PER_MS[format]);
}

/** Peak absolute sample. */
export function peak(pcm: Int16Array): number {
  let max = 0;
  for (const sample of pcm) max = Math.max(max, Math.abs(sample));
  return max;
}
