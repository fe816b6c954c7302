import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createMetrics } from '../../../src/metrics/metrics.js';
import { openStore, type CallRecord, type KoeStore } from '../../../src/store/index.js';
import { testDatabases } from '../../support/databases.js';
import { CallScript, callInfo, quietLog, storeForSuite, T0_MS, usage } from './store-fixtures.js';

const recordingsDir = mkdtempSync(join(tmpdir(), 'koe-recordings-'));
after(() => rmSync(recordingsDir, { recursive: true, force: true }));

for (const backend of testDatabases()) {
  describe(`call store on ${backend.name}`, () => {
    const opened = storeForSuite(backend, { recordingsDir });
    /** Calls of this suite carry this tag in their agent id, so searches ignore other tests' calls. */
    const tag = `t${randomUUID().slice(0, 6)}`;
    const calls: CallScript[] = [];

    before(async () => {
      const { store } = opened();
      const specs = [
        { agent: 'sales', direction: 'inbound', from: '+15550001111', words: 'I want a refund for my blender', reason: 'caller_hung_up' },
        { agent: 'sales', direction: 'outbound', from: '+15550002222', words: 'Is the 50% discount still on?', reason: 'agent_hung_up' },
        { agent: 'support', direction: 'inbound', from: '+442071234567', words: 'My router keeps dropping', reason: 'caller_hung_up' },
        { agent: 'support', direction: 'inbound', from: '+15550003333', words: 'ルーターが壊れました', reason: null },
      ] as const;
      specs.forEach((spec, i) => {
        const s = new CallScript(
          callInfo({ agentId: `${tag}-${spec.agent}`, direction: spec.direction, from: spec.from, to: '+15559990000', recording: i === 0 }),
          T0_MS + i * 60_000,
        );
        calls.push(s);
        store.writer.write(s.started());
        store.writer.write(s.assistant(2000, 'How can I help?', { greeting: true }));
        store.writer.write(s.user(5000, spec.words));
        if (spec.reason) store.writer.write(s.ended(9000, usage({}), spec.reason));
      });
      await store.writer.flush();
    });

    const ids = (items: CallRecord[]): number[] => items.map((c) => calls.findIndex((s) => s.callId === c.id));
    const search = (query: Parameters<KoeStore['calls']['list']>[0]) => opened().store.calls.list({ ...query, q: query.q ?? undefined, agentId: query.agentId });

    test('newest first, with turn counts', async () => {
      const page = await search({ q: tag });
      assert.deepEqual(ids(page.items), [3, 2, 1, 0]);
      assert.equal(page.total, 4);
      assert.deepEqual(page.items.map((c) => c.turnCount), [2, 2, 2, 2]);
    });

    test('free text finds transcript words, any language, case-insensitively; % is literal', async () => {
      const inSuite = async (q: string) => ids((await search({ q })).items.filter((c) => c.agentId.startsWith(tag)));
      assert.deepEqual(await inSuite('REFUND'), [0]);
      assert.deepEqual(await inSuite('ルーター'), [3]);
      assert.deepEqual(await inSuite('router'), [2]);
      assert.deepEqual(await inSuite('50%'), [1]);
      assert.deepEqual(await inSuite('5_%'), [], 'LIKE wildcards in the query are taken literally');
      assert.deepEqual(await inSuite('help'), [3, 2, 1, 0], 'agent turns count too');
    });

    test('free text finds numbers (also written with spaces and dashes), call SIDs and agent ids', async () => {
      assert.deepEqual(ids((await search({ q: '+442071234567' })).items), [2]);
      assert.deepEqual(ids((await search({ q: '0002222' })).items), [1]);
      assert.deepEqual(ids((await search({ q: '555 000-3333' })).items), [3]);
      assert.deepEqual(ids((await search({ q: calls[1]!.info.callSid.toLowerCase() })).items), [1]);
      assert.deepEqual(ids((await search({ q: `${tag}-supp` })).items), [3, 2]);
    });

    test('filters combine with search', async () => {
      assert.deepEqual(ids((await search({ agentId: `${tag}-sales` })).items), [1, 0]);
      assert.deepEqual(ids((await search({ q: tag, direction: 'outbound' })).items), [1]);
      assert.deepEqual(ids((await search({ q: tag, status: 'active' })).items), [3]);
      assert.deepEqual(ids((await search({ q: tag, endReason: 'caller_hung_up' })).items), [2, 0]);
      const since = new Date(T0_MS + 60_000).toISOString();
      const until = new Date(T0_MS + 180_000).toISOString();
      assert.deepEqual(ids((await search({ q: tag, since, until })).items), [2, 1], 'since inclusive, until exclusive');
      assert.deepEqual(ids((await search({ q: `${tag}-sales`, direction: 'inbound' })).items), [0]);
    });

    test('pages carry the total of all matches', async () => {
      const first = await search({ q: tag, pageSize: 3 });
      assert.deepEqual([ids(first.items), first.page, first.pageSize, first.total], [[3, 2, 1], 1, 3, 4]);
      const second = await search({ q: tag, pageSize: 3, page: 2 });
      assert.deepEqual([ids(second.items), second.total], [[0], 4]);
      const beyond = await search({ q: tag, pageSize: 3, page: 9 });
      assert.deepEqual([beyond.items, beyond.total], [[], 4]);
      // No filter at all (no parameters: the other protocol path) counts the same way.
      const everything = await opened().store.calls.list({});
      assert.equal(typeof everything.total, 'number');
      assert.ok(everything.total >= 4 && everything.items.length === Math.min(25, everything.total));
    });

    test('bad list queries are refused clearly', async () => {
      await assert.rejects(search({ pageSize: 101 }), /pageSize must be a whole number from 1 to 100/);
      await assert.rejects(search({ page: 0 }), /page must be/);
      await assert.rejects(search({ since: 'yesterday' }), /since must be an ISO 8601 timestamp/);
    });

    test('records: by call SID (the latest), Twilio status, recording file', async () => {
      const { store } = opened();
      const first = calls[0]!;
      assert.equal((await store.calls.getByCallSid(first.info.callSid))?.id, first.callId);
      // Twilio replaced the stream: a second record for the same call SID is now the one returned.
      const replaced = new CallScript(callInfo({ callSid: first.info.callSid, agentId: `${tag}-other` }), T0_MS + 3_600_000);
      store.writer.write(replaced.started());
      await store.writer.flush();
      assert.equal((await store.calls.getByCallSid(first.info.callSid))?.id, replaced.callId);
      assert.equal(await store.calls.getByCallSid('CA-none'), undefined);

      await store.calls.setTwilioStatus(first.info.callSid, 'completed');
      assert.equal((await store.calls.get(first.callId))?.call.twilioStatus, 'completed');
      assert.equal((await store.calls.get(replaced.callId))?.call.twilioStatus, 'completed', 'every record of the call SID');

      assert.equal((await store.calls.get(first.callId))?.call.hasRecording, true);
      assert.equal(await store.calls.recordingPath(first.callId), undefined, 'no file yet');
      writeFileSync(join(recordingsDir, `${first.callId}.wav`), 'RIFF');
      assert.equal(await store.calls.recordingPath(first.callId), join(recordingsDir, `${first.callId}.wav`));
      writeFileSync(join(recordingsDir, `${calls[1]!.callId}.wav`), 'RIFF');
      assert.equal(await store.calls.recordingPath(calls[1]!.callId), undefined, 'a call that was not recording has none');
      assert.equal(await store.calls.recordingPath('../../etc/passwd'), undefined);
      assert.equal(await store.calls.get('no-such-call'), undefined);
    });

    test('active calls of processes without a recent heartbeat are marked abandoned, never this process’s own', async () => {
      const { store } = opened();
      const processes = { live: `live-${tag}`, dead: `dead-${tag}`, unknown: `unknown-${tag}` };
      await store.db.query(
        `INSERT INTO koe_processes (process_id, hostname, pid, heartbeat_at) VALUES
           ($1, 'h', 1, now()), ($2, 'h', 2, now() - interval '10 minutes')`,
        [processes.live, processes.dead],
      );
      const byProcess: Record<string, string> = {};
      for (const [name, processId] of [...Object.entries(processes), ['mine', store.processId] as const]) {
        const s = new CallScript(callInfo({ agentId: `${tag}-abandon` }));
        byProcess[name] = s.callId;
        await store.db.query(
          `INSERT INTO calls (id, call_sid, direction, agent_id, backend, model, api_shape, started_at, process_id)
           VALUES ($1, $2, 'inbound', $3, 'openai', 'gpt-realtime', 'ga', now(), $4)`,
          [s.callId, s.info.callSid, s.info.agentId, processId],
        );
      }
      const marked = await store.calls.markAbandoned({ staleAfterMs: 60_000 });
      assert.deepEqual(marked.sort(), [byProcess.dead, byProcess.unknown].sort());
      const status = async (name: string) => (await store.calls.get(byProcess[name]!))?.call.status;
      assert.deepEqual([await status('live'), await status('dead'), await status('unknown'), await status('mine')], ['active', 'abandoned', 'abandoned', 'active']);
      assert.deepEqual(await store.calls.markAbandoned({ staleAfterMs: 60_000 }), [], 'idempotent');
      // With no tolerance (the PGlite startup rule) every other process counts as dead.
      assert.deepEqual(await store.calls.markAbandoned({ staleAfterMs: 0 }), [byProcess.live]);
      assert.equal(await status('mine'), 'active');
    });
  });
}

