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
  {
    version: 2,
    name: 'outbound calls and campaigns',
    sql: `
-- Outbound calls exist from the moment they are dialed ('dialing'), before Twilio returns a call SID.
ALTER TABLE calls ALTER COLUMN call_sid DROP NOT NULL;
ALTER TABLE calls DROP CONSTRAINT calls_status_check;
ALTER TABLE calls ADD CONSTRAINT calls_status_check CHECK (status IN ('dialing', 'active', 'ended', 'abandoned'));
ALTER TABLE calls ADD COLUMN dialed_at timestamptz;
-- Async answering-machine detection verdict (human, machine_start, machine_end_beep, fax, unknown …).
ALTER TABLE calls ADD COLUMN answered_by text;
-- Highest status-callback SequenceNumber applied: callbacks may arrive out of order.
ALTER TABLE calls ADD COLUMN twilio_sequence integer;
ALTER TABLE calls ADD COLUMN twilio_duration_sec integer;
-- Why a call could not be placed or did not connect (Twilio error code and message, or SIP response).
ALTER TABLE calls ADD COLUMN error text;
ALTER TABLE calls ADD COLUMN campaign_id text;
ALTER TABLE calls ADD COLUMN contact_id bigint;
ALTER TABLE calls ADD COLUMN attempt integer;
CREATE INDEX calls_contact_idx ON calls (campaign_id, contact_id) WHERE campaign_id IS NOT NULL;

CREATE TABLE campaigns (
  id                 text PRIMARY KEY,
  name               text NOT NULL,
  agent_id           text NOT NULL,
  from_number        text NOT NULL,
  status             text NOT NULL DEFAULT 'draft'
                     CHECK (status IN ('draft', 'running', 'paused', 'completed', 'canceled')),
  -- Why the campaign is paused when Koe paused it (Twilio refused our credentials …); null when a person did.
  status_reason      text,
  calls_per_second   double precision NOT NULL CHECK (calls_per_second > 0),
  max_concurrent     integer NOT NULL CHECK (max_concurrent > 0),
  -- Calling hours in each contact's time zone (default_timezone when the contact has none):
  -- minutes after local midnight, [start, end); days as ISO weekdays (1 = Monday).
  window_start_min   integer NOT NULL DEFAULT 0 CHECK (window_start_min BETWEEN 0 AND 1439),
  window_end_min     integer NOT NULL DEFAULT 1440 CHECK (window_end_min BETWEEN 1 AND 1440),
  window_days        integer[] NOT NULL DEFAULT '{1,2,3,4,5,6,7}',
  default_timezone   text NOT NULL,
  max_attempts       integer NOT NULL CHECK (max_attempts BETWEEN 1 AND 20),
  retry_delay_ms     integer NOT NULL CHECK (retry_delay_ms >= 0),
  retry_on           text[] NOT NULL,
  machine_detection  boolean NOT NULL DEFAULT false,
  ring_timeout_sec   integer NOT NULL DEFAULT 30,
  -- CPS across processes: the next free dispatch slot, taken under the campaign row's lock.
  next_slot_at       timestamptz NOT NULL DEFAULT now(),
  -- Rows the CSV import refused (line, value, reason), capped; counts are exact.
  import_report      jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at         timestamptz NOT NULL DEFAULT now(),
  started_at         timestamptz,
  finished_at        timestamptz
);
CREATE INDEX campaigns_running_idx ON campaigns (id) WHERE status = 'running';

CREATE TABLE campaign_contacts (
  campaign_id      text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  id               bigint NOT NULL,
  -- Line of the CSV file the contact came from (1 = the header).
  line             integer NOT NULL,
  phone            text NOT NULL,
  timezone         text,
  variables        jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- pending → dialing (claimed, lease held) → calling (Twilio has the call) → pending (retry) or done.
  state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'dialing', 'calling', 'done')),
  outcome          text,
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT '-infinity',
  lease_owner      text,
  lease_expires_at timestamptz,
  last_call_id     text,
  last_error       text,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (campaign_id, id),
  UNIQUE (campaign_id, phone)
);
-- What the dispatcher scans: due contacts, and those in flight (concurrency, expired leases).
CREATE INDEX campaign_contacts_due_idx ON campaign_contacts (campaign_id, next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX campaign_contacts_in_flight_idx ON campaign_contacts (campaign_id, state) WHERE state IN ('dialing', 'calling');
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
