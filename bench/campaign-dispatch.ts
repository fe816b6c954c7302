// Campaign benchmark: importing a big contact CSV, how exactly the dispatcher holds a campaign's calls per
// second, and how many calls per second Koe can place and settle at all — on embedded PGlite and PostgreSQL.
//
//   npm run bench:campaigns            (node --import tsx bench/campaign-dispatch.ts)
//   node --import tsx bench/campaign-dispatch.ts [--backend pglite|postgres|both] [--contacts 10000] [--cps 100]
//        [--max-concurrent 200] [--import-rows 100000] [--skip-import] [--throughput-contacts 5000]
//        [--throughput-cps 1000] [--throughput-max-concurrent 1000] [--skip-throughput] [--ring-ms 20]
//        [--pglite-storage disk|memory] [--quiet-wait-seconds 10] [--out bench/results/campaigns-<time>.json]
//
// Koe runs in this process (test/server/dashboard-support.ts: the store, the dashboard API and the campaign
// dispatcher with its production timings — a round every 200 ms claiming up to 100 contacts per campaign,
// CPS slots reserved up to 1 s ahead, housekeeping every 2 s) against the fake Twilio network
// (test/fakes/fake-twilio-network.ts), which answers Koe's POST /Calls and then sends the signed status
// callbacks a real call would (initiated, ringing, busy) back to Koe over HTTP, each on a new connection.
// Koe's logging is off. PGlite keeps its data in a temporary folder on disk, as `koe start` does;
// PostgreSQL is the throwaway test server (scripts/postgres-for-tests.mjs: fsync and synchronous_commit
// off). Each phase gets a fresh Koe and a fresh database, and first waits (a while) for a quiet machine.
//
// 1. Import: --import-rows contacts (bench/contact-csv.ts: a JP campaign, ~1 % invalid, ~1 % duplicates) in
//    one POST /api/campaigns through real HTTP, timed at the client. The database insert is timed in place
//    (campaigns.create wrapped, see bench/store-timing.ts); the CSV parse alone is what the route calls,
//    parseContactsCsvOffThread, called directly before Koe starts (a new worker thread each time, as in the route;
//    parseContactsCsv on a warm main thread too, for comparison); the rest is the upload, JSON decoding,
//    validation, the template check and the answer.
//    It runs in a child process of its own (with --expose-gc): its RSS is Koe's, node's, tsx's and the CSV's,
//    not what earlier phases left; measured before Koe starts, with Koe idle, after the import, and at peak.
// 2. Pacing: --contacts contacts at --cps, --max-concurrent; every callee is busy after a --ring-ms ring (no
//    media, so the figures are the dispatcher's, not the voice engine's), one attempt each. From the fake's
//    arrival time of every POST /Calls: the rate over the run, per one-second window, the gaps between calls,
//    numbers dialed twice. Start → completed is the campaign row's started_at → finished_at.
// 3. Throughput: --throughput-contacts at --throughput-cps, at most --throughput-max-concurrent in flight
//    (the API allows 100 CPS, so the rate is set on the campaign row after it is created). Calls placed per
//    second, and contacts settled per second (their final status callback stored): the sustained figure,
//    as the concurrency cap holds the dialing back to what the callbacks keep up with.
//
// For 2 and 3, while calls are being placed: CPU of this process (Koe and the fake Twilio on the main
// thread; PGlite's worker and GC on other threads) and of the PostgreSQL server, this process's event-loop
// delay, and where each call's time went: its CPS slot → the timer firing → confirmClaim → the call record
// insert → Twilio's create request → setDialed → markCalling, with every store call timed.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { AgentInput } from '../src/agents/index.js';
import { parseContactsCsv } from '../src/campaigns/contact-import.js';
import { parseContactsCsvOffThread } from '../src/campaigns/contact-import-off-thread.js';
import type { CampaignRecord } from '../src/server/api/api-types.js';
import type { FakeTwilioNetwork } from '../test/fakes/fake-twilio-network.js';
import type { DashboardServer } from '../test/server/dashboard-support.js';
import { api, login, startDashboardServer } from '../test/server/dashboard-support.js';
import type { TestDatabase } from '../test/support/databases.js';
import { createPgliteDatabase, createPostgresDatabase, testPostgresUrl } from '../test/support/databases.js';
import { CONTACTS_DEFAULT_COUNTRY, generateContactsSample } from './contact-csv.js';
import type { ContactsSample } from './contact-csv.js';
import type { RateFigures } from './dispatch-rate.js';
import { maxUnsettled, rateFigures, repeatedCalls } from './dispatch-rate.js';
import { fmt, percentile, table, threadCpuSeconds } from './engine-stats.js';
import { descendantPids, machineCpuSeconds, machineInfo, postmasterPid, processCpuSeconds } from './proc-stats.js';
import type { OpFigures } from './store-timing.js';
import { opFigures, StoreTimings, wallNow } from './store-timing.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MIB = 1024 * 1024;
/** What the API accepts (src/server/api/api-schemas.ts); beyond it the bench sets the campaign row. */
const API_MAX_CPS = 100;
const API_MAX_CONCURRENT = 1000;
/** The dashboard's campaign page polls its campaign this often (web/src/pages/campaign-detail-page.tsx). */
const POLL_MS = 2000;
const LOOP_RESOLUTION_MS = 10;
/** Area codes of the dispatch contacts, 10,000 numbers each: +1 <area> 555 0000 … 9999. */
const AREAS = ['201', '212', '415', '646', '312', '617', '512', '303', '404', '305', '718', '213'];

const AGENT: AgentInput = {
  id: 'reminder',
  name: 'Appointment reminder',
  instructions: 'Remind {{name}} of the appointment.',
  greeting: 'Hello {{name}}.',
  tools: ['hang_up'],
};

// Ctrl-C still runs the 'exit' handlers (the PostgreSQL server, temporary folders).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

type Backend = 'pglite' | 'postgres';

