// Messages between PgliteDatabase (the event loop that carries calls) and the worker thread that owns
// the PGlite instance. PGlite executes SQL synchronously inside WebAssembly, so on the main thread every
// statement would stall live audio; in a worker it costs the calls nothing.
import type { DatabaseErrorFields } from './database-errors.js';

export interface PgliteWorkerData {
  /** Undefined for an in-memory database. */
  dataDir: string | undefined;
  /** A dumpDataDir tarball to start an in-memory database from. */
  template: string | undefined;
}

export type ToWorker =
  | { type: 'query'; id: number; sql: string; params: unknown[] | undefined; txId: number | undefined }
  | { type: 'begin'; id: number }
  | { type: 'end'; id: number; txId: number; commit: boolean }
  | { type: 'listen'; id: number; channel: string }
  | { type: 'unlisten'; id: number; channel: string }
  | { type: 'close'; id: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'init_failed'; error: DatabaseErrorFields }
  | { type: 'result'; id: number; rows: Record<string, unknown>[]; affectedRows: number; txId?: number }
  | { type: 'error'; id: number; error: DatabaseErrorFields }
  | { type: 'notification'; channel: string; payload: string };

export function errorFields(err: unknown): DatabaseErrorFields {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & Partial<Record<keyof DatabaseErrorFields, unknown>>;
  const fields: DatabaseErrorFields = { message: e.message };
  for (const key of ['code', 'detail', 'hint', 'constraint', 'table', 'column', 'severity'] as const) {
    const value = e[key];
    if (typeof value === 'string') fields[key] = value;
  }
  return fields;
}
