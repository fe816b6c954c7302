// zod schemas of every /api request and response: requests are validated with them, and the OpenAPI
// document is generated from them. The checks at the bottom fail the type check if a schema and its type
// in api-types.ts (the contract the dashboard is built against) drift apart.
import { z } from 'zod';
import { agentSchema } from '../../agents/index.js';
import type {
  AgentDetailResponse,
  AgentList,
  AgentRecord,
  AgentVersionSummary,
  ApiError,
  CallDetail,
  CallEvent,
  CallList,
  CallRecord,
  CampaignList,
  CampaignRecord,
  ContactList,
  CreateCampaignRequest,
  LiveMessage,
  PlaceCallRequest,
  PlaceCallResponse,
  LoginRequest,
  PreviewAgentRequest,
  PreviewAgentResponse,
  SaveAgentRequest,
  ServerInfo,
  SessionStatus,
  SoftphoneCallRequest,
  SoftphoneCallResponse,
} from './api-types.js';

/** Components of the OpenAPI document, by name. */
export const apiComponents = z.registry<{ id: string }>();

function component<T extends z.ZodType>(id: string, schema: T, description?: string): T {
  // `.meta` (a described copy) is where z.toJSONSchema reads descriptions from.
  const described = description ? (schema.meta({ description }) as T) : schema;
  apiComponents.add(described, { id });
  return described;
}

// ── shared pieces ───────────────────────────────────────────────────────────────────────────────

const isoTimestamp = z.iso.datetime({ offset: true });
const callDirection = z.enum(['inbound', 'outbound']);
const callRecordStatus = z.enum(['dialing', 'active', 'ended', 'abandoned']);
const callEndReason = z.enum([
  'caller_hung_up',
  'stream_closed',
  'agent_hung_up',
  'transferred',
  'model_failed',
  'setup_failed',
  'max_duration',
  'replaced',
  'server_shutdown',
  'busy',
  'no_answer',
  'dial_failed',
  'canceled',
  'answering_machine',
  'voicemail_left',
]);
const agentState = z.enum(['connecting', 'listening', 'thinking', 'speaking', 'ending', 'ended']);
const agentSource = z.enum(['agents.yaml', 'dashboard', 'api']);
/** Names a template placeholder accepts (template.ts). */
const variableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/, 'variable names start with a letter or _ (max 64)');
const variableMap = z
  .record(variableName, z.string().max(2_000))
  .refine((vars) => Object.keys(vars).length <= 50, 'at most 50 variables');

export const tokenUsageSchema = component(
  'TokenUsage',
  z.object({
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    inputAudioTokens: z.number().int(),
    outputAudioTokens: z.number().int(),
    inputTextTokens: z.number().int(),
    outputTextTokens: z.number().int(),
    cachedTokens: z.number().int(),
  }),
);

export const apiErrorSchema = component(
  'ApiError',
  z.object({
    error: z.object({
      code: z.string().meta({ description: 'Stable machine-readable code, e.g. unauthorized, validation_failed, not_found.' }),
      message: z.string(),
      problems: z.array(z.string()).optional().meta({ description: 'One line per invalid field: `path: what is wrong`.' }),
    }),
  }),
  'Every error response has this shape.',
);

// ── auth ────────────────────────────────────────────────────────────────────────────────────────

export const loginRequestSchema = component('LoginRequest', z.object({ password: z.string().min(1).max(1_024) }));
export const sessionStatusSchema = component('SessionStatus', z.object({ authenticated: z.boolean() }));

// ── info ────────────────────────────────────────────────────────────────────────────────────────

export const serverInfoSchema = component(
  'ServerInfo',
  z.object({
    version: z.string(),
    processId: z.string(),
    database: z.enum(['pglite', 'postgres']),
    backend: z.string().meta({ description: '`engine`, `openai`, or the host of another Realtime endpoint.' }),
    model: z.string(),
    voices: z.array(z.string()),
    recordingEnabled: z.boolean(),
    builtinVariables: z.record(z.string(), z.string()),
  }),
);

// ── calls ───────────────────────────────────────────────────────────────────────────────────────

export const callListQuerySchema = z.object({
  q: z.string().max(200).optional().meta({ description: 'Matches numbers, call SID, agent id and transcript text.' }),
  agentId: z.string().max(64).optional(),
  direction: callDirection.optional(),
  status: callRecordStatus.optional(),
  endReason: callEndReason.optional(),
  since: isoTimestamp.optional().meta({ description: 'Calls started at or after this time (ISO 8601).' }),
  until: isoTimestamp.optional().meta({ description: 'Calls started before this time (ISO 8601).' }),
  page: z.coerce.number().int().min(1).max(1_000_000).optional().meta({ description: '1-based.' }),
  pageSize: z.coerce.number().int().min(1).max(100).optional(),
});

