// Contact import benchmark: parseContactsCsv (src/campaigns/contact-import.ts) on a generated campaign CSV.
//
//   npx tsx bench/contact-import.ts                 # 100,000 rows
//   npx tsx bench/contact-import.ts --rows 1000000
//
// The CSV comes from bench/contact-csv.ts: a JP campaign with national and international JP numbers, US
// numbers, ~1 % invalid numbers, ~1 % duplicates, a timezone column and 2 variable columns. It is written to
// a temporary file and imported in a fresh process, so memory is the import's alone (not the generator's
// garbage): the file is read, a GC runs, then the same text is parsed --runs times. Run 1 is cold
// (libphonenumber's metadata and the JIT warm up inside it), as a server's first import would be.
// Memory is run 1's: peak RSS during the import over RSS before it (csv-parse's records and the contacts
// live at once), and the heap its result still holds after a GC. The imported/rejected counts are checked
// against what the generator wrote. Then the phone cells alone are parsed with libphonenumber-js `max` and
// `min` metadata, the figures behind the choice of `max` in contact-import.ts.
//
// Options: --rows 100000  --seed 1  --runs 3  --no-metadata
// The machine may be shared: "bg" is the CPU other processes took meanwhile (% of one core).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as phoneMax from 'libphonenumber-js/max';
import * as phoneMin from 'libphonenumber-js/min';
import { parseContactsCsv } from '../src/campaigns/contact-import.js';
import type { ImportReport } from '../src/store/records.js';
import { CONTACTS_DEFAULT_COUNTRY, generateContactsSample } from './contact-csv.js';
import { fmt, table } from './engine-stats.js';
import { machineCpuSeconds, machineInfo, processMemory } from './proc-stats.js';

const MIB = 1024 * 1024;
const SCRIPT = fileURLToPath(import.meta.url);

interface Options {
  rows: number;
  seed: number;
  runs: number;
  metadata: boolean;
  /** Set in the child process: the CSV file to import. */
  child: string | undefined;
}

interface Run {
  ms: number;
  peakRssDeltaMib: number;
  heapHeldMib: number;
  backgroundPercent: number;
}

interface ChildResult {
  runs: Run[];
  report: ImportReport;
  peakRssMeasured: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string' },
      seed: { type: 'string' },
      runs: { type: 'string' },
      'no-metadata': { type: 'boolean', default: false },
      child: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: npx tsx bench/contact-import.ts [--rows 100000] [--seed 1] [--runs 3] [--no-metadata]');
    process.exit(0);
  }
  const int = (name: string, text: string | undefined, fallback: number, min: number): number => {
    if (text === undefined) return fallback;
    const value = Number(text.replace(/_/g, ''));
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${text}"`);
    return value;
  };
  return {
    rows: int('rows', values.rows, 100_000, 1),
    seed: int('seed', values.seed, 1, 0),
    runs: int('runs', values.runs, 3, 1),
    metadata: !values['no-metadata'],
    child: values.child,
  };
}

// ── the child: import the file, measure ──

/** Linux: make VmHWM (peak RSS) restart from the current RSS; false where that is not possible. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function childMain(file: string, runs: number): void {
  // gc() without --expose-gc on the command line (this runs under tsx).
  setFlagsFromString('--expose-gc');
  const collectGarbage = runInNewContext('gc') as () => void;
  const csv = readFileSync(file, 'utf8');
  const hold: unknown[] = [];
  const results: Run[] = [];
  let report: ImportReport | undefined;
  let peakRssMeasured = false;
  for (let i = 0; i < runs; i++) {
    collectGarbage();
    peakRssMeasured = resetPeakRss();
    const rss = processMemory(process.pid)?.rssBytes ?? process.memoryUsage().rss;
    const heap = process.memoryUsage().heapUsed;
    const cpu0 = process.cpuUsage();
    const machine0 = machineCpuSeconds();
    const t0 = performance.now();
    const result = parseContactsCsv(csv, { defaultCountry: CONTACTS_DEFAULT_COUNTRY });
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const machine1 = machineCpuSeconds();
    const after = processMemory(process.pid);
    const peak = (peakRssMeasured ? after?.peakRssBytes : after?.rssBytes) ?? process.memoryUsage().rss;
    hold.push(result);
    collectGarbage(); // what the result holds; csv-parse's records are gone
    const ownS = (cpu.user + cpu.system) / 1e6;
    results.push({
      ms,
      peakRssDeltaMib: (peak - rss) / MIB,
      heapHeldMib: (process.memoryUsage().heapUsed - heap) / MIB,
      backgroundPercent: Math.max(0, ((machine1.busy - machine0.busy - ownS) / (ms / 1000)) * 100),
    });
    report ??= result.report;
    hold.length = 0;
  }
  const out: ChildResult = { runs: results, report: report as ImportReport, peakRssMeasured };
  process.stdout.write(JSON.stringify(out));
}

// ── the parent: generate, run the child, report ──

/** Phone cells alone through libphonenumber: best time of 3 (alternating) and how many each metadata set calls valid. */
function metadataComparison(phones: readonly string[]): string[][] {
  const libraries = [['max', phoneMax], ['min', phoneMin]] as const;
  const best = new Map<string, { ms: number; valid: number; distinct: number }>();
  for (let round = 0; round < 3; round++) {
    for (const [name, lib] of libraries) {
      const t0 = performance.now();
      let valid = 0;
      const distinct = new Set<string>();
      for (const cell of phones) {
        const parsed = lib.parsePhoneNumberFromString(cell, { defaultCountry: CONTACTS_DEFAULT_COUNTRY, extract: false });
        if (parsed?.isValid()) {
          valid++;
          distinct.add(parsed.number);
        }
      }
      const ms = performance.now() - t0;
      if (ms < (best.get(name)?.ms ?? Infinity)) best.set(name, { ms, valid, distinct: distinct.size });
    }
  }
  const rows = [['metadata', 'best ms', 'valid', 'distinct E.164']];
  for (const [name, r] of best) rows.push([name, fmt(r.ms), String(r.valid), String(r.distinct)]);
  return rows;
}

