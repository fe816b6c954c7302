// Dashboard benchmark: how long a call event takes to become visible in a browser with 50 live calls, what
// the database writes sustain meanwhile, and whether the audio path slows down.
//
//   npm run bench:dashboard            (node --import tsx bench/dashboard-live.ts)
//   node --import tsx bench/dashboard-live.ts --calls 50 --seconds 30 --period-ms 5000 [--postgres | --database-url postgres://…]
//        [--stagger-ms 3000] [--quiet-wait-seconds 60] [--out bench/results/dashboard-<time>.json]
//
// Koe runs as its own process (`koe start`, PGlite in a temporary KOE_DATA_DIR, or PostgreSQL: a throwaway
// server with --postgres, or yours with --database-url) against a scripted Realtime model in this process
// (test/support/scripted-model.ts: the fake of OpenAI's service with an energy VAD, so Koe's real bridge,
// store writer and live hub run).
// N simulated Twilio callers (the voice webhook, then the media stream, 20 ms μ-law frames in real time)
// each speak one second of "speech" every period (random phase) and hold the line with silence; the model
// answers every turn with a transcript and a one-second reply. Every turn's words carry a unique token
// (q<call>n<turn> for the caller, a<call>n<turn> for the agent).
//
// Debian's Chromium (playwright-core, headless) logs in and stays on the live page. A MutationObserver
// added before the page's own scripts records, for each token, the wall-clock time (Date.now()) it first
// entered the DOM, and the start of the next animation frame after it (when it can be painted). A
// WebSocket client in this process follows WS /api/live too and records each token's first event: its
// `at` (Koe's wall clock when the event was made) is the start of the measurement; the same machine's
// clock is on both ends. Reported for the events of the measured window (--seconds, once every call is
// taking turns; call set-up, the first turns and the hang-ups are outside it): event → DOM and event →
// next frame (p50/p95/p99/max), event → this process's live client (the fan-out alone), and tokens never
// shown at all.
//
// Database: the store writer's metrics (koe_store_writes_total, koe_store_write_seconds,
// koe_store_dropped_writes_total) from /metrics before and after the window, as rates; its queue depth
// (koe_store_queue_depth) sampled every 250 ms; and afterwards the turns stored (GET /api/calls) against
// the turn events seen live.
//
// Audio path: caller speech end → first reply audio at the caller (p50/p95/p99/max) with N calls, against
// the same figure with one call before the load; caller frames sent vs audio the model received (lost);
// Koe's event-loop delay; CPU of Koe, Chromium, PostgreSQL (--postgres) and this process (which plays N
// callers and the model) over the window, and of everything else on the machine (a noisy run is flagged).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import type { CallEvent, LiveMessage } from '../src/server/api/api-types.js';
import type { CallRecord, Page as ApiPage } from '../src/server/api/api-types.js';
import type { FakeRealtimeServer } from '../test/fakes/fake-realtime-server.js';
import { launchChromium, openLivePage, loginInBrowser, openPage, requireBuiltDashboard } from '../test/support/browser.js';
import { ADMIN_PASSWORD, KoeProcess, makeTempDir, sumMetric } from '../test/support/koe-process.js';
import { PhoneCaller } from '../test/support/place-call.js';
import { speechLike, startScriptedModel } from '../test/support/scripted-model.js';
import type { TestPostgres } from '../scripts/postgres-for-tests.mjs';
import { startPostgres } from '../scripts/postgres-for-tests.mjs';
import { descendantPids, machineCpuSeconds, machineInfo, postmasterPid, processCpuSeconds, processMemory } from './proc-stats.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SPEECH_MS = 1000;
const REPLY_AUDIO_MS = 1000;
const TOKEN_RE = /\b[qa]\d+n\d+\b/g;

// Ctrl-C still runs the 'exit' handlers of test/support/koe-process.ts (kill Koe, remove temp folders).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

