// The dashboard API's request and response bodies (JSON over /api/*, messages over WS /api/live and the
// softphone stream). Types only: the browser app imports them with `import type` so both sides agree.
import type { AgentState, CallEvent } from '../../call/call-events.js';
import type { AgentInput } from '../../agents/agent.js';
import type { AgentRecord, AgentVersionSummary, CallDetail, CallRecord, Page } from '../../store/records.js';

export type { AgentRecord, AgentVersionSummary, CallDetail, CallRecord, Page, CallEvent, AgentState, AgentInput };

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
