import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clientEventBetaToGa,
  clientEventGaToBeta,
  createBetaToGaState,
  serverEventBetaToGa,
  serverEventGaToBeta,
  type BetaClientEvent,
  type BetaServerEvent,
  type RealtimeClientEvent,
  type RealtimeServerEvent,
} from '../../../src/realtime/index.js';

// Each row: a GA event and its beta twin. Both directions are checked on every row.
interface ClientRow {
  name: string;
  ga: RealtimeClientEvent;
  beta: BetaClientEvent;
}

const clientRows: ClientRow[] = [
  {
    name: 'session.update: formats, voice, speed, transcription, noise reduction, turn detection',
    ga: {
      type: 'session.update',
      event_id: 'evt_1',
      session: {
        type: 'realtime',
        instructions: 'Be brief.',
        output_modalities: ['audio'],
        max_output_tokens: 512,
        audio: {
          input: {
            format: { type: 'audio/pcmu' },
            transcription: { model: 'gpt-4o-transcribe', language: 'ja' },
            noise_reduction: { type: 'near_field' },
            turn_detection: {
              type: 'server_vad',
              threshold: 0.6,
              prefix_padding_ms: 300,
              silence_duration_ms: 500,
              create_response: true,
              interrupt_response: true,
            },
          },
          output: { format: { type: 'audio/pcma' }, voice: 'marin', speed: 1.1 },
        },
        tools: [{ type: 'function', name: 'hang_up', description: 'End the call', parameters: { type: 'object' } }],
        tool_choice: 'auto',
      },
    },
    beta: {
      type: 'session.update',
      event_id: 'evt_1',
      session: {
        instructions: 'Be brief.',
        modalities: ['audio', 'text'],
        max_response_output_tokens: 512,
        input_audio_format: 'g711_ulaw',
        input_audio_transcription: { model: 'gpt-4o-transcribe', language: 'ja' },
        input_audio_noise_reduction: { type: 'near_field' },
        turn_detection: {
          type: 'server_vad',
          threshold: 0.6,
          prefix_padding_ms: 300,
          silence_duration_ms: 500,
          create_response: true,
          interrupt_response: true,
        },
        output_audio_format: 'g711_alaw',
        voice: 'marin',
        speed: 1.1,
        tools: [{ type: 'function', name: 'hang_up', description: 'End the call', parameters: { type: 'object' } }],
        tool_choice: 'auto',
      },
    },
  },
  {
    name: 'session.update: pcm16, text modality, manual turns (null), "inf" tokens',
    ga: {
      type: 'session.update',
      session: {
        type: 'realtime',
        output_modalities: ['text'],
        max_output_tokens: 'inf',
        audio: { input: { format: { type: 'audio/pcm', rate: 24000 }, turn_detection: null } },
      },
    },
    beta: {
      type: 'session.update',
      session: { modalities: ['text'], max_response_output_tokens: 'inf', input_audio_format: 'pcm16', turn_detection: null },
    },
  },
  {
    name: 'session.update: semantic VAD',
    ga: {
      type: 'session.update',
      session: {
        type: 'realtime',
        audio: { input: { turn_detection: { type: 'semantic_vad', eagerness: 'low', create_response: false } } },
      },
    },
    beta: {
      type: 'session.update',
      session: { turn_detection: { type: 'semantic_vad', eagerness: 'low', create_response: false } },
    },
  },
  {
    name: 'session.update of type transcription ⇄ transcription_session.update',
    ga: {
      type: 'session.update',
      session: {
        type: 'transcription',
        audio: { input: { format: { type: 'audio/pcmu' }, transcription: { model: 'whisper-1', prompt: 'names' } } },
        include: ['item.input_audio_transcription.logprobs'],
      },
    },
    beta: {
      type: 'transcription_session.update',
      session: {
        input_audio_format: 'g711_ulaw',
        input_audio_transcription: { model: 'whisper-1', prompt: 'names' },
        include: ['item.input_audio_transcription.logprobs'],
      },
    },
  },
  {
    name: 'response.create: modalities, voice, format, tokens, conversation, metadata, input items',
    ga: {
      type: 'response.create',
      response: {
        conversation: 'none',
        metadata: { koe_purpose: 'greeting' },
        instructions: 'Say hello.',
        output_modalities: ['audio'],
        audio: { output: { format: { type: 'audio/pcmu' }, voice: 'alloy' } },
        max_output_tokens: 200,
        tools: [],
        tool_choice: 'none',
        input: [
          { type: 'item_reference', id: 'item_1' },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hi' }] },
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hello' }] },
        ],
      },
    },
    beta: {
      type: 'response.create',
      response: {
        conversation: 'none',
        metadata: { koe_purpose: 'greeting' },
        instructions: 'Say hello.',
        modalities: ['audio', 'text'],
        output_audio_format: 'g711_ulaw',
        voice: 'alloy',
        max_response_output_tokens: 200,
        tools: [],
        tool_choice: 'none',
        input: [
          { type: 'item_reference', id: 'item_1' },
          { type: 'message', role: 'assistant', content: [{ type: 'text', text: 'Hi' }] },
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hello' }] },
        ],
      },
    },
  },
  {
    name: 'conversation.item.create: assistant output_text ⇄ text',
    ga: {
      type: 'conversation.item.create',
      previous_item_id: 'item_0',
      item: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Earlier reply' }] },
    },
    beta: {
      type: 'conversation.item.create',
      previous_item_id: 'item_0',
      item: { type: 'message', role: 'assistant', content: [{ type: 'text', text: 'Earlier reply' }] },
    },
  },
  {
    name: 'conversation.item.create: function_call_output unchanged',
    ga: { type: 'conversation.item.create', item: { type: 'function_call_output', call_id: 'call_1', output: '{"ok":true}' } },
    beta: { type: 'conversation.item.create', item: { type: 'function_call_output', call_id: 'call_1', output: '{"ok":true}' } },
  },
  ...(
    [
      { type: 'input_audio_buffer.append', audio: 'AAAA' },
      { type: 'input_audio_buffer.commit' },
      { type: 'input_audio_buffer.clear' },
      { type: 'conversation.item.truncate', item_id: 'item_B', content_index: 0, audio_end_ms: 1500 },
      { type: 'conversation.item.delete', item_id: 'item_B' },
      { type: 'conversation.item.retrieve', item_id: 'item_B' },
      { type: 'response.cancel', response_id: 'resp_R' },
      { type: 'response.create' },
    ] as RealtimeClientEvent[]
  ).map((event) => ({ name: `${event.type} unchanged`, ga: event, beta: event as BetaClientEvent })),
];

