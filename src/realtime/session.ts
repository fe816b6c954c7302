// The GA session (realtime.md §a.3, §b.1, §b.2) and the pieces a `response.create` shares with it.
// `SessionConfig` is what a client sends in `session.update` (only the fields to change);
// `RealtimeSession` is what the server reports in `session.created` / `session.updated`.

import type { AudioFormat } from './audio-format.js';

export type Modality = 'text' | 'audio';
/** An integer, or `"inf"` for the model's maximum. */
export type MaxOutputTokens = number | 'inf';
/** A built-in voice name (`alloy`, `marin`, …) or, in requests only, a custom voice id. */
export type Voice = string | { id: string };

export interface ServerVadTurnDetection {
  type: 'server_vad';
  /** 0..1; higher needs louder audio. */
  threshold?: number;
  prefix_padding_ms?: number;
  silence_duration_ms?: number;
  create_response?: boolean;
  interrupt_response?: boolean;
  /** 5000–30000, or null for none. */
  idle_timeout_ms?: number | null;
}
export type SemanticVadEagerness = 'low' | 'medium' | 'high' | 'auto';
export interface SemanticVadTurnDetection {
  type: 'semantic_vad';
  eagerness?: SemanticVadEagerness;
  create_response?: boolean;
  interrupt_response?: boolean;
}
/** `null` in a session means manual turns: the client commits and asks for responses. */
export type TurnDetection = ServerVadTurnDetection | SemanticVadTurnDetection;

export type TranscriptionDelay = 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';
export interface InputAudioTranscription {
  model?: string;
  language?: string;
  languages?: string[];
  keywords?: string[];
  prompt?: string;
  delay?: TranscriptionDelay;
}
export interface NoiseReduction {
  type?: 'near_field' | 'far_field';
}

export interface SessionAudioInput {
  format?: AudioFormat;
  transcription?: InputAudioTranscription | null;
  noise_reduction?: NoiseReduction | null;
  turn_detection?: TurnDetection | null;
}
export interface SessionAudioOutput {
  format?: AudioFormat;
  voice?: Voice;
  /** 0.25–1.5. */
  speed?: number;
}

export interface FunctionTool {
  /** Optional in requests: a tool without `type` is a function. */
  type?: 'function';
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters?: Record<string, unknown>;
}
export interface McpToolFilter {
  tool_names?: string[];
  read_only?: boolean;
}
export interface McpTool {
  type: 'mcp';
  server_label: string;
  server_url?: string;
  connector_id?: string;
  tunnel_id?: string;
  authorization?: string;
  server_description?: string;
  headers?: Record<string, string> | null;
  allowed_tools?: string[] | McpToolFilter | null;
  allowed_callers?: ('direct' | 'programmatic')[] | null;
  require_approval?: 'always' | 'never' | { always?: McpToolFilter; never?: McpToolFilter } | null;
  defer_loading?: boolean;
}
export type RealtimeTool = FunctionTool | McpTool;

export type ToolChoice =
  | 'none'
  | 'auto'
  | 'required'
  | { type: 'function'; name: string }
  | { type: 'mcp'; server_label: string; name?: string | null };

export type ReasoningEffort = 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';
export interface Reasoning {
  effort?: ReasoningEffort;
}

export type Tracing = 'auto' | { workflow_name?: string; group_id?: string; metadata?: Record<string, unknown> };
export type Truncation =
  | 'auto'
  | 'disabled'
  | { type: 'retention_ratio'; retention_ratio: number; token_limits?: { post_instructions?: number } };
export interface PromptReference {
  id: string;
  version?: string | null;
  variables?: Record<string, unknown> | null;
}

export type SessionInclude = 'item.input_audio_transcription.logprobs';

/** `session.update` for a speech-to-speech session. `type` is required by the GA service. */
export interface RealtimeSessionConfig {
  type: 'realtime';
  model?: string;
  output_modalities?: Modality[];
  instructions?: string;
  audio?: { input?: SessionAudioInput; output?: SessionAudioOutput };
  include?: SessionInclude[] | null;
  tracing?: Tracing | null;
  tools?: RealtimeTool[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  reasoning?: Reasoning;
  max_output_tokens?: MaxOutputTokens;
  truncation?: Truncation;
  prompt?: PromptReference | null;
}

/** `session.update` for a transcription-only session (beta: `transcription_session.update`). */
export interface TranscriptionSessionConfig {
  type: 'transcription';
  audio?: { input?: SessionAudioInput };
  include?: SessionInclude[] | null;
}

export type SessionConfig = RealtimeSessionConfig | TranscriptionSessionConfig;

interface SessionIdentity {
  /** `sess_…`. Required by the spec; PY's model and beta transcription sessions leave it out. */
  id?: string;
  object?: 'realtime.session' | (string & {});
  /** Unix seconds. */
  expires_at?: number;
}

/** The full effective session the server reports. */
export type RealtimeSession = RealtimeSessionConfig & SessionIdentity;
export type TranscriptionSession = TranscriptionSessionConfig & SessionIdentity;
export type ServerSession = RealtimeSession | TranscriptionSession;
