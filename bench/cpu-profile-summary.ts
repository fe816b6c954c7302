// Summarises a V8 .cpuprofile (node --cpu-prof): the functions with the most self time, the most
// inclusive time, and self time grouped by where the code lives (a package, a src/ file, Node itself).
// Run on its own: node --import tsx bench/cpu-profile-summary.ts <file.cpuprofile> [top]
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
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  name: string;
  ms: number;
  /** Share of the profile's non-idle time. */
  percent: number;
}

export interface ProfileSummary {
  file: string;
  durationMs: number;
  idleMs: number;
  busyMs: number;
  topSelf: ProfileRow[];
  topInclusive: ProfileRow[];
  byArea: ProfileRow[];
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) return path.slice(nm + '/node_modules/'.length);
  const src = path.search(/\/(src|bench|test)\//);
  return src >= 0 ? path.slice(src + 1) : path;
}

function functionKey(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = shortUrl(url);
  return `${functionName || '(anonymous)'}${where ? ` ${where}:${lineNumber + 1}` : ''}`;
}

function areaOf(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native / V8 builtins)';
  if (url.startsWith('node:')) return url.startsWith('node:internal/') ? `node:${url.split('/')[1] ?? 'internal'}` : url;
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return `pkg ${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  return shortUrl(url);
}

export function summarizeCpuProfile(file: string, top = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time from sample i-1 to sample i: it belongs to sample i-1's stack.
  for (let i = 0; i < profile.samples.length; i += 1) {
    const id = profile.samples[i] as number;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  let idleUs = 0;
  const selfByKey = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)') idleUs += us;
    const key = functionKey(node);
    selfByKey.set(key, (selfByKey.get(key) ?? 0) + us);
    const area = areaOf(node);
    selfByArea.set(area, (selfByArea.get(area) ?? 0) + us);
  }

  // Inclusive time: a node's subtree, counted once per function even when it recurses.
  const subtreeUs = new Map<number, number>();
  const subtree = (node: ProfileNode): number => {
    const cached = subtreeUs.get(node.id);
    if (cached !== undefined) return cached;
    let sum = selfUs.get(node.id) ?? 0;
    for (const child of node.children ?? []) {
      const c = byId.get(child);
      if (c) sum += subtree(c);
    }
    subtreeUs.set(node.id, sum);
    return sum;
  };
  const inclusiveByKey = new Map<string, number>();
  const onStack = new Map<string, number>();
  const root = profile.nodes[0];
  const walk = (node: ProfileNode): void => {
    const key = functionKey(node);
    const depth = onStack.get(key) ?? 0;
    if (depth === 0) inclusiveByKey.set(key, (inclusiveByKey.get(key) ?? 0) + subtree(node));
    onStack.set(key, depth + 1);
    for (const child of node.children ?? []) {
      const c = byId.get(child);
      if (c) walk(c);
    }
    onStack.set(key, depth);
  };
  if (root) walk(root);

  const busyUs = totalUs - idleUs;
  const rows = (map: Map<string, number>, exclude: (name: string) => boolean): ProfileRow[] =>
    [...map.entries()]
      .filter(([name]) => !exclude(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, percent: busyUs > 0 ? (100 * us) / busyUs : 0 }));
  const notBusy = (name: string): boolean => name === '(idle)' || name === '(root)' || name === '(program)';
  return {
    file,
    durationMs: (profile.endTime - profile.startTime) / 1000,
    idleMs: idleUs / 1000,
    busyMs: busyUs / 1000,
    topSelf: rows(selfByKey, (n) => n === '(idle)'),
    topInclusive: rows(inclusiveByKey, (n) => notBusy(n) || n.startsWith('(garbage collector)')),
    byArea: rows(selfByArea, (n) => n === '(idle)'),
  };
}

export function formatProfileSummary(summary: ProfileSummary): string {
  const lines: string[] = [];
  lines.push(
    `CPU profile ${summary.file}: ${(summary.durationMs / 1000).toFixed(1)} s sampled, busy ${(summary.busyMs / 1000).toFixed(1)} s, idle ${(summary.idleMs / 1000).toFixed(1)} s (percentages are of busy time)`,
  );
  const table = (title: string, rows: ProfileRow[]): void => {
    lines.push(`  ${title}`);
    for (const row of rows) lines.push(`    ${row.percent.toFixed(1).padStart(5)}%  ${row.ms.toFixed(0).padStart(7)} ms  ${row.name}`);
  };
  table('self time by area', summary.byArea);
  table('self time by function', summary.topSelf);
  table('inclusive time by function', summary.topInclusive);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, top] = process.argv.slice(2);
  if (!file || (top !== undefined && !(Number(top) > 0))) {
    console.error('usage: node --import tsx bench/cpu-profile-summary.ts <file.cpuprofile> [top]');
    process.exitCode = 2;
  } else {
    console.log(formatProfileSummary(summarizeCpuProfile(file, top ? Number(top) : 25)));
  }
}
