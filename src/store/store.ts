// The contract between Koe and its database. One PostgreSQL dialect for both backends: PGlite (embedded,
// a folder on disk, the default) and PostgreSQL (DATABASE_URL). Implementations live beside this file.
import type { CallEvent } from '../call/call-events.js';
import type {
  AgentRecord,
  AgentVersionSummary,
  CallDetail,
  CallListQuery,
  CallRecord,
  Page,
} from './records.js';
import type { AgentInput } from '../agents/agent.js';
import type { CampaignRepository } from './campaign-store.js';
import type { OutboundCallStore } from './outbound-call-store.js';

export interface QueryResult<Row> {
  rows: Row[];
  affectedRows: number;
}

/** The SQL connection both backends provide. Parameters are `$1, $2, …`. */
export interface Database {
  readonly kind: 'pglite' | 'postgres';
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** Runs `work` in one transaction on one connection; rolls back if it throws. */
  transaction<T>(work: (tx: Pick<Database, 'query'>) => Promise<T>): Promise<T>;
  /** LISTEN on a channel; resolves once listening. The returned function stops listening. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** NOTIFY (payload ≤ 7,900 bytes). */
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

export interface AgentStore {
  /** Every live (not deleted) agent at its current version. */
  list(): Promise<AgentRecord[]>;
  get(id: string): Promise<AgentRecord | undefined>;
  getVersion(id: string, version: number): Promise<AgentRecord | undefined>;
  versions(id: string): Promise<AgentVersionSummary[]>;
  /**
   * Creates the agent or a new version of it. `expectedVersion` (optimistic locking) makes a stale edit fail
   * with AgentVersionConflict instead of overwriting someone else's change.
   */
  save(definition: AgentInput, source: AgentRecord['source'], expectedVersion?: number): Promise<AgentRecord>;
  remove(id: string): Promise<boolean>;
}

/** Written as calls happen; reads for the dashboard and API. */
export interface CallStore {
  list(query: CallListQuery): Promise<Page<CallRecord>>;
  get(id: string): Promise<CallDetail | undefined>;
  getByCallSid(callSid: string): Promise<CallRecord | undefined>;
  /** Absolute path of the call's recording file, if any. */
  recordingPath(id: string): Promise<string | undefined>;
  /** A Twilio status callback: updates twilioStatus of every record with this call SID. */
  setTwilioStatus(callSid: string, status: string): Promise<void>;
}

export interface LoginSessionStore {
  create(idHash: string, expiresAt: Date): Promise<void>;
  /** True when the session exists and has not expired (and extends nothing: expiry is fixed). */
  valid(idHash: string, now: Date): Promise<boolean>;
  remove(idHash: string): Promise<void>;
}

/**
 * Takes call events and writes them without ever blocking the caller: a bounded queue, batched, retried
 * with backoff while the database is slow or down; drops (oldest events first, turns last) are counted
 * in koe_store_dropped_writes_total and logged.
 */
export interface CallEventWriter {
  write(event: CallEvent): void;
  /** Resolves when everything queued so far is written (or dropped). */
  flush(): Promise<void>;
  readonly queuedWrites: number;
}

export interface Store {
  readonly db: Database;
  readonly agents: AgentStore;
  readonly calls: CallStore;
  readonly loginSessions: LoginSessionStore;
  readonly writer: CallEventWriter;
  /** Outbound call records from dialing, status callbacks, AMD verdicts. */
  readonly outbound: OutboundCallStore;
  readonly campaigns: CampaignRepository;
  /** Flushes the writer and closes the database. */
  close(): Promise<void>;
}
