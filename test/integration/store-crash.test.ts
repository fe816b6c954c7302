// The storage layer's crash promise: a call's finished turns are in the database after its process is
// killed with SIGKILL (no shutdown code runs), on embedded PGlite (a folder on disk) and on PostgreSQL,
// and the call, left `active` by the dead process, is then marked `abandoned`.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test, type TestContext } from 'node:test';
import { createLogger } from '../../src/log/logger.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { openDatabase, openStore } from '../../src/store/index.js';
import { createPostgresDatabase } from '../support/databases.js';

const log = createLogger({ level: 'silent' });
const TURNS_BEFORE_KILL = 5;
const TURN_INTERVAL_MS = 150;
const KILL_AFTER_MS = 50;
const childScript = new URL('../support/store-crash-child.ts', import.meta.url).pathname;
const workDir = mkdtempSync(join(tmpdir(), 'koe-store-crash-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

interface Target {
  dataDir?: string;
  databaseUrl?: string;
}

interface CrashReport {
  handedOver: number;
  /** Milliseconds from write() to commit, per turn the child saw committed before it died. */
  durableAfterMs: number[];
}

/** Runs the child until it has handed TURNS_BEFORE_KILL turns to its writer, waits KILL_AFTER_MS, kills it. */
async function runAndKill(target: Target, callId: string): Promise<CrashReport> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      childScript,
      JSON.stringify({ ...target, recordingsDir: workDir, processId: `doomed-${callId}`, callId, turnIntervalMs: TURN_INTERVAL_MS, turns: 100 }),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  const report: CrashReport = { handedOver: 0, durableAfterMs: [] };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the child did not hand over ${TURNS_BEFORE_KILL} turns in time:\n${stderr}`)), 60_000);
      void exited.then(() => reject(new Error(`the child exited early:\n${stderr}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const message = JSON.parse(line) as { turn?: number; durable?: number; afterMs?: number };
        if (message.durable !== undefined) report.durableAfterMs.push(message.afterMs!);
        if (message.turn === TURNS_BEFORE_KILL) {
          report.handedOver = message.turn;
          clearTimeout(timer);
          setTimeout(resolve, KILL_AFTER_MS);
        }
      });
    });
  } finally {
    child.kill('SIGKILL');
  }
  assert.equal(await exited, 'SIGKILL');
  return report;
}

function describeLatency(t: TestContext, backend: string, report: CrashReport): void {
  const sorted = [...report.durableAfterMs].sort((a, b) => a - b);
  t.diagnostic(
    `${backend}: write() → committed, ms: ${sorted.map((ms) => ms.toFixed(1)).join(', ')} (killed ${KILL_AFTER_MS} ms after turn ${report.handedOver} was handed over)`,
  );
}

async function turnsAndStatus(target: Target, callId: string): Promise<{ texts: string[]; status: string | undefined }> {
  // Opened bare (no store): the startup sweep must not run before we have looked.
  const db = await openDatabase({ ...target, log });
  try {
    const turns = await db.query<{ text: string }>('SELECT text FROM turns WHERE call_id = $1 ORDER BY seq', [callId]);
    const call = await db.query<{ status: string }>('SELECT status FROM calls WHERE id = $1', [callId]);
    return { texts: turns.rows.map((r) => r.text), status: call.rows[0]?.status };
  } finally {
    await db.close();
  }
}

const expectedTexts = Array.from({ length: TURNS_BEFORE_KILL }, (_, i) => (i % 2 === 0 ? `caller turn ${i + 1}` : `agent turn ${i + 1}`));

describe('a call’s finished turns survive its process being killed', () => {
  test('embedded PGlite: the turns are on disk; the next start marks the call abandoned', async (t) => {
    const target = { dataDir: join(workDir, 'pglite') };
    const callId = `crash_${randomUUID()}`;
    const report = await runAndKill(target, callId);
    describeLatency(t, 'PGlite', report);

    assert.deepEqual(await turnsAndStatus(target, callId), { texts: expectedTexts, status: 'active' });

    // Next start: only one process can have a PGlite folder open, so the dead one's call is abandoned at once.
    const store = await openStore({ ...target, dataDir: target.dataDir, recordingsDir: workDir, processId: 'next', log, metrics: createMetrics() });
    try {
      const detail = await store.calls.get(callId);
      assert.equal(detail?.call.status, 'abandoned');
      assert.deepEqual(detail?.turns.map((turn) => turn.text), expectedTexts);
      assert.ok(!detail?.events.some((e) => e.type === 'transcript.partial'));
    } finally {
      await store.close();
    }
  });

  test('PostgreSQL: the turns are committed; once the dead process’s heartbeat is stale its call is abandoned', async (t) => {
    const database = await createPostgresDatabase();
    const target = { databaseUrl: database.databaseUrl };
    try {
      const callId = `crash_${randomUUID()}`;
      const report = await runAndKill(target, callId);
      describeLatency(t, 'PostgreSQL', report);

      assert.deepEqual(await turnsAndStatus(target, callId), { texts: expectedTexts, status: 'active' });

      // Another process on the same database sweeps on its heartbeat (abandonAfterMs 1 s here).
      const store = await openStore({ ...target, dataDir: 'memory://', recordingsDir: workDir, processId: 'survivor', log, metrics: createMetrics(), abandonAfterMs: 1_000 });
      try {
        const deadline = Date.now() + 10_000;
        while ((await store.calls.get(callId))?.call.status !== 'abandoned') {
          assert.ok(Date.now() < deadline, 'the call was not marked abandoned within 10 s');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.deepEqual((await store.calls.get(callId))?.turns.map((turn) => turn.text), expectedTexts);
      } finally {
        await store.close();
      }
    } finally {
      await database.drop();
    }
  });
});
