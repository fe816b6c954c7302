import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { AgentInput } from '../../../src/agents/agent.js';
import { AgentValidationError, AgentVersionConflict } from '../../../src/store/index.js';
import { testDatabases } from '../../support/databases.js';
import { storeForSuite } from './store-fixtures.js';

function agent(id: string, overrides: Partial<AgentInput> = {}): AgentInput {
  return { id, name: 'Front desk', instructions: 'Answer the phone for {{company}}.', variables: { company: 'Koe' }, ...overrides };
}

const uniqueId = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

for (const backend of testDatabases()) describe(`repositories on ${backend.name}`, () => {
  // One store for both suites: an in-memory PGlite costs about a second to start.
  const opened = storeForSuite(backend);

  describe('agents', () => {

    test('every save is a new version; the definition is kept as entered, without defaults', async () => {
      const { agents } = opened().store;
      const id = uniqueId('desk');
      const v1 = await agents.save(agent(id), 'api');
      assert.equal(v1.version, 1);
      assert.equal(v1.source, 'api');
      assert.deepEqual(v1.definition, agent(id), 'no defaults filled in');
      assert.match(v1.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

      const v2 = await agents.save(agent(id, { name: 'Reception' }), 'dashboard', 1);
      assert.equal(v2.version, 2);
      assert.equal(v2.createdAt, v1.createdAt, 'createdAt is the agent’s, updatedAt the version’s');
      assert.ok(v2.updatedAt >= v1.updatedAt);

      assert.deepEqual(await agents.get(id), v2);
      assert.equal((await agents.getVersion(id, 1))?.definition.name, 'Front desk');
      assert.deepEqual((await agents.versions(id)).map((v) => [v.version, v.source]), [
        [2, 'dashboard'],
        [1, 'api'],
      ]);
      assert.ok((await agents.list()).some((a) => a.id === id && a.version === 2));
      assert.equal(await agents.get('no-such-agent'), undefined);
    });

    test('a stale expectedVersion fails with AgentVersionConflict instead of overwriting', async () => {
      const { agents } = opened().store;
      const id = uniqueId('conflict');
      await agents.save(agent(id), 'dashboard', 0);
      await agents.save(agent(id, { name: 'Edited by Ann' }), 'dashboard', 1);
      await assert.rejects(agents.save(agent(id, { name: 'Edited by Bob' }), 'dashboard', 1), (err: unknown) => {
        assert.ok(err instanceof AgentVersionConflict);
        assert.deepEqual([err.agentId, err.expectedVersion, err.currentVersion], [id, 1, 2]);
        return true;
      });
      // expectedVersion 0 means "create": the agent exists, so that is a conflict too.
      await assert.rejects(agents.save(agent(id), 'api', 0), AgentVersionConflict);
      assert.equal((await agents.get(id))?.definition.name, 'Edited by Ann');
    });

    test('two editors saving the same version at once: exactly one wins', async () => {
      const { agents } = opened().store;
      const id = uniqueId('race');
      await agents.save(agent(id), 'dashboard');
      const results = await Promise.allSettled([
        agents.save(agent(id, { name: 'A' }), 'dashboard', 1),
        agents.save(agent(id, { name: 'B' }), 'dashboard', 1),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const failed = results.find((r) => r.status === 'rejected');
      assert.ok(failed?.status === 'rejected' && failed.reason instanceof AgentVersionConflict);
      assert.equal((await agents.get(id))?.version, 2);
    });

    test('invalid definitions are refused with every problem named by its path', async () => {
      const { agents } = opened().store;
      const id = uniqueId('bad');
      await assert.rejects(
        agents.save(
          agent(id, { turnDetection: { type: 'server_vad', threshold: 2 }, phoneNumbers: ['555-1234'], instructions: 'Hi {{ 1bad }}' }),
          'api',
        ),
        (err: unknown) => {
          assert.ok(err instanceof AgentValidationError);
          assert.equal(err.agentId, id);
          assert.ok(err.problems.some((p) => p.startsWith('turnDetection.threshold: ')), err.problems.join('\n'));
          assert.ok(err.problems.some((p) => p.startsWith('phoneNumbers[0]: ')), err.problems.join('\n'));
          assert.ok(err.problems.some((p) => p.startsWith('instructions: ')), err.problems.join('\n'));
          return true;
        },
      );
      assert.equal(await agents.get(id), undefined, 'nothing was stored');
      await assert.rejects(agents.save(agent(id), 'api', -1), RangeError);
    });

    test('remove is soft: the agent leaves the list, its history stays, and saving again continues the numbering', async () => {
      const { agents } = opened().store;
      const id = uniqueId('gone');
      await agents.save(agent(id), 'api');
      await agents.save(agent(id, { name: 'Second' }), 'api');
      assert.equal(await agents.remove(id), true);
      assert.equal(await agents.remove(id), false, 'already removed');
      assert.equal(await agents.remove('never-existed'), false);
      assert.equal(await agents.get(id), undefined);
      assert.ok(!(await agents.list()).some((a) => a.id === id));
      assert.equal((await agents.getVersion(id, 2))?.definition.name, 'Second', 'past calls still show what they ran with');
      assert.equal((await agents.versions(id)).length, 2);
      // An editor who still sees version 2 must not resurrect it unknowingly.
      await assert.rejects(agents.save(agent(id), 'dashboard', 2), (err: unknown) => err instanceof AgentVersionConflict && err.currentVersion === 0);
      const revived = await agents.save(agent(id, { name: 'Third' }), 'dashboard', 0);
      assert.equal(revived.version, 3);
      assert.equal((await agents.get(id))?.definition.name, 'Third');
    });

    test('syncFromYaml applies new and changed entries only: dashboard edits and deletions survive an unchanged file', async () => {
      const { agents } = opened().store;
      const a = uniqueId('yaml-a');
      const b = uniqueId('yaml-b');
      const file = [agent(a), agent(b, { name: 'Sales' })];
      assert.deepEqual(await agents.syncFromYaml(file), { created: [a, b], updated: [], unchanged: [] });
      assert.equal((await agents.get(a))?.source, 'agents.yaml');

      await agents.save(agent(a, { name: 'Edited in the dashboard' }), 'dashboard', 1);
      await agents.remove(b);
      // Same file, keys in another order: still unchanged.
      const reordered = file.map((d) => Object.fromEntries(Object.entries(d).reverse()) as AgentInput);
      assert.deepEqual(await agents.syncFromYaml(reordered), { created: [], updated: [], unchanged: [a, b] });
      assert.equal((await agents.get(a))?.definition.name, 'Edited in the dashboard');
      assert.equal(await agents.get(b), undefined);

      // The file changed: its version becomes current, and the deleted agent comes back.
      assert.deepEqual(await agents.syncFromYaml([agent(a, { name: 'From the new file' }), agent(b, { name: 'Sales v2' })]), {
        created: [],
        updated: [a, b],
        unchanged: [],
      });
      assert.equal((await agents.get(a))?.definition.name, 'From the new file');
      assert.equal((await agents.get(a))?.version, 3);
      assert.equal((await agents.get(b))?.definition.name, 'Sales v2');
    });
  });

  describe('login sessions', () => {

    test('a session is valid until it expires, and not after removal', async () => {
      const { loginSessions } = opened().store;
      const now = new Date();
      const id = uniqueId('hash');
      await loginSessions.create(id, new Date(now.getTime() + 60_000));
      assert.equal(await loginSessions.valid(id, now), true);
      assert.equal(await loginSessions.valid(id, new Date(now.getTime() + 59_999)), true);
      assert.equal(await loginSessions.valid(id, new Date(now.getTime() + 60_000)), false, 'expiry is exclusive');
      assert.equal(await loginSessions.valid('unknown', now), false);
      await loginSessions.remove(id);
      assert.equal(await loginSessions.valid(id, now), false);
    });

    test('expired sessions are swept when new ones are created', async () => {
      const { loginSessions, db } = opened().store;
      const old = uniqueId('old');
      await loginSessions.create(old, new Date(Date.now() - 1_000));
      await loginSessions.create(uniqueId('new'), new Date(Date.now() + 60_000));
      const { rows } = await db.query('SELECT 1 FROM login_sessions WHERE id_hash = $1', [old]);
      assert.equal(rows.length, 0);
      await assert.rejects(loginSessions.create(uniqueId('bad'), new Date(Number.NaN)), RangeError);
    });
  });
});
