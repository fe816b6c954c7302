// Server events of the GA protocol (realtime-fields.md, "ga server events"; sequences in realtime.md §b).
// `RealtimeServerEvent` admits events Koe does not know, so a newer service never breaks a call:
// narrow with `isKnownServerEvent` before switching on `type`.

import type { RealtimeItem } from './items.js';
import type { RateLimit, RealtimeResponse } from './response.js';
import type { ServerSession } from './session.js';

interface ServerEventCommon {
  /** `event_…`; unrelated to client event ids. */
  event_id: string;
}

export interface SessionCreatedEvent extends ServerEventCommon {
  type: 'session.created';
  session: ServerSession;
}
export interface SessionUpdatedEvent extends ServerEventCommon {
  type: 'session.updated';
  session: ServerSession;
}
export interface ConversationCreatedEvent extends ServerEventCommon {
  type: 'conversation.created';
  conversation: { id?: string; object?: string };
}

export interface InputAudioBufferCommittedEvent extends ServerEventCommon {
  type: 'input_audio_buffer.committed';
  previous_item_id?: string | null;
  item_id: string;
}
export interface InputAudioBufferClearedEvent extends ServerEventCommon {
  type: 'input_audio_buffer.cleared';
}
export interface InputAudioBufferSpeechStartedEvent extends ServerEventCommon {
  type: 'input_audio_buffer.speech_started';
  /** Since the start of all audio written this session; includes the prefix padding. */
  audio_start_ms: number;
  item_id: string;
}
export interface InputAudioBufferSpeechStoppedEvent extends ServerEventCommon {
  type: 'input_audio_buffer.speech_stopped';
  /** Includes the silence duration. */
  audio_end_ms: number;
  item_id: string;
}
export interface InputAudioBufferTimeoutTriggeredEvent extends ServerEventCommon {
  type: 'input_audio_buffer.timeout_triggered';
  audio_start_ms: number;
  audio_end_ms: number;
  item_id: string;
}
/** SIP only, and the one server event without an `event_id`. */
export interface InputAudioBufferDtmfEventReceivedEvent {
  type: 'input_audio_buffer.dtmf_event_received';
  event_id?: string;
  event: string;
  received_at: number;
}

interface ConversationItemEventCommon extends ServerEventCommon {
  /** `null` for the first item. */
  previous_item_id?: string | null;
  item: RealtimeItem;
}
export interface ConversationItemAddedEvent extends ConversationItemEventCommon {
  type: 'conversation.item.added';
}
export interface ConversationItemDoneEvent extends ConversationItemEventCommon {
  type: 'conversation.item.done';
}
/** In the GA union but not emitted by the live GA service (it sends added + done). */
export interface ConversationItemCreatedEvent extends ConversationItemEventCommon {
  type: 'conversation.item.created';
}
export interface ConversationItemRetrievedEvent extends ServerEventCommon {
  type: 'conversation.item.retrieved';
  item: RealtimeItem;
}
export interface ConversationItemTruncatedEvent extends ServerEventCommon {
  type: 'conversation.item.truncated';
  item_id: string;
  content_index: number;
  audio_end_ms: number;
}
export interface ConversationItemDeletedEvent extends ServerEventCommon {
  type: 'conversation.item.deleted';
  item_id: string;
}

export interface TranscriptionLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}
export type TranscriptionUsage =
  | {
      type: 'tokens';
      input_tokens: number;
      output_tokens: number;
      total_tokens: number;
      input_token_details?: { text_tokens?: number; audio_tokens?: number };
    }
  | { type: 'duration'; seconds: number };

export interface InputAudioTranscriptionDeltaEvent extends ServerEventCommon {
  type: 'conversation.item.input_audio_transcription.delta';
  item_id: string;
  content_index?: number;
  delta?: string;
  logprobs?: TranscriptionLogprob[] | null;
}
export interface InputAudioTranscriptionCompletedEvent extends ServerEventCommon {
  type: 'conversation.item.input_audio_transcription.completed';
  item_id: string;
  content_index: number;
  transcript: string;
  languages?: { code: string }[];
  logprobs?: TranscriptionLogprob[] | null;
  usage: TranscriptionUsage;
}
export interface InputAudioTranscriptionFailedEvent extends ServerEventCommon {
  type: 'conversation.item.input_audio_transcription.failed';
  item_id: string;
  content_index: number;
  error: { type?: string; code?: string | null; message?: string; param?: string | null };
}
export interface InputAudioTranscriptionSegmentEvent extends ServerEventCommon {
  type: 'conversation.item.input_audio_transcription.segment';
  item_id: string;
  content_index: number;
  text: string;
  id: string;
  speaker: string;
  start: number;
  end: number;
}

export interface ResponseCreatedEvent extends ServerEventCommon {
  type: 'response.created';
  response: RealtimeResponse;
}
export interface ResponseDoneEvent extends ServerEventCommon {
  type: 'response.done';
  response: RealtimeResponse;
}

