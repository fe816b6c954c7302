// The dashboard API on PGlite over real HTTP: calls (placed through the real Twilio webhook and media
// stream against the fake model), agents (create, edit, conflicts, preview, validation), recordings,
// server info, the OpenAPI document, and the 503 without a store.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CallEvent } from '../../src/call/call-events.js';
import type {
  AgentDetailResponse,
  AgentList,
  AgentRecord,
  ApiError,
  CallDetailResponse,
  CallList,
  PreviewAgentResponse,
  ServerInfo,
} from '../../src/server/api/api-types.js';
import type { ResponseContext } from '../fakes/fake-realtime-server.js';
import { Harness, silence, speechLike } from '../integration/harness.js';
import type { DashboardServer } from './dashboard-support.js';
import { ADMIN_PASSWORD, api, login, registeredRoutes, startDashboardServer } from './dashboard-support.js';

const GREETING = 'Thanks for calling Koe Dental.';

function greetThenAnswer(ctx: ResponseContext) {
  if (ctx.index === 0) return [{ type: 'audio' as const, transcript: String(ctx.metadata?.koe_say ?? GREETING), audioMs: 400 }];
  return [{ type: 'audio' as const, transcript: 'Of course, Tuesday at ten works.', audioMs: 400 }];
}

describe('dashboard API: calls', () => {
  let server: DashboardServer;
  let cookie: string;
  const callSids: string[] = [];

  before(async () => {
    server = await startDashboardServer({
      agents: [{ id: 'dental', name: 'Dental', instructions: 'You work for {{companyName}}.', variables: { companyName: 'Koe Dental' }, greeting: GREETING }],
      realtime: { respond: greetThenAnswer, transcripts: ['I need an appointment for a root canal', 'what are your opening hours'] },
    });
    cookie = await login(server.base);
    const h = server.harness;
    for (const from of ['+15550001001', '+15550001002']) {
      const call = await h.call({ from, stream: { playbackRate: 4 } });
      callSids.push(call.callSid);
      await h.waitForEvent('turn.assistant', (e) => e.greeting && e.callSid === call.callSid);
      await call.sendAudio(speechLike(600), { pace: 'fast' });
      await call.sendAudio(silence(900), { pace: 'fast' });
      await h.waitForEvent('turn.user', (e) => e.callSid === call.callSid);
      await h.waitForEvent('turn.assistant', (e) => !e.greeting && e.callSid === call.callSid);
      await call.stop();
      await h.waitForEvent('call.ended', (e) => e.callSid === call.callSid);
    }
    await server.store.writer.flush();
  });
  after(async () => server.close());

  test('the list has both calls, newest first, with their records', async () => {
    const list = await api<CallList>(server.base, 'GET', '/api/calls', { cookie });
    assert.equal(list.status, 200);
    assert.equal(list.body.total, 2);
    assert.deepEqual(list.body.items.map((c) => c.callSid), [...callSids].reverse());
    const [latest] = list.body.items;
    assert.equal(latest?.from, '+15550001002');
    assert.equal(latest?.agentId, 'dental');
    assert.equal(latest?.status, 'ended');
    assert.equal(latest?.endReason, 'caller_hung_up');
    assert.equal(latest?.processId, server.harness.koe.processId);
  });

  test('search by number and by transcript text, filters, and paging', async () => {
    const byNumber = await api<CallList>(server.base, 'GET', '/api/calls?q=%2B15550001001', { cookie });
    assert.deepEqual(byNumber.body.items.map((c) => c.callSid), [callSids[0]]);
    const byText = await api<CallList>(server.base, 'GET', `/api/calls?q=${encodeURIComponent('root canal')}`, { cookie });
    assert.deepEqual(byText.body.items.map((c) => c.callSid), [callSids[0]]);
    const filtered = await api<CallList>(server.base, 'GET', '/api/calls?direction=inbound&status=ended&agentId=dental', { cookie });
    assert.equal(filtered.body.total, 2);
    const none = await api<CallList>(server.base, 'GET', '/api/calls?direction=outbound', { cookie });
    assert.equal(none.body.total, 0);
    const future = await api<CallList>(server.base, 'GET', `/api/calls?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { cookie });
    assert.equal(future.body.total, 0);
    const page2 = await api<CallList>(server.base, 'GET', '/api/calls?pageSize=1&page=2', { cookie });
    assert.deepEqual([page2.body.page, page2.body.pageSize, page2.body.total], [2, 1, 2]);
    assert.deepEqual(page2.body.items.map((c) => c.callSid), [callSids[0]]);
  });

  test('bad query values answer 400 naming each field', async () => {
    const response = await api<ApiError>(server.base, 'GET', '/api/calls?pageSize=1000&since=yesterday&direction=sideways', { cookie });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'validation_failed');
    const problems = response.body.error.problems ?? [];
    for (const field of ['pageSize', 'since', 'direction']) assert.ok(problems.some((p) => p.startsWith(`${field}:`)), `${field} in ${problems.join('; ')}`);
  });

  test('one call: turns in order, events, and 404 for an unknown id', async () => {
    const list = await api<CallList>(server.base, 'GET', `/api/calls?q=${encodeURIComponent(callSids[0] as string)}`, { cookie });
    const id = list.body.items[0]?.id as string;
    const detail = await api<CallDetailResponse>(server.base, 'GET', `/api/calls/${id}`, { cookie });
    assert.equal(detail.status, 200);
    assert.equal(detail.body.call.callSid, callSids[0]);
    assert.deepEqual(
      detail.body.turns.map((t) => [t.role, t.source, t.text]),
      [
        ['assistant', 'greeting', GREETING],
        ['user', 'speech', 'I need an appointment for a root canal'],
        ['assistant', 'reply', 'Of course, Tuesday at ten works.'],
      ],
    );
    assert.ok(detail.body.events.some((e) => e.type === 'call.started'));
    const missing = await api<ApiError>(server.base, 'GET', `/api/calls/${randomUUID()}`, { cookie });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'not_found');
  });

  test('recordings: 404 when there is none; a WAV with Range support when there is', async () => {
    const list = await api<CallList>(server.base, 'GET', '/api/calls', { cookie });
    const plain = list.body.items[0]?.id as string;
    const none = await api<ApiError>(server.base, 'GET', `/api/calls/${plain}/recording`, { cookie });
    assert.equal(none.status, 404);
    assert.equal(none.body.error.code, 'not_found');
    assert.equal((await api(server.base, 'GET', `/api/calls/${randomUUID()}/recording`, { cookie })).status, 404);

    // A recorded call, as the store learns of one: call.started says so, and the file is in the recordings folder.
    const callId = randomUUID();
    const started = recordedCallStarted(callId);
    server.store.writer.write(started);
    await server.store.writer.flush();
    const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(1_996, 7)]);
    writeFileSync(join(server.recordingsDir, `${callId}.wav`), wav);

    const whole = await fetch(`${server.base}/api/calls/${callId}/recording`, { headers: { cookie } });
    assert.equal(whole.status, 200);
    assert.match(whole.headers.get('content-type') ?? '', /^audio\/(x-)?wav/);
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), wav);
    const part = await fetch(`${server.base}/api/calls/${callId}/recording`, { headers: { cookie, range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-199/${wav.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), wav.subarray(100, 200));
    assert.equal((await fetch(`${server.base}/api/calls/${callId}/recording`)).status, 401);
  });

  test('a Twilio status callback is kept on the call', async () => {
    const response = await fetch(`${server.base}/twilio/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ CallSid: callSids[1] as string, CallStatus: 'completed', CallDuration: '12' }),
    });
    assert.equal(response.status, 204);
    const list = await api<CallList>(server.base, 'GET', `/api/calls?q=${callSids[1]}`, { cookie });
    assert.equal(list.body.items[0]?.twilioStatus, 'completed');
  });

  test('an unknown /api path is a JSON 404 (once logged in)', async () => {
    const response = await api<ApiError>(server.base, 'GET', '/api/nothing/here', { cookie });
    assert.equal(response.status, 404);
    assert.equal(response.body.error.code, 'not_found');
  });
});

