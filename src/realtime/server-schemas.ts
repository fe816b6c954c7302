// zod schemas for GA server events, used at the wire edge of a client connection.
// Lenient by design: unknown fields are kept (loose objects), integers are not checked for
// integrality, and fields the live service sends as `null` against the spec (realtime.md appendix)
// are accepted. Every schema is checked at compile time against its hand-written type.

import { z } from 'zod';
import type { AudioFormat } from './audio-format.js';
import type { RealtimeItem } from './items.js';
import type { RealtimeResponse } from './response.js';
import type { KnownServerEventType, ServerEventOfType } from './server-events.js';
import type { ServerSession, RealtimeTool, ToolChoice, TurnDetection } from './session.js';

const str = z.string();
const num = z.number();
const bool = z.boolean();
const jsonObject = z.record(z.string(), z.unknown());

// ── audio formats, session ────────────────────────────────────────────────────────────────────

export const audioFormatSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('audio/pcm'), rate: z.literal(24000).optional() }),
  z.looseObject({ type: z.literal('audio/pcmu') }),
  z.looseObject({ type: z.literal('audio/pcma') }),
]) satisfies z.ZodType<AudioFormat>;

const turnDetectionSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('server_vad'),
    threshold: num.optional(),
    prefix_padding_ms: num.optional(),
    silence_duration_ms: num.optional(),
    create_response: bool.optional(),
    interrupt_response: bool.optional(),
    idle_timeout_ms: num.nullish(),
  }),
  z.looseObject({
    type: z.literal('semantic_vad'),
    eagerness: z.enum(['low', 'medium', 'high', 'auto']).optional(),
    create_response: bool.optional(),
    interrupt_response: bool.optional(),
  }),
]) satisfies z.ZodType<TurnDetection>;

const transcriptionSchema = z.looseObject({
  model: str.optional(),
  language: str.optional(),
  languages: z.array(str).optional(),
  keywords: z.array(str).optional(),
  prompt: str.optional(),
  delay: z.enum(['minimal', 'low', 'medium', 'high', 'xhigh']).optional(),
});

const audioInputSchema = z.looseObject({
  format: audioFormatSchema.optional(),
  transcription: transcriptionSchema.nullish(),
  noise_reduction: z.looseObject({ type: z.enum(['near_field', 'far_field']).optional() }).nullish(),
  turn_detection: turnDetectionSchema.nullish(),
});

const voiceSchema = z.union([str, z.looseObject({ id: str })]);

const mcpToolFilter = z.looseObject({ tool_names: z.array(str).optional(), read_only: bool.optional() });
const toolSchema = z.union([
  z.looseObject({
    type: z.literal('mcp'),
    server_label: str,
    server_url: str.optional(),
    connector_id: str.optional(),
    tunnel_id: str.optional(),
    authorization: str.optional(),
    server_description: str.optional(),
    headers: z.record(z.string(), str).nullish(),
    allowed_tools: z.union([z.array(str), mcpToolFilter]).nullish(),
    allowed_callers: z.array(z.enum(['direct', 'programmatic'])).nullish(),
    require_approval: z
      .union([z.enum(['always', 'never']), z.looseObject({ always: mcpToolFilter.optional(), never: mcpToolFilter.optional() })])
      .nullish(),
    defer_loading: bool.optional(),
  }),
  z.looseObject({
    type: z.literal('function').optional(),
    name: str,
    description: str.optional(),
    parameters: jsonObject.optional(),
  }),
]) satisfies z.ZodType<RealtimeTool>;

const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), name: str }),
  z.looseObject({ type: z.literal('mcp'), server_label: str, name: str.nullish() }),
]) satisfies z.ZodType<ToolChoice>;

const maxTokensSchema = z.union([num, z.literal('inf')]);
const modalitiesSchema = z.array(z.enum(['text', 'audio']));
const includeSchema = z.array(z.literal('item.input_audio_transcription.logprobs')).nullish();

const sessionIdentity = {
  id: str.optional(),
  object: str.optional(),
  expires_at: num.optional(),
};

