// Twilio's side of an outbound call after `POST /Calls` (protocol/twilio.md §2–§5), for outbound-call and
// campaign tests. On top of the REST fake (fake-twilio-rest.ts) it plays the network and the callee: the
// CPS queue, initiated → ringing → answer/busy/no-answer/failed, signed status and async-AMD callbacks, the
// signed TwiML fetch, a small TwiML interpreter (<Connect><Stream> through SimulatedTwilioCall, <Say>,
// <Pause>, <Play>, <Dial>, <Redirect>, <Hangup>), the callee's audio (a voicemail greeting and its beep),
// and REST hang-up / cancel / redirect. Every request to Koe is real HTTP or WebSocket on the URLs Koe gave.
//
// Timeline of one call (all from the script; constants below):
//   created (queued) ─ +DIAL_DELAY_MS, then the CPS slot → initiated ─ +RING_START_MS ringing ─ +ringMs outcome
//   (failed: initiated ─ +RING_START_MS failed). answer/voicemail: in-progress; the `answered` callback and the
//   TwiML fetch run side by side (Twilio does not wait for Koe's answer to one before sending the other); a
//   <Connect><Stream> opens the media stream, on which the callee sends real-time 20 ms frames (its words or
//   greeting, otherwise μ-law silence) for as long as the stream is open.
//
// Not modelled: SIP details beyond SipResponseCode, Record=true, geo parameters, StirStatus, sync AMD timeouts,
// MachineDetectionTimeout, <Gather>/<Record>/<Enqueue>. Anything not modelled lands in `call.warnings`.
// Bugs in the fake itself land in `network.errors` (tests assert it stays empty).
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import twilio from 'twilio';
import { MULAW_SILENCE_BYTE, pcm16ToMulaw } from '../../src/audio/index.js';
import { BYTES_PER_MS, FRAME_BYTES, SimulatedTwilioCall } from '../../src/simulate/simulated-twilio-call.js';
import { newSid, rfc2822, startFakeTwilioRest } from './fake-twilio-rest.js';
import type { FakeCallRecord, FakeCallStatus, FakeTwilioRest, FormParams } from './fake-twilio-rest.js';

// ── the public contract ──────────────────────────────────────────────────────────────────────────

export type CalleeScript =
  | {
      kind: 'answer';
      /** How long the phone rings before it is answered (default 50). */
      ringMs?: number;
      /** μ-law 8 kHz the callee says, starting speakAfterMs after the (first) stream starts. */
      audio?: Uint8Array;
      /** Default 0. */
      speakAfterMs?: number;
      /** Callee hangs up this long after answer (stop on the stream, then the call completes); default: never (Koe ends it). */
      hangUpAfterMs?: number;
      /** AMD verdict when the call was created with MachineDetection; default 'human'. */
      answeredBy?: string;
      /** When the AMD verdict is known, after answer (default 300). */
      amdDelayMs?: number;
    }
  | {
      kind: 'voicemail';
      /** How long the phone rings before the machine picks up (default 50). */
      ringMs?: number;
      /** Greeting length before the beep (default 1500, or greetingAudio's length); silence unless greetingAudio is given. */
      greetingMs?: number;
      /** μ-law 8 kHz greeting (cut or padded with silence to greetingMs when both are given). */
      greetingAudio?: Uint8Array;
      /** How long the "recorder" listens after the beep before it hangs up if Koe has not ended the call (default 10 000). */
      recordMs?: number;
      /** With MachineDetection=Enable: when `machine_start` is known, after answer (default 300). */
      amdDelayMs?: number;
    }
  | { kind: 'busy'; /** Rings this long before the busy signal (default 50). */ ringMs?: number }
  | { kind: 'no-answer'; /** Ring this long, capped by the call's Timeout (default 200). */ ringMs?: number }
  | { kind: 'failed'; /** Default 500. */ sipResponseCode?: number };

export interface FakeTwilioNetworkOptions {
  accountSid: string;
  authToken: string;
  /** Chooses the callee's behaviour per created call (e.g. by `call.to`). Default: answer, silent. */
  callee?: (call: FakeCallRecord) => CalleeScript;
  /** Twilio's account CPS queue: calls above this rate wait in `queued` (queue_time); default: no queue. */
  accountCps?: number;
}

export interface FakeNetworkCallback {
  /** status = call progress (StatusCallback), amd = AsyncAmdStatusCallback, stream = <Stream statusCallback>. */
  kind: 'status' | 'amd' | 'stream';
  /** status: initiated | ringing | answered | completed; amd: the AnsweredBy value; stream: stream-started | stream-stopped | stream-error. */
  event: string;
  url: string;
  method: string;
  params: Record<string, string>;
  /** HTTP status Koe answered; null while in flight or when no answer came (see error). */
  answeredStatus: number | null;
  error?: string;
  /** Wall-clock ms the request was sent (performance.timeOrigin + performance.now()). */
  sentAtMs: number;
}

export interface FakeTwimlFetch {
  /** answer = the call's Url; fallback = its FallbackUrl; update = a REST Url update; action/redirect = from TwiML. */
  reason: 'answer' | 'fallback' | 'update' | 'action' | 'redirect';
  url: string;
  method: string;
  params: Record<string, string>;
  /** HTTP status Koe answered, 0 if no answer came (see error). */
  status: number;
  body: string;
  error?: string;
}

export interface FakeExecutedVerb {
  /** Say, Pause, Play, Connect, Dial, Redirect, Hangup … */
  verb: string;
  attributes: Record<string, string>;
  /** Text content, nested tags removed (the <Say> text, the dialed number …). */
  text: string;
  /** The element as Koe wrote it. */
  xml: string;
  /** Wall-clock ms the verb started. */
  atMs: number;
}

