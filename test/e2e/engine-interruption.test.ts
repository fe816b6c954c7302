// Stopping a reply: barge-in (the caller speaks over it), response.cancel, and conversation.item.truncate
// after the fact. The dialogue is an OpenAI-compatible chat-completions endpoint served by the test, so
// a reply can be held "in production" for as long as the test needs: the engine has spoken the first
// sentences and waits for the model's next words, deterministically, whatever the machine's speed.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { FakeChatServer, streamText } from '../unit/engine/dialogue-llm/fake-chat-server.js';
import { removeScratch } from '../unit/engine/speech-fixtures.js';
import type { RunningKoe, WireEvent } from './engine-harness.js';
import { audioEventNames, BYTES_PER_MS, EngineClient, GA_FORMAT, heldReply, responseAudio, responseOf, sendSpeech, startKoe, utterance } from './engine-harness.js';

const INSTRUCTIONS = 'You are the receptionist of Sakura Dental Clinic.';
const FIRST = ['Sure, let me check our opening hours for you. ', 'One moment while I look at the calendar. '];
const HELD = ['We are open from nine in the morning until six in the evening.'];

async function phoneSession(koe: RunningKoe, turnDetection: Record<string, unknown>): Promise<EngineClient> {
  const client = await EngineClient.connect(koe.realtimeUrl);
  await client.configure({
    type: 'realtime',
    instructions: INSTRUCTIONS,
    audio: {
      input: { format: GA_FORMAT.g711_ulaw, transcription: { model: 'koe-stt' }, turn_detection: { type: 'server_vad', silence_duration_ms: 500, ...turnDetection } },
      output: { format: GA_FORMAT.g711_ulaw },
    },
  });
  return client;
}

/** The first response created from `from` on, once its first audio delta arrived. */
async function speakingResponse(client: EngineClient, from: number): Promise<string> {
  const created = await client.waitFor('response.created', { from, timeoutMs: 30_000 });
  const id = responseOf(created).id;
  await client.waitFor((e) => e.type === 'response.output_audio.delta' && e.response_id === id, { from, timeoutMs: 30_000 });
  return id;
}

function doneOf(client: EngineClient, responseId: string): Promise<WireEvent> {
  return client.waitFor((e) => e.type === 'response.done' && responseOf(e).id === responseId, { timeoutMs: 30_000 });
}

