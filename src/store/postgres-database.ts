// PostgreSQL through node-postgres: a pool for queries and transactions, plus one dedicated connection
// for LISTEN (a pooled connection would be handed to other queries and lose its subscriptions). That
// connection reconnects with backoff when it drops and subscribes again; notifications sent while it
// was down are lost, as PostgreSQL does not queue them for absent listeners.
import pg from 'pg';
import type { Logger } from '../log/logger.js';
import type { Database, QueryResult } from './store.js';
import {
  checkChannel,
  checkNotifyPayload,
  DatabaseUnavailableError,
  redactDatabaseUrl,
} from './database-errors.js';
import { TEXT_PARSERS } from './pg-values.js';

const POOL_SIZE = 10;
const CONNECT_TIMEOUT_MS = 5_000;
const LISTEN_BACKOFF_FIRST_MS = 100;
const LISTEN_BACKOFF_MAX_MS = 5_000;

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    (format ?? 'text') === 'text' && TEXT_PARSERS[oid] ? TEXT_PARSERS[oid] : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export async function openPostgresDatabase(url: string, log?: Logger): Promise<Database> {
  const config: pg.PoolConfig = {
    connectionString: url,
    types,
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'koe',
  };
  const db = new PostgresDatabase(config, redactDatabaseUrl(url), log);
  let dateStyle: string | undefined;
  try {
    dateStyle = (await db.query<{ DateStyle: string }>('SHOW DateStyle')).rows[0]?.DateStyle;
  } catch (err) {
    await db.close();
    throw new DatabaseUnavailableError(`cannot connect to PostgreSQL at ${redactDatabaseUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  // Timestamps are parsed from their ISO text form. ISO is PostgreSQL's default; a server configured
  // otherwise would hand back unparseable dates, so it is refused up front rather than misread.
  if (!dateStyle?.startsWith('ISO')) {
    await db.close();
    throw new Error(
      `PostgreSQL at ${redactDatabaseUrl(url)} uses DateStyle ${JSON.stringify(dateStyle)}; Koe needs ISO ` +
        `(ALTER DATABASE <name> SET DateStyle = 'ISO, MDY', then reconnect)`,
    );
  }
  return db;
}

class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #config: pg.PoolConfig;
  readonly #where: string;
  readonly #log: Logger | undefined;
  readonly #listeners = new Map<string, Set<(payload: string) => void>>();
  #listenClient: pg.Client | undefined;
  #connecting: Promise<pg.Client> | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #reconnectAttempt = 0;
  #closed = false;

  constructor(config: pg.PoolConfig, where: string, log: Logger | undefined) {
    this.#config = config;
    this.#where = where;
    this.#log = log;
    this.#pool = new pg.Pool(config);
    // An idle pooled connection that drops emits 'error'; unhandled, it would crash the process.
    this.#pool.on('error', (err) => this.#log?.warn({ err, where }, 'an idle PostgreSQL connection failed'));
  }

  async query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
    const result = await this.#pool.query(sql, params ? normalizeParams(params) : undefined);
    return toResult<Row>(result);
  }

  async transaction<T>(work: (tx: Pick<Database, 'query'>) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    let open = true;
    try {
      await client.query('BEGIN');
      const tx: Pick<Database, 'query'> = {
        query: async <Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> => {
          if (!open) throw new Error('this transaction is over; queries must run inside its callback');
          return toResult<Row>(await client.query(sql, params ? normalizeParams(params) : undefined));
        },
      };
      let value: T;
      try {
        value = await work(tx);
      } catch (err) {
        open = false;
        await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
          broken = rollbackErr as Error;
        });
        throw err;
      }
      open = false;
      await client.query('COMMIT');
      return value;
    } catch (err) {
      // A connection that failed mid-transaction is not reusable; the pool replaces it.
      if (!isServerError(err)) broken ??= err as Error;
      throw err;
    } finally {
      open = false;
      client.release(broken);
    }
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    checkChannel(channel);
    let set = this.#listeners.get(channel);
    const listener = (payload: string): void => onPayload(payload);
    if (!set) {
      set = new Set([listener]);
      this.#listeners.set(channel, set);
      try {
        const client = await this.#listenConnection();
        await client.query(`LISTEN ${channel}`);
      } catch (err) {
        if (this.#listeners.get(channel) === set) this.#listeners.delete(channel);
        throw err;
      }
    } else {
      set.add(listener);
    }
    return async () => {
      const current = this.#listeners.get(channel);
      if (!current?.delete(listener) || current.size > 0) return;
      this.#listeners.delete(channel);
      if (this.#listenClient && !this.#closed) await this.#listenClient.query(`UNLISTEN ${channel}`).catch(() => undefined);
    };
  }

  async notify(channel: string, payload: string): Promise<void> {
    checkChannel(channel);
    checkNotifyPayload(payload);
    await this.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    this.#listeners.clear();
    const client = this.#listenClient;
    this.#listenClient = undefined;
    await Promise.allSettled([client?.end(), this.#pool.end()]);
  }

  /** The LISTEN connection, connecting it when needed. */
  #listenConnection(): Promise<pg.Client> {
    if (this.#closed) return Promise.reject(new DatabaseUnavailableError('the database is closed'));
    if (this.#listenClient) return Promise.resolve(this.#listenClient);
    this.#connecting ??= (async () => {
      const client = new pg.Client({ ...this.#config, keepAlive: true });
      client.on('notification', (message) => this.#deliver(message.channel, message.payload ?? ''));
      client.on('error', (err) => this.#listenConnectionLost(client, err));
      client.on('end', () => this.#listenConnectionLost(client, undefined));
      try {
        await client.connect();
      } catch (err) {
        client.removeAllListeners('end');
        await client.end().catch(() => undefined);
        throw err;
      }
      if (this.#closed) {
        await client.end().catch(() => undefined);
        throw new DatabaseUnavailableError('the database is closed');
      }
      this.#listenClient = client;
      this.#reconnectAttempt = 0;
      return client;
    })().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  #deliver(channel: string, payload: string): void {
    for (const listener of this.#listeners.get(channel) ?? []) {
      try {
        listener(payload);
      } catch (err) {
        this.#log?.error({ err, channel }, 'a database notification listener threw');
      }
    }
  }

  #listenConnectionLost(client: pg.Client, err: Error | undefined): void {
    if (this.#listenClient !== client) return;
    this.#listenClient = undefined;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    if (this.#closed) return;
    this.#log?.warn({ err, where: this.#where }, 'the PostgreSQL LISTEN connection dropped; reconnecting');
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer || this.#listeners.size === 0) return;
    const delayMs = Math.min(LISTEN_BACKOFF_MAX_MS, LISTEN_BACKOFF_FIRST_MS * 2 ** this.#reconnectAttempt);
    this.#reconnectAttempt++;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#resubscribe().catch((err: unknown) => {
        this.#log?.debug({ err, where: this.#where }, 'LISTEN reconnect failed; will retry');
        this.#scheduleReconnect();
      });
    }, delayMs);
    this.#reconnectTimer.unref();
  }

  async #resubscribe(): Promise<void> {
    const client = await this.#listenConnection();
    for (const channel of this.#listeners.keys()) await client.query(`LISTEN ${channel}`);
    this.#log?.info({ where: this.#where, channels: [...this.#listeners.keys()] }, 'PostgreSQL LISTEN connection restored');
  }
}

function toResult<Row>(result: pg.QueryResult | pg.QueryResult[]): QueryResult<Row> {
  // Several statements without parameters answer with one result each; the last one is the answer.
  const results = Array.isArray(result) ? result : [result];
  const last = results[results.length - 1];
  const affectedRows = results.reduce((sum, r) => sum + (r.command === 'SELECT' ? 0 : (r.rowCount ?? 0)), 0);
  return { rows: (last?.rows ?? []) as Row[], affectedRows };
}

/** undefined → null, as PGlite does; node-postgres would send undefined as null too but says so nowhere. */
function normalizeParams(params: readonly unknown[]): unknown[] {
  return params.map((p) => (p === undefined ? null : p));
}

/** An error PostgreSQL answered with (the connection is fine) rather than a broken connection. */
function isServerError(err: unknown): boolean {
  return err instanceof Error && typeof (err as { severity?: unknown }).severity === 'string';
}