describe('store lifecycle on postgres', () => {
  test('close writes what was queued; a process that registered is seen alive, its row goes on close', async () => {
    const [, postgres] = testDatabases();
    const database = await postgres!.create();
    const options = {
      databaseUrl: database.databaseUrl,
      dataDir: 'memory://',
      recordingsDir,
      log: quietLog,
      metrics: createMetrics(),
    };
    const store = await openStore({ ...options, processId: 'first' });
    const s = new CallScript();
    store.writer.write(s.started());
    store.writer.write(s.user(1000, 'written at close'));
    await store.close();

    const second = await openStore({ ...options, processId: 'second', abandonAfterMs: 60_000 });
    try {
      const detail = await second.calls.get(s.callId);
      assert.deepEqual(detail?.turns.map((t) => t.text), ['written at close']);
      const { rows } = await second.db.query<{ process_id: string }>('SELECT process_id FROM koe_processes ORDER BY process_id');
      assert.deepEqual(rows, [{ process_id: 'second' }], 'the first process removed its row when it closed');
      // The first process closed without ending the call and left no heartbeat row: the second one's
      // startup sweep needs no waiting to know it is gone.
      assert.equal(detail?.call.status, 'abandoned');
    } finally {
      await second.close();
      await database.drop();
    }
  });
});
