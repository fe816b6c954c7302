// GA ⇄ beta translation of the Realtime protocol (realtime.md §a.2, §a.3), in all four directions.
// Koe speaks GA inside: the client connection translates what it sends to a beta server and what a
// beta server answers; Koe's engine translates the other way to serve beta clients.
//
// Rules
// - Functions are pure: they never mutate their input and return new objects where anything
//   changed (an event with nothing to translate may be returned as is).
// - Translation preserves shape, it does not validate: fields outside the mapping tables pass
//   through unchanged (a GA-only field sent to a beta server is answered by that server's
//   `unknown_parameter`), and garbage in gives garbage out. Validate after translating.
// - Dropped on beta → GA, because GA has no equivalent: `temperature`, `client_secret`, the
//   transcription session's `modalities`, and `object:"realtime.item"` on server items (the live GA
//   service does not send it; beta → GA → beta adds it back).
// - Modalities: GA `["audio"]` (audio with its transcript) is beta `["audio","text"]`; `["text"]`
//   is `["text"]` in both. Beta `["text","audio"]` normalises to `["audio","text"]`.
// - Beta turn detection is one flat object with `type` optional (default `server_vad`); GA is a
//   union, so beta → GA keeps only the fields of the chosen arm.
//
// Conversation items: beta `conversation.item.created` vs GA `conversation.item.added` + `.done`
// - GA → beta: `added` → `created`; `done` is dropped (beta has none). GA `created` stays `created`.
//   A user item (added + done back to back) thus becomes one `created`, as the beta service sends.
// - beta → GA: `created` → `added`, followed at once by `done` when the item is already final
//   (status not `in_progress`: a committed user turn, a client-created item). An item created
//   `in_progress` (model output) gets its `done` right after the beta `response.output_item.done`
//   for the same id, which is where GA sends it. That needs memory of which items were created,
//   kept in a `BetaToGaState` the caller passes (one per connection); without it no `done` is
//   synthesised for model output. Items of out-of-band responses (`conversation:"none"`) are never
//   created in the conversation, so they get no `done`, as in GA.
// - Synthesised events get the source event's `event_id` with `:done` appended.
// - Beta `response.function_call_arguments.done` has no `name`; with state it is filled from the
//   function-call item announced in `response.output_item.added` (else `""`).

import { audioFormatFromBeta, audioFormatToBeta, type AudioFormat, type BetaAudioFormat } from './audio-format.js';
import type { BetaClientEvent, BetaServerEvent } from './beta-types.js';
import type { RealtimeClientEvent } from './client-events.js';
import type { RealtimeServerEvent } from './server-events.js';

export type RealtimeShape = 'ga' | 'beta';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function setIfDefined(target: Json, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

// ── event names ───────────────────────────────────────────────────────────────────────────────

const SERVER_RENAMES_GA_TO_BETA: Readonly<Record<string, string>> = {
  'response.output_audio.delta': 'response.audio.delta',
  'response.output_audio.done': 'response.audio.done',
  'response.output_audio_transcript.delta': 'response.audio_transcript.delta',
  'response.output_audio_transcript.done': 'response.audio_transcript.done',
  'response.output_text.delta': 'response.text.delta',
  'response.output_text.done': 'response.text.done',
};
const SERVER_RENAMES_BETA_TO_GA: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(SERVER_RENAMES_GA_TO_BETA).map(([ga, beta]) => [beta, ga]),
);

/** GA name of a beta server event type whose only change is its name, else `undefined`. */
export function renamedServerEventTypeBetaToGa(type: string): string | undefined {
  return SERVER_RENAMES_BETA_TO_GA[type];
}
export function renamedServerEventTypeGaToBeta(type: string): string | undefined {
  return SERVER_RENAMES_GA_TO_BETA[type];
}

// ── small values ──────────────────────────────────────────────────────────────────────────────

function modalitiesGaToBeta(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.includes('audio') ? ['audio', 'text'] : [...value];
}
function modalitiesBetaToGa(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.includes('audio') ? ['audio'] : [...value];
}

function formatGaToBeta(value: unknown): unknown {
  if (!isRecord(value) || typeof value.type !== 'string') return value;
  return audioFormatToBeta(value as unknown as AudioFormat) ?? value;
}
function formatBetaToGa(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return audioFormatFromBeta(value as BetaAudioFormat) ?? value;
}

