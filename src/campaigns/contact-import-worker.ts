// Worker thread entry: parses one campaign CSV (see contact-import-off-thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { ContactImportError, parseContactsCsv, type ContactImportOptions } from './contact-import.js';

const { csv, options } = workerData as { csv: string; options: ContactImportOptions };
try {
  parentPort?.postMessage({ ok: true, result: parseContactsCsv(csv, options) });
} catch (err) {
  parentPort?.postMessage(
    err instanceof ContactImportError
      ? { ok: false, problems: err.problems, message: err.message }
      : { ok: false, message: err instanceof Error ? err.message : String(err) },
  );
}
