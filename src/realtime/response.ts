// The response object of `response.created` / `response.done`, its usage, and the parameters of
// `response.create` (realtime.md §b.4, §a.3).

import type { AudioFormat } from './audio-format.js';
import type { ItemReference, RealtimeItem } from './items.js';
import type {
  MaxOutputTokens,
  Modality,
  PromptReference,
  RealtimeTool,
  Reasoning,
  ToolChoice,
  Voice,
} from './session.js';

export type ResponseStatus = 'completed' | 'cancelled' | 'failed' | 'incomplete' | 'in_progress';
export type ResponseStatusReason = 'turn_detected' | 'client_cancelled' | 'max_output_tokens' | 'content_filter';

export interface ResponseStatusDetails {
  type?: Exclude<ResponseStatus, 'in_progress'>;
  reason?: ResponseStatusReason | (string & {});
  /** Set when `type` is `failed`, e.g. `{type:"insufficient_quota", code:"insufficient_quota"}`. */
  error?: { type?: string; code?: string };
}

export interface CachedTokensDetails {
  text_tokens?: number;
  image_tokens?: number;
  audio_tokens?: number;
}
export interface ResponseUsage {
  total_tokens?: number;
  input_tokens?: number;
  output_tokens?: number;
  input_token_details?: {
    cached_tokens?: number;
    text_tokens?: number;
    image_tokens?: number;
    audio_tokens?: number;
    cached_tokens_details?: CachedTokensDetails;
  };
  output_token_details?: {
    text_tokens?: number;
    audio_tokens?: number;
  };
}

export interface RealtimeResponse {
  object?: 'realtime.response';
  /**
   * `resp_…`. The spec marks every response field optional; Koe requires `id` and `status`,
   * which every observed frame carries and without which a response cannot be tracked.
   */
  id: string;
  status: ResponseStatus;
  /** `null` while in progress and on success (live service; the spec says object). */
  status_details?: ResponseStatusDetails | null;
  /** Final items, without audio bytes. */
  output?: RealtimeItem[];
  conversation_id?: string;
  output_modalities?: Modality[];
  max_output_tokens?: MaxOutputTokens;
  audio?: { output?: { format?: AudioFormat; voice?: string } };
  /** `null` until `response.done`. */
  usage?: ResponseUsage | null;
  metadata?: Record<string, unknown> | null;
}

/** `response.create.response`: every field overrides the session for this one response. */
export interface ResponseCreateParams {
  output_modalities?: Modality[];
  instructions?: string;
  audio?: { output?: { format?: AudioFormat; voice?: Voice } };
  tools?: RealtimeTool[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  reasoning?: Reasoning;
  max_output_tokens?: MaxOutputTokens;
  /** `"auto"` (default conversation), `"none"` (out of band), or a conversation id. */
  conversation?: 'auto' | 'none' | (string & {});
  metadata?: Record<string, unknown> | null;
  prompt?: PromptReference | null;
  /** Replaces the conversation as the model's context for this response. */
  input?: (RealtimeItem | ItemReference)[];
}

export interface RateLimit {
  name?: 'requests' | 'tokens' | (string & {});
  limit?: number;
  remaining?: number;
  reset_seconds?: number;
}
