// Opens the SQL connection Koe stores everything in: embedded PGlite (a folder on disk, or memory for
// tests) when no DATABASE_URL is given, PostgreSQL otherwise. Both speak the same dialect and return
// the same value shapes (see pg-values.ts); callers never learn which one they got except by `kind`.
import type { Logger } from '../log/logger.js';
import type { Database } from './store.js';
import { openPgliteDatabase } from './pglite-database.js';
import { openPostgresDatabase } from './postgres-database.js';

export interface OpenDatabaseOptions {
  /** postgres:// URL; when set, PostgreSQL is used and `dataDir` is ignored. */
  databaseUrl?: string;
  /** PGlite's folder (created if missing). Undefined or `memory://` keeps the database in memory. */
  dataDir?: string;
  /**
   * A tarball of a PGlite data folder (PGlite's dumpDataDir) that a new in-memory database starts from,
   * skipping initdb's second or two. For tests, which open many throwaway databases.
   */
  pgliteTemplate?: string;
  log?: Logger;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgresDatabase(options.databaseUrl, options.log);
  return openPgliteDatabase(options.dataDir, options.log, options.pgliteTemplate);
}
