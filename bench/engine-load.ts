// Engine load benchmark: Koe's built-in Realtime engine (WS /v1/realtime of `koe start`) under real
// Realtime clients sending phone speech, with the real models (Silero VAD, pocketsphinx, the embedded
// dialogue, Flite).
//
//   node --import tsx bench/engine-load.ts            # full run, under ~10 minutes
//   node --import tsx bench/engine-load.ts --quick    # ~3 minutes
//
// What it measures:
//   1. End of caller speech → first agent audio, over ≥ 20 turns of one caller, with its parts: VAD endpointing
//      (speech end → speech_stopped), STT (committed → transcription.completed), dialogue + TTS (→ first delta).
//   2. STT and TTS real-time factors, in this process, directly on PocketsphinxRecognizer and FliteSynthesizer.
//   3. Koe's CPU and RSS idle (engine loaded) and with N = 1, 5, 10, 20 callers holding turns continuously.
//   4. How many callers Koe holds in real time: N grows until the turn latency p95 passes the bound, a turn
//      goes unanswered, or replies stop arriving at least as fast as they play.
//
// Each caller (bench/engine-caller.ts) sends 20 ms μ-law frames on a monotonic clock all the time, as a
// phone line does: silence, an utterance (Debian flite voices awb/kal16 through sox's phone band,
// bench/engine-speech.ts), silence while the reply arrives and plays at real time, a short pause, the next
// utterance. Koe runs as a separate process; its CPU and RSS come from /proc/<pid>.
//
// Options: --quick  --steps 1,5,10,20  --turns 20  --step-seconds 30  --bound-ms 2500  --silence-ms 500
//          --max-sessions 80  --no-capacity  --skip-stages  --stt-decoders N  --tts-workers N
//          --quiet-wait-seconds 10  --line-noise-dbfs=-60  --koe-cpu-prof <dir>  --out <file.json>
// Between utterances callers send digital silence, or with --line-noise-dbfs the hiss of a real line.
// The machine may be shared: before each step the run waits (up to --quiet-wait-seconds) for other processes
// to leave the CPU, and every step reports how much CPU they took meanwhile ("bg %").
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatProfileSummary, summarizeCpuProfile } from './cpu-profile-summary.js';
import type { ProfileSummary } from './cpu-profile-summary.js';
import type { LongTask } from './engine-long-tasks.js';
import { formatLongTasks, longTasks } from './engine-long-tasks.js';
import type { TurnRecord } from './engine-caller.js';
import { EngineCaller, PLAYBACK_GAP_TOLERANCE_MS } from './engine-caller.js';
import { freePort, installCleanup, KoeProcess, makeTempDir, onExit, removeTempDir } from './engine-koe-process.js';
import type { PhoneUtterance } from './engine-speech.js';
import { FRAME_BYTES, FRAME_MS, lineNoiseMulaw, SpeechMaker } from './engine-speech.js';
import type { StageResults } from './engine-stages.js';
import { measureStages } from './engine-stages.js';
import type { Spread } from './engine-stats.js';
import { fmt, spread, table, threadCpuSeconds } from './engine-stats.js';
import type { MachineInfo } from './proc-stats.js';
import { machineCpuSeconds, machineInfo, processCpuSeconds, processMemory } from './proc-stats.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
/** A step fails when more replies than this share had a gap the caller would hear. */
const GAP_REPLY_LIMIT = 0.05;
/** Other processes count as noise above this (% of one core). */
const BACKGROUND_LIMIT_PERCENT = 15;
const MB = 1024 * 1024;
/** After a step's window, turns under way get this long to finish. */
const DRAIN_MS = 12_000;
/** A failed capacity step is run again (if other processes were busy) only when its p95 was within this factor of the bound. */
const RETRY_NEAR_BOUND = 1.5;

interface Options {
  quick: boolean;
  steps: number[];
  turns: number;
  stepSeconds: number;
  warmupSeconds: number;
  idleSeconds: number;
  boundMs: number;
  silenceMs: number;
  pauseMs: [number, number];
  turnTimeoutMs: number;
  maxSessions: number;
  capacity: boolean;
  capacitySteps: number;
  stages: boolean;
  sttDecoders: number | undefined;
  ttsWorkers: number | undefined;
  quietWaitSeconds: number;
  cpuProfDir: string | undefined;
  /** Line noise between utterances (dBFS RMS) instead of digital silence. */
  lineNoiseDbfs: number | undefined;
  out: string;
  budgetSeconds: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      steps: { type: 'string' },
      turns: { type: 'string' },
      'step-seconds': { type: 'string' },
      'bound-ms': { type: 'string', default: '2500' },
      'silence-ms': { type: 'string', default: '500' },
      'max-sessions': { type: 'string', default: '80' },
      'no-capacity': { type: 'boolean', default: false },
      'skip-stages': { type: 'boolean', default: false },
      'stt-decoders': { type: 'string' },
      'tts-workers': { type: 'string' },
      'quiet-wait-seconds': { type: 'string' },
      'koe-cpu-prof': { type: 'string' },
      'line-noise-dbfs': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: node --import tsx bench/engine-load.ts [--quick] [--steps 1,5,10,20] [--turns 20] [--step-seconds 30] [--bound-ms 2500]\n' +
      '       [--silence-ms 500] [--max-sessions 80] [--no-capacity] [--skip-stages] [--stt-decoders N] [--tts-workers N]\n' +
      '       [--quiet-wait-seconds 10] [--line-noise-dbfs=-60] [--koe-cpu-prof DIR] [--out FILE.json]');
    process.exit(0);
  }
  const quick = values.quick;
  const int = (name: string, text: string | undefined, fallback: number, min = 1): number => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${text}"`);
    return value;
  };
  const steps = (values.steps ?? (quick ? '1,5,10' : '1,5,10,20')).split(',').map((s) => int('steps', s.trim(), 1));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    quick,
    steps: [...new Set(steps)].sort((a, b) => a - b),
    turns: int('turns', values.turns, quick ? 8 : 20),
    stepSeconds: int('step-seconds', values['step-seconds'], quick ? 20 : 30),
    warmupSeconds: quick ? 3 : 4,
    idleSeconds: quick ? 5 : 8,
    boundMs: int('bound-ms', values['bound-ms'], 2500),
    silenceMs: int('silence-ms', values['silence-ms'], 500),
    pauseMs: [300, 900],
    turnTimeoutMs: 20_000,
    maxSessions: int('max-sessions', values['max-sessions'], 80),
    capacity: !values['no-capacity'],
    capacitySteps: quick ? 2 : 4,
    stages: !values['skip-stages'],
    sttDecoders: values['stt-decoders'] === undefined ? undefined : int('stt-decoders', values['stt-decoders'], 2),
    ttsWorkers: values['tts-workers'] === undefined ? undefined : int('tts-workers', values['tts-workers'], 1),
    quietWaitSeconds: int('quiet-wait-seconds', values['quiet-wait-seconds'], quick ? 5 : 10, 0),
    cpuProfDir: values['koe-cpu-prof'] ? resolve(values['koe-cpu-prof']) : undefined,
    lineNoiseDbfs: lineNoise(values['line-noise-dbfs']),
    out: values.out ? resolve(values.out) : join(BENCH_DIR, 'results', `engine-${stamp}.json`),
    budgetSeconds: quick ? 240 : 570,
  };
}

