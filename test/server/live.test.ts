// WS /api/live: a dashboard gets a snapshot of the running calls, then their events as they happen; with
// two Koe servers on one real PostgreSQL, a dashboard on B follows a call answered by A (LISTEN/NOTIFY).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LiveMessage } from '../../src/server/api/api-types.js';
import type { ResponseContext } from '../fakes/fake-realtime-server.js';
import { createPostgresDatabase } from '../support/databases.js';
import type { TestDatabase } from '../support/databases.js';
import type { DashboardServer } from './dashboard-support.js';
import { LiveClient, login, startDashboardServer } from './dashboard-support.js';

type EventMessage = Extract<LiveMessage, { type: 'event' }>;
type SnapshotMessage = Extract<LiveMessage, { type: 'snapshot' }>;

const GREETING = 'Good morning, Koe live test.';
const greet = (ctx: ResponseContext) => [{ type: 'audio' as const, transcript: String(ctx.metadata?.koe_say ?? GREETING), audioMs: 400 }];
const agents = [{ id: 'live', name: 'Live', instructions: 'Be brief.', greeting: GREETING }];

const isSnapshot = (m: LiveMessage): m is SnapshotMessage => m.type === 'snapshot';
const eventOf =
  (type: string, callSid: string) =>
  (m: LiveMessage): m is EventMessage =>
    m.type === 'event' && m.event.type === type && m.event.callSid === callSid;

describe('live dashboard (one server)', () => {
  let server: DashboardServer;
  let cookie: string;
  before(async () => {
    server = await startDashboardServer({ agents, realtime: { respond: greet } });
    cookie = await login(server.base);
  });
  after(async () => server.close());

  test('a snapshot first, then the call’s events live; a dashboard opened mid-call sees the call so far', async () => {
    const early = await LiveClient.open(server.base, cookie);
    const first = await early.waitFor(isSnapshot);
    assert.deepEqual(first.calls, []);
    assert.equal(early.messages[0], first, 'the snapshot comes first');

    const call = await server.harness.call({ stream: { playbackRate: 4 } });
    const started = await early.waitFor(eventOf('call.started', call.callSid));
    assert.equal(started.processId, server.harness.koe.processId);
    assert.equal(started.event.type === 'call.started' && started.event.call.agentId, 'live');
    await early.waitFor(eventOf('turn.assistant', call.callSid));
    assert.ok(early.messages.some((m) => m.type === 'event' && m.event.type === 'transcript.partial'), 'partial transcripts stream live');

    const late = await LiveClient.open(server.base, cookie);
    const snapshot = await late.waitFor(isSnapshot);
    assert.equal(snapshot.calls.length, 1);
    const [running] = snapshot.calls;
    assert.equal(running?.processId, server.harness.koe.processId);
    assert.equal(running?.events[0]?.type, 'call.started');
    assert.ok(running?.events.some((e) => e.type === 'turn.assistant' && e.text === GREETING));
    // Partial transcripts are coalesced: at most one per item in the snapshot.
    const partialItems = running?.events.flatMap((e) => (e.type === 'transcript.partial' ? [e.itemId] : [])) ?? [];
    assert.equal(new Set(partialItems).size, partialItems.length);

    await call.stop();
    await early.waitFor(eventOf('call.ended', call.callSid));
    await late.waitFor(eventOf('call.ended', call.callSid));
    const after = await LiveClient.open(server.base, cookie);
    assert.deepEqual((await after.waitFor(isSnapshot)).calls, []);
    for (const client of [early, late, after]) client.close();
  });
});

describe('live dashboard across processes (PostgreSQL)', () => {
  let database: TestDatabase;
  let a: DashboardServer;
  let b: DashboardServer;
  before(async () => {
    database = await createPostgresDatabase();
    a = await startDashboardServer({ database, ownsDatabase: false, processId: 'koe-a', agents, realtime: { respond: greet } });
    b = await startDashboardServer({ database, ownsDatabase: false, processId: 'koe-b', agents, realtime: { respond: greet } });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  test('a call answered by server A reaches a dashboard on server B, live and in B’s snapshot', async () => {
    const cookie = await login(b.base);
    const dashboard = await LiveClient.open(b.base, cookie);
    await dashboard.waitFor(isSnapshot);

    const call = await a.harness.call({ stream: { playbackRate: 4 } });
    const started = await dashboard.waitFor(eventOf('call.started', call.callSid));
    assert.equal(started.processId, 'koe-a');
    const greeting = await dashboard.waitFor(eventOf('turn.assistant', call.callSid));
    assert.equal(greeting.event.type === 'turn.assistant' && greeting.event.text, GREETING);

    // Events arrive in the order A emitted them: every one of them, except partial transcripts that a newer
    // partial of the same item replaced while waiting to be sent.
    const onA = a.harness.events.filter((e) => e.callSid === call.callSid);
    const onB = dashboard.messages.flatMap((m) => (m.type === 'event' && m.event.callSid === call.callSid ? [m.event] : []));
    const whole = (events: typeof onA) => events.filter((e) => e.type !== 'transcript.partial').map((e) => `${e.type}@${e.atMs}`);
    assert.deepEqual(whole(onB), whole(onA).slice(0, whole(onB).length));
    let at = -1;
    for (const event of onB) {
      const next = onA.findIndex((e, i) => i > at && JSON.stringify(e) === JSON.stringify(event));
      assert.ok(next > at, `${event.type}@${event.atMs} arrived out of order or altered`);
      at = next;
    }

    const late = await LiveClient.open(b.base, cookie);
    const snapshot = await late.waitFor(isSnapshot);
    assert.deepEqual(snapshot.calls.map((c) => [c.processId, c.events[0]?.type]), [['koe-a', 'call.started']]);

    await call.stop();
    const ended = await dashboard.waitFor(eventOf('call.ended', call.callSid));
    assert.equal(ended.processId, 'koe-a');
    assert.deepEqual(b.harness.koe.live.snapshot(), []);
    dashboard.close();
    late.close();
  });
});
