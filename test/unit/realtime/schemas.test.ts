import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isKnownServerEvent,
  isRealtimeId,
  newRealtimeId,
  parseClientEvent,
  parseClientFrame,
  parseServerEvent,
  type RealtimeServerEvent,
} from '../../../src/realtime/index.js';

// Frames as the live service sends them (realtime.md §b), nulls included.
const LIVE_GA_FRAMES: Record<string, unknown>[] = [
  {
    type: 'session.created',
    event_id: 'event_Ct1OVqJmiaDhg4nkh3JWr',
    session: {
      type: 'realtime',
      object: 'realtime.session',
      id: 'sess_Ct1OVZ9vNW62W3cUpSCqj',
      model: 'gpt-realtime',
      output_modalities: ['audio'],
      instructions: 'default',
      tools: [],
      tool_choice: 'auto',
      max_output_tokens: 'inf',
      tracing: null,
      truncation: 'auto',
      prompt: null,
      expires_at: 1767233035,
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: 24000 },
          transcription: null,
          noise_reduction: null,
          turn_detection: {
            type: 'server_vad',
            threshold: 0.5,
            prefix_padding_ms: 300,
            silence_duration_ms: 200,
            idle_timeout_ms: null,
            create_response: true,
            interrupt_response: true,
          },
        },
        output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy', speed: 1.0 },
      },
      include: null,
    },
  },
  { type: 'input_audio_buffer.speech_started', event_id: 'event_1', audio_start_ms: 1236, item_id: 'item_A' },
  { type: 'input_audio_buffer.speech_stopped', event_id: 'event_2', audio_end_ms: 3808, item_id: 'item_A' },
  { type: 'input_audio_buffer.committed', event_id: 'event_3', previous_item_id: null, item_id: 'item_A' },
  {
    type: 'conversation.item.added',
    event_id: 'event_4',
    previous_item_id: null,
    item: { id: 'item_A', type: 'message', status: 'completed', role: 'user', content: [{ type: 'input_audio', transcript: null }] },
  },
  {
    type: 'conversation.item.input_audio_transcription.completed',
    event_id: 'event_5',
    item_id: 'item_A',
    content_index: 0,
    transcript: 'Hello',
    usage: { type: 'tokens', total_tokens: 20, input_tokens: 15, input_token_details: { text_tokens: 0, audio_tokens: 15 }, output_tokens: 5 },
  },
  {
    type: 'response.created',
    event_id: 'event_6',
    response: {
      object: 'realtime.response',
      id: 'resp_R',
      status: 'in_progress',
      status_details: null,
      output: [],
      conversation_id: 'conv_1',
      output_modalities: ['audio'],
      max_output_tokens: 'inf',
      audio: { output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy' } },
      usage: null,
      metadata: null,
    },
  },
  {
    type: 'response.content_part.added',
    event_id: 'event_7',
    response_id: 'resp_R',
    item_id: 'item_B',
    output_index: 0,
    content_index: 0,
    part: { type: 'audio', transcript: '' },
  },
  {
    type: 'response.output_audio_transcript.delta',
    event_id: 'event_8',
    response_id: 'resp_R',
    item_id: 'item_B',
    output_index: 0,
    content_index: 0,
    delta: 'Sure',
    obfuscation: 'abc',
  },
  {
    type: 'response.function_call_arguments.done',
    event_id: 'event_9',
    response_id: 'resp_F',
    item_id: 'item_F',
    output_index: 0,
    call_id: 'call_9Q9eysr6LstYMEx6',
    name: 'get_weather',
    arguments: '{"city":"Tokyo"}',
  },
  {
    type: 'response.done',
    event_id: 'event_10',
    response: {
      object: 'realtime.response',
      id: 'resp_R',
      status: 'cancelled',
      status_details: { type: 'cancelled', reason: 'turn_detected' },
      output: [
        { id: 'item_B', type: 'message', status: 'incomplete', role: 'assistant', content: [{ type: 'output_audio', transcript: 'Sure' }] },
      ],
      conversation_id: 'conv_1',
      output_modalities: ['audio'],
      max_output_tokens: 'inf',
      audio: { output: { format: { type: 'audio/pcmu' }, voice: 'alloy' } },
      usage: {
        total_tokens: 320,
        input_tokens: 132,
        output_tokens: 188,
        input_token_details: {
          text_tokens: 59,
          audio_tokens: 73,
          image_tokens: 0,
          cached_tokens: 64,
          cached_tokens_details: { text_tokens: 0, audio_tokens: 64, image_tokens: 0 },
        },
        output_token_details: { text_tokens: 41, audio_tokens: 147 },
      },
      metadata: null,
    },
  },
  { type: 'rate_limits.updated', event_id: 'event_11', rate_limits: [{ name: 'tokens', limit: 40000, remaining: 38490, reset_seconds: 2.265 }] },
  {
    type: 'error',
    event_id: 'event_12',
    error: {
      type: 'invalid_request_error',
      code: 'missing_required_parameter',
      message: "Missing required parameter: 'session.type'.",
      param: 'session.type',
    },
  },
  { type: 'input_audio_buffer.dtmf_event_received', event: '5', received_at: 1767233035 },
];

