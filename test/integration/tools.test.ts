// Tools and keypad: hang_up, send_dtmf, transfer, HTTP tools, and DTMF from the caller.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import type { AgentInput } from '../../src/agents/index.js';
import { DtmfDetector, mulawToPcm16 } from '../../src/audio/index.js';
import type { FakeTwilioCall } from '../fakes/fake-twilio-media.js';
import type { FakeResponseOutput, ResponseContext } from '../fakes/fake-realtime-server.js';
import { Harness, silence, speechLike } from './harness.js';

function agent(overrides: Partial<AgentInput> = {}): AgentInput {
  return { id: 'tester', name: 'T', instructions: 'Test.', tools: ['hang_up', 'send_dtmf'], dtmfDebounceMs: 300, ...overrides };
}

async function callerTurn(call: FakeTwilioCall): Promise<void> {
  await call.sendAudio(speechLike(500), { pace: 'fast' });
  await call.sendAudio(silence(800), { pace: 'fast' });
}

/** Plans the first response with `first`, later ones with a short acknowledgement. */
function plan(first: FakeResponseOutput[], later: FakeResponseOutput[] = [{ type: 'audio', transcript: 'Okay.', audioMs: 200 }]) {
  return (ctx: ResponseContext) => (ctx.index === 0 ? first : later);
}

