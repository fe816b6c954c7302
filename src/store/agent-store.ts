// Agents with their full version history. Every save is a new version; deletion is soft, so calls that
// used an agent can still show the definition they ran with.
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { agentSchema, type AgentInput } from '../agents/agent.js';
import type { AgentRecord, AgentVersionSummary } from './records.js';
import type { AgentStore, Database } from './store.js';
import { jsonText } from './pg-values.js';

export class AgentValidationError extends Error {
  constructor(
    readonly agentId: string | undefined,
    /** One line per problem: `turnDetection.threshold: Too big: expected number to be <=1`. */
    readonly problems: string[],
  ) {
    super(`Invalid agent${agentId ? ` "${agentId}"` : ''}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AgentValidationError';
  }
}

export class AgentVersionConflict extends Error {
  constructor(
    readonly agentId: string,
    readonly expectedVersion: number,
    /** 0 when the agent does not exist (or was deleted). */
    readonly currentVersion: number,
  ) {
    super(
      currentVersion === 0
        ? `agent "${agentId}" was expected at version ${expectedVersion} but does not exist (deleted?)`
        : `agent "${agentId}" was changed meanwhile: expected version ${expectedVersion}, it is at ${currentVersion}`,
    );
    this.name = 'AgentVersionConflict';
  }
}

export interface AgentSyncResult {
  created: string[];
  updated: string[];
  /** Unchanged in the file since the last sync: left as they are, dashboard edits and deletions included. */
  unchanged: string[];
}

/** AgentStore plus the startup sync from agents.yaml. */
export interface AgentRepository extends AgentStore {
  /**
   * Applies agents.yaml: an agent whose entry changed since it was last applied (or that is new) gets a
   * new version from the file; one whose entry is unchanged is left alone, so edits and deletions made
   * in the dashboard survive restarts. Agents missing from the file are not touched.
   */
  syncFromYaml(definitions: readonly AgentInput[]): Promise<AgentSyncResult>;
}

interface AgentRow {
  id: string;
  version: number;
  definition: AgentInput;
  agent_created_at: string;
  version_created_at: string;
  source: AgentRecord['source'];
}

const SELECT_AGENT = `
  SELECT a.id, v.version, v.definition, a.created_at AS agent_created_at, v.created_at AS version_created_at, v.source
  FROM agents a JOIN agent_versions v ON v.agent_id = a.id`;

export function createAgentStore(db: Database): AgentRepository {
  async function save(
    definition: AgentInput,
    source: AgentRecord['source'],
    expectedVersion?: number,
    yamlHash?: string,
  ): Promise<AgentRecord> {
    validate(definition);
    if (expectedVersion !== undefined && !(Number.isInteger(expectedVersion) && expectedVersion >= 0)) {
      throw new RangeError(`expectedVersion must be a whole number ≥ 0 (0: the agent must not exist yet), got ${expectedVersion}`);
    }
    const id = definition.id;
    return db.transaction(async (tx) => {
      // Create-then-lock: the row exists before anyone reads it, so two concurrent first saves serialize on it.
      await tx.query('INSERT INTO agents (id) VALUES ($1) ON CONFLICT (id) DO NOTHING', [id]);
      const { rows } = await tx.query<{ current_version: number; deleted: boolean }>(
        'SELECT current_version, deleted_at IS NOT NULL AS deleted FROM agents WHERE id = $1 FOR UPDATE',
        [id],
      );
      const row = rows[0];
      if (!row) throw new Error(`agent "${id}" vanished while being saved`);
      const live = row.current_version > 0 && !row.deleted;
      const liveVersion = live ? row.current_version : 0;
      if (expectedVersion !== undefined && expectedVersion !== liveVersion) throw new AgentVersionConflict(id, expectedVersion, liveVersion);
      // A deleted agent saved again continues its numbering, so old calls' versions stay unambiguous.
      const version = row.current_version + 1;
      await tx.query('INSERT INTO agent_versions (agent_id, version, definition, source) VALUES ($1, $2, $3::jsonb, $4)', [
        id,
        version,
        jsonText(definition),
        source,
      ]);
      await tx.query(
        'UPDATE agents SET current_version = $2, updated_at = now(), deleted_at = NULL, yaml_hash = COALESCE($3, yaml_hash) WHERE id = $1',
        [id, version, yamlHash ?? null],
      );
      const saved = await tx.query<AgentRow>(`${SELECT_AGENT} WHERE a.id = $1 AND v.version = $2`, [id, version]);
      return toRecord(saved.rows[0]!);
    });
  }

  return {
    async list() {
      const { rows } = await db.query<AgentRow>(`${SELECT_AGENT} AND v.version = a.current_version WHERE a.deleted_at IS NULL ORDER BY a.id`);
      return rows.map(toRecord);
    },

    async get(id) {
      const { rows } = await db.query<AgentRow>(`${SELECT_AGENT} AND v.version = a.current_version WHERE a.id = $1 AND a.deleted_at IS NULL`, [id]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    async getVersion(id, version) {
      if (!Number.isInteger(version)) return undefined;
      // Deleted agents included: a past call shows the definition it ran with.
      const { rows } = await db.query<AgentRow>(`${SELECT_AGENT} WHERE a.id = $1 AND v.version = $2`, [id, version]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },

    async versions(id) {
      const { rows } = await db.query<{ version: number; created_at: string; source: AgentVersionSummary['source'] }>(
        'SELECT version, created_at, source FROM agent_versions WHERE agent_id = $1 ORDER BY version DESC',
        [id],
      );
      return rows.map((r) => ({ version: r.version, createdAt: r.created_at, source: r.source }));
    },

    save: (definition, source, expectedVersion) => save(definition, source, expectedVersion),

    async remove(id) {
      const { affectedRows } = await db.query(
        'UPDATE agents SET deleted_at = now(), updated_at = now() WHERE id = $1 AND deleted_at IS NULL AND current_version > 0',
        [id],
      );
      return affectedRows > 0;
    },

    async syncFromYaml(definitions) {
      const result: AgentSyncResult = { created: [], updated: [], unchanged: [] };
      for (const definition of definitions) validate(definition);
      for (const definition of definitions) {
        const hash = definitionHash(definition);
        const { rows } = await db.query<{ yaml_hash: string | null; current_version: number }>(
          'SELECT yaml_hash, current_version FROM agents WHERE id = $1',
          [definition.id],
        );
        const row = rows[0];
        if (row && row.current_version > 0 && row.yaml_hash === hash) {
          result.unchanged.push(definition.id);
          continue;
        }
        await save(definition, 'agents.yaml', undefined, hash);
        (row && row.current_version > 0 ? result.updated : result.created).push(definition.id);
      }
      return result;
    },
  };
}

function validate(definition: AgentInput): void {
  const parsed = agentSchema.safeParse(definition);
  if (!parsed.success) {
    const id = typeof (definition as { id?: unknown } | null)?.id === 'string' ? (definition as { id: string }).id : undefined;
    throw new AgentValidationError(id, formatIssues(parsed.error.issues));
  }
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
    return `${path || '(root)'}: ${issue.message}`;
  });
}

/** Stable across key order, so reformatting agents.yaml does not count as a change. */
export function definitionHash(definition: AgentInput): string {
  return createHash('sha256').update(stableJson(definition)).digest('hex');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function toRecord(row: AgentRow): AgentRecord {
  return {
    id: row.id,
    version: row.version,
    definition: row.definition,
    createdAt: row.agent_created_at,
    updatedAt: row.version_created_at,
    source: row.source,
  };
}