interface Options {
  calls: number;
  seconds: number;
  periodMs: number;
  staggerMs: number;
  databaseUrl: string | undefined;
  /** Start a throwaway PostgreSQL server (scripts/postgres-for-tests.mjs) and use it. */
  postgres: boolean;
  /** Wait up to this long for other processes to leave the CPU before starting. */
  quietWaitSeconds: number;
  out: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '30' },
      'period-ms': { type: 'string', default: '5000' },
      'stagger-ms': { type: 'string', default: '3000' },
      'database-url': { type: 'string' },
      postgres: { type: 'boolean', default: false },
      'quiet-wait-seconds': { type: 'string', default: '60' },
      out: { type: 'string' },
    },
  });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    calls: Number(values.calls),
    seconds: Number(values.seconds),
    periodMs: Number(values['period-ms']),
    staggerMs: Number(values['stagger-ms']),
    databaseUrl: values['database-url'],
    postgres: values.postgres,
    quietWaitSeconds: Number(values['quiet-wait-seconds']),
    out: values.out ?? join(REPO_ROOT, 'bench', 'results', `dashboard-${stamp}.json`),
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** Nearest-rank percentile; NaN for no values. */
function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

interface Distribution {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function distribution(values: readonly number[]): Distribution {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : Number.NaN,
  };
}

const callerNumber = (index: number): string => `+1555${String(2_000_000 + index).padStart(7, '0')}`;
const indexOfCaller = (instructions: string): number => Number(/caller \+1555(\d{7})/.exec(instructions)?.[1] ?? Number.NaN) - 2_000_000;

function benchAgentsFile(dir: string): string {
  const path = join(dir, 'agents.yaml');
  writeFileSync(
    path,
    `defaultAgent: bench
agents:
  - id: bench
    name: Dashboard benchmark
    instructions: You answer the phone for caller {{callerNumber}}. Be brief.
    greeting: Hello caller {{callerNumber}}.
    turnDetection:
      type: server_vad
      threshold: 0.5
      prefixPaddingMs: 300
      silenceDurationMs: 500
`,
  );
  return path;
}

/**
 * Runs in the page before its own scripts: the first time each token enters the DOM (Date.now()) and the
 * start of the animation frame after it. Scans only what changed (added nodes, changed text).
 */
const OBSERVER_SCRIPT = `(() => {
  const seen = new Map();
  const re = ${TOKEN_RE.toString()};
  const pendingFrame = [];
  const scan = (text, now) => {
    if (!text) return;
    for (const token of text.match(re) || []) {
      if (seen.has(token)) continue;
      const entry = { dom: now, frame: null };
      seen.set(token, entry);
      pendingFrame.push(entry);
    }
  };
  const observer = new MutationObserver((records) => {
    const now = Date.now();
    for (const r of records) {
      if (r.type === 'characterData') scan(r.target.data, now);
      else for (const node of r.addedNodes) scan(node.textContent, now);
    }
    if (pendingFrame.length > 0) {
      requestAnimationFrame(() => {
        const at = Date.now();
        for (const entry of pendingFrame.splice(0)) entry.frame = at;
      });
    }
  });
  const start = () => observer.observe(document.documentElement, { subtree: true, childList: true, characterData: true });
  if (document.documentElement) start(); else document.addEventListener('DOMContentLoaded', start);
  window.__koeTokens = () => Object.fromEntries(seen);
  // Main-thread tasks over 50 ms (the browser's own long-task entries), to explain a slow tail.
  const longTasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longTasks.push({ at: performance.timeOrigin + e.startTime, ms: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch {}
  window.__koeLongTasks = () => longTasks;
})()`;

interface TokenSeen {
  /** Koe's `at` of the first event carrying the token (epoch ms). */
  eventAt: number;
  eventType: string;
  /** When this process's live client received that event (epoch ms). */
  receivedAt: number;
}

/** Follows WS /api/live like a second dashboard: the first event carrying each token, and every turn event. */
class LiveFollower {
  readonly tokens = new Map<string, TokenSeen>();
  turnEvents = 0;
  events = 0;
  readonly #ws: WebSocket;

  constructor(url: string, cookie: string) {
    this.#ws = new WebSocket(url, { headers: { cookie }, perMessageDeflate: false });
    this.#ws.on('message', (data) => this.#onMessage(data.toString()));
    this.#ws.on('error', (err) => console.error(`live follower: ${err.message}`));
  }

