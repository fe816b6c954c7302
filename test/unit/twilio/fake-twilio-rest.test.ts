// The REST fake itself, spoken to with plain fetch, so its wire behaviour is pinned independently of twilio-node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeTwilioRest, type FakeTwilioRest } from '../../fakes/fake-twilio-rest.js';

const accountSid = 'AC0123456789abcdef0123456789abcdef';
const authToken = 'fake-auth-token';
const auth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;

async function withFake(run: (fake: FakeTwilioRest) => Promise<void>): Promise<void> {
  const fake = await startFakeTwilioRest({ accountSid, authToken });
  try {
    await run(fake);
  } finally {
    await fake.close();
  }
}

async function post(fake: FakeTwilioRest, path: string, form: string, headers: Record<string, string> = { authorization: auth }) {
  const res = await fetch(fake.baseUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const calls = `/2010-04-01/Accounts/${accountSid}/Calls.json`;

void test('create: 201 with the snake_case Call resource; repeated keys are kept', async () => {
  await withFake(async (fake) => {
    const form =
      'To=%2B15558675310&From=%2B15017122661&Twiml=%3CResponse%2F%3E&StatusCallback=https%3A%2F%2Fk.example%2Fs' +
      '&StatusCallbackEvent=initiated&StatusCallbackEvent=answered';
    const { status, body } = await post(fake, calls, form);
    assert.equal(status, 201);
    assert.match(String(body['sid']), /^CA[0-9a-f]{32}$/);
    assert.equal(body['account_sid'], accountSid);
    assert.equal(body['to'], '+15558675310');
    assert.equal(body['from'], '+15017122661');
    assert.equal(body['status'], 'queued');
    assert.equal(body['direction'], 'outbound-api');
    assert.equal(body['answered_by'], null);
    assert.equal(body['start_time'], null);
    assert.equal(body['api_version'], '2010-04-01');
    assert.equal(body['queue_time'], '0');
    assert.equal(body['uri'], `/2010-04-01/Accounts/${accountSid}/Calls/${String(body['sid'])}.json`);
    assert.match(String(body['date_created']), /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    assert.deepEqual(fake.requests[0]?.params['StatusCallbackEvent'], ['initiated', 'answered']);
    assert.deepEqual(fake.calls.get(String(body['sid']))?.statusCallbackEvents, ['initiated', 'answered']);
  });
});

void test('create: validation errors carry {code, message, more_info, status}', async () => {
  await withFake(async (fake) => {
    const cases: Array<[string, number, number]> = [
      ['From=%2B15017122661&Url=https%3A%2F%2Fk.example%2Fv', 400, 21201],
      ['To=%2B15558675310&Url=https%3A%2F%2Fk.example%2Fv', 400, 21213],
      ['To=%2B1555&From=%2B15017122661&Url=https%3A%2F%2Fk.example%2Fv', 400, 21211],
      ['To=%2B15558675310&From=%2B15017122661', 400, 21205],
      [`To=%2B15558675310&From=%2B15017122661&Twiml=${'x'.repeat(4001)}`, 400, 32018],
    ];
    for (const [form, status, code] of cases) {
      const res = await post(fake, calls, form);
      assert.equal(res.status, status, form.slice(0, 60));
      assert.deepEqual(Object.keys(res.body).sort(), ['code', 'message', 'more_info', 'status']);
      assert.equal(res.body['code'], code);
      assert.equal(res.body['status'], status);
      assert.equal(res.body['more_info'], `https://www.twilio.com/docs/errors/${code}`);
    }
    assert.equal(fake.calls.size, 0);
  });
});

void test('auth: missing or wrong Basic credentials, or another account, is 401 / 20003', async () => {
  await withFake(async (fake) => {
    const form = 'To=%2B15558675310&From=%2B15017122661&Url=https%3A%2F%2Fk.example%2Fv';
    assert.equal((await post(fake, calls, form, {})).body['code'], 20003);
    const wrong = `Basic ${Buffer.from(`${accountSid}:nope`).toString('base64')}`;
    const res = await post(fake, calls, form, { authorization: wrong });
    assert.equal(res.status, 401);
    assert.equal(res.body['code'], 20003);
    const other = await post(fake, '/2010-04-01/Accounts/ACffffffffffffffffffffffffffffffff/Calls.json', form);
    assert.equal(other.status, 401);
  });
});

void test('update: Status=canceled leaves a live call alone; Status=completed ends it; then 21220', async () => {
  await withFake(async (fake) => {
    const live = fake.addInboundCall({ from: '+14158675310', to: '+15017122661' });
    const path = `/2010-04-01/Accounts/${accountSid}/Calls/${live.sid}.json`;
    const canceled = await post(fake, path, 'Status=canceled');
    assert.equal(canceled.status, 200);
    assert.equal(canceled.body['status'], 'in-progress');
    const done = await post(fake, path, 'Status=completed');
    assert.equal(done.body['status'], 'completed');
    assert.notEqual(done.body['end_time'], null);
    assert.equal(typeof done.body['duration'], 'string');
    const again = await post(fake, path, 'Status=completed');
    assert.equal(again.status, 400);
    assert.equal(again.body['code'], 21220);
    const unknown = await post(fake, `/2010-04-01/Accounts/${accountSid}/Calls/CAffffffffffffffffffffffffffffffff.json`, 'Status=completed');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body['code'], 20404);
  });
});

void test('update: Twiml and Url are exclusive; redirecting a ringing call is 21220', async () => {
  await withFake(async (fake) => {
    const created = await post(fake, calls, 'To=%2B15558675310&From=%2B15017122661&Url=https%3A%2F%2Fk.example%2Fv');
    const path = `/2010-04-01/Accounts/${accountSid}/Calls/${String(created.body['sid'])}.json`;
    fake.setCallStatus(String(created.body['sid']), 'ringing');
    assert.equal((await post(fake, path, 'Twiml=%3CResponse%2F%3E')).body['code'], 21220);
    assert.equal((await post(fake, path, 'Twiml=%3CResponse%2F%3E&Url=https%3A%2F%2Fk.example%2Fv')).status, 400);
    fake.setCallStatus(String(created.body['sid']), 'in-progress');
    const ok = await post(fake, path, 'Url=https%3A%2F%2Fk.example%2Fnext');
    assert.equal(ok.status, 200);
    assert.equal(fake.calls.get(String(created.body['sid']))?.url, 'https://k.example/next');
  });
});

void test('failNext answers the next request with the given error, once', async () => {
  await withFake(async (fake) => {
    fake.failNext({ status: 429, code: 20429, message: 'Too Many Requests' });
    const form = 'To=%2B15558675310&From=%2B15017122661&Url=https%3A%2F%2Fk.example%2Fv';
    const limited = await post(fake, calls, form);
    assert.deepEqual(limited, {
      status: 429,
      body: { code: 20429, message: 'Too Many Requests', more_info: 'https://www.twilio.com/docs/errors/20429', status: 429 },
    });
    assert.equal((await post(fake, calls, form)).status, 201);
    assert.deepEqual(
      fake.requests.map((r) => r.status),
      [429, 201],
    );
  });
});

void test('onCallCreated sees each new call (where outbound-call tests hook in)', async () => {
  const seen: string[] = [];
  const fake = await startFakeTwilioRest({ accountSid, authToken, onCallCreated: (call) => seen.push(call.sid) });
  try {
    const created = await post(fake, calls, 'To=%2B15558675310&From=%2B15017122661&Url=https%3A%2F%2Fk.example%2Fv');
    assert.deepEqual(seen, [created.body['sid']]);
    assert.deepEqual(fake.hookErrors, []);
  } finally {
    await fake.close();
  }
});

void test('a throwing hook does not break the answer; the error is kept for the test', async () => {
  const fake = await startFakeTwilioRest({
    accountSid,
    authToken,
    onCallCreated: () => {
      throw new Error('hook bug');
    },
  });
  try {
    const created = await post(fake, calls, 'To=%2B15558675310&From=%2B15017122661&Url=https%3A%2F%2Fk.example%2Fv');
    assert.equal(created.status, 201);
    assert.equal(fake.hookErrors.length, 1);
  } finally {
    await fake.close();
  }
});
