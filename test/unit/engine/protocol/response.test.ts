// Responses (realtime.md §b.4–b.6): the exact event order for audio, text and function calls in GA
// and beta, cancel by the client and by speech, out-of-band responses, `input` items, failures.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ResponseHandle } from '../../../../src/engine/protocol/index.js';
import { MULAW_SESSION, mulaw, startSession, types, type Harness, type Json, type Sent } from './session-harness.js';

/** Event types, runs of one delta type collapsed to `type*`. */
function shapeOf(events: readonly Sent[]): string[] {
  const out: string[] = [];
  for (const { type } of events) {
    const name = type.endsWith('.delta') ? `${type}*` : type;
    if (!(name.endsWith('*') && out[out.length - 1] === name)) out.push(name);
  }
  return out;
}

/** Writes one audio message: words with 100 ms of μ-law each, as a paced brain would. */
function speak(response: ResponseHandle, words: string[]): void {
  const message = response.beginMessage();
  for (const word of words) {
    message.text(word);
    message.audio(Buffer.alloc(800, 0xff));
  }
  message.end();
}

function mulawHarness(shape: 'ga' | 'beta' = 'ga'): Harness {
  const h = startSession({ shape });
  h.send(
    shape === 'ga'
      ? MULAW_SESSION
      : { type: 'session.update', session: { input_audio_format: 'g711_ulaw', output_audio_format: 'g711_ulaw', voice: 'marin' } },
  );
  return h;
}

