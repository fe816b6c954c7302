// The session of one connection (realtime.md §b.1, §b.2): session.created first with the documented
// defaults, session.update merged or refused with the live errors, the frame-level errors, beta names.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_INSTRUCTIONS, ProtocolSession } from '../../../../src/engine/protocol/index.js';
import { MULAW_SESSION, ScriptedBrain, startSession, types, type Json } from './session-harness.js';

const ID = (prefix: string): RegExp => new RegExp(`^${prefix}_[A-Za-z0-9]{21}$`);

describe('protocol session: start', () => {
  test('session.created is the first event, with the GA defaults, sent from the constructor', () => {
    const h = startSession();
    assert.deepEqual(types(h.sent), ['session.created']);
    const created = h.sent[0] as Json;
    assert.match(String(created.event_id), ID('event'));
    const session = created.session as Json;
    assert.match(String(session.id), ID('sess'));
    assert.equal(h.session.id, session.id);
    assert.ok(typeof session.expires_at === 'number' && session.expires_at > Date.now() / 1000);
    assert.deepEqual({ ...session, id: 'x', expires_at: 0 }, {
      type: 'realtime',
      object: 'realtime.session',
      id: 'x',
      model: 'gpt-realtime',
      output_modalities: ['audio'],
      instructions: DEFAULT_INSTRUCTIONS,
      tools: [],
      tool_choice: 'auto',
      max_output_tokens: 'inf',
      tracing: null,
      truncation: 'auto',
      prompt: null,
      expires_at: 0,
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
    });
    // The transport is given the exact wire text of each event.
    assert.deepEqual(JSON.parse(h.frames[0] as string), created);
  });

  test('the brain is made before session.created goes out, with the session as its control', () => {
    const order: string[] = [];
    const brain = new ScriptedBrain();
    const session = new ProtocolSession({
      shape: 'ga',
      model: 'gpt-realtime',
      send: (_text, event) => order.push(event.type),
      brain: (control) => {
        order.push('brain');
        assert.equal(control.items.length, 0);
        return brain;
      },
    });
    assert.deepEqual(order, ['brain', 'session.created']);
    assert.equal(session.closed, false);
  });

  test('beta: flat session with temperature and client_secret', () => {
    const h = startSession({ shape: 'beta', model: 'gpt-4o-realtime-preview' });
    const session = (h.sent[0] as Json).session as Json;
    assert.equal(h.sent[0]?.type, 'session.created');
    assert.equal(session.model, 'gpt-4o-realtime-preview');
    assert.deepEqual(session.modalities, ['audio', 'text']);
    assert.equal(session.input_audio_format, 'pcm16');
    assert.equal(session.voice, 'alloy');
    assert.equal(session.temperature, 0.8);
    assert.equal(session.client_secret, null);
    assert.equal('audio' in session, false);
  });

  test('transcription sessions: GA session.type transcription, beta transcription_session.created', () => {
    const ga = startSession({ sessionType: 'transcription' });
    const gaSession = (ga.sent[0] as Json).session as Json;
    assert.equal(ga.sent[0]?.type, 'session.created');
    assert.equal(gaSession.type, 'transcription');
    assert.equal(gaSession.object, 'realtime.transcription_session');
    assert.equal('model' in gaSession, false);

    const beta = startSession({ shape: 'beta', sessionType: 'transcription' });
    assert.equal(beta.sent[0]?.type, 'transcription_session.created');
    const updated = beta.send({
      type: 'transcription_session.update',
      session: { input_audio_format: 'g711_ulaw', input_audio_transcription: { model: 'gpt-4o-transcribe' } },
    });
    assert.deepEqual(types(updated), ['transcription_session.updated']);
    assert.equal((updated[0]?.session as Json).input_audio_format, 'g711_ulaw');
    assert.deepEqual(beta.session.config.audio?.input?.transcription, { model: 'gpt-4o-transcribe' });
  });
});