export interface FakeNetworkCall {
  readonly sid: string;
  readonly record: FakeCallRecord;
  readonly script: CalleeScript;
  /** Every status/AMD/stream callback sent, in the order the events happened. */
  readonly callbacks: FakeNetworkCallback[];
  readonly twimlFetches: FakeTwimlFetch[];
  /** TwiML verbs executed, in order, from every document (Url answer, inline Twiml, REST update, action …). */
  readonly executed: FakeExecutedVerb[];
  /** The <Say> texts spoken, in order. */
  readonly said: string[];
  /** The latest media stream, once one is open. */
  readonly media: SimulatedTwilioCall | undefined;
  /** Every media stream of this call (a TwiML update with a new <Connect><Stream> opens another). */
  readonly streams: SimulatedTwilioCall[];
  /** Every status the call went through, with the wall-clock ms. */
  readonly statusHistory: Array<{ status: FakeCallStatus; atMs: number }>;
  /** Twilio debugger-style notes on things Koe did that Twilio would flag or that the fake does not model. */
  readonly warnings: string[];
  /** Resolves with the terminal status once the call has ended, its streams are closed and all its callbacks were delivered. */
  readonly ended: Promise<FakeCallStatus>;
  readonly status: FakeCallStatus;
  /** Wall-clock ms of answer, or null. */
  readonly answeredAtMs: number | null;
  /** Every μ-law byte Koe sent on the call's streams. */
  receivedAudio(): Buffer;
  /** Voicemail callee: what Koe sent after the beep ended (what the answering machine recorded). */
  readonly voicemailAudio: Uint8Array;
}

export interface FakeTwilioNetwork {
  /** The REST fake underneath (baseUrl, requests, failNext …). */
  rest: FakeTwilioRest;
  /** = rest.baseUrl, for createTwilioCallControl({ apiBaseUrl }). */
  baseUrl: string;
  calls: Map<string, FakeNetworkCall>;
  /** Every accepted create request, in order, with the wall-clock ms it arrived (performance.timeOrigin + performance.now()). */
  created: Array<{ sid: string; to: string; atMs: number }>;
  /** Unexpected errors inside the fake; tests assert it stays empty. */
  errors: unknown[];
  /** Resolves once created.length >= count (default timeout 5 s). */
  waitForCalls(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves when every created call has ended and all its callbacks were delivered (default timeout 10 s). */
  idle(timeoutMs?: number): Promise<void>;
  /** Max number of calls in-progress (answered, not yet ended) at the same moment so far. */
  readonly maxConcurrentInProgress: number;
  /** Ends live calls (no more callbacks), closes sockets and the REST server. */
  close(): Promise<void>;
}

// ── timing constants ─────────────────────────────────────────────────────────────────────────────

/** queued (slot granted) → initiated. */
export const DIAL_DELAY_MS = 10;
/** initiated → ringing (and initiated → failed). */
export const RING_START_MS = 10;
export const DEFAULT_RING_MS = 50;
export const DEFAULT_NO_ANSWER_RING_MS = 200;
export const DEFAULT_AMD_DELAY_MS = 300;
export const DEFAULT_GREETING_MS = 1500;
export const DEFAULT_RECORD_MS = 10_000;
/** The answering machine's beep: a 1 kHz tone. */
export const BEEP_MS = 450;
export const BEEP_HZ = 1000;
/** "Speaking" time per character of a <Say>. */
export const SAY_MS_PER_CHAR = 60;
/** A <Dial> leg is "answered, talks, hangs up" in this long, then <Dial> completes. */
export const DIAL_LEG_MS = 100;
/** Twilio's webhook timeout. */
export const WEBHOOK_TIMEOUT_MS = 15_000;
const SILENCE_CHUNK_MS = 100;

const TERMINAL: ReadonlySet<FakeCallStatus> = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);

/**
 * The voicemail beep as μ-law 8 kHz: a 1 kHz tone at half scale. The π/8 phase keeps every sample off zero,
 * so the beep holds no digital-silence byte (0xFF) and its first byte marks where it starts.
 */
export function beepMulaw(ms = BEEP_MS): Uint8Array {
  const samples = Math.round(ms * BYTES_PER_MS);
  const pcm = new Int16Array(samples);
  for (let i = 0; i < samples; i++) pcm[i] = Math.round(16_000 * Math.sin((2 * Math.PI * BEEP_HZ * i) / 8000 + Math.PI / 8));
  return pcm16ToMulaw(pcm);
}

function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Resolves true after ms, or false at once when the signal aborts (never rejects). */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

// ── signed requests to Koe (§4.1) ────────────────────────────────────────────────────────────────

interface HttpAnswer {
  status: number;
  body: string;
}

interface TwilioRequest {
  url: string;
  method: string;
  params: Record<string, string>;
  signal: AbortSignal;
}

/**
 * A form-encoded webhook as Twilio sends it: POST params in the body, GET params appended to the query
 * string; X-Twilio-Signature over the URL exactly as given (credentials removed, an https port dropped)
 * plus, for POST, the body parameters.
 */
