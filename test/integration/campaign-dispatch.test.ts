// Campaigns dialed by one Koe against the fake Twilio network: the calls-per-second rate measured at
// Twilio's REST API, the concurrency cap, retries, calling windows, pause/resume, Twilio's refusals,
// the CSV report and export — all through the dashboard API, as a user drives it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AgentInput } from '../../src/agents/index.js';
import type { CampaignRecord, ContactList } from '../../src/server/api/api-types.js';
import type { ResponseContext, ResponsePlan } from '../fakes/fake-realtime-server.js';
import type { CalleeScript, FakeTwilioNetwork } from '../fakes/fake-twilio-network.js';
import type { DashboardServer } from '../server/dashboard-support.js';
import { api, login, startDashboardServer } from '../server/dashboard-support.js';

const AGENT: AgentInput = {
  id: 'reminder',
  name: 'Reminder',
  instructions: 'Remind {{name}} of the appointment.',
  greeting: 'Hello {{name}}.',
  tools: ['hang_up'],
};

function respond(ctx: ResponseContext): ResponsePlan {
  const say = ctx.metadata?.koe_say;
  return [{ type: 'audio', transcript: typeof say === 'string' ? say : 'OK.', audioMs: 300 }];
}

/** Scripts by number; numbers not listed answer and hang up after a short talk. */
const scripts = new Map<string, (attempt: number) => CalleeScript>();
const attemptsByNumber = new Map<string, number>();

function csv(numbers: readonly string[], extra = ''): string {
  return `phone,name${extra ? `,${extra.split('=')[0]}` : ''}\n${numbers.map((n, i) => `${n},Contact ${i}${extra ? `,${extra.split('=')[1]}` : ''}`).join('\n')}\n`;
}

function numbers(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `+1${prefix}555${String(i).padStart(4, '0')}`);
}

