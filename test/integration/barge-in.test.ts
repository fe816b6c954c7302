// Barge-in: what the caller hears stops at once (Twilio `clear`), and the reply is truncated at what was
// actually played, known from Twilio's mark echoes. The fake Twilio plays audio at real time and echoes
// marks as Twilio does (pending marks are echoed at once on `clear`), so stale echoes are exercised too.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { AgentInput } from '../../src/agents/index.js';
import type { FakeTwilioCall } from '../fakes/fake-twilio-media.js';
import type { FakeRealtimeSession, ResponseContext } from '../fakes/fake-realtime-server.js';
import { Harness, silence, speechLike } from './harness.js';

const LONG_REPLY = 'one two three four five six seven eight nine ten eleven twelve';

function agent(overrides: Partial<AgentInput> = {}): AgentInput {
  return { id: 'tester', name: 'T', instructions: 'Test.', tools: [], ...overrides };
}

const longReplies = () => [{ type: 'audio' as const, transcript: LONG_REPLY, audioMs: 3000 }];

/** Caller speaks, then pauses long enough for the VAD to end the turn. */
async function callerTurn(call: FakeTwilioCall): Promise<void> {
  await call.sendAudio(speechLike(500), { pace: 'fast' });
  await call.sendAudio(silence(800), { pace: 'fast' });
}

/** Played ms at the moment of the next clear, as the fake Twilio saw it. */
function playedMsAtClear(call: FakeTwilioCall): Promise<number> {
  return new Promise((resolve) => call.once('clear', () => resolve(call.stats.bytesPlayed / 8)));
}

function truncates(session: FakeRealtimeSession) {
  return session.received.filter((e) => e.type === 'conversation.item.truncate');
}

