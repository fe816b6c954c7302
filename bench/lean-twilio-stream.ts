// Twilio's side of one bidirectional Media Stream, made light enough to run hundreds in one process next
// to the echo model. Same wire protocol as test/fakes/fake-twilio-media.ts (protocol/twilio.md §1, §2):
// `connected`, `start` with the TwiML parameters, `media` with string counters and Twilio's stream
// clock, `mark` echoes once the audio queued before the mark has played (at once when nothing is
// queued; every pending mark on `clear`), `stop`. What it does not do: keep audio, emit events, run a
// timer per call. Playout is a single "played until" time per call, and one shared ticker (see
// CallDriver in bridge-load.ts) sends due frames and due mark echoes for every call.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const BYTES_PER_MS = 8;

export interface LeanStreamStats {
  mediaMessagesReceived: number;
  bytesReceived: number;
  marksReceived: number;
  marksEchoed: number;
  clears: number;
  framesSent: number;
}

export function twilioSid(prefix: 'AC' | 'CA' | 'MZ'): string {
  return prefix + randomBytes(16).toString('hex');
}

export interface LeanTwilioStreamOptions {
  url: string;
  accountSid: string;
  callSid: string;
  customParameters: Record<string, string>;
  headers?: Record<string, string>;
  /** Outbound media payload (decoded μ-law) as Twilio would buffer it for playout. */
  onMedia: (audio: Buffer, receivedAtMs: number) => void;
  connectTimeoutMs?: number;
}

export class LeanTwilioStream {
  readonly streamSid = twilioSid('MZ');
  readonly stats: LeanStreamStats = { mediaMessagesReceived: 0, bytesReceived: 0, marksReceived: 0, marksEchoed: 0, clears: 0, framesSent: 0 };
  /** Messages Twilio would flag with warning 31950/31951 (ignored, as Twilio ignores them). */
  readonly violations: string[] = [];
  closeInfo: { code: number; reason: string } | undefined;

  readonly #ws: WebSocket;
  readonly #opts: LeanTwilioStreamOptions;
  #sequenceNumber = 0;
  #chunk = 0;
  #startedAtMs = 0;
  #nextTimestampMs = 0;
  /** When the audio buffered so far will have finished playing. */
  #playedUntilMs = 0;
  /** Marks waiting for their audio to play, with the time that happens (FIFO). */
  #pendingMarks: Array<{ name: string; dueAtMs: number }> = [];
  #pendingHead = 0;
  #closed = false;
  readonly #closedPromise: Promise<void>;