describe('protocol session: an audio response', () => {
  test('GA: created, item added, part, deltas, the closing group, done with usage, rate limits', () => {
    const h = mulawHarness();
    create(h, 'hi');
    h.brain.respond = (response) => {
      speak(response, ['Sure, ', 'I can ', 'help.']);
      response.finish();
    };
    const out = h.send({ type: 'response.create' });
    assert.deepEqual(shapeOf(out), [
      'response.created',
      'response.output_item.added',
      'conversation.item.added',
      'response.content_part.added',
      'response.output_audio_transcript.delta*',
      'response.output_audio.delta*',
      'response.output_audio_transcript.delta*',
      'response.output_audio.delta*',
      'response.output_audio_transcript.delta*',
      'response.output_audio.delta*',
      'response.output_audio.done',
      'response.output_audio_transcript.done',
      'response.content_part.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.done',
      'rate_limits.updated',
    ]);
    const created = h.one(out, 'response.created').response as Json;
    const responseId = created.id;
    assert.match(String(responseId), /^resp_[A-Za-z0-9]{21}$/);
    assert.deepEqual({ ...created, id: 'r', conversation_id: 'c' }, {
      object: 'realtime.response',
      id: 'r',
      status: 'in_progress',
      status_details: null,
      output: [],
      conversation_id: 'c',
      output_modalities: ['audio'],
      max_output_tokens: 'inf',
      audio: { output: { format: { type: 'audio/pcmu' }, voice: 'marin' } },
      usage: null,
      metadata: null,
    });
    assert.match(String(created.conversation_id), /^conv_/);
    const added = h.one(out, 'response.output_item.added');
    const itemId = (added.item as Json).id;
    assert.deepEqual([added.response_id, added.output_index], [responseId, 0]);
    assert.deepEqual(added.item, { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] });
    const convAdded = h.one(out, 'conversation.item.added');
    assert.equal(convAdded.previous_item_id, h.session.items[0]?.id);
    assert.deepEqual(convAdded.item, added.item);
    const part = h.one(out, 'response.content_part.added');
    assert.deepEqual({ ...part, event_id: 'x' }, {
      type: 'response.content_part.added',
      event_id: 'x',
      response_id: responseId,
      item_id: itemId,
      output_index: 0,
      content_index: 0,
      part: { type: 'audio', transcript: '' },
    });
    const audio = out.filter((e) => e.type === 'response.output_audio.delta');
    assert.equal(audio.reduce((sum, e) => sum + Buffer.from(String(e.delta), 'base64').length, 0), 2400);
    assert.deepEqual(h.one(out, 'response.output_audio_transcript.done').transcript, 'Sure, I can help.');
    assert.deepEqual(h.one(out, 'response.content_part.done').part, { type: 'audio', transcript: 'Sure, I can help.' });
    const final = { id: itemId, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_audio', transcript: 'Sure, I can help.' }] };
    assert.deepEqual(h.one(out, 'response.output_item.done').item, final);
    assert.deepEqual(h.one(out, 'conversation.item.done').item, final);
    assert.equal(h.one(out, 'conversation.item.done').previous_item_id, h.session.items[0]?.id);
    const done = h.one(out, 'response.done').response as Json;
    assert.deepEqual([done.status, done.status_details, done.output], ['completed', null, [final]]);
    assert.deepEqual(done.usage, {
      total_tokens: 33 + 3 + 6,
      input_tokens: 33,
      output_tokens: 3 + 6,
      input_token_details: {
        text_tokens: 33, // the default instructions, 4 characters a token
        audio_tokens: 0,
        image_tokens: 0,
        cached_tokens: 0,
        cached_tokens_details: { text_tokens: 0, audio_tokens: 0, image_tokens: 0 },
      },
      output_token_details: { text_tokens: 3, audio_tokens: 6 },
    });
    assert.deepEqual(h.one(out, 'rate_limits.updated').rate_limits, [{ name: 'tokens', limit: 40000, remaining: 39500, reset_seconds: 2.265 }]);
    assert.equal(h.control.activeResponse, undefined);
    assert.deepEqual(h.session.items[1], final);
  });

  test('beta: audio names, one conversation.item.created, rate limits right after response.created', () => {
    const h = mulawHarness('beta');
    h.brain.respond = (response) => {
      speak(response, ['Hi.']);
      response.finish();
    };
    const out = h.send({ type: 'response.create' });
    assert.deepEqual(shapeOf(out), [
      'response.created',
      'rate_limits.updated',
      'response.output_item.added',
      'conversation.item.created',
      'response.content_part.added',
      'response.audio_transcript.delta*',
      'response.audio.delta*',
      'response.audio.done',
      'response.audio_transcript.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.done',
    ]);
    const done = h.one(out, 'response.done').response as Json;
    assert.deepEqual([done.modalities, done.voice, done.output_audio_format, done.temperature], [['audio', 'text'], 'marin', 'g711_ulaw', 0.8]);
    assert.deepEqual((h.one(out, 'response.output_item.done').item as Json).content, [{ type: 'audio', transcript: 'Hi.' }]);
  });

  test('a text response: output_text events and output_text content; audio is ignored', () => {
    const h = startSession();
    h.brain.respond = (response) => {
      const message = response.beginMessage({ modality: 'audio' });
      assert.equal(message.modality, 'text', 'audio is not possible in a text-only response');
      message.text('Checking ');
      message.audio(Buffer.alloc(480));
      message.text('now.');
      response.finish();
    };
    const out = h.send({ type: 'response.create', response: { output_modalities: ['text'] } });
    assert.deepEqual(shapeOf(out), [
      'response.created',
      'response.output_item.added',
      'conversation.item.added',
      'response.content_part.added',
      'response.output_text.delta*',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.done',
      'rate_limits.updated',
    ]);
    assert.deepEqual(h.one(out, 'response.content_part.added').part, { type: 'text', text: '' });
    assert.equal(h.one(out, 'response.output_text.done').text, 'Checking now.');
    assert.deepEqual((h.one(out, 'response.output_item.done').item as Json).content, [{ type: 'output_text', text: 'Checking now.' }]);
    assert.deepEqual((h.one(out, 'response.done').response as Json).output_modalities, ['text']);
  });

  test('a message and then a function call: output_index 0 and 1, arguments streamed', () => {
    const h = startSession();
    h.brain.respond = (response) => {
      const text = response.beginMessage({ modality: 'text' });
      text.text('Let me look.');
      // Opening the next item closes this one.
      const call = response.beginFunctionCall({ name: 'get_weather', callId: 'call_abcdefghijklmnop' });
      text.text(' ignored');
      call.arguments('{"city":');
      call.arguments('"Tokyo"}');
      call.end();
      call.arguments('ignored');
      response.finish();
    };
    const out = h.send({ type: 'response.create' });
    assert.deepEqual(shapeOf(out), [
      'response.created',
      'response.output_item.added',
      'conversation.item.added',
      'response.content_part.added',
      'response.output_text.delta*',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.output_item.added',
      'conversation.item.added',
      'response.function_call_arguments.delta*',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.done',
      'rate_limits.updated',
    ]);
    const fnAdded = out.filter((e) => e.type === 'response.output_item.added')[1] as Json;
    const fnItem = fnAdded.item as Json;
    assert.equal(fnAdded.output_index, 1);
    assert.deepEqual(fnItem, { id: fnItem.id, type: 'function_call', status: 'in_progress', call_id: 'call_abcdefghijklmnop', name: 'get_weather', arguments: '' });
    const deltas = out.filter((e) => e.type === 'response.function_call_arguments.delta');
    assert.deepEqual({ ...deltas[0], event_id: 'x' }, {
      type: 'response.function_call_arguments.delta',
      event_id: 'x',
      response_id: fnAdded.response_id,
      item_id: fnItem.id,
      output_index: 1,
      call_id: 'call_abcdefghijklmnop',
      delta: '{"city":',
    });
    const argsDone = h.one(out, 'response.function_call_arguments.done');
    assert.deepEqual({ ...argsDone, event_id: 'x' }, {
      type: 'response.function_call_arguments.done',
      event_id: 'x',
      response_id: fnAdded.response_id,
      item_id: fnItem.id,
      output_index: 1,
      call_id: 'call_abcdefghijklmnop',
      name: 'get_weather',
      arguments: '{"city":"Tokyo"}',
    });
    assert.equal(h.one(out, 'response.output_text.done').text, 'Let me look.');
    const output = (h.one(out, 'response.done').response as Json).output as Json[];
    assert.deepEqual(output.map((item) => [item.type, item.status]), [['message', 'completed'], ['function_call', 'completed']]);
    assert.equal(output[1]?.arguments, '{"city":"Tokyo"}');

    // The client answers the call and asks for the next response.
    const result = h.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: 'call_abcdefghijklmnop', output: '{"c":21}' } });
    assert.equal(result[0]?.previous_item_id, fnItem.id);
    h.brain.respond = (response) => {
      response.functionCall({ name: 'hang_up', arguments: '{}' });
      response.finish();
    };
    const second = h.send({ type: 'response.create' });
    const call = h.one(second, 'response.output_item.added').item as Json;
    assert.match(String(call.call_id), /^call_[A-Za-z0-9]{16}$/);
    assert.equal(h.one(second, 'response.function_call_arguments.done').arguments, '{}');
    const seen = h.brain.responses[1]?.request.items.map((item) => item.type);
    assert.deepEqual(seen, ['message', 'function_call', 'function_call_output'], 'the second response sees the call and its output');
  });

  test('beta: function calls as beta output_item events, no conversation.item.done', () => {
    const h = startSession({ shape: 'beta' });
    h.brain.respond = (response) => {
      response.functionCall({ name: 'f', arguments: '{"a":1}' });
      response.finish();
    };
    const out = h.send({ type: 'response.create' });
    assert.deepEqual(shapeOf(out), [
      'response.created',
      'rate_limits.updated',
      'response.output_item.added',
      'conversation.item.created',
      'response.function_call_arguments.delta*',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.done',
    ]);
  });

  test('the request: session settings with response.create overrides; params kept as sent', () => {
    const h = startSession();
    h.send({ type: 'session.update', session: { type: 'realtime', instructions: 'Be kind.', tools: [{ type: 'function', name: 'f' }], max_output_tokens: 500, audio: { output: { speed: 1.2 } } } });
    create(h, 'hi');
    h.send({ type: 'response.create' });
    const plain = h.brain.responses[0]?.request;
    assert.ok(plain);
    h.brain.responses[0]?.finish();
    assert.deepEqual(
      { ...plain, items: plain.items.length },
      {
        instructions: 'Be kind.',
        tools: [{ type: 'function', name: 'f' }],
        toolChoice: 'auto',
        outputModalities: ['audio'],
        outputFormat: { type: 'audio/pcm', rate: 24000 },
        voice: 'alloy',
        speed: 1.2,
        maxOutputTokens: 500,
        metadata: null,
        conversation: 'auto',
        items: 1,
        trigger: 'client',
        params: undefined,
      },
    );
    const params = {
      instructions: 'Greet.',
      tools: [],
      tool_choice: 'none',
      output_modalities: ['text'],
      audio: { output: { format: { type: 'audio/pcma' }, voice: { id: 'voice_custom' } } },
      max_output_tokens: 'inf',
      metadata: { purpose: 'greeting' },
    };
    const out = h.send({ type: 'response.create', response: params });
    const request = h.brain.responses[1]?.request;
    assert.deepEqual(
      request && [request.instructions, request.tools, request.toolChoice, request.outputModalities, request.outputFormat, request.voice, request.maxOutputTokens, request.metadata],
      ['Greet.', [], 'none', ['text'], { type: 'audio/pcma' }, 'voice_custom', 'inf', { purpose: 'greeting' }],
    );
    assert.deepEqual(request?.params, params);
    const created = h.one(out, 'response.created').response as Json;
    assert.deepEqual([created.audio, created.metadata], [{ output: { format: { type: 'audio/pcma' }, voice: 'voice_custom' } }, { purpose: 'greeting' }]);
  });

  test('finish() counts given by the brain override the estimates', () => {
    const h = startSession();
    h.brain.respond = (response) => response.finish({ inputTextTokens: 7, outputTextTokens: 5 });
    const usage = (h.one(h.send({ type: 'response.create' }), 'response.done').response as Json).usage as Json;
    assert.deepEqual([usage.input_tokens, usage.output_tokens, usage.total_tokens], [7, 5, 12]);
  });
});

