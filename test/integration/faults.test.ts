// Faults and hostile input: a slow, refusing or dropping model; early hang-ups; bad templates;
// signatures and stream tokens; malformed frames from either side. The call and server keep going
// where they can, the caller is never left in silence, and nothing is left open.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { AgentInput } from '../../src/agents/index.js';
import type { ModelConnection } from '../../src/call/model-link.js';
import { isLoopbackAddress } from '../../src/server/twilio-routes.js';
import { computeSignature, mintStreamToken } from '../../src/twilio/index.js';
import { FakeTwilioCall, fakeSid } from '../fakes/fake-twilio-media.js';
import { Harness, TEST_ACCOUNT_SID, TEST_APOLOGY_CLIP, TEST_AUTH_TOKEN, parseStreamTwiml, silence, speechLike } from './harness.js';

const SECRET = 'test-stream-secret-0123456789abcdef';

function agent(overrides: Partial<AgentInput> = {}): AgentInput {
  return { id: 'tester', name: 'T', instructions: 'Test.', tools: ['hang_up'], ...overrides };
}

async function callerTurn(call: FakeTwilioCall): Promise<void> {
  await call.sendAudio(speechLike(500), { pace: 'fast' });
  await call.sendAudio(silence(800), { pace: 'fast' });
}

const reply = () => [{ type: 'audio' as const, transcript: 'Yes?', audioMs: 200 }];

