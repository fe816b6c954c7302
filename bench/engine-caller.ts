// One caller of Koe's engine for the load benchmark: a real Realtime client over a WebSocket that sends
// μ-law phone audio in 20 ms frames on a shared monotonic clock — speech, then the silence a phone line
// carries while the agent answers — and times each turn from the moment the frame holding the last speech
// sample was sent:
//
//   speech end sent ─VAD─▶ speech_stopped ─▶ committed ─STT─▶ transcription.completed ─dialogue+TTS─▶ first audio delta
//
// The reply is "played" on a phone clock (a delta plays on arrival or after what came before it, at real
// time); the caller speaks again once it has played out, after a short pause. A delta that arrives after
// the audio before it has finished playing means the caller heard a gap: the engine fell behind real time.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { PhoneUtterance } from './engine-speech.js';
import { FRAME_BYTES, FRAME_MS, MULAW_SILENCE, PHONE_RATE_HZ } from './engine-speech.js';

/** A delta later than this after the audio before it ran out counts as a gap the caller heard. */
export const PLAYBACK_GAP_TOLERANCE_MS = 20;

export const RECEPTIONIST_INSTRUCTIONS = [
  'You are the friendly receptionist of Sakura Dental Clinic, answering the phone.',
  'Opening hours: Monday to Friday, 9 am to 6 pm.',
  'Speak naturally and briefly: one or two short sentences per turn, as on a real phone call.',
  'You can answer questions about the clinic and take a message (name, phone number, reason).',
].join(' ');

export interface CallerOptions {
  url: string;
  corpus: readonly PhoneUtterance[];
  /** `silence_duration_ms` of the session's server VAD. */
  silenceMs: number;
  /** Pause between the end of the agent's reply (as played) and the next utterance. */
  pauseMs: readonly [min: number, max: number];
  /** A turn without its first audio delta (or without the reply finishing) this long after the speech end fails. */
  turnTimeoutMs: number;
  seed: number;
  index: number;
  /** Base64 μ-law frames sent (in turn) instead of digital silence between utterances: a line's hiss. */
  lineNoise?: readonly string[];
}

export interface TurnRecord {
  session: number;
  turn: number;
  text: string;
  voice: string;
  /** performance.now() right after the frame holding the last speech sample was sent. */
  speechEndAt: number;
  /** Where the speech ended on the session's audio clock (ms of audio sent so far). */
  speechEndAudioMs: number;
  speechStoppedAt?: number;
  /** `audio_end_ms` of speech_stopped. */
  audioEndMs?: number;
  committedAt?: number;
  itemId?: string;
  /** Length of the audio the engine committed and transcribed (from the transcription's token usage: 100 ms a token). */
  committedAudioMs?: number;
  transcriptAt?: number;
  transcript?: string;
  responseId?: string;
  responseCreatedAt?: number;
  firstDeltaAt?: number;
  lastDeltaAt?: number;
  responseDoneAt?: number;
  responseStatus?: string;
  replyText?: string;
  replyAudioMs: number;
  deltas: number;
  /** Gaps the caller would have heard inside the reply (deltas late by more than the tolerance). */
  gaps: number;
  maxGapMs: number;
  /** speech_stopped events that came before the speech ended (the VAD split the utterance). */
  earlyStops: number;
  outcome: 'pending' | 'ok' | 'timeout' | 'cancelled' | 'failed' | 'closed';
}

interface ServerEvent {
  type: string;
  item_id?: string;
  audio_end_ms?: number;
  response_id?: string;
  delta?: string;
  transcript?: string;
  usage?: { input_token_details?: { audio_tokens?: number } };
  response?: { id?: string; status?: string; output?: Array<{ content?: Array<{ transcript?: string; text?: string }> }> };
  error?: { message?: string; code?: string };
}

/** xorshift32: the same pauses and utterance order on every run. */
function rng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

