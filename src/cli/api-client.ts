// The command line's client of a running Koe's dashboard API: where Koe is (--url, KOE_URL, else this
// machine's PORT), the admin password (--password, KOE_ADMIN_PASSWORD, else the file Koe generated in its
// data folder), one login for a session cookie, then typed JSON requests whose failures become KoeApiError
// with the API's code, message and problems. The password is never printed, only where it came from.
// Also what every such command shares: its output sink, argument parsing, and failures → exit codes.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { ApiError, LoginRequest } from '../server/api/api-types.js';
import { ADMIN_PASSWORD_FILE } from '../server/auth/admin-password.js';

const DEFAULT_PORT = 5050;
const SESSION_COOKIE = 'koe_session';

/** Where a command writes: process.stdout/stderr, or a test's sink. */
export interface CliStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CliIo {
  stdout: CliStream;
  stderr: CliStream;
  env: NodeJS.ProcessEnv;
  /** Relative paths (--csv, --out, KOE_DATA_DIR) are read from here. */
  cwd: string;
  /** Between polls of --wait and --watch; default 1000. */
  pollIntervalMs?: number;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

export function println(stream: CliStream, line = ''): void {
  stream.write(`${line}\n`);
}

/** A mistake in the command line (exit code 2). */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose --help to point at, e.g. `koe campaign create`. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An answer of the API other than 2xx, or a login the server refused. */
export class KoeApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: string[] = [],
    /** From Retry-After (429, 503). */
    readonly retryAfterSec?: number,
  ) {
    super(message);
    this.name = 'KoeApiError';
  }
}

/** Nothing answered at the URL (connection refused, unknown host, timeout …). */
export class KoeUnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot connect (${reason}): is Koe running at ${url}? (koe start)`);
    this.name = 'KoeUnreachableError';
  }
}

export interface Connection {
  url: string;
  password: string;
  /** Where the password came from, for messages (never the password itself). */
  passwordSource: string;
}

/** Resolves the URL and password from the flags, the environment and Koe's data folder. */
export async function resolveConnection(flags: { url?: string | undefined; password?: string | undefined }, io: CliIo): Promise<Connection> {
  const url = normaliseUrl(flags.url ?? nonEmpty(io.env.KOE_URL) ?? defaultUrl(io.env));
  if (flags.password !== undefined) {
    if (flags.password === '') throw new UsageError('--password is empty');
    return { url, password: flags.password, passwordSource: '--password' };
  }
  const fromEnv = nonEmpty(io.env.KOE_ADMIN_PASSWORD);
  if (fromEnv) return { url, password: fromEnv, passwordSource: 'KOE_ADMIN_PASSWORD' };
  const file = resolve(io.cwd, join(nonEmpty(io.env.KOE_DATA_DIR) ?? 'data', ADMIN_PASSWORD_FILE));
  let password: string;
  try {
    password = (await readFile(file, 'utf8')).trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new UsageError(
      `no dashboard password: pass --password, set KOE_ADMIN_PASSWORD, or run where Koe's data folder is (could not read ${file}: ${code})`,
    );
  }
  if (password === '') throw new UsageError(`${file} is empty: pass --password or set KOE_ADMIN_PASSWORD`);
  return { url, password, passwordSource: file };
}

/** `http://127.0.0.1:<PORT>`, or HOST when Koe listens on one address rather than all of them. */
export function defaultUrl(env: NodeJS.ProcessEnv): string {
  const port = nonEmpty(env.PORT) ?? String(DEFAULT_PORT);
  const host = nonEmpty(env.HOST);
  const loopback = !host || host === '0.0.0.0' || host === '::' || host === '[::]' ? '127.0.0.1' : host;
  return `http://${loopback.includes(':') && !loopback.startsWith('[') ? `[${loopback}]` : loopback}:${port}`;
}

