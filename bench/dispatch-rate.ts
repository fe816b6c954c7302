// How evenly calls reached Twilio: the rate over a whole run, the rate in each one-second window, the gaps
// between consecutive calls, and numbers dialed more than once. Pure functions over the fake Twilio's
// `created` list (wall-clock arrival of every accepted POST /Calls), for bench/campaign-dispatch.ts.
import { percentile } from './engine-stats.js';

export interface Spread5 {
  min: number;
  p5: number;
  p50: number;
  p95: number;
  max: number;
}

export interface GapSpread {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface RateFigures {
  calls: number;
  /** First to last call, ms. */
  spanMs: number;
  /** (calls − 1) / span: the rate the calls were spread at. */
  measuredCps: number;
  /** Calls per full one-second window counted from the first call (the last, partial window left out). */
  windows: number;
  perSecond: Spread5;
  /** Time between consecutive calls, ms. */
  gapMs: GapSpread;
  /** Calls in the busiest 100 ms, to show bursts a per-second count hides. */
  max100msCalls: number;
}

function spread5(values: readonly number[]): Spread5 {
  return {
    min: values.length ? Math.min(...values) : Number.NaN,
    p5: percentile(values, 5),
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    max: values.length ? Math.max(...values) : Number.NaN,
  };
}

/** Rate figures of the arrival times `atMs` (any order). */
export function rateFigures(atMs: readonly number[]): RateFigures {
  const times = [...atMs].sort((a, b) => a - b);
  const first = times[0] ?? 0;
  const last = times[times.length - 1] ?? 0;
  const spanMs = last - first;
  const fullWindows = Math.floor(spanMs / 1000);
  const counts = new Array<number>(fullWindows).fill(0);
  const gaps: number[] = [];
  let max100ms = 0;
  let tail = 0;
  times.forEach((t, i) => {
    const w = Math.floor((t - first) / 1000);
    if (w < fullWindows) counts[w] = (counts[w] ?? 0) + 1;
    if (i > 0) gaps.push(t - (times[i - 1] as number));
    while ((times[tail] as number) <= t - 100) tail += 1;
    max100ms = Math.max(max100ms, i - tail + 1);
  });
  return {
    calls: times.length,
    spanMs,
    measuredCps: times.length > 1 && spanMs > 0 ? (times.length - 1) / (spanMs / 1000) : Number.NaN,
    windows: fullWindows,
    perSecond: spread5(counts),
    gapMs: { p50: percentile(gaps, 50), p95: percentile(gaps, 95), p99: percentile(gaps, 99), max: gaps.length ? Math.max(...gaps) : Number.NaN },
    max100msCalls: max100ms,
  };
}

/** Numbers called more than once (each counted once), and the extra calls they got. */
export function repeatedCalls(to: readonly string[]): { numbers: number; extraCalls: number } {
  const seen = new Map<string, number>();
  for (const n of to) seen.set(n, (seen.get(n) ?? 0) + 1);
  let numbers = 0;
  let extraCalls = 0;
  for (const count of seen.values()) {
    if (count < 2) continue;
    numbers += 1;
    extraCalls += count - 1;
  }
  return { numbers, extraCalls };
}

/**
 * The most calls placed but not yet settled at any moment: `placedAtMs` (calls reaching Twilio) against
 * `settledAtMs` (their outcomes stored). Calls ringing count too, so a few per ring time is normal; a
 * number that keeps growing means the status callbacks fall behind the dialing.
 */
export function maxUnsettled(placedAtMs: readonly number[], settledAtMs: readonly number[]): number {
  const events = [...placedAtMs.map((t) => [t, 1] as const), ...settledAtMs.map((t) => [t, -1] as const)].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let max = 0;
  for (const [, delta] of events) {
    open += delta;
    max = Math.max(max, open);
  }
  return max;
}
