// One outbound call through the whole path: POST /api/calls → the official Twilio client → the fake
// Twilio network, which fetches Koe's TwiML (signed), opens the media stream and sends signed status
// callbacks → the same CallSession as inbound calls → the call record from `dialing` to `ended`.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AgentInput } from '../../src/agents/index.js';
import type { CallDetail, CallRecord, PlaceCallResponse } from '../../src/server/api/api-types.js';
import { computeSignature } from '../../src/twilio/index.js';
import { DEFAULT_TEST_AGENT, TEST_AUTH_TOKEN } from '../integration/harness.js';
import type { ResponseContext, ResponsePlan } from '../fakes/fake-realtime-server.js';
import type { CalleeScript } from '../fakes/fake-twilio-network.js';
import type { DashboardServer } from './dashboard-support.js';
import { api, login, startDashboardServer } from './dashboard-support.js';

const SALES: AgentInput = {
  id: 'sales',
  name: 'Outbound sales',
  instructions: 'You call {{name}} about {{product}} for {{companyName}}.',
  greeting: 'Hello {{name}}, this is {{companyName}}.',
  variables: { companyName: 'Koe Test' },
  tools: ['hang_up', 'send_dtmf'],
};
const VOICEMAIL: AgentInput = {
  ...SALES,
  id: 'voicemail',
  answeringMachine: { detect: true, action: 'leave_message', message: 'Hi {{name}}, please call Koe Test back.' },
};
const HANG_UP_ON_MACHINES: AgentInput = { ...SALES, id: 'no-messages', answeringMachine: { detect: true, action: 'hang_up' } };

/** The fake model says what Koe asks it to say verbatim (greeting, voicemail), else a short reply. */
function respond(ctx: ResponseContext): ResponsePlan {
  const say = ctx.metadata?.koe_say;
  return [{ type: 'audio', transcript: typeof say === 'string' ? say : 'Sure.', audioMs: 600 }];
}

/** Callee behaviour by the number called. */
const CALLEES: Record<string, CalleeScript> = {
  '+14155550001': { kind: 'answer', hangUpAfterMs: 2500, answeredBy: 'human' },
  '+14155550002': { kind: 'busy' },
  '+14155550003': { kind: 'no-answer', ringMs: 150 },
  '+14155550004': { kind: 'voicemail', greetingMs: 800, recordMs: 6000 },
  '+14155550005': { kind: 'voicemail', greetingMs: 800, recordMs: 6000 },
};