  opened(): Promise<void> {
    return new Promise((done, fail) => {
      this.#ws.once('open', () => done());
      this.#ws.once('error', fail);
    });
  }

  close(): void {
    this.#ws.close();
  }

  #onMessage(text: string): void {
    const receivedAt = Date.now();
    const message = JSON.parse(text) as LiveMessage;
    const events: CallEvent[] = message.type === 'event' ? [message.event] : message.calls.flatMap((c) => c.events);
    for (const event of events) {
      this.events += 1;
      if (event.type === 'turn.user' || event.type === 'turn.assistant') this.turnEvents += 1;
      const text = event.type === 'transcript.partial' ? event.text : event.type === 'turn.user' ? (event.text ?? '') : event.type === 'turn.assistant' ? event.text : '';
      for (const token of text.match(TOKEN_RE) ?? []) {
        if (!this.tokens.has(token)) this.tokens.set(token, { eventAt: Date.parse(event.at), eventType: event.type, receivedAt });
      }
    }
  }
}

/** One caller's turns: speech end (performance.now()) → first reply audio. */
interface CallerResult {
  replyLatenciesMs: number[];
  turns: number;
  framesSent: number;
  bytesReceived: number;
  errors: string[];
}

async function runCaller(caller: PhoneCaller, opts: { untilMs: number; periodMs: number; firstTurnAtMs: number }): Promise<CallerResult> {
  const result: CallerResult = { replyLatenciesMs: [], turns: 0, framesSent: 0, bytesReceived: 0, errors: [] };
  let speechEndedAt: number | undefined;
  caller.stream.on('media', () => {
    if (speechEndedAt === undefined) return;
    result.replyLatenciesMs.push(performance.now() - speechEndedAt);
    speechEndedAt = undefined;
  });
  try {
    await caller.waitForGreeting(15_000);
    let nextTurnAt = opts.firstTurnAtMs;
    while (Math.max(nextTurnAt, performance.now()) + SPEECH_MS <= opts.untilMs) {
      await caller.holdLine(() => performance.now() >= nextTurnAt, opts.periodMs * 3, 'the next turn');
      if (speechEndedAt !== undefined) result.errors.push('no reply to the previous turn');
      await caller.stream.sendAudio(speechLike(SPEECH_MS), { pace: 'realtime' });
      speechEndedAt = performance.now();
      result.turns += 1;
      nextTurnAt += opts.periodMs;
    }
    // Let the last reply arrive, then hang up.
    await caller.holdLine(() => speechEndedAt === undefined && caller.agentQuiet, 10_000, 'the last reply');
  } catch (err) {
    result.errors.push(err instanceof Error ? err.message : String(err));
  } finally {
    result.framesSent = caller.stream.stats.framesSent;
    result.bytesReceived = caller.stream.stats.bytesReceived;
    await caller.hangUp().catch(() => undefined);
  }
  return result;
}

interface ProcessCpu {
  pid: number;
  cpuSeconds: number | undefined;
}

function cpuOf(pids: number[]): ProcessCpu[] {
  return pids.map((pid) => ({ pid, cpuSeconds: processCpuSeconds(pid) }));
}

function cpuPercent(before: ProcessCpu[], after: ProcessCpu[], seconds: number): number {
  let used = 0;
  for (const b of before) {
    const a = after.find((x) => x.pid === b.pid);
    if (a?.cpuSeconds !== undefined && b.cpuSeconds !== undefined) used += a.cpuSeconds - b.cpuSeconds;
  }
  return (used / seconds) * 100;
}

interface StoreFigures {
  writtenPerSecond: number;
  retriedPerSecond: number;
  rejected: number;
  dropped: number;
  batchesPerSecond: number;
  meanWritesPerBatch: number;
  meanBatchMs: number;
  /** Upper bound of the histogram bucket holding the 99th percentile batch. */
  batchP99UpToMs: number;
  queueDepthMaxSampled: number;
}