describe('engine: stopping a reply', () => {
  let koe: RunningKoe;
  let llm: FakeChatServer;
  before(async () => {
    llm = await FakeChatServer.start();
    koe = await startKoe({ LLM_BASE_URL: llm.baseUrl, LLM_MODEL: 'test' });
  });
  beforeEach(() => llm.reset());
  after(async () => {
    await koe.close();
    await llm.close();
    removeScratch();
  });

  test('barge-in: the caller speaks over the reply → speech_started, then response.done cancelled (turn_detected); the next turn sees the cut reply; a truncate keeps what was played', async () => {
    const held = heldReply(FIRST, HELD);
    llm.next(held.script, streamText(['Yes, go ahead.']));
    const client = await phoneSession(koe, {});
    try {
      sendSpeech(client, utterance('What are your opening hours?', 'awb', { tailMs: 800 }), 'g711_ulaw');
      const responseId = await speakingResponse(client, 0);

      const from = client.mark;
      sendSpeech(client, utterance('Hello there.', 'kal16'), 'g711_ulaw');
      const started = await client.waitFor('input_audio_buffer.speech_started', { from });
      const done = await doneOf(client, responseId);
      assert.ok(client.indexOf(started) < client.indexOf(done), 'speech_started, then the cancelled response.done');
      const response = responseOf(done);
      assert.equal(response.status, 'cancelled');
      assert.deepEqual(response.status_details, { type: 'cancelled', reason: 'turn_detected' });
      const message = response.output.find((item) => item.type === 'message');
      assert.equal(message?.status, 'incomplete');
      const spoken = message?.content?.[0]?.transcript ?? '';
      assert.ok(spoken.startsWith('Sure, let me check'), `the reply's spoken part stays: "${spoken}"`);
      assert.ok(!spoken.includes('nine in the morning'), 'nothing of what the model had not written yet');
      await held.gone; // the cancel reached the model: its request was dropped

      // The caller's new turn is answered, and the model sees the cut reply before it.
      const next = await client.waitFor((e) => e.type === 'response.done' && responseOf(e).id !== responseId, { from, timeoutMs: 30_000 });
      assert.equal(responseOf(next).status, 'completed');
      const second = llm.received[1]?.body.messages as Array<{ role: string; content: string | null }>;
      assert.equal(second.at(-1)?.role, 'user');
      assert.match(second.at(-1)?.content ?? '', /hello there/);
      assert.equal(second.at(-2)?.role, 'assistant');
      assert.equal(second.at(-2)?.content, spoken);

      // The client stopped playback halfway through what it had received, and truncates there: the
      // interrupted item keeps the words heard by then.
      const playedMs = Math.round(responseAudio(client, responseId).length / BYTES_PER_MS.g711_ulaw / 2);
      const truncateFrom = client.mark;
      client.send({ type: 'conversation.item.truncate', item_id: message?.id, content_index: 0, audio_end_ms: playedMs });
      await client.waitFor('conversation.item.truncated', { from: truncateFrom });
      client.send({ type: 'conversation.item.retrieve', item_id: message?.id });
      const retrieved = await client.waitFor('conversation.item.retrieved', { from: truncateFrom });
      const kept = (retrieved.item as { content: Array<{ transcript: string }> }).content[0]?.transcript ?? '';
      const keptWords = kept.split(' ');
      assert.ok(kept !== '' && keptWords.length < spoken.split(' ').length, `a part of the interrupted reply: "${kept}"`);
      assert.deepEqual(keptWords, spoken.split(' ').slice(0, keptWords.length), 'its first words');
      assert.deepEqual(client.invalid, []);
    } finally {
      held.release();
      await client.close();
    }
  });

  test('with interrupt_response off, the caller speaking does not cancel: the reply completes when the model finishes', async () => {
    const held = heldReply(FIRST, HELD);
    llm.next(held.script);
    const client = await phoneSession(koe, { interrupt_response: false });
    try {
      sendSpeech(client, utterance('What are your opening hours?', 'awb', { tailMs: 800 }), 'g711_ulaw');
      const responseId = await speakingResponse(client, 0);

      const from = client.mark;
      sendSpeech(client, utterance('Hello there.', 'kal16'), 'g711_ulaw');
      await client.waitFor('input_audio_buffer.speech_started', { from });
      await client.waitFor('input_audio_buffer.committed', { from });
      await client.sync();
      assert.equal(client.all('response.done').length, 0, 'the reply goes on');
      assert.equal(client.all('response.created').length, 1, 'no second response while one is in progress');

      held.release();
      const done = await doneOf(client, responseId);
      assert.equal(responseOf(done).status, 'completed');
      const said = responseOf(done).output[0]?.content?.[0]?.transcript ?? '';
      assert.equal(said, [...FIRST, ...HELD].join('').trim(), 'the whole reply');
      assert.deepEqual(client.invalid, []);
    } finally {
      held.release();
      await client.close();
    }
  });

  test('response.cancel mid-reply: response.done cancelled (client_cancelled) at once, and no audio delta after it', async () => {
    const held = heldReply(
      ['Sure. ', 'Our clinic has three dentists. ', 'Doctor Tanaka works on Mondays. ', 'Doctor Sato works on Tuesdays. ', 'Doctor Ito works on Fridays. '],
      HELD,
    );
    llm.next(held.script);
    const client = await phoneSession(koe, {});
    try {
      sendSpeech(client, utterance('What are your opening hours?', 'awb', { tailMs: 800 }), 'g711_ulaw');
      const responseId = await speakingResponse(client, 0);
      const sentAt = performance.now();
      client.send({ type: 'response.cancel' });
      const done = await doneOf(client, responseId);
      const cancelMs = performance.now() - sentAt;
      const response = responseOf(done);
      assert.equal(response.status, 'cancelled');
      assert.deepEqual(response.status_details, { type: 'cancelled', reason: 'client_cancelled' });
      assert.equal(response.output[0]?.status, 'incomplete');
      assert.ok(cancelMs < 1000, `response.done ${cancelMs.toFixed(0)} ms after response.cancel`);
      await held.gone;

      // The speech synthesizer works in order: once a later reply's audio is out, whatever the cancelled
      // reply still had queued would have been out too.
      const from = client.mark;
      client.send({ type: 'response.create', response: { metadata: { koe_say: 'Okay.' } } });
      const later = await client.waitFor('response.done', { from });
      assert.equal(responseOf(later).status, 'completed');
      assert.ok(client.all('response.output_audio.delta', from).length > 0);

      const doneAt = client.indexOf(done);
      const afterDone = client.events.slice(doneAt + 1).filter((e) => e.response_id === responseId);
      assert.deepEqual(afterDone.map((e) => e.type), [], 'nothing of the cancelled response after its response.done');
      const spokenMs = client.all('response.output_audio.delta').filter((e) => e.response_id === responseId).reduce((ms, e) => ms + Buffer.from(e.delta as string, 'base64').length / 8, 0);
      const spoken = response.output[0]?.content?.[0]?.transcript ?? '';
      assert.ok(!spoken.includes('nine in the morning'));
      // A second cancel has nothing to cancel.
      const again = client.mark;
      client.send({ type: 'response.cancel', event_id: 'cancel_again' });
      const error = await client.waitFor('error', { from: again });
      assert.equal((error.error as { code: string }).code, 'response_cancel_not_active');
      assert.equal((error.error as { event_id: string }).event_id, 'cancel_again');
      console.log(`# response.cancel → response.done in ${cancelMs.toFixed(1)} ms; ${spokenMs.toFixed(0)} ms of audio had gone out ("${spoken}")`);
      assert.deepEqual(client.invalid, []);
    } finally {
      held.release();
      await client.close();
    }
  });

  test('conversation.item.truncate on a spoken reply keeps the words heard by audio_end_ms; past the audio it is refused', async () => {
    const sentences = ['Our clinic is open on weekdays.', 'We open at nine in the morning.', 'We close at six in the evening.'];
    llm.next(streamText(sentences.map((s) => `${s} `)));
    const client = await phoneSession(koe, {});
    try {
      sendSpeech(client, utterance('What are your opening hours?', 'awb'), 'g711_ulaw');
      const done = await client.waitFor('response.done', { timeoutMs: 30_000 });
      assert.equal(responseOf(done).status, 'completed');
      const itemId = responseOf(done).output[0]?.id as string;

      // Where each sentence starts in the audio, read from the wire: Koe sends a sentence's words just
      // before its first audio.
      const names = audioEventNames('ga');
      const starts: number[] = [];
      let bytes = 0;
      for (const e of client.events) {
        if (e.item_id !== itemId) continue;
        if (e.type === names.transcriptDelta) starts.push(bytes / BYTES_PER_MS.g711_ulaw);
        if (e.type === names.delta) bytes += Buffer.from(e.delta as string, 'base64').length;
      }
      const totalMs = bytes / BYTES_PER_MS.g711_ulaw;
      assert.equal(starts.length, 3, 'one transcript delta per sentence');
      const [, second = 0, third = 0] = starts;

      const retrieve = async (): Promise<string> => {
        const from = client.mark;
        client.send({ type: 'conversation.item.retrieve', item_id: itemId });
        const retrieved = await client.waitFor('conversation.item.retrieved', { from });
        return (retrieved.item as { content: Array<{ transcript: string }> }).content[0]?.transcript ?? '';
      };
      const truncate = async (audioEndMs: number, eventId: string): Promise<WireEvent> => {
        const from = client.mark;
        client.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: audioEndMs, event_id: eventId });
        return client.waitFor((e) => e.type === 'conversation.item.truncated' || (e.type === 'error' && (e.error as { event_id?: string }).event_id === eventId), { from });
      };
      assert.equal(await retrieve(), sentences.join(' '));

      // Past the end of the item's audio: the documented error, and the item unchanged.
      const pastEnd = await truncate(Math.ceil(totalMs) + 1000, 'past_end');
      assert.equal(pastEnd.type, 'error');
      const error = pastEnd.error as { type: string; code: string; param: string; message: string };
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.code, 'invalid_value');
      assert.equal(error.param, 'audio_end_ms');
      assert.match(error.message, new RegExp(`^Audio content of ${Math.floor(totalMs)}ms is already shorter than ${Math.ceil(totalMs) + 1000}ms$`));
      assert.equal(await retrieve(), sentences.join(' '));

      // Cut 60 % into the second sentence: the first whole, a part of the second, nothing of the third.
      const cutMs = Math.round(second + 0.6 * (third - second));
      const truncated = await truncate(cutMs, 'cut');
      assert.deepEqual(
        { type: truncated.type, item_id: truncated.item_id, content_index: truncated.content_index, audio_end_ms: truncated.audio_end_ms },
        { type: 'conversation.item.truncated', item_id: itemId, content_index: 0, audio_end_ms: cutMs },
      );
      const kept = await retrieve();
      const secondWords = (sentences[1] as string).split(' ');
      assert.ok(kept.startsWith(`${sentences[0]} `), `the first sentence was heard whole: "${kept}"`);
      const partial = kept.slice((sentences[0] as string).length + 1).split(' ');
      assert.ok(partial.length >= 1 && partial.length < secondWords.length, `a part of the second sentence: "${kept}"`);
      assert.deepEqual(partial, secondWords.slice(0, partial.length), 'its first words, in order');
      assert.ok(!kept.includes('close at six'), 'nothing of the third sentence');

      // The audio now ends at the cut: truncating later than it is past the end too.
      const again = await truncate(Math.round(third), 'after_cut');
      assert.equal(again.type, 'error');
      assert.match((again.error as { message: string }).message, new RegExp(`^Audio content of ${cutMs}ms is already shorter`));
      assert.deepEqual(client.invalid, []);
    } finally {
      await client.close();
    }
  });
});