export const idParamsSchema = z.object({ id: z.string().min(1).max(200) });
export const agentVersionParamsSchema = z.object({ id: z.string().min(1).max(200), version: z.coerce.number().int().min(1) });

export const callRecordSchema = component(
  'CallRecord',
  z.object({
    id: z.string(),
    callSid: z.string().nullable().meta({ description: 'Null only for an outbound call Twilio did not accept.' }),
    streamSid: z.string().nullable(),
    direction: callDirection,
    from: z.string().nullable(),
    to: z.string().nullable(),
    agentId: z.string(),
    agentVersion: z.number().int().nullable(),
    backend: z.string(),
    model: z.string(),
    apiShape: z.enum(['ga', 'beta']),
    status: callRecordStatus,
    endReason: callEndReason.nullable(),
    startedAt: isoTimestamp,
    endedAt: isoTimestamp.nullable(),
    durationMs: z.number().nullable(),
    usage: tokenUsageSchema.nullable(),
    costUsd: z.number().nullable(),
    hasRecording: z.boolean(),
    variables: z.record(z.string(), z.string()),
    twilioStatus: z.string().nullable(),
    processId: z.string(),
    turnCount: z.number().int(),
    dialedAt: isoTimestamp.nullable(),
    answeredBy: z.string().nullable(),
    error: z.string().nullable(),
    campaignId: z.string().nullable(),
    contactId: z.number().int().nullable(),
    attempt: z.number().int().nullable(),
  }),
);

export const turnRecordSchema = component(
  'TurnRecord',
  z.object({
    callId: z.string(),
    seq: z.number().int(),
    role: z.enum(['user', 'assistant']),
    itemId: z.string(),
    text: z.string().nullable(),
    heardText: z.string().nullable(),
    interrupted: z.boolean(),
    source: z.enum(['speech', 'dtmf', 'greeting', 'reply']),
    startedAtMs: z.number(),
    endedAtMs: z.number(),
    latencyMs: z.number().nullable(),
    audioMs: z.number().nullable(),
    heardMs: z.number().nullable(),
  }),
);

export const toolCallRecordSchema = component(
  'ToolCallRecord',
  z.object({
    callId: z.string(),
    toolCallId: z.string(),
    name: z.string(),
    arguments: z.unknown(),
    ok: z.boolean().nullable(),
    output: z.string().nullable(),
    durationMs: z.number().nullable(),
    calledAtMs: z.number(),
  }),
);

export const callEventRecordSchema = component(
  'CallEventRecord',
  z.object({
    callId: z.string(),
    seq: z.number().int(),
    type: z.string(),
    atMs: z.number(),
    at: isoTimestamp,
    data: z.record(z.string(), z.unknown()),
  }),
);

export const callDetailSchema = component(
  'CallDetail',
  z.object({ call: callRecordSchema, turns: z.array(turnRecordSchema), toolCalls: z.array(toolCallRecordSchema), events: z.array(callEventRecordSchema) }),
);

export const callListSchema = component(
  'CallList',
  z.object({ items: z.array(callRecordSchema), page: z.number().int(), pageSize: z.number().int(), total: z.number().int() }),
);

// ── agents ──────────────────────────────────────────────────────────────────────────────────────

export const agentInputSchema = component('AgentInput', agentSchema, 'An agent definition as entered; omitted fields take their defaults.');

export const agentRecordSchema = component(
  'AgentRecord',
  z.object({
    id: z.string(),
    version: z.number().int(),
    definition: agentInputSchema,
    createdAt: isoTimestamp,
    updatedAt: isoTimestamp,
    source: agentSource,
  }),
);

export const agentVersionSummarySchema = component(
  'AgentVersionSummary',
  z.object({ version: z.number().int(), createdAt: isoTimestamp, source: agentSource }),
);

export const agentListSchema = component('AgentList', z.object({ agents: z.array(agentRecordSchema), defaultAgentId: z.string() }));
export const agentDetailSchema = component('AgentDetail', z.object({ agent: agentRecordSchema, versions: z.array(agentVersionSummarySchema) }));