/** The store writer's figures over a window, from two /metrics scrapes. */
function storeFigures(before: string, after: string, seconds: number, queueDepthMax: number): StoreFigures {
  const delta = (name: string, labels: Record<string, string> = {}): number => {
    const a = sumMetric(after, name, labels);
    const b = sumMetric(before, name, labels);
    return (Number.isFinite(a) ? a : 0) - (Number.isFinite(b) ? b : 0);
  };
  const written = delta('koe_store_writes_total', { outcome: 'written' });
  const batches = delta('koe_store_write_seconds_count');
  const buckets: Array<{ le: number; count: number }> = [];
  for (const line of after.split('\n')) {
    const match = /^koe_store_write_seconds_bucket\{le="([^"]+)"\}\s+(\S+)/.exec(line);
    if (!match) continue;
    const le = match[1] === '+Inf' ? Infinity : Number(match[1]);
    const beforeCount = sumMetric(before, 'koe_store_write_seconds_bucket', { le: match[1] as string });
    buckets.push({ le, count: Number(match[2]) - (Number.isFinite(beforeCount) ? beforeCount : 0) });
  }
  const p99 = buckets.find((b) => b.count >= batches * 0.99)?.le ?? Number.NaN;
  return {
    writtenPerSecond: written / seconds,
    retriedPerSecond: delta('koe_store_writes_total', { outcome: 'retried' }) / seconds,
    rejected: delta('koe_store_writes_total', { outcome: 'rejected' }),
    dropped: delta('koe_store_dropped_writes_total'),
    batchesPerSecond: batches / seconds,
    meanWritesPerBatch: batches > 0 ? written / batches : Number.NaN,
    meanBatchMs: batches > 0 ? (delta('koe_store_write_seconds_sum') / batches) * 1000 : Number.NaN,
    batchP99UpToMs: p99 * 1000,
    queueDepthMaxSampled: queueDepthMax,
  };
}

/** Machine CPU busy % over `ms`. */
async function machineBusyPercent(ms: number): Promise<number> {
  const a = machineCpuSeconds();
  await delay(ms);
  const b = machineCpuSeconds();
  return ((b.busy - a.busy) / (b.total - a.total)) * 100;
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '–';
}

function row(label: string, d: Distribution, unit = 'ms'): string {
  return `  ${label.padEnd(44)} ${String(d.n).padStart(6)} ${fmt(d.p50).padStart(7)} ${fmt(d.p95).padStart(7)} ${fmt(d.p99).padStart(7)} ${fmt(d.max).padStart(7)} ${unit}`;
}