describe('tools', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('hang_up ends the call through the REST API after the goodbye was heard', async () => {
    h = await Harness.start({
      twilioRest: true,
      agents: [agent()],
      realtime: { respond: plan([{ type: 'audio', transcript: 'Goodbye!', audioMs: 800 }, { type: 'function_call', name: 'hang_up', arguments: {} }]), transcripts: ['bye'] },
    });
    const call = await h.call();
    await callerTurn(call);
    const ended = await h.waitForEvent('call.ended', undefined, 6000);
    assert.equal(ended.reason, 'agent_hung_up');
    // Ended only once every byte of the goodbye had played (real-time playout).
    assert.equal(call.stats.bytesPlayed, 800 * 8);
    const rest = h.rest;
    assert.ok(rest);
    await h.realtime.waitFor(() => rest.requests.some((r) => r.params.Status === 'completed'), 2000);
    const hangup = rest.requests.find((r) => r.params.Status === 'completed');
    assert.equal(hangup?.path, `/2010-04-01/Accounts/${rest.calls.values().next().value?.accountSid}/Calls/${call.callSid}.json`);
    await call.waitForClose();
  });

  test('hang_up without a goodbye: Koe asks for one, waits for it, then closes the stream (no REST credentials)', async () => {
    h = await Harness.start({
      agents: [agent()],
      realtime: {
        respond: plan([{ type: 'function_call', name: 'hang_up', arguments: { reason: 'done' } }], [{ type: 'audio', transcript: 'Take care, goodbye.', audioMs: 400 }]),
        transcripts: ['that is all'],
      },
    });
    const call = await h.call({ stream: { playbackRate: 2 } });
    const session = await h.realtime.waitForSession(0);
    await callerTurn(call);
    const ended = await h.waitForEvent('call.ended', undefined, 6000);
    assert.equal(ended.reason, 'agent_hung_up');
    const goodbyeRequest = session.received.filter((e) => e.type === 'response.create').at(-1);
    assert.ok(goodbyeRequest?.type === 'response.create');
    assert.match(goodbyeRequest.response?.instructions ?? '', /goodbye/i);
    const output = session.received.find((e) => e.type === 'conversation.item.create' && e.item.type === 'function_call_output');
    assert.ok(output, 'the hang_up call got its output');
    assert.equal(call.stats.bytesPlayed, 400 * 8, 'the goodbye was heard in full');
    const closed = await call.waitForClose();
    assert.equal(closed.code, 1000);
  });

  test('send_dtmf plays real DTMF tones into the call, then the model continues', async () => {
    h = await Harness.start({
      agents: [agent()],
      realtime: { respond: plan([{ type: 'function_call', name: 'send_dtmf', arguments: { digits: '1#9' } }]), transcripts: ['press one hash nine'] },
    });
    const call = await h.call({ stream: { playbackRate: 4 } });
    const session = await h.realtime.waitForSession(0);
    await callerTurn(call);
    const sent = await h.waitForEvent('dtmf.sent');
    assert.equal(sent.digits, '1#9');
    const result = await h.waitForEvent('tool.result');
    assert.equal(result.ok, true);
    // The model is asked to continue after the tool output.
    await h.realtime.waitFor(() => session.received.filter((e) => e.type === 'response.create').length >= 1, 2000);
    await h.waitForEvent('turn.assistant', (e) => e.text === 'Okay.', 5000);
    const detector = new DtmfDetector({ sampleRateHz: 8000 });
    assert.deepEqual(detector.push(mulawToPcm16(call.receivedAudio())), ['1', '#', '9']);
  });

  test('speech from the far end while DTMF tones play does not cut the tones', async () => {
    h = await Harness.start({
      agents: [agent()],
      realtime: { respond: plan([{ type: 'function_call', name: 'send_dtmf', arguments: { digits: '123' } }], []), transcripts: ['menu', 'press one for sales'] },
    });
    const call = await h.call();
    const session = await h.realtime.waitForSession(0);
    await callerTurn(call);
    await h.waitForEvent('dtmf.sent');
    await call.waitForPlayedBytes(8 * 100, 3000);
    session.speechStarted(); // an IVR prompt talking over our key presses
    await call.waitFor(() => call.stats.bytesBuffered === 0 && call.stats.bytesPlayed > 8 * 500, 4000, 'tones played out');
    assert.equal(call.stats.clears, 0);
    assert.deepEqual(h.eventsOf('barge_in'), []);
    assert.deepEqual(new DtmfDetector().push(mulawToPcm16(call.playedAudio())), ['1', '2', '3']);
  });

  test('transfer redirects the live call to <Dial> after the announcement was heard', async () => {
    h = await Harness.start({
      twilioRest: true,
      agents: [agent({ tools: [{ type: 'transfer', number: '+15557654321', announce: 'Connecting you now.', callerId: '+15550002222' }] })],
      realtime: {
        respond: plan([
          { type: 'audio', transcript: 'Let me get you someone.', audioMs: 600 },
          { type: 'function_call', name: 'transfer', arguments: { reason: 'asked for a human' } },
        ]),
        transcripts: ['a human please'],
      },
    });
    const call = await h.call();
    await callerTurn(call);
    const rest = h.rest;
    assert.ok(rest);
    await h.realtime.waitFor(() => rest.requests.some((r) => typeof r.params.Twiml === 'string'), 5000);
    assert.equal(call.stats.bytesPlayed, 600 * 8, 'the redirect waited for the announcement to be heard');
    const twiml = String(rest.requests.find((r) => typeof r.params.Twiml === 'string')?.params.Twiml);
    assert.match(twiml, /<Say[^>]*>Connecting you now\.<\/Say>/);
    assert.match(twiml, /<Dial[^>]*callerId="\+15550002222"[^>]*>\s*<Number>\+15557654321<\/Number>\s*<\/Dial>/);
    const result = await h.waitForEvent('tool.result');
    assert.equal(result.ok, true);
    // Twilio ends the stream after a redirect.
    await call.stop();
    assert.equal((await h.waitForEvent('call.ended')).reason, 'transferred');
    assert.equal(rest.requests.filter((r) => r.params.Status === 'completed').length, 0, 'a transferred call is not hung up');
  });

  test('transfer without REST credentials tells the model it failed, and the call goes on', async () => {
    h = await Harness.start({
      agents: [agent({ tools: [{ type: 'transfer', number: '+15557654321' }] })],
      realtime: { respond: plan([{ type: 'function_call', name: 'transfer', arguments: {} }]), transcripts: ['a human please'] },
    });
    const call = await h.call({ stream: { playbackRate: 4 } });
    await callerTurn(call);
    const result = await h.waitForEvent('tool.result');
    assert.equal(result.ok, false);
    assert.match(result.output, /TWILIO_ACCOUNT_SID/);
    await h.waitForEvent('turn.assistant', (e) => e.text === 'Okay.', 5000);
    assert.equal(h.eventsOf('call.ended').length, 0);
  });

  test('HTTP tools receive the arguments as JSON; the body goes back to the model as the output', async () => {
    const seen: unknown[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(JSON.parse(body));
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ open: true, hours: '9-18' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hours`;
      h = await Harness.start({
        agents: [agent({ tools: [{ type: 'http', name: 'opening_hours', description: 'Opening hours for a day', url, parameters: { type: 'object', properties: { day: { type: 'string' } } } }] })],
        realtime: { respond: plan([{ type: 'function_call', name: 'opening_hours', arguments: { day: 'monday' } }]), transcripts: ['when are you open monday'] },
      });
      const call = await h.call({ stream: { playbackRate: 4 } });
      const session = await h.realtime.waitForSession(0);
      await callerTurn(call);
      await h.waitForEvent('turn.assistant', (e) => e.text === 'Okay.', 5000);
      assert.deepEqual(seen, [{ day: 'monday' }]);
      const output = session.received.find((e) => e.type === 'conversation.item.create' && e.item.type === 'function_call_output');
      assert.ok(output?.type === 'conversation.item.create' && output.item.type === 'function_call_output');
      assert.deepEqual(JSON.parse(output.item.output), { open: true, hours: '9-18' });
      const fnCall = session.items.find((i) => i.type === 'function_call');
      assert.equal(output.item.call_id, fnCall?.type === 'function_call' ? fnCall.call_id : undefined);
      // function_call_output first, then response.create: the service does not answer an output by itself.
      const order = session.received.map((e) => (e.type === 'conversation.item.create' ? `item:${e.item.type}` : e.type));
      assert.ok(order.lastIndexOf('response.create') > order.indexOf('item:function_call_output'));
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('keypad', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('caller key presses reach the model as one text item, then a response is asked for', async () => {
    h = await Harness.start({ agents: [agent()], realtime: { respond: () => [{ type: 'audio', transcript: 'Got it.', audioMs: 200 }] } });
    const call = await h.call({ stream: { playbackRate: 4 } });
    const session = await h.realtime.waitForSession(0);
    await session.waitForSent('session.updated');
    for (const digit of ['4', '2']) call.sendDtmf(digit);
    const received = await h.waitForEvent('dtmf.received');
    assert.equal(received.digits, '42');
    const item = await session.waitForReceived('conversation.item.create');
    assert.ok(item.item.type === 'message' && item.item.role === 'user');
    const content = item.item.content[0];
    assert.equal(content?.type === 'input_text' ? content.text : undefined, 'The caller pressed 42 on the phone keypad.');
    await session.waitForReceived('response.create');
    await h.waitForEvent('turn.assistant', (e) => e.text === 'Got it.');
    const turn = await h.waitForEvent('turn.user');
    assert.equal(turn.source, 'dtmf');
    assert.equal(turn.text, '42');
  });

  test('keys pressed while the model is still connecting are told once it is ready', async () => {
    h = await Harness.start({
      agents: [agent()],
      realtime: { respond: () => [] },
      wrapConnect: (connect) => async (signal) => {
        await new Promise((r) => setTimeout(r, 500));
        return connect(signal);
      },
    });
    const call = await h.call();
    call.sendDtmf('7');
    const session = await h.realtime.waitForSession(0, 3000);
    const item = await session.waitForReceived('conversation.item.create', 3000);
    assert.ok(item.item.type === 'message');
    const content = item.item.content[0];
    assert.equal(content?.type === 'input_text' ? content.text : '', 'The caller pressed 7 on the phone keypad.');
  });

  test('# sends the digits at once', async () => {
    h = await Harness.start({ agents: [agent({ dtmfDebounceMs: 10_000 })], realtime: { respond: () => [] } });
    const call = await h.call();
    const session = await h.realtime.waitForSession(0);
    await session.waitForSent('session.updated');
    for (const digit of ['1', '2', '3', '#']) call.sendDtmf(digit);
    assert.equal((await h.waitForEvent('dtmf.received', undefined, 1500)).digits, '123#');
  });
});