export const serverSessionSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('realtime'),
    ...sessionIdentity,
    model: str.optional(),
    output_modalities: modalitiesSchema.optional(),
    instructions: str.optional(),
    audio: z
      .looseObject({
        input: audioInputSchema.optional(),
        output: z
          .looseObject({ format: audioFormatSchema.optional(), voice: voiceSchema.optional(), speed: num.optional() })
          .optional(),
      })
      .optional(),
    include: includeSchema,
    tracing: z
      .union([
        z.literal('auto'),
        z.looseObject({ workflow_name: str.optional(), group_id: str.optional(), metadata: jsonObject.optional() }),
      ])
      .nullish(),
    tools: z.array(toolSchema).optional(),
    tool_choice: toolChoiceSchema.optional(),
    parallel_tool_calls: bool.optional(),
    reasoning: z.looseObject({ effort: z.enum(['minimal', 'low', 'medium', 'high', 'xhigh']).optional() }).optional(),
    max_output_tokens: maxTokensSchema.optional(),
    truncation: z
      .union([
        z.enum(['auto', 'disabled']),
        z.looseObject({
          type: z.literal('retention_ratio'),
          retention_ratio: num,
          token_limits: z.looseObject({ post_instructions: num.optional() }).optional(),
        }),
      ])
      .optional(),
    prompt: z
      .looseObject({ id: str, version: str.nullish(), variables: jsonObject.nullish() })
      .nullish(),
  }),
  z.looseObject({
    type: z.literal('transcription'),
    ...sessionIdentity,
    audio: z.looseObject({ input: audioInputSchema.optional() }).optional(),
    include: includeSchema,
  }),
]) satisfies z.ZodType<ServerSession>;

// ── items ─────────────────────────────────────────────────────────────────────────────────────

const itemStatus = z.enum(['completed', 'incomplete', 'in_progress']);
const itemCommon = { id: str.optional(), object: z.literal('realtime.item').optional(), status: itemStatus.optional() };

const inputText = z.looseObject({ type: z.literal('input_text'), text: str.optional() });
const inputAudio = z.looseObject({ type: z.literal('input_audio'), audio: str.optional(), transcript: str.nullish() });
const inputImage = z.looseObject({
  type: z.literal('input_image'),
  image_url: str.optional(),
  detail: z.enum(['auto', 'low', 'high']).optional(),
});
const outputText = z.looseObject({ type: z.literal('output_text'), text: str.optional() });
const outputAudio = z.looseObject({ type: z.literal('output_audio'), audio: str.optional(), transcript: str.nullish() });

const mcpCallError = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('protocol_error'), code: num, message: str }),
  z.looseObject({ type: z.literal('tool_execution_error'), message: str }),
  z.looseObject({ type: z.literal('http_error'), code: num, message: str }),
]);

export const itemSchema = z.discriminatedUnion('type', [
  z.discriminatedUnion('role', [
    z.looseObject({ ...itemCommon, type: z.literal('message'), role: z.literal('system'), content: z.array(inputText) }),
    z.looseObject({
      ...itemCommon,
      type: z.literal('message'),
      role: z.literal('user'),
      content: z.array(z.discriminatedUnion('type', [inputText, inputAudio, inputImage])),
    }),
    z.looseObject({
      ...itemCommon,
      type: z.literal('message'),
      role: z.literal('assistant'),
      content: z.array(z.discriminatedUnion('type', [outputText, outputAudio])),
    }),
  ]),
  z.looseObject({ ...itemCommon, type: z.literal('function_call'), call_id: str.optional(), name: str, arguments: str }),
  z.looseObject({ ...itemCommon, type: z.literal('function_call_output'), call_id: str, output: str }),
  z.looseObject({
    type: z.literal('mcp_approval_response'),
    id: str,
    approval_request_id: str,
    approve: bool,
    reason: str.nullish(),
  }),
  z.looseObject({
    type: z.literal('mcp_list_tools'),
    id: str.optional(),
    server_label: str,
    tools: z.array(
      z.looseObject({ name: str, description: str.nullish(), input_schema: jsonObject, annotations: jsonObject.nullish() }),
    ),
  }),
  z.looseObject({
    type: z.literal('mcp_call'),
    id: str,
    server_label: str,
    name: str,
    arguments: str,
    approval_request_id: str.nullish(),
    output: str.nullish(),
    error: mcpCallError.nullish(),
  }),
  z.looseObject({ type: z.literal('mcp_approval_request'), id: str, server_label: str, name: str, arguments: str }),
]) satisfies z.ZodType<RealtimeItem>;

// ── response ──────────────────────────────────────────────────────────────────────────────────