function recordedCallStarted(callId: string): CallEvent {
  return {
    type: 'call.started',
    callId,
    callSid: `CA${callId.replace(/-/g, '')}`,
    atMs: 0,
    at: new Date().toISOString(),
    call: {
      callId,
      callSid: `CA${callId.replace(/-/g, '')}`,
      streamSid: 'MZ1',
      accountSid: 'AC1',
      agentId: 'dental',
      agentVersion: 1,
      direction: 'outbound',
      from: '+15550001003',
      to: '+15550001004',
      model: { url: 'ws://127.0.0.1/v1/realtime', model: 'gpt-realtime', shape: 'ga' },
      recording: true,
    },
    variables: {},
  };
}

describe('dashboard API: agents', () => {
  let server: DashboardServer;
  let cookie: string;
  before(async () => {
    server = await startDashboardServer();
    cookie = await login(server.base);
  });
  after(async () => server.close());

  const sales = { id: 'sales', name: 'Sales', instructions: 'You sell {{product}}.', variables: { product: 'phones' } };

  test('list, create (201; 409 for a taken id), and the registry calls use follows', async () => {
    const list = await api<AgentList>(server.base, 'GET', '/api/agents', { cookie });
    assert.deepEqual(list.body.agents.map((a) => a.id), ['tester']);
    assert.equal(list.body.defaultAgentId, 'tester');

    const created = await api<AgentRecord>(server.base, 'POST', '/api/agents', { cookie, body: { definition: sales } });
    assert.equal(created.status, 201);
    assert.deepEqual([created.body.id, created.body.version, created.body.source], ['sales', 1, 'api']);
    assert.deepEqual(created.body.definition, sales, 'stored as entered, defaults not filled in');
    assert.equal(server.catalog.registry.get('sales')?.name, 'Sales');

    const again = await api<ApiError>(server.base, 'POST', '/api/agents', { cookie, body: { definition: sales } });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'agent_exists');
  });

  test('invalid definitions answer 400 naming each field', async () => {
    const response = await api<ApiError>(server.base, 'POST', '/api/agents', {
      cookie,
      body: { definition: { id: 'Bad Id', name: '', instructions: 'Hi {{ 1x }}', voicee: 'x' } },
    });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'validation_failed');
    const problems = response.body.error.problems ?? [];
    for (const field of ['definition.id', 'definition.name', 'definition.instructions', 'definition']) {
      assert.ok(problems.some((p) => p.startsWith(`${field}:`)), `${field} in ${problems.join('; ')}`);
    }
    const notJson = await api<ApiError>(server.base, 'POST', '/api/agents', { cookie, body: '{"definition":' });
    assert.equal(notJson.status, 400);
    assert.equal((await api(server.base, 'GET', '/api/agents/bad-id', { cookie })).status, 404);
  });

  test('edits: a new version each save, 409 on a stale expectedVersion, history kept', async () => {
    const v2 = await api<AgentRecord>(server.base, 'PUT', '/api/agents/sales', {
      cookie,
      body: { definition: { ...sales, name: 'Sales v2' }, expectedVersion: 1 },
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(v2.status, 200);
    assert.deepEqual([v2.body.version, v2.body.source, v2.body.definition.name], [2, 'dashboard', 'Sales v2']);
    assert.equal(server.catalog.registry.get('sales')?.name, 'Sales v2');

    const stale = await api<ApiError>(server.base, 'PUT', '/api/agents/sales', { cookie, body: { definition: { ...sales, name: 'Lost edit' }, expectedVersion: 1 } });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.error.code, 'version_conflict');
    assert.equal(server.catalog.registry.get('sales')?.name, 'Sales v2');

    const renamed = await api<ApiError>(server.base, 'PUT', '/api/agents/sales', { cookie, body: { definition: { ...sales, id: 'other' } } });
    assert.equal(renamed.status, 400);
    assert.ok(renamed.body.error.problems?.[0]?.startsWith('definition.id:'));
    assert.equal((await api(server.base, 'PUT', '/api/agents/nobody', { cookie, body: { definition: { ...sales, id: 'nobody' } } })).status, 404);

    const detail = await api<AgentDetailResponse>(server.base, 'GET', '/api/agents/sales', { cookie });
    assert.equal(detail.body.agent.version, 2);
    assert.deepEqual(detail.body.versions.map((v) => [v.version, v.source]), [[2, 'dashboard'], [1, 'api']]);
    const v1 = await api<AgentRecord>(server.base, 'GET', '/api/agents/sales/versions/1', { cookie });
    assert.equal(v1.body.definition.name, 'Sales');
    assert.equal((await api(server.base, 'GET', '/api/agents/sales/versions/9', { cookie })).status, 404);
  });

  test('a phone number routed to another agent is a 409 with the clash named', async () => {
    const support = { id: 'support', name: 'Support', instructions: 'Help.', phoneNumbers: ['+15557770000'] };
    assert.equal((await api(server.base, 'POST', '/api/agents', { cookie, body: { definition: support } })).status, 201);
    const clash = await api<ApiError>(server.base, 'PUT', '/api/agents/sales', { cookie, body: { definition: { ...sales, phoneNumbers: ['+15557770000'] } } });
    assert.equal(clash.status, 409);
    assert.equal(clash.body.error.code, 'agent_conflict');
    assert.ok(clash.body.error.problems?.some((p) => p.includes('+15557770000')));
  });

  test('delete: 204, then gone; the default agent cannot be deleted', async () => {
    assert.equal((await api(server.base, 'DELETE', '/api/agents/support', { cookie, headers: { 'content-type': 'application/json' } })).status, 204);
    assert.equal((await api(server.base, 'GET', '/api/agents/support', { cookie })).status, 404);
    assert.equal(server.catalog.registry.get('support'), undefined);
    assert.equal((await api(server.base, 'DELETE', '/api/agents/support', { cookie, headers: { 'content-type': 'application/json' } })).status, 404);
    const keep = await api<ApiError>(server.base, 'DELETE', '/api/agents/tester', { cookie, headers: { 'content-type': 'application/json' } });
    assert.equal(keep.status, 409);
  });

  test('HTTP tool header values never come back; sending the mask back keeps them', async () => {
    const tool = { type: 'http', name: 'crm', description: 'Look up the caller', url: 'https://crm.example/lookup', headers: { Authorization: 'Bearer sk-crm-secret' } };
    const definition = { id: 'crm', name: 'CRM', instructions: 'Use the CRM.', tools: [tool] };
    const created = await api<AgentRecord>(server.base, 'POST', '/api/agents', { cookie, body: { definition } });
    assert.equal(created.status, 201);
    for (const response of [
      created,
      await api(server.base, 'GET', '/api/agents', { cookie }),
      await api(server.base, 'GET', '/api/agents/crm', { cookie }),
      await api(server.base, 'GET', '/api/agents/crm/versions/1', { cookie }),
    ]) {
      const text = JSON.stringify(response.body);
      assert.ok(!text.includes('sk-crm-secret'), text);
      assert.ok(text.includes('"Authorization":"••••••••"'), text);
    }
    // The dashboard saves what it was shown: the mask keeps the stored value.
    const edited = await api<AgentRecord>(server.base, 'PUT', '/api/agents/crm', { cookie, body: { definition: { ...created.body.definition, name: 'CRM 2' }, expectedVersion: 1 } });
    assert.equal(edited.status, 200);
    const crm = server.catalog.registry.get('crm');
    const kept = crm?.tools.find((t) => t.type === 'http');
    assert.equal(kept?.type === 'http' && kept.headers.Authorization, 'Bearer sk-crm-secret');
    const masked = { ...tool, headers: { 'X-New': '••••••••' } };
    const noValue = await api<ApiError>(server.base, 'PUT', '/api/agents/crm', { cookie, body: { definition: { ...definition, tools: [masked] } } });
    assert.equal(noValue.status, 400);
    assert.ok(noValue.body.error.problems?.[0]?.startsWith('definition.tools[0].headers.X-New:'));
  });

  test('preview fills templates with built-in and sample values and names what is missing', async () => {
    const definition = { id: 'preview', name: 'P', instructions: 'Caller {{callerNumber}} on {{weekday}} for {{companyName}}; order {{orderId}}.', greeting: 'Hi {{customerName}}!', variables: { companyName: 'Koe' } };
    const partial = await api<PreviewAgentResponse>(server.base, 'POST', '/api/agents/preview', { cookie, body: { definition } });
    assert.equal(partial.status, 200);
    assert.equal(partial.body.instructions, null);
    assert.equal(partial.body.greeting, null);
    assert.deepEqual(partial.body.missing.sort(), ['customerName', 'orderId']);
    assert.equal(partial.body.variables.companyName, 'Koe');
    assert.ok(partial.body.variables.callerNumber);

    const full = await api<PreviewAgentResponse>(server.base, 'POST', '/api/agents/preview', { cookie, body: { definition, variables: { orderId: 'A-1', customerName: 'Ana' } } });
    assert.match(full.body.instructions ?? '', /^Caller \+1\d+ on \w+day for Koe; order A-1\.$/);
    assert.equal(full.body.greeting, 'Hi Ana!');
    assert.deepEqual(full.body.missing, []);
    assert.equal((await api(server.base, 'GET', '/api/agents/preview', { cookie })).status, 404, 'nothing was stored');

    const noGreeting = await api<PreviewAgentResponse>(server.base, 'POST', '/api/agents/preview', { cookie, body: { definition: { id: 'x', name: 'X', instructions: 'Plain.' } } });
    assert.deepEqual([noGreeting.body.instructions, noGreeting.body.greeting], ['Plain.', null]);
    const broken = await api<ApiError>(server.base, 'POST', '/api/agents/preview', { cookie, body: { definition: { id: 'x', name: 'X', instructions: 'Hi {{ }}' } } });
    assert.equal(broken.status, 400);
  });
});

