// Strict zod schemas for client events, GA and beta, for Koe's engine (and the test fake) to answer
// a bad client event exactly as the live service would: an unknown key is `unknown_parameter` with
// its dotted path, a missing one `missing_required_parameter`, a wrong enum `invalid_value`, …
// Beta events are validated in their own shape (so `param` names what the client sent) and then
// translated to GA, which is what Koe speaks inside.

import { z } from 'zod';
import type { RealtimeShape } from './beta.js';
import { clientEventBetaToGa } from './beta.js';
import type { BetaClientEvent } from './beta-types.js';
import { clientError, clientErrorFromIssues, type ClientEventError } from './client-errors.js';
import { CLIENT_EVENT_TYPES, type RealtimeClientEvent, type RealtimeClientEventType } from './client-events.js';
import { listValues } from './client-errors.js';

const str = z.string();
const bool = z.boolean();
const nonNegativeInt = z.int().min(0);
const jsonObject = z.record(z.string(), z.unknown());
const eventId = z.string().max(512).optional();

// ── GA: session ───────────────────────────────────────────────────────────────────────────────

const audioFormat = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('audio/pcm'), rate: z.literal(24000).optional() }),
  z.strictObject({ type: z.literal('audio/pcmu') }),
  z.strictObject({ type: z.literal('audio/pcma') }),
]);

const turnDetection = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('server_vad'),
    threshold: z.number().min(0).max(1).optional(),
    prefix_padding_ms: nonNegativeInt.optional(),
    silence_duration_ms: nonNegativeInt.optional(),
    create_response: bool.optional(),
    interrupt_response: bool.optional(),
    idle_timeout_ms: z.int().min(5000).max(30000).nullable().optional(),
  }),
  z.strictObject({
    type: z.literal('semantic_vad'),
    eagerness: z.enum(['low', 'medium', 'high', 'auto']).optional(),
    create_response: bool.optional(),
    interrupt_response: bool.optional(),
  }),
]);

const transcription = z.strictObject({
  model: str.optional(),
  language: str.optional(),
  languages: z.array(str).optional(),
  keywords: z.array(str).optional(),
  prompt: str.optional(),
  delay: z.enum(['minimal', 'low', 'medium', 'high', 'xhigh']).optional(),
});

const audioInput = z.strictObject({
  format: audioFormat.optional(),
  transcription: transcription.nullable().optional(),
  noise_reduction: z.strictObject({ type: z.enum(['near_field', 'far_field']).optional() }).nullable().optional(),
  turn_detection: turnDetection.nullable().optional(),
});

const voice = z.union([str, z.strictObject({ id: str })]);

const mcpToolFilter = z.strictObject({ tool_names: z.array(str).optional(), read_only: bool.optional() });
const tool = z.preprocess(
  // A tool without `type` is a function (the spec marks `type` optional for functions only).
  (value) =>
    value !== null && typeof value === 'object' && !Array.isArray(value) && !('type' in value)
      ? { type: 'function', ...value }
      : value,
  z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('function'),
      name: str,
      description: str.optional(),
      parameters: jsonObject.optional(),
    }),
    z.strictObject({
      type: z.literal('mcp'),
      server_label: str,
      server_url: str.optional(),
      connector_id: str.optional(),
      tunnel_id: str.optional(),
      authorization: str.optional(),
      server_description: str.optional(),
      headers: z.record(z.string(), str).nullable().optional(),
      allowed_tools: z.union([z.array(str), mcpToolFilter]).nullable().optional(),
      allowed_callers: z.array(z.enum(['direct', 'programmatic'])).nullable().optional(),
      require_approval: z
        .union([
          z.enum(['always', 'never']),
          z.strictObject({ always: mcpToolFilter.optional(), never: mcpToolFilter.optional() }),
        ])
        .nullable()
        .optional(),
      defer_loading: bool.optional(),
    }),
  ]),
);

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.strictObject({ type: z.literal('function'), name: str }),
  z.strictObject({ type: z.literal('mcp'), server_label: str, name: str.nullable().optional() }),
]);

