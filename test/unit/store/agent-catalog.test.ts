import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AgentInput } from '../../../src/agents/agent.js';
import { AgentConfigError, AgentRegistry, defineAgent, loadAgentsFile, readAgentsFile } from '../../../src/agents/registry.js';
import { AGENTS_CHANNEL, AgentCatalog } from '../../../src/store/agent-catalog.js';
import type { AgentChangeNotice } from '../../../src/store/agent-catalog.js';
import { createAgentStore } from '../../../src/store/agent-store.js';
import type { AgentRepository } from '../../../src/store/agent-store.js';
import { AgentValidationError, AgentVersionConflict, migrate, openDatabase } from '../../../src/store/index.js';
import type { Database } from '../../../src/store/index.js';
import { testDatabases } from '../../support/databases.js';
import type { TestDatabase } from '../../support/databases.js';
import { capturingLog, quietLog } from './store-fixtures.js';

let numbers = 0;
/** A phone number no other test uses (the suite's tests share one database). */
function freshNumber(): string {
  numbers += 1;
  return `+1555${String(process.pid % 1000).padStart(3, '0')}${String(numbers).padStart(4, '0')}`;
}

/** A yaml-like pair of agents with ids unique to one test: `<prefix>-front` (default) and `<prefix>-sales`. */
function fileAgents(prefix: string, front: Partial<AgentInput> = {}): AgentInput[] {
  return [
    { id: `${prefix}-front`, name: 'Front desk', instructions: 'Answer the phone for {{company}}.', variables: { company: 'Koe' }, phoneNumbers: [freshNumber()], ...front },
    { id: `${prefix}-sales`, name: 'Sales', instructions: 'Sell things.', tools: ['hang_up'] },
  ];
}

function openCatalog(store: { db: Database; agents: AgentRepository }, inputs: AgentInput[], log = quietLog): Promise<AgentCatalog> {
  return AgentCatalog.open({ store, fileAgents: new AgentRegistry(inputs.map(defineAgent)), fileAgentInputs: inputs, log });
}

