// A throwaway PostgreSQL server for tests: a fresh cluster in a temporary folder, trust authentication
// on 127.0.0.1 only, on a free port. Uses the Debian packages' binaries (scripts/install-system-deps.sh).
// initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN_ROOT = '/usr/lib/postgresql';
export const INSTALL_HINT = 'install postgresql: bash scripts/install-system-deps.sh';

/** The newest installed PostgreSQL's bin folder, or undefined. */
export function findPostgresBin() {
  if (!existsSync(BIN_ROOT)) return undefined;
  const versions = readdirSync(BIN_ROOT)
    .filter((v) => existsSync(join(BIN_ROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(BIN_ROOT, versions[0], 'bin') : undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a server. Returns its URL (`postgres://postgres@127.0.0.1:<port>/postgres`) and
 * stop() (async), stopSync() (for 'exit' handlers), pause()/resume() (stop and start the same cluster on
 * the same port, to test outages).
 */
export async function startPostgres() {
  const bin = findPostgresBin();
  if (!bin) throw new Error(`PostgreSQL server binaries not found under ${BIN_ROOT}/*/bin; ${INSTALL_HINT}`);
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'koe-pg-'));
  const dataDir = join(dir, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const run = (tool, args) => {
    const command = asRoot ? 'runuser' : join(bin, tool);
    const argv = asRoot ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args;
    const result = spawnSync(command, argv, { encoding: 'utf8', cwd: dir });
    if (result.status !== 0) {
      let log = '';
      try {
        log = readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000);
      } catch {
        // no log yet
      }
      throw new Error(`${tool} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stderr || result.stdout}\n${log}`);
    }
  };
  const port = await freePort();
  try {
    run('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  // Durability settings off: a test server's data is thrown away, and the tests kill Koe, never this server.
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
  const start = () => run('pg_ctl', ['-D', dataDir, '-o', serverOptions, '-l', join(dir, 'server.log'), '-w', '-t', '30', 'start']);
  const stopServer = (mode) => run('pg_ctl', ['-D', dataDir, '-m', mode, '-w', 'stop']);
  try {
    start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    try {
      stopServer('immediate');
    } catch {
      // already down
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stopSync,
    stop: async () => stopSync(),
    /** Stops the server (connections are cut) keeping its data; resume() starts it again on the same port. */
    pause: async () => stopServer('fast'),
    resume: async () => start(),
  };
}