function importInChild(csv: string, runs: number): ChildResult {
  const dir = mkdtempSync(join(tmpdir(), 'koe-contact-import-'));
  try {
    const file = join(dir, 'contacts.csv');
    writeFileSync(file, csv);
    const child = spawnSync(process.execPath, [...process.execArgv, SCRIPT, '--child', file, '--runs', String(runs)], {
      encoding: 'utf8',
      maxBuffer: 256 * MIB,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (child.status !== 0) throw new Error(`the import process failed (exit ${child.status ?? child.signal})`);
    return JSON.parse(child.stdout) as ChildResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parentMain(opts: Options): void {
  const machine = machineInfo();
  console.log(`Contact import: ${opts.rows.toLocaleString('en-US')} rows, seed ${opts.seed}, default country ${CONTACTS_DEFAULT_COUNTRY}`);
  console.log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${fmt(machine.memTotalBytes / 2 ** 30, 1)} GiB, Node ${machine.node}`);

  const g0 = performance.now();
  const sample = generateContactsSample(opts.rows, opts.seed);
  const csvMib = Buffer.byteLength(sample.csv) / MIB;
  console.log(
    `generated ${fmt(csvMib, 1)} MiB of CSV in ${fmt(performance.now() - g0)} ms ` +
      `(meant: ${sample.expected.invalid} invalid numbers, ${sample.expected.duplicates} duplicates)\n`,
  );

  const { runs, report, peakRssMeasured } = importInChild(sample.csv, opts.runs);
  const rows = [['run', 'parse ms', 'rows/s', 'MiB/s', peakRssMeasured ? 'peak RSS Δ MiB' : 'RSS Δ MiB', 'heap held MiB', 'bg %']];
  runs.forEach((r, i) => {
    rows.push([
      i === 0 ? '1 (cold)' : String(i + 1),
      fmt(r.ms),
      fmt(opts.rows / (r.ms / 1000)),
      fmt(csvMib / (r.ms / 1000), 1),
      i === 0 ? fmt(r.peakRssDeltaMib, 1) : '–',
      i === 0 ? fmt(r.heapHeldMib, 1) : '–',
      fmt(r.backgroundPercent),
    ]);
  });
  console.log(table(rows));

  const byReason = new Map<string, number>();
  for (const r of report.rejections) {
    const kind = r.reason.startsWith('duplicate of line') ? 'duplicate of line N' : r.reason;
    byReason.set(kind, (byReason.get(kind) ?? 0) + 1);
  }
  console.log(
    `\nrows ${report.rows}, imported ${report.imported}, rejected ${report.rejected} ` +
      `(rows === imported + rejected: ${report.rows === report.imported + report.rejected ? 'yes' : 'NO'}); ` +
      `variables ${report.variables.join(', ')}; phone column ${report.phoneColumn}; time zone column ${report.timezoneColumn ?? 'none'}`,
  );
  console.log(`the ${report.rejections.length} rejections kept, by reason:`);
  for (const [reason, n] of [...byReason].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(6)}  ${reason}`);
  const expectedRejected = sample.expected.invalid + sample.expected.duplicates;
  const matches = report.rows === opts.rows && report.rejected === expectedRejected;
  console.log(`check against the generator: ${matches ? 'ok' : 'MISMATCH'} (expected ${opts.rows} rows, ${expectedRejected} rejected)`);

  if (opts.metadata) {
    // The generator never quotes a phone cell: it is everything before the first comma.
    const phones = sample.csv.split('\n').slice(1, -1).map((line) => line.slice(0, line.indexOf(',')));
    console.log('\nphone cells alone through libphonenumber-js (parse + isValid), best of 3:');
    console.log(table(metadataComparison(phones)));
  }
  if (!matches) process.exitCode = 1;
}

const opts = options();
if (opts.child !== undefined) childMain(opts.child, opts.runs);
else parentMain(opts);
