import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { TwilioRestError, createTwilioCallControl } from '../../../src/twilio/call-control.js';
import { startFakeTwilioRest, type FakeTwilioRest } from '../../fakes/fake-twilio-rest.js';

const accountSid = 'AC0123456789abcdef0123456789abcdef';
const authToken = 'fake-auth-token';

async function withFake(run: (fake: FakeTwilioRest) => Promise<void>): Promise<void> {
  const fake = await startFakeTwilioRest({ accountSid, authToken });
  try {
    await run(fake);
  } finally {
    await fake.close();
  }
}

async function rejection(promise: Promise<unknown>): Promise<TwilioRestError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TwilioRestError, `expected TwilioRestError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

void test('createCall sends the documented parameters and returns sid and status', async () => {
  await withFake(async (fake) => {
    const control = createTwilioCallControl({ accountSid, authToken, apiBaseUrl: fake.baseUrl });
    const created = await control.createCall({
      to: '+15558675310',
      from: '+15017122661',
      url: 'https://koe.example.com/twilio/voice',
      statusCallback: 'https://koe.example.com/twilio/status',
      statusCallbackEvents: ['initiated', 'ringing', 'answered', 'completed'],
      machineDetection: 'Enable',
      asyncAmd: true,
      asyncAmdStatusCallback: 'https://koe.example.com/twilio/amd',
      record: false,
      timeoutSec: 30,
    });
    assert.match(created.sid, /^CA[0-9a-f]{32}$/);
    assert.equal(created.status, 'queued');
    const request = fake.requests.at(-1);
    assert.equal(request?.method, 'POST');
    assert.equal(request?.path, `/2010-04-01/Accounts/${accountSid}/Calls.json`);
    assert.equal(request?.status, 201);
    assert.deepEqual(request?.params, {
      To: '+15558675310',
      From: '+15017122661',
      Url: 'https://koe.example.com/twilio/voice',
      StatusCallback: 'https://koe.example.com/twilio/status',
      StatusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      StatusCallbackMethod: 'POST',
      MachineDetection: 'Enable',
      AsyncAmd: 'true',
      AsyncAmdStatusCallback: 'https://koe.example.com/twilio/amd',
      AsyncAmdStatusCallbackMethod: 'POST',
      Record: 'false',
      Timeout: '30',
    });
    const record = fake.calls.get(created.sid);
    assert.equal(record?.statusCallbackEvents.length, 4);
    assert.equal(record?.asyncAmd, true);
    assert.equal(record?.direction, 'outbound-api');
  });
});

void test('createCall: inline TwiML; misuse throws before any request', async () => {
  await withFake(async (fake) => {
    const control = createTwilioCallControl({ accountSid, authToken, apiBaseUrl: fake.baseUrl });
    const created = await control.createCall({ to: '+15558675310', from: '+15017122661', twiml: '<Response><Hangup/></Response>' });
    assert.equal(fake.calls.get(created.sid)?.twiml, '<Response><Hangup/></Response>');
    await assert.rejects(control.createCall({ to: '+15558675310', from: '+15017122661' }), /exactly one of url or twiml/);
    await assert.rejects(
      control.createCall({ to: '+15558675310', from: '+15017122661', twiml: `<Response><Say>${'x'.repeat(4000)}</Say></Response>` }),
      /at most 4000/,
    );
    assert.equal(fake.requests.length, 1);
  });
});

void test('createCall with an invalid To: 400 / 21211, not retryable', async () => {
  await withFake(async (fake) => {
    const control = createTwilioCallControl({ accountSid, authToken, apiBaseUrl: fake.baseUrl });
    const err = await rejection(control.createCall({ to: '+1555', from: '+15017122661', url: 'https://koe.example.com/v' }).then(() => undefined));
    assert.equal(err.status, 400);
    assert.equal(err.code, 21211);
    assert.equal(err.moreInfo, 'https://www.twilio.com/docs/errors/21211');
    assert.match(err.message, /not a valid phone number/);
    assert.equal(err.retryable, false);
  });
});

void test('429 / 20429 is retryable and the next attempt succeeds', async () => {
  await withFake(async (fake) => {
    const control = createTwilioCallControl({ accountSid, authToken, apiBaseUrl: fake.baseUrl });
    fake.failNext({ status: 429, code: 20429, message: 'Too Many Requests' });
    const err = await rejection(control.createCall({ to: '+15558675310', from: '+15017122661', url: 'https://koe.example.com/v' }));
    assert.equal(err.status, 429);
    assert.equal(err.code, 20429);
    assert.equal(err.retryable, true);
    assert.equal(fake.calls.size, 0);
    const created = await control.createCall({ to: '+15558675310', from: '+15017122661', url: 'https://koe.example.com/v' });
    assert.ok(fake.calls.has(created.sid));
  });
});

void test('5xx is retryable', async () => {
  await withFake(async (fake) => {
    const control = createTwilioCallControl({ accountSid, authToken, apiBaseUrl: fake.baseUrl });
    fake.failNext({ status: 503, code: 20503, message: 'Service unavailable' });
    const err = await rejection(control.hangUp('CA0123456789abcdef0123456789abcdef'));
    assert.equal(err.status, 503);
    assert.equal(err.retryable, true);
  });
});

void test('wrong credentials: 401 / 20003, not retryable', async () => {
  await withFake(async (fake) => {
    const control = createTwilioCallControl({ accountSid, authToken: 'wrong', apiBaseUrl: fake.baseUrl });
    const err = await rejection(control.createCall({ to: '+15558675310', from: '+15017122661', url: 'https://koe.example.com/v' }));
    assert.equal(err.status, 401);
    assert.equal(err.code, 20003);
    assert.equal(err.retryable, false);
  });
});

void test('hangUp ends a live call; a second hangUp reports already_ended instead of failing', async () => {
  await withFake(async (fake) => {
    const control = createTwilioCallControl({ accountSid, authToken, apiBaseUrl: fake.baseUrl });
    const call = fake.addInboundCall({ from: '+14158675310', to: '+15017122661' });
    assert.equal(await control.hangUp(call.sid), 'hung_up');
    assert.equal(fake.calls.get(call.sid)?.status, 'completed');
    assert.deepEqual(fake.requests.at(-1)?.params, { Status: 'completed' });
    assert.equal(await control.hangUp(call.sid), 'already_ended'); // 21220
    assert.equal(await control.hangUp('CAffffffffffffffffffffffffffffffff'), 'already_ended'); // 20404
    await assert.rejects(control.hangUp('not-a-sid'), /not a call SID/);
  });
});

void test('hangUp on a queued outbound call cancels it', async () => {
  await withFake(async (fake) => {
    const control = createTwilioCallControl({ accountSid, authToken, apiBaseUrl: fake.baseUrl });
    const { sid } = await control.createCall({ to: '+15558675310', from: '+15017122661', url: 'https://koe.example.com/v' });
    assert.equal(await control.hangUp(sid), 'hung_up');
    assert.equal(fake.calls.get(sid)?.status, 'canceled');
  });
});

void test('redirect replaces the TwiML of a live call; 21220 once it has ended', async () => {
  await withFake(async (fake) => {
    const control = createTwilioCallControl({ accountSid, authToken, apiBaseUrl: fake.baseUrl });
    const call = fake.addInboundCall({ from: '+14158675310', to: '+15017122661' });
    const twiml = '<Response><Dial answerOnBridge="true"><Number>+15558675310</Number></Dial></Response>';
    await control.redirect(call.sid, twiml);
    assert.equal(fake.calls.get(call.sid)?.twiml, twiml);
    assert.deepEqual(fake.requests.at(-1)?.params, { Twiml: twiml });
    fake.setCallStatus(call.sid, 'completed');
    const err = await rejection(control.redirect(call.sid, twiml));
    assert.equal(err.status, 400);
    assert.equal(err.code, 21220);
    assert.equal(err.retryable, false);
  });
});

void test('network failure is retryable with no status', async () => {
  // A port that was free a moment ago: the connection is refused.
  const port = await new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
  const control = createTwilioCallControl({ accountSid, authToken, apiBaseUrl: `http://127.0.0.1:${port}` });
  const err = await rejection(control.hangUp('CA0123456789abcdef0123456789abcdef'));
  assert.equal(err.status, null);
  assert.equal(err.code, null);
  assert.equal(err.retryable, true);
});

void test('construction checks its options', () => {
  assert.throws(() => createTwilioCallControl({ accountSid: 'SK123', authToken }), /accountSid/);
  assert.throws(() => createTwilioCallControl({ accountSid, authToken: '' }), /authToken/);
  assert.throws(() => createTwilioCallControl({ accountSid, authToken, apiBaseUrl: 'ftp://x' }), /http/);
});
