// A real PostgreSQL server going away under a running store (its own private server, stopped and
// started again): calls keep going, their writes land once it is back, and LISTEN resumes by itself.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startPostgres, type TestPostgres } from '../../../scripts/postgres-for-tests.mjs';
import { createMetrics } from '../../../src/metrics/metrics.js';
import { openStore, type KoeStore } from '../../../src/store/index.js';
import { CallScript, capturingLog, metricValue, usage } from './store-fixtures.js';

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('PostgreSQL restarting under a running store', () => {
  let server: TestPostgres;
  let store: KoeStore;
  const metrics = createMetrics();
  const { log, lines } = capturingLog();

  before(async () => {
    server = await startPostgres();
    store = await openStore({ databaseUrl: server.url, dataDir: 'memory://', recordingsDir: '/nonexistent', processId: 'outage', log, metrics });
  });
  after(async () => {
    await store?.close();
    await server?.stop();
  });

  test('writes made while it is down are retried and land; LISTEN is restored', async () => {
    const heard: string[] = [];
    await store.db.listen('koe_outage', (payload) => heard.push(payload));
    await store.db.notify('koe_outage', 'before');
    await waitUntil('the first notification', () => heard.includes('before'));

    const s = new CallScript();
    store.writer.write(s.started());
    store.writer.write(s.user(1000, 'before the outage'));
    await store.writer.flush();

    await server.pause();
    store.writer.write(s.assistant(2000, 'during the outage'));
    store.writer.write(s.user(3000, 'still during the outage'));
    store.writer.write(s.ended(4000, usage({})));
    await waitUntil('a write was retried', async () => (await metricValue(metrics, 'koe_store_writes_total', { outcome: 'retried' })) > 0);
    assert.ok(store.writer.queuedWrites > 0);
    await server.resume();

    await store.writer.flush();
    const detail = await store.calls.get(s.callId);
    assert.deepEqual(detail?.turns.map((t) => t.text), ['before the outage', 'during the outage', 'still during the outage']);
    assert.equal(detail?.call.status, 'ended');
    assert.ok(lines.some((l) => /database writes recovered/.test(String(l.msg))));

    // The LISTEN connection reconnects with backoff; keep notifying until one gets through.
    await waitUntil(
      'a notification after the restart',
      async () => {
        await store.db.notify('koe_outage', 'after');
        await new Promise((resolve) => setTimeout(resolve, 50));
        return heard.includes('after');
      },
      15_000,
    );
    assert.ok(lines.some((l) => /LISTEN connection restored/.test(String(l.msg))));
  });
});