const SERVER_VAD_FIELDS = [
  'threshold',
  'prefix_padding_ms',
  'silence_duration_ms',
  'create_response',
  'interrupt_response',
  'idle_timeout_ms',
] as const;
const SEMANTIC_VAD_FIELDS = ['eagerness', 'create_response', 'interrupt_response'] as const;

function turnDetectionBetaToGa(value: unknown): unknown {
  if (!isRecord(value)) return value;
  const type = value.type ?? 'server_vad';
  const fields = type === 'semantic_vad' ? SEMANTIC_VAD_FIELDS : type === 'server_vad' ? SERVER_VAD_FIELDS : undefined;
  if (!fields) return { ...value };
  const out: Json = { type };
  for (const field of fields) setIfDefined(out, field, value[field]);
  return out;
}
function turnDetectionGaToBeta(value: unknown): unknown {
  return isRecord(value) ? { ...value } : value;
}

// ── items ─────────────────────────────────────────────────────────────────────────────────────

const ASSISTANT_CONTENT_GA_TO_BETA: Readonly<Record<string, string>> = { output_text: 'text', output_audio: 'audio' };
const ASSISTANT_CONTENT_BETA_TO_GA: Readonly<Record<string, string>> = { text: 'output_text', audio: 'output_audio' };
const INPUT_CONTENT_BETA_TO_GA: Readonly<Record<string, string>> = { text: 'input_text', audio: 'input_audio' };

function renameContent(content: unknown, table: Readonly<Record<string, string>>): unknown {
  if (!Array.isArray(content)) return content;
  return content.map((part) => {
    if (!isRecord(part) || typeof part.type !== 'string') return part;
    const renamed = table[part.type];
    return renamed ? { ...part, type: renamed } : part;
  });
}

/** `server`: the item appears in a server event, where beta items carry `object:"realtime.item"`. */
export function itemGaToBeta(item: unknown, server: boolean): unknown {
  if (!isRecord(item)) return item;
  const out: Json = { ...item };
  if (item.type === 'message' && item.role === 'assistant') out.content = renameContent(item.content, ASSISTANT_CONTENT_GA_TO_BETA);
  if (server && out.object === undefined && item.type !== 'item_reference') out.object = 'realtime.item';
  return out;
}

export function itemBetaToGa(item: unknown, server: boolean): unknown {
  if (!isRecord(item)) return item;
  const out: Json = { ...item };
  if (server) delete out.object;
  if (out.type === undefined) {
    // Beta lets `type` go unsaid; GA needs it. Infer it from the fields that are there.
    if (out.role !== undefined || out.content !== undefined) out.type = 'message';
    else if (out.output !== undefined) out.type = 'function_call_output';
    else if (out.name !== undefined || out.arguments !== undefined) out.type = 'function_call';
  }
  if (out.type === 'message') {
    const table = out.role === 'assistant' ? ASSISTANT_CONTENT_BETA_TO_GA : INPUT_CONTENT_BETA_TO_GA;
    out.content = renameContent(out.content, table);
  }
  return out;
}

function itemsGaToBeta(items: unknown, server: boolean): unknown {
  return Array.isArray(items) ? items.map((item) => itemGaToBeta(item, server)) : items;
}
function itemsBetaToGa(items: unknown, server: boolean): unknown {
  return Array.isArray(items) ? items.map((item) => itemBetaToGa(item, server)) : items;
}

// ── sessions ──────────────────────────────────────────────────────────────────────────────────