export const saveAgentRequestSchema = component(
  'SaveAgentRequest',
  z.object({
    definition: agentInputSchema,
    expectedVersion: z.number().int().min(1).optional().meta({ description: 'The version the edit started from; a newer stored version answers 409.' }),
  }),
);

export const previewAgentRequestSchema = component(
  'PreviewAgentRequest',
  z.object({ definition: agentInputSchema, variables: variableMap.optional() }),
);

export const previewAgentResponseSchema = component(
  'PreviewAgentResponse',
  z.object({
    instructions: z.string().nullable(),
    greeting: z.string().nullable(),
    missing: z.array(z.string()),
    variables: z.record(z.string(), z.string()),
  }),
);

// ── softphone ───────────────────────────────────────────────────────────────────────────────────

export const softphoneCallRequestSchema = component(
  'SoftphoneCallRequest',
  z.object({ agentId: z.string().min(1).max(64), variables: variableMap.optional() }),
);

export const softphoneCallResponseSchema = component(
  'SoftphoneCallResponse',
  z.object({
    callSid: z.string(),
    streamPath: z.string(),
    parameters: z.record(z.string(), z.string()).meta({ description: 'Send as `start.customParameters`; includes the signed stream token.' }),
  }),
);

// ── outbound calls and campaigns ────────────────────────────────────────────────────────────────

const countryCode = z.string().regex(/^[A-Za-z]{2}$/, 'an ISO 3166 country code such as US, GB or JP');
const e164 = z.string().regex(/^\+[1-9]\d{1,14}$/, 'an E.164 number like +15551234567');
const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'HH:MM, 00:00 to 24:00');
const ianaZone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as Asia/Tokyo or America/New_York');
const contactOutcome = z.enum(['answered', 'voicemail', 'busy', 'no-answer', 'failed', 'canceled']);
const retryableOutcome = z.enum(['busy', 'no-answer', 'failed', 'voicemail']);
const contactState = z.enum(['pending', 'dialing', 'calling', 'done']);
const campaignStatus = z.enum(['draft', 'running', 'paused', 'completed', 'canceled']);

export const placeCallRequestSchema = component(
  'PlaceCallRequest',
  z.object({
    to: z.string().min(3).max(40),
    from: e164.optional(),
    agentId: z.string().min(1).max(64),
    variables: variableMap.optional(),
    machineDetection: z.boolean().optional(),
    defaultCountry: countryCode.optional(),
    record: z.boolean().optional(),
  }),
);
export const placeCallResponseSchema = component('PlaceCallResponse', z.object({ call: callRecordSchema }));

const callingWindowSchema = z.object({
  start: timeOfDay,
  end: timeOfDay,
  days: z.array(z.number().int().min(1).max(7)).min(1).max(7),
});

export const createCampaignRequestSchema = component(
  'CreateCampaignRequest',
  z.object({
    name: z.string().trim().min(1).max(200),
    agentId: z.string().min(1).max(64),
    from: e164.optional(),
    csv: z.string().min(1).meta({ description: 'The contacts as CSV text: a header line, then one contact per line.' }),
    phoneColumn: z.string().min(1).max(100).optional(),
    defaultCountry: countryCode.optional(),
    callsPerSecond: z.number().min(0.01).max(100).optional(),
    maxConcurrent: z.number().int().min(1).max(1000).optional(),
    window: callingWindowSchema.partial().optional(),
    timezone: ianaZone.optional(),
    retry: z
      .object({
        maxAttempts: z.number().int().min(1).max(20),
        delayMs: z.number().int().min(0).max(7 * 86_400_000),
        on: z.array(retryableOutcome),
      })
      .partial()
      .optional(),
    machineDetection: z.boolean().optional(),
    ringTimeoutSec: z.number().int().min(5).max(600).optional(),
    start: z.boolean().optional(),
  }),
);

const importReportSchema = z.object({
  rows: z.number().int(),
  imported: z.number().int(),
  rejected: z.number().int(),
  rejections: z.array(z.object({ line: z.number().int(), value: z.string(), reason: z.string() })),
  variables: z.array(z.string()),
  phoneColumn: z.string(),
  timezoneColumn: z.string().nullable(),
});

