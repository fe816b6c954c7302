// Small numeric and /proc helpers of the engine benchmark: percentiles, and the CPU time of a process split
// into its main thread (the event loop every session shares) and its other threads (STT and TTS workers,
// V8's garbage-collector and compiler threads, libuv's pool).
import { readdirSync, readFileSync } from 'node:fs';
import { CLOCK_TICKS_PER_S } from './proc-stats.js';

/** Nearest-rank percentile; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export interface Spread {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

export function spread(values: readonly number[]): Spread {
  return { n: values.length, p50: percentile(values, 50), p95: percentile(values, 95), max: values.length ? Math.max(...values) : Number.NaN };
}

function threadTicks(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** CPU seconds of `pid`'s main thread and of all its threads (live ones; see /proc/<pid>/stat for the exited ones). */
export function threadCpuSeconds(pid: number): { main: number; allThreads: number; threads: number } | undefined {
  const main = threadTicks(`/proc/${pid}/task/${pid}/stat`);
  if (main === undefined) return undefined;
  let all = 0;
  let threads = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const ticks = threadTicks(`/proc/${pid}/task/${tid}/stat`);
      if (ticks === undefined) continue;
      all += ticks;
      threads += 1;
    }
  } catch {
    return undefined;
  }
  return { main: main / CLOCK_TICKS_PER_S, allThreads: all / CLOCK_TICKS_PER_S, threads };
}

export function fmt(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

/** A plain-text table: the first row is the header; columns are right-aligned except the first. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const line = (row: readonly string[]): string => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  const out = rows.map(line);
  if (out.length > 1) out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return out.join('\n');
}
