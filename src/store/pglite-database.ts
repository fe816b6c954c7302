// The embedded database: PGlite (PostgreSQL compiled to WebAssembly) in a worker thread, data in a
// folder. Durability: PGlite's Node filesystem writes through to real files, and PostgreSQL writes the
// WAL at every commit, so a committed transaction is in the operating system's page cache when the
// query resolves and survives the process being killed (`kill -9`); PGlite runs PostgreSQL with fsync
// off, so it does not survive the machine losing power. test/integration/store-crash.test.ts proves it.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker, workerEntry } from '../workers/module-worker.js';
import type { Logger } from '../log/logger.js';
import type { Database, QueryResult } from './store.js';
import { checkChannel, checkNotifyPayload, DatabaseUnavailableError, StoreDatabaseError } from './database-errors.js';
import type { FromWorker, PgliteWorkerData, ToWorker } from './pglite-protocol.js';

const READY_TIMEOUT_MS = 60_000;

interface Pending {
  resolve: (result: { rows: Record<string, unknown>[]; affectedRows: number; txId?: number }) => void;
  reject: (err: Error) => void;
}

export async function openPgliteDatabase(dataDir: string | undefined, log?: Logger, template?: string): Promise<Database> {
  const inMemory = dataDir === undefined || dataDir.startsWith('memory://');
  const dir = inMemory ? undefined : resolve(dataDir);
  if (template && dir) throw new TypeError('a PGlite template can only start an in-memory database');
  let releaseLock = (): void => undefined;
  if (dir) {
    mkdirSync(dirname(dir), { recursive: true });
    releaseLock = lockDataDir(dir, log);
  }
  try {
    const worker = spawnWorker({ dataDir: dir, template });
    const db = new PgliteDatabase(worker, dir ?? 'memory://', releaseLock, log);
    await db.ready;
    return db;
  } catch (err) {
    releaseLock();
    throw err;
  }
}