interface Options {
  backends: Backend[];
  contacts: number;
  cps: number;
  maxConcurrent: number;
  importRows: number;
  skipImport: boolean;
  /** Internal: this process is the child that runs one import (--backend) and prints its result as JSON. */
  importChild: boolean;
  throughputContacts: number;
  throughputCps: number;
  throughputMaxConcurrent: number;
  skipThroughput: boolean;
  /** Before each dispatch phase, wait up to this long for other processes to leave the CPU. */
  quietWaitSeconds: number;
  ringMs: number;
  seed: number;
  /** PGlite's data on disk in a temporary folder (as `koe start` keeps it) or in memory. */
  pgliteStorage: 'disk' | 'memory';
  out: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'both' },
      contacts: { type: 'string' },
      cps: { type: 'string' },
      'max-concurrent': { type: 'string' },
      'import-rows': { type: 'string' },
      'skip-import': { type: 'boolean', default: false },
      'import-child': { type: 'boolean', default: false },
      'throughput-contacts': { type: 'string' },
      'throughput-cps': { type: 'string' },
      'throughput-max-concurrent': { type: 'string' },
      'quiet-wait-seconds': { type: 'string' },
      'skip-throughput': { type: 'boolean', default: false },
      'ring-ms': { type: 'string' },
      seed: { type: 'string' },
      'pglite-storage': { type: 'string', default: 'disk' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: node --import tsx bench/campaign-dispatch.ts [--backend pglite|postgres|both] [--contacts 10000] [--cps 100]\n' +
        '       [--max-concurrent 200] [--import-rows 100000] [--skip-import] [--throughput-contacts 5000] [--throughput-cps 1000]\n' +
        '       [--throughput-max-concurrent 1000] [--skip-throughput] [--ring-ms 20] [--seed 1] [--pglite-storage disk|memory]\n' +
        '       [--quiet-wait-seconds 10] [--out file.json]',
    );
    process.exit(0);
  }
  const number = (name: string, text: string | undefined, fallback: number, min: number, integer = true): number => {
    if (text === undefined) return fallback;
    const value = Number(text.replace(/_/g, ''));
    if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
      throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got "${text}"`);
    }
    return value;
  };
  const backend = values.backend;
  if (backend !== 'pglite' && backend !== 'postgres' && backend !== 'both') throw new Error(`--backend is pglite, postgres or both, got "${backend}"`);
  const maxContacts = AREAS.length * 10_000;
  const contacts = number('contacts', values.contacts, 10_000, 1);
  const throughputContacts = number('throughput-contacts', values['throughput-contacts'], 5_000, 1);
  if (contacts > maxContacts || throughputContacts > maxContacts) throw new Error(`at most ${maxContacts} contacts`);
  const storage = values['pglite-storage'];
  if (storage !== 'disk' && storage !== 'memory') throw new Error(`--pglite-storage is disk or memory, got "${storage}"`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    backends: backend === 'both' ? ['pglite', 'postgres'] : [backend],
    contacts,
    cps: number('cps', values.cps, 100, 0.01, false),
    maxConcurrent: number('max-concurrent', values['max-concurrent'], 200, 1),
    importRows: number('import-rows', values['import-rows'], 100_000, 1),
    skipImport: values['skip-import'],
    importChild: values['import-child'],
    throughputContacts,
    throughputCps: number('throughput-cps', values['throughput-cps'], 1_000, 0.01, false),
    throughputMaxConcurrent: number('throughput-max-concurrent', values['throughput-max-concurrent'], 1_000, 1),
    quietWaitSeconds: number('quiet-wait-seconds', values['quiet-wait-seconds'], 10, 0),
    skipThroughput: values['skip-throughput'],
    ringMs: number('ring-ms', values['ring-ms'], 20, 0),
    seed: number('seed', values.seed, 1, 0),
    pgliteStorage: storage,
    out: values.out ?? join(REPO_ROOT, 'bench', 'results', `campaigns-${stamp}.json`),
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** The machine's CPU busy over `ms`, % of all cores. */
async function machineBusyPercent(ms: number): Promise<number> {
  const a = machineCpuSeconds();
  await delay(ms);
  const b = machineCpuSeconds();
  return ((b.busy - a.busy) / (b.total - a.total)) * 100;
}

/** Waits (at most maxSeconds) for 3 seconds in a row under 25 % busy; returns the last second's figure. */
async function waitForQuiet(maxSeconds: number): Promise<number> {
  let busy = await machineBusyPercent(1000);
  for (let waited = 1, calm = busy < 25 ? 1 : 0; waited < maxSeconds && calm < 3; waited += 1) {
    busy = await machineBusyPercent(1000);
    calm = busy < 25 ? calm + 1 : 0;
  }
  return busy;
}

const mib = (bytes: number): number => bytes / MIB;
const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');

// ── Koe for one phase ────────────────────────────────────────────────────────────────────────────

/** PGlite in a temporary folder on disk, as `koe start` keeps it (not in memory). */
function diskPglite(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'koe-bench-pglite-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', remove);
  return { databaseUrl: undefined, dataDir: join(dir, 'pglite'), pgliteTemplate: undefined, drop: async () => remove() };
}

interface Koe {
  server: DashboardServer;
  network: FakeTwilioNetwork;
  timings: StoreTimings;
  cookie: string;
  /** The PostgreSQL server's processes (postmaster and backends), empty for PGlite or a server elsewhere. */
  postgresPids(): number[];
}

/** Which database a phase's Koe gets. */
interface Backing {
  backend: Backend;
  pgliteStorage: 'disk' | 'memory';
}

async function startKoe(backing: Backing, ringMs: number): Promise<Koe> {
  const database =
    backing.backend === 'postgres' ? await createPostgresDatabase() : backing.pgliteStorage === 'disk' ? diskPglite() : await createPgliteDatabase();
  const server = await startDashboardServer({
    agents: [AGENT],
    database,
    ownsDatabase: true,
    twilioNetwork: { callee: () => ({ kind: 'busy', ringMs }) },
  });
  const timings = new StoreTimings().instrument(server.store);
  const port = database.databaseUrl ? Number(new URL(database.databaseUrl).port) : undefined;
  const postmaster = port === undefined ? undefined : postmasterPid(port);
  return {
    server,
    network: server.harness.network as FakeTwilioNetwork,
    timings,
    cookie: await login(server.base),
    postgresPids: () => (postmaster === undefined ? [] : [postmaster, ...descendantPids(postmaster)]),
  };
}

// ── CPU over a window ────────────────────────────────────────────────────────────────────────────

interface CpuMark {
  atMs: number;
  process: NodeJS.CpuUsage;
  threads: ReturnType<typeof threadCpuSeconds>;
  postgres: Map<number, number>;
  machine: { busy: number; total: number };
}

function cpuMark(koe: Koe): CpuMark {
  const postgres = new Map<number, number>();
  for (const pid of koe.postgresPids()) {
    const seconds = processCpuSeconds(pid);
    if (seconds !== undefined) postgres.set(pid, seconds);
  }
  return { atMs: wallNow(), process: process.cpuUsage(), threads: threadCpuSeconds(process.pid), postgres, machine: machineCpuSeconds() };
}

interface CpuFigures {
  seconds: number;
  /** This process, % of one core: Koe, the fake Twilio and (PGlite) the database worker. */
  processPercent: number;
  mainThreadPercent: number;
  otherThreadsPercent: number;
  /** PostgreSQL server processes, % of one core; NaN for PGlite. */
  postgresPercent: number;
  /** The whole machine busy, % of all cores, and the share other processes took. */
  machinePercent: number;
  otherProcessesPercent: number;
}

function cpuFigures(a: CpuMark, b: CpuMark, cores: number, postgres: boolean): CpuFigures {
  const seconds = (b.atMs - a.atMs) / 1000;
  const own = (b.process.user - a.process.user + b.process.system - a.process.system) / 1e6;
  let pg = 0;
  // Backends started inside the window count from zero.
  for (const [pid, after] of b.postgres) pg += after - (a.postgres.get(pid) ?? 0);
  const machineBusy = b.machine.busy - a.machine.busy;
  const machinePercent = (machineBusy / (b.machine.total - a.machine.total)) * 100;
  const main = a.threads && b.threads ? b.threads.main - a.threads.main : Number.NaN;
  const all = a.threads && b.threads ? b.threads.allThreads - a.threads.allThreads : Number.NaN;
  return {
    seconds,
    processPercent: (own / seconds) * 100,
    mainThreadPercent: (main / seconds) * 100,
    otherThreadsPercent: ((all - main) / seconds) * 100,
    postgresPercent: postgres ? (pg / seconds) * 100 : Number.NaN,
    machinePercent,
    otherProcessesPercent: Math.max(0, ((machineBusy - own - pg) / seconds / cores) * 100),
  };
}

// ── 1. import ────────────────────────────────────────────────────────────────────────────────────

interface ImportResult {
  rows: number;
  csvMib: number;
  bodyMib: number;
  totalMs: number;
  rowsPerSecond: number;
  /** campaigns.create: the campaign row and every contact, in one transaction. */
  insertMs: number;
  insertRowsPerSecond: number;
  /** The route's parse alone, called directly before Koe starts: parseContactsCsvOffThread (a new worker thread, the parse, the result handed back). */
  parseMs: number;
  /** The longest the main thread was blocked meanwhile (taking the parsed contacts back from the worker). */
  parseStallMs: number;
  /** parseContactsCsv on this thread, warm (libphonenumber loaded, JIT warm): the parse without the worker. */
  parseOnThreadMs: number;
  /** total − insert − parse: upload, JSON decoding, schema validation, template check, response. */
  restMs: number;
  imported: number;
  rejected: number;
  matchesGenerator: boolean;
  /**
   * RSS of the import's own process, MiB: before Koe started (node, tsx, the generated CSV), with Koe idle,
   * after the import, each after a full GC; and the peak during the import (sampled every 50 ms).
   */
  rssBaselineMib: number;
  /** Koe's event loop (this process's) during the POST: what live calls would feel. */
  eventLoop: { p99Ms: number; maxMs: number };
  rssIdleMib: number;
  rssAfterMib: number;
  rssPeakMib: number;
}

/** Collects garbage first when node runs with --expose-gc (the import child does), so RSS is what is kept. */
function settledRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

async function importPhase(backing: Backing, sample: ContactsSample): Promise<ImportResult> {
  // The route's parse alone, before Koe starts (nothing else on the CPU): a new worker each time, as the route.
  const parseLoop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  parseLoop.enable();
  const p0 = wallNow();
  await parseContactsCsvOffThread(sample.csv, { defaultCountry: CONTACTS_DEFAULT_COUNTRY });
  const parseMs = wallNow() - p0;
  await delay(3 * LOOP_RESOLUTION_MS); // the histogram records a stall when the timer it delayed fires
  parseLoop.disable();
  parseContactsCsv(sample.csv, { defaultCountry: CONTACTS_DEFAULT_COUNTRY }); // warm-up
  const p1 = wallNow();
  parseContactsCsv(sample.csv, { defaultCountry: CONTACTS_DEFAULT_COUNTRY });
  const parseOnThreadMs = wallNow() - p1;

  const rssBaseline = settledRss();
  const koe = await startKoe(backing, 20);
  try {
    const rows = sample.expected.rows;
    const body = JSON.stringify({
      name: `import ${rows}`,
      agentId: AGENT.id,
      csv: sample.csv,
      defaultCountry: CONTACTS_DEFAULT_COUNTRY,
      window: { start: '00:00', end: '24:00' },
    });
    const rssBefore = settledRss();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
    const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    loop.enable();
    const t0 = wallNow();
    const response = await api<CampaignRecord>(koe.server.base, 'POST', '/api/campaigns', { cookie: koe.cookie, body });
    const totalMs = wallNow() - t0;
    loop.disable();
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    const rssAfter = settledRss();
    if (response.status !== 201) throw new Error(`POST /api/campaigns answered ${response.status}: ${JSON.stringify(response.body).slice(0, 500)}`);
    const insertMs = koe.timings.durations.get('campaigns.create')?.[0] ?? Number.NaN;
    const report = response.body.importReport;
    const expectedRejected = sample.expected.invalid + sample.expected.duplicates;
    return {
      rows,
      csvMib: mib(Buffer.byteLength(sample.csv)),
      bodyMib: mib(Buffer.byteLength(body)),
      totalMs,
      rowsPerSecond: rows / (totalMs / 1000),
      insertMs,
      insertRowsPerSecond: report.imported / (insertMs / 1000),
      parseMs,
      parseStallMs: Math.max(0, parseLoop.max / 1e6 - LOOP_RESOLUTION_MS),
      parseOnThreadMs,
      restMs: totalMs - insertMs - parseMs,
      imported: report.imported,
      rejected: report.rejected,
      matchesGenerator: report.rows === rows && report.rejected === expectedRejected && response.body.counts.total === report.imported,
      rssBaselineMib: mib(rssBaseline),
      eventLoop: { p99Ms: Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS), maxMs: Math.max(0, loop.max / 1e6 - LOOP_RESOLUTION_MS) },
      rssIdleMib: mib(rssBefore),
      rssAfterMib: mib(rssAfter),
      rssPeakMib: mib(rssPeak),
    };
  } finally {
    await koe.server.close();
  }
}

/**
 * The import in a child process of its own, so Koe's memory is measured from a fresh process rather than
 * one that earlier phases (a PGlite worker's heap above all) have grown. The child regenerates the same CSV.
 */
async function importInChild(backing: Backing, rows: number, seed: number): Promise<ImportResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // One PostgreSQL server for the whole run: the child makes its database on this process's server.
  if (backing.backend === 'postgres') env.KOE_TEST_DATABASE_URL = await testPostgresUrl();
  const args = ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--import-child', '--backend', backing.backend];
  args.push('--import-rows', String(rows), '--seed', String(seed), '--pglite-storage', backing.pgliteStorage);
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
  const last = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !last.startsWith('{')) throw new Error(`the import child exited with ${code}: ${out.slice(-2000)}`);
  return JSON.parse(last) as ImportResult;
}

// ── 2 and 3. dispatch ────────────────────────────────────────────────────────────────────────────

interface DispatchPlan {
  name: 'pacing' | 'throughput';
  contacts: number;
  cps: number;
  maxConcurrent: number;
  ringMs: number;
}

interface Spread {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function spreadOf(values: readonly number[]): Spread {
  return { n: values.length, p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99), max: values.length ? Math.max(...values) : Number.NaN };
}

interface DispatchResult {
  plan: DispatchPlan;
  /** The campaign row was changed after creation to go past the API's limits. */
  setOnRow: boolean;
  dialed: number;
  allDialed: boolean;
  rate: RateFigures;
  /** measured / configured − 1, in %. */
  rateErrorPercent: number;
  dialedTwice: { numbers: number; extraCalls: number };
  outcome: { status: string; done: number; busy: number; attempts: number; inFlightMaxSeen: number };
  /** POST …/start sent → first POST /Calls at Twilio. */
  startToFirstCallMs: number;
  /** started_at → finished_at of the campaign row. */
  startToCompletedMs: number;
  /** Last POST /Calls at Twilio → the campaign row's finished_at (final callbacks + the housekeeping that marks it). */
  lastCallToCompletedMs: number;
  cpu: CpuFigures;
  eventLoop: { p50Ms: number; p99Ms: number; maxMs: number };
  calls: {
    /** The call's CPS slot → Twilio received POST /Calls. */
    slotToTwilioMs: Spread;
    /** The slot → the dispatcher's timer fired (confirmClaim started). */
    slotToTimerMs: Spread;
    confirmClaimMs: Spread;
    recordInsertMs: Spread;
    /** Koe's POST /Calls to the fake Twilio, request to answer. */
    twilioCreateMs: Spread;
    setDialedMs: Spread;
    markCallingMs: Spread;
  };
  /** The dispatcher's rounds while calls were going out: one claim per running campaign each. */
  ticks: { perSecond: number; periodMs: Spread };
  claims: { perSecond: number; batch: Spread; meanBatch: number; empty: number; claimMs: OpFigures };
  database: { roundTripsPerSecond: number; busyMsPerSecond: number; ops: Record<string, OpFigures> };
  fakeTwilioErrors: number;
  /** Contacts settled (outcome stored by a status callback) against calls placed. */
  settling: { perSecond: number; maxUnsettled: number; lastSettledAfterLastCallMs: number };
  /** Status callbacks the fake Twilio sent to Koe: answered 2xx, answered otherwise, not answered (with samples). */
  statusCallbacks: { sent: number; ok: number; refused: number; failed: number; samples: string[] };
}

function dispatchCsv(contacts: number): string {
  const lines = ['phone,name'];
  for (let i = 0; i < contacts; i += 1) {
    lines.push(`+1${AREAS[Math.floor(i / 10_000)] as string}555${String(i % 10_000).padStart(4, '0')},Contact ${i}`);
  }
  return `${lines.join('\n')}\n`;
}

function statusCallbackFigures(network: FakeTwilioNetwork, startedAtMs: number): DispatchResult['statusCallbacks'] {
  const figures = { sent: 0, ok: 0, refused: 0, failed: 0, samples: [] as string[] };
  for (const call of network.calls.values()) {
    for (const callback of call.callbacks) {
      if (callback.kind !== 'status') continue;
      figures.sent += 1;
      if (callback.answeredStatus !== null && callback.answeredStatus >= 200 && callback.answeredStatus < 300) figures.ok += 1;
      else {
        if (callback.answeredStatus !== null) figures.refused += 1;
        else figures.failed += 1;
        if (figures.samples.length < 5) {
          figures.samples.push(`${callback.event} sent at +${fmt((callback.sentAtMs - startedAtMs) / 1000, 1)} s: ${callback.error ?? `HTTP ${callback.answeredStatus}`}`);
        }
      }
    }
  }
  return figures;
}

async function getCampaign(koe: Koe, id: string): Promise<CampaignRecord> {
  const response = await api<CampaignRecord>(koe.server.base, 'GET', `/api/campaigns/${id}`, { cookie: koe.cookie });
  if (response.status !== 200) throw new Error(`GET /api/campaigns/${id} answered ${response.status}`);
  return response.body;
}

async function dispatchPhase(backing: Backing, plan: DispatchPlan, cores: number): Promise<DispatchResult> {
  const koe = await startKoe(backing, plan.ringMs);
  try {
    const created = await api<CampaignRecord>(koe.server.base, 'POST', '/api/campaigns', {
      cookie: koe.cookie,
      body: {
        name: `${plan.name} ${plan.contacts} at ${plan.cps}`,
        agentId: AGENT.id,
        csv: dispatchCsv(plan.contacts),
        callsPerSecond: Math.min(plan.cps, API_MAX_CPS),
        maxConcurrent: Math.min(plan.maxConcurrent, API_MAX_CONCURRENT),
        window: { start: '00:00', end: '24:00' },
        retry: { maxAttempts: 1 },
        machineDetection: false,
      },
    });
    if (created.status !== 201) throw new Error(`POST /api/campaigns answered ${created.status}: ${JSON.stringify(created.body).slice(0, 500)}`);
    const id = created.body.id;
    if (created.body.importReport.imported !== plan.contacts) throw new Error(`imported ${created.body.importReport.imported} of ${plan.contacts} contacts`);
    const setOnRow = plan.cps > API_MAX_CPS || plan.maxConcurrent > API_MAX_CONCURRENT;
    if (setOnRow) {
      await koe.server.store.db.query('UPDATE campaigns SET calls_per_second = $2, max_concurrent = $3 WHERE id = $1', [id, plan.cps, plan.maxConcurrent]);
    }
    koe.timings.clear();

    const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    const before = cpuMark(koe);
    loop.enable();
    const startedAtMs = wallNow();
    const started = await api<CampaignRecord>(koe.server.base, 'POST', `/api/campaigns/${id}/start`, { cookie: koe.cookie, body: {} });
    if (started.status !== 200) throw new Error(`start answered ${started.status}: ${JSON.stringify(started.body)}`);

    // Poll like the dashboard's campaign page while the calls go out.
    let inFlightMax = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        await delay(POLL_MS);
        const record = await getCampaign(koe, id).catch(() => undefined);
        if (record) inFlightMax = Math.max(inFlightMax, record.counts.inFlight);
      }
    })();
    const expectedMs = (plan.contacts / Math.min(plan.cps, API_MAX_CPS)) * 1000;
    let allDialed = true;
    await koe.network.waitForCalls(plan.contacts, expectedMs * 3 + 60_000).catch((err: unknown) => {
      allDialed = false;
      console.error(`  ${(err as Error).message}`);
    });
    const after = cpuMark(koe);
    loop.disable();
    polling = false;
    await poller;

    // Completed: every contact settled and housekeeping (every 2 s) has marked the campaign.
    let record = await getCampaign(koe, id);
    const deadline = Date.now() + 60_000;
    while (record.status !== 'completed' && Date.now() < deadline) {
      await delay(250);
      record = await getCampaign(koe, id);
    }
    await koe.network.idle(30_000).catch(() => undefined);

    const calls = koe.network.created;
    const times = calls.map((c) => c.atMs);
    const rate = rateFigures(times);
    const settledRate = rateFigures(koe.timings.settledAtMs);
    const lastCallMs = times.length ? Math.max(...times) : Number.NaN;
    const firstCallMs = times.length ? Math.min(...times) : Number.NaN;
    const startedAt = record.startedAt ? Date.parse(record.startedAt) : Number.NaN;
    const finishedAt = record.finishedAt ? Date.parse(record.finishedAt) : Number.NaN;

    // Per call: slot → timer → confirm → insert → Twilio → setDialed → markCalling.
    const arrivalByNumber = new Map(calls.map((c) => [c.to, c.atMs]));
    const slotToTwilio: number[] = [];
    const slotToTimer: number[] = [];
    const confirm: number[] = [];
    const insert: number[] = [];
    const twilioCreate: number[] = [];
    const setDialed: number[] = [];
    const mark: number[] = [];
    for (const t of koe.timings.calls.values()) {
      const arrival = arrivalByNumber.get(t.to);
      if (arrival !== undefined) slotToTwilio.push(arrival - t.slotAtMs);
      if (t.confirmStartMs !== undefined) slotToTimer.push(t.confirmStartMs - t.slotAtMs);
      if (t.confirmStartMs !== undefined && t.confirmEndMs !== undefined) confirm.push(t.confirmEndMs - t.confirmStartMs);
      if (t.insertStartMs !== undefined && t.insertEndMs !== undefined) insert.push(t.insertEndMs - t.insertStartMs);
      if (t.insertEndMs !== undefined && t.dialedStartMs !== undefined) twilioCreate.push(t.dialedStartMs - t.insertEndMs);
      if (t.dialedStartMs !== undefined && t.dialedEndMs !== undefined) setDialed.push(t.dialedEndMs - t.dialedStartMs);
      if (t.markStartMs !== undefined && t.markEndMs !== undefined) mark.push(t.markEndMs - t.markStartMs);
    }

    const cpu = cpuFigures(before, after, cores, backing.backend === 'postgres');
    const windowS = cpu.seconds;
    const ops = koe.timings.figures();
    const dbQueries = ops['db.query'];
    const dbTransactions = ops['db.transaction'];
    const roundTrips = (dbQueries?.n ?? 0) + (dbTransactions?.n ?? 0);
    const dbBusyMs = (dbQueries?.totalMs ?? 0) + (dbTransactions?.totalMs ?? 0);
    const claimSpan = (koe.timings.claimAtMs.at(-1) ?? 0) - (koe.timings.claimAtMs[0] ?? 0);
    const ticks = koe.timings.tickAtMs.filter((t) => t >= startedAtMs && t <= lastCallMs);
    const tickPeriods = ticks.slice(1).map((t, i) => t - (ticks[i] as number));
    return {
      plan,
      setOnRow,
      dialed: calls.length,
      allDialed,
      rate,
      rateErrorPercent: (rate.measuredCps / plan.cps - 1) * 100,
      dialedTwice: repeatedCalls(calls.map((c) => c.to)),
      outcome: {
        status: record.status,
        done: record.counts.done,
        busy: record.counts.outcomes.busy,
        attempts: record.counts.attempts,
        inFlightMaxSeen: inFlightMax,
      },
      startToFirstCallMs: firstCallMs - startedAtMs,
      startToCompletedMs: finishedAt - startedAt,
      lastCallToCompletedMs: finishedAt - lastCallMs,
      cpu,
      eventLoop: {
        p50Ms: Math.max(0, loop.percentile(50) / 1e6 - LOOP_RESOLUTION_MS),
        p99Ms: Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
        maxMs: Math.max(0, loop.max / 1e6 - LOOP_RESOLUTION_MS),
      },
      calls: {
        slotToTwilioMs: spreadOf(slotToTwilio),
        slotToTimerMs: spreadOf(slotToTimer),
        confirmClaimMs: spreadOf(confirm),
        recordInsertMs: spreadOf(insert),
        twilioCreateMs: spreadOf(twilioCreate),
        setDialedMs: spreadOf(setDialed),
        markCallingMs: spreadOf(mark),
      },
      ticks: { perSecond: tickPeriods.length / (((ticks.at(-1) ?? 0) - (ticks[0] ?? 0)) / 1000), periodMs: spreadOf(tickPeriods) },
      claims: {
        perSecond: claimSpan > 0 ? (koe.timings.claimAtMs.length - 1) / (claimSpan / 1000) : Number.NaN,
        batch: spreadOf(koe.timings.claimBatches),
        meanBatch: koe.timings.claimBatches.reduce((s, n) => s + n, 0) / Math.max(1, koe.timings.claimBatches.length),
        empty: koe.timings.emptyClaims,
        claimMs: ops['campaigns.claim'] ?? opFigures([]),
      },
      database: { roundTripsPerSecond: roundTrips / windowS, busyMsPerSecond: dbBusyMs / windowS, ops },
      fakeTwilioErrors: koe.network.errors.length,
      settling: {
        perSecond: settledRate.measuredCps,
        maxUnsettled: maxUnsettled(times, koe.timings.settledAtMs),
        lastSettledAfterLastCallMs: (koe.timings.settledAtMs.at(-1) ?? Number.NaN) - lastCallMs,
      },
      statusCallbacks: statusCallbackFigures(koe.network, startedAtMs),
    };
  } finally {
    await koe.server.close();
  }
}

// ── report ───────────────────────────────────────────────────────────────────────────────────────

function printImport(r: ImportResult): void {
  console.log(`  CSV import, ${int(r.rows)} rows (${fmt(r.csvMib, 1)} MiB of CSV, ${fmt(r.bodyMib, 1)} MiB of JSON), one POST /api/campaigns:`);
  console.log(`    total ${int(r.totalMs)} ms → ${int(r.rowsPerSecond)} rows/s; imported ${int(r.imported)}, rejected ${int(r.rejected)} (generator check: ${r.matchesGenerator ? 'ok' : 'MISMATCH'})`);
  console.log(`    database insert (campaigns.create) ${int(r.insertMs)} ms → ${int(r.insertRowsPerSecond)} contacts/s`);
  console.log(
    `    CSV parse as the route does it (parseContactsCsvOffThread alone: a new worker, the parse, the hand-back) ${int(r.parseMs)} ms, ` +
      `blocking the event loop up to ${int(r.parseStallMs)} ms (parseContactsCsv on a warm thread: ${int(r.parseOnThreadMs)} ms)`,
  );
  console.log(`    the rest (upload, JSON, validation, response) ${int(r.restMs)} ms`);
  console.log(
    `    RSS of the import's own process: ${int(r.rssBaselineMib)} MiB before Koe started, ${int(r.rssIdleMib)} MiB with Koe idle, ` +
      `${int(r.rssAfterMib)} MiB after the import, peak ${int(r.rssPeakMib)} MiB`,
  );
  console.log(`    Koe's event-loop delay during the import: p99 ${fmt(r.eventLoop.p99Ms, 1)} ms, max ${fmt(r.eventLoop.maxMs, 1)} ms`);
}

