// The longest stretches a V8 CPU profile's thread spent busy without going idle once: on Koe's main thread,
// each one is a time every session's audio waited. For each stretch, the stacks seen most often, cut at the
// first frames of Koe's own code so the cause reads at a glance.
// Run on its own: node --import tsx bench/engine-long-tasks.ts <file.cpuprofile> [top]
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface LongTask {
  /** Offset from the start of the profile. */
  atS: number;
  ms: number;
  /** The most frequent stacks in the stretch (leaf first, 4 frames), with their share of its samples. */
  stacks: Array<{ stack: string; percent: number }>;
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|src)\//, '$1/').replace(/^node_modules\//, '');
  return `${functionName || '(anonymous)'}${short ? ` ${short}:${lineNumber + 1}` : ''}`;
}

export function longTasks(file: string, top = 8): LongTask[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const stackOf = (id: number): string => {
    const frames: string[] = [];
    for (let cur: number | undefined = id; cur !== undefined && frames.length < 4; cur = parent.get(cur)) {
      const node = byId.get(cur);
      if (!node || node.callFrame.functionName === '(root)') break;
      frames.push(frameName(node));
    }
    return frames.join(' < ');
  };
  const runs: Array<{ start: number; end: number; ids: number[] }> = [];
  let current: { start: number; end: number; ids: number[] } | undefined;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const id = profile.samples[i] as number;
    const idle = byId.get(id)?.callFrame.functionName === '(idle)';
    if (!idle) {
      current ??= { start: t, end: t, ids: [] };
      current.end = t;
      current.ids.push(id);
    } else if (current) {
      runs.push(current);
      current = undefined;
    }
  }
  if (current) runs.push(current);
  runs.sort((a, b) => b.end - b.start - (a.end - a.start));
  return runs.slice(0, top).map((run) => {
    const counts = new Map<string, number>();
    for (const id of run.ids) {
      const key = stackOf(id);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const stacks = [...counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 2)
      .map(([stack, n]) => ({ stack, percent: (100 * n) / run.ids.length }));
    return { atS: (run.start - profile.startTime) / 1e6, ms: (run.end - run.start) / 1000, stacks };
  });
}

export function formatLongTasks(tasks: LongTask[]): string {
  const lines = ['  longest busy stretches (event loop blocked; wall time, so preemption by other threads counts too)'];
  for (const task of tasks) {
    lines.push(`    ${task.ms.toFixed(0).padStart(5)} ms at ${task.atS.toFixed(1)} s`);
    for (const s of task.stacks) lines.push(`        ${s.percent.toFixed(0).padStart(3)}%  ${s.stack}`);
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node --import tsx bench/engine-long-tasks.ts <file.cpuprofile> [top]');
    process.exitCode = 2;
  } else {
    console.log(formatLongTasks(longTasks(file, top ? Number(top) : 8)));
  }
}
