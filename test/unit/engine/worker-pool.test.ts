import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { StageError } from '../../../src/engine/stage.js';
import { WorkerPool, workerEntry } from '../../../src/engine/worker-pool.js';
import type { TestData, TestRequest } from './fixtures/test-worker.js';

const entry = new URL('./fixtures/test-worker.ts', import.meta.url);

function start(size: number, data?: TestData): Promise<WorkerPool<TestRequest, number>> {
  return WorkerPool.start<TestRequest, number>({ name: 'test', entry, size, workerData: data, readyTimeoutMs: 10_000 });
}

describe('WorkerPool', () => {
  const pools: WorkerPool<TestRequest, number>[] = [];
  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  test('workerEntry keeps the extension of the calling module', () => {
    assert.equal(workerEntry('file:///a/b/c.ts', 'w').href, 'file:///a/b/w.ts');
    assert.equal(workerEntry('file:///a/b/c.js', 'w').href, 'file:///a/b/w.js');
  });

  test('runs requests on its workers and reports handler errors per task', async () => {
    const pool = await start(2);
    pools.push(pool);
    const results = await Promise.all([1, 2, 3, 4, 5].map((value) => pool.run({ op: 'echo', value })));
    assert.deepEqual(results, [1, 2, 3, 4, 5]);
    await assert.rejects(pool.run({ op: 'throw' }), (error: unknown) => error instanceof StageError && error.code === 'bad_input' && !error.retryable);
    assert.equal(await pool.run({ op: 'echo', value: 9 }), 9);
  });

  test('a worker that dies fails its task as retryable and is replaced', async () => {
    const pool = await start(1);
    pools.push(pool);
    await assert.rejects(pool.run({ op: 'die' }), (error: unknown) => error instanceof StageError && error.code === 'worker_crashed' && error.retryable);
    assert.equal(await pool.run({ op: 'echo', value: 42 }), 42);
    assert.equal(pool.restarts, 1);
  });

  test('abort rejects a queued task at once and a running one without waiting for it', async () => {
    const pool = await start(1);
    pools.push(pool);
    const running = new AbortController();
    const queued = new AbortController();
    const blocked = pool.run({ op: 'block', ms: 600 }, { signal: running.signal });
    const waiting = pool.run({ op: 'echo', value: 1 }, { signal: queued.signal });
    const startedAt = performance.now();
    queued.abort();
    running.abort();
    await assert.rejects(waiting, (error: unknown) => error instanceof StageError && error.code === 'aborted');
    await assert.rejects(blocked, (error: unknown) => error instanceof StageError && error.code === 'aborted');
    assert.ok(performance.now() - startedAt < 300, 'abort did not wait for the 600 ms native call');
    // The worker finishes its call, drops the answer, and serves the next task.
    assert.equal(await pool.run({ op: 'echo', value: 5 }), 5);
  });

  test('a load failure rejects start with the worker’s own error', async () => {
    await assert.rejects(start(2, { failInit: true }), (error: unknown) => {
      return error instanceof StageError && error.code === 'unavailable' && /install test-package/.test(error.message);
    });
  });

  test('close rejects queued and running tasks, is idempotent, and refuses new work', async () => {
    const pool = await start(1);
    const running = pool.run({ op: 'block', ms: 100 });
    const queued = pool.run({ op: 'echo', value: 1 });
    const closing = pool.close();
    assert.equal(pool.close(), closing);
    await Promise.all([
      assert.rejects(running, (error: unknown) => error instanceof StageError && error.code === 'closed'),
      assert.rejects(queued, (error: unknown) => error instanceof StageError && error.code === 'closed'),
      closing,
    ]);
    await assert.rejects(pool.run({ op: 'echo', value: 1 }), (error: unknown) => error instanceof StageError && error.code === 'closed');
  });
});