const SILENT_FRAME = Buffer.alloc(FRAME_BYTES, MULAW_SILENCE).toString('base64');

type Phase = { kind: 'pause'; untilFrame: number } | { kind: 'speaking'; utterance: PhoneUtterance; frame: number } | { kind: 'waiting' };

export class EngineCaller {
  readonly turns: TurnRecord[] = [];
  readonly errors: string[] = [];
  /** speech_stopped with no utterance of ours behind it (the VAD heard speech in silence). */
  strayStops = 0;
  /** Frames sent later than their due time by more than one frame, and the worst lateness. */
  lateFrames = 0;
  maxLatenessMs = 0;
  framesSent = 0;
  #socket: WebSocket;
  readonly #opts: CallerOptions;
  readonly #random: () => number;
  #startAt = 0;
  #phase: Phase = { kind: 'pause', untilFrame: 0 };
  #turn: TurnRecord | undefined;
  #playCursor = 0;
  #draining = false;
  #closed = false;
  /** speech_stopped events while the current utterance is still being spoken. */
  #earlyStops = 0;
  #utteranceIndex: number;
  readonly #listeners = new Set<(event: ServerEvent) => void>();

  private constructor(socket: WebSocket, opts: CallerOptions) {
    this.#socket = socket;
    this.#opts = opts;
    this.#random = rng(opts.seed);
    this.#utteranceIndex = Math.floor(this.#random() * opts.corpus.length);
    socket.on('message', (data) => this.#onMessage(data as Buffer));
    socket.on('close', () => {
      this.#closed = true;
      if (this.#turn && this.#turn.outcome === 'pending') this.#turn.outcome = 'closed';
    });
    socket.on('error', (err) => this.errors.push(`socket: ${err.message}`));
  }

  /** Opens the session and configures it the way Koe's bridge does for a phone call (μ-law both ways, server VAD, transcription). */
  static async connect(opts: CallerOptions, timeoutMs = 30_000): Promise<EngineCaller> {
    const socket = new WebSocket(`${opts.url}?model=koe`);
    const caller = new EngineCaller(socket, opts);
    await caller.#waitFor('session.created', timeoutMs, () => new Promise<void>((done, fail) => {
      socket.once('open', () => done());
      socket.once('error', fail);
    }));
    socket.send(
      JSON.stringify({
        type: 'session.update',
        session: {
          type: 'realtime',
          instructions: RECEPTIONIST_INSTRUCTIONS,
          output_modalities: ['audio'],
          audio: {
            input: {
              format: { type: 'audio/pcmu' },
              transcription: { model: 'gpt-4o-mini-transcribe', language: 'en' },
              turn_detection: { type: 'server_vad', threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: opts.silenceMs, create_response: true, interrupt_response: true },
            },
            output: { format: { type: 'audio/pcmu' }, voice: 'alloy' },
          },
        },
      }),
    );
    await caller.#waitFor('session.updated', timeoutMs);
    return caller;
  }

  get isOpen(): boolean {
    return !this.#closed && this.#socket.readyState === WebSocket.OPEN;
  }

  /** When the next frame is due (Infinity before `start` or once closed). */
  get nextDueAt(): number {
    return this.#startAt === 0 || !this.isOpen ? Number.POSITIVE_INFINITY : this.#startAt + (this.framesSent + 1) * FRAME_MS;
  }

  /** A turn is under way (speaking, or waiting for the reply to play out). */
  get busy(): boolean {
    return this.#phase.kind !== 'pause' || this.#turn?.outcome === 'pending';
  }

  /** Starts the clock: frame k is due at `atMs + (k + 1) × 20 ms`; the first utterance after `leadInMs` of silence. */
  start(atMs: number, leadInMs: number): void {
    this.#startAt = atMs;
    this.#phase = { kind: 'pause', untilFrame: Math.round(leadInMs / FRAME_MS) };
  }

  /** No new utterance from now on; the line stays open (silence) until `close`. */
  drain(): void {
    this.#draining = true;
  }

  /** Sends every frame that is due by `nowMs`. Called by the shared pacer. */
  tick(nowMs: number): void {
    if (!this.isOpen || this.#startAt === 0) return;
    this.#finishTurnIfPlayed(nowMs);
    const due = Math.floor((nowMs - this.#startAt) / FRAME_MS);
    while (this.framesSent < due && this.isOpen) {
      const lateness = nowMs - (this.#startAt + (this.framesSent + 1) * FRAME_MS);
      if (lateness > FRAME_MS) this.lateFrames += 1;
      if (lateness > this.maxLatenessMs) this.maxLatenessMs = lateness;
      this.#sendFrame();
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#turn?.outcome === 'pending') this.#turn.outcome = 'closed';
    try {
      this.#socket.close();
    } catch {
      // already gone
    }
  }

  terminate(): void {
    this.#closed = true;
    this.#socket.terminate();
  }

  // ── sending ──

  #sendFrame(): void {
    const frameIndex = this.framesSent;
    const phase = this.#phase;
    if (phase.kind === 'pause' && frameIndex >= phase.untilFrame && !this.#draining && this.#turn?.outcome !== 'pending') {
      const utterance = this.#opts.corpus[this.#utteranceIndex % this.#opts.corpus.length] as PhoneUtterance;
      this.#utteranceIndex += 1;
      this.#phase = { kind: 'speaking', utterance, frame: 0 };
    }
    const current = this.#phase;
    if (current.kind !== 'speaking') {
      const noise = this.#opts.lineNoise;
      this.#append(noise && noise.length > 0 ? (noise[(frameIndex + this.#opts.index * 97) % noise.length] as string) : SILENT_FRAME);
      return;
    }
    const { utterance } = current;
    const offset = current.frame * FRAME_BYTES;
    this.#append(utterance.mulaw.subarray(offset, offset + FRAME_BYTES).toString('base64'));
    if (current.frame === utterance.lastSpeechFrame) {
      const frameStartMs = frameIndex * FRAME_MS;
      this.#turn = {
        session: this.#opts.index,
        turn: this.turns.length,
        text: utterance.text,
        voice: utterance.voice,
        speechEndAt: performance.now(),
        speechEndAudioMs: frameStartMs + (utterance.speechEndMs - utterance.lastSpeechFrame * FRAME_MS),
        replyAudioMs: 0,
        deltas: 0,
        gaps: 0,
        maxGapMs: 0,
        earlyStops: this.#earlyStops,
        outcome: 'pending',
      };
      this.#earlyStops = 0;
      this.turns.push(this.#turn);
    }
    current.frame += 1;
    if (current.frame * FRAME_BYTES >= utterance.mulaw.length) this.#phase = { kind: 'waiting' };
  }

  #append(base64: string): void {
    this.#socket.send(`{"type":"input_audio_buffer.append","audio":"${base64}"}`);
    this.framesSent += 1;
  }

  #finishTurnIfPlayed(nowMs: number): void {
    const turn = this.#turn;
    if (!turn) return;
    if (turn.outcome === 'pending') {
      const played = turn.responseDoneAt !== undefined && nowMs >= this.#playCursor;
      if (played) turn.outcome = turn.responseStatus === 'completed' ? 'ok' : turn.responseStatus === 'cancelled' ? 'cancelled' : 'failed';
      else if (nowMs - turn.speechEndAt > this.#opts.turnTimeoutMs) turn.outcome = 'timeout';
    }
    if (turn.outcome !== 'pending' && this.#phase.kind === 'waiting') {
      const [min, max] = this.#opts.pauseMs;
      const pause = min + this.#random() * (max - min);
      this.#phase = { kind: 'pause', untilFrame: this.framesSent + Math.round(pause / FRAME_MS) };
    }
  }

  // ── receiving ──

  #waitFor(type: string, timeoutMs: number, before?: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#listeners.delete(listener);
        reject(new Error(`no ${type} within ${timeoutMs} ms${this.errors.length ? `: ${this.errors.join('; ')}` : ''}`));
      }, timeoutMs);
      const listener = (event: ServerEvent): void => {
        if (event.type === 'error') {
          clearTimeout(timer);
          this.#listeners.delete(listener);
          reject(new Error(`engine error while waiting for ${type}: ${event.error?.message ?? 'unknown'}`));
        } else if (event.type === type) {
          clearTimeout(timer);
          this.#listeners.delete(listener);
          resolve();
        }
      };
      this.#listeners.add(listener);
      before?.().catch((err: unknown) => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
  }

  #onMessage(data: Buffer): void {
    const at = performance.now();
    let event: ServerEvent;
    try {
      event = JSON.parse(data.toString('utf8')) as ServerEvent;
    } catch {
      this.errors.push('a frame that is not JSON');
      return;
    }
    for (const listener of [...this.#listeners]) listener(event);
    const turn = this.#turn;
    switch (event.type) {
      case 'error':
        this.errors.push(`${event.error?.code ?? 'error'}: ${event.error?.message ?? ''}`);
        return;
      case 'input_audio_buffer.speech_stopped':
        if (this.#phase.kind === 'speaking') this.#earlyStops += 1;
        else if (turn && turn.outcome === 'pending' && turn.speechStoppedAt === undefined) {
          turn.speechStoppedAt = at;
          if (typeof event.audio_end_ms === 'number') turn.audioEndMs = event.audio_end_ms;
        } else this.strayStops += 1;
        return;
      case 'input_audio_buffer.committed':
        if (turn && turn.speechStoppedAt !== undefined && turn.itemId === undefined) {
          turn.committedAt = at;
          if (event.item_id) turn.itemId = event.item_id;
        }
        return;
      case 'conversation.item.input_audio_transcription.completed':
        if (turn && event.item_id === turn.itemId) {
          turn.transcriptAt = at;
          turn.transcript = event.transcript ?? '';
          const tokens = event.usage?.input_token_details?.audio_tokens;
          if (typeof tokens === 'number') turn.committedAudioMs = tokens * 100;
        }
        return;
      case 'response.created':
        if (turn && turn.speechStoppedAt !== undefined && turn.responseId === undefined && event.response?.id) {
          turn.responseId = event.response.id;
          turn.responseCreatedAt = at;
        }
        return;
      case 'response.output_audio.delta':
        if (turn && event.response_id === turn.responseId && event.delta) this.#onAudio(turn, at, Buffer.byteLength(event.delta, 'base64'));
        return;
      case 'response.done':
        if (turn && event.response?.id === turn.responseId) {
          turn.responseDoneAt = at;
          turn.responseStatus = event.response?.status ?? 'unknown';
          const content = event.response?.output?.[0]?.content?.[0];
          turn.replyText = content?.transcript ?? content?.text ?? '';
          if (turn.firstDeltaAt === undefined) this.#playCursor = at;
        }
        return;
      default:
        return;
    }
  }

  #onAudio(turn: TurnRecord, at: number, bytes: number): void {
    const ms = (bytes * 1000) / PHONE_RATE_HZ;
    if (turn.firstDeltaAt === undefined) {
      turn.firstDeltaAt = at;
      this.#playCursor = at;
    } else if (at > this.#playCursor) {
      const gap = at - this.#playCursor;
      if (gap > PLAYBACK_GAP_TOLERANCE_MS) turn.gaps += 1;
      if (gap > turn.maxGapMs) turn.maxGapMs = gap;
      this.#playCursor = at;
    }
    this.#playCursor += ms;
    turn.lastDeltaAt = at;
    turn.replyAudioMs += ms;
    turn.deltas += 1;
  }
}