function sendTwilioRequest(authToken: string, req: TwilioRequest): Promise<HttpAnswer> {
  const method = req.method.toUpperCase() === 'GET' ? 'GET' : 'POST';
  const parsed = new URL(req.url);
  const credentials = parsed.username !== '' ? `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}` : undefined;
  let url = req.url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1');
  const form = new URLSearchParams(req.params).toString();
  if (method === 'GET' && form !== '') url += (url.includes('?') ? '&' : '?') + form;
  const signingUrl = url.replace(/^(https:\/\/(?:\[[^\]]+\]|[^/:?#]+)):\d+/i, '$1');
  const signature = twilio.getExpectedTwilioSignature(authToken, signingUrl, method === 'POST' ? req.params : {});
  const headers: Record<string, string> = {
    'x-twilio-signature': signature,
    'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
    'user-agent': 'TwilioProxy/1.1',
    accept: '*/*',
  };
  if (credentials !== undefined) headers['authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
  let body: Buffer | undefined;
  if (method === 'POST') {
    body = Buffer.from(form);
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = String(body.length);
  }
  const signal = AbortSignal.any([req.signal, AbortSignal.timeout(WEBHOOK_TIMEOUT_MS)]);
  const send = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<HttpAnswer>((resolve, reject) => {
    // agent: false → one connection per request, closed after it: no pooled sockets outlive a test.
    const request = send(url, { method, headers, agent: false, signal }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

// ── a small XML reader for TwiML ─────────────────────────────────────────────────────────────────

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: Array<XmlElement | string>;
  xml: string;
}

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|quot|apos|amp);/g, (_m, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' } as Record<string, string>)[ref] ?? '';
  });
}

class TwimlParseError extends Error {}

/** Parses one XML document (declaration, comments and CDATA allowed); throws TwimlParseError on malformed input. */
function parseXml(doc: string): XmlElement {
  const top: XmlElement = { name: '#document', attributes: {}, children: [], xml: doc };
  const stack: Array<{ el: XmlElement; start: number }> = [{ el: top, start: 0 }];
  const startTag = /<([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
  const endTag = /<\/([A-Za-z_][\w:.-]*)\s*>/y;
  const skipTo = (from: number, marker: string): number => {
    const at = doc.indexOf(marker, from);
    if (at < 0) throw new TwimlParseError(`unterminated ${doc.slice(from, from + 10)}`);
    return at + marker.length;
  };
  let i = 0;
  while (i < doc.length) {
    const current = stack[stack.length - 1]!.el;
    if (doc.startsWith('<?', i)) i = skipTo(i, '?>');
    else if (doc.startsWith('<!--', i)) i = skipTo(i, '-->');
    else if (doc.startsWith('<![CDATA[', i)) {
      const end = skipTo(i, ']]>');
      current.children.push(doc.slice(i + 9, end - 3));
      i = end;
    } else if (doc.startsWith('<!', i)) i = skipTo(i, '>');
    else if (doc.startsWith('</', i)) {
      endTag.lastIndex = i;
      const m = endTag.exec(doc);
      const open = stack.pop();
      if (m === null || open === undefined || stack.length === 0 || open.el.name !== m[1]) {
        throw new TwimlParseError(`unexpected closing tag at ${i}: ${doc.slice(i, i + 30)}`);
      }
      i = endTag.lastIndex;
      open.el.xml = doc.slice(open.start, i);
    } else if (doc[i] === '<') {
      startTag.lastIndex = i;
      const m = startTag.exec(doc);
      if (m === null) throw new TwimlParseError(`malformed tag at ${i}: ${doc.slice(i, i + 30)}`);
      const attributes: Record<string, string> = {};
      for (const a of (m[2] ?? '').matchAll(/([A-Za-z_:][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
        attributes[a[1]!] = unescapeXml(a[2] ?? a[3] ?? '');
      }
      const el: XmlElement = { name: m[1]!, attributes, children: [], xml: m[0] };
      if (stack.length === 1 && top.children.some((c) => typeof c !== 'string')) throw new TwimlParseError('more than one root element');
      current.children.push(el);
      if (m[3] !== '/') stack.push({ el, start: i });
      i = startTag.lastIndex;
    } else {
      const next = doc.indexOf('<', i);
      const end = next < 0 ? doc.length : next;
      const text = unescapeXml(doc.slice(i, end));
      if (stack.length === 1 && text.trim() !== '') throw new TwimlParseError('text outside the root element');
      if (stack.length > 1) current.children.push(text);
      i = end;
    }
  }
  if (stack.length !== 1) throw new TwimlParseError(`unclosed <${stack[stack.length - 1]!.el.name}>`);
  const root = top.children.find((c): c is XmlElement => typeof c !== 'string');
  if (root === undefined) throw new TwimlParseError('no root element');
  return root;
}

function textOf(el: XmlElement): string {
  return el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}

function elements(el: XmlElement): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== 'string');
}

// ── one call ─────────────────────────────────────────────────────────────────────────────────────

interface NetworkContext {
  opts: FakeTwilioNetworkOptions;
  rest(): FakeTwilioRest;
  errors: unknown[];
  /** Aborted by close(): in-flight requests to Koe stop. */
  closing: AbortSignal;
  notify(): void;
  inProgressDelta(delta: number): void;
  /** Resolves true when the account's CPS queue lets this call dial (at once without a queue), false if aborted. */
  cpsSlot(signal: AbortSignal): Promise<boolean>;
}

type Phase = 'queued' | 'dialing' | 'in-progress' | 'ended';

interface TwimlDocument {
  twiml: string;
  /** The URL it came from (relative URLs resolve against it), undefined for inline TwiML. */
  baseUrl: string | undefined;
}

interface AmdPlan {
  answeredBy: string;
  afterMs: number;
}

class NetworkCall implements FakeNetworkCall {
  readonly sid: string;
  readonly callbacks: FakeNetworkCallback[] = [];
  readonly twimlFetches: FakeTwimlFetch[] = [];
  readonly executed: FakeExecutedVerb[] = [];
  readonly streams: SimulatedTwilioCall[] = [];
  readonly statusHistory: Array<{ status: FakeCallStatus; atMs: number }> = [];
  readonly warnings: string[] = [];
  readonly ended: Promise<FakeCallStatus>;
  answeredAtMs: number | null = null;
  settled = false;

  #phase: Phase = 'queued';
  #resolveEnded!: (status: FakeCallStatus) => void;
  readonly #callAbort = new AbortController();
  #exec = { gen: 0, abort: new AbortController() };
  #statusChain: Promise<void> = Promise.resolve();
  #amdChain: Promise<void> = Promise.resolve();
  #sequenceNumber = 0;
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #tasks = new Set<Promise<unknown>>();
  #answeredPerf = 0;
  #beepEndPerf: number | null = null;
  readonly #voicemail: Buffer[] = [];

  constructor(
    readonly record: FakeCallRecord,
    readonly script: CalleeScript,
    private readonly ctx: NetworkContext,
  ) {
    this.sid = record.sid;
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    this.statusHistory.push({ status: 'queued', atMs: wallNow() });
  }

  get status(): FakeCallStatus {
    return this.record.status;
  }

  get media(): SimulatedTwilioCall | undefined {
    return this.streams[this.streams.length - 1];
  }

  get said(): string[] {
    return this.executed.filter((v) => v.verb === 'Say').map((v) => v.text);
  }

  get voicemailAudio(): Uint8Array {
    return Buffer.concat(this.#voicemail);
  }

  get phase(): Phase {
    return this.#phase;
  }

  receivedAudio(): Buffer {
    return Buffer.concat(this.streams.map((s) => s.receivedAudio()));
  }

  // ── lifecycle ──

  /** Created: wait for the CPS slot, then dial. */
  start(): void {
    this.#spawn(() => this.#dial());
  }

  async #dial(): Promise<void> {
    const signal = this.#callAbort.signal;
    // Koe gets the 201 before anything else happens; then the call waits in `queued` for its CPS slot.
    const waited = await sleep(DIAL_DELAY_MS, signal);
    // Called even when aborted, so the queue's bookkeeping sees the call leave.
    if (!(await this.ctx.cpsSlot(signal)) || !waited) return;
    this.#phase = 'dialing';
    this.#progress('initiated');
    const script = this.script;
    if (!(await sleep(RING_START_MS, signal))) return;
    if (script.kind === 'failed') {
      this.#finish('failed', script.sipResponseCode ?? 500);
      return;
    }
    this.#progress('ringing');
    switch (script.kind) {
      case 'busy':
        if (await sleep(script.ringMs ?? DEFAULT_RING_MS, signal)) this.#finish('busy', 486);
        return;
      case 'no-answer':
        if (await sleep(Math.min(script.ringMs ?? DEFAULT_NO_ANSWER_RING_MS, this.record.timeoutSec * 1000), signal)) {
          this.#finish('no-answer', 487);
        }
        return;
      case 'answer':
      case 'voicemail':
        if (await sleep(script.ringMs ?? DEFAULT_RING_MS, signal)) this.#answer();
        return;
    }
  }

  #answer(): void {
    this.#phase = 'in-progress';
    this.#answeredPerf = performance.now();
    this.answeredAtMs = wallNow();
    this.ctx.inProgressDelta(1);
    this.#progress('in-progress');
    const script = this.script;
    if (script.kind === 'answer' && script.hangUpAfterMs !== undefined) {
      this.#after(script.hangUpAfterMs, () => this.#finish('completed', 200));
    }
    if (script.kind === 'voicemail') {
      const beepEndMs = this.#greetingMs() + BEEP_MS;
      this.#beepEndPerf = this.#answeredPerf + beepEndMs;
      this.#after(beepEndMs + (script.recordMs ?? DEFAULT_RECORD_MS), () => this.#finish('completed', 200));
    }
    const amd = this.#amdPlan();
    if (amd !== null && this.record.asyncAmd) this.#after(amd.afterMs, () => this.#amdVerdict(amd));
    this.#startExecution(async (gen, signal) => {
      const extra: Record<string, string> = {};
      if (amd !== null && !this.record.asyncAmd) {
        // Synchronous AMD: the TwiML is requested only once detection has ended, with the verdict in it.
        if (!(await sleep(amd.afterMs, signal))) return;
        this.record.answeredBy = amd.answeredBy;
        extra['AnsweredBy'] = amd.answeredBy;
        extra['MachineDetectionDuration'] = String(Math.round(amd.afterMs));
      }
      let doc: TwimlDocument | null;
      if (this.record.url !== null) doc = await this.#fetchTwiml('answer', this.record.url, this.record.method, extra, signal);
      else doc = { twiml: this.record.twiml ?? '<Response/>', baseUrl: undefined };
      if (!this.#live(gen)) return;
      if (doc === null) {
        this.#finish('completed', 200);
        return;
      }
      await this.#execute(doc, gen, signal);
    });
  }

  /** Ends the call: store status, terminal callback, streams stopped. Idempotent; never awaits (a task may call it). */
  #finish(status: FakeCallStatus, sipResponseCode: number, opts: { callbacks?: boolean } = {}): void {
    if (this.#phase === 'ended') return;
    const wasQueued = this.#phase === 'queued';
    const wasAnswered = this.#phase === 'in-progress';
    this.#phase = 'ended';
    this.#callAbort.abort();
    this.#exec.abort.abort();
    if (!TERMINAL.has(this.record.status)) this.ctx.rest().setCallStatus(this.sid, status);
    const final = this.record.status;
    this.statusHistory.push({ status: final, atMs: wallNow() });
    if (wasAnswered) this.ctx.inProgressDelta(-1);
    // §5.3: a call canceled while still queued gets no callbacks.
    if ((opts.callbacks ?? true) && !(wasQueued && final === 'canceled')) {
      const { startTime, endTime } = this.record;
      const seconds = startTime !== null && endTime !== null ? Math.max(0, Math.round((endTime.getTime() - startTime.getTime()) / 1000)) : 0;
      const extra: Record<string, string> = { CallDuration: String(seconds), SipResponseCode: String(sipResponseCode) };
      if (final === 'completed') extra['Duration'] = String(Math.max(1, Math.ceil(seconds / 60)));
      this.#statusCallback(final, extra);
    }
    this.#settle(final).catch((err: unknown) => {
      this.ctx.errors.push(err);
    });
  }

  async #settle(final: FakeCallStatus): Promise<void> {
    try {
      await this.#stopStreams();
      // Tasks end quickly once aborted; callbacks already queued are still delivered.
      for (;;) {
        const pending = [...this.#tasks, ...this.#inflight];
        if (pending.length === 0) break;
        await Promise.allSettled(pending);
      }
    } finally {
      this.settled = true;
      this.#resolveEnded(final);
      this.ctx.notify();
    }
  }

  /** REST update (the store already applied it). */
  onRestUpdate(params: FormParams): void {
    if (this.#phase === 'ended') return;
    const status = this.record.status;
    if (TERMINAL.has(status)) {
      // Status=completed on a live call, or Status=canceled/completed on a queued/ringing one.
      this.#finish(status, status === 'canceled' ? 487 : 200);
      return;
    }
    const twiml = params['Twiml'];
    const url = params['Url'];
    if (this.#phase !== 'in-progress' || (twiml === undefined && url === undefined)) return;
    const inline = Array.isArray(twiml) ? twiml[twiml.length - 1] : twiml;
    const fetchUrl = Array.isArray(url) ? url[url.length - 1] : url;
    // §3.5/§5.4: replacing the TwiML ends the active stream (stop, then close), then the new TwiML runs.
    this.#startExecution(async (gen, signal) => {
      await this.#stopStreams();
      if (!this.#live(gen)) return;
      const doc =
        inline !== undefined
          ? { twiml: inline, baseUrl: undefined }
          : await this.#fetchTwiml('update', fetchUrl ?? '', this.record.method, {}, signal);
      if (!this.#live(gen)) return;
      if (doc === null) this.#finish('completed', 200);
      else await this.#execute(doc, gen, signal);
    });
  }

  /** close() of the network: end without further callbacks. */
  abandon(): void {
    this.#finish(this.#phase === 'in-progress' ? 'completed' : 'canceled', 487, { callbacks: false });
  }

  // ── status and AMD callbacks ──

  #progress(status: 'initiated' | 'ringing' | 'in-progress'): void {
    this.ctx.rest().setCallStatus(this.sid, status);
    this.statusHistory.push({ status, atMs: wallNow() });
    this.#statusCallback(status, {});
    this.ctx.notify();
  }

  #baseParams(): Record<string, string> {
    const r = this.record;
    return {
      CallSid: r.sid,
      AccountSid: r.accountSid,
      From: r.from,
      To: r.to,
      Caller: r.from,
      Called: r.to,
      Direction: 'outbound-api',
      ApiVersion: '2010-04-01',
    };
  }

  #statusCallback(status: FakeCallStatus, extra: Record<string, string>): void {
    const event = status === 'initiated' || status === 'ringing' ? status : status === 'in-progress' ? 'answered' : 'completed';
    const url = this.record.statusCallback;
    if (url === null || !this.record.statusCallbackEvents.includes(event)) return;
    const entry: FakeNetworkCallback = {
      kind: 'status',
      event,
      url,
      method: this.record.statusCallbackMethod,
      params: {
        ...this.#baseParams(),
        CallStatus: status,
        Timestamp: rfc2822(new Date()) ?? '',
        CallbackSource: 'call-progress-events',
        SequenceNumber: String(this.#sequenceNumber++),
        ...extra,
      },
      answeredStatus: null,
      sentAtMs: 0,
    };
    this.callbacks.push(entry);
    // One call's callbacks go out in order; other calls are not held up.
    this.#statusChain = this.#statusChain.then(() => this.#deliver(entry));
    this.#track(this.#statusChain, this.#inflight);
  }

  #amdPlan(): AmdPlan | null {
    const md = this.record.machineDetection;
    if (md === null) return null;
    const s = this.script;
    if (s.kind === 'answer') return { answeredBy: s.answeredBy ?? 'human', afterMs: s.amdDelayMs ?? DEFAULT_AMD_DELAY_MS };
    if (s.kind === 'voicemail') {
      return md === 'DetectMessageEnd'
        ? { answeredBy: 'machine_end_beep', afterMs: this.#greetingMs() + BEEP_MS }
        : { answeredBy: 'machine_start', afterMs: s.amdDelayMs ?? DEFAULT_AMD_DELAY_MS };
    }
    return null;
  }

  #amdVerdict(amd: AmdPlan): void {
    this.record.answeredBy = amd.answeredBy;
    const url = this.record.asyncAmdStatusCallback;
    if (url === null) {
      this.warnings.push('21262 AsyncAmd=true without AsyncAmdStatusCallback: the verdict is only in answered_by');
      return;
    }
    const entry: FakeNetworkCallback = {
      kind: 'amd',
      event: amd.answeredBy,
      url,
      method: this.record.asyncAmdStatusCallbackMethod,
      params: {
        AccountSid: this.record.accountSid,
        CallSid: this.sid,
        AnsweredBy: amd.answeredBy,
        MachineDetectionDuration: String(Math.round(performance.now() - this.#answeredPerf)),
      },
      answeredStatus: null,
      sentAtMs: 0,
    };
    this.callbacks.push(entry);
    this.#amdChain = this.#amdChain.then(() => this.#deliver(entry));
    this.#track(this.#amdChain, this.#inflight);
  }

  #streamCallback(stream: { url: string; method: string; name: string | undefined }, streamSid: string, event: string, error?: string): void {
    const params: Record<string, string> = {
      AccountSid: this.record.accountSid,
      CallSid: this.sid,
      StreamSid: streamSid,
      StreamName: stream.name ?? streamSid,
      StreamEvent: event,
      Timestamp: new Date().toISOString(),
    };
    if (error !== undefined) params['StreamError'] = error;
    const entry: FakeNetworkCallback = { kind: 'stream', event, url: stream.url, method: stream.method, params, answeredStatus: null, sentAtMs: 0 };
    this.callbacks.push(entry);
    this.#track(this.#deliver(entry), this.#inflight);
  }

  async #deliver(entry: FakeNetworkCallback): Promise<void> {
    entry.sentAtMs = wallNow();
    try {
      // Twilio does not retry status callbacks; whatever Koe answers is just recorded.
      const answer = await sendTwilioRequest(this.ctx.opts.authToken, { url: entry.url, method: entry.method, params: entry.params, signal: this.ctx.closing });
      entry.answeredStatus = answer.status;
    } catch (err) {
      entry.error = errorText(err);
    }
  }

  // ── TwiML ──

  #live(gen: number): boolean {
    return this.#phase === 'in-progress' && gen === this.#exec.gen;
  }

  /** Starts a new TwiML run; the previous one (if any) is abandoned. */
  #startExecution(run: (gen: number, signal: AbortSignal) => Promise<void>): void {
    this.#exec.abort.abort();
    const abort = new AbortController();
    const gen = this.#exec.gen + 1;
    this.#exec = { gen, abort };
    const signal = AbortSignal.any([abort.signal, this.#callAbort.signal]);
    this.#spawn(() => run(gen, signal));
  }

  async #fetchTwiml(
    reason: FakeTwimlFetch['reason'],
    url: string,
    method: string,
    extra: Record<string, string>,
    signal: AbortSignal,
  ): Promise<TwimlDocument | null> {
    const params = { ...this.#baseParams(), CallStatus: 'in-progress', ...extra };
    const entry: FakeTwimlFetch = { reason, url, method, params, status: 0, body: '' };
    this.twimlFetches.push(entry);
    try {
      const answer = await sendTwilioRequest(this.ctx.opts.authToken, { url, method, params, signal: AbortSignal.any([signal, this.ctx.closing]) });
      entry.status = answer.status;
      entry.body = answer.body;
    } catch (err) {
      entry.error = errorText(err);
    }
    if (signal.aborted) return null;
    if (entry.status >= 200 && entry.status < 300) return { twiml: entry.body, baseUrl: url };
    if (reason === 'answer' && this.record.fallbackUrl !== null) {
      return this.#fetchTwiml('fallback', this.record.fallbackUrl, this.record.fallbackMethod, extra, signal);
    }
    this.warnings.push(`11200 HTTP retrieval failure: ${method} ${url} → ${entry.error ?? `HTTP ${entry.status}`}; "an application error has occurred", the call ends`);
    return null;
  }

  /** Runs a TwiML document; the call completes when it runs out of verbs. */
  async #execute(doc: TwimlDocument, gen: number, signal: AbortSignal): Promise<void> {
    let root: XmlElement;
    try {
      root = parseXml(doc.twiml);
      if (root.name !== 'Response') throw new TwimlParseError(`root element is <${root.name}>, not <Response>`);
    } catch (err) {
      if (!(err instanceof TwimlParseError)) throw err;
      this.warnings.push(`12100 Document parse failure: ${err.message}; the call ends`);
      this.#finish('completed', 200);
      return;
    }
    for (const verb of elements(root)) {
      if (!this.#live(gen)) return;
      const text = textOf(verb).trim();
      this.executed.push({ verb: verb.name, attributes: verb.attributes, text, xml: verb.xml, atMs: wallNow() });
      const a = verb.attributes;
      switch (verb.name) {
        case 'Say': {
          const loop = Number(a['loop'] ?? '1');
          if (!(await sleep(text.length * SAY_MS_PER_CHAR * (loop >= 1 ? loop : 1), signal))) return;
          break;
        }
        case 'Pause':
          if (!(await sleep(Number(a['length'] ?? '1') * 1000, signal))) return;
          break;
        case 'Play': {
          const digits = a['digits'];
          const ms = digits !== undefined ? [...digits].reduce((sum, d) => sum + (d === 'w' ? 500 : d === 'W' ? 1000 : 100), 0) : 500;
          if (!(await sleep(ms, signal))) return;
          break;
        }
        case 'Hangup':
        case 'Reject':
          this.#finish('completed', 200);
          return;
        case 'Connect': {
          const outcome = await this.#connect(verb, doc.baseUrl, gen);
          if (outcome === 'stale' || !this.#live(gen)) return;
          const action = a['action'];
          if (action !== undefined) {
            // <Connect action>: its TwiML replaces the rest of this document.
            const next = await this.#fetchTwiml('action', this.#resolve(action, doc.baseUrl), a['method'] ?? 'POST', {}, signal);
            if (!this.#live(gen)) return;
            if (next === null) this.#finish('completed', 200);
            else await this.#execute(next, gen, signal);
            return;
          }
          break;
        }
        case 'Dial': {
          // The dialed leg "answers, talks and hangs up"; then <Dial action> or the next verb.
          if (!(await sleep(DIAL_LEG_MS, signal))) return;
          const action = a['action'];
          if (action !== undefined) {
            const dialParams = { DialCallStatus: 'completed', DialCallSid: newSid('CA'), DialCallDuration: String(Math.round(DIAL_LEG_MS / 1000)), DialBridged: 'true' };
            const next = await this.#fetchTwiml('action', this.#resolve(action, doc.baseUrl), a['method'] ?? 'POST', dialParams, signal);
            if (!this.#live(gen)) return;
            if (next === null) this.#finish('completed', 200);
            else await this.#execute(next, gen, signal);
            return;
          }
          break;
        }
        case 'Redirect': {
          const next = await this.#fetchTwiml('redirect', this.#resolve(text, doc.baseUrl), a['method'] ?? 'POST', {}, signal);
          if (!this.#live(gen)) return;
          if (next === null) this.#finish('completed', 200);
          else await this.#execute(next, gen, signal);
          return;
        }
        default:
          this.warnings.push(`<${verb.name}> is not modelled by the fake network; skipped`);
      }
    }
    if (this.#live(gen)) this.#finish('completed', 200);
  }

  #resolve(url: string, baseUrl: string | undefined): string {
    return baseUrl === undefined ? url : new URL(url, baseUrl).toString();
  }

  /** <Connect><Stream>: open the media stream and wait until it closes. */
  async #connect(connect: XmlElement, baseUrl: string | undefined, gen: number): Promise<'continue' | 'stale'> {
    const streamEl = elements(connect).find((e) => e.name === 'Stream');
    if (streamEl === undefined) {
      this.warnings.push('<Connect> without <Stream> is not modelled; skipped');
      return 'continue';
    }
    const customParameters: Record<string, string> = {};
    for (const p of elements(streamEl)) {
      if (p.name === 'Parameter' && p.attributes['name'] !== undefined) customParameters[p.attributes['name']] = p.attributes['value'] ?? '';
    }
    const statusCallback = streamEl.attributes['statusCallback'];
    const cb =
      statusCallback === undefined
        ? undefined
        : { url: this.#resolve(statusCallback, baseUrl), method: streamEl.attributes['statusCallbackMethod'] ?? 'POST', name: streamEl.attributes['name'] };
    const streamSid = newSid('MZ');
    let url: string;
    try {
      const parsed = new URL(this.#resolve(streamEl.attributes['url'] ?? '', baseUrl));
      if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
      if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
      if (parsed.protocol !== 'wss:' && parsed.protocol !== 'ws:') throw new Error(`scheme ${parsed.protocol}`);
      if (parsed.search !== '') {
        this.warnings.push(`<Stream url> has a query string (${parsed.search}); Twilio drops it (use <Parameter>)`);
        parsed.search = '';
      }
      url = parsed.toString();
    } catch (err) {
      this.warnings.push(`31922 invalid <Stream url> ${JSON.stringify(streamEl.attributes['url'])}: ${errorText(err)}`);
      if (cb !== undefined) this.#streamCallback(cb, streamSid, 'stream-error', 'Invalid stream URL');
      return 'continue';
    }
    let stream: SimulatedTwilioCall;
    try {
      stream = await SimulatedTwilioCall.connect({
        url,
        accountSid: this.record.accountSid,
        callSid: this.sid,
        streamSid,
        customParameters,
        signWith: { authToken: this.ctx.opts.authToken, url },
      });
    } catch (err) {
      // §3.5: the stream does not start, <Connect> completes and the TwiML continues.
      this.warnings.push(`31920 Stream - WebSocket - Handshake Error: ${errorText(err)}`);
      if (cb !== undefined) this.#streamCallback(cb, streamSid, 'stream-error', errorText(err));
      return this.#live(gen) ? 'continue' : 'stale';
    }
    if (!this.#live(gen)) {
      await stream.stop();
      return 'stale';
    }
    this.streams.push(stream);
    stream.on('media', (payload) => {
      if (this.#beepEndPerf !== null && performance.now() >= this.#beepEndPerf) this.#voicemail.push(payload);
    });
    if (cb !== undefined) this.#streamCallback(cb, streamSid, 'stream-started');
    this.#spawn(() => this.#speak(stream, this.streams.length === 1));
    await new Promise<void>((resolve) => {
      if (stream.closed) resolve();
      else stream.once('close', () => resolve());
    });
    if (cb !== undefined) this.#streamCallback(cb, streamSid, 'stream-stopped');
    return this.#live(gen) ? 'continue' : 'stale';
  }

  /** The callee's side of the stream: speech or greeting + beep, then silence at real time while the stream is open. */
  async #speak(stream: SimulatedTwilioCall, first: boolean): Promise<void> {
    const script = this.script;
    if (script.kind === 'answer' && first && script.audio !== undefined) {
      await stream.sendSilence(script.speakAfterMs ?? 0);
      await stream.sendAudio(script.audio);
    }
    if (script.kind === 'voicemail') {
      // The machine's tape runs from answer; a stream that opens later hears the rest of it.
      const tape = Buffer.concat([this.#greeting(), beepMulaw()]);
      const elapsedBytes = (performance.now() - this.#answeredPerf) * BYTES_PER_MS;
      const offset = Math.min(tape.length, Math.floor(elapsedBytes / FRAME_BYTES) * FRAME_BYTES);
      await stream.sendAudio(tape.subarray(offset));
    }
    while (stream.isOpen && this.#phase === 'in-progress') await stream.sendSilence(SILENCE_CHUNK_MS);
  }

  #greetingMs(): number {
    const s = this.script;
    if (s.kind !== 'voicemail') return 0;
    return s.greetingMs ?? (s.greetingAudio !== undefined ? s.greetingAudio.length / BYTES_PER_MS : DEFAULT_GREETING_MS);
  }

  #greeting(): Buffer {
    const s = this.script;
    const greeting = Buffer.alloc(Math.round(this.#greetingMs() * BYTES_PER_MS), MULAW_SILENCE_BYTE);
    if (s.kind === 'voicemail' && s.greetingAudio !== undefined) greeting.set(s.greetingAudio.subarray(0, greeting.length));
    return greeting;
  }

  async #stopStreams(): Promise<void> {
    // Twilio sends `stop`, then closes the socket.
    await Promise.all(this.streams.filter((s) => !s.closed).map((s) => s.stop()));
  }

  // ── tasks ──

  #after(ms: number, run: () => void): void {
    const signal = this.#callAbort.signal;
    this.#spawn(async () => {
      if (await sleep(ms, signal)) run();
    });
  }

  /** Runs a piece of the call's behaviour; an exception is a bug in the fake and goes to network.errors. */
  #spawn(run: () => Promise<void>): void {
    this.#track(
      run().catch((err: unknown) => {
        this.ctx.errors.push(err);
      }),
      this.#tasks,
    );
  }

  #track(promise: Promise<unknown>, set: Set<Promise<unknown>>): void {
    const tracked = promise.then(
      () => undefined,
      (err: unknown) => {
        this.ctx.errors.push(err);
      },
    );
    set.add(tracked);
    void tracked.finally(() => set.delete(tracked));
  }
}

// ── the network ──────────────────────────────────────────────────────────────────────────────────

export async function startFakeTwilioNetwork(opts: FakeTwilioNetworkOptions): Promise<FakeTwilioNetwork> {
  if (opts.accountCps !== undefined && !(opts.accountCps > 0)) throw new RangeError('accountCps must be positive');
  const calls = new Map<string, NetworkCall>();
  const created: FakeTwilioNetwork['created'] = [];
  const errors: unknown[] = [];
  const closing = new AbortController();
  const waiters = new Set<() => void>();
  let inProgress = 0;
  let maxConcurrentInProgress = 0;

  // Twilio's CPS queue: calls leave it one every 1000 / accountCps ms, in creation order; a canceled call
  // leaves its place to the next one.
  const cpsQueue: Array<() => void> = [];
  const slotMs = opts.accountCps === undefined ? 0 : 1000 / opts.accountCps;
  let nextSlotPerf = 0;
  let cpsTimer: NodeJS.Timeout | undefined;
  /** Created calls that have not left the queue yet (including the few ms before they join it). */
  let cpsWaiting = 0;
  const pumpCps = (): void => {
    if (cpsTimer !== undefined) return;
    while (cpsQueue.length > 0) {
      const now = performance.now();
      if (nextSlotPerf > now) {
        cpsTimer = setTimeout(() => {
          cpsTimer = undefined;
          pumpCps();
        }, nextSlotPerf - now);
        return;
      }
      nextSlotPerf = Math.max(now, nextSlotPerf) + slotMs;
      cpsQueue.shift()?.();
    }
  };

  const notify = (): void => {
    for (const check of [...waiters]) check();
  };

  const ctx: NetworkContext = {
    opts,
    // Hooks run only for requests, which cannot arrive before the server is up and restFake assigned.
    rest: () => restFake,
    errors,
    closing: closing.signal,
    notify,
    inProgressDelta(delta) {
      inProgress += delta;
      maxConcurrentInProgress = Math.max(maxConcurrentInProgress, inProgress);
    },
    cpsSlot(signal) {
      if (opts.accountCps === undefined) return Promise.resolve(!signal.aborted);
      return new Promise<boolean>((resolve) => {
        const leave = (granted: boolean): void => {
          const at = cpsQueue.indexOf(release);
          if (at >= 0) cpsQueue.splice(at, 1);
          signal.removeEventListener('abort', onAbort);
          cpsWaiting -= 1;
          resolve(granted);
        };
        const release = (): void => leave(true);
        const onAbort = (): void => leave(false);
        if (signal.aborted) {
          onAbort();
          return;
        }
        signal.addEventListener('abort', onAbort, { once: true });
        cpsQueue.push(release);
        pumpCps();
      });
    },
  };

  const guarded = (hook: () => void): void => {
    try {
      hook();
    } catch (err) {
      errors.push(err);
    }
  };

  const restFake = await startFakeTwilioRest({
    accountSid: opts.accountSid,
    authToken: opts.authToken,
    onCallCreating: (record, request) =>
      guarded(() => {
        const script = opts.callee?.(record) ?? { kind: 'answer' };
        const call = new NetworkCall(record, script, ctx);
        calls.set(record.sid, call);
        created.push({ sid: record.sid, to: record.to, atMs: request.atMs });
        if (opts.accountCps !== undefined) {
          // queue_time: the wait for this call's slot, as the 201 answer reports it.
          record.queueTimeMs = Math.max(0, nextSlotPerf - performance.now()) + cpsWaiting * slotMs;
          cpsWaiting += 1;
        }
        notify();
      }),
    onCallCreated: (record) =>
      guarded(() => {
        const call = calls.get(record.sid);
        if (call === undefined) return;
        if (closing.signal.aborted) call.abandon();
        else call.start();
      }),
    onCallUpdated: (record, params) => guarded(() => calls.get(record.sid)?.onRestUpdate(params)),
  });

  function waitFor(predicate: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`fake Twilio network: timed out after ${timeoutMs} ms waiting for ${describe()}`));
      }, timeoutMs);
      waiters.add(check);
    });
  }

  const unsettled = (): NetworkCall[] => [...calls.values()].filter((c) => !c.settled);

  return {
    rest: restFake,
    baseUrl: restFake.baseUrl,
    calls,
    created,
    errors,
    get maxConcurrentInProgress() {
      return maxConcurrentInProgress;
    },
    waitForCalls(count, timeoutMs = 5000) {
      return waitFor(
        () => created.length >= count,
        timeoutMs,
        () => `${count} created calls (have ${created.length})`,
      );
    },
    idle(timeoutMs = 10_000) {
      return waitFor(
        () => unsettled().length === 0,
        timeoutMs,
        () => `every call to end; still live: ${unsettled().map((c) => `${c.sid} ${c.status} (${c.phase})`).join(', ')}`,
      );
    },
    async close() {
      if (cpsTimer !== undefined) clearTimeout(cpsTimer);
      cpsTimer = undefined;
      cpsQueue.length = 0;
      closing.abort();
      for (const call of calls.values()) call.abandon();
      const ended = Promise.allSettled([...calls.values()].map((c) => c.ended));
      const guard = new AbortController();
      await Promise.race([ended, sleep(5000, guard.signal)]);
      guard.abort();
      await restFake.close();
    },
  };
}
