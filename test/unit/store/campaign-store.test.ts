// Campaign storage on both backends: contacts imported in bulk, claims honouring concurrency, CPS slots
// and calling windows, outcomes and retries from status callbacks, expired leases, cancel and export.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { CampaignSettings, ImportReport, KoeStore, NewContact } from '../../../src/store/index.js';
import { CampaignStateError } from '../../../src/store/index.js';
import { testDatabases } from '../../support/databases.js';
import { storeForSuite } from './store-fixtures.js';

const REPORT: ImportReport = { rows: 0, imported: 0, rejected: 0, rejections: [], variables: ['name'], phoneColumn: 'phone', timezoneColumn: null };

function settings(overrides: Partial<CampaignSettings> = {}): CampaignSettings {
  return {
    name: 'reminders',
    agentId: 'receptionist',
    from: '+15550001000',
    callsPerSecond: 10,
    maxConcurrent: 5,
    window: { start: '00:00', end: '24:00', days: [1, 2, 3, 4, 5, 6, 7] },
    timezone: 'UTC',
    retry: { maxAttempts: 2, delayMs: 0, on: ['busy', 'no-answer'] },
    machineDetection: false,
    ringTimeoutSec: 30,
    ...overrides,
  };
}

function contacts(n: number, extra: Partial<NewContact> = {}): NewContact[] {
  return Array.from({ length: n }, (_, i) => ({
    line: i + 2,
    phone: `+1555010${String(i).padStart(4, '0')}`,
    timezone: null,
    variables: { name: `Contact ${i}` },
    ...extra,
  }));
}

const claimOptions = { processId: 'proc-a', maxBatch: 50, leaseMs: 30_000, lookaheadMs: 1000 };

/** Dials a claimed contact as the dialer would: the call record, then Twilio's SID. */
async function placeCall(store: KoeStore, c: Awaited<ReturnType<KoeStore['campaigns']['claim']>>[number], sid: string): Promise<void> {
  await store.outbound.createDialing({
    id: c.callId,
    from: c.from,
    to: c.phone,
    agentId: c.agentId,
    agentVersion: null,
    backend: 'engine',
    model: 'koe',
    apiShape: 'ga',
    variables: c.variables,
    processId: 'proc-a',
    campaign: { campaignId: c.campaignId, contactId: c.contactId, attempt: c.attempt },
  });
  await store.outbound.setDialed(c.callId, sid);
  await store.campaigns.markCalling(c);
}

const sid = (): string => `CA${randomUUID().replace(/-/g, '')}`;