async function main(): Promise<void> {
  const opts = parseOptions();
  requireBuiltDashboard();
  const machine = machineInfo();
  console.log(`Dashboard benchmark: ${opts.calls} calls for ${opts.seconds} s, a turn every ${opts.periodMs} ms per call`);
  console.log(`Machine: ${machine.cores} × ${machine.cpuModel}, Node ${machine.node}, kernel ${machine.kernel}`);

  const model: FakeRealtimeServer = await startScriptedModel({
    transcript: (instructions, n) => `q${indexOfCaller(instructions)}n${n} what are your opening hours`,
    reply: (instructions, userText) => {
      const turn = /q\d+n(\d+)/.exec(userText ?? '')?.[1] ?? '0';
      return `a${indexOfCaller(instructions)}n${turn} we are open from nine to six`;
    },
    replyAudioMs: REPLY_AUDIO_MS,
  });
  let postgres: TestPostgres | undefined;
  if (opts.postgres && !opts.databaseUrl) {
    postgres = await startPostgres();
    const server = postgres;
    process.once('exit', () => server.stopSync());
    opts.databaseUrl = server.url;
  }
  const scratch = makeTempDir('koe-bench-dashboard-');
  const koe = await KoeProcess.start({
    name: 'bench',
    realtimeUrl: model.url,
    agentsFile: benchAgentsFile(scratch),
    ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
    env: { REALTIME_CONNECT_TIMEOUT_MS: '10000' },
  });
  const cookie = await koe.login();
  const browser = await launchChromium();
  const tracked = await openPage(browser, koe.baseUrl);
  await tracked.page.addInitScript({ content: OBSERVER_SCRIPT });
  await loginInBrowser(tracked.page, koe.options.adminPassword ?? ADMIN_PASSWORD);
  await openLivePage(tracked.page);
  const live = new LiveFollower(`${koe.wsBaseUrl}/api/live`, cookie);
  await live.opened();

  // Other work on the machine blurs every figure: wait (a while) for it to calm down, and report it.
  let idleBusy = await machineBusyPercent(1000);
  for (let waited = 0, quiet = 0; waited < opts.quietWaitSeconds && quiet < 5; waited += 1) {
    idleBusy = await machineBusyPercent(1000);
    quiet = idleBusy > 25 ? 0 : quiet + 1;
  }
  console.log(`Machine busy before the run (Koe and Chromium idle): ${fmt(idleBusy)} %`);

  // ── baseline: one call alone (the dashboard open), its reply latency ──
  console.log('Baseline: one call, 5 turns…');
  const solo = await PhoneCaller.place(koe.baseUrl, { from: callerNumber(opts.calls) });
  const soloStart = performance.now();
  const baseline = await runCaller(solo, { untilMs: soloStart + 3000 + 5 * 2500, periodMs: 2500, firstTurnAtMs: soloStart + 3000 });
  if (baseline.errors.length > 0) throw new Error(`the baseline call failed: ${baseline.errors.join('; ')}\n${koe.logTail()}`);

  // ── the load: calls placed over the stagger, first turns within one period after the greeting ──
  console.log(`Load: ${opts.calls} calls…`);
  const t0 = performance.now();
  const windowStartAt = t0 + opts.staggerMs + 4000 + opts.periodMs;
  const endAt = windowStartAt + opts.seconds * 1000;
  const runs: Array<Promise<CallerResult>> = [];
  const placeErrors: string[] = [];
  for (let i = 0; i < opts.calls; i += 1) {
    const startAt = t0 + (opts.staggerMs * i) / opts.calls;
    const wait = startAt - performance.now();
    if (wait > 0) await delay(wait);
    try {
      const caller = await PhoneCaller.place(koe.baseUrl, { from: callerNumber(i) });
      runs.push(runCaller(caller, { untilMs: endAt, periodMs: opts.periodMs, firstTurnAtMs: performance.now() + 4000 + Math.random() * opts.periodMs }));
    } catch (err) {
      placeErrors.push(err instanceof Error ? err.message : String(err));
    }
  }

  // ── the measured window: every call taking turns ──
  await delay(Math.max(0, windowStartAt - performance.now()));
  const chromium = descendantPids(process.pid).filter((pid) => pid !== koe.pid && !descendantPids(koe.pid).includes(pid));
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const postmaster = postgres ? postmasterPid(postgres.port) : undefined;
  const postgresPids = (): number[] => (postmaster === undefined ? [] : [postmaster, ...descendantPids(postmaster)]);
  const metricsBefore = await (await koe.fetch('/metrics')).text();
  const pgBefore = postgresPids();
  const cpuBefore = { koe: cpuOf([koe.pid, ...descendantPids(koe.pid)]), chromium: cpuOf(chromium), bench: cpuOf([process.pid]), postgres: cpuOf(pgBefore), machine: machineCpuSeconds() };
  const windowT0 = performance.now();
  const liveEventsAtStart = live.events;
  let queueMax = 0;
  // prom-client resets its event-loop histogram at each scrape: each sample covers the last 250 ms.
  const koeLoopSamples: Array<{ p99Ms: number; maxMs: number }> = [];
  const sampler = setInterval(() => {
    koe
      .fetch('/metrics')
      .then((r) => r.text())
      .then((text) => {
        const depth = sumMetric(text, 'koe_store_queue_depth');
        if (Number.isFinite(depth)) queueMax = Math.max(queueMax, depth);
        const lag = (name: string): number => Math.max(0, sumMetric(text, `koe_nodejs_eventloop_lag_${name}_seconds`) * 1000 - 10);
        koeLoopSamples.push({ p99Ms: lag('p99'), maxMs: lag('max') });
      })
      .catch(() => undefined);
  }, 250);
  await delay(Math.max(0, endAt - performance.now()));
  clearInterval(sampler);
  const windowSeconds = (performance.now() - windowT0) / 1000;
  const liveEventsPerSecond = (live.events - liveEventsAtStart) / windowSeconds;
  const metricsAfter = await (await koe.fetch('/metrics')).text();
  const cpuAfter = { koe: cpuOf([koe.pid, ...descendantPids(koe.pid)]), chromium: cpuOf(chromium), bench: cpuOf([process.pid]), postgres: cpuOf(pgBefore), machine: machineCpuSeconds() };
  loop.disable();
  const koeRss = processMemory(koe.pid)?.rssBytes ?? Number.NaN;

  const results = await Promise.all(runs);
  // Everything shown: wait until the page and the follower have settled (no new token for 2 s).
  let lastCount = -1;
  let stableSince = performance.now();
  let pageTokens: Record<string, { dom: number; frame: number | null }> = {};
  for (;;) {
    pageTokens = (await tracked.page.evaluate('window.__koeTokens()')) as typeof pageTokens;
    const count = Object.keys(pageTokens).length + live.tokens.size;
    if (count !== lastCount) {
      lastCount = count;
      stableSince = performance.now();
    } else if (performance.now() - stableSince > 2000) break;
    await delay(250);
  }

  // ── figures ──
  const toDom: number[] = [];
  const toFrame: number[] = [];
  const toFollower: number[] = [];
  const byKind: Record<'q' | 'a', number[]> = { q: [], a: [] };
  const missingTokens: string[] = [];
  const samples: Array<{ token: string; eventType: string; windowOffsetS: number; domMs: number }> = [];
  const windowStartEpoch = Date.now() - (performance.now() - windowT0);
  const windowEndEpoch = windowStartEpoch + windowSeconds * 1000;
  /** Turns of the load whose event came outside the window (the first turns, the replies after it, the hang-ups). */
  let outsideWindow = 0;
  for (const [token, seen] of live.tokens) {
    const index = Number(/^[qa](\d+)/.exec(token)?.[1]);
    if (index >= opts.calls) continue; // the baseline call
    const shown = pageTokens[token];
    if (!shown) missingTokens.push(token);
    if (seen.eventAt < windowStartEpoch || seen.eventAt > windowEndEpoch) {
      outsideWindow += 1;
      continue;
    }
    toFollower.push(seen.receivedAt - seen.eventAt);
    if (!shown) continue;
    toDom.push(shown.dom - seen.eventAt);
    samples.push({ token, eventType: seen.eventType, windowOffsetS: (seen.eventAt - windowStartEpoch) / 1000, domMs: shown.dom - seen.eventAt });
    if (shown.frame !== null) toFrame.push(shown.frame - seen.eventAt);
    byKind[token[0] as 'q' | 'a'].push(shown.dom - seen.eventAt);
  }

  const worst = samples.sort((x, y) => y.domMs - x.domMs).slice(0, 10);
  const allLongTasks = (await tracked.page.evaluate('window.__koeLongTasks()')) as Array<{ at: number; ms: number }>;
  const longTasks = allLongTasks.filter((t) => t.at >= windowStartEpoch && t.at <= windowEndEpoch);
  const pageLongTasks = { count: longTasks.length, totalMs: longTasks.reduce((sum, t) => sum + t.ms, 0), maxMs: longTasks.length ? Math.max(...longTasks.map((t) => t.ms)) : 0 };
  const store = storeFigures(metricsBefore, metricsAfter, windowSeconds, queueMax);
  const eventLoop = {
    /** Median over the 250 ms samples of each sample's p99. */
    p99MedianMs: percentile(koeLoopSamples.map((x) => x.p99Ms), 50),
    p99WorstMs: Math.max(...koeLoopSamples.map((x) => x.p99Ms)),
    maxMs: Math.max(...koeLoopSamples.map((x) => x.maxMs)),
    samples: koeLoopSamples.length,
  };

  // Turns stored vs turn events seen live (the load calls and the baseline call).
  let storedTurns = 0;
  let storedCalls = 0;
  for (let page = 1; ; page += 1) {
    const list = await koe.getJson<ApiPage<CallRecord>>(`/api/calls?pageSize=100&page=${page}`, cookie);
    storedTurns += list.items.reduce((sum, c) => sum + c.turnCount, 0);
    storedCalls += list.items.length;
    if (page * list.pageSize >= list.total) break;
  }

  const replyLatency = results.flatMap((r) => r.replyLatenciesMs);
  const framesSent = results.reduce((sum, r) => sum + r.framesSent, 0) + solo.stream.stats.framesSent;
  const modelInputFrames = Math.round(model.sessions.reduce((sum, x) => sum + x.inputAudioMs, 0) / 20);
  const callerErrors = results.flatMap((r) => r.errors);
  const turnsSpoken = results.reduce((sum, r) => sum + r.turns, 0);
  const machineBusy = ((cpuAfter.machine.busy - cpuBefore.machine.busy) / (cpuAfter.machine.total - cpuBefore.machine.total)) * 100;
  const cpu = {
    koePercent: cpuPercent(cpuBefore.koe, cpuAfter.koe, windowSeconds),
    chromiumPercent: cpuPercent(cpuBefore.chromium, cpuAfter.chromium, windowSeconds),
    benchPercent: cpuPercent(cpuBefore.bench, cpuAfter.bench, windowSeconds),
    /** The throwaway PostgreSQL server (--postgres): postmaster and its backends that existed at the window's start. */
    postgresPercent: cpuPercent(cpuBefore.postgres, cpuAfter.postgres, windowSeconds),
    machinePercent: machineBusy,
    idleBusyPercentBefore: idleBusy,
  };
  const otherPercentOfMachine = Math.max(0, machineBusy - (cpu.koePercent + cpu.chromiumPercent + cpu.benchPercent + cpu.postgresPercent) / machine.cores);
  /** Other processes took a real share of the CPU: the figures are pessimistic. */
  const noisy = otherPercentOfMachine > 10;
  const benchLoop = { p99Ms: Math.max(0, loop.percentile(99) / 1e6 - 10), maxMs: Math.max(0, loop.max / 1e6 - 10) };

  const report = {
    when: new Date().toISOString(),
    machine,
    options: {
      calls: opts.calls,
      seconds: opts.seconds,
      periodMs: opts.periodMs,
      staggerMs: opts.staggerMs,
      database: opts.databaseUrl ? 'postgres' : 'pglite',
      databaseNote: postgres ? 'throwaway server from scripts/postgres-for-tests.mjs: fsync=off, synchronous_commit=off' : opts.databaseUrl ? 'given with --database-url' : 'PGlite in a temporary KOE_DATA_DIR',
    },
    windowSeconds,
    eventToVisible: {
      dom: distribution(toDom),
      nextFrame: distribution(toFrame),
      callerTurnsDom: distribution(byKind.q),
      agentTurnsDom: distribution(byKind.a),
      tokensInWindow: toFollower.length,
      tokensOutsideWindow: outsideWindow,
      missing: missingTokens.length,
      missingSamples: missingTokens.slice(0, 10),
      worst,
      pageLongTasks,
    },
    eventToLiveClient: distribution(toFollower),
    liveEventsReceived: live.events,
    liveEventsPerSecond,
    store: { ...store, turnEventsSeen: live.turnEvents, turnsStored: storedTurns, callsStored: storedCalls },
    audio: {
      replyLatencyOneCall: distribution(baseline.replyLatenciesMs),
      replyLatencyUnderLoad: distribution(replyLatency),
      turnsSpoken,
      repliesHeard: replyLatency.length,
      callerFramesSent: framesSent,
      modelInputFrames,
      callerErrors: callerErrors.length,
      callerErrorSamples: callerErrors.slice(0, 5),
      placeErrors,
    },
    koe: { eventLoop, rssBytes: koeRss, warnings: koe.problems().length, warningSamples: koe.problems().slice(0, 5).map((l) => l.raw) },
    cpu: { ...cpu, otherPercentOfMachine, noisy },
    benchEventLoop: benchLoop,
  };

  console.log('');
  console.log(`  live events: ${fmt(liveEventsPerSecond)}/s over WS /api/live during the window`);
  console.log(`  ${''.padEnd(44)} ${'n'.padStart(6)} ${'p50'.padStart(7)} ${'p95'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)}`);
  console.log(row('event → in the browser DOM', report.eventToVisible.dom));
  console.log(row('event → next animation frame', report.eventToVisible.nextFrame));
  console.log(row('  caller turn text (DOM)', report.eventToVisible.callerTurnsDom));
  console.log(row('  agent turn text (DOM)', report.eventToVisible.agentTurnsDom));
  console.log(row('event → live WebSocket client (no browser)', report.eventToLiveClient));
  console.log(`  turn texts never shown in the browser: ${missingTokens.length} of ${toFollower.length + outsideWindow} (figures above: the ${toFollower.length} whose event fell in the window)`);
  console.log(`  page main-thread tasks over 50 ms in the window: ${pageLongTasks.count}, ${fmt(pageLongTasks.totalMs)} ms in all, longest ${fmt(pageLongTasks.maxMs)} ms`);
  console.log('');
  console.log(row('reply latency, 1 call (speech end → audio)', report.audio.replyLatencyOneCall));
  console.log(row(`reply latency, ${opts.calls} calls`, report.audio.replyLatencyUnderLoad));
  console.log(`  turns spoken ${turnsSpoken}, replies heard ${replyLatency.length}, caller errors ${callerErrors.length}, calls not placed ${placeErrors.length}`);
  console.log(`  caller frames sent ${framesSent}, frames the model received ${modelInputFrames} (lost ${framesSent - modelInputFrames})`);
  console.log(`  Koe event-loop delay (250 ms samples): p99 median ${fmt(eventLoop.p99MedianMs, 1)} ms, worst ${fmt(eventLoop.p99WorstMs, 1)} ms; max ${fmt(eventLoop.maxMs, 1)} ms; RSS ${fmt(koeRss / 1048576)} MiB; ${report.koe.warnings} warnings logged`);
  console.log('');
  console.log(`  database (${report.options.database}${postgres ? ': throwaway server, fsync=off, synchronous_commit=off' : ''}), ${fmt(windowSeconds, 1)} s window:`);
  console.log(`    writes ${fmt(store.writtenPerSecond, 1)}/s in ${fmt(store.batchesPerSecond, 1)} transactions/s (${fmt(store.meanWritesPerBatch, 1)} per transaction, mean ${fmt(store.meanBatchMs, 1)} ms, p99 ≤ ${fmt(store.batchP99UpToMs, 1)} ms)`);
  console.log(`    retried ${fmt(store.retriedPerSecond, 1)}/s, rejected ${store.rejected}, dropped ${store.dropped}; queue depth max (sampled every 250 ms) ${queueMax}`);
  console.log(`    turn events seen live ${live.turnEvents}, turns stored ${storedTurns} in ${storedCalls} calls`);
  console.log('');
  console.log(
    `  CPU over the window (% of one core): Koe ${fmt(cpu.koePercent)}, Chromium ${fmt(cpu.chromiumPercent)}, callers + model (this process) ${fmt(cpu.benchPercent)}${postgres ? `, PostgreSQL ${fmt(cpu.postgresPercent)}` : ''}`,
  );
  console.log(`  machine ${fmt(machineBusy)} % of ${machine.cores} cores busy, of which other processes ${fmt(otherPercentOfMachine)} %; before the run ${fmt(idleBusy)} %`);
  if (noisy) console.log('  NOTE: other processes used the CPU during the window; run again on a quiet machine for clean figures');
  console.log(`  this process's event loop: p99 ${fmt(benchLoop.p99Ms, 1)} ms, max ${fmt(benchLoop.maxMs, 1)} ms`);

  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nSaved ${opts.out}`);

  live.close();
  await browser.close();
  await koe.stop();
  await model.close();
  await postgres?.stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
