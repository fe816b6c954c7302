// Function calling through Koe's engine, end to end from the caller's voice: with the embedded dialogue
// (Koe's default, no model) and with an OpenAI-compatible chat-completions endpoint served by the test.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chunk, FakeChatServer, send, startStream, streamText, usageChunk } from '../unit/engine/dialogue-llm/fake-chat-server.js';
import { toolDefinition } from '../../src/call/tools/tool-definitions.js';
import { removeScratch } from '../unit/engine/speech-fixtures.js';
import type { RunningKoe, WireEvent } from './engine-harness.js';
import { assertResponseOrder, audioEventNames, EngineClient, GA_FORMAT, responseAudio, responseOf, sendSpeech, spokenTranscript, startKoe, utterance } from './engine-harness.js';

/** The hang_up tool exactly as Koe's call bridge offers it. */
const HANG_UP = toolDefinition({ type: 'hang_up' });
const SCHEDULE_CALLBACK = {
  type: 'function',
  name: 'schedule_callback',
  description: 'Schedule a call back to the caller.',
  parameters: { type: 'object', properties: { day: { type: 'string' }, time: { type: 'string' } }, required: ['day', 'time'] },
};

async function phoneSession(koe: RunningKoe, instructions: string, tools: unknown[]): Promise<EngineClient> {
  const client = await EngineClient.connect(koe.realtimeUrl);
  await client.configure({
    type: 'realtime',
    instructions,
    tools,
    audio: {
      input: { format: GA_FORMAT.g711_ulaw, transcription: { model: 'koe-stt' }, turn_detection: { type: 'server_vad', silence_duration_ms: 500 } },
      output: { format: GA_FORMAT.g711_ulaw },
    },
  });
  return client;
}

/** Sends the tool's result and asks for the next response; resolves with that response's response.done. */
async function answerCall(client: EngineClient, callId: string, output: string): Promise<WireEvent> {
  const from = client.mark;
  client.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output } });
  const added = await client.waitFor('conversation.item.added', { from });
  assert.equal((added.item as { type: string }).type, 'function_call_output');
  client.send({ type: 'response.create' });
  return client.waitFor('response.done', { from, timeoutMs: 30_000 });
}

describe('engine: function calling with the embedded dialogue', () => {
  let koe: RunningKoe;
  before(async () => {
    koe = await startKoe();
  });
  after(async () => {
    await koe.close();
    removeScratch();
  });

  test('"okay thank you goodbye" to an agent with hang_up: the goodbye is spoken, then a hang_up call', async () => {
    const client = await phoneSession(koe, 'You are the receptionist of Sakura Dental Clinic.', [HANG_UP]);
    try {
      sendSpeech(client, utterance('okay thank you goodbye', 'kal16'), 'g711_ulaw');
      const transcript = await client.waitFor('conversation.item.input_audio_transcription.completed');
      assert.match(transcript.transcript as string, /goodbye/);
      const done = await client.waitFor('response.done', { timeoutMs: 30_000 });
      const response = responseOf(done);
      assert.equal(response.status, 'completed');
      assert.deepEqual(response.output.map((item) => item.type), ['message', 'function_call']);
      assert.match(spokenTranscript(done), /goodbye/i);
      const call = response.output[1];
      assert.equal(call?.name, 'hang_up');
      assert.match(call?.call_id ?? '', /^call_/);
      // Arguments within the tool's schema (which has only an optional `reason`, no other properties).
      const args = JSON.parse(call?.arguments ?? '') as Record<string, unknown>;
      assert.ok(Object.keys(args).every((key) => key === 'reason'), `hang_up arguments: ${call?.arguments}`);
      assertResponseOrder(client, response.id);

      // On the wire: every audio delta of the goodbye before the call is announced.
      const argsDone = await client.waitFor('response.function_call_arguments.done');
      assert.equal(argsDone.name, 'hang_up');
      assert.equal(argsDone.call_id, call?.call_id);
      const callAdded = client.events.findIndex((e) => e.type === 'response.output_item.added' && (e.item as { type: string }).type === 'function_call');
      const audioDeltas = client.events.flatMap((e, i) => (e.type === audioEventNames('ga').delta && e.response_id === response.id ? [i] : []));
      assert.ok(audioDeltas.length > 0 && Math.max(...audioDeltas) < callAdded, 'the goodbye audio, then the call');
      assert.ok(responseAudio(client, response.id).length / 8 > 500, 'the goodbye is audible speech, not a click');

      // The bridge answers hang_up with its result; the agent then has nothing more to say.
      const next = await answerCall(client, call?.call_id as string, '{"ok":true}');
      assert.equal(responseOf(next).status, 'completed');
      assert.equal(responseOf(next).output.filter((item) => item.type === 'function_call').length, 0, 'no second hang_up');
      assert.deepEqual(client.invalid, []);
    } finally {
      await client.close();
    }
  });
});

