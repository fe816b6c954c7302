// Koe as a real child process (`node --import tsx src/cli/main.ts start`, as `npm run koe start` runs it),
// for the browser, multi-process and crash tests: its own event loop, its own database connection, and a
// real `kill -9`. The child gets a minimal environment (no DATABASE_URL, OPENAI_API_KEY or .env of the
// developer's shell leaks in), listens on port 0 and reports the port it bound in its pino log, which is
// kept so a failing test can show what Koe said. Every child and temporary folder is removed when the
// test process exits, even when a test forgot to.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ADMIN_PASSWORD = 'koe-test-admin-password';
export const STREAM_SECRET = 'koe-test-stream-secret-0123456789abcdef0123456789';

// ── cleanup: nothing outlives the test process ──────────────────────────────────────────────────

const liveChildren = new Set<ChildProcess>();
const tempDirs = new Set<string>();

process.on('exit', () => {
  for (const child of liveChildren) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A temporary folder removed at exit (or earlier with removeTempDir). */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/**
 * The agents file the tests use: the repository's receptionist (English, answers opening hours with the
 * built-in engine) and a second agent, so pickers have a choice. Written to `dir`; returns its path.
 */
export function writeTestAgentsFile(dir: string, opts: { greeting?: string } = {}): string {
  const path = join(dir, 'agents.yaml');
  writeFileSync(
    path,
    `defaultAgent: receptionist
agents:
  - id: receptionist
    name: Front desk (English)
    language: en-US
    voice: alloy
    timezone: America/New_York
    variables:
      companyName: Sakura Dental Clinic
      openingHours: Monday to Friday, 9 am to 6 pm
    instructions: |
      You are the friendly receptionist of {{companyName}}, answering the phone.
      Opening hours: {{openingHours}}.
      Speak briefly. When the caller says goodbye, say a short goodbye and then use the hang_up tool.
    greeting: ${opts.greeting ?? 'Thank you for calling {{companyName}}. How can I help you today?'}
    turnDetection:
      type: server_vad
      threshold: 0.5
      prefixPaddingMs: 300
      silenceDurationMs: 500
    tools:
      - hang_up
  - id: support
    name: Support line
    language: en-US
    voice: alloy
    instructions: You help callers of Koe Support. Be brief.
    greeting: Koe Support, how can I help?
    tools:
      - hang_up
`,
  );
  return path;
}

// ── the process ─────────────────────────────────────────────────────────────────────────────────

export interface KoeStartOptions {
  /** KOE_DATA_DIR: reuse one to restart on the same PGlite database. Default: a new temp folder. */
  dataDir?: string;
  /** PostgreSQL instead of PGlite. */
  databaseUrl?: string;
  /** A Realtime server instead of the built-in engine. */
  realtimeUrl?: string;
  /** KOE_AGENTS_FILE. Default: writeTestAgentsFile() in the data folder. */
  agentsFile?: string;
  adminPassword?: string;
  streamSecret?: string;
  /** pino level of the child; `info` or more verbose (the bound port is read from an info line). */
  logLevel?: 'trace' | 'debug' | 'info';
  /** Anything else on top (wins over the above). */
  env?: Record<string, string>;
  /** How long to wait for "Koe is listening" (default 30 s). */
  startTimeoutMs?: number;
  /** Also wait until the built-in engine logged "engine ready" (only without realtimeUrl). Default true then. */
  waitForEngine?: boolean;
  /** A name for messages (`A`, `B`, …). */
  name?: string;
}

/** One pino line, parsed; `raw` for lines that were not JSON. */
export interface LogLine {
  level?: number;
  msg?: string;
  raw: string;
  [field: string]: unknown;
}

interface LogWaiter {
  match: (line: LogLine) => boolean;
  resolve: (line: LogLine) => void;
}

export class KoeProcess {
  readonly name: string;
  readonly dataDir: string;
  readonly lines: LogLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  port = 0;
  #waiters = new Set<LogWaiter>();
  #partial = '';

  private constructor(
    readonly child: ChildProcess,
    readonly options: KoeStartOptions,
    dataDir: string,
  ) {
    this.name = options.name ?? 'koe';
    this.dataDir = dataDir;
    const onData = (chunk: Buffer): void => this.#onOutput(chunk.toString('utf8'));
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  }

  /** Starts `koe start` and resolves once it listens (and, with the built-in engine, once the engine is loaded). */
  static async start(opts: KoeStartOptions = {}): Promise<KoeProcess> {
    const dataDir = opts.dataDir ?? makeTempDir('koe-test-data-');
    const agentsFile = opts.agentsFile ?? writeTestAgentsFile(dataDir);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: opts.logLevel ?? 'info',
      KOE_DATA_DIR: dataDir,
      KOE_AGENTS_FILE: agentsFile,
      KOE_ADMIN_PASSWORD: opts.adminPassword ?? ADMIN_PASSWORD,
      KOE_STREAM_SECRET: opts.streamSecret ?? STREAM_SECRET,
      // No .env of the working tree may change what is tested.
      KOE_ENV_FILE: join(dataDir, 'no.env'),
      ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
      ...(opts.realtimeUrl ? { REALTIME_URL: opts.realtimeUrl } : {}),
      ...opts.env,
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) throw new Error('could not start Koe');
    liveChildren.add(child);
    child.once('exit', () => liveChildren.delete(child));
    const koe = new KoeProcess(child, opts, dataDir);
    const timeoutMs = opts.startTimeoutMs ?? 30_000;
    try {
      const listening = await koe.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('Koe is listening'), timeoutMs);
      const port = Number(listening.port);
      if (!Number.isInteger(port) || port <= 0) throw new Error(`Koe logged no usable port: ${listening.raw}`);
      koe.port = port;
      if (opts.waitForEngine ?? !opts.realtimeUrl) await koe.waitForLog((l) => l.msg === 'engine ready', timeoutMs);
    } catch (err) {
      await koe.kill();
      throw err;
    }
    return koe;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsBaseUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last `n` lines Koe wrote, for failure messages. */
  logTail(n = 40): string {
    return this.lines
      .slice(-n)
      .map((l) => l.raw)
      .join('\n');
  }

  /** Lines at `warn` (40) or worse. */
  problems(): LogLine[] {
    return this.lines.filter((l) => (l.level ?? 0) >= 40);
  }

  /** Resolves with the first line (already written or still to come) that matches. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine> {
    const found = this.lines.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const finish = (err: Error | undefined, line?: LogLine): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        if (err) reject(err);
        else resolve(line as LogLine);
      };
      const waiter: LogWaiter = { match, resolve: (line) => finish(undefined, line) };
      const timer = setTimeout(
        () => finish(new Error(`Koe ${this.name}: no matching log line within ${timeoutMs} ms. Its log:\n${this.logTail()}`)),
        timeoutMs,
      );
      void this.exited.then(({ code, signal }) => {
        if (this.#waiters.has(waiter)) finish(new Error(`Koe ${this.name} exited (${signal ?? `code ${code}`}) while waiting for a log line. Its log:\n${this.logTail()}`));
      });
      this.#waiters.add(waiter);
    });
  }

  /** SIGTERM (Koe ends its calls and flushes its writes), SIGKILL if it has not exited after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      const result = await this.exited;
      clearTimeout(timer);
      return result;
    }
    return this.exited;
  }

  /** `kill -9`: no shutdown code runs. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** A fetch to Koe with a timeout, relative to its base URL. */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, { signal: AbortSignal.timeout(10_000), ...init });
  }

  /** Logs in over HTTP and returns the session cookie (`name=value`). */
  async login(password = this.options.adminPassword ?? ADMIN_PASSWORD): Promise<string> {
    const res = await this.fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password }),
    });
    if (!res.ok) throw new Error(`login on Koe ${this.name} answered ${res.status}: ${await res.text()}`);
    const setCookie = res.headers.getSetCookie();
    const cookie = setCookie[0]?.split(';')[0];
    if (!cookie) throw new Error(`login on Koe ${this.name} set no cookie`);
    return cookie;
  }

  /** GET an /api path as JSON with a session cookie; throws with the body on a non-2xx answer. */
  async getJson<T>(path: string, cookie: string): Promise<T> {
    const res = await this.fetch(path, { headers: { cookie } });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${path} on Koe ${this.name} answered ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  /** The value of a Prometheus metric (summed over label sets matching `labels`) from /metrics. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return sumMetric(await (await this.fetch('/metrics')).text(), name, labels);
  }

  #onOutput(text: string): void {
    const parts = (this.#partial + text).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const raw of parts) {
      if (raw.trim() === '') continue;
      let line: LogLine;
      try {
        const parsed = JSON.parse(raw) as unknown;
        line = typeof parsed === 'object' && parsed !== null ? { ...(parsed as Record<string, unknown>), raw } : { raw };
      } catch {
        line = { raw };
      }
      this.lines.push(line);
      if (this.lines.length > 5000) this.lines.splice(0, 1000);
      for (const waiter of [...this.#waiters]) if (waiter.match(line)) waiter.resolve(line);
    }
  }
}

/** Sums a metric's samples in Prometheus text format, over the label sets that include `labels`. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) continue;
    sum += Number(match[3]);
    found = true;
  }
  return found ? sum : Number.NaN;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs` naming `what`. */
export async function waitUntil<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string, stepMs = 100): Promise<T> {
  const end = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() >= end) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await delay(stepMs);
  }
}