const maxOutputTokens = z.union([z.int().min(1).max(4096), z.literal('inf')]);
const modalities = z.array(z.enum(['text', 'audio']));
const reasoning = z.strictObject({ effort: z.enum(['minimal', 'low', 'medium', 'high', 'xhigh']).optional() });
const prompt = z.strictObject({ id: str, version: str.nullable().optional(), variables: jsonObject.nullable().optional() });
const include = z.array(z.literal('item.input_audio_transcription.logprobs'));

const realtimeSessionConfig = z.strictObject({
  type: z.literal('realtime'),
  model: str.optional(),
  output_modalities: modalities.optional(),
  instructions: str.optional(),
  audio: z
    .strictObject({
      input: audioInput.optional(),
      output: z
        .strictObject({ format: audioFormat.optional(), voice: voice.optional(), speed: z.number().min(0.25).max(1.5).optional() })
        .optional(),
    })
    .optional(),
  include: include.nullable().optional(),
  tracing: z
    .union([
      z.literal('auto'),
      z.strictObject({ workflow_name: str.optional(), group_id: str.optional(), metadata: jsonObject.optional() }),
    ])
    .nullable()
    .optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  parallel_tool_calls: bool.optional(),
  reasoning: reasoning.optional(),
  max_output_tokens: maxOutputTokens.optional(),
  truncation: z
    .union([
      z.enum(['auto', 'disabled']),
      z.strictObject({
        type: z.literal('retention_ratio'),
        retention_ratio: z.number().min(0).max(1),
        token_limits: z.strictObject({ post_instructions: nonNegativeInt.optional() }).optional(),
      }),
    ])
    .optional(),
  prompt: prompt.nullable().optional(),
});

const transcriptionSessionConfig = z.strictObject({
  type: z.literal('transcription'),
  audio: z.strictObject({ input: audioInput.optional() }).optional(),
  include: include.nullable().optional(),
});

// ── GA: items ─────────────────────────────────────────────────────────────────────────────────

const itemCommon = {
  id: z.string().max(32).optional(),
  object: z.literal('realtime.item').optional(),
  status: z.enum(['completed', 'incomplete', 'in_progress']).optional(),
};
const inputText = z.strictObject({ type: z.literal('input_text'), text: str.optional() });
const inputAudio = z.strictObject({ type: z.literal('input_audio'), audio: str.optional(), transcript: str.optional() });
const inputImage = z.strictObject({
  type: z.literal('input_image'),
  image_url: str.optional(),
  detail: z.enum(['auto', 'low', 'high']).optional(),
});
const outputText = z.strictObject({ type: z.literal('output_text'), text: str.optional() });
const outputAudio = z.strictObject({ type: z.literal('output_audio'), audio: str.optional(), transcript: str.optional() });
const mcpCallError = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('protocol_error'), code: z.int(), message: str }),
  z.strictObject({ type: z.literal('tool_execution_error'), message: str }),
  z.strictObject({ type: z.literal('http_error'), code: z.int(), message: str }),
]);