const usageSchema = z.looseObject({
  total_tokens: num.optional(),
  input_tokens: num.optional(),
  output_tokens: num.optional(),
  input_token_details: z
    .looseObject({
      cached_tokens: num.optional(),
      text_tokens: num.optional(),
      image_tokens: num.optional(),
      audio_tokens: num.optional(),
      cached_tokens_details: z
        .looseObject({ text_tokens: num.optional(), image_tokens: num.optional(), audio_tokens: num.optional() })
        .optional(),
    })
    .optional(),
  output_token_details: z.looseObject({ text_tokens: num.optional(), audio_tokens: num.optional() }).optional(),
});

const responseStatus = z.enum(['completed', 'cancelled', 'failed', 'incomplete', 'in_progress']);

export const responseSchema = z.looseObject({
  object: z.literal('realtime.response').optional(),
  id: str,
  status: responseStatus,
  status_details: z
    .looseObject({
      type: z.enum(['completed', 'cancelled', 'failed', 'incomplete']).optional(),
      reason: str.optional(),
      error: z.looseObject({ type: str.optional(), code: str.optional() }).optional(),
    })
    .nullish(),
  output: z.array(itemSchema).optional(),
  conversation_id: str.optional(),
  output_modalities: modalitiesSchema.optional(),
  max_output_tokens: maxTokensSchema.optional(),
  audio: z
    .looseObject({
      output: z.looseObject({ format: audioFormatSchema.optional(), voice: str.optional() }).optional(),
    })
    .optional(),
  usage: usageSchema.nullish(),
  metadata: jsonObject.nullish(),
}) satisfies z.ZodType<RealtimeResponse>;

// ── events ────────────────────────────────────────────────────────────────────────────────────

function event<T extends string, S extends z.ZodRawShape>(type: T, shape: S) {
  return z.looseObject({ type: z.literal(type), event_id: str, ...shape });
}

const contentRef = { response_id: str, item_id: str, output_index: num, content_index: num };
const contentPart = z.looseObject({
  type: z.enum(['audio', 'text']).optional(),
  text: str.optional(),
  audio: str.optional(),
  transcript: str.optional(),
});
const logprobs = z.array(z.looseObject({ token: str, logprob: num, bytes: z.array(num) })).nullish();
const conversationItemEvent = { previous_item_id: str.nullish(), item: itemSchema };

type SchemaMap = { [K in KnownServerEventType]: z.ZodType<ServerEventOfType<K>> };