describe('client events GA ⇄ beta', () => {
  for (const row of clientRows) {
    test(`GA → beta: ${row.name}`, () => {
      assert.deepEqual(clientEventGaToBeta(row.ga), row.beta);
    });
    test(`beta → GA: ${row.name}`, () => {
      assert.deepEqual(clientEventBetaToGa(row.beta), row.ga);
    });
    test(`round trips: ${row.name}`, () => {
      assert.deepEqual(clientEventBetaToGa(clientEventGaToBeta(row.ga)), row.ga);
      assert.deepEqual(clientEventGaToBeta(clientEventBetaToGa(row.beta)), row.beta);
    });
  }

  test('translation does not mutate its input', () => {
    const row = clientRows[0] as ClientRow;
    const before = structuredClone(row.ga);
    clientEventGaToBeta(row.ga);
    assert.deepEqual(row.ga, before);
  });

  test('beta-only fields without a GA equivalent are dropped: temperature, client_secret', () => {
    const ga = clientEventBetaToGa({ type: 'session.update', session: { temperature: 0.8, voice: 'ash', client_secret: {} } });
    assert.deepEqual(ga, { type: 'session.update', session: { type: 'realtime', audio: { output: { voice: 'ash' } } } });
    const create = clientEventBetaToGa({ type: 'response.create', response: { temperature: 0.7 } });
    assert.deepEqual(create, { type: 'response.create', response: {} });
  });

  test('beta turn detection: type defaults to server_vad; fields of the other arm are dropped', () => {
    const ga = clientEventBetaToGa({ type: 'session.update', session: { turn_detection: { silence_duration_ms: 400, eagerness: 'high' } } });
    assert.deepEqual(ga, {
      type: 'session.update',
      session: { type: 'realtime', audio: { input: { turn_detection: { type: 'server_vad', silence_duration_ms: 400 } } } },
    });
  });

  test('beta modalities ["text","audio"] normalise to GA ["audio"]', () => {
    const ga = clientEventBetaToGa({ type: 'session.update', session: { modalities: ['text', 'audio'] } });
    assert.deepEqual(ga, { type: 'session.update', session: { type: 'realtime', output_modalities: ['audio'] } });
  });

  test('beta items without type get one inferred; user "text" content becomes input_text', () => {
    const ga = clientEventBetaToGa({
      type: 'conversation.item.create',
      item: { role: 'user', content: [{ type: 'text', text: 'hi' }] },
    });
    assert.deepEqual(ga, {
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
    });
    const output = clientEventBetaToGa({ type: 'conversation.item.create', item: { call_id: 'call_1', output: 'x' } });
    assert.deepEqual(output, { type: 'conversation.item.create', item: { type: 'function_call_output', call_id: 'call_1', output: 'x' } });
  });

  test('GA-only fields pass through to beta, for the beta server to refuse', () => {
    const beta = clientEventGaToBeta({
      type: 'session.update',
      session: { type: 'realtime', truncation: 'disabled', audio: { input: { transcription: { model: 'm', keywords: ['Koe'] } } } },
    });
    assert.deepEqual(beta, {
      type: 'session.update',
      session: { truncation: 'disabled', input_audio_transcription: { model: 'm', keywords: ['Koe'] } },
    });
  });
});