describe('protocol session: only one response at a time', () => {
  test('a second response.create → conversation_already_has_active_response', () => {
    const h = startSession();
    h.send({ type: 'response.create' });
    const active = h.control.activeResponse;
    assert.ok(active);
    const out = h.send({ type: 'response.create', event_id: 'second' });
    assert.deepEqual(out[0]?.error, {
      type: 'invalid_request_error',
      code: 'conversation_already_has_active_response',
      message: `Conversation already has an active response in progress: ${active.id}. Wait until the response is finished before creating a new one.`,
      param: null,
      event_id: 'second',
    });
    assert.equal(h.brain.responses.length, 1);
  });
});

describe('protocol session: response.cancel', () => {
  test('closes the open item as incomplete, then response.done cancelled/client_cancelled; the brain is stopped', () => {
    const h = mulawHarness();
    let handle: ResponseHandle | undefined;
    let message: ReturnType<ResponseHandle['beginMessage']> | undefined;
    h.brain.respond = (response) => {
      handle = response;
      message = response.beginMessage();
      message.text('one ');
      message.audio(Buffer.alloc(800, 0xff));
    };
    h.send({ type: 'response.create' });
    assert.ok(handle && message);
    const out = h.send({ type: 'response.cancel', event_id: 'stop', response_id: handle.id });
    assert.deepEqual(types(out), [
      'response.output_audio.done',
      'response.output_audio_transcript.done',
      'response.content_part.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.done',
      'rate_limits.updated',
    ]);
    assert.equal(h.one(out, 'response.output_audio_transcript.done').transcript, 'one ');
    const response = h.one(out, 'response.done').response as Json;
    assert.equal(response.status, 'cancelled');
    assert.deepEqual(response.status_details, { type: 'cancelled', reason: 'client_cancelled' });
    const output = response.output as Json[];
    assert.deepEqual(output.map((item) => item.status), ['incomplete']);
    assert.equal(handle.signal.aborted, true);
    assert.equal(handle.done, true);
    assert.equal(h.control.activeResponse, undefined);
    // Whatever the brain still does is dropped.
    message.text('two');
    message.audio(Buffer.alloc(800));
    message.end();
    handle.beginMessage().text('x');
    handle.finish();
    handle.fail({ type: 'server_error', code: 'late' });
    assert.deepEqual(h.take(), []);
    const truncated = h.send({ type: 'conversation.item.truncate', item_id: output[0]?.id, content_index: 0, audio_end_ms: 100 });
    assert.deepEqual(types(truncated), ['conversation.item.truncated'], 'the 100 ms sent are there to truncate');
  });

  test('a function call cut off keeps the arguments streamed so far', () => {
    const h = startSession();
    h.brain.respond = (response) => response.beginFunctionCall({ name: 'f' }).arguments('{"a":');
    h.send({ type: 'response.create' });
    const out = h.send({ type: 'response.cancel' });
    assert.deepEqual(types(out).slice(0, 3), ['response.function_call_arguments.done', 'response.output_item.done', 'conversation.item.done']);
    assert.equal(out[0]?.arguments, '{"a":');
    assert.deepEqual([(out[1]?.item as Json).status, (out[1]?.item as Json).arguments], ['incomplete', '{"a":']);
  });

  test('with no response, or another response id → response_cancel_not_active; the session is unaffected', () => {
    const h = startSession();
    const expected = (eventId: string) => ({
      type: 'invalid_request_error',
      code: 'response_cancel_not_active',
      message: 'Cancellation failed: no active response found',
      param: null,
      event_id: eventId,
    });
    assert.deepEqual(h.send({ type: 'response.cancel', event_id: 'c1' })[0]?.error, expected('c1'));
    h.send({ type: 'response.create' });
    assert.deepEqual(h.send({ type: 'response.cancel', event_id: 'c2', response_id: 'resp_other' })[0]?.error, expected('c2'));
    assert.ok(h.control.activeResponse);
  });

  test('speech with interrupt_response cancels with reason turn_detected, right after speech_started', () => {
    const h = mulawHarness();
    h.brain.respond = (response) => response.beginMessage().audio(Buffer.alloc(800, 0xff));
    h.send({ type: 'response.create' });
    const handle = h.control.activeResponse;
    h.send({ type: 'input_audio_buffer.append', audio: mulaw(100) });
    h.control.speechStarted(0);
    const out = h.take();
    assert.deepEqual(types(out).slice(0, 7), [
      'input_audio_buffer.speech_started',
      'response.output_audio.done',
      'response.output_audio_transcript.done',
      'response.content_part.done',
      'response.output_item.done',
      'conversation.item.done',
      'response.done',
    ]);
    assert.deepEqual((h.one(out, 'response.done').response as Json).status_details, { type: 'cancelled', reason: 'turn_detected' });
    assert.equal(handle?.signal.aborted, true);
  });

  test('interrupt_response false: speech does not cut the response', () => {
    const h = startSession();
    h.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: { type: 'server_vad', interrupt_response: false } } } } });
    h.send({ type: 'response.create' });
    h.control.speechStarted(0);
    assert.deepEqual(types(h.take()), ['input_audio_buffer.speech_started']);
    assert.ok(h.control.activeResponse);
  });
});

