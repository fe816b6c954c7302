// Both storage backends for tests: PGlite in memory, and a fresh database on a real PostgreSQL server
// (KOE_TEST_DATABASE_URL, set by scripts/run-tests.mjs; without it, a private server is started for this
// test process so a single file can run alone). The same test body runs on each.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { startPostgres, type TestPostgres } from '../../scripts/postgres-for-tests.mjs';

export interface TestDatabase {
  /** For openStore / openDatabase: PostgreSQL when set, else PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Pass on to openStore / openDatabase: a fresh in-memory PGlite in a third of a second. */
  pgliteTemplate: string | undefined;
  /** Removes the database (PostgreSQL); PGlite's in-memory database goes with its store. */
  drop(): Promise<void>;
}

export interface TestBackend {
  readonly name: 'pglite' | 'postgres';
  /** A new, empty database. */
  create(): Promise<TestDatabase>;
}

let privateServer: Promise<TestPostgres> | undefined;

/** The URL of a PostgreSQL server to create test databases on. */
export async function testPostgresUrl(): Promise<string> {
  const shared = process.env.KOE_TEST_DATABASE_URL;
  if (shared) return shared;
  privateServer ??= startPostgres().then((server) => {
    process.once('exit', () => server.stopSync());
    return server;
  });
  return (await privateServer).url;
}

/** A fresh database `koe_<random>` on the test server, dropped by drop(). */
export async function createPostgresDatabase(): Promise<TestDatabase> {
  const adminUrl = await testPostgresUrl();
  const name = `koe_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    dataDir: 'memory://',
    pgliteTemplate: undefined,
    drop: () => withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

let template: Promise<string> | undefined;

/**
 * A freshly initialised PGlite data folder as a tarball, made once per PGlite version and machine:
 * starting from it skips initdb, the bulk of an in-memory PGlite's start-up time.
 */
export function pgliteTemplate(): Promise<string> {
  template ??= (async () => {
    const packageJson = join(dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))), '..', 'package.json');
    const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
    const path = join(tmpdir(), `koe-pglite-template-${version}.tar`);
    if (existsSync(path)) return path;
    const pglite = await PGlite.create();
    const tarball = await pglite.dumpDataDir('none');
    await pglite.close();
    // Test files run in parallel processes: write aside, then rename, so nobody reads half a file.
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, Buffer.from(await tarball.arrayBuffer()));
    renameSync(partial, path);
    return path;
  })();
  return template;
}

export async function createPgliteDatabase(): Promise<TestDatabase> {
  return { databaseUrl: undefined, dataDir: 'memory://', pgliteTemplate: await pgliteTemplate(), drop: () => Promise.resolve() };
}

export function testDatabases(): TestBackend[] {
  return [
    { name: 'pglite', create: createPgliteDatabase },
    { name: 'postgres', create: createPostgresDatabase },
  ];
}
