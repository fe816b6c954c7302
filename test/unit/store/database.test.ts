import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isPermanentDatabaseError, openDatabase, type Database } from '../../../src/store/index.js';
import { testDatabases, type TestDatabase } from '../../support/databases.js';
import { quietLog } from './store-fixtures.js';

function waitFor<T>(what: string, register: (resolve: (value: T) => void) => void, timeoutMs = 5_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

for (const backend of testDatabases()) {
  describe(`database on ${backend.name}`, () => {
    let database: TestDatabase;
    let db: Database;
    before(async () => {
      database = await backend.create();
      db = await openDatabase({ ...database, log: quietLog });
      await db.query('CREATE TABLE things (id integer PRIMARY KEY, at timestamptz, doc jsonb, big bigint, amount numeric, label text)');
    });
    after(async () => {
      await db.close();
      await database.drop();
    });

    test('reports its kind', () => {
      assert.equal(db.kind, backend.name);
    });

    test('values come back the same on both backends: ISO timestamps, numbers, parsed jsonb', async () => {
      await db.query('INSERT INTO things (id, at, doc, big, amount, label) VALUES ($1, $2::timestamptz, $3::jsonb, $4, $5, $6)', [
        1,
        '2025-01-02T03:04:05.678+09:00',
        JSON.stringify({ list: [1, 'two', { three: 3 }], text: 'héllo' }),
        9_007_199_254_740_991,
        '12.50',
        undefined,
      ]);
      const { rows } = await db.query('SELECT id, at, doc, big, amount, label, count(*) OVER () AS n FROM things WHERE id = $1', [1]);
      assert.deepEqual(rows, [
        {
          id: 1,
          at: '2025-01-01T18:04:05.678Z',
          doc: { list: [1, 'two', { three: 3 }], text: 'héllo' },
          big: 9_007_199_254_740_991,
          amount: 12.5,
          label: null,
          n: 1,
        },
      ]);
    });

    test('statements without parameters may be several (simple protocol); affectedRows counts changed rows', async () => {
      const multi = await db.query("INSERT INTO things (id, label) VALUES (10, 'a'); INSERT INTO things (id, label) VALUES (11, 'b'); SELECT 42 AS answer");
      assert.deepEqual(multi.rows, [{ answer: 42 }]);
      const updated = await db.query('UPDATE things SET label = $1 WHERE id IN (10, 11)', ['c']);
      assert.equal(updated.affectedRows, 2);
      const returning = await db.query<{ id: number }>('UPDATE things SET label = $1 WHERE id = 10 RETURNING id', ['d']);
      assert.deepEqual(returning.rows, [{ id: 10 }]);
      assert.equal(returning.affectedRows, 1);
      const selected = await db.query('SELECT * FROM things WHERE id >= $1', [10]);
      assert.equal(selected.affectedRows, 0);
    });

    test('a transaction commits its work, or rolls all of it back when the callback throws', async () => {
      const value = await db.transaction(async (tx) => {
        await tx.query('INSERT INTO things (id) VALUES ($1)', [20]);
        await tx.query('INSERT INTO things (id) VALUES ($1)', [21]);
        return 'done';
      });
      assert.equal(value, 'done');
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO things (id) VALUES ($1)', [22]);
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO things (id) VALUES ($1)', [23]);
          await tx.query('INSERT INTO things (id) VALUES ($1)', [20]); // duplicate key
        }),
        (err: unknown) => (err as { code?: string }).code === '23505' && isPermanentDatabaseError(err),
      );
      const { rows } = await db.query<{ id: number }>('SELECT id FROM things WHERE id BETWEEN 20 AND 29 ORDER BY id');
      assert.deepEqual(rows.map((r) => r.id), [20, 21]);
      // The database is usable after a failed transaction.
      assert.equal((await db.query('SELECT 1 AS one')).rows.length, 1);
    });

    test('a transaction handle is dead once its callback returned', async () => {
      let leaked: Pick<Database, 'query'> | undefined;
      await db.transaction(async (tx) => {
        leaked = tx;
      });
      await assert.rejects(leaked!.query('SELECT 1'), /transaction is over/);
    });

    test('LISTEN/NOTIFY: every listener of a channel gets the payload; unlisten stops it', async () => {
      const a: string[] = [];
      const b: string[] = [];
      const stopA = await db.listen('koe_test', (payload) => a.push(payload));
      let onB!: (payload: string) => void;
      const gotB = waitFor<string>('second listener', (resolve) => (onB = resolve));
      const stopB = await db.listen('koe_test', (payload) => {
        b.push(payload);
        onB(payload);
      });
      await db.notify('koe_test', JSON.stringify({ hello: 'wörld' }));
      assert.equal(await gotB, '{"hello":"wörld"}');
      assert.deepEqual(a, ['{"hello":"wörld"}']);
      await stopA();
      const gotB2 = waitFor<string>('second notification', (resolve) => (onB = resolve));
      await db.notify('koe_test', 'second');
      assert.equal(await gotB2, 'second');
      assert.deepEqual(a, ['{"hello":"wörld"}'], 'an unlistened callback hears nothing more');
      await stopB();
    });

    test('notifications sent inside a transaction arrive after it commits', async () => {
      let onPayload!: (payload: string) => void;
      const got = waitFor<string>('notification', (resolve) => (onPayload = resolve));
      const stop = await db.listen('koe_tx', (payload) => onPayload(payload));
      await db.transaction(async (tx) => {
        await tx.query('SELECT pg_notify($1, $2)', ['koe_tx', 'from a transaction']);
      });
      assert.equal(await got, 'from a transaction');
      await stop();
    });

    test('bad channel names and oversized payloads are refused before reaching the database', async () => {
      await assert.rejects(db.listen('Bad-Channel', () => undefined), TypeError);
      await assert.rejects(db.notify('koe_test', 'x'.repeat(8_000)), RangeError);
    });
  });
}
