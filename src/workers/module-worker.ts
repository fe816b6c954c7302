// Worker threads running one of Koe's own modules, from the TypeScript sources (tests, tsx) and from the
// compiled dist/ alike: the entry keeps the caller's extension, and under TypeScript the worker registers
// tsx itself, since Node 20 does not apply `--import tsx` to a worker's entry module.
import { Worker } from 'node:worker_threads';

/** The URL of the worker module `stem` next to `baseUrl` (pass `import.meta.url`), with the caller's extension. */
export function workerEntry(baseUrl: string, stem: string): URL {
  const extension = baseUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${stem}${extension}`, baseUrl);
}

export function startModuleWorker(entry: URL, workerData: unknown): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}
