// The session of one connection: the documented defaults (realtime.md §b.1), `session.update` merged
// field by field (§b.2), and the checks the live service makes before accepting an update.

import {
  DEFAULT_AUDIO_FORMAT,
  newRealtimeId,
  type AudioFormat,
  type RealtimeSession,
  type RealtimeShape,
  type ServerSession,
  type SessionConfig,
  type TranscriptionSession,
  type TurnDetection,
} from '../../realtime/index.js';
import { protocolErrors, type ProtocolError } from './errors.js';

export const DEFAULT_INSTRUCTIONS =
  "Your knowledge cutoff is 2023-10. You are a helpful, witty, and friendly AI. Act like a human, but remember that you aren't a human.";
/** The model a connection without `?model=` gets, by protocol shape. */
export const DEFAULT_MODEL: Readonly<Record<RealtimeShape, string>> = {
  ga: 'gpt-realtime',
  beta: 'gpt-4o-realtime-preview',
};
export const SESSION_LIFETIME_S = 30 * 60;

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

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

/** What the service reports for a turn detection the client set partly. */
export function withTurnDetectionDefaults(td: TurnDetection): TurnDetection {
  if (td.type === 'server_vad') return { ...defaultServerVad(), ...td };
  return { eagerness: 'auto', create_response: true, interrupt_response: true, ...td };
}

export function defaultSession(type: 'realtime' | 'transcription', model: string): ServerSession {
  const expires_at = Math.floor(Date.now() / 1000) + SESSION_LIFETIME_S;
  const input = {
    format: { ...DEFAULT_AUDIO_FORMAT },
    transcription: null,
    noise_reduction: null,
    turn_detection: defaultServerVad(),
  };
  if (type === 'transcription') {
    const session: TranscriptionSession = {
      type: 'transcription',
      object: 'realtime.transcription_session',
      id: newRealtimeId('sess'),
      expires_at,
      audio: { input },
      include: null,
    };
    return session;
  }
  const session: RealtimeSession = {
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
    expires_at,
    audio: { input, output: { format: { ...DEFAULT_AUDIO_FORMAT }, voice: 'alloy', speed: 1.0 } },
    include: null,
  };
  return session;
}

export type SessionUpdateResult = { ok: true; session: ServerSession } | { ok: false; error: ProtocolError };

/**
 * Applies a `session.update` to the effective session: only the fields present change (`null` clears),
 * `audio.input` / `audio.output` merge key by key, turn detection gets its defaults. The session
 * passed in is not modified.
 */
export function applySessionUpdate(
  current: ServerSession,
  update: SessionConfig,
  state: { assistantAudioProduced: boolean },
): SessionUpdateResult {
  if (update.type !== current.type) {
    return { ok: false, error: protocolErrors.sessionTypeMismatch(update.type, current.type) };
  }
  if (update.type === 'realtime' && current.type === 'realtime') {
    if (update.model !== undefined && update.model !== current.model) return { ok: false, error: protocolErrors.modelChange() };
    const voice = update.audio?.output?.voice;
    if (voice !== undefined && state.assistantAudioProduced && JSON.stringify(voice) !== JSON.stringify(current.audio?.output?.voice)) {
      return { ok: false, error: protocolErrors.voiceAfterAudio() };
    }
  }
  const next = structuredClone(current) as unknown as Json;
  const patch = structuredClone(update) as unknown as Json;
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
  return { ok: true, session: next as unknown as ServerSession };
}

export function inputFormatOf(session: ServerSession): AudioFormat {
  return session.audio?.input?.format ?? DEFAULT_AUDIO_FORMAT;
}

export function outputFormatOf(session: ServerSession): AudioFormat {
  return (session.type === 'realtime' ? session.audio?.output?.format : undefined) ?? DEFAULT_AUDIO_FORMAT;
}

/** `null`: manual turns. */
export function turnDetectionOf(session: ServerSession): TurnDetection | null {
  return session.audio?.input?.turn_detection ?? null;
}

/** VAD responses on speech end: on by default, off with manual turns. */
export function createsResponseOnTurnEnd(session: ServerSession): boolean {
  const td = turnDetectionOf(session);
  return session.type === 'realtime' && td !== null && (td.create_response ?? true);
}

/** Barge-in: speech cancels the active response unless `interrupt_response` is false. */
export function interruptsResponse(session: ServerSession): boolean {
  const td = turnDetectionOf(session);
  return td === null || (td.interrupt_response ?? true);
}