describe('parseServerEvent', () => {
  for (const frame of LIVE_GA_FRAMES) {
    test(`accepts the live ${String(frame.type)} frame`, () => {
      const result = parseServerEvent(structuredClone(frame));
      assert.equal(result.ok, true, result.ok ? '' : result.reason);
      if (result.ok) {
        assert.deepEqual(result.event, frame);
        assert.equal(isKnownServerEvent(result.event), true);
      }
    });
  }

  test('keeps unknown event types, untouched', () => {
    const frame = { type: 'response.reasoning.delta', event_id: 'event_x', delta: 'hmm', nested: { a: 1 } };
    const result = parseServerEvent(frame);
    assert.ok(result.ok);
    assert.equal(result.event, frame);
    assert.equal(isKnownServerEvent(result.event), false);
  });

  test('keeps unknown fields on known events', () => {
    const frame = { type: 'input_audio_buffer.cleared', event_id: 'e', new_field: true };
    const result = parseServerEvent(frame);
    assert.ok(result.ok);
    assert.equal((result.event as Record<string, unknown>).new_field, true);
  });

  const bad: [string, unknown, RegExp][] = [
    ['not an object', [1, 2], /not a JSON object/],
    ['no type', { event_id: 'e' }, /type/],
    ['speech_started without item_id', { type: 'input_audio_buffer.speech_started', event_id: 'e', audio_start_ms: 1 }, /item_id/],
    ['response.done with an unknown status', { type: 'response.done', event_id: 'e', response: { id: 'r', status: 'weird' } }, /response\.status/],
    [
      'audio delta without delta',
      { type: 'response.output_audio.delta', event_id: 'e', response_id: 'r', item_id: 'i', output_index: 0, content_index: 0 },
      /delta/,
    ],
    [
      'audio delta with a numeric item_id',
      { type: 'response.output_audio.delta', event_id: 'e', response_id: 'r', item_id: 3, output_index: 0, content_index: 0, delta: '' },
      /item_id/,
    ],
    [
      'assistant item with beta content type',
      {
        type: 'response.output_item.done',
        event_id: 'e',
        response_id: 'r',
        output_index: 0,
        item: { id: 'i', type: 'message', role: 'assistant', content: [{ type: 'audio', transcript: '' }] },
      },
      /item\.content\[0\]/,
    ],
  ];
  for (const [name, frame, reason] of bad) {
    test(`reports a known type with a wrong shape: ${name}`, () => {
      const result = parseServerEvent(frame);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.reason, reason);
    });
  }

  test('a switch on type narrows after isKnownServerEvent', () => {
    const result = parseServerEvent(LIVE_GA_FRAMES[1]);
    assert.ok(result.ok);
    const event: RealtimeServerEvent = result.event;
    let startMs = -1;
    if (isKnownServerEvent(event) && event.type === 'input_audio_buffer.speech_started') startMs = event.audio_start_ms;
    assert.equal(startMs, 1236);
  });
});