/** A GA session (config or full) as a flat beta session. `type` is dropped. */
export function sessionGaToBeta(session: unknown): unknown {
  if (!isRecord(session)) return session;
  const { type: _type, audio, output_modalities, max_output_tokens, ...rest } = session;
  const out: Json = { ...rest };
  setIfDefined(out, 'modalities', output_modalities === undefined ? undefined : modalitiesGaToBeta(output_modalities));
  setIfDefined(out, 'max_response_output_tokens', max_output_tokens);
  if (isRecord(audio)) {
    const { input, output, ...audioRest } = audio;
    const leftover: Json = { ...audioRest };
    if (isRecord(input)) {
      const { format, transcription, noise_reduction, turn_detection, ...inputRest } = input;
      setIfDefined(out, 'input_audio_format', format === undefined ? undefined : formatGaToBeta(format));
      setIfDefined(out, 'input_audio_transcription', transcription);
      setIfDefined(out, 'input_audio_noise_reduction', noise_reduction);
      setIfDefined(out, 'turn_detection', turn_detection === undefined ? undefined : turnDetectionGaToBeta(turn_detection));
      if (Object.keys(inputRest).length > 0) leftover.input = inputRest;
    } else if (input !== undefined) {
      leftover.input = input;
    }
    if (isRecord(output)) {
      const { format, voice, speed, ...outputRest } = output;
      setIfDefined(out, 'output_audio_format', format === undefined ? undefined : formatGaToBeta(format));
      setIfDefined(out, 'voice', voice);
      setIfDefined(out, 'speed', speed);
      if (Object.keys(outputRest).length > 0) leftover.output = outputRest;
    } else if (output !== undefined) {
      leftover.output = output;
    }
    // Nothing in beta holds these; pass them on so the far side can say so.
    if (Object.keys(leftover).length > 0) out.audio = leftover;
  } else if (audio !== undefined) {
    out.audio = audio;
  }
  return out;
}

/** A flat beta session as a GA session of the given type. */
export function sessionBetaToGa(session: unknown, type: 'realtime' | 'transcription'): unknown {
  if (!isRecord(session)) return session;
  const {
    modalities,
    max_response_output_tokens,
    input_audio_format,
    output_audio_format,
    input_audio_transcription,
    input_audio_noise_reduction,
    turn_detection,
    voice,
    speed,
    temperature: _temperature,
    client_secret: _clientSecret,
    ...rest
  } = session;
  const out: Json = { type, ...rest };
  const input: Json = {};
  setIfDefined(input, 'format', input_audio_format === undefined ? undefined : formatBetaToGa(input_audio_format));
  setIfDefined(input, 'transcription', input_audio_transcription);
  setIfDefined(input, 'noise_reduction', input_audio_noise_reduction);
  setIfDefined(input, 'turn_detection', turn_detection === undefined ? undefined : turnDetectionBetaToGa(turn_detection));
  const audio: Json = {};
  if (Object.keys(input).length > 0) audio.input = input;
  if (type === 'realtime') {
    setIfDefined(out, 'output_modalities', modalities === undefined ? undefined : modalitiesBetaToGa(modalities));
    setIfDefined(out, 'max_output_tokens', max_response_output_tokens);
    const output: Json = {};
    setIfDefined(output, 'format', output_audio_format === undefined ? undefined : formatBetaToGa(output_audio_format));
    setIfDefined(output, 'voice', voice);
    setIfDefined(output, 'speed', speed);
    if (Object.keys(output).length > 0) audio.output = output;
  }
  if (Object.keys(audio).length > 0) out.audio = audio;
  return out;
}

// ── responses ─────────────────────────────────────────────────────────────────────────────────

/** `response.create.response` or a response object (`server` true), GA → beta. */
function responseGaToBeta(response: unknown, server: boolean): unknown {
  if (!isRecord(response)) return response;
  const { output_modalities, audio, max_output_tokens, input, output, ...rest } = response;
  const out: Json = { ...rest };
  setIfDefined(out, 'modalities', output_modalities === undefined ? undefined : modalitiesGaToBeta(output_modalities));
  // The response object keeps the name `max_output_tokens` in beta; only the request renames it.
  setIfDefined(out, server ? 'max_output_tokens' : 'max_response_output_tokens', max_output_tokens);
  setIfDefined(out, 'input', input === undefined ? undefined : itemsGaToBeta(input, false));
  setIfDefined(out, 'output', output === undefined ? undefined : itemsGaToBeta(output, true));
  if (isRecord(audio)) {
    const { output: audioOutput, ...audioRest } = audio;
    const leftover: Json = { ...audioRest };
    if (isRecord(audioOutput)) {
      const { format, voice, ...outputRest } = audioOutput;
      setIfDefined(out, 'output_audio_format', format === undefined ? undefined : formatGaToBeta(format));
      setIfDefined(out, 'voice', voice);
      if (Object.keys(outputRest).length > 0) leftover.output = outputRest;
    } else if (audioOutput !== undefined) {
      leftover.output = audioOutput;
    }
    if (Object.keys(leftover).length > 0) out.audio = leftover;
  } else if (audio !== undefined) {
    out.audio = audio;
  }
  return out;
}