describe('model faults', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('caller audio that arrives before the model is ready is buffered and sent, not dropped', async () => {
    const delayMs = 400;
    h = await Harness.start({
      agents: [agent()],
      realtime: { respond: reply, transcripts: ['early words'] },
      wrapConnect: (connect) => async (signal) => {
        await new Promise((r) => setTimeout(r, delayMs));
        return connect(signal);
      },
    });
    const call = await h.call();
    // 1 s of audio in real time while the model is still connecting.
    await call.sendAudio(speechLike(600), { pace: 'realtime' });
    await call.sendAudio(silence(400), { pace: 'realtime' });
    const session = await h.realtime.waitForSession(0);
    await h.realtime.waitFor(() => session.inputAudioMs >= 1000, 3000);
    assert.equal(session.inputAudioMs, 1000, 'every ms the caller sent reached the model, in order');
    const firstAppend = session.received.findIndex((e) => e.type === 'input_audio_buffer.append');
    const update = session.received.findIndex((e) => e.type === 'session.update');
    assert.ok(update >= 0 && update < firstAppend, 'audio follows the session configuration');
    await call.sendAudio(silence(500), { pace: 'fast' });
    assert.equal((await h.waitForEvent('turn.user')).text, 'early words');
  });

  test('a refused model connection is retried once', async () => {
    h = await Harness.start({ agents: [agent({ greeting: 'Hi there.' })], realtime: { respond: reply } });
    h.realtime.refuseNext(1, 503);
    await h.call();
    const greeting = await h.waitForEvent('turn.assistant');
    assert.equal(greeting.greeting, true);
    assert.equal(await h.metric('koe_model_connect_failures_total'), 1);
    assert.equal(h.eventsOf('call.ended').length, 0);
  });

  test('a model that cannot be reached: apology played in full, then the call ends', async () => {
    h = await Harness.start({ agents: [agent()], realtime: { respond: reply } });
    h.realtime.refuseNext(2, 500);
    const call = await h.call({ stream: { playbackRate: 4 } });
    const ended = await h.waitForEvent('call.ended', undefined, 5000);
    assert.equal(ended.reason, 'model_failed');
    assert.ok(call.playedAudio().equals(TEST_APOLOGY_CLIP), 'the caller heard the whole apology clip');
    await call.waitForClose();
    assert.equal(h.realtime.connections, 0);
  });

  test('the caller hangs up while the model is still connecting: no model socket is left open', async () => {
    h = await Harness.start({ agents: [agent()], realtime: { respond: reply } });
    h.realtime.stallNext(1);
    const call = await h.call();
    await h.realtime.waitFor(() => h?.realtime.upgradeCount === 1, 2000);
    assert.equal(h.realtime.openSockets, 1, 'the handshake is pending');
    await call.stop();
    assert.equal((await h.waitForEvent('call.ended')).reason, 'caller_hung_up');
    await h.realtime.waitFor(() => h?.realtime.openSockets === 0, 2000);
    assert.equal(h.realtime.connections, 0);
  });

  test('the caller hangs up during the session handshake: the model socket is closed', async () => {
    let opened: ModelConnection | undefined;
    h = await Harness.start({
      agents: [agent()],
      realtime: { respond: reply },
      wrapConnect: (connect) => async (signal) => {
        opened = await connect(signal);
        return opened;
      },
    });
    const call = await h.call();
    await h.realtime.waitFor(() => opened !== undefined, 2000);
    await call.close();
    await h.waitForEvent('call.ended');
    await h.realtime.waitFor(() => h?.realtime.connections === 0, 2000);
  });

  test('a dropped model socket is replaced once, with the conversation re-seeded', async () => {
    h = await Harness.start({
      agents: [agent()],
      realtime: { respond: () => [{ type: 'audio', transcript: 'We open at nine.', audioMs: 200 }], transcripts: ['when do you open', 'thanks'] },
    });
    const call = await h.call({ stream: { playbackRate: 4 } });
    const first = await h.realtime.waitForSession(0);
    await callerTurn(call);
    await h.waitForEvent('turn.assistant');
    first.drop();
    await h.waitForEvent('model.reconnected');
    const second = await h.realtime.waitForSession(1);
    await second.waitForReceived('conversation.item.create');
    const seeded = second.received.filter((e) => e.type === 'conversation.item.create').map((e) => (e.type === 'conversation.item.create' && e.item.type === 'message' ? [e.item.role, e.item.content[0]] : []));
    assert.deepEqual(seeded, [
      ['user', { type: 'input_text', text: 'when do you open' }],
      ['assistant', { type: 'output_text', text: 'We open at nine.' }],
    ]);
    // The call goes on with the new session.
    await callerTurn(call);
    assert.equal((await h.waitForEvent('turn.user', (e) => e.text === 'thanks')).source, 'speech');
    assert.equal(h.eventsOf('call.ended').length, 0);
  });

  test('a reply still playing when the model drops plays out whole, and is never truncated on the new session', async () => {
    h = await Harness.start({
      agents: [agent()],
      realtime: { respond: () => [{ type: 'audio', transcript: 'A long answer that keeps going.', audioMs: 1500 }], generationSpeed: 20, transcripts: ['question', 'stop'] },
    });
    const call = await h.call();
    const first = await h.realtime.waitForSession(0);
    await callerTurn(call);
    await first.waitForSent('response.done');
    await call.waitForPlayedBytes(8 * 300, 3000);
    first.drop();
    await h.waitForEvent('model.reconnected');
    const second = await h.realtime.waitForSession(1);
    const turn = await h.waitForEvent('turn.assistant', undefined, 4000);
    assert.equal(turn.interrupted, false);
    assert.equal(turn.heardMs, 1500);
    assert.equal(call.stats.clears, 0);
    assert.equal(second.received.filter((e) => e.type === 'conversation.item.truncate').length, 0);
    assert.deepEqual(h.eventsOf('model.error').filter((e) => !e.fatal), []);
  });

  test('a model that drops and cannot be reached again: apology, then the end', async () => {
    h = await Harness.start({ agents: [agent()], realtime: { respond: reply } });
    const call = await h.call({ stream: { playbackRate: 4 } });
    const session = await h.realtime.waitForSession(0);
    await session.waitForSent('session.updated');
    h.realtime.refuseNext(2, 502);
    session.drop();
    const ended = await h.waitForEvent('call.ended', undefined, 5000);
    assert.equal(ended.reason, 'model_failed');
    assert.ok(call.playedAudio().equals(TEST_APOLOGY_CLIP));
  });

  test('malformed and unknown model events are counted and ignored; the call goes on', async () => {
    h = await Harness.start({ agents: [agent()], realtime: { respond: reply, transcripts: ['hello'] } });
    const call = await h.call({ stream: { playbackRate: 4 } });
    const session = await h.realtime.waitForSession(0);
    await session.waitForSent('session.updated');
    session.sendRaw('{not json');
    session.sendRaw(JSON.stringify({ type: 'response.output_audio.delta', delta: 42 }));
    session.emitEvent({ type: 'something.new_from_openai', detail: 1 });
    await callerTurn(call);
    await h.waitForEvent('turn.assistant');
    assert.equal(await h.metric('koe_bad_input_total', { source: 'model' }), 2);
  });
});

