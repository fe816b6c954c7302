// Campaign CSVs parsed in a worker thread: 100,000 rows take ~1.2 s of CPU (phone-number validation is
// most of it), which on the main thread would stall the audio of every live call for as long.
import { startModuleWorker, workerEntry } from '../workers/module-worker.js';
import { ContactImportError, type ContactImportOptions, type ParsedContact } from './contact-import.js';
import type { ImportReport } from '../store/records.js';

type WorkerAnswer = { ok: true; result: { contacts: ParsedContact[]; report: ImportReport } } | { ok: false; message: string; problems?: string[] };

/** parseContactsCsv in a worker thread; throws ContactImportError the same way. */
export function parseContactsCsvOffThread(csv: string, options: ContactImportOptions = {}): Promise<{ contacts: ParsedContact[]; report: ImportReport }> {
  return new Promise((resolve, reject) => {
    const worker = startModuleWorker(workerEntry(import.meta.url, 'contact-import-worker'), { csv, options });
    let answered = false;
    worker.once('message', (answer: WorkerAnswer) => {
      answered = true;
      if (answer.ok) resolve(answer.result);
      else if (answer.problems) reject(new ContactImportError(answer.problems));
      else reject(new Error(`the contact import failed: ${answer.message}`));
      void worker.terminate();
    });
    worker.once('error', (err) => {
      if (!answered) reject(err);
    });
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`the contact import worker exited (code ${code}) without an answer`));
    });
  });
}