const spreadCells = (s: Spread, digits = 1): string[] => [fmt(s.p50, digits), fmt(s.p95, digits), fmt(s.p99, digits), fmt(s.max, digits)];

function printDispatch(r: DispatchResult): void {
  const p = r.plan;
  const title = p.name === 'pacing' ? 'Pacing' : 'Throughput';
  console.log(
    `  ${title}: ${int(p.contacts)} contacts at ${p.cps} calls/s, at most ${int(p.maxConcurrent)} at once${r.setOnRow ? ' (set on the campaign row: past the API limits)' : ''}; ` +
      `callees busy after a ${p.ringMs} ms ring, 1 attempt`,
  );
  const rate = r.rate;
  console.log(`    calls placed ${int(r.dialed)}${r.allDialed ? '' : ' (NOT ALL)'}; measured ${fmt(rate.measuredCps, 2)} calls/s over ${fmt(rate.spanMs / 1000, 1)} s (configured ${p.cps}: ${r.rateErrorPercent >= 0 ? '+' : ''}${fmt(r.rateErrorPercent, 2)} %)`);
  console.log(
    `    calls per 1 s window (${rate.windows}): min ${rate.perSecond.min} / p5 ${rate.perSecond.p5} / median ${rate.perSecond.p50} / p95 ${rate.perSecond.p95} / max ${rate.perSecond.max}; ` +
      `busiest 100 ms: ${rate.max100msCalls} calls`,
  );
  console.log(`    gap between calls p50 ${fmt(rate.gapMs.p50, 1)} / p95 ${fmt(rate.gapMs.p95, 1)} / p99 ${fmt(rate.gapMs.p99, 1)} / max ${fmt(rate.gapMs.max, 1)} ms`);
  console.log(
    `    dialed twice: ${r.dialedTwice.numbers} numbers; campaign ${r.outcome.status}: ${int(r.outcome.done)} done, ${int(r.outcome.busy)} busy, ${int(r.outcome.attempts)} attempts; ` +
      `in flight at most ${r.outcome.inFlightMaxSeen} (polled every ${POLL_MS / 1000} s); fake Twilio errors ${r.fakeTwilioErrors}`,
  );
  console.log(
    `    start → first call ${int(r.startToFirstCallMs)} ms; start → completed ${fmt(r.startToCompletedMs / 1000, 1)} s ` +
      `(last call → completed ${fmt(r.lastCallToCompletedMs / 1000, 1)} s: the last callbacks, then housekeeping every 2 s)`,
  );
  const c = r.cpu;
  console.log(
    `    CPU while dialing, % of one core: this process ${fmt(c.processPercent)} (main thread: Koe and the fake Twilio ${fmt(c.mainThreadPercent)}; ` +
      `other threads${Number.isFinite(c.postgresPercent) ? '' : ': PGlite, GC'} ${fmt(c.otherThreadsPercent)})` +
      `${Number.isFinite(c.postgresPercent) ? `, PostgreSQL ${fmt(c.postgresPercent)}` : ''}; machine ${fmt(c.machinePercent)} % busy, other processes ${fmt(c.otherProcessesPercent)} %`,
  );
  console.log(
    `    contacts settled ${fmt(r.settling.perSecond, 1)}/s; placed but not settled at most ${int(r.settling.maxUnsettled)}; ` +
      `last settled ${fmt(r.settling.lastSettledAfterLastCallMs / 1000, 1)} s after the last call`,
  );
  const cb = r.statusCallbacks;
  console.log(`    status callbacks to Koe: ${int(cb.sent)} sent, ${int(cb.ok)} answered 2xx, ${cb.refused} refused, ${cb.failed} not answered${cb.samples.length ? ` (${cb.samples.join('; ')})` : ''}`);
  console.log(`    event-loop delay p50 ${fmt(r.eventLoop.p50Ms, 1)} / p99 ${fmt(r.eventLoop.p99Ms, 1)} / max ${fmt(r.eventLoop.maxMs, 1)} ms`);
  console.log(`    dispatcher rounds ${fmt(r.ticks.perSecond, 1)}/s, one every p50 ${fmt(r.ticks.periodMs.p50)} / p95 ${fmt(r.ticks.periodMs.p95)} / max ${fmt(r.ticks.periodMs.max)} ms`);
  console.log(
    `    claims ${fmt(r.claims.perSecond, 1)}/s, ${fmt(r.claims.meanBatch, 1)} contacts each (max ${r.claims.batch.max}), ${r.claims.empty} empty; ` +
      `claim transaction p50 ${fmt(r.claims.claimMs.p50Ms, 1)} / p95 ${fmt(r.claims.claimMs.p95Ms, 1)} / max ${fmt(r.claims.claimMs.maxMs, 1)} ms`,
  );
  console.log(`    database: ${int(r.database.roundTripsPerSecond)} round trips/s (queries + transactions; their durations, queueing included, add up to ${fmt(r.database.busyMsPerSecond / 1000, 1)} s per s)`);
  const rows = [['per call (ms)', 'p50', 'p95', 'p99', 'max']];
  const k = r.calls;
  rows.push(['CPS slot → Twilio has POST /Calls', ...spreadCells(k.slotToTwilioMs)]);
  rows.push(['  slot → dispatcher timer fires', ...spreadCells(k.slotToTimerMs)]);
  rows.push(['  confirmClaim', ...spreadCells(k.confirmClaimMs)]);
  rows.push(['  call record insert', ...spreadCells(k.recordInsertMs)]);
  rows.push(['  POST /Calls (request → answer)', ...spreadCells(k.twilioCreateMs)]);
  rows.push(['then setDialed', ...spreadCells(k.setDialedMs)]);
  rows.push(['then markCalling', ...spreadCells(k.markCallingMs)]);
  const status = r.database.ops['outbound.applyStatus'];
  if (status) rows.push(['status callback (applyStatus)', fmt(status.p50Ms, 1), fmt(status.p95Ms, 1), fmt(status.p99Ms, 1), fmt(status.maxMs, 1)]);
  console.log(table(rows).replace(/^/gm, '    '));
}