export interface ResponseOutputItemAddedEvent extends ServerEventCommon {
  type: 'response.output_item.added';
  response_id: string;
  output_index: number;
  item: RealtimeItem;
}
export interface ResponseOutputItemDoneEvent extends ServerEventCommon {
  type: 'response.output_item.done';
  response_id: string;
  output_index: number;
  item: RealtimeItem;
}

/** Content-part payload of `response.content_part.*`: `audio` | `text`, not the item's `output_*` names. */
export interface ContentPart {
  type?: 'audio' | 'text';
  text?: string;
  audio?: string;
  transcript?: string;
}

interface ContentEventCommon extends ServerEventCommon {
  response_id: string;
  item_id: string;
  output_index: number;
  content_index: number;
}
export interface ResponseContentPartAddedEvent extends ContentEventCommon {
  type: 'response.content_part.added';
  part: ContentPart;
}
export interface ResponseContentPartDoneEvent extends ContentEventCommon {
  type: 'response.content_part.done';
  part: ContentPart;
}
export interface ResponseOutputAudioDeltaEvent extends ContentEventCommon {
  type: 'response.output_audio.delta';
  /** Base64 audio in the response's output format. */
  delta: string;
}
export interface ResponseOutputAudioDoneEvent extends ContentEventCommon {
  type: 'response.output_audio.done';
}
export interface ResponseOutputAudioTranscriptDeltaEvent extends ContentEventCommon {
  type: 'response.output_audio_transcript.delta';
  delta: string;
  obfuscation?: string;
}
export interface ResponseOutputAudioTranscriptDoneEvent extends ContentEventCommon {
  type: 'response.output_audio_transcript.done';
  transcript: string;
}
export interface ResponseOutputTextDeltaEvent extends ContentEventCommon {
  type: 'response.output_text.delta';
  delta: string;
}
export interface ResponseOutputTextDoneEvent extends ContentEventCommon {
  type: 'response.output_text.done';
  text: string;
}

interface FunctionCallArgumentsCommon extends ServerEventCommon {
  response_id: string;
  item_id: string;
  output_index: number;
  call_id: string;
}
export interface ResponseFunctionCallArgumentsDeltaEvent extends FunctionCallArgumentsCommon {
  type: 'response.function_call_arguments.delta';
  delta: string;
}
export interface ResponseFunctionCallArgumentsDoneEvent extends FunctionCallArgumentsCommon {
  type: 'response.function_call_arguments.done';
  /** Not in the beta event; filled from the item when translating (see beta.ts). */
  name: string;
  arguments: string;
}

interface McpItemEventCommon extends ServerEventCommon {
  item_id: string;
}
export interface McpListToolsInProgressEvent extends McpItemEventCommon {
  type: 'mcp_list_tools.in_progress';
}
export interface McpListToolsCompletedEvent extends McpItemEventCommon {
  type: 'mcp_list_tools.completed';
}
export interface McpListToolsFailedEvent extends McpItemEventCommon {
  type: 'mcp_list_tools.failed';
}
export interface ResponseMcpCallInProgressEvent extends McpItemEventCommon {
  type: 'response.mcp_call.in_progress';
  output_index: number;
}
export interface ResponseMcpCallCompletedEvent extends McpItemEventCommon {
  type: 'response.mcp_call.completed';
  output_index: number;
}
export interface ResponseMcpCallFailedEvent extends McpItemEventCommon {
  type: 'response.mcp_call.failed';
  output_index: number;
}
export interface ResponseMcpCallArgumentsDeltaEvent extends McpItemEventCommon {
  type: 'response.mcp_call_arguments.delta';
  response_id: string;
  output_index: number;
  delta: string;
  obfuscation?: string | null;
}
export interface ResponseMcpCallArgumentsDoneEvent extends McpItemEventCommon {
  type: 'response.mcp_call_arguments.done';
  response_id: string;
  output_index: number;
  arguments: string;
}

/** WebRTC/SIP only. */
export interface OutputAudioBufferStartedEvent extends ServerEventCommon {
  type: 'output_audio_buffer.started';
  response_id: string;
}
export interface OutputAudioBufferStoppedEvent extends ServerEventCommon {
  type: 'output_audio_buffer.stopped';
  response_id: string;
}
export interface OutputAudioBufferClearedEvent extends ServerEventCommon {
  type: 'output_audio_buffer.cleared';
  response_id: string;
}

export interface RateLimitsUpdatedEvent extends ServerEventCommon {
  type: 'rate_limits.updated';
  rate_limits: RateLimit[];
}

export interface RealtimeErrorDetail {
  /** `invalid_request_error` or `server_error`. */
  type: string;
  code?: string | null;
  message: string;
  param?: string | null;
  /** The client event that caused it. */
  event_id?: string | null;
}
export interface ErrorEvent extends ServerEventCommon {
  type: 'error';
  error: RealtimeErrorDetail;
}