describe('barge-in', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('mid-reply: clear at once, server cancels, truncate at the last acknowledged mark', async () => {
    h = await Harness.start({ agents: [agent()], realtime: { respond: longReplies, generationSpeed: 1, transcripts: ['tell me everything', 'stop'] } });
    const call = await h.call();
    const session = await h.realtime.waitForSession(0);
    await callerTurn(call);
    await call.waitForPlayedBytes(8 * 1000, 5000);
    const playedAtClear = playedMsAtClear(call);
    await call.sendAudio(speechLike(300), { pace: 'fast' });

    const barge = await h.waitForEvent('barge_in');
    const played = await playedAtClear;
    assert.equal(barge.truncated, true);
    assert.ok(barge.heardMs <= played, `heard ${barge.heardMs} ms must not exceed the ${played} ms played`);
    assert.ok(barge.heardMs >= played - 150, `heard ${barge.heardMs} ms lags the ${played} ms played by at most one chunk`);
    assert.ok(barge.sentMs > barge.heardMs);

    await session.waitForReceived('conversation.item.truncate');
    const [truncate] = truncates(session);
    assert.ok(truncate && truncate.type === 'conversation.item.truncate');
    assert.deepEqual(truncate, { type: 'conversation.item.truncate', item_id: barge.itemId, content_index: 0, audio_end_ms: barge.heardMs });
    // Server VAD with interrupt_response cancels by itself: Koe must not send a racing response.cancel.
    assert.equal(session.received.filter((e) => e.type === 'response.cancel').length, 0);
    await session.waitForSent('conversation.item.truncated');

    const turn = await h.waitForEvent('turn.assistant', (e) => e.itemId === barge.itemId);
    assert.equal(turn.interrupted, true);
    assert.equal(turn.heardMs, barge.heardMs);
    assert.ok(LONG_REPLY.startsWith(turn.heardText) && turn.heardText.length < LONG_REPLY.length);
    assert.equal(call.stats.clears, 1);
    assert.deepEqual(h.eventsOf('model.error'), [], 'every truncate was accepted');
    assert.deepEqual(call.protocolViolations, []);
  });

  test('after the reply finished generating but is still playing: clear and truncate, no cancel', async () => {
    h = await Harness.start({ agents: [agent()], realtime: { respond: longReplies, generationSpeed: 20, transcripts: ['hi', 'wait'] } });
    const call = await h.call();
    const session = await h.realtime.waitForSession(0);
    await callerTurn(call);
    await session.waitForSent('response.done');
    await call.waitForPlayedBytes(8 * 800, 5000);
    assert.equal(session.activeResponseId, undefined, 'the reply is fully generated');
    const playedAtClear = playedMsAtClear(call);
    await call.sendAudio(speechLike(300), { pace: 'fast' });

    const barge = await h.waitForEvent('barge_in');
    const played = await playedAtClear;
    // All 3000 ms were sent to Twilio; only what was played counts, and echoes of cleared marks do not.
    assert.equal(barge.sentMs, 3000);
    assert.ok(barge.heardMs <= played && barge.heardMs >= played - 150, `heard ${barge.heardMs}, played ${played}`);
    await session.waitForSent('conversation.item.truncated');
    assert.equal(session.received.filter((e) => e.type === 'response.cancel').length, 0);
    const turn = await h.waitForEvent('turn.assistant');
    assert.equal(turn.heardMs, barge.heardMs, 'marks echoed for cleared audio never count as heard');
    assert.deepEqual(h.eventsOf('model.error'), []);
  });

  test('when the server does not cancel (interrupt_response off), Koe cancels the reply itself', async () => {
    h = await Harness.start({
      agents: [agent({ turnDetection: { type: 'server_vad', interruptResponse: false } })],
      realtime: { respond: longReplies, generationSpeed: 1, transcripts: ['go on', 'stop'] },
    });
    const call = await h.call();
    const session = await h.realtime.waitForSession(0);
    await callerTurn(call);
    await call.waitForPlayedBytes(8 * 600, 5000);
    await call.sendAudio(speechLike(300), { pace: 'fast' });
    const barge = await h.waitForEvent('barge_in');
    const cancel = await session.waitForReceived('response.cancel');
    assert.ok(cancel.response_id, 'the cancel names the response');
    const done = await session.waitForSent('response.done', 2000, (e) => (e.response as { status?: string }).status === 'cancelled');
    assert.equal((done.response as { status_details?: { reason?: string } }).status_details?.reason, 'client_cancelled');
    await session.waitForSent('conversation.item.truncated');
    assert.ok(barge.heardMs > 0);
    assert.deepEqual(h.eventsOf('model.error'), []);
  });

  test('back-to-back interruptions each truncate their own reply correctly', async () => {
    h = await Harness.start({ agents: [agent()], realtime: { respond: longReplies, generationSpeed: 1, transcripts: ['first', 'second', 'third'] } });
    const call = await h.call();
    const session = await h.realtime.waitForSession(0);
    await callerTurn(call);
    await call.waitForPlayedBytes(8 * 500, 5000);
    await callerTurn(call); // interrupts reply 1, and its pause starts reply 2
    const first = await h.waitForEvent('barge_in');
    // Reply 2 starts playing after the clear: wait until some of it was heard, then interrupt again.
    const playedBefore = call.stats.bytesPlayed;
    await call.waitForPlayedBytes(playedBefore + 8 * 500, 5000);
    await call.sendAudio(speechLike(300), { pace: 'fast' });
    const second = await h.waitForEvent('barge_in', (e) => e.itemId !== first.itemId);
    assert.notEqual(first.itemId, second.itemId);
    await h.realtime.waitFor(() => truncates(session).length === 2, 3000);
    const [t1, t2] = truncates(session);
    assert.ok(t1?.type === 'conversation.item.truncate' && t2?.type === 'conversation.item.truncate');
    assert.equal(t1.item_id, first.itemId);
    assert.equal(t1.audio_end_ms, first.heardMs);
    assert.equal(t2.item_id, second.itemId);
    assert.equal(t2.audio_end_ms, second.heardMs);
    assert.ok(second.heardMs >= 400 && second.heardMs <= 700, `second reply heard ${second.heardMs} ms`);
    // The clear travels on the Twilio socket, the truncate on the model's: wait for both.
    await call.waitFor(() => call.stats.clears === 2, 2000, 'the second clear');
    assert.deepEqual(h.eventsOf('model.error'), []);
  });

  test('speech after a reply was fully heard is a normal turn: no clear, no truncate', async () => {
    h = await Harness.start({
      agents: [agent()],
      realtime: { respond: () => [{ type: 'audio', transcript: 'Short.', audioMs: 300 }], transcripts: ['hi', 'thanks'] },
    });
    const call = await h.call({ stream: { playbackRate: 4 } });
    const session = await h.realtime.waitForSession(0);
    await callerTurn(call);
    const reply = await h.waitForEvent('turn.assistant');
    assert.equal(reply.interrupted, false);
    await callerTurn(call);
    await h.waitForEvent('turn.user', (e) => e.text === 'thanks');
    assert.equal(call.stats.clears, 0);
    assert.equal(truncates(session).length, 0);
    assert.deepEqual(h.eventsOf('barge_in'), []);
  });
});