// ── server events ──

const gaUserItem = {
  id: 'item_A',
  type: 'message',
  status: 'completed',
  role: 'user',
  content: [{ type: 'input_audio', transcript: null }],
} as const;
const betaUserItem = { ...gaUserItem, object: 'realtime.item' } as const;
const gaAssistantDone = {
  id: 'item_B',
  type: 'message',
  status: 'completed',
  role: 'assistant',
  content: [{ type: 'output_audio', transcript: 'Hello there' }],
} as const;
const betaAssistantDone = {
  ...gaAssistantDone,
  object: 'realtime.item',
  content: [{ type: 'audio', transcript: 'Hello there' }],
} as const;

const contentRef = { response_id: 'resp_R', item_id: 'item_B', output_index: 0, content_index: 0 };

interface ServerRow {
  name: string;
  ga: RealtimeServerEvent;
  beta: BetaServerEvent;
}

const renameRows: ServerRow[] = [
  ['response.output_audio.delta', 'response.audio.delta', { delta: 'AAAA' }],
  ['response.output_audio.done', 'response.audio.done', {}],
  ['response.output_audio_transcript.delta', 'response.audio_transcript.delta', { delta: 'Hel' }],
  ['response.output_audio_transcript.done', 'response.audio_transcript.done', { transcript: 'Hello' }],
  ['response.output_text.delta', 'response.text.delta', { delta: 'Hel' }],
  ['response.output_text.done', 'response.text.done', { text: 'Hello' }],
].map(([ga, beta, fields]) => ({
  name: `${ga as string} ⇄ ${beta as string}`,
  ga: { type: ga, event_id: 'event_1', ...contentRef, ...(fields as object) } as RealtimeServerEvent,
  beta: { type: beta, event_id: 'event_1', ...contentRef, ...(fields as object) } as BetaServerEvent,
}));