export const campaignRecordSchema = component(
  'CampaignRecord',
  z.object({
    id: z.string(),
    name: z.string(),
    agentId: z.string(),
    from: z.string(),
    status: campaignStatus,
    statusReason: z.string().nullable(),
    callsPerSecond: z.number(),
    maxConcurrent: z.number().int(),
    window: callingWindowSchema,
    timezone: z.string(),
    retry: z.object({ maxAttempts: z.number().int(), delayMs: z.number().int(), on: z.array(retryableOutcome) }),
    machineDetection: z.boolean(),
    ringTimeoutSec: z.number().int(),
    createdAt: isoTimestamp,
    startedAt: isoTimestamp.nullable(),
    finishedAt: isoTimestamp.nullable(),
    counts: z.object({
      total: z.number().int(),
      pending: z.number().int(),
      inFlight: z.number().int(),
      done: z.number().int(),
      outcomes: z.object({
        answered: z.number().int(),
        voicemail: z.number().int(),
        busy: z.number().int(),
        'no-answer': z.number().int(),
        failed: z.number().int(),
        canceled: z.number().int(),
      }),
      attempts: z.number().int(),
    }),
    importReport: importReportSchema,
  }),
);
export const campaignListSchema = component('CampaignList', z.object({ campaigns: z.array(campaignRecordSchema) }));

export const contactListQuerySchema = z.object({
  state: contactState.optional(),
  outcome: contactOutcome.optional(),
  q: z.string().max(200).optional(),
  page: z.coerce.number().int().min(1).max(1_000_000).optional(),
  pageSize: z.coerce.number().int().min(1).max(200).optional(),
});

export const contactRecordSchema = component(
  'ContactRecord',
  z.object({
    id: z.number().int(),
    line: z.number().int(),
    phone: z.string(),
    timezone: z.string().nullable(),
    variables: z.record(z.string(), z.string()),
    state: contactState,
    outcome: contactOutcome.nullable(),
    attempts: z.number().int(),
    nextAttemptAt: isoTimestamp.nullable(),
    lastError: z.string().nullable(),
    updatedAt: isoTimestamp,
    calls: z.array(
      z.object({
        callId: z.string(),
        attempt: z.number().int(),
        dialedAt: isoTimestamp.nullable(),
        status: callRecordStatus,
        twilioStatus: z.string().nullable(),
        answeredBy: z.string().nullable(),
        endReason: callEndReason.nullable(),
        durationMs: z.number().nullable(),
        error: z.string().nullable(),
      }),
    ),
  }),
);
export const contactListSchema = component(
  'ContactList',
  z.object({ items: z.array(contactRecordSchema), page: z.number().int(), pageSize: z.number().int(), total: z.number().int() }),
);

// ── live ────────────────────────────────────────────────────────────────────────────────────────

const callEventBase = { callId: z.string(), callSid: z.string(), atMs: z.number(), at: isoTimestamp };
const optionalString = z.string().optional();

export const callEventSchema = component(
  'CallEvent',
  z.discriminatedUnion('type', [
    z.object({
      ...callEventBase,
      type: z.literal('call.started'),
      call: z.object({
        callId: z.string(),
        callSid: z.string(),
        streamSid: z.string(),
        accountSid: z.string(),
        agentId: z.string(),
        agentVersion: z.number().int().nullable(),
        direction: callDirection,
        from: optionalString,
        to: optionalString,
        model: z.object({ url: z.string(), model: z.string(), shape: z.enum(['ga', 'beta']) }),
        recording: z.boolean(),
      }),
      variables: z.record(z.string(), z.string()),
    }),
    z.object({ ...callEventBase, type: z.literal('agent.state'), state: agentState }),
    z.object({ ...callEventBase, type: z.literal('transcript.partial'), role: z.enum(['user', 'assistant']), itemId: z.string(), text: z.string() }),
    z.object({
      ...callEventBase,
      type: z.literal('turn.user'),
      itemId: z.string(),
      text: z.string().nullable(),
      startedAtMs: z.number(),
      endedAtMs: z.number(),
      source: z.enum(['speech', 'dtmf']),
    }),
    z.object({
      ...callEventBase,
      type: z.literal('turn.assistant'),
      itemId: z.string(),
      responseId: z.string(),
      text: z.string(),
      heardText: z.string(),
      interrupted: z.boolean(),
      audioMs: z.number(),
      heardMs: z.number(),
      startedAtMs: z.number(),
      endedAtMs: z.number(),
      latencyMs: z.number().nullable(),
      greeting: z.boolean(),
    }),
    z.object({ ...callEventBase, type: z.literal('barge_in'), itemId: z.string(), heardMs: z.number(), sentMs: z.number(), truncated: z.boolean() }),
    z.object({ ...callEventBase, type: z.literal('tool.called'), toolCallId: z.string(), name: z.string(), arguments: z.unknown() }),
    z.object({
      ...callEventBase,
      type: z.literal('tool.result'),
      toolCallId: z.string(),
      name: z.string(),
      ok: z.boolean(),
      output: z.string(),
      durationMs: z.number(),
    }),
    z.object({ ...callEventBase, type: z.literal('dtmf.received'), digits: z.string() }),
    z.object({ ...callEventBase, type: z.literal('dtmf.sent'), digits: z.string() }),
    z.object({ ...callEventBase, type: z.literal('model.usage'), responseId: z.string(), usage: tokenUsageSchema }),
    z.object({ ...callEventBase, type: z.literal('model.error'), code: z.string().nullable(), message: z.string(), fatal: z.boolean() }),
    z.object({ ...callEventBase, type: z.literal('model.reconnected'), attempt: z.number().int() }),
    z.object({ ...callEventBase, type: z.literal('call.error'), message: z.string() }),
    z.object({ ...callEventBase, type: z.literal('call.ended'), reason: callEndReason, durationMs: z.number(), usage: tokenUsageSchema }),
  ]),
  'One typed event of a call. Events relayed from another Koe process may have long text shortened, ending in "…[truncated]".',
);