function responseBetaToGa(response: unknown, server: boolean): unknown {
  if (!isRecord(response)) return response;
  const {
    modalities,
    voice,
    output_audio_format,
    max_response_output_tokens,
    max_output_tokens,
    temperature: _temperature,
    input,
    output,
    ...rest
  } = response;
  const out: Json = { ...rest };
  setIfDefined(out, 'output_modalities', modalities === undefined ? undefined : modalitiesBetaToGa(modalities));
  setIfDefined(out, 'max_output_tokens', server ? max_output_tokens : (max_response_output_tokens ?? max_output_tokens));
  setIfDefined(out, 'input', input === undefined ? undefined : itemsBetaToGa(input, false));
  setIfDefined(out, 'output', output === undefined ? undefined : itemsBetaToGa(output, true));
  const audioOutput: Json = {};
  setIfDefined(audioOutput, 'format', output_audio_format === undefined ? undefined : formatBetaToGa(output_audio_format));
  setIfDefined(audioOutput, 'voice', voice);
  if (Object.keys(audioOutput).length > 0) out.audio = { output: audioOutput };
  return out;
}

// ── client events ─────────────────────────────────────────────────────────────────────────────

/** What Koe sends, for a beta server. One event in, one out. */
export function clientEventGaToBeta(event: RealtimeClientEvent): BetaClientEvent {
  const e = event as unknown as Json;
  switch (event.type) {
    case 'session.update': {
      const session = e.session;
      if (isRecord(session) && session.type === 'transcription') {
        const beta = sessionGaToBeta(session);
        return { ...e, type: 'transcription_session.update', session: beta } as unknown as BetaClientEvent;
      }
      return { ...e, session: sessionGaToBeta(session) } as unknown as BetaClientEvent;
    }
    case 'conversation.item.create':
      return { ...e, item: itemGaToBeta(e.item, false) } as unknown as BetaClientEvent;
    case 'response.create':
      if (e.response === undefined) return event as BetaClientEvent;
      return { ...e, response: responseGaToBeta(e.response, false) } as unknown as BetaClientEvent;
    default:
      return event as BetaClientEvent;
  }
}

/** What a beta client sent, for Koe's engine. One event in, one out. */
export function clientEventBetaToGa(event: BetaClientEvent): RealtimeClientEvent {
  const e = event as unknown as Json;
  switch (event.type) {
    case 'session.update':
      return { ...e, session: sessionBetaToGa(e.session, 'realtime') } as unknown as RealtimeClientEvent;
    case 'transcription_session.update': {
      const session = isRecord(e.session) ? { ...e.session } : e.session;
      if (isRecord(session)) delete session.modalities;
      return { ...e, type: 'session.update', session: sessionBetaToGa(session, 'transcription') } as unknown as RealtimeClientEvent;
    }
    case 'conversation.item.create':
      return { ...e, item: itemBetaToGa(e.item, false) } as unknown as RealtimeClientEvent;
    case 'response.create':
      if (e.response === undefined) return event as RealtimeClientEvent;
      return { ...e, response: responseBetaToGa(e.response, false) } as unknown as RealtimeClientEvent;
    default:
      return event as RealtimeClientEvent;
  }
}

// ── server events ─────────────────────────────────────────────────────────────────────────────

/** What Koe's engine emits (GA), for a beta client: zero or one event. */
export function serverEventGaToBeta(event: RealtimeServerEvent): BetaServerEvent[] {
  const e = event as Json;
  const renamed = SERVER_RENAMES_GA_TO_BETA[event.type];
  if (renamed) return [{ ...e, type: renamed } as BetaServerEvent];
  switch (event.type) {
    case 'session.created':
    case 'session.updated': {
      const session = e.session;
      const transcription = isRecord(session) && session.type === 'transcription';
      const type = transcription ? event.type.replace('session.', 'transcription_session.') : event.type;
      return [{ ...e, type, session: sessionGaToBeta(session) } as BetaServerEvent];
    }
    case 'conversation.item.added':
    case 'conversation.item.created':
      return [{ ...e, type: 'conversation.item.created', item: itemGaToBeta(e.item, true) } as BetaServerEvent];
    case 'conversation.item.done':
      return [];
    case 'conversation.item.retrieved':
    case 'response.output_item.added':
    case 'response.output_item.done':
      return [{ ...e, item: itemGaToBeta(e.item, true) } as BetaServerEvent];
    case 'response.created':
    case 'response.done':
      return [{ ...e, response: responseGaToBeta(e.response, true) } as BetaServerEvent];
    default:
      return [event as BetaServerEvent];
  }
}