const itemArms = [
  z.discriminatedUnion('role', [
    z.strictObject({ ...itemCommon, type: z.literal('message'), role: z.literal('system'), content: z.array(inputText) }),
    z.strictObject({
      ...itemCommon,
      type: z.literal('message'),
      role: z.literal('user'),
      content: z.array(z.discriminatedUnion('type', [inputText, inputAudio, inputImage])),
    }),
    z.strictObject({
      ...itemCommon,
      type: z.literal('message'),
      role: z.literal('assistant'),
      content: z.array(z.discriminatedUnion('type', [outputText, outputAudio])),
    }),
  ]),
  z.strictObject({ ...itemCommon, type: z.literal('function_call'), call_id: str.optional(), name: str, arguments: str }),
  z.strictObject({ ...itemCommon, type: z.literal('function_call_output'), call_id: str, output: str }),
  z.strictObject({
    type: z.literal('mcp_approval_response'),
    id: str,
    approval_request_id: str,
    approve: bool,
    reason: str.nullable().optional(),
  }),
  z.strictObject({
    type: z.literal('mcp_list_tools'),
    id: str.optional(),
    server_label: str,
    tools: z.array(
      z.strictObject({
        name: str,
        description: str.nullable().optional(),
        input_schema: jsonObject,
        annotations: jsonObject.nullable().optional(),
      }),
    ),
  }),
  z.strictObject({
    type: z.literal('mcp_call'),
    id: str,
    server_label: str,
    name: str,
    arguments: str,
    approval_request_id: str.nullable().optional(),
    output: str.nullable().optional(),
    error: mcpCallError.nullable().optional(),
  }),
  z.strictObject({ type: z.literal('mcp_approval_request'), id: str, server_label: str, name: str, arguments: str }),
] as const;

const item = z.discriminatedUnion('type', [...itemArms]);
const responseInputItem = z.discriminatedUnion('type', [
  ...itemArms,
  z.strictObject({ type: z.literal('item_reference'), id: str }),
]);

const responseCreateParams = z.strictObject({
  output_modalities: modalities.optional(),
  instructions: str.optional(),
  audio: z
    .strictObject({
      output: z.strictObject({ format: audioFormat.optional(), voice: voice.optional() }).optional(),
    })
    .optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  parallel_tool_calls: bool.optional(),
  reasoning: reasoning.optional(),
  max_output_tokens: maxOutputTokens.optional(),
  conversation: str.optional(),
  metadata: jsonObject.nullable().optional(),
  prompt: prompt.nullable().optional(),
  input: z.array(responseInputItem).optional(),
});

// ── GA: events ────────────────────────────────────────────────────────────────────────────────

function clientEvent<T extends string, S extends z.ZodRawShape>(type: T, shape: S) {
  return z.strictObject({ type: z.literal(type), event_id: eventId, ...shape });
}

const noFields = {};
const gaSchemas: { [K in RealtimeClientEventType]: z.ZodType<Extract<RealtimeClientEvent, { type: K }>> } = {
  'session.update': clientEvent('session.update', {
    session: z.discriminatedUnion('type', [realtimeSessionConfig, transcriptionSessionConfig]),
  }),
  'input_audio_buffer.append': clientEvent('input_audio_buffer.append', { audio: str }),
  'input_audio_buffer.commit': clientEvent('input_audio_buffer.commit', noFields),
  'input_audio_buffer.clear': clientEvent('input_audio_buffer.clear', noFields),
  'output_audio_buffer.clear': clientEvent('output_audio_buffer.clear', noFields),
  'conversation.item.create': clientEvent('conversation.item.create', { previous_item_id: str.optional(), item }),
  'conversation.item.retrieve': clientEvent('conversation.item.retrieve', { item_id: str }),
  'conversation.item.truncate': clientEvent('conversation.item.truncate', {
    item_id: str,
    content_index: nonNegativeInt,
    audio_end_ms: nonNegativeInt,
  }),
  'conversation.item.delete': clientEvent('conversation.item.delete', { item_id: str }),
  'response.create': clientEvent('response.create', { response: responseCreateParams.optional() }),
  'response.cancel': clientEvent('response.cancel', { response_id: str.optional() }),
};

// ── beta ──────────────────────────────────────────────────────────────────────────────────────

