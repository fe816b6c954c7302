// What Koe keeps of every call, as the store returns it and the dashboard API sends it.
// Plain JSON-safe shapes (ISO strings for timestamps) so the browser can import these types as they are.
import type { CallDirection, CallEndReason, TokenUsage } from '../call/call-events.js';
import type { AgentInput } from '../agents/agent.js';

/**
 * `dialing` (outbound, placed but no media stream yet), `active` until the media stream ends, `ended` after
 * (also for outbound calls that never connected: busy, no answer …), `abandoned` when its process died first.
 */
export type CallRecordStatus = 'dialing' | 'active' | 'ended' | 'abandoned';

export interface CallRecord {
  id: string;
  /** Null only for an outbound call Twilio did not accept. */
  callSid: string | null;
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
  /** Outbound: when Koe asked Twilio to place the call. */
  dialedAt: string | null;
  /** Outbound with answering-machine detection: human, machine_start, machine_end_beep, fax, unknown … */
  answeredBy: string | null;
  /** Why an outbound call was not placed or did not connect (Twilio error or SIP response). */
  error: string | null;
  /** Set for calls a campaign placed. */
  campaignId: string | null;
  contactId: number | null;
  /** 1 for the first call to the contact, 2 for the first retry … */
  attempt: number | null;
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

// --- outbound campaigns

export type CampaignStatus = 'draft' | 'running' | 'paused' | 'completed' | 'canceled';
/** pending → dialing (claimed by a process, lease held) → calling (Twilio has the call) → pending (retry) or done. */
export type ContactState = 'pending' | 'dialing' | 'calling' | 'done';
/**
 * answered: a person (or AMD off) talked with the agent; voicemail: an answering machine (message left or
 * hung up per the agent); busy / no-answer / failed: Twilio's verdict (failed also for numbers Twilio refused);
 * canceled: the campaign was canceled before the contact was called.
 */
export type ContactOutcome = 'answered' | 'voicemail' | 'busy' | 'no-answer' | 'failed' | 'canceled';
export type RetryableOutcome = 'busy' | 'no-answer' | 'failed' | 'voicemail';

export interface CallingWindow {
  /** Local time of day, `HH:MM`, in the contact's time zone; the window is [start, end). */
  start: string;
  /** `HH:MM`; `24:00` for midnight at the end of the day. */
  end: string;
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  days: number[];
}

export interface CampaignSettings {
  name: string;
  agentId: string;
  /** Caller ID (E.164): a Twilio number or verified caller ID. */
  from: string;
  callsPerSecond: number;
  maxConcurrent: number;
  window: CallingWindow;
  /** IANA zone for contacts whose row has none. */
  timezone: string;
  retry: { maxAttempts: number; delayMs: number; on: RetryableOutcome[] };
  machineDetection: boolean;
  ringTimeoutSec: number;
}

export interface ImportRejection {
  /** Line in the CSV file (1 = the header line). */
  line: number;
  value: string;
  reason: string;
}

export interface ImportReport {
  /** Data rows read (header excluded). */
  rows: number;
  imported: number;
  rejected: number;
  /** The first 1,000 rejections; `rejected` is the exact count. */
  rejections: ImportRejection[];
  /** Columns that became template variables. */
  variables: string[];
  phoneColumn: string;
  timezoneColumn: string | null;
}

export interface CampaignCounts {
  total: number;
  pending: number;
  /** Contacts being dialed or on a call now. */
  inFlight: number;
  done: number;
  /** Done contacts by outcome (every outcome present, 0 when none). */
  outcomes: Record<ContactOutcome, number>;
  /** Calls placed so far, retries included. */
  attempts: number;
}

export interface CampaignRecord extends CampaignSettings {
  id: string;
  status: CampaignStatus;
  /** Why Koe paused or stopped the campaign (e.g. Twilio refused the credentials); null otherwise. */
  statusReason: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  counts: CampaignCounts;
  importReport: ImportReport;
}

export interface ContactAttempt {
  callId: string;
  attempt: number;
  dialedAt: string | null;
  status: CallRecordStatus;
  twilioStatus: string | null;
  answeredBy: string | null;
  endReason: CallEndReason | null;
  durationMs: number | null;
  error: string | null;
}

export interface ContactRecord {
  id: number;
  line: number;
  phone: string;
  timezone: string | null;
  variables: Record<string, string>;
  state: ContactState;
  outcome: ContactOutcome | null;
  attempts: number;
  /** When a pending contact may be called (retries wait; null when due now). */
  nextAttemptAt: string | null;
  lastError: string | null;
  updatedAt: string;
  /** Every call placed to this contact, oldest first. */
  calls: ContactAttempt[];
}

export interface ContactListQuery {
  state?: ContactState;
  outcome?: ContactOutcome;
  /** Matches the phone number or any variable value. */
  q?: string;
  page?: number;
  pageSize?: number;
}