describe('protocol session: session.update', () => {
  test('merges only the fields sent, fills turn detection defaults, tells the brain', () => {
    const h = startSession();
    const out = h.send({ ...MULAW_SESSION, event_id: 'mine', session: { ...MULAW_SESSION.session, instructions: 'Be brief.' } });
    assert.deepEqual(types(out), ['session.updated']);
    const session = out[0]?.session as { instructions: string; tools: unknown[]; audio: { input: Json; output: Json } };
    assert.notEqual(out[0]?.event_id, 'mine');
    assert.equal(session.instructions, 'Be brief.');
    assert.deepEqual(session.tools, []);
    assert.deepEqual(session.audio.input.format, { type: 'audio/pcmu' });
    assert.deepEqual(session.audio.input.transcription, { model: 'gpt-4o-transcribe' });
    assert.equal(session.audio.input.noise_reduction, null);
    assert.deepEqual(session.audio.output, { format: { type: 'audio/pcmu' }, voice: 'marin', speed: 1 });
    assert.equal(h.brain.sessions.length, 1);
    assert.equal(h.brain.sessions[0], h.session.config);

    const td = h.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: { type: 'server_vad', silence_duration_ms: 500 } } } } });
    assert.deepEqual((td[0]?.session as { audio: { input: Json } }).audio.input.turn_detection, {
      type: 'server_vad',
      threshold: 0.5,
      prefix_padding_ms: 300,
      silence_duration_ms: 500,
      idle_timeout_ms: null,
      create_response: true,
      interrupt_response: true,
    });
    const semantic = h.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: { type: 'semantic_vad' } } } } });
    assert.deepEqual((semantic[0]?.session as { audio: { input: Json } }).audio.input.turn_detection, {
      type: 'semantic_vad',
      eagerness: 'auto',
      create_response: true,
      interrupt_response: true,
    });
    const manual = h.send({ type: 'session.update', session: { type: 'realtime', instructions: '', audio: { input: { turn_detection: null } } } });
    const cleared = manual[0]?.session as { instructions: string; audio: { input: Json } };
    assert.equal(cleared.instructions, '');
    assert.equal(cleared.audio.input.turn_detection, null);
  });

  test('a session type mismatch, a model change and a missing type are refused; the session is unchanged', () => {
    const h = startSession();
    const before = structuredClone(h.session.config);
    let out = h.send({ type: 'session.update', event_id: 'e1', session: { type: 'transcription' } });
    assert.deepEqual(out[0]?.error, {
      type: 'invalid_request_error',
      code: 'invalid_value',
      message: 'Passing a transcription session update event to a realtime session is not allowed.',
      param: 'session.type',
      event_id: 'e1',
    });
    out = h.send({ type: 'session.update', event_id: 'e2', session: { type: 'realtime', model: 'gpt-realtime-mini' } });
    assert.deepEqual(out[0]?.error, {
      type: 'invalid_request_error',
      code: 'invalid_value',
      message: 'The session model cannot be changed.',
      param: 'session.model',
      event_id: 'e2',
    });
    out = h.send({ type: 'session.update', session: { type: 'realtime', model: 'gpt-realtime' } });
    assert.deepEqual(types(out), ['session.updated'], 'the same model is fine');
    out = h.send({ type: 'session.update', event_id: 'e3', session: { instructions: 'x' } });
    assert.deepEqual(out[0]?.error, {
      type: 'invalid_request_error',
      code: 'missing_required_parameter',
      message: "Missing required parameter: 'session.type'.",
      param: 'session.type',
      event_id: 'e3',
    });
    assert.deepEqual(h.session.config, before);
    assert.equal(h.brain.sessions.length, 1);
  });

  test('the voice cannot change once assistant audio exists (an unchanged voice is fine)', () => {
    const h = startSession();
    h.brain.respond = (response) => {
      const message = response.beginMessage();
      message.audio(Buffer.alloc(480));
      response.finish();
    };
    assert.deepEqual(types(h.send({ type: 'session.update', session: { type: 'realtime', audio: { output: { voice: 'ash' } } } })), ['session.updated']);
    h.send({ type: 'response.create' });
    const refused = h.send({ type: 'session.update', event_id: 'v', session: { type: 'realtime', audio: { output: { voice: 'marin' } } } });
    assert.deepEqual(refused[0]?.error, {
      type: 'invalid_request_error',
      code: 'cannot_update_voice',
      message: "Cannot update a conversation's voice if assistant audio is present.",
      param: null,
      event_id: 'v',
    });
    assert.deepEqual(types(h.send({ type: 'session.update', session: { type: 'realtime', audio: { output: { voice: 'ash' } } } })), ['session.updated']);
  });

  test('beta: the temperature sent is reported back on the session and on responses', () => {
    const h = startSession({ shape: 'beta' });
    const out = h.send({ type: 'session.update', session: { temperature: 0.7, voice: 'marin', input_audio_format: 'g711_ulaw' } });
    const session = out[0]?.session as Json;
    assert.equal(session.temperature, 0.7);
    assert.equal(session.voice, 'marin');
    assert.equal(session.input_audio_format, 'g711_ulaw');
    h.brain.respond = (response) => response.finish();
    const response = h.send({ type: 'response.create' });
    assert.equal((h.one(response, 'response.created').response as Json).temperature, 0.7);
    assert.equal((h.one(response, 'response.done').response as Json).temperature, 0.7);
  });
});

