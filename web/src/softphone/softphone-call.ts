// One browser call: microphone → 20 ms μ-law frames → Twilio-protocol WebSocket → Koe, and the agent's
// audio back through AgentPlayout (which answers marks and clears like Twilio). Every resource is tied
// to the call and released once, whichever side ends it.
import { apiRequest } from '../api/api-client.js';
import type { SoftphoneCallResponse } from '../api/types.js';
import { sameOriginWebSocketUrl } from '../api/websocket-url.js';
import { AgentPlayout } from '../audio/agent-playout.js';
import type { PlayoutStats } from '../audio/agent-playout.js';
import { bytesToBase64, base64ToBytes } from '../audio/base64.js';
import { createPhoneAudioContext, MicCapture, MicError } from '../audio/mic-capture.js';
import { encodeMulaw, MULAW_SILENCE } from '../audio/mulaw.js';
import { parseServerMessage, randomSid, TwilioStreamEncoder } from './twilio-stream-client.js';

export type SoftphoneStatus = 'idle' | 'microphone' | 'dialing' | 'connecting' | 'in-call' | 'ended' | 'failed';

export type SoftphoneFailure =
  | { kind: 'mic'; micKind: MicError['kind']; message: string }
  | { kind: 'api'; error: unknown }
  | { kind: 'socket'; code: number; reason: string };

export interface SoftphoneSnapshot {
  status: SoftphoneStatus;
  callSid: string | null;
  streamSid: string | null;
  failure: SoftphoneFailure | null;
  /** Who ended the call, once ended. */
  endedBy: 'me' | 'agent' | null;
  muted: boolean;
  /** Microphone level 0…1 (RMS of the last frame, scaled). */
  level: number;
  framesSent: number;
  playout: PlayoutStats;
  protocolViolations: number;
  sampleRateHz: number | null;
}

const ACCOUNT_SID = randomSid('AC');
const LEVEL_UPDATE_MS = 100;
const STATS_UPDATE_MS = 250;

function emptyPlayoutStats(): PlayoutStats {
  return { chunks: 0, bytes: 0, marksReceived: 0, marksEchoed: 0, clears: 0, discardedMs: 0 };
}

export function initialSnapshot(): SoftphoneSnapshot {
  return {
    status: 'idle',
    callSid: null,
    streamSid: null,
    failure: null,
    endedBy: null,
    muted: false,
    level: 0,
    framesSent: 0,
    playout: emptyPlayoutStats(),
    protocolViolations: 0,
    sampleRateHz: null,
  };
}

function rms(frame: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < frame.length; i++) sum += (frame[i] as number) ** 2;
  return Math.sqrt(sum / Math.max(1, frame.length));
}

export class SoftphoneCall {
  #snapshot: SoftphoneSnapshot = initialSnapshot();
  readonly #onChange: (snapshot: SoftphoneSnapshot) => void;
  #ctx: AudioContext | null = null;
  #mic: MicCapture | null = null;
  #playout: AgentPlayout | null = null;
  #socket: WebSocket | null = null;
  #encoder: TwilioStreamEncoder | null = null;
  #finished = false;
  #lastLevelAt = 0;
  #lastStatsAt = 0;
  readonly #abort = new AbortController();

  constructor(onChange: (snapshot: SoftphoneSnapshot) => void) {
    this.#onChange = onChange;
  }

  get snapshot(): SoftphoneSnapshot {
    return this.#snapshot;
  }

  /**
   * Call from the click handler: the AudioContext is created and resumed before the first await, while
   * the click still counts as a user gesture.
   */
  start(agentId: string, variables: Record<string, string>): Promise<void> {
    const ctx = createPhoneAudioContext();
    this.#ctx = ctx;
    const resumed = ctx.resume();
    return this.#run(resumed, agentId, variables);
  }