const betaAudioFormat = z.enum(['pcm16', 'g711_ulaw', 'g711_alaw']);
const betaTurnDetection = z.strictObject({
  type: z.enum(['server_vad', 'semantic_vad']).optional(),
  threshold: z.number().min(0).max(1).optional(),
  prefix_padding_ms: nonNegativeInt.optional(),
  silence_duration_ms: nonNegativeInt.optional(),
  create_response: bool.optional(),
  interrupt_response: bool.optional(),
  eagerness: z.enum(['low', 'medium', 'high', 'auto']).optional(),
  idle_timeout_ms: z.int().min(5000).max(30000).nullable().optional(),
});
const betaTranscription = z.strictObject({ model: str.optional(), language: str.optional(), prompt: str.optional() });
const betaNoiseReduction = z.strictObject({ type: z.enum(['near_field', 'far_field']).optional() });
const betaTool = z.strictObject({
  type: z.literal('function').optional(),
  name: str.optional(),
  description: str.optional(),
  parameters: z.unknown().optional(),
});
const betaToolChoice = z.union([str, z.strictObject({ type: z.literal('function'), name: str })]);
const betaMaxTokens = maxOutputTokens;
const betaClientSecret = z.strictObject({
  expires_after: z
    .strictObject({ anchor: z.literal('created_at'), seconds: z.int().optional() })
    .optional(),
  expires_at: z
    .strictObject({ anchor: z.literal('created_at').optional(), seconds: z.int().optional() })
    .optional(),
});

const betaSession = z.strictObject({
  client_secret: betaClientSecret.optional(),
  input_audio_format: betaAudioFormat.optional(),
  input_audio_noise_reduction: betaNoiseReduction.nullable().optional(),
  input_audio_transcription: betaTranscription.nullable().optional(),
  instructions: str.optional(),
  max_response_output_tokens: betaMaxTokens.optional(),
  modalities: modalities.optional(),
  model: str.optional(),
  output_audio_format: betaAudioFormat.optional(),
  speed: z.number().min(0.25).max(1.5).optional(),
  temperature: z.number().min(0.6).max(1.2).optional(),
  tool_choice: betaToolChoice.optional(),
  tools: z.array(betaTool).optional(),
  tracing: z
    .union([
      z.literal('auto'),
      z.strictObject({ workflow_name: str.optional(), group_id: str.optional(), metadata: z.unknown().optional() }),
    ])
    .nullable()
    .optional(),
  turn_detection: betaTurnDetection.nullable().optional(),
  voice: str.optional(),
});

const betaTranscriptionSession = z.strictObject({
  client_secret: betaClientSecret.optional(),
  include: z.array(str).nullable().optional(),
  input_audio_format: betaAudioFormat.optional(),
  input_audio_noise_reduction: betaNoiseReduction.nullable().optional(),
  input_audio_transcription: betaTranscription.nullable().optional(),
  modalities: modalities.optional(),
  turn_detection: betaTurnDetection.nullable().optional(),
});

const betaContent = z.strictObject({
  id: str.optional(),
  audio: str.optional(),
  text: str.optional(),
  transcript: str.optional(),
  type: z.enum(['input_text', 'input_audio', 'item_reference', 'text', 'audio']).optional(),
});
const betaItemShape = {
  id: str.optional(),
  arguments: str.optional(),
  call_id: str.optional(),
  content: z.array(betaContent).optional(),
  name: str.optional(),
  object: z.literal('realtime.item').optional(),
  output: str.optional(),
  role: z.enum(['user', 'assistant', 'system']).optional(),
  status: z.enum(['completed', 'incomplete', 'in_progress']).optional(),
};
const betaItem = z.strictObject({
  ...betaItemShape,
  type: z.enum(['message', 'function_call', 'function_call_output']).optional(),
});
const betaInputItem = z.strictObject({
  ...betaItemShape,
  type: z.enum(['message', 'function_call', 'function_call_output', 'item_reference']).optional(),
});

const betaResponseCreateParams = z.strictObject({
  conversation: str.optional(),
  input: z.array(betaInputItem).optional(),
  instructions: str.optional(),
  max_response_output_tokens: betaMaxTokens.optional(),
  metadata: jsonObject.nullable().optional(),
  modalities: modalities.optional(),
  output_audio_format: betaAudioFormat.optional(),
  temperature: z.number().min(0.6).max(1.2).optional(),
  tool_choice: betaToolChoice.optional(),
  tools: z.array(betaTool).optional(),
  voice: str.optional(),
});

