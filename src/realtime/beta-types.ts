// Shapes of the beta protocol (header `OpenAI-Beta: realtime=v1`) where they differ from GA
// (realtime.md §a.2, §a.3; realtime-fields.md "beta"). Events whose shape is unchanged reuse the
// GA types. Koe speaks GA inside; these types exist for the translation in beta.ts.

import type { BetaAudioFormat } from './audio-format.js';
import type { ItemStatus } from './items.js';
import type {
  ConversationItemDeleteEvent,
  ConversationItemRetrieveEvent,
  ConversationItemTruncateEvent,
  InputAudioBufferAppendEvent,
  InputAudioBufferClearEvent,
  InputAudioBufferCommitEvent,
  OutputAudioBufferClearEvent,
  ResponseCancelEvent,
} from './client-events.js';
import type { RateLimit, ResponseStatus, ResponseStatusDetails, ResponseUsage } from './response.js';
import type {
  ConversationCreatedEvent,
  ConversationItemDeletedEvent,
  ConversationItemTruncatedEvent,
  ErrorEvent,
  InputAudioBufferClearedEvent,
  InputAudioBufferCommittedEvent,
  InputAudioBufferSpeechStartedEvent,
  InputAudioBufferSpeechStoppedEvent,
  InputAudioBufferTimeoutTriggeredEvent,
  InputAudioTranscriptionCompletedEvent,
  InputAudioTranscriptionDeltaEvent,
  InputAudioTranscriptionFailedEvent,
  InputAudioTranscriptionSegmentEvent,
  ResponseContentPartAddedEvent,
  ResponseContentPartDoneEvent,
  ResponseFunctionCallArgumentsDeltaEvent,
  UnknownServerEvent,
} from './server-events.js';
import type { MaxOutputTokens, Modality, Truncation, PromptReference } from './session.js';

/** One flat object; every field optional, `type` defaults to `server_vad`. */
export interface BetaTurnDetection {
  type?: 'server_vad' | 'semantic_vad';
  threshold?: number;
  prefix_padding_ms?: number;
  silence_duration_ms?: number;
  create_response?: boolean;
  interrupt_response?: boolean;
  eagerness?: 'low' | 'medium' | 'high' | 'auto';
  idle_timeout_ms?: number | null;
}

export type BetaToolChoice = string | { type: 'function'; name: string };
export type BetaTracing = 'auto' | { workflow_name?: string; group_id?: string; metadata?: unknown };

export interface BetaTool {
  type?: 'function';
  name?: string;
  description?: string;
  parameters?: unknown;
}

export interface BetaSession {
  id?: string;
  object?: string;
  model?: string;
  expires_at?: number;
  /** `["audio","text"]` (speech with transcript) or `["text"]`. */
  modalities?: Modality[];
  instructions?: string;
  voice?: string;
  speed?: number;
  input_audio_format?: BetaAudioFormat;
  output_audio_format?: BetaAudioFormat;
  input_audio_transcription?: { model?: string; language?: string; prompt?: string } | null;
  input_audio_noise_reduction?: { type?: 'near_field' | 'far_field' } | null;
  turn_detection?: BetaTurnDetection | null;
  tools?: BetaTool[];
  tool_choice?: BetaToolChoice;
  temperature?: number;
  max_response_output_tokens?: MaxOutputTokens;
  tracing?: BetaTracing | null;
  truncation?: Truncation;
  prompt?: PromptReference | null;
  include?: string[] | null;
  client_secret?: unknown;
}

export interface BetaTranscriptionSession {
  input_audio_format?: BetaAudioFormat;
  input_audio_transcription?: { model?: string; language?: string; prompt?: string } | null;
  input_audio_noise_reduction?: { type?: 'near_field' | 'far_field' } | null;
  turn_detection?: BetaTurnDetection | null;
  include?: string[] | null;
  modalities?: Modality[];
  client_secret?: unknown;
}

export interface BetaContent {
  type?: 'input_text' | 'input_audio' | 'item_reference' | 'text' | 'audio';
  text?: string;
  audio?: string;
  transcript?: string | null;
  id?: string;
}

/** The beta item: one flat object, every field optional. */
export interface BetaItem {
  id?: string;
  object?: 'realtime.item';
  type?: 'message' | 'function_call' | 'function_call_output' | 'item_reference';
  status?: ItemStatus;
  role?: 'user' | 'assistant' | 'system';
  content?: BetaContent[];
  call_id?: string;
  name?: string;
  arguments?: string;
  output?: string;
}

export interface BetaResponse {
  id?: string;
  object?: 'realtime.response';
  status?: ResponseStatus;
  status_details?: ResponseStatusDetails | null;
  output?: BetaItem[];
  conversation_id?: string;
  modalities?: Modality[];
  voice?: string;
  output_audio_format?: BetaAudioFormat;
  temperature?: number;
  max_output_tokens?: MaxOutputTokens;
  usage?: ResponseUsage | null;
  metadata?: Record<string, unknown> | null;
}

export interface BetaResponseCreateParams {
  modalities?: Modality[];
  instructions?: string;
  voice?: string;
  output_audio_format?: BetaAudioFormat;
  tools?: BetaTool[];
  tool_choice?: BetaToolChoice;
  temperature?: number;
  max_response_output_tokens?: MaxOutputTokens;
  conversation?: string;
  metadata?: Record<string, unknown> | null;
  input?: BetaItem[];
}

// ── client events ────────────────────────────────────────────────────────────────────────────

