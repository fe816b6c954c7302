// Errors and argument checks shared by both database backends.

/** The fields of a PostgreSQL error both drivers report; `code` is the SQLSTATE. */
export interface DatabaseErrorFields {
  message: string;
  code?: string;
  detail?: string;
  hint?: string;
  constraint?: string;
  table?: string;
  column?: string;
  severity?: string;
}

/** A PostgreSQL error raised inside PGlite's worker, rebuilt on this side with the same fields as pg's. */
export class StoreDatabaseError extends Error {
  readonly code: string | undefined;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  readonly constraint: string | undefined;
  readonly table: string | undefined;
  readonly column: string | undefined;
  readonly severity: string | undefined;

  constructor(fields: DatabaseErrorFields) {
    super(fields.message);
    this.name = 'StoreDatabaseError';
    this.code = fields.code;
    this.detail = fields.detail;
    this.hint = fields.hint;
    this.constraint = fields.constraint;
    this.table = fields.table;
    this.column = fields.column;
    this.severity = fields.severity;
  }
}

/** The database cannot be reached or was closed; worth retrying later (or never, once closed). */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

// SQLSTATE classes that say "this statement is wrong for this data": retrying cannot help.
// Everything else (connection loss, shutdown, lock timeouts, serialization failures, resource
// exhaustion, errors without a SQLSTATE such as ECONNREFUSED) may pass once the database is back.
const PERMANENT_SQLSTATE_CLASSES = new Set(['0A', '21', '22', '23', '2B', '42', '44']);

export function isPermanentDatabaseError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && PERMANENT_SQLSTATE_CLASSES.has(code.slice(0, 2));
}

/** Lower-case identifiers only, so LISTEN's identifier rules and pg_notify's exact string agree. */
const CHANNEL_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
export const MAX_NOTIFY_PAYLOAD_BYTES = 7_900;

export function checkChannel(channel: string): void {
  if (!CHANNEL_PATTERN.test(channel)) {
    throw new TypeError(`channel names are lower-case letters, digits and _ (max 63), got ${JSON.stringify(channel)}`);
  }
}

export function checkNotifyPayload(payload: string): void {
  const bytes = Buffer.byteLength(payload, 'utf8');
  if (bytes > MAX_NOTIFY_PAYLOAD_BYTES) {
    throw new RangeError(`NOTIFY payload is ${bytes} bytes; the limit is ${MAX_NOTIFY_PAYLOAD_BYTES}`);
  }
}

/** A database URL fit for logs and error messages: the password is replaced. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable database URL)';
  }
}