  async #run(resumed: Promise<void>, agentId: string, variables: Record<string, string>): Promise<void> {
    try {
      this.#update({ status: 'microphone' });
      await resumed;
      this.#mic = await this.#openMic();
      if (this.#finished) return;

      this.#update({ status: 'dialing' });
      const call = await apiRequest<SoftphoneCallResponse>('/api/softphone/calls', {
        method: 'POST',
        body: { agentId, variables },
        signal: this.#abort.signal,
      });
      if (this.#finished) return;

      const encoder = new TwilioStreamEncoder({ callSid: call.callSid, accountSid: ACCOUNT_SID, streamSid: randomSid('MZ'), customParameters: call.parameters });
      this.#encoder = encoder;
      this.#update({ status: 'connecting', callSid: call.callSid, streamSid: encoder.streamSid });
      this.#connect(call.streamPath, encoder);
    } catch (err) {
      if (this.#finished) return;
      if (err instanceof MicError) this.#fail({ kind: 'mic', micKind: err.kind, message: err.message });
      else this.#fail({ kind: 'api', error: err });
    }
  }

  async #openMic(): Promise<MicCapture> {
    const ctx = this.#ctx as AudioContext;
    try {
      return await MicCapture.open(ctx, (frame) => this.#onFrame(frame));
    } catch (err) {
      // Firefox cannot connect a microphone to an 8 kHz context; the worklet resamples at other rates.
      if (!(err instanceof MicError) || err.kind !== 'audio' || ctx.sampleRate === 48000 || this.#finished) throw err;
      await ctx.close();
      const fallback = new AudioContext({ latencyHint: 'interactive' });
      this.#ctx = fallback;
      await fallback.resume();
      return await MicCapture.open(fallback, (frame) => this.#onFrame(frame));
    }
  }

  #connect(streamPath: string, encoder: TwilioStreamEncoder): void {
    const ctx = this.#ctx as AudioContext;
    const socket = new WebSocket(sameOriginWebSocketUrl(streamPath));
    this.#socket = socket;
    const send = (text: string) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
    };
    this.#playout = new AgentPlayout(ctx, (name) => send(encoder.mark(name)));
    socket.onopen = () => {
      if (this.#finished) return;
      send(encoder.connected());
      send(encoder.start());
      this.#update({ status: 'in-call', sampleRateHz: ctx.sampleRate });
    };
    socket.onmessage = (event: MessageEvent) => this.#onServerMessage(event.data);
    socket.onclose = (event: CloseEvent) => {
      if (this.#finished) return;
      if (this.#snapshot.status === 'in-call') this.#finish('agent');
      else this.#fail({ kind: 'socket', code: event.code, reason: event.reason });
    };
  }

  #onServerMessage(data: unknown): void {
    const playout = this.#playout;
    const encoder = this.#encoder;
    if (!playout || !encoder || this.#finished) return;
    const message = parseServerMessage(data, encoder.streamSid);
    switch (message.event) {
      case 'media': {
        let bytes: Uint8Array;
        try {
          bytes = base64ToBytes(message.payload);
        } catch {
          this.#update({ protocolViolations: this.#snapshot.protocolViolations + 1 });
          return;
        }
        playout.enqueue(bytes);
        break;
      }
      case 'mark':
        playout.mark(message.name);
        break;
      case 'clear':
        playout.clear();
        break;
      case 'invalid':
        this.#update({ protocolViolations: this.#snapshot.protocolViolations + 1 });
        return;
    }
    // Media and marks arrive ~50 times a second: tell the page a few times a second (clears at once).
    const now = performance.now();
    if (message.event === 'clear' || now - this.#lastStatsAt > STATS_UPDATE_MS) {
      this.#lastStatsAt = now;
      this.#update({ playout: { ...playout.stats } });
    }
  }

  #onFrame(frame: Float32Array): void {
    const encoder = this.#encoder;
    const socket = this.#socket;
    const now = performance.now();
    if (now - this.#lastLevelAt > LEVEL_UPDATE_MS) {
      this.#lastLevelAt = now;
      const playout = this.#playout ? { ...this.#playout.stats } : this.#snapshot.playout;
      this.#update({ level: this.#snapshot.muted ? 0 : Math.min(1, rms(frame) * 4), playout, framesSent: encoder?.chunksSent ?? 0 });
    }
    // Like a phone line, audio flows from the moment the stream starts; before that it is dropped.
    if (!encoder || !socket || socket.readyState !== WebSocket.OPEN || this.#snapshot.status !== 'in-call') return;
    const bytes = this.#snapshot.muted ? new Uint8Array(frame.length).fill(MULAW_SILENCE) : encodeMulaw(frame);
    socket.send(encoder.media(bytesToBase64(bytes)));
    this.#snapshot = { ...this.#snapshot, framesSent: encoder.chunksSent };
  }

  setMuted(muted: boolean): void {
    this.#update({ muted });
  }

  /** A key press, sent the way Twilio reports one. */
  pressKey(digit: string): void {
    const socket = this.#socket;
    if (!this.#encoder || !socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(this.#encoder.dtmf(digit));
  }

  /** Ends the call from this side: Twilio's `stop`, then the socket closes. */
  hangUp(): void {
    if (this.#finished) return;
    const socket = this.#socket;
    if (socket && socket.readyState === WebSocket.OPEN && this.#encoder) socket.send(this.#encoder.stop());
    this.#finish('me');
  }

  #finish(by: 'me' | 'agent'): void {
    this.#release();
    this.#update({ status: 'ended', endedBy: by, level: 0 });
  }

  #fail(failure: SoftphoneFailure): void {
    this.#release();
    this.#update({ status: 'failed', failure, level: 0 });
  }

  #release(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#abort.abort();
    const socket = this.#socket;
    if (socket) {
      socket.onmessage = null;
      socket.onclose = null;
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(1000, 'hung up');
    }
    this.#mic?.close();
    if (this.#playout) this.#snapshot = { ...this.#snapshot, playout: { ...this.#playout.stats } };
    this.#playout?.close();
    const ctx = this.#ctx;
    if (ctx && ctx.state !== 'closed') void ctx.close().catch(() => undefined);
  }

  #update(change: Partial<SoftphoneSnapshot>): void {
    this.#snapshot = { ...this.#snapshot, ...change };
    this.#onChange(this.#snapshot);
  }
}