type BetaClientEventType = BetaClientEvent['type'];
const betaSchemas: { [K in BetaClientEventType]: z.ZodType<Extract<BetaClientEvent, { type: K }>> } = {
  'session.update': clientEvent('session.update', { session: betaSession }),
  'transcription_session.update': clientEvent('transcription_session.update', { session: betaTranscriptionSession }),
  'input_audio_buffer.append': gaSchemas['input_audio_buffer.append'],
  'input_audio_buffer.commit': gaSchemas['input_audio_buffer.commit'],
  'input_audio_buffer.clear': gaSchemas['input_audio_buffer.clear'],
  'output_audio_buffer.clear': gaSchemas['output_audio_buffer.clear'],
  'conversation.item.create': clientEvent('conversation.item.create', { previous_item_id: str.optional(), item: betaItem }),
  'conversation.item.retrieve': gaSchemas['conversation.item.retrieve'],
  'conversation.item.truncate': gaSchemas['conversation.item.truncate'],
  'conversation.item.delete': gaSchemas['conversation.item.delete'],
  'response.create': clientEvent('response.create', { response: betaResponseCreateParams.optional() }),
  'response.cancel': gaSchemas['response.cancel'],
};

const BETA_CLIENT_EVENT_TYPES: readonly BetaClientEventType[] = [
  'session.update',
  'transcription_session.update',
  'input_audio_buffer.append',
  'input_audio_buffer.commit',
  'input_audio_buffer.clear',
  'output_audio_buffer.clear',
  'conversation.item.create',
  'conversation.item.truncate',
  'conversation.item.delete',
  'conversation.item.retrieve',
  'response.create',
  'response.cancel',
];

// ── parsing ───────────────────────────────────────────────────────────────────────────────────

export type ParseClientEventResult =
  | { ok: true; event: RealtimeClientEvent }
  | { ok: false; error: ClientEventError };

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Validates one client event (already JSON-parsed) in the given shape. On success the event is
 * returned in GA shape (beta events are translated); on failure, the Realtime `error` payload to
 * send back, with `event_id` set to the client's.
 */
export function parseClientEvent(json: unknown, shape: RealtimeShape): ParseClientEventResult {
  if (!isRecord(json)) {
    return { ok: false, error: clientError(json, 'invalid_event', 'The event must be a JSON object.') };
  }
  const type = json.type;
  if (type === undefined) return { ok: false, error: clientError(json, 'invalid_event', "The 'type' field is missing.") };
  if (typeof type !== 'string') {
    return {
      ok: false,
      error: clientError(json, 'invalid_type', `Invalid type for 'type': expected a string, but got ${typeof type} instead.`, 'type'),
    };
  }
  const known: readonly string[] = shape === 'beta' ? BETA_CLIENT_EVENT_TYPES : CLIENT_EVENT_TYPES;
  const schemas: Record<string, z.ZodType> = shape === 'beta' ? betaSchemas : gaSchemas;
  const schema = known.includes(type) ? schemas[type] : undefined;
  if (!schema) {
    return {
      ok: false,
      error: clientError(
        json,
        'invalid_value',
        `Invalid value: '${type}'. Supported values are: ${listValues(known)}.`,
        'type',
      ),
    };
  }
  const result = schema.safeParse(json);
  if (!result.success) return { ok: false, error: clientErrorFromIssues(result.error.issues, json) };
  const event = result.data as RealtimeClientEvent | BetaClientEvent;
  return { ok: true, event: shape === 'beta' ? clientEventBetaToGa(event as BetaClientEvent) : (event as RealtimeClientEvent) };
}

/** `parseClientEvent` for a raw WebSocket text frame: bad JSON is answered too, never thrown. */
export function parseClientFrame(text: string, shape: RealtimeShape): ParseClientEventResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { ok: false, error: clientError(undefined, 'invalid_json', `The event is not valid JSON: ${detail}`) };
  }
  return parseClientEvent(json, shape);
}
