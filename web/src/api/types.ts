// The one place the dashboard reaches into the server's source: types only, erased at build time.
export type {
  AgentDetailResponse,
  AgentInput,
  AgentList,
  AgentRecord,
  AgentState,
  AgentVersionSummary,
  ApiError,
  CallDetail,
  CallEvent,
  CallList,
  CallRecord,
  LiveCallSnapshot,
  LiveMessage,
  LoginRequest,
  PreviewAgentRequest,
  PreviewAgentResponse,
  SaveAgentRequest,
  ServerInfo,
  SessionStatus,
  SoftphoneCallRequest,
  SoftphoneCallResponse,
} from '../../../src/server/api/api-types.js';
export type { CallEndReason, CallInfo, TokenUsage } from '../../../src/call/call-events.js';
export type { CallEventRecord, CallListQuery, CallRecordStatus, ToolCallRecord, TurnRecord } from '../../../src/store/records.js';