describe('protocol session: out of band and input', () => {
  test('conversation "none": no conversation events or items, no conversation_id; metadata echoed', () => {
    const h = startSession();
    create(h, 'earlier');
    h.brain.respond = (response) => {
      speak(response, ['Hi']);
      response.finish();
    };
    const out = h.send({ type: 'response.create', response: { conversation: 'none', metadata: { koe: 'greeting' }, instructions: 'Greet' } });
    assert.equal(out.some((e) => e.type.startsWith('conversation.')), false);
    const created = h.one(out, 'response.created').response as Json;
    const done = h.one(out, 'response.done').response as Json;
    assert.equal('conversation_id' in created || 'conversation_id' in done, false);
    assert.deepEqual(done.metadata, { koe: 'greeting' });
    assert.equal((done.output as Json[]).length, 1);
    assert.equal(h.session.items.length, 1);
    const request = h.brain.responses[0]?.request;
    assert.deepEqual([request?.conversation, request?.items.length], ['none', 1], 'it still sees the conversation');
    // Its audio cannot be truncated: it is not in the conversation.
    const truncate = h.send({ type: 'conversation.item.truncate', item_id: (done.output as Json[])[0]?.id, content_index: 0, audio_end_ms: 0 });
    assert.equal((truncate[0]?.error as Json).code, 'item_truncate_invalid_item_id');
  });

  test('input: the response sees those items, references resolved; unknown references → item_not_found', () => {
    const h = startSession();
    const first = create(h, 'first');
    create(h, 'second');
    h.send({
      type: 'response.create',
      response: {
        conversation: 'none',
        input: [{ type: 'item_reference', id: first.id }, { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'extra' }] }],
      },
    });
    const items = h.brain.responses[0]?.request.items ?? [];
    assert.deepEqual(items.map((item) => (item.type === 'message' && item.content[0]?.type === 'input_text' ? item.content[0].text : '?')), ['first', 'extra']);
    h.brain.responses[0]?.finish();
    const out = h.send({ type: 'response.create', event_id: 'r2', response: { input: [{ type: 'item_reference', id: 'item_gone' }] } });
    assert.deepEqual(out[0]?.error, {
      type: 'invalid_request_error',
      code: 'item_not_found',
      message: "Item with id 'item_gone' not found.",
      param: 'response.input[0].id',
      event_id: 'r2',
    });
    assert.equal(h.brain.responses.length, 1);
    assert.equal(h.control.activeResponse, undefined);
  });
});