describe('parseClientEvent (GA, strict, live error codes)', () => {
  const valid: unknown[] = [
    {
      type: 'session.update',
      event_id: 'koe_setup',
      session: {
        type: 'realtime',
        output_modalities: ['audio'],
        instructions: 'Be kind.',
        audio: {
          input: {
            format: { type: 'audio/pcmu' },
            transcription: { model: 'gpt-4o-transcribe', language: 'en' },
            turn_detection: { type: 'server_vad', threshold: 0.5, silence_duration_ms: 500, idle_timeout_ms: 10000 },
          },
          output: { format: { type: 'audio/pcmu' }, voice: 'marin', speed: 1 },
        },
        tools: [{ type: 'function', name: 'hang_up', parameters: { type: 'object', properties: {} } }, { name: 'no_type' }],
        tool_choice: { type: 'function', name: 'hang_up' },
        max_output_tokens: 4096,
      },
    },
    { type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: null, transcription: null } } } },
    { type: 'session.update', session: { type: 'transcription', audio: { input: { format: { type: 'audio/pcm', rate: 24000 } } } } },
    { type: 'input_audio_buffer.append', audio: 'AAAA' },
    { type: 'input_audio_buffer.commit', event_id: 'c1' },
    { type: 'input_audio_buffer.clear' },
    { type: 'output_audio_buffer.clear' },
    { type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] } },
    { type: 'conversation.item.create', previous_item_id: 'root', item: { type: 'function_call_output', call_id: 'call_1', output: '{}' } },
    { type: 'conversation.item.create', item: { type: 'function_call', name: 'f', arguments: '{}', call_id: 'call_1' } },
    { type: 'conversation.item.create', item: { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'x' }] } },
    { type: 'conversation.item.retrieve', item_id: 'item_1' },
    { type: 'conversation.item.truncate', item_id: 'item_1', content_index: 0, audio_end_ms: 1500 },
    { type: 'conversation.item.delete', item_id: 'item_1' },
    { type: 'response.create' },
    {
      type: 'response.create',
      response: {
        conversation: 'none',
        metadata: { koe_purpose: 'greeting' },
        instructions: 'Say hi',
        output_modalities: ['audio'],
        audio: { output: { voice: 'alloy', format: { type: 'audio/pcmu' } } },
        tools: [],
        tool_choice: 'none',
        max_output_tokens: 'inf',
        input: [{ type: 'item_reference', id: 'item_1' }],
      },
    },
    { type: 'response.cancel' },
    { type: 'response.cancel', response_id: 'resp_1' },
  ];
  for (const event of valid) {
    test(`accepts ${(event as { type: string }).type} ${JSON.stringify(event).slice(0, 60)}`, () => {
      const result = parseClientEvent(event, 'ga');
      assert.equal(result.ok, true, result.ok ? '' : JSON.stringify(result.error));
    });
  }

  test('a tool without type is a function', () => {
    const result = parseClientEvent({ type: 'session.update', session: { type: 'realtime', tools: [{ name: 'x' }] } }, 'ga');
    assert.ok(result.ok);
    assert.deepEqual(result.event, { type: 'session.update', session: { type: 'realtime', tools: [{ type: 'function', name: 'x' }] } });
  });

  const errors: [string, unknown, { code: string | null; param: string | null; message: string; event_id?: string | null }][] = [
    [
      'session.update without session.type',
      { type: 'session.update', event_id: 'evt_7', session: { instructions: 'x' } },
      { code: 'missing_required_parameter', param: 'session.type', message: "Missing required parameter: 'session.type'.", event_id: 'evt_7' },
    ],
    [
      'an unknown key deep in tools',
      { type: 'session.update', session: { type: 'realtime', tools: [{ type: 'function', name: 'x', meta: 1 }] } },
      { code: 'unknown_parameter', param: 'session.tools[0].meta', message: "Unknown parameter: 'session.tools[0].meta'." },
    ],
    [
      'a beta field on GA',
      { type: 'session.update', session: { type: 'realtime', input_audio_format: 'g711_ulaw' } },
      { code: 'unknown_parameter', param: 'session.input_audio_format', message: "Unknown parameter: 'session.input_audio_format'." },
    ],
    [
      'a beta format string where GA wants an object',
      { type: 'session.update', session: { type: 'realtime', audio: { input: { format: 'pcm16' } } } },
      {
        code: 'invalid_type',
        param: 'session.audio.input.format',
        message: "Invalid type for 'session.audio.input.format': expected an object, but got a string instead.",
      },
    ],
    [
      'a bad enum value',
      { type: 'session.update', session: { type: 'realtime', audio: { input: { format: { type: 'audio/wav' } } } } },
      {
        code: 'invalid_value',
        param: 'session.audio.input.format.type',
        message: "Invalid value: 'audio/wav'. Supported values are: 'audio/pcm', 'audio/pcmu', and 'audio/pcma'.",
      },
    ],
    [
      'a bad session.type',
      { type: 'session.update', session: { type: 'chat' } },
      { code: 'invalid_value', param: 'session.type', message: "Invalid value: 'chat'. Supported values are: 'realtime' and 'transcription'." },
    ],
    [
      'speed out of range',
      { type: 'session.update', session: { type: 'realtime', audio: { output: { speed: 3 } } } },
      {
        code: 'decimal_above_max_value',
        param: 'session.audio.output.speed',
        message: "Invalid 'session.audio.output.speed': decimal above maximum value. Expected a value <= 1.5, but got 3 instead.",
      },
    ],
    [
      'a wrong type',
      { type: 'session.update', session: { type: 'realtime', instructions: 5 } },
      {
        code: 'invalid_type',
        param: 'session.instructions',
        message: "Invalid type for 'session.instructions': expected a string, but got an integer instead.",
      },
    ],
    [
      'a missing field',
      { type: 'conversation.item.truncate', item_id: 'x', content_index: 0 },
      { code: 'missing_required_parameter', param: 'audio_end_ms', message: "Missing required parameter: 'audio_end_ms'." },
    ],
    [
      'user content with an assistant type',
      { type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'output_text', text: 'x' }] } },
      {
        code: 'invalid_value',
        param: 'item.content[0].type',
        message: "Invalid value: 'output_text'. Supported values are: 'input_text', 'input_audio', and 'input_image'.",
      },
    ],
    [
      'a missing type',
      { event_id: 'evt_567' },
      { code: 'invalid_event', param: null, message: "The 'type' field is missing.", event_id: 'evt_567' },
    ],
    [
      'an unknown event type',
      { type: 'ping' },
      {
        code: 'invalid_value',
        param: 'type',
        message:
          "Invalid value: 'ping'. Supported values are: 'session.update', 'input_audio_buffer.append', 'input_audio_buffer.commit', 'input_audio_buffer.clear', 'output_audio_buffer.clear', 'conversation.item.create', 'conversation.item.truncate', 'conversation.item.delete', 'conversation.item.retrieve', 'response.create', and 'response.cancel'.",
      },
    ],
    [
      'a beta event name on GA',
      { type: 'transcription_session.update', session: {} },
      { code: 'invalid_value', param: 'type', message: "Invalid value: 'transcription_session.update'. Supported values are: 'session.update', 'input_audio_buffer.append', 'input_audio_buffer.commit', 'input_audio_buffer.clear', 'output_audio_buffer.clear', 'conversation.item.create', 'conversation.item.truncate', 'conversation.item.delete', 'conversation.item.retrieve', 'response.create', and 'response.cancel'." },
    ],
    [
      'an event_id longer than 512',
      { type: 'response.create', event_id: 'x'.repeat(513) },
      {
        code: 'string_above_max_length',
        param: 'event_id',
        message: "Invalid 'event_id': string too long. Expected a string with maximum length 512, but got a string with length 513 instead.",
      },
    ],
  ];
  for (const [name, event, expected] of errors) {
    test(`answers ${name} with ${String(expected.code)}`, () => {
      const result = parseClientEvent(event, 'ga');
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.error.type, 'invalid_request_error');
      assert.equal(result.error.code, expected.code);
      assert.equal(result.error.param, expected.param);
      assert.equal(result.error.message, expected.message);
      if (expected.event_id !== undefined) assert.equal(result.error.event_id, expected.event_id);
    });
  }

  test('bad JSON is answered, not thrown', () => {
    const result = parseClientFrame('{"type": ', 'ga');
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.error.code, 'invalid_json');
      assert.equal(result.error.event_id, null);
    }
  });

  test('a JSON value that is not an object is an invalid_event', () => {
    const result = parseClientFrame('[]', 'ga');
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.error.code, 'invalid_event');
  });
});