describe('templates', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('a missing variable is refused at the webhook with a spoken message, never sent to the model', async () => {
    h = await Harness.start({ agents: [agent({ greeting: 'Welcome to {{companyName}}.' })] });
    const response = await h.voiceWebhook({ CallSid: fakeSid('CA'), From: '+15550001111', To: '+15550002222' });
    assert.equal(response.status, 200);
    const twiml = await response.text();
    assert.match(twiml, /<Say>Sorry, this line is not set up correctly/);
    assert.match(twiml, /<Hangup\/>/);
    assert.doesNotMatch(twiml, /<Connect>/);
    assert.equal(h.realtime.upgradeCount, 0);
  });

  test('a stream whose variables do not fill the templates gets the apology and no model session', async () => {
    h = await Harness.start({ agents: [agent({ greeting: 'Hello {{name}}.' })], env: { KOE_STREAM_SECRET: SECRET } });
    const callSid = fakeSid('CA');
    const parameters = { direction: 'outbound', calledNumber: '+15550003333' };
    const token = mintStreamToken({ secret: SECRET, callSid, agentId: 'tester', parameters, ttlMs: 60_000 });
    const call = await FakeTwilioCall.connect({ url: h.streamUrl, callSid, customParameters: { ...parameters, token }, playbackRate: 4 });
    const ended = await h.waitForEvent('call.ended', undefined, 4000);
    assert.equal(ended.reason, 'setup_failed');
    const error = await h.waitForEvent('call.error');
    assert.match(error.message, /\{\{name\}\}/);
    assert.ok(call.playedAudio().equals(TEST_APOLOGY_CLIP));
    assert.equal(h.realtime.upgradeCount, 0);
  });
});

