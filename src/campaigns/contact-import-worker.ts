// Worker thread entry: parses one campaign CSV (see contact-import-off-thread.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { CONTACTS_PER_MESSAGE } from './contact-import-off-thread.js';
import { ContactImportError, parseContactsCsv, type ContactImportOptions } from './contact-import.js';

const { csv, options } = workerData as { csv: string; options: ContactImportOptions };
const port = parentPort;

/** Resolves when the main thread has taken the last slice (it answers each one with 'next'). */
function taken(): Promise<void> {
  return new Promise((resolve) => port?.once('message', () => resolve()));
}

try {
  const { contacts, report } = parseContactsCsv(csv, options);
  // One slice at a time: the main thread deserializes a message in one go, and every message waiting is
  // taken in one turn of its event loop — 100,000 contacts at once block it ~150 ms, a slice a few ms.
  for (let start = 0; start < contacts.length; start += CONTACTS_PER_MESSAGE) {
    port?.postMessage({ type: 'contacts', contacts: contacts.slice(start, start + CONTACTS_PER_MESSAGE) });
    await taken();
  }
  port?.postMessage({ type: 'done', report });
} catch (err) {
  port?.postMessage(
    err instanceof ContactImportError
      ? { type: 'failed', problems: err.problems, message: err.message }
      : { type: 'failed', message: err instanceof Error ? err.message : String(err) },
  );
}