describe('protocol session: failures', () => {
  test('fail(): the open item closes incomplete, response.done failed with the error type and code', () => {
    const h = startSession();
    h.brain.respond = (response) => {
      response.beginMessage().text('half');
      response.fail({ type: 'server_error', code: 'insufficient_quota', message: 'for the log only' });
    };
    const out = h.send({ type: 'response.create' });
    const done = h.one(out, 'response.done').response as Json;
    assert.equal(done.status, 'failed');
    assert.deepEqual(done.status_details, { type: 'failed', error: { type: 'server_error', code: 'insufficient_quota' } });
    assert.deepEqual(((done.output as Json[])[0] as Json).status, 'incomplete');
    assert.equal(types(out).at(-1), 'rate_limits.updated');
    assert.equal(h.brain.responses[0]?.signal.aborted, false, 'the brain ended it itself');
  });

  test('a brain that throws in onResponse: the response fails with server_error and is aborted', () => {
    const h = startSession();
    h.brain.respond = () => {
      throw new Error('dialogue bug');
    };
    const out = h.send({ type: 'response.create' });
    assert.deepEqual(shapeOf(out), ['response.created', 'response.done', 'rate_limits.updated']);
    assert.deepEqual((h.one(out, 'response.done').response as Json).status_details, { type: 'failed', error: { type: 'server_error', code: 'server_error' } });
    assert.equal(h.brain.responses[0]?.signal.aborted, true);
    assert.equal(h.control.activeResponse, undefined);
  });

  test('closing the session mid-response: aborted, nothing more sent', () => {
    const h = startSession();
    h.brain.respond = (response) => response.beginMessage().text('one');
    h.send({ type: 'response.create' });
    const handle = h.brain.responses[0];
    h.session.close();
    assert.equal(handle?.signal.aborted, true);
    assert.equal(handle?.done, true);
    handle?.finish();
    assert.deepEqual(h.take(), []);
    assert.equal(h.control.activeResponse, undefined);
  });
});

describe('protocol session: rate limits', () => {
  test('once per response, the remaining tokens shrinking with each response', () => {
    const h = startSession();
    h.brain.respond = (response) => response.finish();
    const remaining = [1, 2, 3].map(() => {
      const limits = h.one(h.send({ type: 'response.create' }), 'rate_limits.updated').rate_limits as Json[];
      return limits[0]?.remaining;
    });
    assert.deepEqual(remaining, [39500, 39000, 38500]);
  });
});

function create(h: Harness, text: string): Json {
  const out = h.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
  return out[0]?.item as Json;
}
