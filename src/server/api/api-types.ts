// The dashboard API's request and response bodies (JSON over /api/*, messages over WS /api/live and the
// softphone stream). Types only: the browser app imports them with `import type` so both sides agree.
import type { AgentState, CallEvent } from '../../call/call-events.js';
import type { AgentInput } from '../../agents/agent.js';
import type {
  AgentRecord,
  AgentVersionSummary,
  CallDetail,
  CallingWindow,
  CallRecord,
  CampaignCounts,
  CampaignRecord,
  CampaignSettings,
  CampaignStatus,
  ContactAttempt,
  ContactOutcome,
  ContactRecord,
  ContactState,
  ImportRejection,
  ImportReport,
  Page,
  RetryableOutcome,
  ToolCallRecord,
  TurnRecord,
} from '../../store/records.js';

export type { AgentRecord, AgentVersionSummary, CallDetail, CallRecord, Page, CallEvent, AgentState, AgentInput };
export type {
  CallingWindow,
  CampaignCounts,
  CampaignRecord,
  CampaignSettings,
  CampaignStatus,
  ContactAttempt,
  ContactOutcome,
  ContactRecord,
  ContactState,
  ImportRejection,
  ImportReport,
  RetryableOutcome,
  ToolCallRecord,
  TurnRecord,
};

/** Every error response: 400 (problems name the fields), 401, 403, 404, 409, 429, 500, 503. */
export interface ApiError {
  error: { code: string; message: string; problems?: string[] };
}

// Every POST, PUT and DELETE must send `Content-Type: application/json` (415 otherwise; the body may be
// empty where none is needed). The whole API is described at GET /api/openapi.json (OpenAPI 3.1).

// --- auth: the only /api routes open without a session are POST /api/auth/login and GET /api/auth/session.
// POST /api/auth/logout (no body) → 204 and the cookie cleared. Login: 401 on a wrong password, 429 with
// Retry-After after 5 failures from one IP in 15 minutes.
export interface LoginRequest {
  password: string;
}
/** GET /api/auth/session */
export interface SessionStatus {
  authenticated: boolean;
}

// --- GET /api/info (authenticated): what the dashboard needs to render forms. No secrets.
export interface ServerInfo {
  version: string;
  processId: string;
  database: 'pglite' | 'postgres';
  /** The backend calls use by default: `engine` or `openai` or another Realtime host. */
  backend: string;
  model: string;
  /** Voices the configured backend accepts. */
  voices: string[];
  recordingEnabled: boolean;
  /** Variables every call has (callerNumber, date, time, …) with example values for the template preview. */
  builtinVariables: Record<string, string>;
}

// --- calls
/** GET /api/calls?q=&agentId=&direction=&status=&endReason=&since=&until=&page=&pageSize= */
export type CallList = Page<CallRecord>;
/** GET /api/calls/:id → CallDetail; GET /api/calls/:id/recording → audio/wav (404 when none). */
export type CallDetailResponse = CallDetail;

/**
 * POST /api/calls: places an outbound call through Twilio. 201 with the call record (status `dialing`);
 * 400 with problems for a bad number or missing template variables; 503 `twilio_not_configured` without
 * TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN / PUBLIC_URL; 502 `twilio_error` (message and code from Twilio).
 */
export interface PlaceCallRequest {
  /** E.164, or a national number read with `defaultCountry`. */
  to: string;
  /** Caller ID; default: the agent's first phone number, else TWILIO_CALLER_ID. */
  from?: string;
  agentId: string;
  variables?: Record<string, string>;
  /** Default: the agent's answeringMachine.detect. */
  machineDetection?: boolean;
  /** ISO 3166 country (JP, US …) for numbers written without +; default KOE_DEFAULT_COUNTRY. */
  defaultCountry?: string;
  /** Record this call (both sides, as heard) even when KOE_RECORD_CALLS is off. */
  record?: boolean;
}
export interface PlaceCallResponse {
  call: CallRecord;
}