async function waitForCall(server: DashboardServer, cookie: string, id: string, done: (c: CallRecord) => boolean, timeoutMs = 10_000): Promise<CallDetail> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const detail = await api<CallDetail>(server.base, 'GET', `/api/calls/${id}`, { cookie });
    if (detail.status === 200 && done(detail.body.call)) return detail.body;
    if (Date.now() > deadline) throw new Error(`call ${id} did not get there: ${JSON.stringify(detail.body).slice(0, 400)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('outbound calls (POST /api/calls) through the fake Twilio network', () => {
  let server: DashboardServer;
  let cookie: string;

  before(async () => {
    server = await startDashboardServer({
      agents: [SALES, VOICEMAIL, HANG_UP_ON_MACHINES, DEFAULT_TEST_AGENT],
      realtime: { respond },
      twilioNetwork: { callee: (call) => CALLEES[call.to] ?? { kind: 'answer', hangUpAfterMs: 1000 } },
    });
    cookie = await login(server.base);
  });
  after(async () => server?.close());

  const network = () => {
    const n = server.harness.network;
    assert.ok(n);
    return n;
  };

  test('a call is placed, answered, talked and stored from dialing to its end', async () => {
    const placed = await api<PlaceCallResponse>(server.base, 'POST', '/api/calls', {
      cookie,
      body: { to: '(415) 555-0001', defaultCountry: 'US', agentId: 'sales', variables: { name: 'Aiko', product: 'teeth whitening' }, record: true },
    });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const { call } = placed.body;
    assert.equal(call.direction, 'outbound');
    assert.equal(call.to, '+14155550001');
    assert.equal(call.from, '+15550001000', 'TWILIO_CALLER_ID is the default caller ID');
    assert.match(call.callSid ?? '', /^CA[0-9a-f]{32}$/);
    assert.ok(call.dialedAt);

    const ended = await waitForCall(server, cookie, call.id, (c) => c.status === 'ended' && c.twilioStatus === 'completed');
    assert.equal(ended.call.id, call.id, 'the stream joined the record made at dial time');
    assert.equal(ended.call.endReason, 'caller_hung_up');
    assert.equal(ended.call.twilioStatus, 'completed');
    assert.deepEqual(ended.call.variables, { name: 'Aiko', product: 'teeth whitening' });
    const greeting = ended.turns.find((t) => t.source === 'greeting');
    assert.equal(greeting?.text, 'Hello Aiko, this is Koe Test.');
    // Recorded because the request asked (KOE_RECORD_CALLS is off here).
    assert.equal(ended.call.hasRecording, true);
    const recording = await fetch(`${server.base}/api/calls/${call.id}/recording`, { headers: { cookie } });
    assert.equal(recording.status, 200);
    assert.ok((await recording.arrayBuffer()).byteLength > 44 + 2 * 8000, 'more than half a second of stereo 8 kHz audio');

    const fake = network().calls.get(call.callSid as string);
    assert.ok(fake);
    // Twilio's requests were all accepted: TwiML (signed), then callbacks in order.
    assert.deepEqual(fake.twimlFetches.map((f) => f.status), [200]);
    assert.match(fake.twimlFetches[0]?.url ?? '', /\/twilio\/outbound\?callId=/);
    const statusCallbacks = fake.callbacks.filter((c) => c.kind === 'status');
    assert.deepEqual(statusCallbacks.map((c) => c.params.CallStatus), ['initiated', 'ringing', 'in-progress', 'completed']);
    assert.ok(statusCallbacks.every((c) => c.answeredStatus === 204), JSON.stringify(statusCallbacks.map((c) => c.answeredStatus)));
    assert.ok(fake.receivedAudio().length > 4000, 'the callee heard the greeting');
    assert.equal(fake.record.machineDetection, null, 'no AMD unless the agent or the request asks');
    assert.equal(fake.record.timeoutSec, 30);
    assert.deepEqual(network().errors, []);
  });

  test('busy and no-answer end the record without a stream', async () => {
    for (const [to, status, reason] of [
      ['+14155550002', 'busy', 'busy'],
      ['+14155550003', 'no-answer', 'no_answer'],
    ] as const) {
      const placed = await api<PlaceCallResponse>(server.base, 'POST', '/api/calls', {
        cookie,
        body: { to, agentId: 'sales', variables: { name: 'Ken', product: 'floss' } },
      });
      assert.equal(placed.status, 201);
      const ended = await waitForCall(server, cookie, placed.body.call.id, (c) => c.status === 'ended');
      assert.equal(ended.call.twilioStatus, status);
      assert.equal(ended.call.endReason, reason);
      assert.equal(ended.turns.length, 0);
      assert.match(ended.call.error ?? '', /^SIP 48[67]$/);
    }
  });

  test('an answering machine: the agent leaves its message after the beep, then hangs up', async () => {
    const placed = await api<PlaceCallResponse>(server.base, 'POST', '/api/calls', {
      cookie,
      body: { to: '+14155550004', agentId: 'voicemail', variables: { name: 'Mika', product: 'x' } },
    });
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const ended = await waitForCall(server, cookie, placed.body.call.id, (c) => c.status === 'ended' && c.twilioStatus === 'completed');
    assert.equal(ended.call.answeredBy, 'machine_end_beep');
    assert.equal(ended.call.endReason, 'voicemail_left');
    const fake = network().calls.get(placed.body.call.callSid as string);
    assert.equal(fake?.record.machineDetection, 'DetectMessageEnd');
    assert.equal(fake?.record.asyncAmd, true);
    assert.ok((fake?.voicemailAudio.length ?? 0) >= 600 * 8 * 0.9, `the machine recorded the message (${fake?.voicemailAudio.length} bytes)`);
    const message = ended.turns.filter((t) => t.role === 'assistant').map((t) => t.text);
    assert.ok(message.includes('Hi Mika, please call Koe Test back.'), JSON.stringify(message));
  });

  test('an answering machine with hang_up: the call ends at once as answering_machine', async () => {
    const placed = await api<PlaceCallResponse>(server.base, 'POST', '/api/calls', {
      cookie,
      body: { to: '+14155550005', agentId: 'no-messages', variables: { name: 'Jun', product: 'x' } },
    });
    assert.equal(placed.status, 201);
    const ended = await waitForCall(server, cookie, placed.body.call.id, (c) => c.status === 'ended' && c.twilioStatus === 'completed');
    assert.equal(ended.call.answeredBy, 'machine_start');
    assert.equal(ended.call.endReason, 'answering_machine');
    const fake = network().calls.get(placed.body.call.callSid as string);
    assert.equal(fake?.record.machineDetection, 'Enable');
  });

  test('Twilio refusals come back as clear errors; nothing is left dialing', async () => {
    const body = { to: '+14155550009', agentId: 'sales', variables: { name: 'A', product: 'B' } };
    network().rest.failNext({ status: 400, code: 21211, message: "The 'To' number +14155550009 is not a valid phone number." });
    const invalid = await api<{ error: { code: string; message: string } }>(server.base, 'POST', '/api/calls', { cookie, body });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.code, 'invalid_number');
    assert.match(invalid.body.error.message, /21211/);

    network().rest.failNext({ status: 429, code: 20429, message: 'Too Many Requests' });
    const limited = await api<{ error: { code: string } }>(server.base, 'POST', '/api/calls', { cookie, body });
    assert.equal(limited.status, 503);
    assert.equal(limited.body.error.code, 'twilio_rate_limited');
    assert.equal(limited.headers.get('retry-after'), '5');

    network().rest.failNext({ status: 401, code: 20003, message: 'Authenticate' });
    const auth = await api<{ error: { code: string } }>(server.base, 'POST', '/api/calls', { cookie, body });
    assert.equal(auth.status, 502);
    assert.equal(auth.body.error.code, 'twilio_auth_failed');

    const missing = await api<{ error: { code: string; problems: string[] } }>(server.base, 'POST', '/api/calls', {
      cookie,
      body: { to: '+14155550009', agentId: 'sales', variables: { name: 'A' } },
    });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.code, 'missing_variables');
    assert.match(missing.body.error.problems.join(' '), /product/);

    const badNumber = await api<{ error: { code: string } }>(server.base, 'POST', '/api/calls', { cookie, body: { ...body, to: '12345' } });
    assert.equal(badNumber.status, 400);
    assert.equal(badNumber.body.error.code, 'invalid_number');

    const list = await api<{ items: CallRecord[] }>(server.base, 'GET', '/api/calls?status=dialing', { cookie });
    assert.deepEqual(list.body.items, [], 'a refused call is recorded as ended (dial_failed), a 429 not at all');
    const failed = await api<{ items: CallRecord[] }>(server.base, 'GET', '/api/calls?endReason=dial_failed', { cookie });
    assert.ok(failed.body.items.some((c) => c.error?.includes('21211')));
  });

  test('Twilio\'s requests for outbound calls are signed; a call Koe did not place gets an apology, not a stream', async () => {
    const url = `${server.harness.publicUrl}/twilio/outbound?callId=not-a-call`;
    const params = { CallSid: `CA${'5'.repeat(32)}`, AccountSid: `AC${'1'.repeat(32)}`, CallStatus: 'in-progress', Direction: 'outbound-api' };
    const post = (headers: Record<string, string>) =>
      fetch(`${server.base}/twilio/outbound?callId=not-a-call`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(params),
      });
    assert.equal((await post({})).status, 403);
    assert.equal((await post({ 'x-twilio-signature': computeSignature(TEST_AUTH_TOKEN, `${url}&x=1`, params) })).status, 403);
    const answered = await post({ 'x-twilio-signature': computeSignature(TEST_AUTH_TOKEN, url, params) });
    assert.equal(answered.status, 200);
    const twiml = await answered.text();
    assert.match(twiml, /<Say[^>]*>Sorry, this line is not set up correctly/);
    assert.match(twiml, /<Hangup\/>/);
    assert.doesNotMatch(twiml, /<Stream/);
    // A forged status callback cannot touch a record either.
    const status = await fetch(`${server.base}/twilio/status?callId=x`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'forged' },
      body: new URLSearchParams({ ...params, CallStatus: 'completed' }),
    });
    assert.equal(status.status, 403);
  });

  test('without Twilio settings, placing a call says what is missing', async () => {
    const bare = await startDashboardServer({ agents: [SALES] });
    try {
      const c = await login(bare.base);
      const res = await api<{ error: { code: string; message: string } }>(bare.base, 'POST', '/api/calls', {
        cookie: c,
        body: { to: '+14155550001', agentId: 'sales', variables: { name: 'A', product: 'B' } },
      });
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, 'twilio_not_configured');
      assert.match(res.body.error.message, /TWILIO_ACCOUNT_SID.*PUBLIC_URL/);
    } finally {
      await bare.close();
    }
  });
});
