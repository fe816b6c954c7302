// The agents calls are answered with, when they are stored: agents.yaml is imported into the database at
// startup, the database is the truth after that, and `registry` follows it in every Koe process.
//
// Edits (dashboard, API) go through `save`, which checks the definition and its phone numbers before
// anything is written, stores a new version, applies it here and announces `{id, version}` on the
// `koe_agents` channel; every process sharing the database reloads that agent from the store, so the
// next call anywhere uses the new version. Calls already running keep the definition they started with.
import { agentSchema } from '../agents/agent.js';
import type { Agent, AgentInput } from '../agents/agent.js';
import { AgentConfigError, AgentRegistry, agentProblems, readAgentsFile } from '../agents/registry.js';
import type { Logger } from '../log/logger.js';
import { AgentValidationError } from './agent-store.js';
import type { AgentRepository } from './agent-store.js';
import type { AgentRecord } from './records.js';
import type { Database } from './store.js';

/** NOTIFY channel of agent changes; payload `{"id": string, "version": number | null}` (null: removed). */
export const AGENTS_CHANNEL = 'koe_agents';

export interface AgentChangeNotice {
  id: string;
  version: number | null;
}

export interface AgentCatalogOptions {
  store: { db: Pick<Database, 'listen' | 'notify'>; agents: AgentRepository };
  /** The agents file as loaded (validated, defaults filled); its default agent is the catalog's default. */
  fileAgents: AgentRegistry | undefined;
  /** The file's definitions as written, to store without defaults filled in. Read from `agentsFile` if not given. */
  fileAgentInputs?: readonly AgentInput[];
  agentsFile?: string;
  /** KOE_DEFAULT_AGENT; else the file's default agent; else the first stored agent. */
  defaultAgentId?: string;
  log: Logger;
}

export class AgentCatalog {
  readonly registry: AgentRegistry;
  readonly #store: AgentCatalogOptions['store'];
  readonly #log: Logger;
  #stopListening: (() => Promise<void>) | undefined;
  /** Reloads run one at a time, in the order their notices came. */
  #reloads: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #listeners = new Set<(change: AgentChangeNotice) => void>();

  /**
   * Imports agents.yaml (only entries that are new or changed since they were last imported: edits made
   * in the dashboard win while the file is unchanged), starts following changes from other processes,
   * then loads every stored agent.
   */
  static async open(opts: AgentCatalogOptions): Promise<AgentCatalog> {
    const { store, log } = opts;
    const file = opts.fileAgentInputs || !opts.agentsFile ? undefined : readAgentsFile(opts.agentsFile);
    const inputs = opts.fileAgentInputs ?? file?.inputs ?? opts.fileAgents?.list() ?? [];
    if (inputs.length > 0) {
      const synced = await store.agents.syncFromYaml(inputs);
      if (synced.created.length > 0) log.info({ agents: synced.created }, 'imported new agents from the agents file');
      if (synced.updated.length > 0) {
        log.info({ agents: synced.updated }, 'agents changed in the agents file since they were last imported: the file\'s version is now current');
      }
    }

    // Listen before loading: a change that lands in between is then reloaded, not missed.
    const early: string[] = [];
    let onPayload = (payload: string): void => void early.push(payload);
    const stopListening = await store.db.listen(AGENTS_CHANNEL, (payload) => onPayload(payload));
    try {
      const records = await store.agents.list();
      const defaultId = opts.defaultAgentId ?? opts.fileAgents?.defaultAgent.id ?? file?.defaultAgent ?? records[0]?.id;
      const catalog = new AgentCatalog(store, log, loadRegistry(records, defaultId, log), stopListening);
      onPayload = (payload) => catalog.#onNotice(payload);
      for (const payload of early) catalog.#onNotice(payload);
      return catalog;
    } catch (err) {
      await stopListening();
      throw err;
    }
  }

  private constructor(store: AgentCatalogOptions['store'], log: Logger, registry: AgentRegistry, stopListening: () => Promise<void>) {
    this.#store = store;
    this.#log = log;
    this.registry = registry;
    this.#stopListening = stopListening;
  }

  /**
   * Stores a new version of an agent (or a new agent) and makes it current everywhere. Throws
   * AgentValidationError (problems name the fields), AgentConfigError when its phone numbers are routed
   * to another agent (nothing is written then), AgentVersionConflict when `expectedVersion` is stale.
   */
  async save(definition: AgentInput, source: AgentRecord['source'], expectedVersion?: number): Promise<AgentRecord> {
    const problems = agentProblems(definition);
    const id = typeof (definition as { id?: unknown } | null)?.id === 'string' ? definition.id : undefined;
    if (problems.length > 0) throw new AgentValidationError(id, problems);
    const agent = agentSchema.parse(definition);
    this.#checkFits(agent);
    const record = await this.#store.agents.save(definition, source, expectedVersion);
    this.#apply(record);
    await this.#announce({ id: record.id, version: record.version });
    return record;
  }

  /** Deletes an agent (its versions stay for the calls that used them). The default agent cannot be removed. */
  async remove(id: string): Promise<boolean> {
    if (id === this.registry.defaultAgent.id) {
      throw new AgentConfigError('agents', [`"${id}" is the default agent and cannot be removed`]);
    }
    const removed = await this.#store.agents.remove(id);
    if (this.registry.remove(id)) this.#changed({ id, version: null });
    if (removed) await this.#announce({ id, version: null });
    return removed;
  }

