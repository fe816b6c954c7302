// Two real Koe processes on one real PostgreSQL dispatching one campaign, as production runs them: both
// behind one load balancer (a round-robin TCP proxy at PUBLIC_URL, so Twilio's callbacks reach whichever
// process is alive), the same stream secret, admin password and Twilio account (the fake Twilio network
// of this test process). Each test gets a fresh database and its own pair of processes.
//
// 1. The calls-per-second rate and "each contact once" hold across processes: both dial, the merged rate
//    measured at Twilio's REST API is the campaign's.
// 2. A process killed (SIGKILL) in the middle of a dial: Twilio had accepted one call whose answer the
//    process never saw, and another request had not reached Twilio yet. The survivor takes the expired
//    leases back, records the unplaced call as not placed, calls those contacts itself, lets Twilio's
//    callbacks (now all landing on it) settle the accepted call, and finishes the campaign — nobody is
//    called twice.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import pg from 'pg';
import type { CallRecord, CampaignRecord, Page as ApiPage, ServerInfo } from '../../src/server/api/api-types.js';
import type { FakeCallRecord } from '../fakes/fake-twilio-rest.js';
import type { CalleeScript, FakeTwilioNetwork } from '../fakes/fake-twilio-network.js';
import { startFakeTwilioNetwork } from '../fakes/fake-twilio-network.js';
import { api } from '../server/dashboard-support.js';
import type { TestDatabase } from '../support/databases.js';
import { createPostgresDatabase } from '../support/databases.js';
import { freePort } from '../support/free-port.js';
import { KoeProcess, makeTempDir, waitUntil, writeTestAgentsFile } from '../support/koe-process.js';
import type { RoundRobinProxy } from '../support/round-robin-proxy.js';
import { startRoundRobinProxy } from '../support/round-robin-proxy.js';

const ACCOUNT_SID = `AC${randomBytes(16).toString('hex')}`;
const AUTH_TOKEN = randomBytes(16).toString('hex');
const CALLER_ID = '+15005550006';
/** Every hour of every day: the tests must not depend on when they run. */
const ALWAYS = { start: '00:00', end: '24:00', days: [1, 2, 3, 4, 5, 6, 7] };

const wallNow = (): number => performance.timeOrigin + performance.now();

function numbers(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `+1${prefix}555${String(i).padStart(4, '0')}`);
}

const csv = (list: readonly string[]): string => `phone\n${list.join('\n')}\n`;

// ── two Koe processes behind one address ─────────────────────────────────────────────────────────

interface Member {
  koe: KoeProcess;
  cookie: string;
  processId: string;
}

interface Cluster {
  network: FakeTwilioNetwork;
  balancer: RoundRobinProxy;
  database: TestDatabase;
  sql: pg.Client;
  a: Member;
  b: Member;
  close(): Promise<void>;
}

interface ClusterOptions {
  callee: (call: FakeCallRecord) => CalleeScript;
  /** KOE_CAMPAIGN_LEASE_MS for both. */
  leaseMs?: number;
  /** Where process A sends its Twilio REST requests; default the fake network itself. */
  twilioApiForA?: (network: FakeTwilioNetwork) => Promise<string>;
}