describe('security', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const PUBLIC = 'https://koe.example.com';

  test('webhooks need a valid X-Twilio-Signature over the public URL', async () => {
    h = await Harness.start({ agents: [agent()], env: { TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN, TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID, PUBLIC_URL: PUBLIC } });
    const params = { CallSid: fakeSid('CA'), From: '+15550001111', To: '+15550002222', AccountSid: TEST_ACCOUNT_SID };
    const good = await h.voiceWebhook(params, { signature: computeSignature(TEST_AUTH_TOKEN, `${PUBLIC}/twilio/voice`, params) });
    assert.equal(good.status, 200);
    const { url, parameters } = parseStreamTwiml(await good.text());
    assert.equal(url, 'wss://koe.example.com/twilio/stream');
    assert.ok(parameters.token);
    const signedForLocal = await h.voiceWebhook(params, { signature: computeSignature(TEST_AUTH_TOKEN, `${h.baseUrl}/twilio/voice`, params) });
    assert.equal(signedForLocal.status, 403, 'signed for another URL');
    const tampered = await h.voiceWebhook({ ...params, From: '+15559999999' }, { signature: computeSignature(TEST_AUTH_TOKEN, `${PUBLIC}/twilio/voice`, params) });
    assert.equal(tampered.status, 403);
    const unsigned = await fetch(`${h.baseUrl}/twilio/voice`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) });
    assert.equal(unsigned.status, 403);
    const status = await fetch(`${h.baseUrl}/twilio/status`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'CallSid=CA1&CallStatus=completed' });
    assert.equal(status.status, 403);
    assert.equal(await h.metric('koe_rejected_webhooks_total', { reason: 'bad_signature' }), 4);
  });

  test('the media WebSocket upgrade needs a valid signature over the wss URL', async () => {
    h = await Harness.start({ agents: [agent()], realtime: { respond: reply }, env: { TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN, TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID, PUBLIC_URL: PUBLIC } });
    const wssUrl = 'wss://koe.example.com/twilio/stream';
    const refused = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(h?.streamUrl ?? '', { headers });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', () => undefined);
      });
    assert.equal(await refused({}), 403);
    assert.equal(await refused({ 'x-twilio-signature': computeSignature(TEST_AUTH_TOKEN, h.streamUrl, {}) }), 403, 'signed for the local URL, not the public one');
    assert.equal(await refused({ 'x-twilio-signature': computeSignature('wrong-token-0123456789', wssUrl, {}) }), 403);
    assert.equal(await refused({ 'x-twilio-signature': computeSignature(TEST_AUTH_TOKEN, wssUrl, {}) }), 101);
    assert.equal(await refused({ 'x-twilio-signature': computeSignature(TEST_AUTH_TOKEN, `${wssUrl}/`, {}) }), 101, 'trailing slash variant');
    // And a whole call through the signed path works.
    const call = await h.call({ stream: { signWith: { authToken: TEST_AUTH_TOKEN, url: wssUrl } } });
    await h.waitForEvent('call.started');
    await call.stop();
  });

  test('streams without a valid per-call token are refused before any model session', async () => {
    h = await Harness.start({ agents: [agent()], realtime: { respond: reply }, env: { KOE_STREAM_SECRET: SECRET } });
    const callSid = fakeSid('CA');
    const parameters = { direction: 'inbound', callerNumber: '+15550001111' };
    const token = mintStreamToken({ secret: SECRET, callSid, agentId: 'tester', parameters, ttlMs: 60_000 });
    const attempts: Array<[string, { callSid: string; customParameters: Record<string, string> }]> = [
      ['missing token', { callSid, customParameters: parameters }],
      ['tampered token', { callSid, customParameters: { ...parameters, token: `${token.slice(0, -2)}xx` } }],
      ['token of another call', { callSid: fakeSid('CA'), customParameters: { ...parameters, token } }],
      ['swapped parameter', { callSid, customParameters: { ...parameters, callerNumber: '+15559999999', token } }],
      ['expired token', { callSid, customParameters: { ...parameters, token: mintStreamToken({ secret: SECRET, callSid, agentId: 'tester', parameters, ttlMs: 1000, nowMs: Date.now() - 60_000 }) } }],
      ['token from another secret', { callSid, customParameters: { ...parameters, token: mintStreamToken({ secret: 'another-secret-0123456789abc', callSid, agentId: 'tester', parameters, ttlMs: 60_000 }) } }],
    ];
    for (const [what, opts] of attempts) {
      const call = await FakeTwilioCall.connect({ url: h.streamUrl, ...opts });
      const closed = await call.waitForClose(2000);
      assert.equal(closed.code, 1008, what);
    }
    assert.equal(h.realtime.upgradeCount, 0, 'no model session was opened');
    assert.equal(h.eventsOf('call.started').length, 0);
    assert.equal(await h.metric('koe_rejected_streams_total'), attempts.length);
    // The genuine token still works.
    const ok = await FakeTwilioCall.connect({ url: h.streamUrl, callSid, customParameters: { ...parameters, token } });
    await h.waitForEvent('call.started');
    await ok.stop();
  });

  test('only loopback clients are accepted without an auth token', () => {
    for (const ip of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '127.1.2.3']) assert.equal(isLoopbackAddress(ip), true, ip);
    for (const ip of ['10.0.0.1', '192.168.1.5', '::ffff:10.0.0.1', '2001:db8::1', '1127.0.0.1']) assert.equal(isLoopbackAddress(ip), false, ip);
  });
});

describe('malformed Twilio input', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('bad JSON, bad base64, unknown events, binary and oversize frames are counted; the call survives', async () => {
    h = await Harness.start({ agents: [agent()], realtime: { respond: reply, transcripts: ['still here'] } });
    const call = await h.call({ stream: { playbackRate: 4 } });
    const session = await h.realtime.waitForSession(0);
    await session.waitForSent('session.updated');
    call.sendRaw('{"event":"media",');
    call.sendRaw(JSON.stringify({ event: 'media', sequenceNumber: '3', streamSid: call.streamSid, media: { track: 'inbound', chunk: '1', timestamp: '0', payload: '%%%not-base64%%%' } }));
    call.sendRaw(JSON.stringify({ event: 'teleport', streamSid: call.streamSid }));
    call.sendRaw(Buffer.from([1, 2, 3]));
    call.sendRaw(JSON.stringify({ event: 'media', pad: 'x'.repeat(100 * 1024) }));
    await callerTurn(call);
    assert.equal((await h.waitForEvent('turn.user')).text, 'still here');
    await h.waitForEvent('turn.assistant');
    for (const kind of ['invalid_json', 'bad_base64', 'unknown_event', 'binary_frame', 'too_large']) {
      assert.equal(await h.metric('koe_bad_input_total', { source: 'twilio', kind }), 1, kind);
    }
    assert.equal(h.eventsOf('call.ended').length, 0);
    const health = await fetch(`${h.baseUrl}/healthz`);
    assert.deepEqual(await health.json(), { status: 'ok', activeCalls: 1 });
  });
});
