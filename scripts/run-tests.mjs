#!/usr/bin/env node
// Runs every test file under test/ with node's own test runner (TypeScript through tsx),
// prints the spec report, and ends with the plain line "N passed, N failed".
// Node 20's --test does not expand globs, so the file list is built here.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { INSTALL_HINT, findPostgresBin, startPostgres } from './postgres-for-tests.mjs';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const files = findTests(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const args = [
  '--import', 'tsx',
  '--test',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=./scripts/summary-reporter.mjs', '--test-reporter-destination=stdout',
  ...files,
];
// One real PostgreSQL server for the whole run, shared through KOE_TEST_DATABASE_URL (each test file
// creates its own databases on it). Started only when a selected file is likely to need it; a file run
// without it starts a private server itself (test/support/databases.ts), so this only saves time.
const NEEDS_POSTGRES = /store|server|browser|multi|live|campaign|database/;
let postgres;
if (!process.env.KOE_TEST_DATABASE_URL && files.some((f) => NEEDS_POSTGRES.test(f))) {
  if (!findPostgresBin()) {
    console.error(`PostgreSQL server binaries are missing (/usr/lib/postgresql/*/bin/initdb); ${INSTALL_HINT}`);
    process.exit(1);
  }
  postgres = await startPostgres();
  process.once('exit', () => postgres.stopSync());
}

const env = { ...process.env, KOE_TEST: '1', ...(postgres ? { KOE_TEST_DATABASE_URL: postgres.url } : {}) };
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env });
// Ctrl-C reaches the runner too (same process group); wait for it to end, then stop the server on exit.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