  /**
   * Calls `listener` after an agent changed in `registry` (saved or removed here or in another process).
   * Returns the function that unsubscribes.
   */
  subscribe(listener: (change: AgentChangeNotice) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops following other processes' changes; resolves once a reload under way has finished. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const stop = this.#stopListening;
    this.#stopListening = undefined;
    await stop?.();
    await this.#reloads;
  }

  /** Throws AgentConfigError if `agent` cannot join the registry as it stands (a phone number taken). */
  #checkFits(agent: Agent): void {
    const others = this.registry.list().filter((a) => a.id !== agent.id);
    // A trial registry: the real one is only touched once the database has the new version.
    new AgentRegistry([...others, agent], this.registry.defaultAgent.id);
  }

  /** Makes `record` current here unless this process already has it or something newer. */
  #apply(record: AgentRecord): void {
    const current = this.registry.versionOf(record.id);
    if (current !== null && current >= record.version) return;
    const parsed = agentSchema.safeParse(record.definition);
    if (!parsed.success) {
      this.#log.error({ agentId: record.id, version: record.version, problems: agentProblems(record.definition) }, 'a stored agent is not valid; calls keep the previous version');
      return;
    }
    try {
      this.registry.put(parsed.data, record.version);
      this.#changed({ id: record.id, version: record.version });
    } catch (err) {
      if (!(err instanceof AgentConfigError)) throw err;
      this.#log.error({ agentId: record.id, version: record.version, problems: err.problems }, 'a stored agent cannot be used; calls keep the previous version');
    }
  }

  async #announce(notice: AgentChangeNotice): Promise<void> {
    try {
      await this.#store.db.notify(AGENTS_CHANNEL, JSON.stringify(notice));
    } catch (err) {
      // The change is stored; other processes pick it up at their next start.
      this.#log.error({ err: (err as Error).message, ...notice }, 'could not tell other Koe processes about an agent change');
    }
  }

  #onNotice(payload: string): void {
    if (this.#closed) return;
    const notice = parseNotice(payload);
    if (!notice) {
      this.#log.warn({ payload: payload.slice(0, 200) }, `ignored a malformed ${AGENTS_CHANNEL} notice`);
      return;
    }
    this.#reloads = this.#reloads.then(() =>
      this.#reload(notice).catch((err: unknown) => {
        this.#log.error({ err: (err as Error).message, agentId: notice.id }, 'could not reload a changed agent; calls keep the previous version');
      }),
    );
  }

  async #reload(notice: AgentChangeNotice): Promise<void> {
    const known = this.registry.versionOf(notice.id);
    // Stale (or this process's own save): nothing newer to fetch.
    if (notice.version !== null && known !== null && known >= notice.version) return;
    // The store says what is current now, whatever order notices arrived in.
    const record = await this.#store.agents.get(notice.id);
    if (this.#closed) return;
    if (record) {
      this.#apply(record);
      return;
    }
    if (!this.registry.get(notice.id)) return;
    if (notice.id === this.registry.defaultAgent.id) {
      this.#log.error({ agentId: notice.id }, 'another Koe process removed this process\'s default agent; keeping it here');
      return;
    }
    this.registry.remove(notice.id);
    this.#changed({ id: notice.id, version: null });
  }

  #changed(change: AgentChangeNotice): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (err) {
        this.#log.error({ err: (err as Error).message }, 'an agent change listener failed');
      }
    }
  }
}

/** The registry of stored agents: the default first, then the rest; unusable ones are logged and left out. */
function loadRegistry(records: readonly AgentRecord[], defaultId: string | undefined, log: Logger): AgentRegistry {
  if (defaultId === undefined) throw new AgentConfigError('agents', ['no agents are stored and no agents file gives any']);
  const parsed = new Map<string, { agent: Agent; version: number }>();
  for (const record of records) {
    const result = agentSchema.safeParse(record.definition);
    if (result.success) parsed.set(record.id, { agent: result.data, version: record.version });
    else log.error({ agentId: record.id, version: record.version, problems: agentProblems(record.definition) }, 'a stored agent is not valid; it is not loaded');
  }
  const fallback = parsed.get(defaultId);
  if (!fallback) throw new AgentConfigError('agents', [`default agent "${defaultId}" is not stored (or not valid)`]);
  const registry = new AgentRegistry([fallback.agent], defaultId);
  registry.put(fallback.agent, fallback.version);
  for (const [id, { agent, version }] of parsed) {
    if (id === defaultId) continue;
    try {
      registry.put(agent, version);
    } catch (err) {
      if (!(err instanceof AgentConfigError)) throw err;
      log.error({ agentId: id, version, problems: err.problems }, 'a stored agent clashes with another; it is not loaded');
    }
  }
  return registry;
}

function parseNotice(payload: string): AgentChangeNotice | undefined {
  try {
    const value = JSON.parse(payload) as { id?: unknown; version?: unknown };
    if (typeof value.id !== 'string') return undefined;
    if (value.version === null || (typeof value.version === 'number' && Number.isInteger(value.version))) {
      return { id: value.id, version: value.version };
    }
  } catch {
    // Falls through: not JSON.
  }
  return undefined;
}