/** The commit Koe ran from, and whether src/ had changes on top of it (the engine is being worked on). */
function gitHead(): string {
  try {
    const run = (args: string[]): string => execFileSync('git', args, { cwd: dirname(BENCH_DIR), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${run(['rev-parse', '--short', 'HEAD'])}${run(['status', '--porcelain', '--', 'src']) ? ' + uncommitted changes in src/' : ''}`;
  } catch {
    return 'unknown';
  }
}

function lineNoise(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  // `--line-noise-dbfs 60` means −60 dBFS (parseArgs takes a value starting with '-' only as `--line-noise-dbfs=-60`).
  const value = -Math.abs(Number(text));
  if (!(value < -20 && value >= -100)) throw new Error(`--line-noise-dbfs must be between -100 and -20 (dBFS RMS), got "${text}"`);
  return value;
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** "AMD EPYC (family 25 model 17), virtual machine": /proc/cpuinfo's model name says little inside a VM. */
function cpuDescription(model: string): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (name: string): string | undefined => new RegExp(`^${name}\\s*:\\s*(.+)$`, 'm').exec(info)?.[1]?.trim();
    const flags = field('flags') ?? '';
    const family = field('cpu family');
    const modelNo = field('model');
    return `${model}${family && modelNo ? ` (family ${family} model ${modelNo})` : ''}${/\bhypervisor\b/.test(flags) ? ', virtual machine' : ''}`;
  } catch {
    return model;
  }
}

function log(line: string): void {
  console.log(line);
}

// ── CPU of Koe, this process and everything else ──

interface CpuMark {
  at: number;
  koe: number;
  koeMain: number;
  self: number;
  machineBusy: number;
}

function cpuMark(pid: number): CpuMark {
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    koe: processCpuSeconds(pid) ?? Number.NaN,
    koeMain: threadCpuSeconds(pid)?.main ?? Number.NaN,
    self: (usage.user + usage.system) / 1e6,
    machineBusy: machineCpuSeconds().busy,
  };
}

interface CpuUse {
  seconds: number;
  /** % of one core. */
  koePercent: number;
  koeMainThreadPercent: number;
  koeOtherThreadsPercent: number;
  benchPercent: number;
  /** Every other process on the machine. */
  backgroundPercent: number;
}

function cpuBetween(a: CpuMark, b: CpuMark): CpuUse {
  const seconds = (b.at - a.at) / 1000;
  const pct = (x: number): number => (100 * x) / seconds;
  const koe = pct(b.koe - a.koe);
  const main = pct(b.koeMain - a.koeMain);
  const self = pct(b.self - a.self);
  return {
    seconds,
    koePercent: koe,
    koeMainThreadPercent: main,
    // Clock ticks are 10 ms: over a short idle window the difference can come out a hair below zero.
    koeOtherThreadsPercent: Math.max(0, koe - main),
    benchPercent: self,
    backgroundPercent: Math.max(0, pct(b.machineBusy - a.machineBusy) - koe - self),
  };
}

/** Waits (up to `seconds`) for the other processes on the machine to leave the CPU; returns their share in the last second. */
async function waitForQuiet(pid: number | undefined, seconds: number): Promise<number> {
  const end = performance.now() + seconds * 1000;
  for (;;) {
    const a = cpuMark(pid ?? process.pid);
    await delay(1000);
    const use = cpuBetween(a, cpuMark(pid ?? process.pid));
    // Without Koe, "Koe" is this process: count it once.
    const background = pid === undefined ? use.backgroundPercent + use.koePercent - use.benchPercent : use.backgroundPercent;
    if (background < BACKGROUND_LIMIT_PERCENT || performance.now() >= end) return background;
  }
}

// ── a step: N callers holding turns ──

interface StepResult {
  sessions: number;
  windowSeconds: number;
  turns: number;
  answered: number;
  unanswered: number;
  cancelled: number;
  earlyStops: number;
  strayStops: number;
  latencyMs: Spread;
  vadMs: Spread;
  sttMs: Spread;
  dialogueTtsMs: Spread;
  /** speech_stopped's audio_end_ms − silence_duration_ms − where the speech really ended (audio clock). */
  vadLateAudioMs: Spread;
  committedAudioMs: Spread;
  emptyTranscripts: number;
  replies: number;
  repliesWithGaps: number;
  maxGapMs: number;
  replyAudioMs: Spread;
  cpu: CpuUse;
  rssMb: { avg: number; max: number };
  /** (RSS − idle RSS) / sessions; NaN when a larger step ran before (memory it left behind would count). */
  rssPerSessionMb: number;
  eventLoop: { p50Ms: number; p99Ms: number; maxMs: number } | undefined;
  generator: { lateFrames: number; maxLatenessMs: number; framesSent: number };
  errors: string[];
  pass: boolean;
  failures: string[];
  turnRecords: ReturnType<typeof compactTurn>[];
}

function compactTurn(t: TurnRecord) {
  const rel = (x: number | undefined): number | null => (x === undefined ? null : Math.round((x - t.speechEndAt) * 10) / 10);
  return {
    session: t.session,
    turn: t.turn,
    voice: t.voice,
    said: t.text,
    heard: t.transcript ?? null,
    reply: t.replyText ?? null,
    outcome: t.outcome,
    speechStoppedMs: rel(t.speechStoppedAt),
    committedMs: rel(t.committedAt),
    transcriptMs: rel(t.transcriptAt),
    responseCreatedMs: rel(t.responseCreatedAt),
    firstDeltaMs: rel(t.firstDeltaAt),
    responseDoneMs: rel(t.responseDoneAt),
    committedAudioMs: t.committedAudioMs ?? null,
    replyAudioMs: Math.round(t.replyAudioMs),
    gaps: t.gaps,
    maxGapMs: Math.round(t.maxGapMs),
    earlyStops: t.earlyStops,
  };
}

/** 10 s of line noise as base64 20 ms frames. */
function noiseFrames(dbfs: number): string[] {
  const noise = lineNoiseMulaw(10_000, dbfs);
  const frames: string[] = [];
  for (let offset = 0; offset + FRAME_BYTES <= noise.length; offset += FRAME_BYTES) frames.push(noise.subarray(offset, offset + FRAME_BYTES).toString('base64'));
  return frames;
}

class KoeDied extends Error {
  constructor(koe: KoeProcess) {
    super(`Koe ${koe.exitDescription} during the run; its last output:\n${koe.output.slice(-30).join('\n')}`);
    this.name = 'KoeDied';
  }
}

class Pacer {
  readonly #callers = new Set<EngineCaller>();
  #timer: NodeJS.Timeout | undefined;

  add(caller: EngineCaller): void {
    this.#callers.add(caller);
  }

  delete(caller: EngineCaller): void {
    this.#callers.delete(caller);
  }

  start(): void {
    const loop = (): void => {
      const now = performance.now();
      for (const caller of this.#callers) caller.tick(now);
      // Callers' frame phases are spread over the 20 ms: wake for the next one due.
      let next = now + FRAME_MS;
      for (const caller of this.#callers) next = Math.min(next, caller.nextDueAt);
      this.#timer = setTimeout(loop, Math.max(1, next - performance.now()));
    };
    loop();
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}

async function runStep(
  koe: KoeProcess,
  corpus: readonly PhoneUtterance[],
  opts: Options,
  sessions: number,
  limits: { seconds: number; minTurns?: number; label: string; quiet?: boolean },
): Promise<StepResult> {
  if (!limits.quiet) log(`\n[${limits.label}] ${sessions} session(s)…`);
  const callers: EngineCaller[] = [];
  const lineNoiseFrames = opts.lineNoiseDbfs === undefined ? undefined : noiseFrames(opts.lineNoiseDbfs);
  const closeAll = (): void => {
    for (const caller of callers) caller.terminate();
  };
  const removeHook = onExit(closeAll);
  const pacer = new Pacer();
  try {
    // Open in small batches: a real fleet of calls does not arrive in the same millisecond.
    for (let i = 0; i < sessions; i += 5) {
      const batch = Array.from({ length: Math.min(5, sessions - i) }, (_, j) =>
        EngineCaller.connect({
          url: koe.engineUrl,
          corpus,
          silenceMs: opts.silenceMs,
          pauseMs: opts.pauseMs,
          turnTimeoutMs: opts.turnTimeoutMs,
          seed: 1 + (i + j) * 7919,
          index: i + j,
          ...(lineNoiseFrames ? { lineNoise: lineNoiseFrames } : {}),
        }),
      );
      callers.push(...(await Promise.all(batch)));
    }
    // Spread the callers' first utterances over about one turn cycle, and their frames over the 20 ms.
    const origin = performance.now() + 50;
    const cycleMs = 6_000;
    callers.forEach((caller, i) => {
      caller.start(origin + (i * FRAME_MS) / sessions, sessions === 1 ? 300 : 300 + (i * cycleMs) / sessions);
      pacer.add(caller);
    });
    pacer.start();

    const windowStart = origin + opts.warmupSeconds * 1000 * (sessions === 1 ? 0 : 1);
    while (performance.now() < windowStart) await delay(20);
    await koe.eventLoopDelay(); // resets Koe's event-loop histogram
    const before = cpuMark(koe.pid);
    const rss: number[] = [];
    const rssTimer = setInterval(() => {
      const mem = processMemory(koe.pid);
      if (mem) rss.push(mem.rssBytes);
    }, 1000);
    const deadline = windowStart + limits.seconds * 1000;
    const inWindow = (t: TurnRecord): boolean => t.speechEndAt >= windowStart;
    const doneTurns = (): number => callers.reduce((n, c) => n + c.turns.filter((t) => inWindow(t) && t.outcome !== 'pending').length, 0);
    while (performance.now() < deadline) {
      if (limits.minTurns !== undefined && doneTurns() >= limits.minTurns) break;
      if (callers.some((c) => !c.isOpen) || !koe.running) break;
      await delay(100);
    }
    const windowEnd = performance.now();
    const after = cpuMark(koe.pid);
    const eventLoop = await koe.eventLoopDelay();
    clearInterval(rssTimer);
    const mem = processMemory(koe.pid);
    if (mem) rss.push(mem.rssBytes);

    // Let the turns under way finish (their latencies count), then hang up.
    for (const caller of callers) caller.drain();
    // A turn still without audio after this is far past any bound; one still playing keeps its figures.
    const drainEnd = performance.now() + DRAIN_MS;
    while (callers.some((c) => c.busy && c.isOpen) && performance.now() < drainEnd) await delay(50);
    pacer.stop();
    for (const caller of callers) caller.close();

    if (!koe.running) throw new KoeDied(koe);
    const turns = callers.flatMap((c) => c.turns.filter((t) => inWindow(t) && t.speechEndAt <= windowEnd));
    return summarizeStep(sessions, (windowEnd - windowStart) / 1000, turns, callers, cpuBetween(before, after), rss, eventLoop, opts);
  } finally {
    pacer.stop();
    closeAll();
    removeHook();
    // Sessions end on Koe's side when their sockets close; give it a moment before the next measurement.
    await delay(1500);
  }
}

function summarizeStep(
  sessions: number,
  windowSeconds: number,
  turns: TurnRecord[],
  callers: EngineCaller[],
  cpu: CpuUse,
  rss: number[],
  eventLoop: StepResult['eventLoop'],
  opts: Options,
): StepResult {
  const answered = turns.filter((t) => t.firstDeltaAt !== undefined);
  const diff = (list: TurnRecord[], a: (t: TurnRecord) => number | undefined, b: (t: TurnRecord) => number | undefined): number[] =>
    list.flatMap((t) => {
      const x = a(t);
      const y = b(t);
      return x === undefined || y === undefined ? [] : [y - x];
    });
  const latency = spread(diff(answered, (t) => t.speechEndAt, (t) => t.firstDeltaAt));
  const replies = turns.filter((t) => t.deltas > 0 && t.outcome === 'ok');
  const repliesWithGaps = replies.filter((t) => t.gaps > 0).length;
  const unanswered = turns.filter((t) => t.outcome === 'timeout' || t.outcome === 'failed' || t.firstDeltaAt === undefined).length;
  const rssAvg = rss.length ? rss.reduce((a, b) => a + b, 0) / rss.length : Number.NaN;
  const failures: string[] = [];
  if (!(latency.p95 <= opts.boundMs)) failures.push(`latency p95 ${fmt(latency.p95)} ms > ${opts.boundMs} ms`);
  if (unanswered > 0) failures.push(`${unanswered} turn(s) without a reply`);
  if (replies.length > 0 && repliesWithGaps / replies.length > GAP_REPLY_LIMIT) failures.push(`${repliesWithGaps}/${replies.length} replies had gaps > ${PLAYBACK_GAP_TOLERANCE_MS} ms`);
  if (turns.length === 0) failures.push('no turn completed');
  const errors = callers.flatMap((c) => c.errors.map((e) => `session ${c.turns[0]?.session ?? '?'}: ${e}`));
  if (errors.length > 0) failures.push(`${errors.length} error(s) from the engine`);
  return {
    sessions,
    windowSeconds,
    turns: turns.length,
    answered: answered.length,
    unanswered,
    cancelled: turns.filter((t) => t.outcome === 'cancelled').length,
    earlyStops: turns.reduce((n, t) => n + t.earlyStops, 0),
    strayStops: callers.reduce((n, c) => n + c.strayStops, 0),
    latencyMs: latency,
    vadMs: spread(diff(turns, (t) => t.speechEndAt, (t) => t.speechStoppedAt)),
    sttMs: spread(diff(turns, (t) => t.committedAt, (t) => t.transcriptAt)),
    dialogueTtsMs: spread(diff(answered, (t) => t.transcriptAt, (t) => t.firstDeltaAt)),
    vadLateAudioMs: spread(turns.flatMap((t) => (t.audioEndMs === undefined ? [] : [t.audioEndMs - opts.silenceMs - t.speechEndAudioMs]))),
    committedAudioMs: spread(turns.flatMap((t) => (t.committedAudioMs === undefined ? [] : [t.committedAudioMs]))),
    emptyTranscripts: turns.filter((t) => t.transcript === '').length,
    replies: replies.length,
    repliesWithGaps,
    maxGapMs: Math.max(0, ...replies.map((t) => t.maxGapMs)),
    replyAudioMs: spread(replies.map((t) => t.replyAudioMs)),
    cpu,
    rssMb: { avg: rssAvg / MB, max: Math.max(...rss) / MB },
    rssPerSessionMb: Number.NaN,
    eventLoop,
    generator: {
      lateFrames: callers.reduce((n, c) => n + c.lateFrames, 0),
      maxLatenessMs: Math.max(0, ...callers.map((c) => c.maxLatenessMs)),
      framesSent: callers.reduce((n, c) => n + c.framesSent, 0),
    },
    errors: errors.slice(0, 20),
    pass: failures.length === 0,
    failures,
    turnRecords: turns.map(compactTurn),
  };
}

function stepLine(s: StepResult): string {
  return (
    `  ${s.sessions} session(s), ${fmt(s.windowSeconds)} s: ${s.turns} turns, latency p50 ${fmt(s.latencyMs.p50)} / p95 ${fmt(s.latencyMs.p95)} / max ${fmt(s.latencyMs.max)} ms, ` +
    `STT p95 ${fmt(s.sttMs.p95)} ms, Koe CPU ${fmt(s.cpu.koePercent)} % (main ${fmt(s.cpu.koeMainThreadPercent)} %), RSS ${fmt(s.rssMb.avg)} MB, ` +
    `background ${fmt(s.cpu.backgroundPercent)} % → ${s.pass ? 'within bound' : `OUT: ${s.failures.join('; ')}`}` +
    (s.errors.length ? `\n    first errors: ${s.errors.slice(0, 3).join(' | ')}` : '')
  );
}

// ── Koe's CPU profiles ──

interface Profiles {
  main: ProfileSummary | undefined;
  mainLongTasks: LongTask[];
  workers: Array<{ file: string; busyMs: number; topArea: string }>;
}

/** Node names profiles CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread. */
function readProfiles(dir: string, pid: number): Profiles {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && f.includes(`.${pid}.`));
  const mainFile = files.find((f) => f.split('.')[4] === '0');
  const workers = files
    .filter((f) => f !== mainFile)
    .map((f) => {
      const summary = summarizeCpuProfile(join(dir, f), 3);
      const area = summary.byArea.find((a) => !a.name.startsWith('(')) ?? summary.byArea[0];
      return { file: f, busyMs: summary.busyMs, topArea: area ? `${area.name} (${fmt(area.percent)} %)` : '–' };
    })
    .sort((a, b) => b.busyMs - a.busyMs);
  return {
    main: mainFile ? summarizeCpuProfile(join(dir, mainFile), 15) : undefined,
    mainLongTasks: mainFile ? longTasks(join(dir, mainFile), 8) : [],
    workers,
  };
}

// ── the run ──

interface IdleResult {
  seconds: number;
  cpu: CpuUse;
  rssMb: number;
  threads: number;
}

async function measureIdle(koe: KoeProcess, seconds: number): Promise<IdleResult> {
  await koe.eventLoopDelay();
  const a = cpuMark(koe.pid);
  const rss: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await delay(1000);
    const mem = processMemory(koe.pid);
    if (mem) rss.push(mem.rssBytes);
  }
  return { seconds, cpu: cpuBetween(a, cpuMark(koe.pid)), rssMb: rss.reduce((x, y) => x + y, 0) / rss.length / MB, threads: threadCpuSeconds(koe.pid)?.threads ?? 0 };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  installCleanup();
  const started = performance.now();
  const elapsedS = (): number => (performance.now() - started) / 1000;
  const machine: MachineInfo = machineInfo();
  log(`Koe engine load benchmark${opts.quick ? ' (--quick)' : ''}`);
  machine.cpuModel = cpuDescription(machine.cpuModel);
  log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${fmt(machine.memTotalBytes / 1024 ** 3, 1)} GiB RAM, Linux ${machine.kernel}, Node ${machine.node}`);
  log('CPU figures are % of ONE core (the machine has ' + machine.cores + ' cores: 100 % = one core busy, ' + machine.cores * 100 + ' % = all of them).');

  const speech = new SpeechMaker();
  onExit(() => speech.close());
  log('\nMaking caller speech (flite awb/kal16 → sox phone band, 8 kHz μ-law)…');
  const corpus = speech.corpus();
  const speechMs = spread(corpus.map((u) => u.speechEndMs));
  log(`  ${corpus.length} utterances, speech ${fmt(speechMs.p50)} ms median (${fmt(Math.min(...corpus.map((u) => u.speechEndMs)))}–${fmt(speechMs.max)} ms)`);

  let stages: StageResults | undefined;
  if (opts.stages) {
    log('\n[2] Stage real-time factors, in this process (before Koe starts, so nothing else competes)…');
    const background = await waitForQuiet(undefined, opts.quietWaitSeconds);
    if (background >= BACKGROUND_LIMIT_PERCENT) log(`  (other processes use ${fmt(background)} % of a core; measuring anyway)`);
    stages = await measureStages(speech, corpus, { utterances: opts.quick ? 6 : 12, sentenceRepeats: opts.quick ? 1 : 2, leadMs: 8000, noiseDbfs: -55, log });
  }

  log('\nStarting Koe (koe start, built-in engine, embedded dialogue)…');
  const scratch = makeTempDir('koe-engine-bench-');
  if (opts.cpuProfDir) mkdirSync(opts.cpuProfDir, { recursive: true });
  const port = await freePort();
  const koeStarted = performance.now();
  // Read when Koe loads its code: the tree may change while the benchmark runs.
  const git = gitHead();
  const koe = KoeProcess.start({ port, ...(opts.sttDecoders ? { sttDecoders: opts.sttDecoders } : {}), ...(opts.ttsWorkers ? { ttsWorkers: opts.ttsWorkers } : {}), ...(opts.cpuProfDir ? { cpuProfDir: opts.cpuProfDir } : {}) }, scratch);
  const steps: StepResult[] = [];
  let idle: IdleResult | undefined;
  let idleAfter: IdleResult | undefined;
  let profiles: Profiles | undefined;
  let capacity: { sessions: number; step: StepResult | undefined; firstFailing: number | undefined; note: string } | undefined;
  let failure: Error | undefined;
  try {
    await koe.waitHealthy(60_000);
    // The first session waits for the engine's models (loaded at boot); two turns warm the JIT and the decoders.
    await runStep(koe, corpus, { ...opts, warmupSeconds: 0 }, 1, { seconds: 30, minTurns: 1, label: 'warm-up', quiet: true });
    log(`  Koe pid ${koe.pid} ready and warmed up in ${fmt((performance.now() - koeStarted) / 1000, 1)} s`);

    await waitForQuiet(koe.pid, opts.quietWaitSeconds);
    idle = await measureIdle(koe, opts.idleSeconds);
    log(`\n[3] Idle (engine loaded, no session): CPU ${fmt(idle.cpu.koePercent, 1)} %, RSS ${fmt(idle.rssMb)} MB, ${idle.threads} threads`);

    const stepCost = opts.stepSeconds + opts.warmupSeconds + opts.quietWaitSeconds + 15;
    let largestSoFar = 0;
    const run = async (n: number, label: string): Promise<StepResult> => {
      let best: StepResult | undefined;
      const rssComparable = n > largestSoFar;
      largestSoFar = Math.max(largestSoFar, n);
      // A step that fails while other processes took the CPU is run once more if time allows; the quieter run is kept.
      for (let attempt = 0; attempt < 2; attempt++) {
        const background = await waitForQuiet(koe.pid, opts.quietWaitSeconds);
        if (background >= BACKGROUND_LIMIT_PERCENT) log(`  (other processes use ${fmt(background)} % of a core; measuring anyway)`);
        const step = await runStep(koe, corpus, opts, n, n === 1 ? { seconds: Math.max(opts.stepSeconds, opts.turns * 10), minTurns: opts.turns, label } : { seconds: opts.stepSeconds, label });
        step.rssPerSessionMb = rssComparable && attempt === 0 ? (step.rssMb.avg - (idle?.rssMb ?? Number.NaN)) / n : Number.NaN;
        log(stepLine(step));
        if (!best || step.cpu.backgroundPercent < best.cpu.backgroundPercent) best = { ...step, rssPerSessionMb: best?.rssPerSessionMb ?? step.rssPerSessionMb };
        const noisy = step.cpu.backgroundPercent >= BACKGROUND_LIMIT_PERCENT;
        const nearBound = step.latencyMs.p95 <= opts.boundMs * RETRY_NEAR_BOUND;
        if (step.pass || !noisy || !nearBound || label !== '4' || elapsedS() + stepCost > opts.budgetSeconds) break;
        log('  failed while other processes were busy: once more');
      }
      steps.push(best as StepResult);
      return best as StepResult;
    };

    for (const n of opts.steps) await run(n, n === 1 ? '1+3' : '3');

    if (opts.capacity) {
      // [4] Grow N past the ladder until a step fails, then narrow the gap once or twice.
      const byN = (): StepResult[] => [...steps].sort((a, b) => a.sessions - b.sessions);
      const bounds = (): { pass: number; fail: number | undefined } => {
        let pass = 0;
        let fail: number | undefined;
        for (const s of byN()) {
          if (s.pass && fail === undefined) pass = s.sessions;
          else if (!s.pass && fail === undefined) fail = s.sessions;
        }
        return { pass, fail };
      };
      for (let i = 0; i < opts.capacitySteps; i++) {
        const { pass, fail } = bounds();
        let next: number;
        if (fail === undefined) next = Math.min(opts.maxSessions, Math.max(pass + 1, Math.round(pass * 1.5)));
        else if (fail - pass > Math.max(1, Math.round(pass * 0.15))) next = Math.round((pass + fail) / 2);
        else break;
        if (steps.some((s) => s.sessions === next) || (fail === undefined && pass >= opts.maxSessions)) break;
        if (elapsedS() + stepCost > opts.budgetSeconds) {
          log(`  (time budget: no more capacity steps after ${fmt(elapsedS())} s)`);
          break;
        }
        await run(next, '4');
      }
      const { pass, fail } = bounds();
      const step = steps.find((s) => s.sessions === pass);
      capacity = {
        sessions: pass,
        step,
        firstFailing: fail,
        note: fail === undefined ? `no step failed up to ${pass} sessions (the search stopped there)` : `${fail} sessions failed: ${steps.find((s) => s.sessions === fail)?.failures.join('; ')}`,
      };
    }

    await delay(3000);
    idleAfter = await measureIdle(koe, Math.min(5, opts.idleSeconds));
  } catch (err) {
    // Keep what was measured: report the steps that completed, then fail.
    failure = err instanceof Error ? err : new Error(String(err));
    console.error(`\n${failure.message}`);
    if (!(failure instanceof KoeDied) && !koe.running) console.error(`Koe ${koe.exitDescription}; its last output:\n${koe.output.slice(-30).join('\n')}`);
  } finally {
    await koe.stop();
    if (opts.cpuProfDir) profiles = readProfiles(opts.cpuProfDir, koe.pid);
    removeTempDir(scratch);
  }

  report({ opts, machine, git, corpus, stages, idle, idleAfter, steps, capacity, profiles, elapsedS: elapsedS() });
  if (failure) throw failure;
}

function report(r: {
  opts: Options;
  machine: MachineInfo;
  git: string;
  corpus: PhoneUtterance[];
  stages: StageResults | undefined;
  idle: IdleResult | undefined;
  idleAfter: IdleResult | undefined;
  steps: StepResult[];
  capacity: { sessions: number; step: StepResult | undefined; firstFailing: number | undefined; note: string } | undefined;
  profiles: Profiles | undefined;
  elapsedS: number;
}): void {
  const { opts, machine, stages, idle, steps, capacity } = r;
  const out: string[] = [];
  out.push('');
  out.push('═'.repeat(100));
  out.push(`Koe engine load — ${new Date().toISOString()}`);
  out.push(`machine: ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, Linux ${machine.kernel}`);
  if (opts.cpuProfDir) out.push('Koe ran with --cpu-prof: its CPU figures include the profiler\'s own overhead (≈ 10 % of a core).');
  out.push(`CPU % is of ONE core; the machine has ${machine.cores} cores (${machine.cores * 100} % = all busy). Koe: koe start, built-in engine, embedded dialogue,`);
  out.push(`STT decoders ${opts.sttDecoders ?? 'default (min(2, cores))'}, TTS workers ${opts.ttsWorkers ?? 'default (1)'}; callers: μ-law 8 kHz, 20 ms frames, server VAD silence ${opts.silenceMs} ms,`);
  out.push(`between utterances ${opts.lineNoiseDbfs === undefined ? 'digital silence' : `line noise at ${opts.lineNoiseDbfs} dBFS`}; Koe at git ${r.git}.`);

  const one = steps.find((s) => s.sessions === 1);
  if (one) {
    out.push('');
    out.push(`1. End of caller speech → first agent audio, one caller, ${one.answered} turns answered of ${one.turns}`);
    const row = (name: string, s: Spread): string[] => [name, String(s.n), fmt(s.p50), fmt(s.p95), fmt(s.max)];
    out.push(
      table([
        ['ms', 'n', 'p50', 'p95', 'max'],
        row('speech end → first audio delta', one.latencyMs),
        row('  VAD: speech end → speech_stopped', one.vadMs),
        row('  STT: committed → transcription.completed', one.sttMs),
        row('  dialogue+TTS: transcript → first delta', one.dialogueTtsMs),
        row(`VAD late on the audio clock (beyond ${opts.silenceMs} ms)`, one.vadLateAudioMs),
        row('audio committed (transcribed) per turn', one.committedAudioMs),
        row('reply audio per turn', one.replyAudioMs),
      ]),
    );
    out.push(`   empty transcripts ${one.emptyTranscripts}, VAD splits ${one.earlyStops}, unanswered ${one.unanswered}, replies with gaps ${one.repliesWithGaps}`);
  }

  if (stages) {
    out.push('');
    out.push('2. Stage real-time factors (processing time / audio duration), in-process, one decoder / one worker');
    out.push(
      table([
        ['stage', 'n', 'audio s', 'RTF p50', 'RTF p95', 'RTF max', 'ms p50', 'ms max'],
        ['STT pocketsphinx, phone band (0.3 s + speech + 0.5 s)', String(stages.stt.count), fmt(stages.stt.audioMs / 1000, 1), fmt(stages.stt.rtfP50, 3), fmt(stages.stt.rtfP95, 3), fmt(stages.stt.rtfMax, 3), fmt(stages.stt.processingMsP50), fmt(stages.stt.processingMsMax)],
        ...stages.sttWithLead.map((l) => [l.label, String(l.count), fmt(l.audioMs / 1000, 1), fmt(l.rtfP50, 3), fmt(l.rtfP95, 3), fmt(l.rtfMax, 3), fmt(l.processingMsP50), fmt(l.processingMsMax)]),
        [`TTS Flite ${stages.tts.voice}, one sentence`, String(stages.tts.count), fmt(stages.tts.audioMs / 1000, 1), fmt(stages.tts.rtfP50, 3), fmt(stages.tts.rtfP95, 3), fmt(stages.tts.rtfMax, 3), fmt(stages.tts.processingMsP50), fmt(stages.tts.processingMsMax)],
      ]),
    );
    out.push(
      `   STT word errors ${fmt(stages.stt.wordErrorPercent, 1)} %; decoder-only RTF p50 ${fmt(stages.stt.decodeRtfP50, 3)}; ` +
        `decode time with the lead ÷ without (p50): ${stages.sttWithLead.map((l) => `${l.noiseDbfs === null ? 'silence' : `${l.noiseDbfs} dBFS noise`} ${fmt(l.ratioP50, 2)}×`).join(', ')}; ` +
          `heard with the noise lead: ${stages.sttWithLead.find((l) => l.noiseDbfs !== null)?.samples.map((x) => `"${x.text ?? ''}"`).join(', ') ?? ''}`,
    );
    out.push(`   on the event loop: VAD + input decoding per 20 ms append ${fmt(stages.vad.usPerFrameP50)} µs p50, ${fmt(stages.vad.usPerFrameP95)} µs p95 (${fmt(stages.vad.corePercentPerSession, 2)} % of a core per session);`);
    out.push(`     a new session's Silero detector ${fmt(stages.vadDetector.msP50)} ms p50 / ${fmt(stages.vadDetector.msMax)} ms max, +${fmt(stages.vadDetector.rssMbEach, 1)} MB RSS each;`);
    out.push(`     decoding a committed buffer (μ-law → 16 kHz): ${stages.commitDecode.map((c) => `${c.bufferSeconds} s → ${fmt(c.ms, 1)} ms`).join(', ')}`);
  }

  out.push('');
  out.push(`3. Koe CPU and memory per active session (each session holding turns continuously); latency bound ${opts.boundMs} ms p95`);
  const rows: string[][] = [['sessions', 'turns', 'lat p50', 'lat p95', 'lat max', 'VAD p95', 'STT p95', 'STT max', 'dlg+TTS p95', 'commit s p50', 'Koe CPU %', 'main %', 'other thr %', 'CPU %/sess', 'RSS MB', 'RSS/sess MB', 'loop p99 ms', 'gaps', 'bg %', 'result']];
  if (idle) rows.push(['idle', '–', '–', '–', '–', '–', '–', '–', '–', '–', fmt(idle.cpu.koePercent, 1), fmt(idle.cpu.koeMainThreadPercent, 1), fmt(idle.cpu.koeOtherThreadsPercent, 1), '–', fmt(idle.rssMb), '–', '–', '–', fmt(idle.cpu.backgroundPercent), '']);
  for (const s of [...steps].sort((a, b) => a.sessions - b.sessions)) {
    rows.push([
      String(s.sessions),
      String(s.turns),
      fmt(s.latencyMs.p50),
      fmt(s.latencyMs.p95),
      fmt(s.latencyMs.max),
      fmt(s.vadMs.p95),
      fmt(s.sttMs.p95),
      fmt(s.sttMs.max),
      fmt(s.dialogueTtsMs.p95),
      fmt(s.committedAudioMs.p50 / 1000, 1),
      fmt(s.cpu.koePercent),
      fmt(s.cpu.koeMainThreadPercent),
      fmt(s.cpu.koeOtherThreadsPercent),
      fmt((s.cpu.koePercent - (idle?.cpu.koePercent ?? 0)) / s.sessions, 1),
      fmt(s.rssMb.avg),
      fmt(s.rssPerSessionMb, 1),
      s.eventLoop ? fmt(s.eventLoop.p99Ms, 1) : '–',
      `${s.repliesWithGaps}/${s.replies}`,
      fmt(s.cpu.backgroundPercent),
      `${s.pass ? 'ok' : 'OUT'}${s.cpu.backgroundPercent >= BACKGROUND_LIMIT_PERCENT ? '*' : ''}`,
    ]);
  }
  out.push(table(rows));
  const comparable = [...steps].filter((x) => Number.isFinite(x.rssPerSessionMb)).sort((a, b) => a.sessions - b.sessions);
  const marginal = comparable.slice(1).map((b, i) => {
    const a = comparable[i] as StepResult;
    return `${a.sessions}→${b.sessions}: ${fmt((b.rssMb.avg - a.rssMb.avg) / (b.sessions - a.sessions), 1)} MB`;
  });
  if (marginal.length) out.push(`   RSS added per extra session between steps: ${marginal.join(', ')} (RSS/sess "–": a larger step ran before and left memory behind)`);
  if (r.idleAfter) out.push(`   idle again after the load: CPU ${fmt(r.idleAfter.cpu.koePercent, 1)} %, RSS ${fmt(r.idleAfter.rssMb)} MB`);
  for (const s of steps.filter((x) => !x.pass)) out.push(`   ${s.sessions} sessions OUT: ${s.failures.join('; ')}`);
  const errs = steps.flatMap((s) => s.errors);
  if (errs.length) out.push(`   engine errors (first): ${errs.slice(0, 3).join(' | ')}`);
  out.push(`   * = other processes took ≥ ${BACKGROUND_LIMIT_PERCENT} % of a core during the step (the machine was shared); latency there is pessimistic`);
  out.push(`   gaps = replies in which a delta arrived > ${PLAYBACK_GAP_TOLERANCE_MS} ms after the audio before it had finished playing; bg = other processes on the machine`);
  const gen = steps.reduce((m, s) => Math.max(m, s.generator.maxLatenessMs), 0);
  out.push(`   caller side: worst frame lateness ${fmt(gen)} ms; this process used at most ${fmt(Math.max(0, ...steps.map((s) => s.cpu.benchPercent)))} % of a core`);

  if (capacity) {
    out.push('');
    const s = capacity.step;
    out.push(`4. Concurrent conversations in real time (p95 ≤ ${opts.boundMs} ms, every turn answered, ≤ ${GAP_REPLY_LIMIT * 100} % of replies with gaps)`);
    if (s) {
      out.push(
        `   largest N within the bound: ${capacity.sessions} sessions on ${machine.cores} cores — Koe CPU ${fmt(s.cpu.koePercent)} % of one core ` +
          `(${fmt(s.cpu.koePercent / machine.cores)} % of the machine; main thread ${fmt(s.cpu.koeMainThreadPercent)} %), latency p95 ${fmt(s.latencyMs.p95)} ms`,
      );
      out.push(`   per core: ${fmt(capacity.sessions / machine.cores, 1)} sessions per core; ${fmt(s.cpu.koePercent / capacity.sessions, 1)} % of a core per session at that load`);
    } else out.push('   no step stayed within the bound');
    out.push(`   ${capacity.note}`);
    const perSession = steps.filter((x) => x.sessions >= 5).map((x) => (x.cpu.koePercent - (idle?.cpu.koePercent ?? 0)) / x.sessions);
    if (perSession.length > 0) {
      const median = spread(perSession).p50;
      out.push(
        `   CPU ceiling: Koe used ${fmt(median, 1)} % of a core per session (median of the steps with ≥ 5 sessions); ` +
          `${machine.cores} cores would be full at ≈ ${fmt((machine.cores * 100) / median)} sessions with nothing else running (an upper bound: queues grow before that)`,
      );
    }
  }
  if (r.profiles) {
    out.push('');
    out.push(`Koe CPU profiles (${opts.cpuProfDir}), whole run:`);
    if (r.profiles.main) {
      out.push(`main thread (the event loop every session shares):`);
      out.push(formatProfileSummary(r.profiles.main));
      out.push(formatLongTasks(r.profiles.mainLongTasks));
    }
    for (const w of r.profiles.workers) out.push(`  other thread ${w.file}: busy ${fmt(w.busyMs / 1000, 1)} s, mostly ${w.topArea}`);
  }
  out.push('');
  out.push(`total ${fmt(r.elapsedS)} s; results: ${opts.out}`);
  console.log(out.join('\n'));

  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(
    opts.out,
    JSON.stringify(
      {
        kind: 'koe-engine-load',
        at: new Date().toISOString(),
        machine,
        git: r.git,
        options: opts,
        corpus: r.corpus.map((u) => ({ text: u.text, voice: u.voice, speechMs: Math.round(u.speechEndMs) })),
        stages,
        idle,
        idleAfter: r.idleAfter,
        steps,
        capacity: capacity ? { sessions: capacity.sessions, firstFailing: capacity.firstFailing, note: capacity.note, cpuPercentOfOneCore: capacity.step?.cpu.koePercent } : undefined,
        profiles: r.profiles,
        elapsedSeconds: r.elapsedS,
      },
      null,
      2,
    ),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