interface BackendResult {
  backend: Backend;
  /** The machine's CPU busy (% of all cores) right before each phase, after waiting for quiet. */
  machineBusyBeforePercent: Record<string, number>;
  import?: ImportResult;
  pacing: DispatchResult;
  throughput?: DispatchResult;
}

function printSummary(results: readonly BackendResult[]): void {
  const header = ['', ...results.map((r) => (r.backend === 'pglite' ? 'PGlite' : 'PostgreSQL'))];
  const rows: string[][] = [header];
  const add = (label: string, cell: (r: BackendResult) => string): void => {
    rows.push([label, ...results.map(cell)]);
  };
  if (results.some((r) => r.import)) {
    add('import: total ms (rows/s)', (r) => (r.import ? `${int(r.import.totalMs)} (${int(r.import.rowsPerSecond)})` : '–'));
    add('  insert / parse / rest ms', (r) => (r.import ? `${int(r.import.insertMs)} / ${int(r.import.parseMs)} / ${int(r.import.restMs)}` : '–'));
    add('  event-loop delay p99 / max ms', (r) => (r.import ? `${fmt(r.import.eventLoop.p99Ms, 1)} / ${fmt(r.import.eventLoop.maxMs, 1)}` : '–'));
    add('  RSS no Koe / Koe idle / after (peak) MiB', (r) => (r.import ? `${int(r.import.rssBaselineMib)} / ${int(r.import.rssIdleMib)} / ${int(r.import.rssAfterMib)} (${int(r.import.rssPeakMib)})` : '–'));
  }
  const pacing = (label: string, cell: (d: DispatchResult) => string): void => add(label, (r) => cell(r.pacing));
  const first = results[0]?.pacing.plan;
  if (first) {
    pacing(`pacing: calls/s measured (configured ${first.cps})`, (d) => `${fmt(d.rate.measuredCps, 2)} (${d.rateErrorPercent >= 0 ? '+' : ''}${fmt(d.rateErrorPercent, 2)} %)`);
    pacing('  per 1 s: min / p5 / median / p95 / max', (d) => [d.rate.perSecond.min, d.rate.perSecond.p5, d.rate.perSecond.p50, d.rate.perSecond.p95, d.rate.perSecond.max].join(' / '));
    pacing('  gaps p50 / p95 / p99 ms', (d) => `${fmt(d.rate.gapMs.p50, 1)} / ${fmt(d.rate.gapMs.p95, 1)} / ${fmt(d.rate.gapMs.p99, 1)}`);
    pacing('  slot → Twilio p50 / p99 ms', (d) => `${fmt(d.calls.slotToTwilioMs.p50, 1)} / ${fmt(d.calls.slotToTwilioMs.p99, 1)}`);
    pacing('  dialed twice', (d) => String(d.dialedTwice.numbers));
    pacing('  status callbacks not answered', (d) => `${d.statusCallbacks.failed + d.statusCallbacks.refused} of ${int(d.statusCallbacks.sent)}`);
    pacing('  start → completed s', (d) => fmt(d.startToCompletedMs / 1000, 1));
    pacing('  CPU this process / PostgreSQL %', (d) => `${fmt(d.cpu.processPercent)} / ${fmt(d.cpu.postgresPercent)}`);
    pacing('  event-loop delay p99 / max ms', (d) => `${fmt(d.eventLoop.p99Ms, 1)} / ${fmt(d.eventLoop.maxMs, 1)}`);
  }
  if (results.some((r) => r.throughput)) {
    const tp = (label: string, cell: (d: DispatchResult) => string): void => add(label, (r) => (r.throughput ? cell(r.throughput) : '–'));
    tp(`throughput: calls placed/s (configured ${results.find((r) => r.throughput)?.throughput?.plan.cps ?? '–'})`, (d) => `${fmt(d.rate.measuredCps, 1)} (median 1 s: ${d.rate.perSecond.p50})`);
    tp('  contacts settled/s; placed, unsettled max', (d) => `${fmt(d.settling.perSecond, 1)}; ${int(d.settling.maxUnsettled)}`);
    tp('  status callbacks not answered', (d) => `${d.statusCallbacks.failed + d.statusCallbacks.refused} of ${int(d.statusCallbacks.sent)}`);
    tp('  claims/s × contacts per claim', (d) => `${fmt(d.claims.perSecond, 1)} × ${fmt(d.claims.meanBatch, 1)}`);
    tp('  dispatcher round p50 / p95 ms', (d) => `${fmt(d.ticks.periodMs.p50)} / ${fmt(d.ticks.periodMs.p95)}`);
    tp('  claim ms p50 / p95', (d) => `${fmt(d.claims.claimMs.p50Ms, 1)} / ${fmt(d.claims.claimMs.p95Ms, 1)}`);
    tp('  slot → Twilio p50 / p99 ms', (d) => `${fmt(d.calls.slotToTwilioMs.p50, 1)} / ${fmt(d.calls.slotToTwilioMs.p99, 1)}`);
    tp('  db round trips/s', (d) => int(d.database.roundTripsPerSecond));
    tp('  CPU this process / PostgreSQL %', (d) => `${fmt(d.cpu.processPercent)} / ${fmt(d.cpu.postgresPercent)}`);
    tp('  dialed twice', (d) => String(d.dialedTwice.numbers));
  }
  console.log(table(rows));
}