export const serverEventSchemas: SchemaMap = {
  'session.created': event('session.created', { session: serverSessionSchema }),
  'session.updated': event('session.updated', { session: serverSessionSchema }),
  'conversation.created': event('conversation.created', {
    conversation: z.looseObject({ id: str.optional(), object: str.optional() }),
  }),
  'input_audio_buffer.committed': event('input_audio_buffer.committed', { previous_item_id: str.nullish(), item_id: str }),
  'input_audio_buffer.cleared': event('input_audio_buffer.cleared', {}),
  'input_audio_buffer.speech_started': event('input_audio_buffer.speech_started', { audio_start_ms: num, item_id: str }),
  'input_audio_buffer.speech_stopped': event('input_audio_buffer.speech_stopped', { audio_end_ms: num, item_id: str }),
  'input_audio_buffer.timeout_triggered': event('input_audio_buffer.timeout_triggered', {
    audio_start_ms: num,
    audio_end_ms: num,
    item_id: str,
  }),
  'input_audio_buffer.dtmf_event_received': z.looseObject({
    type: z.literal('input_audio_buffer.dtmf_event_received'),
    event_id: str.optional(),
    event: str,
    received_at: num,
  }),
  'conversation.item.added': event('conversation.item.added', conversationItemEvent),
  'conversation.item.done': event('conversation.item.done', conversationItemEvent),
  'conversation.item.created': event('conversation.item.created', conversationItemEvent),
  'conversation.item.retrieved': event('conversation.item.retrieved', { item: itemSchema }),
  'conversation.item.truncated': event('conversation.item.truncated', { item_id: str, content_index: num, audio_end_ms: num }),
  'conversation.item.deleted': event('conversation.item.deleted', { item_id: str }),
  'conversation.item.input_audio_transcription.delta': event('conversation.item.input_audio_transcription.delta', {
    item_id: str,
    content_index: num.optional(),
    delta: str.optional(),
    logprobs,
  }),
  'conversation.item.input_audio_transcription.completed': event(
    'conversation.item.input_audio_transcription.completed',
    {
      item_id: str,
      content_index: num,
      transcript: str,
      languages: z.array(z.looseObject({ code: str })).optional(),
      logprobs,
      usage: z.discriminatedUnion('type', [
        z.looseObject({
          type: z.literal('tokens'),
          input_tokens: num,
          output_tokens: num,
          total_tokens: num,
          input_token_details: z.looseObject({ text_tokens: num.optional(), audio_tokens: num.optional() }).optional(),
        }),
        z.looseObject({ type: z.literal('duration'), seconds: num }),
      ]),
    },
  ),
  'conversation.item.input_audio_transcription.failed': event('conversation.item.input_audio_transcription.failed', {
    item_id: str,
    content_index: num,
    error: z.looseObject({
      type: str.optional(),
      code: str.nullish(),
      message: str.optional(),
      param: str.nullish(),
    }),
  }),
  'conversation.item.input_audio_transcription.segment': event('conversation.item.input_audio_transcription.segment', {
    item_id: str,
    content_index: num,
    text: str,
    id: str,
    speaker: str,
    start: num,
    end: num,
  }),
  'response.created': event('response.created', { response: responseSchema }),
  'response.done': event('response.done', { response: responseSchema }),
  'response.output_item.added': event('response.output_item.added', { response_id: str, output_index: num, item: itemSchema }),
  'response.output_item.done': event('response.output_item.done', { response_id: str, output_index: num, item: itemSchema }),
  'response.content_part.added': event('response.content_part.added', { ...contentRef, part: contentPart }),
  'response.content_part.done': event('response.content_part.done', { ...contentRef, part: contentPart }),
  'response.output_audio.delta': event('response.output_audio.delta', { ...contentRef, delta: str }),
  'response.output_audio.done': event('response.output_audio.done', contentRef),
  'response.output_audio_transcript.delta': event('response.output_audio_transcript.delta', {
    ...contentRef,
    delta: str,
    obfuscation: str.optional(),
  }),
  'response.output_audio_transcript.done': event('response.output_audio_transcript.done', { ...contentRef, transcript: str }),
  'response.output_text.delta': event('response.output_text.delta', { ...contentRef, delta: str }),
  'response.output_text.done': event('response.output_text.done', { ...contentRef, text: str }),
  'response.function_call_arguments.delta': event('response.function_call_arguments.delta', {
    response_id: str,
    item_id: str,
    output_index: num,
    call_id: str,
    delta: str,
  }),
  'response.function_call_arguments.done': event('response.function_call_arguments.done', {
    response_id: str,
    item_id: str,
    output_index: num,
    call_id: str,
    name: str,
    arguments: str,
  }),
  'mcp_list_tools.in_progress': event('mcp_list_tools.in_progress', { item_id: str }),
  'mcp_list_tools.completed': event('mcp_list_tools.completed', { item_id: str }),
  'mcp_list_tools.failed': event('mcp_list_tools.failed', { item_id: str }),
  'response.mcp_call.in_progress': event('response.mcp_call.in_progress', { item_id: str, output_index: num }),
  'response.mcp_call.completed': event('response.mcp_call.completed', { item_id: str, output_index: num }),
  'response.mcp_call.failed': event('response.mcp_call.failed', { item_id: str, output_index: num }),
  'response.mcp_call_arguments.delta': event('response.mcp_call_arguments.delta', {
    response_id: str,
    item_id: str,
    output_index: num,
    delta: str,
    obfuscation: str.nullish(),
  }),
  'response.mcp_call_arguments.done': event('response.mcp_call_arguments.done', {
    response_id: str,
    item_id: str,
    output_index: num,
    arguments: str,
  }),
  'output_audio_buffer.started': event('output_audio_buffer.started', { response_id: str }),
  'output_audio_buffer.stopped': event('output_audio_buffer.stopped', { response_id: str }),
  'output_audio_buffer.cleared': event('output_audio_buffer.cleared', { response_id: str }),
  'rate_limits.updated': event('rate_limits.updated', {
    rate_limits: z.array(
      z.looseObject({ name: str.optional(), limit: num.optional(), remaining: num.optional(), reset_seconds: num.optional() }),
    ),
  }),
  error: event('error', {
    error: z.looseObject({
      type: str,
      code: str.nullish(),
      message: str,
      param: str.nullish(),
      event_id: str.nullish(),
    }),
  }),
};
