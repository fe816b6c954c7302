// Koe's storage: open the database, migrate it, and hand out the repositories and the call-event writer.
import type { Logger } from '../log/logger.js';
import { createAgentStore, type AgentRepository } from './agent-store.js';
import { DatabaseCallEventWriter, type StoreMetrics } from './call-event-writer.js';
import { createCallStore, type CallRepository } from './call-store.js';
import { createCampaignStore, type CampaignRepository } from './campaign-store.js';
import { createOutboundCallStore, type OutboundCallStore } from './outbound-call-store.js';
import { openDatabase } from './database.js';
import { createLoginSessionStore } from './login-session-store.js';
import { migrate } from './migrations.js';
import { ProcessHeartbeat } from './process-heartbeat.js';
import type { Database, LoginSessionStore, Store } from './store.js';

export * from './store.js';
export * from './records.js';
export { openDatabase, type OpenDatabaseOptions } from './database.js';
export { DatabaseUnavailableError, StoreDatabaseError, isPermanentDatabaseError } from './database-errors.js';
export { migrate, MIGRATIONS, SchemaTooNewError, type Migration, type MigrationResult } from './migrations.js';
export { AgentValidationError, AgentVersionConflict, definitionHash, type AgentRepository, type AgentSyncResult } from './agent-store.js';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type CallRepository, type MarkAbandonedOptions } from './call-store.js';
export { DatabaseCallEventWriter, MAX_EVENTS_PER_CALL, type CallEventWriterOptions, type StoreMetrics, type WriteKind } from './call-event-writer.js';
export {
  CampaignNotFoundError,
  CampaignStateError,
  CONTACT_OUTCOMES,
  windowMinutes,
  type CampaignAction,
  type CampaignRepository,
  type ClaimedContact,
  type ClaimOptions,
  type ExportedContact,
  type LeaseRecovery,
  type NewContact,
} from './campaign-store.js';
export {
  contactOutcomeFor,
  isMachineAnswer,
  TERMINAL_TWILIO_STATUSES,
  type NewOutboundCall,
  type OutboundCallPlan,
  type OutboundCallStore,
  type StatusUpdateResult,
  type TwilioStatusUpdate,
} from './outbound-call-store.js';
export { backendName, estimateCostUsd, pricesFor, REALTIME_PRICES_USD_PER_1M, ENGINE_BACKEND, OPENAI_BACKEND, type ModelPrices } from './cost.js';

export interface OpenStoreOptions {
  /** PostgreSQL URL (DATABASE_URL); without it the embedded PGlite database in `dataDir` is used. */
  databaseUrl?: string;
  /** PGlite's folder, e.g. ./data/pglite; `memory://` for a throwaway in-memory database. */
  dataDir: string;
  /** See OpenDatabaseOptions.pgliteTemplate (tests). */
  pgliteTemplate?: string;
  /** Where call recordings (`<callId>.wav`) are written. */
  recordingsDir: string;
  /** This process's id for this run (random per start), written into every call it handles. */
  processId: string;
  log: Logger;
  metrics: StoreMetrics;
  /** Call-event writes held while the database is slow or down. Default 10,000. */
  queueLimit?: number;
  /** How often this process proves it is alive. Default 15 s. */
  heartbeatIntervalMs?: number;
  /**
   * After how long without a heartbeat another process's active calls are marked abandoned (PostgreSQL;
   * with PGlite they are marked at startup). Default 60 s.
   */
  abandonAfterMs?: number;
  /** How long close() waits for queued writes when the database is down. Default 10 s. */
  closeTimeoutMs?: number;
}

/** The Store with the concrete repositories (they carry a few methods beyond the contract). */
export interface KoeStore extends Store {
  readonly agents: AgentRepository;
  readonly calls: CallRepository;
  readonly writer: DatabaseCallEventWriter;
  readonly processId: string;
  readonly outbound: OutboundCallStore;
  readonly campaigns: CampaignRepository;
}

export async function openStore(options: OpenStoreOptions): Promise<KoeStore> {
  const log = options.log.child({ module: 'store' });
  const db = await openDatabase({ databaseUrl: options.databaseUrl, dataDir: options.dataDir, pgliteTemplate: options.pgliteTemplate, log });
  try {
    const { applied, version } = await migrate(db);
    if (applied.length > 0) log.info({ applied, version, kind: db.kind }, 'database schema migrated');
    const calls = createCallStore(db, { recordingsDir: options.recordingsDir, processId: options.processId });
    const writer = new DatabaseCallEventWriter({
      db,
      log,
      metrics: options.metrics,
      processId: options.processId,
      queueLimit: options.queueLimit,
    });
    const abandonAfterMs = options.abandonAfterMs ?? 60_000;
    const heartbeat = new ProcessHeartbeat({
      db,
      calls,
      processId: options.processId,
      log,
      intervalMs: options.heartbeatIntervalMs ?? Math.min(15_000, Math.floor(abandonAfterMs / 4)),
      abandonAfterMs,
      startupAbandonAfterMs: db.kind === 'pglite' ? 0 : abandonAfterMs,
    });
    await heartbeat.start();
    return new OpenedStore(db, createAgentStore(db), calls, createLoginSessionStore(db), writer, createOutboundCallStore(db), createCampaignStore(db), heartbeat, options);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}

class OpenedStore implements KoeStore {
  #closing: Promise<void> | undefined;

  constructor(
    readonly db: Database,
    readonly agents: AgentRepository,
    readonly calls: CallRepository,
    readonly loginSessions: LoginSessionStore,
    readonly writer: DatabaseCallEventWriter,
    readonly outbound: OutboundCallStore,
    readonly campaigns: CampaignRepository,
    private readonly heartbeat: ProcessHeartbeat,
    private readonly options: OpenStoreOptions,
  ) {}

  get processId(): string {
    return this.options.processId;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.writer.close(this.options.closeTimeoutMs);
      await this.heartbeat.stop();
      await this.db.close();
    })();
    return this.#closing;
  }
}
