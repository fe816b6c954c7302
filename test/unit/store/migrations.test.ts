import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createMetrics } from '../../../src/metrics/metrics.js';
import {
  DatabaseUnavailableError,
  migrate,
  MIGRATIONS,
  openDatabase,
  openStore,
  SchemaTooNewError,
  type Migration,
} from '../../../src/store/index.js';
import { createPostgresDatabase, testDatabases } from '../../support/databases.js';
import { quietLog } from './store-fixtures.js';

const TABLES = ['agent_versions', 'agents', 'call_events', 'calls', 'campaign_contacts', 'campaigns', 'koe_processes', 'login_sessions', 'schema_migrations', 'tool_calls', 'turns'];

for (const backend of testDatabases()) {
  describe(`migrations on ${backend.name}`, () => {
    test('each migration once, in order; a failing one leaves nothing behind; a newer schema is refused', async () => {
      const database = await backend.create();
      const db = await openDatabase({ ...database, log: quietLog });
      try {
        const first = await migrate(db);
        assert.deepEqual(first, { applied: MIGRATIONS.map((m) => m.version), version: MIGRATIONS.length });
        assert.deepEqual(await migrate(db), { applied: [], version: MIGRATIONS.length });
        const { rows } = await db.query<{ table_name: string }>(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
        );
        assert.deepEqual(rows.map((r) => r.table_name), TABLES);

        // A migration that fails halfway is rolled back whole and not recorded.
        const broken: Migration = { version: MIGRATIONS.length + 1, name: 'broken', sql: 'CREATE TABLE half_done (id int); SELECT * FROM no_such_table' };
        await assert.rejects(migrate(db, [...MIGRATIONS, broken]), /no_such_table/);
        const halfDone = await db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'");
        assert.equal(halfDone.rows.length, 0);
        assert.deepEqual(await migrate(db), { applied: [], version: MIGRATIONS.length });

        // A later migration applies on top, in its own step.
        const next: Migration = { version: MIGRATIONS.length + 1, name: 'test column', sql: 'ALTER TABLE calls ADD COLUMN test_note text' };
        assert.deepEqual(await migrate(db, [...MIGRATIONS, next]), { applied: [next.version], version: next.version });
        // This Koe does not know that migration: it must not run against that schema.
        await assert.rejects(migrate(db), SchemaTooNewError);
        await assert.rejects(migrate(db, [MIGRATIONS[0]!, { ...next, version: 3 }]), /versions must be 1, 2, 3/);
      } finally {
        await db.close();
        await database.drop();
      }
    });
  });
}

describe('migrations on postgres, concurrently', () => {
  test('several processes opening one new database at once apply each migration exactly once', async () => {
    const database = await createPostgresDatabase();
    const open = (n: number) =>
      openStore({
        databaseUrl: database.databaseUrl,
        dataDir: 'memory://',
        recordingsDir: '/nonexistent',
        processId: `concurrent-${n}`,
        log: quietLog,
        metrics: createMetrics(),
      });
    const stores = await Promise.all([open(1), open(2), open(3), open(4)]);
    try {
      const { rows } = await stores[0]!.db.query<{ version: number; n: number }>(
        'SELECT version, count(*) OVER () AS n FROM schema_migrations ORDER BY version',
      );
      assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
      const extra: Migration = { version: MIGRATIONS.length + 1, name: 'raced', sql: 'CREATE TABLE raced (id int)' };
      const results = await Promise.all(stores.map((s) => migrate(s.db, [...MIGRATIONS, extra])));
      assert.deepEqual(results.flatMap((r) => r.applied), [extra.version], 'exactly one process applied it');
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await database.drop();
    }
  });
});

describe('embedded database on disk', () => {
  test('keeps data across reopen and refuses a second opener of the same folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'koe-pglite-'));
    const dataDir = join(dir, 'nested', 'pglite');
    try {
      const db = await openDatabase({ dataDir, log: quietLog });
      await migrate(db);
      await db.query("INSERT INTO login_sessions (id_hash, expires_at) VALUES ('kept', now() + interval '1 hour')");
      await assert.rejects(openDatabase({ dataDir, log: quietLog }), (err: unknown) => err instanceof DatabaseUnavailableError && /already open/.test(err.message));
      assert.ok(existsSync(`${dataDir}.lock`));
      await db.close();
      assert.ok(!existsSync(`${dataDir}.lock`), 'the lock goes with the database');

      const again = await openDatabase({ dataDir, log: quietLog });
      assert.deepEqual(await migrate(again), { applied: [], version: MIGRATIONS.length });
      const { rows } = await again.query('SELECT id_hash FROM login_sessions');
      assert.deepEqual(rows, [{ id_hash: 'kept' }]);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
