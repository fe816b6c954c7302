// Koe with a store (PGlite in memory or a fresh PostgreSQL database), the agent catalog, and a client for
// its dashboard API over real HTTP and WebSockets on loopback.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import type { AgentInput } from '../../src/agents/index.js';
import { createLogger } from '../../src/log/logger.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import type { LiveMessage } from '../../src/server/api/api-types.js';
import { AgentCatalog } from '../../src/store/agent-catalog.js';
import type { KoeStore } from '../../src/store/index.js';
import { openStore } from '../../src/store/index.js';
import type { TestDatabase } from '../support/databases.js';
import { createPgliteDatabase } from '../support/databases.js';
import type { HarnessOptions } from '../integration/harness.js';
import { DEFAULT_TEST_AGENT, Harness } from '../integration/harness.js';

export const ADMIN_PASSWORD = 'dashboard-test-password';

export interface DashboardServer {
  harness: Harness;
  store: KoeStore;
  catalog: AgentCatalog;
  database: TestDatabase;
  recordingsDir: string;
  base: string;
  close(): Promise<void>;
}

export interface DashboardServerOptions extends Omit<HarnessOptions, 'store' | 'catalog' | 'agents'> {
  agents?: AgentInput[];
  /** Share a database with another server (another "process"); default: a new in-memory PGlite. */
  database?: TestDatabase;
  processId?: string;
  /** Drop the database when this server closes (default: when this server created it). */
  ownsDatabase?: boolean;
}

/** A Koe server as `koe start` builds it: store, catalog (agents imported like agents.yaml), dashboard API. */
export async function startDashboardServer(opts: DashboardServerOptions = {}): Promise<DashboardServer> {
  const database = opts.database ?? (await createPgliteDatabase());
  const ownsDatabase = opts.ownsDatabase ?? opts.database === undefined;
  const processId = opts.processId ?? `test-${randomBytes(3).toString('hex')}`;
  const recordingsDir = mkdtempSync(join(tmpdir(), 'koe-recordings-'));
  const log = createLogger({ level: (process.env.KOE_TEST_LOG ?? 'silent') as 'silent' });
  const store = await openStore({
    ...(database.databaseUrl ? { databaseUrl: database.databaseUrl } : {}),
    dataDir: database.dataDir,
    ...(database.pgliteTemplate ? { pgliteTemplate: database.pgliteTemplate } : {}),
    recordingsDir,
    processId,
    log,
    metrics: createMetrics(),
  });
  const agents = opts.agents ?? [DEFAULT_TEST_AGENT];
  const catalog = await AgentCatalog.open({ store, fileAgents: undefined, fileAgentInputs: agents, defaultAgentId: agents[0]?.id, log });
  const { database: _db, ownsDatabase: _owns, agents: _agents, ...harnessOptions } = opts;
  const harness = await Harness.start({
    ...harnessOptions,
    store,
    catalog,
    processId,
    env: { KOE_ADMIN_PASSWORD: ADMIN_PASSWORD, KOE_DATA_DIR: recordingsDir, KOE_RECORDINGS_DIR: recordingsDir, ...opts.env },
  });
  return {
    harness,
    store,
    catalog,
    database,
    recordingsDir,
    base: harness.baseUrl,
    async close() {
      await harness.close();
      await catalog.close();
      await store.close();
      if (ownsDatabase) await database.drop();
      rmSync(recordingsDir, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** One request to the API; JSON bodies are sent as application/json (the CSRF rule). */
export async function api<T = unknown>(
  base: string,
  method: string,
  path: string,
  opts: { cookie?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
  });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, body: (type.includes('json') && text ? JSON.parse(text) : text) as T, headers: response.headers };
}

/** Logs in; returns the Cookie header value to send. */
export async function login(base: string, password = ADMIN_PASSWORD): Promise<string> {
  const response = await api(base, 'POST', '/api/auth/login', { body: { password } });
  if (response.status !== 200) throw new Error(`login answered ${response.status}: ${JSON.stringify(response.body)}`);
  const setCookie = response.headers.get('set-cookie') ?? '';
  const pair = setCookie.split(';', 1)[0];
  if (!pair?.startsWith('koe_session=')) throw new Error(`no session cookie in ${setCookie}`);
  return pair;
}

/** How a WebSocket upgrade ended: the HTTP status of a refusal, or 101 when it opened. */
export function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', () => undefined);
  });
}

/** A dashboard's live connection: every message it got, and waiting for the one wanted. */
export class LiveClient {
  readonly messages: LiveMessage[] = [];
  #waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as LiveMessage);
      for (const wake of this.#waiters) wake();
    });
  }

  static async open(base: string, cookie: string): Promise<LiveClient> {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/api/live`, { headers: { cookie, origin: base } });
    const client = new LiveClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  async waitFor<T extends LiveMessage>(match: (message: LiveMessage) => message is T, timeoutMs?: number): Promise<T>;
  async waitFor(match: (message: LiveMessage) => boolean, timeoutMs?: number): Promise<LiveMessage>;
  async waitFor(match: (message: LiveMessage) => boolean, timeoutMs = 5000): Promise<LiveMessage> {
    const found = this.messages.find(match);
    if (found) return found;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== check);
        reject(new Error(`timed out after ${timeoutMs} ms; live messages: ${this.messages.map(describe).join(', ')}`));
      }, timeoutMs);
      const check = (): void => {
        const message = this.messages.find(match);
        if (!message) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve(message);
      };
      this.#waiters.push(check);
    });
  }

  close(): void {
    this.ws.close();
  }
}

function describe(message: LiveMessage): string {
  return message.type === 'snapshot' ? `snapshot(${message.calls.length})` : `${message.processId}:${message.event.type}`;
}

export interface RegisteredRoute {
  method: string;
  path: string;
}

/** Every route as Fastify's router prints it (full paths rebuilt from its prefix tree). */
export function registeredRoutes(app: FastifyInstance): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes().split('\n')) {
    const match = /^([│ ]*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    stack.length = depth;
    stack.push(match[2] ?? '');
    const path = stack.join('');
    for (const method of match[3]?.split(', ') ?? []) routes.push({ method, path });
  }
  return routes;
}
