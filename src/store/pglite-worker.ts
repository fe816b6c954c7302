// The worker thread that owns one PGlite instance (see pglite-protocol.ts for why it is a thread).
// Requests are answered in the order PGlite runs them; a transaction stays open across messages
// until the main thread sends `end`, and PGlite's own lock keeps other queries out meanwhile.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { TEXT_PARSERS } from './pg-values.js';
import { errorFields, type FromWorker, type PgliteWorkerData, type ToWorker } from './pglite-protocol.js';

const port = parentPort;
if (!port) throw new Error('pglite-worker.ts runs as a worker thread');
const { dataDir, template } = workerData as PgliteWorkerData;

interface OpenTransaction {
  tx: Transaction;
  finish: (commit: boolean) => void;
  done: Promise<void>;
}

const ROLLBACK = Symbol('rollback');
const transactions = new Map<number, OpenTransaction>();
const unlisteners = new Map<string, () => Promise<void>>();
let nextTxId = 1;

function post(message: FromWorker): void {
  port!.postMessage(message);
}

interface Runner {
  query: Transaction['query'];
  exec: Transaction['exec'];
}

async function run(db: Runner, sql: string, params: unknown[] | undefined): Promise<{ rows: Record<string, unknown>[]; affectedRows: number }> {
  // Without parameters both backends use the simple protocol, which allows several statements (migrations).
  if (!params || params.length === 0) {
    const results = await db.exec(sql);
    const last = results[results.length - 1];
    const affectedRows = results.reduce((sum, r) => sum + (r.affectedRows ?? 0), 0);
    return { rows: (last?.rows ?? []) as Record<string, unknown>[], affectedRows };
  }
  const result = await db.query<Record<string, unknown>>(sql, params.map((p) => (p === undefined ? null : p)));
  return { rows: result.rows, affectedRows: result.affectedRows ?? 0 };
}

async function begin(pg: PGlite, id: number): Promise<void> {
  const txId = nextTxId++;
  let finish!: (commit: boolean) => void;
  const decided = new Promise<boolean>((resolve) => (finish = resolve));
  let entered = false;
  const done = pg
    .transaction(async (tx) => {
      entered = true;
      transactions.set(txId, { tx, finish, done });
      post({ type: 'result', id, rows: [], affectedRows: 0, txId });
      if (!(await decided)) throw ROLLBACK;
    })
    .then(
      () => undefined,
      (err: unknown) => {
        if (err === ROLLBACK) return;
        if (!entered) post({ type: 'error', id, error: errorFields(err) });
        throw err;
      },
    );
  // Failures before the callback ran were answered above; later ones are reported by `end`.
  done.catch(() => undefined);
}

async function end(id: number, txId: number, commit: boolean): Promise<void> {
  const open = transactions.get(txId);
  if (!open) {
    post({ type: 'error', id, error: { message: `no open transaction ${txId}` } });
    return;
  }
  transactions.delete(txId);
  open.finish(commit);
  try {
    await open.done;
    post({ type: 'result', id, rows: [], affectedRows: 0 });
  } catch (err) {
    post({ type: 'error', id, error: errorFields(err) });
  }
}

async function handle(pg: PGlite, message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'query': {
      const runner: Runner = message.txId === undefined ? pg : transactions.get(message.txId)?.tx ?? missingTransaction(message.txId);
      const result = await run(runner, message.sql, message.params);
      post({ type: 'result', id: message.id, ...result });
      return;
    }
    case 'begin':
      return begin(pg, message.id);
    case 'end':
      return end(message.id, message.txId, message.commit);
    case 'listen': {
      if (!unlisteners.has(message.channel)) {
        const channel = message.channel;
        unlisteners.set(channel, await pg.listen(channel, (payload) => post({ type: 'notification', channel, payload })));
      }
      post({ type: 'result', id: message.id, rows: [], affectedRows: 0 });
      return;
    }
    case 'unlisten': {
      const stop = unlisteners.get(message.channel);
      unlisteners.delete(message.channel);
      if (stop) await stop();
      post({ type: 'result', id: message.id, rows: [], affectedRows: 0 });
      return;
    }
    case 'close':
      for (const open of transactions.values()) open.finish(false);
      await Promise.allSettled([...transactions.values()].map((t) => t.done));
      await pg.close();
      post({ type: 'result', id: message.id, rows: [], affectedRows: 0 });
      port!.close();
      return;
  }
}

function missingTransaction(txId: number): never {
  throw new Error(`no open transaction ${txId}`);
}

async function main(): Promise<void> {
  let pg: PGlite;
  try {
    const loadDataDir = template ? new Blob([readFileSync(template)]) : undefined;
    pg = await PGlite.create({ dataDir, loadDataDir, parsers: TEXT_PARSERS });
  } catch (err) {
    post({ type: 'init_failed', error: errorFields(err) });
    port!.close();
    return;
  }
  port!.on('message', (message: ToWorker) => {
    handle(pg, message).catch((err: unknown) => post({ type: 'error', id: message.id, error: errorFields(err) }));
  });
  post({ type: 'ready' });
}

await main();