/** Resolves with the first change `catalog` reports that matches; rejects after `timeoutMs`. */
function nextChange(catalog: AgentCatalog, matches: (change: AgentChangeNotice) => boolean, timeoutMs = 5_000): Promise<AgentChangeNotice> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for an agent change`));
    }, timeoutMs);
    const unsubscribe = catalog.subscribe((change) => {
      if (!matches(change)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(change);
    });
  });
}

describe('readAgentsFile', () => {
  test('returns the definitions as written (no defaults) and the default agent; invalid files throw like loadAgentsFile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'koe-agents-'));
    try {
      const path = join(dir, 'agents.yaml');
      writeFileSync(path, 'defaultAgent: b\nagents:\n  - id: a\n    name: A\n    instructions: Hi.\n  - id: b\n    name: B\n    instructions: Hello.\n    tools: [hang_up]\n');
      assert.deepEqual(readAgentsFile(path), {
        inputs: [
          { id: 'a', name: 'A', instructions: 'Hi.' },
          { id: 'b', name: 'B', instructions: 'Hello.', tools: ['hang_up'] },
        ],
        defaultAgent: 'b',
      });
      assert.equal(loadAgentsFile(path).defaultAgent.id, 'b');
      writeFileSync(path, 'agents:\n  - id: a\n    name: A\n    instructions: Hi.\n    voice: 3\n');
      assert.throws(() => readAgentsFile(path), (err: unknown) => err instanceof AgentConfigError && err.problems[0]!.startsWith('agents[0].voice:'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const backend of testDatabases()) {
  describe(`AgentCatalog on ${backend.name}`, () => {
    let database: TestDatabase;
    let db: Database;
    let store: { db: Database; agents: AgentRepository };
    before(async () => {
      database = await backend.create();
      db = await openDatabase({ databaseUrl: database.databaseUrl, dataDir: database.dataDir, log: quietLog });
      await migrate(db);
      store = { db, agents: createAgentStore(db) };
    });
    after(async () => {
      await db.close();
      await database.drop();
    });

    test('the first start imports agents.yaml: version 1 of each, from the file, the file\'s default agent', async () => {
      const yaml = fileAgents('first');
      const { log, lines } = capturingLog();
      const catalog = await openCatalog(store, yaml, log);
      try {
        assert.equal(catalog.registry.defaultAgent.id, 'first-front');
        for (const input of yaml) {
          assert.equal(catalog.registry.versionOf(input.id), 1);
          const record = await store.agents.get(input.id);
          assert.equal(record?.source, 'agents.yaml');
          assert.deepEqual(record?.definition, input, 'stored as written, defaults not filled in');
        }
        assert.equal(catalog.registry.get('first-front')?.voice, 'alloy', 'the registry holds the agent with defaults');
        assert.ok(lines.some((l) => l.msg === 'imported new agents from the agents file'));
      } finally {
        await catalog.close();
      }
    });

    test('a restart with agents.yaml unchanged keeps a dashboard edit; a changed entry wins with a new version', async () => {
      const yaml = fileAgents('restart');
      const first = await openCatalog(store, yaml);
      const edited = await first.save({ ...yaml[0]!, name: 'Edited in the dashboard' }, 'dashboard', 1);
      assert.equal(edited.version, 2);
      await first.close();

      const second = await openCatalog(store, yaml);
      try {
        assert.equal(second.registry.get('restart-front')?.name, 'Edited in the dashboard');
        assert.equal(second.registry.versionOf('restart-front'), 2);
        assert.equal((await store.agents.versions('restart-front')).length, 2, 'no version added for an unchanged file');
      } finally {
        await second.close();
      }

      const changed = [{ ...yaml[0]!, instructions: 'New instructions from the file.' }, yaml[1]!];
      const { log, lines } = capturingLog();
      const third = await openCatalog(store, changed, log);
      try {
        assert.equal(third.registry.versionOf('restart-front'), 3);
        assert.equal(third.registry.get('restart-front')?.instructions, 'New instructions from the file.');
        assert.equal(third.registry.get('restart-front')?.name, 'Front desk', 'the file\'s entry replaces the edit');
        assert.equal((await store.agents.get('restart-front'))?.source, 'agents.yaml');
        assert.equal(third.registry.versionOf('restart-sales'), 1, 'an unchanged entry is left alone');
        assert.ok(lines.some((l) => /changed in the agents file/.test(String(l.msg)) && JSON.stringify(l.agents) === '["restart-front"]'));
      } finally {
        await third.close();
      }
    });

    test('save stores a new version and the next call uses it (registry and versionOf)', async () => {
      const yaml = fileAgents('save');
      const catalog = await openCatalog(store, yaml);
      try {
        const number = freshNumber();
        const record = await catalog.save({ ...yaml[1]!, name: 'Sales v2', phoneNumbers: [number] }, 'api', 1);
        assert.equal(record.version, 2);
        assert.equal(record.source, 'api');
        const agent = catalog.registry.forCalledNumber(number);
        assert.equal(agent.id, 'save-sales');
        assert.equal(agent.name, 'Sales v2');
        // What the stream handler writes into CallInfo.agentVersion.
        assert.equal(catalog.registry.versionOf(agent.id), 2);

        const created = await catalog.save({ id: 'save-new', name: 'New', instructions: 'Hi.' }, 'dashboard', 0);
        assert.equal(created.version, 1);
        assert.equal(catalog.registry.versionOf('save-new'), 1);
      } finally {
        await catalog.close();
      }
    });

    test('a stale expectedVersion is a conflict and changes nothing', async () => {
      const yaml = fileAgents('conflict');
      const catalog = await openCatalog(store, yaml);
      try {
        await catalog.save({ ...yaml[1]!, name: 'First edit' }, 'dashboard', 1);
        await assert.rejects(catalog.save({ ...yaml[1]!, name: 'Second edit from an old form' }, 'dashboard', 1), (err: unknown) => {
          assert.ok(err instanceof AgentVersionConflict);
          assert.equal(err.currentVersion, 2);
          return true;
        });
        assert.equal(catalog.registry.get('conflict-sales')?.name, 'First edit');
        assert.equal(catalog.registry.versionOf('conflict-sales'), 2);
      } finally {
        await catalog.close();
      }
    });

    test('a phone number already routed to another agent is refused before anything is written', async () => {
      const yaml = fileAgents('clash');
      const catalog = await openCatalog(store, yaml);
      try {
        const taken = yaml[0]!.phoneNumbers![0]!;
        await assert.rejects(catalog.save({ ...yaml[1]!, phoneNumbers: [taken] }, 'dashboard', 1), (err: unknown) => {
          assert.ok(err instanceof AgentConfigError);
          assert.match(err.problems.join('\n'), /is routed to both "clash-front" and "clash-sales"/);
          return true;
        });
        assert.equal((await store.agents.versions('clash-sales')).length, 1);
        assert.equal(catalog.registry.forCalledNumber(taken).id, 'clash-front');
        assert.equal(catalog.registry.versionOf('clash-sales'), 1);
      } finally {
        await catalog.close();
      }
    });

    test('an invalid definition is refused with problems that name the fields', async () => {
      const yaml = fileAgents('invalid');
      const catalog = await openCatalog(store, yaml);
      try {
        const bad = { ...yaml[1]!, turnDetection: { type: 'server_vad', threshold: 2 } } as AgentInput;
        await assert.rejects(catalog.save(bad, 'dashboard'), (err: unknown) => {
          assert.ok(err instanceof AgentValidationError);
          assert.equal(err.agentId, 'invalid-sales');
          assert.match(err.problems[0]!, /^turnDetection\.threshold: /);
          return true;
        });
        assert.equal((await store.agents.versions('invalid-sales')).length, 1);
      } finally {
        await catalog.close();
      }
    });

    test('remove: the default agent is refused; another is gone, and an unchanged agents.yaml does not bring it back', async () => {
      const yaml = fileAgents('remove');
      const catalog = await openCatalog(store, yaml);
      try {
        await assert.rejects(catalog.remove('remove-front'), AgentConfigError);
        assert.equal(await catalog.remove('remove-sales'), true);
        assert.equal(catalog.registry.get('remove-sales'), undefined);
        assert.equal(await store.agents.get('remove-sales'), undefined);
      } finally {
        await catalog.close();
      }
      const again = await openCatalog(store, yaml);
      try {
        assert.equal(again.registry.get('remove-sales'), undefined);
      } finally {
        await again.close();
      }
    });

    test('two Koe processes on one database: a save or removal on one reaches the other\'s registry', async () => {
      const yaml = fileAgents('shared');
      // A second connection, as another process has (PGlite in memory has only one: both share it).
      const otherDb = backend.name === 'postgres' ? await openDatabase({ databaseUrl: database.databaseUrl, dataDir: database.dataDir, log: quietLog }) : db;
      const here = await openCatalog(store, yaml);
      const there = await openCatalog({ db: otherDb, agents: createAgentStore(otherDb) }, yaml);
      try {
        const number = freshNumber();
        const arrived = nextChange(there, (c) => c.id === 'shared-sales' && c.version === 2);
        await here.save({ ...yaml[1]!, name: 'Sales, edited elsewhere', phoneNumbers: [number] }, 'dashboard', 1);
        await arrived;
        assert.equal(there.registry.versionOf('shared-sales'), 2);
        assert.equal(there.registry.forCalledNumber(number).name, 'Sales, edited elsewhere');

        // Stale and malformed notices change nothing; notices are handled in order, so once the next
        // change has arrived these were handled too.
        const seen: AgentChangeNotice[] = [];
        there.subscribe((change) => seen.push(change));
        await db.notify(AGENTS_CHANNEL, JSON.stringify({ id: 'shared-sales', version: 1 }));
        await db.notify(AGENTS_CHANNEL, 'not json');
        const created = nextChange(there, (c) => c.id === 'shared-extra' && c.version === 1);
        await here.save({ id: 'shared-extra', name: 'Extra', instructions: 'Hi.' }, 'api', 0);
        await created;
        assert.equal(there.registry.get('shared-extra')?.name, 'Extra');
        assert.deepEqual(seen, [{ id: 'shared-extra', version: 1 }]);
        assert.equal(there.registry.versionOf('shared-sales'), 2);

        const removed = nextChange(there, (c) => c.id === 'shared-extra' && c.version === null);
        await here.remove('shared-extra');
        await removed;
        assert.equal(there.registry.get('shared-extra'), undefined);
        // The notice of its own save did not make the first process fetch or change anything.
        assert.equal(here.registry.versionOf('shared-sales'), 2);
      } finally {
        await here.close();
        await there.close();
        if (otherDb !== db) await otherDb.close();
      }
    });
  });
}
