// Shared pieces for the store tests: a synthetic call's events, loggers, metrics, a database wrapper
// that injects faults, and per-backend store setup.
import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import type { CallEvent, CallEventBody, CallInfo, TokenUsage } from '../../../src/call/call-events.js';
import { createLogger, type Logger } from '../../../src/log/logger.js';
import { createMetrics, type KoeMetrics } from '../../../src/metrics/metrics.js';
import { openStore, type Database, type KoeStore, type OpenStoreOptions, type QueryResult } from '../../../src/store/index.js';
import type { TestBackend, TestDatabase } from '../../support/databases.js';

export const quietLog = createLogger({ level: 'silent' });

/** A logger whose lines are kept (parsed) for assertions. */
export function capturingLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { log, lines };
}

export async function metricValue(metrics: KoeMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const values = metric?.values ?? [];
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

export const T0_MS = Date.parse('2025-03-04T05:06:07.000Z');

export function callInfo(overrides: Partial<CallInfo> = {}): CallInfo {
  const callId = overrides.callId ?? `call_${randomUUID()}`;
  return {
    callId,
    callSid: `CA${randomUUID().replace(/-/g, '')}`,
    streamSid: `MZ${randomUUID().replace(/-/g, '')}`,
    accountSid: 'AC00000000000000000000000000000000',
    agentId: 'receptionist',
    agentVersion: 3,
    direction: 'inbound',
    from: '+15551234567',
    to: '+15557654321',
    model: { url: 'wss://api.openai.com/v1/realtime?model=gpt-realtime', model: 'gpt-realtime', shape: 'ga' },
    recording: false,
    ...overrides,
  };
}

/** Builds events of one call with consistent ids and clocks. */
export class CallScript {
  readonly info: CallInfo;
  readonly startedAtMs: number;

  constructor(info: CallInfo = callInfo(), startedAtMs = T0_MS) {
    this.info = info;
    this.startedAtMs = startedAtMs;
  }

  get callId(): string {
    return this.info.callId;
  }

  event(atMs: number, body: CallEventBody): CallEvent {
    return { callId: this.info.callId, callSid: this.info.callSid, atMs, at: new Date(this.startedAtMs + Math.round(atMs)).toISOString(), ...body } as CallEvent;
  }

  started(variables: Record<string, string> = { customerName: 'Aiko' }): CallEvent {
    return this.event(0, { type: 'call.started', call: this.info, variables });
  }

  user(atMs: number, text: string | null, source: 'speech' | 'dtmf' = 'speech'): CallEvent {
    return this.event(atMs, { type: 'turn.user', itemId: `item_u${atMs}`, text, startedAtMs: atMs - 1500, endedAtMs: atMs, source });
  }

  assistant(atMs: number, text: string, options: { heardText?: string; latencyMs?: number | null; greeting?: boolean } = {}): CallEvent {
    const heardText = options.heardText ?? text;
    return this.event(atMs, {
      type: 'turn.assistant',
      itemId: `item_a${atMs}`,
      responseId: `resp_${atMs}`,
      text,
      heardText,
      interrupted: heardText !== text,
      audioMs: 3000,
      heardMs: heardText === text ? 3000 : 1500,
      startedAtMs: atMs - 3000,
      endedAtMs: atMs,
      latencyMs: options.latencyMs ?? null,
      greeting: options.greeting ?? false,
    });
  }

  ended(atMs: number, usage: TokenUsage, reason: 'caller_hung_up' | 'agent_hung_up' = 'caller_hung_up'): CallEvent {
    return this.event(atMs, { type: 'call.ended', reason, durationMs: atMs, usage });
  }
}

export function usage(parts: Partial<TokenUsage>): TokenUsage {
  const u = { inputTextTokens: 0, inputAudioTokens: 0, outputTextTokens: 0, outputAudioTokens: 0, cachedTokens: 0, ...parts };
  return {
    ...u,
    inputTokens: u.inputTextTokens + u.inputAudioTokens,
    outputTokens: u.outputTextTokens + u.outputAudioTokens,
  };
}

const transientError = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/**
 * Wraps a database to fail on demand like a real one would: `down` fails everything; `failAtQuery`
 * fails the n-th statement of the next transaction (mid-batch); `failAfterCommit` commits the next
 * transaction and then reports failure (the connection died before COMMIT's answer arrived).
 */
export class FaultyDatabase implements Database {
  readonly kind: Database['kind'];
  down = false;
  failAtQuery: number | undefined;
  failAfterCommit = false;
  transactions = 0;
  failures = 0;

  constructor(readonly inner: Database) {
    this.kind = inner.kind;
  }

  async query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
    if (this.down) throw this.#fail();
    return this.inner.query<Row>(sql, params);
  }

  async transaction<T>(work: (tx: Pick<Database, 'query'>) => Promise<T>): Promise<T> {
    this.transactions++;
    if (this.down) throw this.#fail();
    const failAt = this.failAtQuery;
    this.failAtQuery = undefined;
    const afterCommit = this.failAfterCommit;
    this.failAfterCommit = false;
    let n = 0;
    const result = await this.inner.transaction((tx) =>
      work({
        query: <Row>(sql: string, params?: readonly unknown[]) => {
          if (++n === failAt) throw this.#fail();
          return tx.query<Row>(sql, params);
        },
      }),
    );
    if (afterCommit) throw this.#fail();
    return result;
  }

  #fail(): Error {
    this.failures++;
    return transientError();
  }

  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    return this.inner.listen(channel, onPayload);
  }

  notify(channel: string, payload: string): Promise<void> {
    return this.inner.notify(channel, payload);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface BackendStore {
  store: KoeStore;
  metrics: KoeMetrics;
  database: TestDatabase;
}

/**
 * Opens one store on `backend` for the enclosing describe() (opened in before, closed and dropped in
 * after): PGlite's in-memory database takes a second to create, so tests in a file share it and keep
 * apart by their own ids.
 */
export function storeForSuite(backend: TestBackend, overrides: Partial<OpenStoreOptions> = {}): () => BackendStore {
  let opened: BackendStore | undefined;
  before(async () => {
    const database = await backend.create();
    const metrics = createMetrics();
    const store = await openStore({
      databaseUrl: database.databaseUrl,
      dataDir: database.dataDir,
      pgliteTemplate: database.pgliteTemplate,
      recordingsDir: '/nonexistent',
      processId: `test-${randomUUID()}`,
      log: quietLog,
      metrics,
      ...overrides,
    });
    opened = { store, metrics, database };
  });
  after(async () => {
    await opened?.store.close();
    await opened?.database.drop();
  });
  return () => {
    if (!opened) throw new Error('the store opens in before()');
    return opened;
  };
}