describe('dashboard API: info and the OpenAPI document', () => {
  let server: DashboardServer;
  let cookie: string;
  before(async () => {
    server = await startDashboardServer({ env: { KOE_STREAM_SECRET: 'a-stream-secret-that-must-stay-on-the-server', OPENAI_API_KEY: 'sk-not-for-browsers' } });
    cookie = await login(server.base);
  });
  after(async () => server.close());

  test('info says what the forms need and nothing secret', async () => {
    const info = await api<ServerInfo>(server.base, 'GET', '/api/info', { cookie });
    assert.equal(info.status, 200);
    assert.equal(info.body.processId, server.harness.koe.processId);
    assert.equal(info.body.database, 'pglite');
    assert.equal(info.body.backend, '127.0.0.1', 'REALTIME_URL points at the fake model on loopback');
    assert.ok(info.body.voices.includes('alloy') && info.body.voices.includes('marin'));
    assert.equal(info.body.recordingEnabled, false);
    assert.match(info.body.version, /^\d+\.\d+\.\d+/);
    for (const name of ['callSid', 'date', 'time', 'weekday', 'callerNumber', 'calledNumber']) assert.ok(info.body.builtinVariables[name], name);
    const text = JSON.stringify(info.body);
    for (const secret of ['a-stream-secret', 'sk-not-for-browsers', ADMIN_PASSWORD]) assert.ok(!text.includes(secret), secret);
  });

  test('the OpenAPI document lists every /api route Fastify serves, with the cookie scheme and resolvable schemas', async () => {
    const response = await api<OpenApiDocument>(server.base, 'GET', '/api/openapi.json', { cookie });
    assert.equal(response.status, 200);
    const doc = response.body;
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.components.securitySchemes.sessionCookie, { type: 'apiKey', in: 'cookie', name: 'koe_session', description: 'Set by POST /api/auth/login.' });

    const served = registeredRoutes(server.harness.koe.app).filter((r) => r.path.startsWith('/api/') && r.path !== '/api/*' && r.method !== 'HEAD');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const servedNames = served.map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    assert.deepEqual([...documented].sort(), [...servedNames].sort());

    assert.deepEqual(doc.paths['/api/auth/login']?.post?.security, []);
    assert.deepEqual(doc.paths['/api/auth/session']?.get?.security, []);
    assert.equal(doc.paths['/api/calls']?.get?.security, undefined, 'the document-wide cookie requirement applies');
    assert.ok(doc.paths['/api/calls']?.get?.parameters?.some((p) => p.name === 'pageSize' && p.in === 'query'));
    assert.ok(doc.paths['/api/calls/{id}']?.get?.responses['401']);
    assert.equal(doc.paths['/api/live']?.get?.['x-websocket'], true);

    // Every $ref points at a component that exists.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] as string);
    assert.ok(refs.length > 20);
    for (const ref of new Set(refs)) assert.ok(doc.components.schemas[ref], `component ${ref}`);
    for (const name of ['CallRecord', 'CallDetail', 'AgentRecord', 'AgentInput', 'LiveMessage', 'CallEvent', 'ApiError']) assert.ok(doc.components.schemas[name], name);
  });
});