describe('greeting', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const greetingPlan = (ctx: ResponseContext) =>
    ctx.index === 0
      ? [{ type: 'audio' as const, transcript: String(ctx.metadata?.koe_say), audioMs: 1500 }]
      : [{ type: 'audio' as const, transcript: 'Sure.', audioMs: 300 }];

  test('starts as soon as the session is ready and is not cut by caller noise', async () => {
    h = await Harness.start({
      agents: [agent({ greeting: 'Welcome to {{place}}, how may I help?', variables: { place: 'Koe' } })],
      realtime: { respond: greetingPlan, generationSpeed: 1, transcripts: ['hello?'] },
    });
    const call = await h.call();
    const session = await h.realtime.waitForSession(0);
    await session.waitForReceived('response.create');
    const kinds = session.received.map((e) => e.type);
    assert.deepEqual(kinds.slice(0, 2), ['session.update', 'response.create'], 'greeting asked for right after the session is configured');
    const firstUpdate = session.received[0];
    assert.ok(firstUpdate?.type === 'session.update');
    const td = firstUpdate.session.type === 'realtime' ? firstUpdate.session.audio?.input?.turn_detection : undefined;
    assert.equal(td && 'interrupt_response' in td ? td.interrupt_response : undefined, false, 'the greeting is protected');

    await call.waitForPlayedBytes(8 * 300, 5000);
    await call.sendAudio(speechLike(400), { pace: 'fast' }); // "hello?" over the greeting
    const greeting = await h.waitForEvent('turn.assistant', (e) => e.greeting, 6000);
    assert.equal(greeting.text, 'Welcome to Koe, how may I help?');
    assert.equal(greeting.interrupted, false);
    assert.equal(greeting.heardMs, 1500);
    assert.equal(call.stats.clears, 0);
    assert.deepEqual(h.eventsOf('barge_in'), []);

    // Once heard, the agent's real turn detection is restored.
    await h.realtime.waitFor(() => session.received.filter((e) => e.type === 'session.update').length === 2, 2000);
    const restore = session.received.filter((e) => e.type === 'session.update')[1];
    assert.ok(restore?.type === 'session.update' && restore.session.type === 'realtime');
    const restored = restore.session.audio?.input?.turn_detection;
    assert.equal(restored && 'interrupt_response' in restored ? restored.interrupt_response : undefined, true);
  });

  test('an interruptible greeting is cut like any reply', async () => {
    h = await Harness.start({
      agents: [agent({ greeting: 'Welcome, this greeting is long.', greetingInterruptible: true })],
      realtime: { respond: greetingPlan, generationSpeed: 1, transcripts: ['hello?'] },
    });
    const call = await h.call();
    await call.waitForPlayedBytes(8 * 400, 5000);
    await call.sendAudio(speechLike(400), { pace: 'fast' });
    const barge = await h.waitForEvent('barge_in');
    const greeting = await h.waitForEvent('turn.assistant', (e) => e.greeting);
    assert.equal(greeting.interrupted, true);
    assert.equal(greeting.heardMs, barge.heardMs);
  });
});