function normaliseUrl(raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new UsageError(`--url "${raw}" is not a URL (e.g. http://127.0.0.1:5050)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--url "${raw}" must start with http:// or https://`);
  return parsed.toString().replace(/\/+$/, '');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** A logged-in session with one Koe. */
export class KoeApiClient {
  private constructor(
    /** Base URL without a trailing slash. */
    readonly url: string,
    readonly cookie: string,
  ) {}

  /** POST /api/auth/login; keeps the session cookie for every later request. */
  static async login(opts: { url: string; password: string; passwordSource?: string }): Promise<KoeApiClient> {
    const url = opts.url.replace(/\/+$/, '');
    const body: LoginRequest = { password: opts.password };
    const response = await send(url, '/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      const failure = await errorOf(response);
      const source = opts.passwordSource ? ` (the password from ${opts.passwordSource})` : '';
      if (response.status === 401) throw new KoeApiError(401, failure.code, `wrong password for Koe at ${url}${source}`);
      if (response.status === 429) {
        const wait = failure.retryAfterSec === undefined ? 'later' : `in ${failure.retryAfterSec} s`;
        throw new KoeApiError(429, failure.code, `too many failed logins at ${url}; try again ${wait}`, [], failure.retryAfterSec);
      }
      throw failure;
    }
    await response.body?.cancel();
    const pair = response.headers
      .getSetCookie()
      .map((header) => header.split(';', 1)[0] ?? '')
      .find((p) => p.startsWith(`${SESSION_COOKIE}=`));
    if (!pair) throw new KoeApiError(response.status, 'no_session', `${url} accepted the login but set no ${SESSION_COOKIE} cookie: is it Koe?`);
    return new KoeApiClient(url, pair);
  }

  async get<T>(path: string): Promise<T> {
    return json<T>(await this.#request('GET', path));
  }

  /** JSON body (the API refuses mutations that are not application/json); `{}` when none is needed. */
  async post<T>(path: string, body: unknown = {}): Promise<T> {
    return json<T>(await this.#request('POST', path, body));
  }

  /** A non-JSON resource (the campaign CSV export) as text. */
  async getText(path: string): Promise<string> {
    return (await this.#request('GET', path)).text();
  }

  async #request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { cookie: this.cookie, accept: 'application/json, text/csv;q=0.9, */*;q=0.1' };
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await send(this.url, path, init);
    if (!response.ok) throw await errorOf(response);
    return response;
  }
}

async function send(url: string, path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(`${url}${path}`, init);
  } catch (err) {
    throw new KoeUnreachableError(url, connectionFailure(err));
  }
}

/** undici's "fetch failed" hides the reason in `cause` (ECONNREFUSED, ENOTFOUND …). */
function connectionFailure(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  if (cause && typeof cause === 'object') {
    const { code, message } = cause as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (typeof message === 'string') return message;
  }
  return err instanceof Error ? err.message : String(err);
}

async function json<T>(response: Response): Promise<T> {
  const text = await response.text();
  if (!(response.headers.get('content-type') ?? '').includes('json')) {
    throw new KoeApiError(response.status, 'not_json', `expected JSON from ${response.url}, got ${response.headers.get('content-type') ?? 'no content type'}: is it Koe?`);
  }
  return JSON.parse(text) as T;
}

async function errorOf(response: Response): Promise<KoeApiError> {
  const text = await response.text().catch(() => '');
  const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
  const retryAfterSec = Number.isFinite(retryAfter) ? retryAfter : undefined;
  try {
    const body = JSON.parse(text) as Partial<ApiError>;
    if (body.error && typeof body.error.message === 'string') {
      return new KoeApiError(response.status, body.error.code ?? 'error', body.error.message, body.error.problems ?? [], retryAfterSec);
    }
  } catch {
    // Not the API's error shape (a proxy's page, an older Koe): report the status line.
  }
  const hint = response.status === 404 ? ` (${new URL(response.url).pathname}: is this Koe, and new enough for this command?)` : '';
  return new KoeApiError(response.status, 'http_error', `HTTP ${response.status} ${response.statusText}${hint}`, [], retryAfterSec);
}

/**
 * Prints a command's failure and returns its exit code: 2 for usage mistakes, 1 for everything else.
 * The API's problems are listed one per line.
 */
export function reportFailure(err: unknown, io: CliIo): number {
  if (err instanceof UsageError) {
    println(io.stderr, `error: ${err.message}`);
    if (err.command) println(io.stderr, `See: ${err.command} --help`);
    return 2;
  }
  if (err instanceof KoeApiError) {
    println(io.stderr, `error: ${err.message}${err.code && err.code !== 'http_error' ? ` [${err.code}]` : ''}`);
    for (const problem of err.problems) println(io.stderr, `  - ${problem}`);
    return 1;
  }
  if (err instanceof KoeUnreachableError) {
    println(io.stderr, `error: ${err.message}`);
    return 1;
  }
  if (isParseArgsError(err)) {
    println(io.stderr, `error: ${(err as Error).message}`);
    return 2;
  }
  throw err;
}

/** parseArgs whose mistakes (unknown option, missing value …) are UsageErrors pointing at `command --help`. */
export function parseCommandLine<T extends Omit<ParseArgsConfig, 'args'>>(command: string, argv: string[], config: T) {
  try {
    return parseArgs({ ...config, args: argv });
  } catch (err) {
    if (isParseArgsError(err)) throw new UsageError((err as Error).message, command);
    throw err;
  }
}

/** node:util parseArgs failures: unknown options, missing values, stray positionals. */
export function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

export const CONNECTION_HELP = `  --url URL         the running Koe (default: KOE_URL, else http://127.0.0.1:$PORT, PORT default 5050)
  --password PW     the dashboard password (default: KOE_ADMIN_PASSWORD, else the file Koe generated,
                    $KOE_DATA_DIR/admin-password, KOE_DATA_DIR default ./data). Prefer the variable or the
                    file: a --password is visible to other users in the process list`;

export const CONNECTION_OPTIONS = {
  url: { type: 'string' },
  password: { type: 'string' },
} as const;