const gaResponse = {
  object: 'realtime.response',
  id: 'resp_R',
  status: 'completed',
  status_details: null,
  output: [gaAssistantDone],
  conversation_id: 'conv_1',
  output_modalities: ['audio'],
  max_output_tokens: 'inf',
  audio: { output: { format: { type: 'audio/pcmu' }, voice: 'alloy' } },
  usage: { total_tokens: 10, input_tokens: 4, output_tokens: 6 },
  metadata: null,
} as const;
const betaResponse = {
  object: 'realtime.response',
  id: 'resp_R',
  status: 'completed',
  status_details: null,
  output: [betaAssistantDone],
  conversation_id: 'conv_1',
  modalities: ['audio', 'text'],
  max_output_tokens: 'inf',
  output_audio_format: 'g711_ulaw',
  voice: 'alloy',
  usage: { total_tokens: 10, input_tokens: 4, output_tokens: 6 },
  metadata: null,
} as const;

const gaSession = {
  type: 'realtime',
  object: 'realtime.session',
  id: 'sess_1',
  model: 'gpt-realtime',
  output_modalities: ['audio'],
  instructions: 'x',
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
    output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy', speed: 1 },
  },
  include: null,
} as const;
const betaSession = {
  object: 'realtime.session',
  id: 'sess_1',
  model: 'gpt-realtime',
  modalities: ['audio', 'text'],
  instructions: 'x',
  tools: [],
  tool_choice: 'auto',
  max_response_output_tokens: 'inf',
  tracing: null,
  truncation: 'auto',
  prompt: null,
  expires_at: 1767233035,
  input_audio_format: 'pcm16',
  input_audio_transcription: null,
  input_audio_noise_reduction: null,
  turn_detection: {
    type: 'server_vad',
    threshold: 0.5,
    prefix_padding_ms: 300,
    silence_duration_ms: 200,
    idle_timeout_ms: null,
    create_response: true,
    interrupt_response: true,
  },
  output_audio_format: 'pcm16',
  voice: 'alloy',
  speed: 1,
  include: null,
} as const;

const oneToOneRows: ServerRow[] = [
  ...renameRows,
  {
    name: 'session.created: nested audio ⇄ flat formats, voice, turn detection',
    ga: { type: 'session.created', event_id: 'event_1', session: gaSession } as RealtimeServerEvent,
    beta: { type: 'session.created', event_id: 'event_1', session: betaSession } as BetaServerEvent,
  },
  {
    name: 'session.updated of type transcription ⇄ transcription_session.updated',
    ga: {
      type: 'session.updated',
      event_id: 'event_1',
      session: {
        type: 'transcription',
        id: 'sess_T',
        audio: { input: { format: { type: 'audio/pcmu' }, transcription: { model: 'whisper-1' } } },
      },
    },
    beta: {
      type: 'transcription_session.updated',
      event_id: 'event_1',
      session: { id: 'sess_T', input_audio_format: 'g711_ulaw', input_audio_transcription: { model: 'whisper-1' } },
    } as BetaServerEvent,
  },
  {
    name: 'response.done: modalities, voice, output_audio_format, item content renames',
    ga: { type: 'response.done', event_id: 'event_1', response: gaResponse } as RealtimeServerEvent,
    beta: { type: 'response.done', event_id: 'event_1', response: betaResponse } as BetaServerEvent,
  },
  {
    name: 'response.output_item.done: output_audio ⇄ audio, object added',
    ga: { type: 'response.output_item.done', event_id: 'event_1', response_id: 'resp_R', output_index: 0, item: gaAssistantDone },
    beta: {
      type: 'response.output_item.done',
      event_id: 'event_1',
      response_id: 'resp_R',
      output_index: 0,
      item: betaAssistantDone,
    } as BetaServerEvent,
  },
  {
    name: 'conversation.item.retrieved',
    ga: { type: 'conversation.item.retrieved', event_id: 'event_1', item: gaAssistantDone },
    beta: { type: 'conversation.item.retrieved', event_id: 'event_1', item: betaAssistantDone } as BetaServerEvent,
  },
  ...(
    [
      { type: 'input_audio_buffer.speech_started', event_id: 'event_1', audio_start_ms: 1236, item_id: 'item_A' },
      { type: 'input_audio_buffer.committed', event_id: 'event_1', previous_item_id: null, item_id: 'item_A' },
      { type: 'conversation.item.truncated', event_id: 'event_1', item_id: 'item_B', content_index: 0, audio_end_ms: 1500 },
      { type: 'response.content_part.added', event_id: 'event_1', ...contentRef, part: { type: 'audio', transcript: '' } },
      {
        type: 'error',
        event_id: 'event_1',
        error: { type: 'invalid_request_error', code: 'response_cancel_not_active', message: 'x', param: null, event_id: 'c1' },
      },
      {
        type: 'rate_limits.updated',
        event_id: 'event_1',
        rate_limits: [{ name: 'tokens', limit: 40000, remaining: 38490, reset_seconds: 2.265 }],
      },
      { type: 'some.future_event', event_id: 'event_1', anything: [1, 2] },
    ] as RealtimeServerEvent[]
  ).map((event) => ({ name: `${event.type} unchanged`, ga: event, beta: event as BetaServerEvent })),
];

