// Drives the protocol core directly, without sockets: client events in as text frames, server
// events out as the wire objects (and the exact text) the transport would have sent. The brain is
// scripted: each test sets what its callbacks do and reads what they were called with.
import type {
  CommittedAudio,
  ResponseHandle,
  SessionBrain,
  SessionControl,
  WireEvent,
} from '../../../../src/engine/protocol/index.js';
import { ProtocolSession } from '../../../../src/engine/protocol/index.js';
import type { AudioFormat, RealtimeItem, RealtimeShape, ServerSession } from '../../../../src/realtime/index.js';

export type Json = Record<string, unknown>;
export type Sent = WireEvent & Json;

export class ScriptedBrain implements SessionBrain {
  readonly audio: { bytes: number; format: AudioFormat; startMs: number }[] = [];
  readonly committed: CommittedAudio[] = [];
  readonly responses: ResponseHandle[] = [];
  readonly sessions: ServerSession[] = [];
  readonly truncated: { item: RealtimeItem; audioEndMs: number }[] = [];
  cleared = 0;
  closed = 0;
  /** What `onResponse` does; by default nothing (the test writes through the handle). */
  respond: (response: ResponseHandle) => void = () => undefined;
  /** What `onInputAudio` does after recording the call. */
  hear: (audio: Buffer, format: AudioFormat, startMs: number) => void = () => undefined;
  /** What `onCommitted` does after recording the call. */
  transcribe: (committed: CommittedAudio) => void = () => undefined;
  /** The transcript `onTruncate` returns; undefined leaves the core's default. */
  heard: ((item: RealtimeItem, audioEndMs: number) => string | undefined) | undefined;

  onInputAudio(audio: Buffer, format: AudioFormat, startMs: number): void {
    this.audio.push({ bytes: audio.length, format, startMs });
    this.hear(audio, format, startMs);
  }
  onInputCleared(): void {
    this.cleared++;
  }
  onCommitted(committed: CommittedAudio): void {
    this.committed.push(committed);
    this.transcribe(committed);
  }
  onResponse(response: ResponseHandle): void {
    this.responses.push(response);
    this.respond(response);
  }
  onTruncate(item: RealtimeItem, audioEndMs: number): string | undefined {
    this.truncated.push({ item, audioEndMs });
    return this.heard?.(item, audioEndMs);
  }
  onSessionUpdated(session: ServerSession): void {
    this.sessions.push(session);
  }
  close(): void {
    this.closed++;
  }
}

export interface Harness {
  session: ProtocolSession;
  control: SessionControl;
  brain: ScriptedBrain;
  /** Every event sent, wire shape. */
  sent: Sent[];
  /** The text frames exactly as sent. */
  frames: string[];
  /** Sends a client event as a text frame; returns what it caused. */
  send(event: Json): Sent[];
  /** Sends a raw frame; returns what it caused. */
  sendRaw(text: string, isBinary?: boolean): Sent[];
  /** Events sent since the last `take` (or `send`). */
  take(): Sent[];
  /** The one event of `type` among `events` (fails when there is not exactly one). */
  one(events: Sent[], type: string): Sent;
}

export function startSession(opts: { shape?: RealtimeShape; sessionType?: 'realtime' | 'transcription'; model?: string; brain?: ScriptedBrain } = {}): Harness {
  const brain = opts.brain ?? new ScriptedBrain();
  const sent: Sent[] = [];
  const frames: string[] = [];
  let control: SessionControl | undefined;
  let cursor = 0;
  const session = new ProtocolSession({
    shape: opts.shape ?? 'ga',
    model: opts.model ?? 'gpt-realtime',
    ...(opts.sessionType ? { sessionType: opts.sessionType } : {}),
    send: (text, event) => {
      frames.push(text);
      sent.push(event as Sent);
    },
    brain: (c) => {
      control = c;
      return brain;
    },
  });
  const take = (): Sent[] => {
    const out = sent.slice(cursor);
    cursor = sent.length;
    return out;
  };
  return {
    session,
    control: control as unknown as SessionControl,
    brain,
    sent,
    frames,
    send(event) {
      take();
      session.receive(JSON.stringify(event));
      return take();
    },
    sendRaw(text, isBinary = false) {
      take();
      session.receive(text, isBinary);
      return take();
    },
    take,
    one(events, type) {
      const found = events.filter((event) => event.type === type);
      if (found.length !== 1) throw new Error(`expected one ${type}, got ${found.length} in ${events.map((e) => e.type).join(', ')}`);
      return found[0] as Sent;
    },
  };
}

export const types = (events: readonly Sent[]): string[] => events.map((event) => event.type);

/** Base64 of `ms` of μ-law silence. */
export function mulaw(ms: number): string {
  return Buffer.alloc(ms * 8, 0xff).toString('base64');
}

/** Base64 of `ms` of PCM16 24 kHz silence. */
export function pcm(ms: number): string {
  return Buffer.alloc(ms * 48).toString('base64');
}

export const MULAW_SESSION = {
  type: 'session.update',
  session: {
    type: 'realtime',
    audio: {
      input: { format: { type: 'audio/pcmu' }, transcription: { model: 'gpt-4o-transcribe' } },
      output: { format: { type: 'audio/pcmu' }, voice: 'marin' },
    },
  },
};