for (const backend of testDatabases()) {
  describe(`campaign store on ${backend.name}`, () => {
    const opened = storeForSuite(backend);

    test('creates a campaign with its contacts and counts them', async () => {
      const { store } = opened();
      const created = await store.campaigns.create(settings(), contacts(12_000), { ...REPORT, rows: 12_000, imported: 12_000 });
      assert.equal(created.status, 'draft');
      assert.equal(created.counts.total, 12_000);
      assert.equal(created.counts.pending, 12_000);
      assert.deepEqual(created.window, { start: '00:00', end: '24:00', days: [1, 2, 3, 4, 5, 6, 7] });
      const page = await store.campaigns.contacts(created.id, { page: 2, pageSize: 10 });
      assert.equal(page.total, 12_000);
      assert.equal(page.items[0]?.id, 11);
      assert.equal(page.items[0]?.line, 12);
      assert.deepEqual(page.items[0]?.variables, { name: 'Contact 10' });
      assert.equal(page.items[0]?.nextAttemptAt, null);
    });

    test('claims nothing until started; claims respect concurrency and reserve CPS slots', async () => {
      const { store } = opened();
      const c = await store.campaigns.create(settings({ callsPerSecond: 4, maxConcurrent: 3 }), contacts(10), REPORT);
      assert.deepEqual(await store.campaigns.claim(c.id, claimOptions), []);
      await store.campaigns.act(c.id, 'start');
      const first = await store.campaigns.claim(c.id, claimOptions);
      assert.equal(first.length, 3, 'the concurrency cap (3) limits the claim');
      assert.deepEqual(first.map((x) => x.contactId), [1, 2, 3]);
      // 4 calls per second: slots 250 ms apart.
      assert.ok(first[0]!.delayMs < 50);
      assert.ok(Math.abs(first[1]!.delayMs - first[0]!.delayMs - 250) < 1);
      assert.ok(Math.abs(first[2]!.delayMs - first[0]!.delayMs - 500) < 1);
      assert.equal(first[0]!.attempt, 1);
      assert.deepEqual(await store.campaigns.claim(c.id, claimOptions), [], 'all 3 concurrent slots are taken');
      for (const claimed of first) await placeCall(store, claimed, sid());
      // One call ends: one slot frees, and its CPS slot comes after the three reserved.
      await store.outbound.applyStatus({ callId: first[0]!.callId, callSid: 'x', status: 'completed', sequence: 3 });
      const next = await store.campaigns.claim(c.id, claimOptions);
      assert.equal(next.length, 1);
      assert.ok(next[0]!.delayMs > 600, `the 4th slot is ~750 ms after the first, got ${next[0]!.delayMs}`);
      const record = await store.campaigns.get(c.id);
      assert.equal(record?.counts.outcomes.answered, 1);
      assert.equal(record?.counts.inFlight, 3);
    });

    test('status callbacks: out-of-order ones are ignored, busy retries then fails for good, machines are voicemail', async () => {
      const { store } = opened();
      const c = await store.campaigns.create(settings({ retry: { maxAttempts: 2, delayMs: 0, on: ['busy'] } }), contacts(2), REPORT);
      await store.campaigns.act(c.id, 'start');
      const [a, b] = await store.campaigns.claim(c.id, claimOptions);
      assert.ok(a && b);
      const sidA = sid();
      await placeCall(store, a, sidA);
      await placeCall(store, b, sid());
      assert.equal((await store.outbound.applyStatus({ callId: a.callId, callSid: sidA, status: 'ringing', sequence: 1 })).applied, true);
      assert.equal((await store.outbound.applyStatus({ callId: a.callId, callSid: sidA, status: 'initiated', sequence: 0 })).applied, false);
      const busy = await store.outbound.applyStatus({ callId: a.callId, callSid: sidA, status: 'busy', sequence: 2, sipResponseCode: 486, durationSec: 0 });
      assert.equal(busy.contactOutcome, 'retry');
      const call = (await store.calls.get(a.callId))?.call;
      assert.equal(call?.status, 'ended');
      assert.equal(call?.endReason, 'busy');
      assert.equal(call?.twilioStatus, 'busy');
      assert.equal(call?.error, 'SIP 486');
      assert.equal(call?.attempt, 1);
      // The retry: attempt 2, busy again → done, busy (max 2 attempts).
      const [retry] = await store.campaigns.claim(c.id, claimOptions);
      assert.equal(retry?.contactId, a.contactId);
      assert.equal(retry?.attempt, 2);
      await placeCall(store, retry!, sid());
      assert.equal((await store.outbound.applyStatus({ callId: retry!.callId, callSid: 'x', status: 'busy', sequence: 2 })).contactOutcome, 'busy');
      // A duplicate terminal callback changes nothing.
      assert.equal((await store.outbound.applyStatus({ callId: retry!.callId, callSid: 'x', status: 'busy', sequence: 2 })).applied, false);

      await store.outbound.setAnsweredBy({ callId: b.callId, callSid: 'x' }, 'machine_end_beep');
      assert.equal((await store.outbound.applyStatus({ callId: b.callId, callSid: 'x', status: 'completed', sequence: 3 })).contactOutcome, 'voicemail');

      const page = await store.campaigns.contacts(c.id, {});
      const contactA = page.items.find((x) => x.id === a.contactId);
      assert.equal(contactA?.state, 'done');
      assert.equal(contactA?.outcome, 'busy');
      assert.equal(contactA?.attempts, 2);
      assert.deepEqual(contactA?.calls.map((x) => [x.attempt, x.twilioStatus]), [[1, 'busy'], [2, 'busy']]);
      assert.deepEqual((await store.campaigns.finishCompleted()).includes(c.id), true);
      assert.equal((await store.campaigns.get(c.id))?.status, 'completed');
    });

    test('expired leases: contacts never placed return to pending, those Twilio reported on are adopted', async () => {
      const { store } = opened();
      const c = await store.campaigns.create(settings(), contacts(2), REPORT);
      await store.campaigns.act(c.id, 'start');
      const [a, b] = await store.campaigns.claim(c.id, { ...claimOptions, leaseMs: 1 });
      assert.ok(a && b);
      for (const x of [a, b]) {
        await store.outbound.createDialing({
          id: x.callId, from: x.from, to: x.phone, agentId: x.agentId, agentVersion: null, backend: 'engine', model: 'koe', apiShape: 'ga',
          variables: {}, processId: 'dead', campaign: { campaignId: x.campaignId, contactId: x.contactId, attempt: x.attempt },
        });
      }
      // Twilio placed b (its callback arrived) but the process died before storing the SID.
      await store.outbound.applyStatus({ callId: b.callId, callSid: sid(), status: 'initiated', sequence: 0 });
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(await store.campaigns.recoverLeases(), { released: 1, adopted: 1 });
      const page = await store.campaigns.contacts(c.id, {});
      assert.deepEqual(page.items.map((x) => [x.id, x.state]), [[a.contactId, 'pending'], [b.contactId, 'calling']]);
      assert.equal((await store.calls.get(a.callId))?.call.endReason, 'dial_failed');
      const again = await store.campaigns.claim(c.id, claimOptions);
      assert.deepEqual(again.map((x) => [x.contactId, x.attempt]), [[a.contactId, 1]]);
      assert.notEqual(again[0]?.callId, a.callId);
    });

    test('calling windows are read in each contact\'s time zone', async () => {
      const { store } = opened();
      const now = new Date();
      const utcMinutes = now.getUTCHours() * 60 + now.getUTCMinutes();
      // A two-hour window around the current UTC time, skipping edge cases near midnight.
      const start = Math.max(0, utcMinutes - 60);
      const end = Math.min(1440, utcMinutes + 60);
      const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
      const c = await store.campaigns.create(
        settings({ window: { start: hhmm(start), end: hhmm(end), days: [1, 2, 3, 4, 5, 6, 7] } }),
        [
          { line: 2, phone: '+15550100001', timezone: 'UTC', variables: {} },
          // Kolkata is UTC+5:30: outside a two-hour window around UTC's time of day.
          { line: 3, phone: '+15550100002', timezone: 'Asia/Kolkata', variables: {} },
          { line: 4, phone: '+15550100003', timezone: null, variables: {} },
        ],
        REPORT,
      );
      await store.campaigns.act(c.id, 'start');
      const claimed = await store.campaigns.claim(c.id, claimOptions);
      assert.deepEqual(claimed.map((x) => x.phone).sort(), ['+15550100001', '+15550100003']);
    });

    test('pause, resume, cancel; invalid transitions are refused; export lists every contact', async () => {
      const { store } = opened();
      const c = await store.campaigns.create(settings(), contacts(3), REPORT);
      await assert.rejects(store.campaigns.act(c.id, 'pause'), CampaignStateError);
      await store.campaigns.act(c.id, 'start');
      assert.equal((await store.campaigns.act(c.id, 'pause')).status, 'paused');
      assert.deepEqual(await store.campaigns.claim(c.id, claimOptions), []);
      assert.equal((await store.campaigns.act(c.id, 'resume')).status, 'running');
      const [one] = await store.campaigns.claim(c.id, { ...claimOptions, maxBatch: 1 });
      await placeCall(store, one!, sid());
      const canceled = await store.campaigns.act(c.id, 'cancel');
      assert.equal(canceled.status, 'canceled');
      assert.equal(canceled.counts.outcomes.canceled, 2);
      assert.equal(canceled.counts.inFlight, 1, 'the call in progress finishes normally');
      await assert.rejects(store.campaigns.act(c.id, 'resume'), CampaignStateError);
      const rows: unknown[] = [];
      await store.campaigns.exportContacts(c.id, (page) => {
        rows.push(...page);
      });
      assert.equal(rows.length, 3);
      await store.campaigns.pauseFor(c.id, 'nope');
      assert.equal((await store.campaigns.get(c.id))?.status, 'canceled', 'pauseFor only pauses running campaigns');
    });
  });
}
