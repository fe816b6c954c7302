// The browser softphone's server side: POST /api/softphone/calls mints what the Twilio webhook would, and
// a client speaking Twilio's Media Streams protocol on /api/softphone/stream (with the session cookie)
// reaches the same CallSession: it hears the agent's greeting from the fake model.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ApiError, CallList, SoftphoneCallResponse } from '../../src/server/api/api-types.js';
import type { ResponseContext } from '../fakes/fake-realtime-server.js';
import { FakeTwilioCall } from '../fakes/fake-twilio-media.js';
import type { DashboardServer } from './dashboard-support.js';
import { api, login, startDashboardServer } from './dashboard-support.js';

const greet = (ctx: ResponseContext) => [{ type: 'audio' as const, transcript: String(ctx.metadata?.koe_say ?? 'hello'), audioMs: 400 }];

describe('softphone', () => {
  let server: DashboardServer;
  let cookie: string;
  before(async () => {
    server = await startDashboardServer({
      agents: [
        { id: 'concierge', name: 'Concierge', instructions: 'You help {{customerName}} of {{companyName}}.', variables: { companyName: 'Koe' }, greeting: 'Hello {{customerName}}!' },
      ],
      realtime: { respond: greet },
    });
    cookie = await login(server.base);
  });
  after(async () => server.close());

  const streamUrl = (): string => `${server.base.replace(/^http/, 'ws')}/api/softphone/stream`;

  test('a browser call gets the agent’s greeting through the same CallSession as a Twilio call', async () => {
    const created = await api<SoftphoneCallResponse>(server.base, 'POST', '/api/softphone/calls', {
      cookie,
      body: { agentId: 'concierge', variables: { customerName: 'Ana' } },
    });
    assert.equal(created.status, 200);
    const { callSid, streamPath, parameters } = created.body;
    assert.match(callSid, /^CA[0-9a-f]{32}$/);
    assert.equal(streamPath, '/api/softphone/stream');
    assert.deepEqual({ ...parameters, token: undefined }, { direction: 'inbound', callerNumber: 'softphone', var_customerName: 'Ana', token: undefined });
    assert.match(parameters.token ?? '', /^v1\./);

    const call = await FakeTwilioCall.connect({ url: streamUrl(), headers: { cookie, origin: server.base }, callSid, customParameters: parameters, playbackRate: 4 });
    const h = server.harness;
    const greeting = await h.waitForEvent('turn.assistant', (e) => e.callSid === callSid && e.greeting);
    assert.equal(greeting.text, 'Hello Ana!');
    await call.waitForReceivedBytes(400 * 8, 3000);
    assert.deepEqual(call.protocolViolations, []);
    const session = await h.realtime.waitForSession(0);
    const update = session.received.find((e) => e.type === 'session.update');
    assert.ok(update && update.type === 'session.update' && update.session.type === 'realtime');
    assert.equal(update.session.instructions, 'You help Ana of Koe.');

    const started = await h.waitForEvent('call.started', (e) => e.callSid === callSid);
    assert.equal(started.call.from, 'softphone');
    assert.equal(started.call.direction, 'inbound');
    assert.equal(started.variables.customerName, 'Ana');

    await call.stop();
    await h.waitForEvent('call.ended', (e) => e.callSid === callSid);
    await server.store.writer.flush();
    const stored = await api<CallList>(server.base, 'GET', `/api/calls?q=${callSid}`, { cookie });
    assert.equal(stored.body.items[0]?.from, 'softphone');
    assert.equal(stored.body.items[0]?.turnCount, 1);
  });

  test('variables the templates need but were not given answer 400 naming them; unknown agents 404', async () => {
    const missing = await api<ApiError>(server.base, 'POST', '/api/softphone/calls', { cookie, body: { agentId: 'concierge' } });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.code, 'missing_variables');
    assert.deepEqual(missing.body.error.problems, ['customerName']);
    const unknown = await api<ApiError>(server.base, 'POST', '/api/softphone/calls', { cookie, body: { agentId: 'nobody' } });
    assert.equal(unknown.status, 404);
    const badName = await api<ApiError>(server.base, 'POST', '/api/softphone/calls', { cookie, body: { agentId: 'concierge', variables: { 'not a name': 'x' } } });
    assert.equal(badName.status, 400);
  });

  test('the token binds the variables: changed parameters are refused like a forged Twilio stream', async () => {
    const created = await api<SoftphoneCallResponse>(server.base, 'POST', '/api/softphone/calls', { cookie, body: { agentId: 'concierge', variables: { customerName: 'Ana' } } });
    const { callSid, parameters } = created.body;
    const call = await FakeTwilioCall.connect({
      url: streamUrl(),
      headers: { cookie },
      callSid,
      customParameters: { ...parameters, var_customerName: 'Mallory' },
    });
    const closed = await call.waitForClose(3000);
    assert.equal(closed.code, 1008);
    assert.equal(server.harness.eventsOf('call.started').filter((e) => e.callSid === callSid).length, 0);
  });
});