describe('engine: function calling through an OpenAI-compatible chat-completions endpoint', () => {
  let koe: RunningKoe;
  let llm: FakeChatServer;
  before(async () => {
    llm = await FakeChatServer.start();
    koe = await startKoe({ LLM_BASE_URL: llm.baseUrl, LLM_MODEL: 'test' });
  });
  after(async () => {
    await koe.close();
    await llm.close();
    removeScratch();
  });

  test('a streamed tool call reaches the client as function_call_arguments.done; its output and response.create give a spoken follow-up', async () => {
    llm.next(
      ({ res }) => {
        startStream(res);
        send(res, chunk({ role: 'assistant', content: '' }));
        send(res, chunk({ content: 'One moment, ' }));
        send(res, chunk({ content: 'let me book that for you. ' }));
        send(res, chunk({ tool_calls: [{ index: 0, id: 'call_Tq3Xk9Lm2Pz8Vb4N', type: 'function', function: { name: 'schedule_callback', arguments: '' } }] }));
        send(res, chunk({ tool_calls: [{ index: 0, function: { arguments: '{"day": "tom' } }] }));
        send(res, chunk({ tool_calls: [{ index: 0, function: { arguments: 'orrow", "time": "9:00"}' } }] }));
        send(res, chunk({}, 'tool_calls'));
        send(res, usageChunk(120, 30));
        send(res, '[DONE]');
        res.end();
      },
      streamText(['I have booked a call back for tomorrow at nine. ', 'Is there anything else?']),
    );
    const client = await phoneSession(koe, 'You are the receptionist of Sakura Dental Clinic. Offer call backs.', [SCHEDULE_CALLBACK]);
    try {
      sendSpeech(client, utterance('please call me tomorrow morning', 'kal16'), 'g711_ulaw');
      const argsDone = await client.waitFor('response.function_call_arguments.done', { timeoutMs: 30_000 });
      assert.equal(argsDone.name, 'schedule_callback');
      assert.equal(argsDone.call_id, 'call_Tq3Xk9Lm2Pz8Vb4N', "the model's call id is the Realtime call_id");
      assert.deepEqual(JSON.parse(argsDone.arguments as string), { day: 'tomorrow', time: '9:00' });
      const done = await client.waitFor('response.done', { timeoutMs: 30_000 });
      const response = responseOf(done);
      assert.equal(response.status, 'completed');
      assert.deepEqual(response.output.map((item) => item.type), ['message', 'function_call']);
      assert.equal(spokenTranscript(done), 'One moment, let me book that for you.');
      assertResponseOrder(client, response.id);

      // What the model was asked: the caller's words and the session's tool.
      const first = llm.received[0]?.body as { messages: Array<{ role: string; content: string }>; tools: Array<{ function: { name: string } }> };
      assert.match(first.messages.at(-1)?.content ?? '', /call me tomorrow morning/);
      assert.deepEqual(first.tools.map((t) => t.function.name), ['schedule_callback']);

      const followUp = await answerCall(client, argsDone.call_id as string, JSON.stringify({ booked: true, when: 'tomorrow 9:00' }));
      assert.equal(responseOf(followUp).status, 'completed');
      assert.equal(spokenTranscript(followUp), 'I have booked a call back for tomorrow at nine. Is there anything else?');
      assert.ok(responseAudio(client, responseOf(followUp).id).length / 8 > 1000, 'a spoken follow-up');

      // The second request carried the call and its result, paired by id.
      const second = llm.received[1]?.body.messages as Array<{ role: string; content: string | null; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>; tool_call_id?: string }>;
      const assistant = second.find((m) => m.role === 'assistant' && m.tool_calls);
      assert.equal(assistant?.tool_calls?.[0]?.id, 'call_Tq3Xk9Lm2Pz8Vb4N');
      assert.equal(assistant?.tool_calls?.[0]?.function.name, 'schedule_callback');
      const tool = second.find((m) => m.role === 'tool');
      assert.equal(tool?.tool_call_id, 'call_Tq3Xk9Lm2Pz8Vb4N');
      assert.deepEqual(JSON.parse(tool?.content ?? ''), { booked: true, when: 'tomorrow 9:00' });
      assert.deepEqual(client.invalid, []);
    } finally {
      await client.close();
    }
  });
});