export type KnownServerEvent =
  | SessionCreatedEvent
  | SessionUpdatedEvent
  | ConversationCreatedEvent
  | InputAudioBufferCommittedEvent
  | InputAudioBufferClearedEvent
  | InputAudioBufferSpeechStartedEvent
  | InputAudioBufferSpeechStoppedEvent
  | InputAudioBufferTimeoutTriggeredEvent
  | InputAudioBufferDtmfEventReceivedEvent
  | ConversationItemAddedEvent
  | ConversationItemDoneEvent
  | ConversationItemCreatedEvent
  | ConversationItemRetrievedEvent
  | ConversationItemTruncatedEvent
  | ConversationItemDeletedEvent
  | InputAudioTranscriptionDeltaEvent
  | InputAudioTranscriptionCompletedEvent
  | InputAudioTranscriptionFailedEvent
  | InputAudioTranscriptionSegmentEvent
  | ResponseCreatedEvent
  | ResponseDoneEvent
  | ResponseOutputItemAddedEvent
  | ResponseOutputItemDoneEvent
  | ResponseContentPartAddedEvent
  | ResponseContentPartDoneEvent
  | ResponseOutputAudioDeltaEvent
  | ResponseOutputAudioDoneEvent
  | ResponseOutputAudioTranscriptDeltaEvent
  | ResponseOutputAudioTranscriptDoneEvent
  | ResponseOutputTextDeltaEvent
  | ResponseOutputTextDoneEvent
  | ResponseFunctionCallArgumentsDeltaEvent
  | ResponseFunctionCallArgumentsDoneEvent
  | McpListToolsInProgressEvent
  | McpListToolsCompletedEvent
  | McpListToolsFailedEvent
  | ResponseMcpCallInProgressEvent
  | ResponseMcpCallCompletedEvent
  | ResponseMcpCallFailedEvent
  | ResponseMcpCallArgumentsDeltaEvent
  | ResponseMcpCallArgumentsDoneEvent
  | OutputAudioBufferStartedEvent
  | OutputAudioBufferStoppedEvent
  | OutputAudioBufferClearedEvent
  | RateLimitsUpdatedEvent
  | ErrorEvent;

export type KnownServerEventType = KnownServerEvent['type'];

/** A well-formed event whose `type` Koe does not know; kept, never dropped. */
export interface UnknownServerEvent {
  type: string;
  event_id?: string;
  [key: string]: unknown;
}

export type RealtimeServerEvent = KnownServerEvent | UnknownServerEvent;

export type ServerEventOfType<T extends KnownServerEventType> = Extract<KnownServerEvent, { type: T }>;

const KNOWN_TYPES_RECORD: Record<KnownServerEventType, true> = {
  'session.created': true,
  'session.updated': true,
  'conversation.created': true,
  'input_audio_buffer.committed': true,
  'input_audio_buffer.cleared': true,
  'input_audio_buffer.speech_started': true,
  'input_audio_buffer.speech_stopped': true,
  'input_audio_buffer.timeout_triggered': true,
  'input_audio_buffer.dtmf_event_received': true,
  'conversation.item.added': true,
  'conversation.item.done': true,
  'conversation.item.created': true,
  'conversation.item.retrieved': true,
  'conversation.item.truncated': true,
  'conversation.item.deleted': true,
  'conversation.item.input_audio_transcription.delta': true,
  'conversation.item.input_audio_transcription.completed': true,
  'conversation.item.input_audio_transcription.failed': true,
  'conversation.item.input_audio_transcription.segment': true,
  'response.created': true,
  'response.done': true,
  'response.output_item.added': true,
  'response.output_item.done': true,
  'response.content_part.added': true,
  'response.content_part.done': true,
  'response.output_audio.delta': true,
  'response.output_audio.done': true,
  'response.output_audio_transcript.delta': true,
  'response.output_audio_transcript.done': true,
  'response.output_text.delta': true,
  'response.output_text.done': true,
  'response.function_call_arguments.delta': true,
  'response.function_call_arguments.done': true,
  'mcp_list_tools.in_progress': true,
  'mcp_list_tools.completed': true,
  'mcp_list_tools.failed': true,
  'response.mcp_call.in_progress': true,
  'response.mcp_call.completed': true,
  'response.mcp_call.failed': true,
  'response.mcp_call_arguments.delta': true,
  'response.mcp_call_arguments.done': true,
  'output_audio_buffer.started': true,
  'output_audio_buffer.stopped': true,
  'output_audio_buffer.cleared': true,
  'rate_limits.updated': true,
  error: true,
};

export const KNOWN_SERVER_EVENT_TYPES: ReadonlySet<string> = new Set(Object.keys(KNOWN_TYPES_RECORD));

export function isKnownServerEventType(type: string): type is KnownServerEventType {
  return KNOWN_SERVER_EVENT_TYPES.has(type);
}

/**
 * True when the event's `type` is one Koe knows. Meant for events that came out of
 * `parseServerEvent` (or a `RealtimeConnection`), whose known types have been validated.
 */
export function isKnownServerEvent(event: RealtimeServerEvent): event is KnownServerEvent {
  return KNOWN_SERVER_EVENT_TYPES.has(event.type);
}
