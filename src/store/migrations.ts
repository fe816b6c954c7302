// The schema, as numbered migrations kept in TypeScript so they ship inside dist/ with no files to copy.
// The same SQL runs on PostgreSQL 15+ and on PGlite: no extensions, nothing newer than PostgreSQL 13.
// Never edit a released migration; add the next one.
import type { Database } from './store.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'calls, turns, tool calls, events, agents, login sessions, processes',
    sql: `
CREATE TABLE agents (
  id              text PRIMARY KEY,
  -- 0 only inside the transaction that creates the agent (the row exists first so it can be locked).
  current_version integer NOT NULL DEFAULT 0,
  -- Hash of the agents.yaml entry last applied: startup sync applies the file only when it changed,
  -- so edits made in the dashboard (and deletions) survive restarts.
  yaml_hash       text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz
);

CREATE TABLE agent_versions (
  agent_id   text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  version    integer NOT NULL CHECK (version > 0),
  definition jsonb NOT NULL,
  source     text NOT NULL CHECK (source IN ('agents.yaml', 'dashboard', 'api')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (agent_id, version)
);

CREATE TABLE calls (
  id            text PRIMARY KEY,
  call_sid      text NOT NULL,
  stream_sid    text,
  account_sid   text,
  direction     text NOT NULL,
  from_number   text,
  to_number     text,
  -- No foreign key: calls may use agents that are not stored (inline agents, tests), and history
  -- outlives agents.
  agent_id      text NOT NULL,
  agent_version integer,
  backend       text NOT NULL,
  model         text NOT NULL,
  api_shape     text NOT NULL,
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended', 'abandoned')),
  end_reason    text,
  started_at    timestamptz NOT NULL,
  ended_at      timestamptz,
  duration_ms   integer,
  usage         jsonb,
  cost_usd      double precision,
  has_recording boolean NOT NULL DEFAULT false,
  variables     jsonb NOT NULL DEFAULT '{}'::jsonb,
  twilio_status text,
  process_id    text NOT NULL
);
-- The call list: newest first, optionally per agent or status.
CREATE INDEX calls_started_at_idx ON calls (started_at DESC, id DESC);
CREATE INDEX calls_agent_started_at_idx ON calls (agent_id, started_at DESC);
CREATE INDEX calls_status_started_at_idx ON calls (status, started_at DESC);
CREATE INDEX calls_call_sid_idx ON calls (call_sid);
-- Finding calls left active by processes that died.
CREATE INDEX calls_active_process_idx ON calls (process_id) WHERE status = 'active';

CREATE TABLE turns (
  call_id       text NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  -- Numbered by the writer, so a retried insert hits the same key and is ignored.
  seq           integer NOT NULL CHECK (seq > 0),
  role          text NOT NULL CHECK (role IN ('user', 'assistant')),
  item_id       text NOT NULL,
  response_id   text,
  text          text,
  heard_text    text,
  interrupted   boolean NOT NULL DEFAULT false,
  source        text NOT NULL,
  started_at_ms integer NOT NULL,
  ended_at_ms   integer NOT NULL,
  latency_ms    integer,
  audio_ms      integer,
  heard_ms      integer,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (call_id, seq)
);

CREATE TABLE tool_calls (
  call_id      text NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  tool_call_id text NOT NULL,
  name         text NOT NULL,
  arguments    jsonb,
  ok           boolean,
  output       text,
  duration_ms  integer,
  called_at_ms integer NOT NULL,
  PRIMARY KEY (call_id, tool_call_id)
);

-- Everything a call emitted except partial transcripts and agent states, at most 500 rows per call.
CREATE TABLE call_events (
  call_id text NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
  seq     integer NOT NULL CHECK (seq > 0),
  type    text NOT NULL,
  at_ms   integer NOT NULL,
  at      timestamptz NOT NULL,
  data    jsonb NOT NULL,
  PRIMARY KEY (call_id, seq)
);

CREATE TABLE login_sessions (
  id_hash    text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX login_sessions_expires_at_idx ON login_sessions (expires_at);

-- Koe processes writing to this database, with a heartbeat: active calls of a process whose heartbeat
-- stopped are marked abandoned.
CREATE TABLE koe_processes (
  process_id   text PRIMARY KEY,
  hostname     text NOT NULL,
  pid          integer NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
];

/** Any constant works, as long as every Koe process uses the same one. */
const MIGRATION_LOCK_KEY = 0x4b6f65_01; // "Koe" 01

export class SchemaTooNewError extends Error {
  constructor(
    readonly databaseVersion: number,
    readonly knownVersion: number,
  ) {
    super(
      `the database schema is at version ${databaseVersion}, but this Koe knows only up to ${knownVersion}; ` +
        'a newer Koe migrated it. Upgrade Koe (or point it at another database).',
    );
    this.name = 'SchemaTooNewError';
  }
}

export interface MigrationResult {
  /** Versions applied by this call, in order. */
  applied: number[];
  version: number;
}

/**
 * Brings the schema up to date. Each migration runs in its own transaction holding a transaction-level
 * advisory lock, and re-reads what is applied after taking it, so several processes starting together
 * on one PostgreSQL apply each migration exactly once while the others wait.
 */
export async function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  checkOrder(migrations);
  const known = migrations[migrations.length - 1]?.version ?? 0;
  const applied: number[] = [];
  for (;;) {
    const step = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await tx.query<{ version: number }>('SELECT max(version) AS version FROM schema_migrations');
      const current = rows[0]?.version ?? 0;
      if (current > known) throw new SchemaTooNewError(current, known);
      const next = migrations.find((m) => m.version > current);
      if (!next) return { current, ran: undefined };
      await tx.query(next.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [next.version, next.name]);
      return { current: next.version, ran: next.version };
    });
    if (step.ran === undefined) return { applied, version: step.current };
    applied.push(step.ran);
  }
}

function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${i} has version ${m.version}; versions must be 1, 2, 3, … in order`);
  });
}