async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const network = await startFakeTwilioNetwork({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, callee: opts.callee });
  const balancer = await startRoundRobinProxy(await freePort());
  const database = await createPostgresDatabase();
  const databaseUrl = database.databaseUrl as string;
  const sql = new pg.Client({ connectionString: databaseUrl });
  await sql.connect();
  const agentsFile = writeTestAgentsFile(makeTempDir('koe-campaign-agents-'));
  const env = (apiBaseUrl: string): Record<string, string> => ({
    PUBLIC_URL: balancer.url,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_API_BASE_URL: apiBaseUrl,
    TWILIO_CALLER_ID: CALLER_ID,
    ...(opts.leaseMs !== undefined ? { KOE_CAMPAIGN_LEASE_MS: String(opts.leaseMs) } : {}),
  });
  const apiForA = opts.twilioApiForA ? await opts.twilioApiForA(network) : network.baseUrl;
  // Started together, as replicas are: they share the schema migration and the agents import.
  const [koeA, koeB] = await Promise.all([
    KoeProcess.start({ name: 'A', databaseUrl, agentsFile, dataDir: makeTempDir('koe-a-'), env: env(apiForA) }),
    KoeProcess.start({ name: 'B', databaseUrl, agentsFile, dataDir: makeTempDir('koe-b-'), env: env(network.baseUrl) }),
  ]);
  balancer.backends = [koeA.port, koeB.port];
  const member = async (koe: KoeProcess): Promise<Member> => {
    const cookie = await koe.login();
    const info = await koe.getJson<ServerInfo>('/api/info', cookie);
    return { koe, cookie, processId: info.processId };
  };
  const [a, b] = await Promise.all([member(koeA), member(koeB)]);
  return {
    network,
    balancer,
    database,
    sql,
    a,
    b,
    async close() {
      await Promise.all([a.koe.stop(), b.koe.stop()]);
      await balancer.close();
      await network.close();
      await sql.end();
      await database.drop();
    },
  };
}

