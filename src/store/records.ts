// What Koe keeps of every call, as the store returns it and the dashboard API sends it.
// Plain JSON-safe shapes (ISO strings for timestamps) so the browser can import these types as they are.
import type { CallDirection, CallEndReason, TokenUsage } from '../call/call-events.js';
import type { AgentInput } from '../agents/agent.js';

/** `active` until the media stream ends; `ended` after; `abandoned` when its process died before the end. */
export type CallRecordStatus = 'active' | 'ended' | 'abandoned';

export interface CallRecord {
  id: string;
  callSid: string;
  streamSid: string | null;
  direction: CallDirection;
  from: string | null;
  to: string | null;
  agentId: string;
  /** The agent version the call used; null for agents that were not stored (tests, inline agents). */
  agentVersion: number | null;
  /** `engine` (Koe's built-in engine), `openai`, or the host of another Realtime endpoint. */
  backend: string;
  model: string;
  apiShape: 'ga' | 'beta';
  status: CallRecordStatus;
  endReason: CallEndReason | null;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  usage: TokenUsage | null;
  /** Estimated from token usage and the model's list price; 0 for the built-in engine; null when unknown. */
  costUsd: number | null;
  /** Whether a recording file exists (served by GET /api/calls/:id/recording). */
  hasRecording: boolean;
  variables: Record<string, string>;
  /** Last Twilio call status from status callbacks (queued, ringing, in-progress, completed, busy, …). */
  twilioStatus: string | null;
  /** Which Koe process handled the call. */
  processId: string;
  turnCount: number;
}

export interface TurnRecord {
  callId: string;
  /** Order within the call, from 1. */
  seq: number;
  role: 'user' | 'assistant';
  itemId: string;
  /** What was said (user) or generated (assistant); null when speech could not be transcribed. */
  text: string | null;
  /** What the caller heard (assistant turns): text unless interrupted. Null for user turns. */
  heardText: string | null;
  interrupted: boolean;
  source: 'speech' | 'dtmf' | 'greeting' | 'reply';
  startedAtMs: number;
  endedAtMs: number;
  /** Caller speech end → first agent audio (assistant turns answering speech). */
  latencyMs: number | null;
  audioMs: number | null;
  heardMs: number | null;
}

export interface ToolCallRecord {
  callId: string;
  toolCallId: string;
  name: string;
  arguments: unknown;
  ok: boolean | null;
  output: string | null;
  durationMs: number | null;
  /** Offset of the call, ms since its media stream started. */
  calledAtMs: number;
}

export interface CallEventRecord {
  callId: string;
  seq: number;
  type: string;
  atMs: number;
  at: string;
  /** The event's fields other than type/callId/callSid/atMs/at. */
  data: Record<string, unknown>;
}

export interface CallDetail {
  call: CallRecord;
  turns: TurnRecord[];
  toolCalls: ToolCallRecord[];
  events: CallEventRecord[];
}

export interface CallListQuery {
  /** Free text: matches numbers, call SID, agent id and transcript text. */
  q?: string;
  agentId?: string;
  direction?: CallDirection;
  status?: CallRecordStatus;
  endReason?: CallEndReason;
  /** ISO timestamps bounding startedAt. */
  since?: string;
  until?: string;
  /** 1-based page; pageSize ≤ 100. */
  page?: number;
  pageSize?: number;
}

export interface Page<T> {
  items: T[];
  page: number;
  pageSize: number;
  total: number;
}

export interface AgentRecord {
  id: string;
  version: number;
  /** The definition as entered (defaults not filled in), valid under agentSchema. */
  definition: AgentInput;
  createdAt: string;
  updatedAt: string;
  /** Where this version came from. */
  source: 'agents.yaml' | 'dashboard' | 'api';
}

export interface AgentVersionSummary {
  version: number;
  createdAt: string;
  source: AgentRecord['source'];
}
