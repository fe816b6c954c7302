// Campaign CSVs parsed in a worker thread: 100,000 rows take ~1.2 s of CPU (phone-number validation is
// most of it), which on the main thread would stall the audio of every live call for as long. The parsed
// contacts come back one slice at a time, so taking them back does not stall it either.
import { startModuleWorker, workerEntry } from '../workers/module-worker.js';
import { ContactImportError, type ContactImportOptions, type ParsedContact } from './contact-import.js';
import type { ImportReport } from '../store/records.js';

/** Contacts per message from the worker: ~5 ms to deserialize on the main thread. */
export const CONTACTS_PER_MESSAGE = 5_000;

type WorkerMessage =
  | { type: 'contacts'; contacts: ParsedContact[] }
  | { type: 'done'; report: ImportReport }
  | { type: 'failed'; message: string; problems?: string[] };

/** parseContactsCsv in a worker thread; throws ContactImportError the same way. */
export function parseContactsCsvOffThread(csv: string, options: ContactImportOptions = {}): Promise<{ contacts: ParsedContact[]; report: ImportReport }> {
  return new Promise((resolve, reject) => {
    const worker = startModuleWorker(workerEntry(import.meta.url, 'contact-import-worker'), { csv, options });
    const contacts: ParsedContact[] = [];
    let answered = false;
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'contacts') {
        for (const contact of message.contacts) contacts.push(contact);
        worker.postMessage('next');
        return;
      }
      answered = true;
      if (message.type === 'done') resolve({ contacts, report: message.report });
      else if (message.problems) reject(new ContactImportError(message.problems));
      else reject(new Error(`the contact import failed: ${message.message}`));
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