async function createCampaign(on: Member, body: Record<string, unknown>): Promise<CampaignRecord> {
  const res = await api<CampaignRecord>(on.koe.baseUrl, 'POST', '/api/campaigns', {
    cookie: on.cookie,
    body: { name: 'two processes', agentId: 'receptionist', window: ALWAYS, start: true, ...body },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

function waitForCampaign(on: Member, id: string, done: (c: CampaignRecord) => boolean, timeoutMs: number): Promise<CampaignRecord> {
  let last: CampaignRecord | undefined;
  return waitUntil(
    async () => {
      last = await on.koe.getJson<CampaignRecord>(`/api/campaigns/${id}`, on.cookie);
      return done(last) ? last : undefined;
    },
    timeoutMs,
    `campaign ${id} (now ${last?.status} ${JSON.stringify(last?.counts)}); Koe ${on.koe.name} said:\n${on.koe.logTail(20)}`,
  );
}

/** Every call record of the campaign, through the calls API, page by page. */
async function campaignCalls(on: Member, campaignId: string): Promise<CallRecord[]> {
  const calls: CallRecord[] = [];
  for (let page = 1; ; page++) {
    const list = await on.koe.getJson<ApiPage<CallRecord>>(`/api/calls?pageSize=100&page=${page}`, on.cookie);
    calls.push(...list.items.filter((c) => c.campaignId === campaignId));
    if (page * list.pageSize >= list.total) return calls;
  }
}

// ── a slow road to Twilio for process A ──────────────────────────────────────────────────────────

interface GatedCreate {
  to: string;
  callId: string;
  /** The SID Twilio gave, once it accepted the call. */
  sid?: string;
}

interface TwilioGate {
  url: string;
  /** Create requests that reached Twilio and whose answer went back. */
  passed: GatedCreate[];
  /** The create Twilio accepted but whose answer is held. */
  accepted: Promise<GatedCreate>;
  /** The create held before Twilio (it never gets there). */
  unsent: Promise<GatedCreate>;
  close(): Promise<void>;
}

/**
 * Process A's way to Twilio's REST API. The first `passCount` call creations go through; the next one
 * reaches Twilio but Twilio's answer is held (the call is placed, A never learns its SID); the one after
 * is held before Twilio (never placed). Requests other than call creation pass.
 */
async function startTwilioGate(target: string, passCount: number, onAccepting: (to: string) => void): Promise<TwilioGate> {
  const passed: GatedCreate[] = [];
  let creates = 0;
  let resolveAccepted!: (create: GatedCreate) => void;
  let resolveUnsent!: (create: GatedCreate) => void;
  const accepted = new Promise<GatedCreate>((resolve) => (resolveAccepted = resolve));
  const unsent = new Promise<GatedCreate>((resolve) => (resolveUnsent = resolve));

  const forward = async (req: IncomingMessage, body: Buffer): Promise<{ status: number; type: string; text: string }> => {
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'content-type', 'accept', 'user-agent']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const res = await fetch(`${target}${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers,
      ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
    });
    return { status: res.status, type: res.headers.get('content-type') ?? 'application/json', text: await res.text() };
  };
  const reply = (res: ServerResponse, answer: { status: number; type: string; text: string }): void => {
    res.writeHead(answer.status, { 'content-type': answer.type, 'content-length': Buffer.byteLength(answer.text) });
    res.end(answer.text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (!(req.method === 'POST' && /\/Calls\.json$/.test(req.url ?? ''))) {
      reply(res, await forward(req, body));
      return;
    }
    const params = new URLSearchParams(body.toString('utf8'));
    const create: GatedCreate = { to: params.get('To') ?? '', callId: new URL(params.get('Url') ?? 'http://x/').searchParams.get('callId') ?? '' };
    creates += 1;
    if (creates <= passCount) {
      const answer = await forward(req, body);
      create.sid = (JSON.parse(answer.text) as { sid?: string }).sid;
      passed.push(create);
      reply(res, answer);
    } else if (creates === passCount + 1) {
      onAccepting(create.to);
      const answer = await forward(req, body);
      create.sid = (JSON.parse(answer.text) as { sid?: string }).sid;
      resolveAccepted(create);
    } else {
      resolveUnsent(create);
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.destroy(err as Error);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    passed,
    accepted,
    unsent,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ── the tests ────────────────────────────────────────────────────────────────────────────────────

test('two processes dial one campaign: 150 contacts, each once, at 15 calls per second across both', { timeout: 60_000 }, async (t) => {
  const startedMs = performance.now();
  const cluster = await startCluster({ callee: () => ({ kind: 'busy', ringMs: 20 }) });
  t.after(() => cluster.close());
  t.diagnostic(`two processes up in ${Math.round(performance.now() - startedMs)} ms`);
  const { a, b, network } = cluster;
  const list = numbers('301', 150);

  const campaign = await createCampaign(a, { csv: csv(list), callsPerSecond: 15, maxConcurrent: 20, retry: { maxAttempts: 1 } });
  const done = await waitForCampaign(a, campaign.id, (c) => c.status === 'completed', 30_000);
  assert.equal(done.counts.outcomes.busy, 150);
  assert.equal(done.counts.done, 150);

  const created = network.created;
  assert.equal(created.length, 150, 'one create request per contact');
  assert.equal(new Set(created.map((c) => c.to)).size, 150, 'nobody called twice');
  assert.deepEqual(new Set(created.map((c) => c.to)), new Set(list));
  const spanMs = (created[149]?.atMs ?? 0) - (created[0]?.atMs ?? 0);
  const rate = 149 / (spanMs / 1000);
  assert.ok(Math.abs(rate - 15) / 15 <= 0.1, `measured ${rate.toFixed(2)} calls/s over ${Math.round(spanMs)} ms`);

  await network.idle();
  const calls = await campaignCalls(b, campaign.id);
  assert.equal(calls.length, 150);
  const byProcess = new Map<string, number>();
  for (const call of calls) byProcess.set(call.processId, (byProcess.get(call.processId) ?? 0) + 1);
  assert.deepEqual([...byProcess.keys()].sort(), [a.processId, b.processId].sort(), 'both processes placed calls');
  t.diagnostic(`calls placed: A ${byProcess.get(a.processId)}, B ${byProcess.get(b.processId)}; ${rate.toFixed(2)} calls/s`);
  assert.deepEqual(
    calls.filter((c) => c.twilioStatus !== 'busy' || c.status !== 'ended').map((c) => [c.to, c.status, c.twilioStatus]),
    [],
    'every call ended busy',
  );
  assert.deepEqual(new Set(calls.map((c) => c.callSid)), new Set(created.map((c) => c.sid)));
  assert.deepEqual(network.errors, []);
  assert.deepEqual([...a.koe.problems(), ...b.koe.problems()].map((l) => l.raw), [], 'neither process warned');
  assert.deepEqual(b.koe.problems().map((l) => l.raw), [], 'B warned of nothing');
});

test('a process killed in the middle of a dial: the other takes its contacts back and finishes, nobody called twice', { timeout: 60_000 }, async (t) => {
  const slow = new Set<string>();
  let gate: TwilioGate | undefined;
  const cluster = await startCluster({
    // The call Twilio accepts for the dying process rings 3 s, so its final callback comes after the kill.
    callee: (call) => ({ kind: 'busy', ringMs: slow.has(call.to) ? 3_000 : 20 }),
    leaseMs: 2_000,
    twilioApiForA: async (network) => {
      gate = await startTwilioGate(network.baseUrl, 3, (to) => slow.add(to));
      return gate.url;
    },
  });
  t.after(async () => {
    await cluster.close();
    await gate?.close();
  });
  const { a, b, network, sql } = cluster;
  assert.ok(gate);
  const list = numbers('302', 40);

  const campaign = await createCampaign(a, { csv: csv(list), callsPerSecond: 4, maxConcurrent: 20, retry: { maxAttempts: 1 } });
  const accepted = await gate.accepted;
  assert.match(accepted.sid ?? '', /^CA[0-9a-f]{32}$/, 'Twilio accepted the call');
  const unsent = await gate.unsent;
  // A is waiting for Twilio's answer to one call and has sent another that never got there: kill -9.
  const killedAtMs = wallNow();
  await a.koe.kill();
  const diedAtMs = wallNow();

  // What A held when it died: the two calls at the gate, and contacts claimed for their CPS slot.
  const { rows: held } = await sql.query<{ id: string; last_call_id: string; call_id: string | null }>(
    `SELECT cc.id, cc.last_call_id, c.id AS call_id FROM campaign_contacts cc LEFT JOIN calls c ON c.id = cc.last_call_id
     WHERE cc.campaign_id = $1 AND cc.state = 'dialing' AND cc.lease_owner = $2`,
    [campaign.id, a.processId],
  );
  const heldCallIds = new Set(held.map((r) => r.last_call_id));
  assert.ok(heldCallIds.has(unsent.callId), 'the unsent call’s contact is still claimed by A');
  const scheduled = held.filter((r) => r.call_id === null);
  t.diagnostic(`A held ${held.length} contacts at the kill: ${scheduled.length} waiting for their slot; ${gate.passed.length} calls placed before`);

  const done = await waitForCampaign(b, campaign.id, (c) => c.status === 'completed', 30_000);
  assert.equal(done.counts.done, 40);
  assert.equal(done.counts.outcomes.busy, 40);
  assert.equal(done.counts.attempts, 40, 'the call A never placed is not counted as an attempt');

  // Nobody was called twice, and the unsent number was called once — by B.
  const created = network.created;
  assert.equal(created.length, 40);
  assert.deepEqual(new Set(created.map((c) => c.to)), new Set(list));
  await network.idle();

  const callRow = async (id: string) =>
    (
      await sql.query<{ process_id: string; status: string; end_reason: string | null; error: string | null; call_sid: string | null; twilio_status: string | null }>(
        'SELECT process_id, status, end_reason, error, call_sid, twilio_status FROM calls WHERE id = $1',
        [id],
      )
    ).rows[0];
  const contactOf = async (callId: string) =>
    (
      await sql.query<{ id: string; state: string; outcome: string | null; attempts: number; last_call_id: string }>(
        `SELECT cc.id, cc.state, cc.outcome, cc.attempts, cc.last_call_id FROM campaign_contacts cc
         JOIN calls c ON c.campaign_id = cc.campaign_id AND c.contact_id = cc.id WHERE c.id = $1`,
        [callId],
      )
    ).rows[0];

  // The call that never reached Twilio: ended as not placed; its contact released and called by B.
  const notPlaced = await callRow(unsent.callId);
  assert.equal(notPlaced?.process_id, a.processId);
  assert.equal(notPlaced?.status, 'ended');
  assert.equal(notPlaced?.end_reason, 'dial_failed');
  assert.match(notPlaced?.error ?? '', /^not placed: the dialing process stopped/);
  assert.equal(notPlaced?.call_sid, null);
  const unsentContact = await contactOf(unsent.callId);
  assert.equal(unsentContact?.outcome, 'busy');
  assert.equal(unsentContact?.attempts, 1);
  assert.notEqual(unsentContact?.last_call_id, unsent.callId);
  const redial = await callRow(unsentContact?.last_call_id ?? '');
  assert.deepEqual([redial?.process_id, redial?.twilio_status, redial?.status], [b.processId, 'busy', 'ended'], 'B called the contact');

  // The call Twilio accepted without A learning it: kept (not called again), its end reported to B.
  const placed = await callRow(accepted.callId);
  assert.deepEqual(
    [placed?.process_id, placed?.call_sid, placed?.twilio_status, placed?.status, placed?.end_reason],
    [a.processId, accepted.sid, 'busy', 'ended', 'busy'],
  );
  const acceptedContact = await contactOf(accepted.callId);
  assert.deepEqual([acceptedContact?.last_call_id, acceptedContact?.outcome, acceptedContact?.attempts], [accepted.callId, 'busy', 1]);
  const finalCallback = network.calls.get(accepted.sid ?? '')?.callbacks.find((c) => c.kind === 'status' && c.event === 'completed');
  assert.equal(finalCallback?.params.CallStatus, 'busy');
  assert.equal(finalCallback?.answeredStatus, 204);
  assert.ok((finalCallback?.sentAtMs ?? 0) > killedAtMs, 'the final callback was sent after A died');
  assert.ok(
    b.koe.lines.some((l) => l.msg === 'call status callback' && l.callSid === accepted.sid && l.status === 'busy'),
    'the final callback reached B through the balancer',
  );

  // Contacts A had claimed for a later slot: released after the lease and called by B.
  for (const row of scheduled) {
    const { rows } = await sql.query<{ process_id: string; twilio_status: string }>(
      'SELECT c.process_id, c.twilio_status FROM campaign_contacts cc JOIN calls c ON c.id = cc.last_call_id WHERE cc.campaign_id = $1 AND cc.id = $2',
      [campaign.id, row.id],
    );
    assert.deepEqual(rows, [{ process_id: b.processId, twilio_status: 'busy' }]);
  }
  const recoveries = b.koe.lines.filter((l) => l.msg === 'recovered expired campaign leases');
  const released = recoveries.reduce((sum, l) => sum + Number(l.released ?? 0), 0);
  const adopted = recoveries.reduce((sum, l) => sum + Number(l.adopted ?? 0), 0);
  t.diagnostic(`B released ${released} and adopted ${adopted} of A's contacts`);
  const releasable = held.filter((r) => r.last_call_id !== accepted.callId);
  assert.equal(released, releasable.length, 'B released the unsent call’s contact and the ones waiting for a slot');

  // Nothing of A's is left in flight; after the kill every connection from Twilio went to B.
  const { rows: open } = await sql.query('SELECT id FROM calls WHERE process_id = $1 AND status <> $2', [a.processId, 'ended']);
  assert.deepEqual(open, []);
  assert.ok(cluster.balancer.routed.some((r) => r.atMs > killedAtMs));
  assert.deepEqual(cluster.balancer.routed.filter((r) => r.atMs > diedAtMs && r.port === a.koe.port), []);
  assert.deepEqual(network.errors, []);
  assert.deepEqual(b.koe.problems().map((l) => l.raw), [], 'B warned of nothing');
});