/** Runs every phase; false when a check failed (a number dialed twice, a pacing run unfinished, the import's counts). */
async function main(): Promise<boolean> {
  const opts = parseOptions();
  if (opts.importChild) {
    const backend = opts.backends[0] as Backend;
    const result = await importPhase({ backend, pgliteStorage: opts.pgliteStorage }, generateContactsSample(opts.importRows, opts.seed));
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return true;
  }
  const machine = machineInfo();
  console.log(
    `Campaign benchmark: import ${opts.skipImport ? 'skipped' : `${int(opts.importRows)} rows`}; pacing ${int(opts.contacts)} contacts at ${opts.cps} calls/s; ` +
      `throughput ${opts.skipThroughput ? 'skipped' : `${int(opts.throughputContacts)} contacts at ${opts.throughputCps} calls/s`}; ${opts.backends.join(' and ')}`,
  );
  console.log(`Machine: ${machine.cores} × ${machine.cpuModel}, ${fmt(machine.memTotalBytes / 2 ** 30, 1)} GiB, Node ${machine.node}, kernel ${machine.kernel}`);
  const idleBusy = await machineBusyPercent(1000);
  console.log(`Machine busy before the run: ${fmt(idleBusy)} % of ${machine.cores} cores`);
  const quiet = async (): Promise<number> => {
    const busy = await waitForQuiet(opts.quietWaitSeconds);
    console.log(`  (machine ${fmt(busy)} % busy before this phase)`);
    return busy;
  };

  const results: BackendResult[] = [];
  for (const backend of opts.backends) {
    const backing: Backing = { backend, pgliteStorage: opts.pgliteStorage };
    console.log(`\n── ${backend === 'pglite' ? `PGlite (embedded, ${opts.pgliteStorage === 'disk' ? 'on disk' : 'in memory'})` : 'PostgreSQL (test server: fsync and synchronous_commit off)'} ──`);
    const result: Partial<BackendResult> & { backend: Backend } = { backend, machineBusyBeforePercent: {} };
    const busyBefore = result.machineBusyBeforePercent as Record<string, number>;
    if (!opts.skipImport) {
      busyBefore.import = await quiet();
      result.import = await importInChild(backing, opts.importRows, opts.seed);
      printImport(result.import);
    }
    busyBefore.pacing = await quiet();
    result.pacing = await dispatchPhase(backing, { name: 'pacing', contacts: opts.contacts, cps: opts.cps, maxConcurrent: opts.maxConcurrent, ringMs: opts.ringMs }, machine.cores);
    printDispatch(result.pacing);
    if (!opts.skipThroughput) {
      busyBefore.throughput = await quiet();
      result.throughput = await dispatchPhase(
        backing,
        { name: 'throughput', contacts: opts.throughputContacts, cps: opts.throughputCps, maxConcurrent: opts.throughputMaxConcurrent, ringMs: opts.ringMs },
        machine.cores,
      );
      printDispatch(result.throughput);
    }
    results.push(result as BackendResult);
  }

  console.log('\nSummary');
  printSummary(results);
  const noisy = results.some((r) => r.pacing.cpu.otherProcessesPercent > 10 || (r.throughput?.cpu.otherProcessesPercent ?? 0) > 10);
  if (noisy) console.log('NOTE: other processes used the CPU during a run; run again on a quiet machine for clean figures');

  const report = { when: new Date().toISOString(), machine, machineBusyBeforePercent: idleBusy, options: opts, results };
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nSaved ${opts.out}`);

  const problems: string[] = [];
  for (const r of results) {
    if (r.import && !r.import.matchesGenerator) problems.push(`${r.backend}: the import's counts do not match the generator`);
    for (const d of [r.pacing, r.throughput]) {
      if (!d) continue;
      if (d.dialedTwice.numbers > 0) problems.push(`${r.backend} ${d.plan.name}: ${d.dialedTwice.numbers} numbers dialed twice`);
      if (!d.allDialed) problems.push(`${r.backend} ${d.plan.name}: not every contact was dialed`);
    }
    if (r.pacing.outcome.status !== 'completed') problems.push(`${r.backend} pacing: the campaign did not complete (${r.pacing.outcome.status})`);
  }
  for (const problem of problems) console.log(`CHECK FAILED: ${problem}`);
  return problems.length === 0;
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