describe('server events GA ⇄ beta, one to one', () => {
  for (const row of oneToOneRows) {
    test(`GA → beta: ${row.name}`, () => {
      assert.deepEqual(serverEventGaToBeta(row.ga), [row.beta]);
    });
    test(`beta → GA: ${row.name}`, () => {
      assert.deepEqual(serverEventBetaToGa(row.beta, createBetaToGaState()), [row.ga]);
    });
  }
});

describe('conversation items: beta created ⇄ GA added + done', () => {
  test('a committed user item: beta created → GA added then done at once', () => {
    const created = { type: 'conversation.item.created', event_id: 'event_9', previous_item_id: null, item: betaUserItem } as BetaServerEvent;
    assert.deepEqual(serverEventBetaToGa(created, createBetaToGaState()), [
      { type: 'conversation.item.added', event_id: 'event_9', previous_item_id: null, item: gaUserItem },
      { type: 'conversation.item.done', event_id: 'event_9:done', previous_item_id: null, item: gaUserItem },
    ]);
  });

  test('GA added + done of a user item → one beta created', () => {
    const added = { type: 'conversation.item.added', event_id: 'e1', previous_item_id: null, item: gaUserItem } as RealtimeServerEvent;
    const done = { type: 'conversation.item.done', event_id: 'e2', previous_item_id: null, item: gaUserItem } as RealtimeServerEvent;
    assert.deepEqual(
      [...serverEventGaToBeta(added), ...serverEventGaToBeta(done)],
      [{ type: 'conversation.item.created', event_id: 'e1', previous_item_id: null, item: betaUserItem }],
    );
  });

  test('model output: created in_progress → added; output_item.done → output_item.done + item done (with state)', () => {
    const state = createBetaToGaState();
    const inProgress = { id: 'item_B', object: 'realtime.item', type: 'message', status: 'in_progress', role: 'assistant', content: [] };
    const created = {
      type: 'conversation.item.created',
      event_id: 'e1',
      previous_item_id: 'item_A',
      item: inProgress,
    } as BetaServerEvent;
    assert.deepEqual(serverEventBetaToGa(created, state), [
      {
        type: 'conversation.item.added',
        event_id: 'e1',
        previous_item_id: 'item_A',
        item: { id: 'item_B', type: 'message', status: 'in_progress', role: 'assistant', content: [] },
      },
    ]);
    const outputDone = {
      type: 'response.output_item.done',
      event_id: 'e2',
      response_id: 'resp_R',
      output_index: 0,
      item: betaAssistantDone,
    } as BetaServerEvent;
    assert.deepEqual(serverEventBetaToGa(outputDone, state), [
      { type: 'response.output_item.done', event_id: 'e2', response_id: 'resp_R', output_index: 0, item: gaAssistantDone },
      { type: 'conversation.item.done', event_id: 'e2:done', previous_item_id: 'item_A', item: gaAssistantDone },
    ]);
    assert.equal(state.openItems.size, 0);
  });

  test('an out-of-band response item (never created in the conversation) gets no item done', () => {
    const state = createBetaToGaState();
    const outputDone = {
      type: 'response.output_item.done',
      event_id: 'e2',
      response_id: 'resp_R',
      output_index: 0,
      item: betaAssistantDone,
    } as BetaServerEvent;
    assert.equal(serverEventBetaToGa(outputDone, state).length, 1);
  });

  test('GA sequence → beta → GA gives the GA sequence back (model output)', () => {
    const inProgress = { id: 'item_B', type: 'message', status: 'in_progress', role: 'assistant', content: [] } as const;
    const ga: RealtimeServerEvent[] = [
      { type: 'response.output_item.added', event_id: 'e1', response_id: 'resp_R', output_index: 0, item: inProgress },
      { type: 'conversation.item.added', event_id: 'e2', previous_item_id: 'item_A', item: inProgress },
      { type: 'response.output_item.done', event_id: 'e3', response_id: 'resp_R', output_index: 0, item: gaAssistantDone },
      { type: 'conversation.item.done', event_id: 'e3:done', previous_item_id: 'item_A', item: gaAssistantDone },
    ];
    const state = createBetaToGaState();
    const back = ga.flatMap((event) => serverEventGaToBeta(event)).flatMap((event) => serverEventBetaToGa(event, state));
    assert.deepEqual(back, ga);
  });

  test('beta function_call_arguments.done gets its name from the announced item', () => {
    const state = createBetaToGaState();
    const fnItem = {
      id: 'item_F',
      object: 'realtime.item',
      type: 'function_call',
      status: 'in_progress',
      call_id: 'call_1',
      name: 'get_weather',
      arguments: '',
    };
    serverEventBetaToGa(
      { type: 'response.output_item.added', event_id: 'e1', response_id: 'r', output_index: 0, item: fnItem } as BetaServerEvent,
      state,
    );
    const [done] = serverEventBetaToGa(
      {
        type: 'response.function_call_arguments.done',
        event_id: 'e2',
        response_id: 'r',
        item_id: 'item_F',
        output_index: 0,
        call_id: 'call_1',
        arguments: '{}',
      } as BetaServerEvent,
      state,
    );
    assert.equal((done as { name?: string }).name, 'get_weather');
  });

  test('transcription_session.created → session.created of type transcription', () => {
    const [event] = serverEventBetaToGa({
      type: 'transcription_session.created',
      event_id: 'e1',
      session: { input_audio_format: 'pcm16', modalities: ['text'], turn_detection: { type: 'server_vad', threshold: 0.5 } },
    } as BetaServerEvent);
    assert.deepEqual(event, {
      type: 'session.created',
      event_id: 'e1',
      session: {
        type: 'transcription',
        audio: { input: { format: { type: 'audio/pcm', rate: 24000 }, turn_detection: { type: 'server_vad', threshold: 0.5 } } },
      },
    });
  });

  test('beta temperature on sessions and responses is dropped', () => {
    const [event] = serverEventBetaToGa({
      type: 'response.created',
      event_id: 'e1',
      response: { id: 'resp_1', status: 'in_progress', temperature: 0.8, modalities: ['text'] },
    } as BetaServerEvent);
    assert.deepEqual(event, {
      type: 'response.created',
      event_id: 'e1',
      response: { id: 'resp_1', status: 'in_progress', output_modalities: ['text'] },
    });
  });
});