describe('campaign dispatch against the fake Twilio network', () => {
  let server: DashboardServer;
  let cookie: string;
  let network: FakeTwilioNetwork;

  before(async () => {
    server = await startDashboardServer({
      agents: [AGENT],
      realtime: { respond },
      twilioNetwork: {
        callee: (call) => {
          const attempt = (attemptsByNumber.get(call.to) ?? 0) + 1;
          attemptsByNumber.set(call.to, attempt);
          return scripts.get(call.to)?.(attempt) ?? { kind: 'answer', hangUpAfterMs: 400 };
        },
      },
      dispatcherTimings: { tickMs: 50, housekeepingMs: 200 },
    });
    cookie = await login(server.base);
    network = server.harness.network as FakeTwilioNetwork;
  });
  after(async () => server?.close());

  async function create(body: Record<string, unknown>): Promise<CampaignRecord> {
    const res = await api<CampaignRecord>(server.base, 'POST', '/api/campaigns', { cookie, body: { name: 'test', agentId: 'reminder', ...body } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  }

  async function waitFor(id: string, done: (c: CampaignRecord) => boolean, timeoutMs = 30_000): Promise<CampaignRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await api<CampaignRecord>(server.base, 'GET', `/api/campaigns/${id}`, { cookie });
      if (done(res.body)) return res.body;
      if (Date.now() > deadline) throw new Error(`campaign ${id} did not get there: ${JSON.stringify(res.body.counts)} ${res.body.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const createdFor = (list: readonly string[]) => {
    const wanted = new Set(list);
    return network.created.filter((c) => wanted.has(c.to));
  };

  test('200 contacts at 20 calls per second: the measured rate is within 10 %, nobody is called twice', async () => {
    const list = numbers('201', 200);
    for (const n of list) scripts.set(n, () => ({ kind: 'busy', ringMs: 20 }));
    const campaign = await create({ csv: csv(list), callsPerSecond: 20, maxConcurrent: 100, retry: { maxAttempts: 1 }, start: true });
    const done = await waitFor(campaign.id, (c) => c.status === 'completed');
    assert.equal(done.counts.outcomes.busy, 200);
    const created = createdFor(list);
    assert.equal(created.length, 200);
    assert.equal(new Set(created.map((c) => c.to)).size, 200, 'each contact dialed once');
    const spanMs = (created[199]?.atMs ?? 0) - (created[0]?.atMs ?? 0);
    const rate = 199 / (spanMs / 1000);
    assert.ok(Math.abs(rate - 20) / 20 <= 0.1, `measured ${rate.toFixed(2)} calls/s over ${spanMs} ms`);
  });

  test('the concurrency cap holds while calls are answered and talk', async () => {
    const list = numbers('202', 12);
    for (const n of list) scripts.set(n, () => ({ kind: 'answer', hangUpAfterMs: 700 }));
    const before = network.maxConcurrentInProgress;
    assert.ok(before <= 3);
    const campaign = await create({ csv: csv(list), callsPerSecond: 50, maxConcurrent: 3, start: true });
    const done = await waitFor(campaign.id, (c) => c.status === 'completed');
    assert.equal(done.counts.outcomes.answered, 12);
    assert.equal(network.maxConcurrentInProgress, 3, 'three at a time, never more');
  });

  test('retries: busy then answered; no-answer until the attempts run out', async () => {
    const [flaky, never] = numbers('203', 2) as [string, string];
    scripts.set(flaky, (attempt) => (attempt === 1 ? { kind: 'busy' } : { kind: 'answer', hangUpAfterMs: 300 }));
    scripts.set(never, () => ({ kind: 'no-answer', ringMs: 100 }));
    const campaign = await create({
      csv: csv([flaky, never]),
      callsPerSecond: 10,
      retry: { maxAttempts: 3, delayMs: 300, on: ['busy', 'no-answer'] },
      start: true,
    });
    const done = await waitFor(campaign.id, (c) => c.status === 'completed');
    assert.equal(done.counts.attempts, 2 + 3);
    const contacts = await api<ContactList>(server.base, 'GET', `/api/campaigns/${campaign.id}/contacts`, { cookie });
    const byPhone = new Map(contacts.body.items.map((c) => [c.phone, c]));
    assert.equal(byPhone.get(flaky)?.outcome, 'answered');
    assert.deepEqual(byPhone.get(flaky)?.calls.map((c) => c.twilioStatus), ['busy', 'completed']);
    assert.equal(byPhone.get(never)?.outcome, 'no-answer');
    assert.deepEqual(byPhone.get(never)?.calls.map((c) => [c.attempt, c.endReason]), [
      [1, 'no_answer'],
      [2, 'no_answer'],
      [3, 'no_answer'],
    ]);
    // Retries waited their delay.
    const times = createdFor([never]).map((c) => c.atMs);
    assert.ok((times[1] ?? 0) - (times[0] ?? 0) >= 300);
  });

  test('calling window: contacts outside their local hours wait', async () => {
    const now = new Date();
    const utc = now.getUTCHours() * 60 + now.getUTCMinutes();
    const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    const [inside, outside] = numbers('204', 2) as [string, string];
    const campaign = await create({
      csv: `phone,name,timezone\n${inside},In,UTC\n${outside},Out,Asia/Kolkata\n`,
      callsPerSecond: 10,
      window: { start: hhmm(Math.max(0, utc - 60)), end: hhmm(Math.min(1440, utc + 60)) },
      start: true,
    });
    const progressed = await waitFor(campaign.id, (c) => c.counts.done === 1);
    await new Promise((r) => setTimeout(r, 500));
    const later = await waitFor(campaign.id, () => true);
    assert.equal(later.counts.pending, 1, 'Kolkata (UTC+5:30) is outside the window');
    assert.equal(later.status, 'running');
    assert.deepEqual(createdFor([inside, outside]).map((c) => c.to), [inside]);
    assert.equal(progressed.counts.outcomes.answered, 1);
    await api(server.base, 'POST', `/api/campaigns/${campaign.id}/cancel`, { cookie, body: {} });
  });

  test('pause stops new calls, resume continues where it stopped', async () => {
    const list = numbers('205', 20);
    for (const n of list) scripts.set(n, () => ({ kind: 'busy', ringMs: 20 }));
    const campaign = await create({ csv: csv(list), callsPerSecond: 8, retry: { maxAttempts: 1 }, start: true });
    await waitFor(campaign.id, () => createdFor(list).length >= 5);
    const paused = await api<CampaignRecord>(server.base, 'POST', `/api/campaigns/${campaign.id}/pause`, { cookie, body: {} });
    assert.equal(paused.body.status, 'paused');
    await new Promise((r) => setTimeout(r, 400));
    const atPause = createdFor(list).length;
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(createdFor(list).length, atPause, 'no call placed while paused');
    assert.ok(atPause < 20);
    const again = await api<CampaignRecord>(server.base, 'POST', `/api/campaigns/${campaign.id}/pause`, { cookie, body: {} });
    assert.equal(again.status, 409);
    await api(server.base, 'POST', `/api/campaigns/${campaign.id}/resume`, { cookie, body: {} });
    const done = await waitFor(campaign.id, (c) => c.status === 'completed');
    assert.equal(done.counts.outcomes.busy, 20);
    assert.equal(new Set(createdFor(list).map((c) => c.to)).size, 20);
    assert.equal(createdFor(list).length, 20);
  });

  test('Twilio errors: 429 backs off and retries, an invalid number fails alone, refused credentials pause the campaign', async () => {
    const list = numbers('206', 3);
    network.rest.failNext({ status: 429, code: 20429, message: 'Too Many Requests' });
    const campaign = await create({ csv: csv(list), callsPerSecond: 5, retry: { maxAttempts: 1 }, start: true });
    await waitFor(campaign.id, () => createdFor(list).length >= 1);
    network.rest.failNext({ status: 400, code: 21211, message: "The 'To' number is not a valid phone number." });
    const done = await waitFor(campaign.id, (c) => c.status === 'completed');
    assert.equal(done.counts.outcomes.failed + done.counts.outcomes.answered, 3);
    assert.equal(done.counts.outcomes.failed, 1);
    const contacts = await api<ContactList>(server.base, 'GET', `/api/campaigns/${campaign.id}/contacts?outcome=failed`, { cookie });
    assert.match(contacts.body.items[0]?.lastError ?? '', /21211/);

    const second = await create({ csv: csv(numbers('207', 2)), callsPerSecond: 5, start: true });
    network.rest.failNext({ status: 401, code: 20003, message: 'Authenticate' });
    // Both wait for the resume: the refused one, and the one claimed for the next slot (never dialed).
    const paused = await waitFor(second.id, (c) => c.status === 'paused' && c.counts.pending === 2, 5_000);
    assert.match(paused.statusReason ?? '', /credentials/);
    assert.equal(createdFor(numbers('207', 2)).length, 0);
    await api(server.base, 'POST', `/api/campaigns/${second.id}/resume`, { cookie, body: {} });
    const finished = await waitFor(second.id, (c) => c.status === 'completed');
    assert.equal(finished.counts.outcomes.answered, 2);
    assert.deepEqual(network.errors, []);
  });

  test('CSV problems are reported with line numbers; the export lists every contact with its outcome', async () => {
    const header = await api<{ error: { code: string; problems: string[] } }>(server.base, 'POST', '/api/campaigns', {
      cookie,
      body: { name: 'x', agentId: 'reminder', csv: 'name,city\nAiko,Tokyo\n' },
    });
    assert.equal(header.status, 400);
    assert.equal(header.body.error.code, 'invalid_csv');

    const missing = await api<{ error: { code: string; problems: string[] } }>(server.base, 'POST', '/api/campaigns', {
      cookie,
      body: { name: 'x', agentId: 'reminder', csv: 'phone\n+12085550001\n' },
    });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.code, 'missing_variables');
    assert.match(missing.body.error.problems.join(' '), /\{\{name\}\}/);

    const campaign = await create({
      csv: 'phone,name\n+12085550001,Aiko\nnot a number,Ken\n+1 208 555 0001,Aiko again\n\n(208) 555-0002,"Mori, Jun"\n',
      defaultCountry: 'US',
      callsPerSecond: 10,
    });
    assert.equal(campaign.importReport.imported, 2);
    assert.equal(campaign.importReport.rejected, 2);
    assert.deepEqual(
      campaign.importReport.rejections.map((r) => r.line),
      [3, 4],
    );
    assert.match(campaign.importReport.rejections[1]?.reason ?? '', /duplicate of line 2/);
    assert.equal(campaign.status, 'draft');
    await api(server.base, 'POST', `/api/campaigns/${campaign.id}/start`, { cookie, body: {} });
    await waitFor(campaign.id, (c) => c.status === 'completed');
    const exported = await api<string>(server.base, 'GET', `/api/campaigns/${campaign.id}/export.csv`, { cookie });
    assert.equal(exported.status, 200);
    assert.match(exported.headers.get('content-type') ?? '', /text\/csv/);
    const lines = exported.body.trim().split('\r\n');
    assert.equal(lines[0], 'line,phone,state,outcome,attempts,last_call_id,last_twilio_status,answered_by,last_error,name');
    assert.equal(lines.length, 3);
    assert.match(lines[1] ?? '', /^2,\+12085550001,done,answered,1,[0-9a-f-]{36},completed,,,Aiko$/);
    assert.match(lines[2] ?? '', /^6,\+12085550002,done,answered,1,.*,"Mori, Jun"$/);
  });
});