export interface BetaSessionUpdateEvent {
  type: 'session.update';
  event_id?: string;
  session: BetaSession;
}
export interface BetaTranscriptionSessionUpdateEvent {
  type: 'transcription_session.update';
  event_id?: string;
  session: BetaTranscriptionSession;
}
export interface BetaConversationItemCreateEvent {
  type: 'conversation.item.create';
  event_id?: string;
  previous_item_id?: string;
  item: BetaItem;
}
export interface BetaResponseCreateEvent {
  type: 'response.create';
  event_id?: string;
  response?: BetaResponseCreateParams;
}

export type BetaClientEvent =
  | BetaSessionUpdateEvent
  | BetaTranscriptionSessionUpdateEvent
  | BetaConversationItemCreateEvent
  | BetaResponseCreateEvent
  | InputAudioBufferAppendEvent
  | InputAudioBufferCommitEvent
  | InputAudioBufferClearEvent
  | OutputAudioBufferClearEvent
  | ConversationItemRetrieveEvent
  | ConversationItemTruncateEvent
  | ConversationItemDeleteEvent
  | ResponseCancelEvent;

// ── server events ────────────────────────────────────────────────────────────────────────────

interface BetaServerEventCommon {
  event_id: string;
}
export interface BetaSessionCreatedEvent extends BetaServerEventCommon {
  type: 'session.created';
  session: BetaSession;
}
export interface BetaSessionUpdatedEvent extends BetaServerEventCommon {
  type: 'session.updated';
  session: BetaSession;
}
export interface BetaTranscriptionSessionCreatedEvent extends BetaServerEventCommon {
  type: 'transcription_session.created';
  session: BetaTranscriptionSession;
}
export interface BetaTranscriptionSessionUpdatedEvent extends BetaServerEventCommon {
  type: 'transcription_session.updated';
  session: BetaTranscriptionSession;
}
export interface BetaConversationItemCreatedEvent extends BetaServerEventCommon {
  type: 'conversation.item.created';
  previous_item_id?: string | null;
  item: BetaItem;
}
export interface BetaConversationItemRetrievedEvent extends BetaServerEventCommon {
  type: 'conversation.item.retrieved';
  item: BetaItem;
}
export interface BetaResponseCreatedEvent extends BetaServerEventCommon {
  type: 'response.created';
  response: BetaResponse;
}
export interface BetaResponseDoneEvent extends BetaServerEventCommon {
  type: 'response.done';
  response: BetaResponse;
}
export interface BetaResponseOutputItemAddedEvent extends BetaServerEventCommon {
  type: 'response.output_item.added';
  response_id: string;
  output_index: number;
  item: BetaItem;
}
export interface BetaResponseOutputItemDoneEvent extends BetaServerEventCommon {
  type: 'response.output_item.done';
  response_id: string;
  output_index: number;
  item: BetaItem;
}
interface BetaContentEventCommon extends BetaServerEventCommon {
  response_id: string;
  item_id: string;
  output_index: number;
  content_index: number;
}
export interface BetaResponseAudioDeltaEvent extends BetaContentEventCommon {
  type: 'response.audio.delta';
  delta: string;
}
export interface BetaResponseAudioDoneEvent extends BetaContentEventCommon {
  type: 'response.audio.done';
}
export interface BetaResponseAudioTranscriptDeltaEvent extends BetaContentEventCommon {
  type: 'response.audio_transcript.delta';
  delta: string;
}
export interface BetaResponseAudioTranscriptDoneEvent extends BetaContentEventCommon {
  type: 'response.audio_transcript.done';
  transcript: string;
}
export interface BetaResponseTextDeltaEvent extends BetaContentEventCommon {
  type: 'response.text.delta';
  delta: string;
}
export interface BetaResponseTextDoneEvent extends BetaContentEventCommon {
  type: 'response.text.done';
  text: string;
}
export interface BetaResponseFunctionCallArgumentsDoneEvent extends BetaServerEventCommon {
  type: 'response.function_call_arguments.done';
  response_id: string;
  item_id: string;
  output_index: number;
  call_id: string;
  /** Not in the beta types; Koe's engine sends it anyway (harmless extra field). */
  name?: string;
  arguments: string;
}
export interface BetaRateLimitsUpdatedEvent extends BetaServerEventCommon {
  type: 'rate_limits.updated';
  rate_limits: RateLimit[];
}

export type BetaServerEvent =
  | BetaSessionCreatedEvent
  | BetaSessionUpdatedEvent
  | BetaTranscriptionSessionCreatedEvent
  | BetaTranscriptionSessionUpdatedEvent
  | BetaConversationItemCreatedEvent
  | BetaConversationItemRetrievedEvent
  | BetaResponseCreatedEvent
  | BetaResponseDoneEvent
  | BetaResponseOutputItemAddedEvent
  | BetaResponseOutputItemDoneEvent
  | BetaResponseAudioDeltaEvent
  | BetaResponseAudioDoneEvent
  | BetaResponseAudioTranscriptDeltaEvent
  | BetaResponseAudioTranscriptDoneEvent
  | BetaResponseTextDeltaEvent
  | BetaResponseTextDoneEvent
  | BetaResponseFunctionCallArgumentsDoneEvent
  | BetaRateLimitsUpdatedEvent
  | ConversationCreatedEvent
  | ConversationItemTruncatedEvent
  | ConversationItemDeletedEvent
  | InputAudioBufferCommittedEvent
  | InputAudioBufferClearedEvent
  | InputAudioBufferSpeechStartedEvent
  | InputAudioBufferSpeechStoppedEvent
  | InputAudioBufferTimeoutTriggeredEvent
  | InputAudioTranscriptionDeltaEvent
  | InputAudioTranscriptionCompletedEvent
  | InputAudioTranscriptionFailedEvent
  | InputAudioTranscriptionSegmentEvent
  | ResponseContentPartAddedEvent
  | ResponseContentPartDoneEvent
  | ResponseFunctionCallArgumentsDeltaEvent
  | ErrorEvent
  | UnknownServerEvent;