describe('parseClientEvent (beta)', () => {
  test('validates the flat beta shape and returns GA', () => {
    const result = parseClientEvent(
      {
        type: 'session.update',
        event_id: 'b1',
        session: { input_audio_format: 'g711_ulaw', output_audio_format: 'g711_ulaw', voice: 'ash', modalities: ['text', 'audio'], temperature: 0.8 },
      },
      'beta',
    );
    assert.ok(result.ok);
    assert.deepEqual(result.event, {
      type: 'session.update',
      event_id: 'b1',
      session: {
        type: 'realtime',
        output_modalities: ['audio'],
        audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' }, voice: 'ash' } },
      },
    });
  });

  test('reports errors in the beta terms the client used', () => {
    const result = parseClientEvent({ type: 'session.update', session: { input_audio_format: 'g711-ulaw' } }, 'beta');
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.error.code, 'invalid_value');
      assert.equal(result.error.param, 'session.input_audio_format');
      assert.equal(result.error.message, "Invalid value: 'g711-ulaw'. Supported values are: 'pcm16', 'g711_ulaw', and 'g711_alaw'.");
    }
  });

  test('a GA field on beta is an unknown parameter', () => {
    const result = parseClientEvent({ type: 'session.update', session: { type: 'realtime' } }, 'beta');
    assert.equal(result.ok, false);
    if (!result.ok) assert.deepEqual([result.error.code, result.error.param], ['unknown_parameter', 'session.type']);
  });

  test('transcription_session.update becomes a GA transcription session.update', () => {
    const result = parseClientEvent(
      { type: 'transcription_session.update', session: { input_audio_transcription: { model: 'whisper-1' }, modalities: ['text'] } },
      'beta',
    );
    assert.ok(result.ok);
    assert.deepEqual(result.event, {
      type: 'session.update',
      session: { type: 'transcription', audio: { input: { transcription: { model: 'whisper-1' } } } },
    });
  });

  test('temperature outside 0.6–1.2 is refused as the beta service does', () => {
    const result = parseClientEvent({ type: 'session.update', session: { temperature: 0.2 } }, 'beta');
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.error.code, 'decimal_below_min_value');
  });
});

describe('ids', () => {
  test('prefix, underscore, 21 alphanumerics (call_: 16)', () => {
    for (const prefix of ['event', 'sess', 'conv', 'item', 'resp'] as const) {
      const id = newRealtimeId(prefix);
      assert.match(id, new RegExp(`^${prefix}_[A-Za-z0-9]{21}$`));
      assert.ok(isRealtimeId(id, prefix));
    }
    assert.match(newRealtimeId('call'), /^call_[A-Za-z0-9]{16}$/);
    const many = new Set(Array.from({ length: 5000 }, () => newRealtimeId('event')));
    assert.equal(many.size, 5000);
  });
});