  private constructor(ws: WebSocket, opts: LeanTwilioStreamOptions) {
    this.#ws = ws;
    this.#opts = opts;
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('error', () => undefined);
    this.#closedPromise = new Promise<void>((resolve) => {
      ws.once('close', (code, reason) => {
        this.#closed = true;
        this.closeInfo = { code, reason: reason.toString('utf8') };
        resolve();
      });
    });
  }

  /** Opens the socket and sends `connected` then `start`, like Twilio. */
  static async connect(opts: LeanTwilioStreamOptions): Promise<LeanTwilioStream> {
    const ws = new WebSocket(opts.url, { headers: opts.headers ?? {}, handshakeTimeout: opts.connectTimeoutMs ?? 10_000, perMessageDeflate: false });
    const stream = new LeanTwilioStream(ws, opts);
    await new Promise<void>((resolve, reject) => {
      const onOpen = (): void => {
        ws.off('error', onError);
        ws.off('unexpected-response', onRefused);
        resolve();
      };
      const onError = (err: Error): void => {
        ws.off('open', onOpen);
        reject(new Error(`media stream could not connect: ${err.message}`));
      };
      const onRefused = (_req: unknown, res: { statusCode?: number; resume(): void }): void => {
        res.resume();
        ws.off('open', onOpen);
        ws.terminate();
        reject(new Error(`media stream upgrade refused with HTTP ${res.statusCode ?? 0}`));
      };
      ws.once('open', onOpen);
      ws.once('error', onError);
      ws.once('unexpected-response', onRefused);
    });
    stream.#sendText(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
    stream.#startedAtMs = performance.now();
    stream.#sendText(
      JSON.stringify({
        event: 'start',
        sequenceNumber: stream.#nextSequenceNumber(),
        start: {
          accountSid: opts.accountSid,
          streamSid: stream.streamSid,
          callSid: opts.callSid,
          tracks: ['inbound'],
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
          customParameters: opts.customParameters,
        },
        streamSid: stream.streamSid,
      }),
    );
    return stream;
  }

  get isOpen(): boolean {
    return !this.#closed && this.#ws.readyState === WebSocket.OPEN;
  }

  get startedAtMs(): number {
    return this.#startedAtMs;
  }

  /** Marks received whose audio has not finished playing. */
  get marksPending(): number {
    return this.#pendingMarks.length - this.#pendingHead;
  }

  /** Sends one inbound `media` frame (μ-law, any length; Twilio sends 160 bytes every 20 ms). */
  sendMedia(frame: Buffer): void {
    if (!this.isOpen) return;
    const elapsedMs = Math.round(performance.now() - this.#startedAtMs);
    const timestampMs = Math.max(this.#nextTimestampMs, elapsedMs);
    this.#nextTimestampMs = timestampMs + Math.round(frame.length / BYTES_PER_MS);
    this.#chunk += 1;
    // Same bytes JSON.stringify would produce: sids and base64 need no escaping.
    this.#ws.send(
      `{"event":"media","sequenceNumber":"${this.#nextSequenceNumber()}","media":{"track":"inbound","chunk":"${this.#chunk}","timestamp":"${timestampMs}","payload":"${frame.toString('base64')}"},"streamSid":"${this.streamSid}"}`,
    );
    this.stats.framesSent += 1;
  }

  /** Echoes the marks whose audio has played by `nowMs`. Called by the shared ticker. */
  echoDueMarks(nowMs: number): void {
    while (this.#pendingHead < this.#pendingMarks.length) {
      const mark = this.#pendingMarks[this.#pendingHead] as { name: string; dueAtMs: number };
      if (mark.dueAtMs > nowMs) break;
      this.#pendingHead += 1;
      this.#echoMark(mark.name);
    }
    if (this.#pendingHead > 64 && this.#pendingHead * 2 > this.#pendingMarks.length) {
      this.#pendingMarks = this.#pendingMarks.slice(this.#pendingHead);
      this.#pendingHead = 0;
    }
  }

  /** Sends `stop` and closes the socket, as Twilio does when the call ends. Resolves once closed. */
  async stop(): Promise<void> {
    if (this.isOpen) {
      this.#sendText(
        JSON.stringify({
          event: 'stop',
          sequenceNumber: this.#nextSequenceNumber(),
          stop: { accountSid: this.#opts.accountSid, callSid: this.#opts.callSid },
          streamSid: this.streamSid,
        }),
      );
    }
    await this.close();
  }

  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) this.#ws.close(1000);
    const guard = setTimeout(() => this.#ws.terminate(), 2000);
    try {
      await this.#closedPromise;
    } finally {
      clearTimeout(guard);
    }
  }

  terminate(): void {
    this.#ws.terminate();
  }

  #nextSequenceNumber(): string {
    this.#sequenceNumber += 1;
    return String(this.#sequenceNumber);
  }

  #sendText(text: string): void {
    if (this.isOpen) this.#ws.send(text);
  }

  #echoMark(name: string): void {
    this.#sendText(JSON.stringify({ event: 'mark', sequenceNumber: this.#nextSequenceNumber(), streamSid: this.streamSid, mark: { name } }));
    this.stats.marksEchoed += 1;
  }

  #violation(description: string): void {
    if (this.violations.length < 20) this.violations.push(description);
  }

  #onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    const receivedAt = performance.now();
    if (isBinary) {
      this.#violation('31950 binary frame');
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as Buffer).toString('utf8');
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.#violation(`31951 non-JSON text: ${text.slice(0, 80)}`);
      return;
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.#violation('31951 not a JSON object');
      return;
    }
    const m = msg as Record<string, unknown>;
    const event = m.event;
    if (m.streamSid !== this.streamSid) {
      this.#violation(`31951 ${String(event)} with wrong streamSid`);
      return;
    }
    switch (event) {
      case 'media': {
        const media = m.media as Record<string, unknown> | undefined;
        const payload = media?.payload;
        if (!exactKeys(m, 3, 'media') || typeof media !== 'object' || media === null || !exactKeys(media, 1, 'payload') || typeof payload !== 'string') {
          this.#violation('31951 media: missing or extra fields');
          return;
        }
        const audio = Buffer.from(payload, 'base64');
        // Buffer.from skips characters outside the alphabet: a short decode means the payload was not clean base64.
        if (audio.length !== base64DecodedLength(payload)) {
          this.#violation('31951 media.payload is not base64');
          return;
        }
        this.stats.mediaMessagesReceived += 1;
        this.stats.bytesReceived += audio.length;
        this.#queueAudio(audio.length, receivedAt);
        this.#opts.onMedia(audio, receivedAt);
        return;
      }
      case 'mark': {
        const mark = m.mark as Record<string, unknown> | undefined;
        if (!exactKeys(m, 3, 'mark') || typeof mark !== 'object' || mark === null || !exactKeys(mark, 1, 'name') || typeof mark.name !== 'string') {
          this.#violation('31951 mark: missing or extra fields');
          return;
        }
        this.stats.marksReceived += 1;
        // Earlier marks that are due go first: echoes keep the order of the marks.
        this.echoDueMarks(receivedAt);
        if (this.#playedUntilMs <= receivedAt) this.#echoMark(mark.name);
        else this.#pendingMarks.push({ name: mark.name, dueAtMs: this.#playedUntilMs });
        return;
      }
      case 'clear': {
        if (!exactKeys(m, 2, 'streamSid')) {
          this.#violation('31951 clear: extra fields');
          return;
        }
        this.stats.clears += 1;
        this.#playedUntilMs = receivedAt;
        const pending = this.#pendingMarks.slice(this.#pendingHead);
        this.#pendingMarks = [];
        this.#pendingHead = 0;
        for (const mark of pending) this.#echoMark(mark.name);
        return;
      }
      default:
        this.#violation(`31951 unknown event ${JSON.stringify(event)}`);
    }
  }

  #queueAudio(bytes: number, nowMs: number): void {
    this.#playedUntilMs = Math.max(this.#playedUntilMs, nowMs) + bytes / BYTES_PER_MS;
  }
}

/** `obj` has exactly `count` keys, `key` among them (the documented field set; cheap for the hot path). */
function exactKeys(obj: object, count: number, key: string): boolean {
  let n = 0;
  for (const _ in obj) n += 1;
  return n === count && key in obj;
}

function base64DecodedLength(s: string): number {
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return Math.floor((s.length * 3) / 4) - pad;
}