/** Memory a beta → GA translation needs across events of one connection (see the header). */
export interface BetaToGaState {
  /** Items created `in_progress`: id → `previous_item_id` of their `created` event. */
  readonly openItems: Map<string, string | null | undefined>;
  /** Function-call items announced in `response.output_item.added`: id → name. */
  readonly functionNames: Map<string, string>;
}

export function createBetaToGaState(): BetaToGaState {
  return { openItems: new Map(), functionNames: new Map() };
}

/** What a beta server sent, in GA: zero, one or two events. */
export function serverEventBetaToGa(event: BetaServerEvent, state?: BetaToGaState): RealtimeServerEvent[] {
  const e = event as Json;
  const renamed = SERVER_RENAMES_BETA_TO_GA[event.type];
  if (renamed) return [{ ...e, type: renamed } as RealtimeServerEvent];
  switch (event.type) {
    case 'session.created':
    case 'session.updated':
      return [{ ...e, session: sessionBetaToGa(e.session, 'realtime') } as RealtimeServerEvent];
    case 'transcription_session.created':
    case 'transcription_session.updated': {
      const session = isRecord(e.session) ? { ...e.session } : e.session;
      if (isRecord(session)) delete session.modalities;
      const type = event.type.replace('transcription_session.', 'session.');
      return [{ ...e, type, session: sessionBetaToGa(session, 'transcription') } as RealtimeServerEvent];
    }
    case 'conversation.item.created': {
      const item = itemBetaToGa(e.item, true);
      const added = { ...e, type: 'conversation.item.added', item } as RealtimeServerEvent;
      const status = isRecord(item) ? item.status : undefined;
      const id = isRecord(item) && typeof item.id === 'string' ? item.id : undefined;
      if (status === 'in_progress') {
        if (id !== undefined) state?.openItems.set(id, e.previous_item_id as string | null | undefined);
        return [added];
      }
      return [added, { ...e, event_id: `${String(e.event_id)}:done`, type: 'conversation.item.done', item } as RealtimeServerEvent];
    }
    case 'conversation.item.retrieved':
      return [{ ...e, item: itemBetaToGa(e.item, true) } as RealtimeServerEvent];
    case 'response.output_item.added': {
      const item = itemBetaToGa(e.item, true);
      if (state && isRecord(item) && item.type === 'function_call' && typeof item.id === 'string' && typeof item.name === 'string') {
        state.functionNames.set(item.id, item.name);
      }
      return [{ ...e, item } as RealtimeServerEvent];
    }
    case 'response.output_item.done': {
      const item = itemBetaToGa(e.item, true);
      const done = { ...e, item } as RealtimeServerEvent;
      const id = isRecord(item) && typeof item.id === 'string' ? item.id : undefined;
      if (!state || id === undefined) return [done];
      state.functionNames.delete(id);
      if (!state.openItems.has(id)) return [done];
      const previous = state.openItems.get(id);
      state.openItems.delete(id);
      const itemDone: Json = { type: 'conversation.item.done', event_id: `${String(e.event_id)}:done` };
      if (previous !== undefined) itemDone.previous_item_id = previous;
      itemDone.item = item;
      return [done, itemDone as RealtimeServerEvent];
    }
    case 'response.function_call_arguments.done': {
      if (typeof e.name === 'string') return [event as RealtimeServerEvent];
      const name = typeof e.item_id === 'string' ? state?.functionNames.get(e.item_id) : undefined;
      return [{ ...e, name: name ?? '' } as RealtimeServerEvent];
    }
    case 'response.created':
    case 'response.done':
      return [{ ...e, response: responseBetaToGa(e.response, true) } as RealtimeServerEvent];
    default:
      return [event as RealtimeServerEvent];
  }
}