export const liveMessageSchema = component(
  'LiveMessage',
  z.discriminatedUnion('type', [
    z.object({
      type: z.literal('snapshot'),
      calls: z.array(z.object({ processId: z.string(), events: z.array(callEventSchema) })),
    }),
    z.object({ type: z.literal('event'), processId: z.string(), event: callEventSchema }),
  ]),
  'Server → browser messages on WS /api/live: one snapshot of the running calls first, then every event.',
);

// ── the schemas and the contract agree ──────────────────────────────────────────────────────────

/** True when a value of either type is a value of the other. */
type Agree<Schema, Contract> = [Schema] extends [Contract] ? ([Contract] extends [Schema] ? true : false) : false;
/**
 * For call events: every event Koe emits is described by the schema. (The reverse differs only in
 * `from`/`to`, keys the TypeScript type keeps as `string | undefined` and JSON leaves out.)
 */
type Describes<Schema, Contract> = [Contract] extends [Schema] ? true : false;
type Check<T extends true> = T;

export type ContractChecks = [
  Check<Agree<z.input<typeof loginRequestSchema>, LoginRequest>>,
  Check<Agree<z.output<typeof sessionStatusSchema>, SessionStatus>>,
  Check<Agree<z.output<typeof serverInfoSchema>, ServerInfo>>,
  Check<Agree<z.output<typeof callRecordSchema>, CallRecord>>,
  Check<Agree<z.output<typeof callDetailSchema>, CallDetail>>,
  Check<Agree<z.output<typeof callListSchema>, CallList>>,
  Check<Agree<z.input<typeof agentRecordSchema>, AgentRecord>>,
  Check<Agree<z.output<typeof agentVersionSummarySchema>, AgentVersionSummary>>,
  Check<Agree<z.input<typeof agentListSchema>, AgentList>>,
  Check<Agree<z.input<typeof agentDetailSchema>, AgentDetailResponse>>,
  Check<Agree<z.input<typeof saveAgentRequestSchema>, SaveAgentRequest>>,
  Check<Agree<z.input<typeof previewAgentRequestSchema>, PreviewAgentRequest>>,
  Check<Agree<z.output<typeof previewAgentResponseSchema>, PreviewAgentResponse>>,
  Check<Agree<z.input<typeof softphoneCallRequestSchema>, SoftphoneCallRequest>>,
  Check<Agree<z.output<typeof softphoneCallResponseSchema>, SoftphoneCallResponse>>,
  Check<Agree<z.output<typeof apiErrorSchema>, ApiError>>,
  Check<Agree<z.input<typeof placeCallRequestSchema>, PlaceCallRequest>>,
  Check<Agree<z.output<typeof placeCallResponseSchema>, PlaceCallResponse>>,
  Check<Agree<z.input<typeof createCampaignRequestSchema>, CreateCampaignRequest>>,
  Check<Agree<z.output<typeof campaignRecordSchema>, CampaignRecord>>,
  Check<Agree<z.output<typeof campaignListSchema>, CampaignList>>,
  Check<Agree<z.output<typeof contactListSchema>, ContactList>>,
  Check<Describes<z.output<typeof liveMessageSchema>, LiveMessage>>,
  Check<Describes<z.output<typeof callEventSchema>, CallEvent>>,
];
