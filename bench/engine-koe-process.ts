// Koe as a separate process for the engine benchmark (`koe start` with the built-in engine), so its CPU
// and memory can be read from /proc/<pid>, and everything this benchmark starts is stopped when it exits
// or is interrupted.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** prom-client's event-loop monitor samples every 10 ms; each reading includes that interval. */
const LOOP_MONITOR_RESOLUTION_MS = 10;

// ── cleanup: nothing outlives the benchmark ──

const liveChildren = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const exitHooks = new Set<() => void>();

function cleanupSync(): void {
  for (const hook of exitHooks) {
    try {
      hook();
    } catch {
      // best effort while exiting
    }
  }
  for (const child of liveChildren) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

let handlersInstalled = false;

/** Kills Koe and removes temporary files on exit, Ctrl-C and SIGTERM. */
export function installCleanup(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanupSync);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping Koe and the callers`);
      for (const hook of exitHooks) hook();
      for (const child of liveChildren) child.kill('SIGTERM');
      setTimeout(() => process.exit(130), 3000).unref();
      const exits = [...liveChildren].map((child) => new Promise<void>((done) => child.once('exit', () => done())));
      void Promise.all(exits).then(() => process.exit(130));
    });
  }
}

/** Runs at exit or interruption (close sockets, remove files). */
export function onExit(hook: () => void): () => void {
  exitHooks.add(hook);
  return () => exitHooks.delete(hook);
}

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done());
  });
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (typeof address !== 'object' || address === null) throw new Error('could not find a free port');
  return address.port;
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

export interface KoeStartOptions {
  port: number;
  sttDecoders?: number;
  ttsWorkers?: number;
  /** Write a V8 CPU profile of Koe's main thread here when it exits. */
  cpuProfDir?: string;
}

export class KoeProcess {
  readonly baseUrl: string;
  readonly engineUrl: string;
  readonly output: string[] = [];
  readonly exited: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    readonly pid: number,
    port: number,
  ) {
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.engineUrl = `ws://127.0.0.1:${port}/v1/realtime`;
    const keep = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        this.output.push(line);
        if (this.output.length > 500) this.output.shift();
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((done) => child.once('exit', () => done()));
  }

  /** `koe start` with the built-in engine and the embedded dialogue: no model URL, no keys, no .env of the tree. */
  static start(opts: KoeStartOptions, scratchDir: string): KoeProcess {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
      PORT: String(opts.port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      KOE_ENV_FILE: join(scratchDir, 'no.env'),
      KOE_STREAM_SECRET: 'engine-bench-stream-secret-0123456789abcdef0123',
      ...(opts.sttDecoders === undefined ? {} : { ENGINE_STT_DECODERS: String(opts.sttDecoders) }),
      ...(opts.ttsWorkers === undefined ? {} : { ENGINE_TTS_WORKERS: String(opts.ttsWorkers) }),
    };
    const nodeArgs = ['--import', 'tsx'];
    if (opts.cpuProfDir) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir);
    const child = spawn(process.execPath, [...nodeArgs, 'src/cli/main.ts', 'start'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new Error('could not start Koe');
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));
    return new KoeProcess(child, child.pid, opts.port);
  }

  /** How Koe ended, for a report when it died under load. */
  get exitDescription(): string {
    const { exitCode, signalCode } = this.child;
    return signalCode ? `killed by ${signalCode}` : exitCode === null ? 'running' : `exited with code ${exitCode}`;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitHealthy(timeoutMs: number): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (performance.now() < end) {
      if (!this.running) throw new Error(`Koe exited during start:\n${this.output.slice(-20).join('\n')}`);
      try {
        const res = await fetch(`${this.baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await delay(100);
    }
    throw new Error(`Koe did not answer /healthz within ${timeoutMs} ms:\n${this.output.slice(-20).join('\n')}`);
  }

  /** Koe's event-loop delay since the previous call (prom-client resets its histogram on each scrape), in ms. */
  async eventLoopDelay(): Promise<{ p50Ms: number; p99Ms: number; maxMs: number } | undefined> {
    try {
      const res = await fetch(`${this.baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
      const text = await res.text();
      const read = (name: string): number => {
        const match = new RegExp(`^koe_nodejs_eventloop_lag_${name}_seconds\\s+(\\S+)`, 'm').exec(text);
        return match ? Math.max(0, Number(match[1]) * 1000 - LOOP_MONITOR_RESOLUTION_MS) : Number.NaN;
      };
      return { p50Ms: read('p50'), p99Ms: read('p99'), maxMs: read('max') };
    } catch {
      return undefined;
    }
  }

  /** SIGTERM (Koe ends its sessions and exits, writing its CPU profile if asked), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}