interface OpenApiOperation {
  security?: unknown[];
  parameters?: Array<{ name: string; in: string }>;
  responses: Record<string, unknown>;
  'x-websocket'?: boolean;
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

describe('without a store', () => {
  test('/api answers 503 storage_disabled; Twilio calls still work', async () => {
    const h = await Harness.start();
    try {
      for (const path of ['/api/calls', '/api/auth/session', '/api']) {
        const response = await api<ApiError>(h.baseUrl, 'GET', path);
        assert.equal(response.status, 503, path);
        assert.equal(response.body.error.code, 'storage_disabled');
      }
      const post = await api<ApiError>(h.baseUrl, 'POST', '/api/auth/login', { body: { password: 'x' } });
      assert.equal(post.status, 503);
      const call = await h.call();
      await h.waitForEvent('call.started');
      await call.stop();
      await h.waitForEvent('call.ended');
      assert.deepEqual(h.koe.live.snapshot(), []);
    } finally {
      await h.close();
    }
  });
});

describe('database down', () => {
  test('the API answers 503 database_unavailable with Retry-After, not a 500', async () => {
    const server = await startDashboardServer();
    try {
      const cookie = await login(server.base);
      await server.store.db.close();
      for (const path of ['/api/calls', '/api/auth/session']) {
        const response = await api<ApiError>(server.base, 'GET', path, { cookie });
        assert.equal(response.status, 503, path);
        assert.equal(response.body.error.code, 'database_unavailable');
        assert.equal(response.headers.get('retry-after'), '5');
      }
    } finally {
      await server.close();
    }
  });
});