class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  readonly ready: Promise<void>;
  readonly #worker: Worker;
  readonly #where: string;
  readonly #releaseLock: () => void;
  readonly #log: Logger | undefined;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Map<string, Set<(payload: string) => void>>();
  #nextId = 1;
  #failure: Error | undefined;
  #closing: Promise<void> | undefined;

  constructor(worker: Worker, where: string, releaseLock: () => void, log: Logger | undefined) {
    this.#worker = worker;
    this.#where = where;
    this.#releaseLock = releaseLock;
    this.#log = log;
    this.ready = new Promise<void>((resolveReady, rejectReady) => {
      const timer = setTimeout(() => {
        rejectReady(new DatabaseUnavailableError(`PGlite at ${where} did not start within ${READY_TIMEOUT_MS / 1000} s`));
        void worker.terminate();
      }, READY_TIMEOUT_MS);
      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'ready':
            clearTimeout(timer);
            worker.unref();
            resolveReady();
            return;
          case 'init_failed':
            clearTimeout(timer);
            rejectReady(new DatabaseUnavailableError(`cannot open PGlite at ${where}: ${message.error.message}`));
            return;
          case 'notification':
            for (const listener of this.#listeners.get(message.channel) ?? []) {
              try {
                listener(message.payload);
              } catch (err) {
                this.#log?.error({ err, channel: message.channel }, 'a database notification listener threw');
              }
            }
            return;
          case 'result':
          case 'error': {
            const pending = this.#pending.get(message.id);
            if (!pending) return;
            this.#pending.delete(message.id);
            if (this.#pending.size === 0) worker.unref();
            if (message.type === 'result') pending.resolve(message);
            else pending.reject(new StoreDatabaseError(message.error));
            return;
          }
        }
      });
      worker.on('error', (err) => {
        clearTimeout(timer);
        this.#fail(new DatabaseUnavailableError(`the PGlite worker for ${where} failed: ${err.message}`, { cause: err }));
        rejectReady(this.#failure);
      });
      worker.on('exit', (code) => {
        clearTimeout(timer);
        if (!this.#closing) this.#fail(new DatabaseUnavailableError(`the PGlite worker for ${where} exited (code ${code})`));
        rejectReady(this.#failure ?? new DatabaseUnavailableError(`PGlite at ${where} closed`));
      });
    });
  }

  #fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    this.#log?.error({ err, where: this.#where }, 'the embedded database stopped');
    for (const pending of this.#pending.values()) pending.reject(err);
    this.#pending.clear();
  }

  #request(message: DistributiveOmit<ToWorker, 'id'>): Promise<{ rows: Record<string, unknown>[]; affectedRows: number; txId?: number }> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closing && message.type !== 'close') return Promise.reject(new DatabaseUnavailableError(`PGlite at ${this.#where} is closed`));
    const id = this.#nextId++;
    return new Promise((resolveRequest, rejectRequest) => {
      this.#pending.set(id, { resolve: resolveRequest, reject: rejectRequest });
      // A pending answer keeps the process alive, an idle database does not.
      this.#worker.ref();
      this.#worker.postMessage({ ...message, id } as ToWorker);
    });
  }

  async query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
    const result = await this.#request({ type: 'query', sql, params: params ? [...params] : undefined, txId: undefined });
    return { rows: result.rows as Row[], affectedRows: result.affectedRows };
  }

  async transaction<T>(work: (tx: Pick<Database, 'query'>) => Promise<T>): Promise<T> {
    const { txId } = await this.#request({ type: 'begin' });
    if (txId === undefined) throw new Error('the PGlite worker opened a transaction without an id');
    let open = true;
    const tx: Pick<Database, 'query'> = {
      query: async <Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> => {
        if (!open) throw new Error('this transaction is over; queries must run inside its callback');
        const result = await this.#request({ type: 'query', sql, params: params ? [...params] : undefined, txId });
        return { rows: result.rows as Row[], affectedRows: result.affectedRows };
      },
    };
    let value: T;
    try {
      value = await work(tx);
    } catch (err) {
      open = false;
      await this.#request({ type: 'end', txId, commit: false }).catch(() => undefined);
      throw err;
    }
    open = false;
    await this.#request({ type: 'end', txId, commit: true });
    return value;
  }

  async listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>> {
    checkChannel(channel);
    let set = this.#listeners.get(channel);
    if (!set) {
      set = new Set();
      this.#listeners.set(channel, set);
      try {
        await this.#request({ type: 'listen', channel });
      } catch (err) {
        this.#listeners.delete(channel);
        throw err;
      }
    }
    // A distinct wrapper per call, so the same function listening twice is removed once per unlisten.
    const listener = (payload: string): void => onPayload(payload);
    set.add(listener);
    return async () => {
      const current = this.#listeners.get(channel);
      if (!current?.delete(listener) || current.size > 0) return;
      this.#listeners.delete(channel);
      if (!this.#closing && !this.#failure) await this.#request({ type: 'unlisten', channel });
    };
  }

  async notify(channel: string, payload: string): Promise<void> {
    checkChannel(channel);
    checkNotifyPayload(payload);
    await this.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        if (!this.#failure) await this.#request({ type: 'close' });
      } finally {
        this.#listeners.clear();
        await this.#worker.terminate();
        this.#releaseLock();
      }
    })();
    return this.#closing;
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The worker module beside this file (see workers/module-worker.ts for running from sources or dist/). */
function spawnWorker(data: PgliteWorkerData): Worker {
  return startModuleWorker(workerEntry(import.meta.url, 'pglite-worker'), data);
}

/**
 * Two processes on one PGlite folder would corrupt it (PGlite has no postmaster to refuse the second), so
 * a lock file beside the folder names the owner. A lock left by a process that is gone (killed, crashed)
 * is taken over; so is one from another host, which cannot be checked and most likely is this machine
 * under an old name (a container restarted with the same volume).
 */
const lockedByThisProcess = new Set<string>();

function lockDataDir(dir: string, log?: Logger): () => void {
  const lockPath = `${dir}.lock`;
  if (lockedByThisProcess.has(dir)) throw new DatabaseUnavailableError(`the embedded database ${dir} is already open in this process`);
  const mine = JSON.stringify({ pid: process.pid, hostname: hostname() });
  try {
    writeFileSync(lockPath, mine, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    let owner: { pid?: unknown; hostname?: unknown } = {};
    try {
      owner = JSON.parse(readFileSync(lockPath, 'utf8')) as typeof owner;
    } catch {
      // unreadable: treat as stale
    }
    if (owner.hostname === hostname() && typeof owner.pid === 'number' && owner.pid !== process.pid && processAlive(owner.pid)) {
      throw new DatabaseUnavailableError(
        `the embedded database ${dir} is in use by another Koe process (pid ${owner.pid}); stop it, or use DATABASE_URL ` +
          `to share a PostgreSQL server between processes (delete ${lockPath} if that process is not Koe)`,
      );
    }
    if (owner.hostname !== hostname()) log?.warn({ lockPath, owner }, 'taking over an embedded database lock left by another host');
    writeFileSync(lockPath, mine);
  }
  lockedByThisProcess.add(dir);
  return () => {
    lockedByThisProcess.delete(dir);
    try {
      if (readFileSync(lockPath, 'utf8') === mine) rmSync(lockPath, { force: true });
    } catch {
      // already gone
    }
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