// --- campaigns
/** GET /api/campaigns (newest first). */
export interface CampaignList {
  campaigns: CampaignRecord[];
}
/**
 * POST /api/campaigns → 201 CampaignRecord (status `draft`, importReport lists refused rows with their line
 * numbers). 400 when the CSV has no phone column, a column is not a usable variable name, no row is valid,
 * or a setting is out of range. Body up to 64 MiB.
 */
export interface CreateCampaignRequest {
  name: string;
  agentId: string;
  /** Default: the agent's first phone number, else TWILIO_CALLER_ID. */
  from?: string;
  /** The CSV text: a header line, one contact per line. */
  csv: string;
  /** Header of the phone column; default the first of phone, phone_number, number, tel, to (any case). */
  phoneColumn?: string;
  /** ISO 3166 country for numbers written without +; default KOE_DEFAULT_COUNTRY. */
  defaultCountry?: string;
  /** Default 1 (Twilio's default account CPS). */
  callsPerSecond?: number;
  /** Default 10. */
  maxConcurrent?: number;
  /** Default every day, 09:00–20:00. */
  window?: Partial<CallingWindow>;
  /** Default: the agent's timezone. */
  timezone?: string;
  /** Default 3 attempts, 10 minutes apart, on busy and no-answer. */
  retry?: Partial<CampaignSettings['retry']>;
  /** Default: the agent's answeringMachine.detect. */
  machineDetection?: boolean;
  /** Default 30. */
  ringTimeoutSec?: number;
  /** Start dialing at once instead of leaving the campaign as a draft. */
  start?: boolean;
}
/** GET /api/campaigns/:id → CampaignRecord. POST /api/campaigns/:id/{start,pause,resume,cancel} → CampaignRecord; 409 when the status does not allow it. */
export type CampaignResponse = CampaignRecord;
/** GET /api/campaigns/:id/contacts?state=&outcome=&q=&page=&pageSize= */
export type ContactList = Page<ContactRecord>;
/**
 * GET /api/campaigns/:id/export.csv → text/csv, one row per contact: line, phone, state, outcome, attempts,
 * last_call_id, last_twilio_status, answered_by, last_error, then the contact's variables.
 */

// --- agents
/** GET /api/agents */
export interface AgentList {
  agents: AgentRecord[];
  defaultAgentId: string;
}
/**
 * GET /api/agents/:id (GET /api/agents/:id/versions/:version → one AgentRecord; DELETE /api/agents/:id → 204,
 * 409 for the default agent). HTTP tool header values are write-only: every AgentRecord shows them as
 * '••••••••', and saving that value back keeps the stored one.
 */
export interface AgentDetailResponse {
  agent: AgentRecord;
  versions: AgentVersionSummary[];
}
/** POST /api/agents (create; 409 if the id exists) and PUT /api/agents/:id (new version; 409 on a stale expectedVersion). */
export interface SaveAgentRequest {
  definition: AgentInput;
  expectedVersion?: number;
}
/** POST /api/agents/preview: fills an agent's templates with built-in and given sample values. */
export interface PreviewAgentRequest {
  definition: AgentInput;
  variables?: Record<string, string>;
}
export interface PreviewAgentResponse {
  instructions: string | null;
  greeting: string | null;
  /** Variables the templates use that have no value (the call would be refused). */
  missing: string[];
  variables: Record<string, string>;
}

// --- softphone: POST /api/softphone/calls, then WS /api/softphone/stream speaking Twilio's Media Streams protocol.
export interface SoftphoneCallRequest {
  agentId: string;
  variables?: Record<string, string>;
}
export interface SoftphoneCallResponse {
  callSid: string;
  /** Path of the WebSocket (same origin). */
  streamPath: string;
  /** Send these as `start.customParameters` (they include the signed stream token). */
  parameters: Record<string, string>;
}

// --- WS /api/live: server → browser messages.
export interface LiveCallSnapshot {
  processId: string;
  /** The call's events so far (transcript.partial coalesced to the latest per item), oldest first. */
  events: CallEvent[];
}
export type LiveMessage =
  | { type: 'snapshot'; calls: LiveCallSnapshot[] }
  | { type: 'event'; processId: string; event: CallEvent };