describe('protocol session: frames', () => {
  test('bad JSON, unknown events, a beta name on GA and binary frames get an error; the session goes on', () => {
    const h = startSession();
    let out = h.sendRaw('{not json');
    assert.equal((out[0]?.error as Json).code, 'invalid_json');
    out = h.send({ type: 'ping', event_id: 'p1' });
    assert.deepEqual([(out[0]?.error as Json).code, (out[0]?.error as Json).param, (out[0]?.error as Json).event_id], ['invalid_value', 'type', 'p1']);
    out = h.send({ type: 'transcription_session.update', session: {} });
    assert.equal((out[0]?.error as Json).code, 'invalid_value');
    out = h.send({ event_id: 'no-type' });
    assert.equal((out[0]?.error as Json).code, 'invalid_event');
    out = h.sendRaw('{"type":"input_audio_buffer.clear"}', true);
    assert.deepEqual(out[0]?.error, {
      type: 'invalid_request_error',
      code: 'invalid_event',
      message: 'Binary frames are not supported.',
      param: null,
      event_id: null,
    });
    assert.deepEqual(types(h.send({ type: 'input_audio_buffer.clear' })), ['input_audio_buffer.cleared']);
  });

  test('receive() returns the valid event in GA shape, and accepts Buffers, ArrayBuffers and fragments', () => {
    const h = startSession({ shape: 'beta' });
    const text = JSON.stringify({ type: 'session.update', session: { modalities: ['text'] } });
    const event = h.session.receive(Buffer.from(text));
    assert.equal(event?.type, 'session.update');
    assert.deepEqual(event?.type === 'session.update' && event.session.type === 'realtime' ? event.session.output_modalities : undefined, ['text']);
    const bytes = new TextEncoder().encode(JSON.stringify({ type: 'input_audio_buffer.clear' }));
    assert.equal(h.session.receive(bytes.buffer as ArrayBuffer)?.type, 'input_audio_buffer.clear');
    assert.equal(h.session.receive([Buffer.from('{"type":"input_audio_'), Buffer.from('buffer.clear"}')])?.type, 'input_audio_buffer.clear');
    assert.equal(h.session.receive('{'), undefined);
  });

  test('output_audio_buffer.clear is WebRTC/SIP only', () => {
    const h = startSession();
    const out = h.send({ type: 'output_audio_buffer.clear', event_id: 'o1' });
    assert.deepEqual(out[0]?.error, {
      type: 'invalid_request_error',
      code: 'invalid_event',
      message: "'output_audio_buffer.clear' is only supported for WebRTC and SIP connections.",
      param: 'type',
      event_id: 'o1',
    });
  });

  test('emitEvent sends any GA event with an event_id, translated for beta', () => {
    const h = startSession({ shape: 'beta' });
    h.take();
    h.session.emitEvent({ type: 'something.new_from_openai', detail: 1 });
    h.session.emitEvent({ type: 'response.output_text.delta', event_id: 'event_mine', response_id: 'r', item_id: 'i', output_index: 0, content_index: 0, delta: 'x' });
    const out = h.take();
    assert.equal(out[0]?.type, 'something.new_from_openai');
    assert.match(String(out[0]?.event_id), /^event_/);
    assert.deepEqual([out[1]?.type, out[1]?.event_id], ['response.text.delta', 'event_mine']);
  });

  test('close() closes the brain once; afterwards nothing is received or sent', () => {
    const h = startSession();
    h.session.close();
    h.session.close();
    assert.equal(h.brain.closed, 1);
    assert.equal(h.session.closed, true);
    assert.equal(h.session.receive(JSON.stringify({ type: 'input_audio_buffer.clear' })), undefined);
    h.session.emitEvent({ type: 'x' });
    assert.equal(h.control.speechStarted(0), '');
    h.control.transcriptionDelta('item_x', 'hi');
    assert.deepEqual(types(h.take()), ['session.created']);
  });

  test('a brain that throws is answered with a server_error; the session goes on', () => {
    const h = startSession();
    h.brain.hear = () => {
      throw new Error('VAD bug');
    };
    const out = h.send({ type: 'input_audio_buffer.append', event_id: 'a1', audio: pcm10() });
    assert.deepEqual(out[0]?.error, {
      type: 'server_error',
      code: 'server_error',
      message: 'The server had an error while processing your request.',
      param: null,
      event_id: 'a1',
    });
    assert.equal(h.session.inputAudioMs, 10, 'the audio was still appended');
    assert.deepEqual(types(h.send({ type: 'input_audio_buffer.clear' })), ['input_audio_buffer.cleared']);
  });
});

function pcm10(): string {
  return Buffer.alloc(480).toString('base64');
}
