// `koe campaign …`: outbound campaigns on a running Koe through its dashboard API — create one from a CSV
// file, start / pause / resume / cancel it, list them, show or watch one's progress, export its contacts.
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type {
  CampaignList,
  CampaignRecord,
  CampaignStatus,
  CreateCampaignRequest,
  RetryableOutcome,
} from '../server/api/api-types.js';
import type { CliIo } from './api-client.js';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  KoeApiClient,
  KoeApiError,
  KoeUnreachableError,
  parseCommandLine,
  println,
  processIo,
  reportFailure,
  resolveConnection,
  sleep,
  UsageError,
} from './api-client.js';
import { parseCountry } from './call.js';
import { renderProgress, terminalShowsUtf8 } from './progress-bar.js';

/** Rejected CSV lines printed after `create`; the rest are on the dashboard and in the export. */
const REJECTIONS_SHOWN = 50;
const BAR_WIDTH = 20;
/** A watch ends when the campaign reaches one of these. */
const WATCH_ENDS: ReadonlySet<CampaignStatus> = new Set(['completed', 'canceled', 'paused']);

const CAMPAIGN_HELP = `Usage: koe campaign <command> [options]

Outbound campaigns on a running Koe: one call per CSV row, paced, inside a calling window, with retries.

Commands:
  create --csv FILE --agent ID --name NAME [options]   import contacts into a new campaign (a draft unless --start)
  start <id>      start dialing a draft
  pause <id>      stop placing new calls (calls in progress finish)
  resume <id>     continue a paused campaign
  cancel <id>     stop for good; contacts not called yet end as canceled
  list            every campaign, newest first
  status <id>     settings and progress; --watch follows it until it completes, is canceled or paused
  export <id>     every contact with its outcome as CSV (--out FILE, default standard output)

Run koe campaign <command> --help for a command's options.
Exit codes: 0 done, 1 refused by Koe (the message and problems are printed), 2 a mistake in the command line.`;

const CREATE_HELP = `Usage: koe campaign create --csv FILE --agent ID --name NAME [options]

Imports a CSV file (a header line, one contact per line; the other columns become template variables)
into a new campaign, and prints its id, how many contacts were imported and every line refused.

  --csv FILE              the contacts
  --agent ID              the agent that talks
  --name NAME             the campaign's name
  --from E164             caller ID (default: the agent's first phone number, else TWILIO_CALLER_ID)
  --phone-column NAME     the column with the numbers (default: phone, phone_number, number, tel or to)
  --country CC            ISO country (JP, US …) for numbers written without + (default: KOE_DEFAULT_COUNTRY)
  --cps N                 calls placed per second (default 1, Twilio's default for an account)
  --concurrency N         calls at once at most (default 10)
  --window HH:MM-HH:MM    local time to call in, e.g. 09:00-20:00 (default 09:00-20:00)
  --days DAYS             days to call on: mon-fri, sat,sun, 1,2,3 (1 = Monday) … (default every day)
  --timezone ZONE         IANA zone for contacts without one, e.g. Asia/Tokyo (default: the agent's)
  --attempts N            calls per contact at most, first one included (default 3)
  --retry-delay DURATION  wait between attempts: 90s, 10m, 1h, 1h30m (default 10m)
  --retry-on OUTCOMES     which outcomes are retried: busy,no-answer,failed,voicemail (default busy,no-answer)
  --amd                   detect answering machines (default: the agent's answeringMachine setting)
  --ring-timeout SECONDS  give up on a ringing phone after this long (default 30)
  --start                 start dialing at once
${CONNECTION_HELP}`;

const ID_HELP = (verb: string, what: string): string => `Usage: koe campaign ${verb} <id>

${what}

${CONNECTION_HELP}`;

const STATUS_HELP = `Usage: koe campaign status <id> [--watch]

Shows a campaign's settings and progress.

  --watch           redraw the progress every second until the campaign completes, is canceled or paused
                    (one line per change when standard output is not a terminal)
${CONNECTION_HELP}`;

const LIST_HELP = `Usage: koe campaign list

Lists every campaign, newest first: id, status, progress, name.

${CONNECTION_HELP}`;

const EXPORT_HELP = `Usage: koe campaign export <id> [--out FILE]

Writes every contact of the campaign as CSV: line, phone, state, outcome, attempts, last_call_id,
last_twilio_status, answered_by, last_error, then the contact's variables.

  --out FILE        write to this file (default: standard output)
${CONNECTION_HELP}`;

type Action = 'start' | 'pause' | 'resume' | 'cancel';
const ACTIONS: Record<Action, string> = {
  start: 'Starts dialing a draft campaign.',
  pause: 'Pauses a running campaign: no new calls are placed; calls in progress finish.',
  resume: 'Resumes a paused campaign.',
  cancel: 'Cancels a campaign for good: contacts not called yet end as canceled; calls in progress finish.',
};

const CONNECTION_ONLY = { ...CONNECTION_OPTIONS, help: { type: 'boolean', short: 'h' } } as const;

export async function campaignCommand(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'create':
        return await createCampaign(rest, io);
      case 'start':
      case 'pause':
      case 'resume':
      case 'cancel':
        return await changeCampaign(sub, rest, io);
      case 'list':
        return await listCampaigns(rest, io);
      case 'status':
        return await campaignStatus(rest, io);
      case 'export':
        return await exportCampaign(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        println(io.stdout, CAMPAIGN_HELP);
        return 0;
      default:
        println(io.stderr, `error: unknown campaign command "${sub}"\n\n${CAMPAIGN_HELP}`);
        return 2;
    }
  } catch (err) {
    return reportFailure(err, io);
  }
}

// ── create ──────────────────────────────────────────────────────────────────────────────────────

export interface CreateArguments {
  csvFile: string;
  /** Everything but the CSV text. */
  request: Omit<CreateCampaignRequest, 'csv'>;
  url: string | undefined;
  password: string | undefined;
}

/** The command line → the request (without the CSV text); throws UsageError. `undefined` for --help. */
export function parseCreateArguments(argv: string[]): CreateArguments | undefined {
  const command = 'koe campaign create';
  const { values, positionals } = parseCommandLine(command, argv, {
    allowPositionals: true,
    options: {
      csv: { type: 'string' },
      agent: { type: 'string' },
      name: { type: 'string' },
      from: { type: 'string' },
      'phone-column': { type: 'string' },
      country: { type: 'string' },
      cps: { type: 'string' },
      concurrency: { type: 'string' },
      window: { type: 'string' },
      days: { type: 'string' },
      timezone: { type: 'string' },
      attempts: { type: 'string' },
      'retry-delay': { type: 'string' },
      'retry-on': { type: 'string' },
      amd: { type: 'boolean' },
      'ring-timeout': { type: 'string' },
      start: { type: 'boolean' },
      ...CONNECTION_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}" (the CSV file goes after --csv)`, command);
  const missing = (['csv', 'agent', 'name'] as const).filter((flag) => !values[flag]);
  if (missing.length > 0) throw new UsageError(`required: ${missing.map((f) => `--${f}`).join(', ')}`, command);
  const request: Omit<CreateCampaignRequest, 'csv'> = { name: values.name as string, agentId: values.agent as string };
  const flag = <T>(name: string, value: string | undefined, parse: (v: string) => T): T | undefined => {
    if (value === undefined) return undefined;
    try {
      return parse(value);
    } catch (err) {
      throw new UsageError(`--${name}: ${(err as Error).message}`, command);
    }
  };
  if (values.from !== undefined) request.from = values.from;
  if (values['phone-column'] !== undefined) request.phoneColumn = values['phone-column'];
  if (values.country !== undefined) request.defaultCountry = parseCountry(values.country, command);
  const cps = flag('cps', values.cps, parsePositiveNumber);
  if (cps !== undefined) request.callsPerSecond = cps;
  const concurrency = flag('concurrency', values.concurrency, parsePositiveInt);
  if (concurrency !== undefined) request.maxConcurrent = concurrency;
  const window = flag('window', values.window, parseWindow);
  const days = flag('days', values.days, parseDays);
  if (window || days) request.window = { ...window, ...(days ? { days } : {}) };
  if (values.timezone !== undefined) request.timezone = values.timezone;
  const retry: NonNullable<CreateCampaignRequest['retry']> = {};
  const attempts = flag('attempts', values.attempts, parsePositiveInt);
  if (attempts !== undefined) retry.maxAttempts = attempts;
  const delayMs = flag('retry-delay', values['retry-delay'], parseDurationMs);
  if (delayMs !== undefined) retry.delayMs = delayMs;
  const on = flag('retry-on', values['retry-on'], parseRetryOn);
  if (on !== undefined) retry.on = on;
  if (Object.keys(retry).length > 0) request.retry = retry;
  if (values.amd) request.machineDetection = true;
  const ring = flag('ring-timeout', values['ring-timeout'], parsePositiveInt);
  if (ring !== undefined) request.ringTimeoutSec = ring;
  if (values.start) request.start = true;
  return { csvFile: values.csv as string, request, url: values.url, password: values.password };
}

async function createCampaign(argv: string[], io: CliIo): Promise<number> {
  const args = parseCreateArguments(argv);
  if (!args) {
    println(io.stdout, CREATE_HELP);
    return 0;
  }
  const path = resolve(io.cwd, args.csvFile);
  let csv: string;
  try {
    csv = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --csv ${args.csvFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const client = await KoeApiClient.login(await resolveConnection(args, io));
  let campaign: CampaignRecord;
  try {
    campaign = await client.post<CampaignRecord>('/api/campaigns', { ...args.request, csv } satisfies CreateCampaignRequest);
  } catch (err) {
    if (err instanceof KoeApiError && err.status === 413) {
      throw new KoeApiError(413, err.code, `${args.csvFile} is too large for one campaign (64 MiB at most): split it into several files`);
    }
    throw err;
  }
  const report = campaign.importReport;
  println(io.stdout, `campaign   ${campaign.id}`);
  println(io.stdout, `name       ${campaign.name}`);
  println(io.stdout, `status     ${campaign.status}`);
  const variables = report.variables.length > 0 ? `; variables: ${report.variables.join(', ')}` : '';
  println(io.stdout, `imported   ${report.imported} of ${report.rows} rows (phone column "${report.phoneColumn}"${variables})`);
  println(io.stdout, `rejected   ${report.rejected}`);
  for (const rejection of report.rejections.slice(0, REJECTIONS_SHOWN)) {
    println(io.stdout, `  line ${rejection.line}: ${rejection.value === '' ? '(empty)' : rejection.value} — ${rejection.reason}`);
  }
  const more = report.rejected - Math.min(report.rejections.length, REJECTIONS_SHOWN);
  if (more > 0) println(io.stdout, `  … and ${more} more (see the dashboard)`);
  println(io.stdout, `dashboard  ${campaignPage(client, campaign.id)}`);
  if (campaign.status === 'draft') println(io.stdout, `\nStart it with: koe campaign start ${campaign.id}`);
  return 0;
}

// ── start / pause / resume / cancel ─────────────────────────────────────────────────────────────

async function changeCampaign(action: Action, argv: string[], io: CliIo): Promise<number> {
  const command = `koe campaign ${action}`;
  const parsed = parseIdArguments(command, argv, {});
  if (!parsed) {
    println(io.stdout, ID_HELP(action, ACTIONS[action]));
    return 0;
  }
  const client = await KoeApiClient.login(await resolveConnection(parsed.values, io));
  const campaign = await client.post<CampaignRecord>(`/api/campaigns/${encodeURIComponent(parsed.id)}/${action}`, {});
  println(io.stdout, `${campaign.id}  ${describeStatus(campaign)}  ${campaign.name}`);
  return 0;
}

// ── list ────────────────────────────────────────────────────────────────────────────────────────

async function listCampaigns(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandLine('koe campaign list', argv, { allowPositionals: true, options: CONNECTION_ONLY });
  if (values.help) {
    println(io.stdout, LIST_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, 'koe campaign list');
  const client = await KoeApiClient.login(await resolveConnection(values, io));
  const { campaigns } = await client.get<CampaignList>('/api/campaigns');
  if (campaigns.length === 0) {
    println(io.stdout, 'No campaigns yet. Create one with: koe campaign create --csv FILE --agent ID --name NAME');
    return 0;
  }
  println(io.stdout, formatCampaignTable(campaigns));
  return 0;
}

/** ID, STATUS, DONE, CALLING, CREATED, NAME in aligned columns. */
export function formatCampaignTable(campaigns: CampaignRecord[]): string {
  const rows = [
    ['ID', 'STATUS', 'DONE', 'CALLING', 'CREATED', 'NAME'],
    ...campaigns.map((c) => [
      c.id,
      c.status,
      `${c.counts.done}/${c.counts.total}`,
      String(c.counts.inFlight),
      c.createdAt.slice(0, 16).replace('T', ' '),
      c.name,
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ')).join('\n');
}

// ── status ──────────────────────────────────────────────────────────────────────────────────────

async function campaignStatus(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseIdArguments('koe campaign status', argv, { watch: { type: 'boolean' } });
  if (!parsed) {
    println(io.stdout, STATUS_HELP);
    return 0;
  }
  const client = await KoeApiClient.login(await resolveConnection(parsed.values, io));
  const path = `/api/campaigns/${encodeURIComponent(parsed.id)}`;
  const campaign = await client.get<CampaignRecord>(path);
  printCampaign(campaign, client, io);
  if (parsed.values.watch !== true || WATCH_ENDS.has(campaign.status)) return 0;
  await watchCampaign(client, path, campaign, io);
  return 0;
}

function printCampaign(c: CampaignRecord, client: KoeApiClient, io: CliIo): void {
  const retry = c.retry.maxAttempts > 1 ? `, ${formatDurationMs(c.retry.delayMs)} apart on ${c.retry.on.join(', ') || 'nothing'}` : '';
  println(io.stdout, `campaign   ${c.id}`);
  println(io.stdout, `name       ${c.name}`);
  println(io.stdout, `status     ${describeStatus(c)}`);
  println(io.stdout, `agent      ${c.agentId}, calling from ${c.from}`);
  println(io.stdout, `window     ${c.window.start}-${c.window.end} ${formatDays(c.window.days)} (${c.timezone})`);
  println(io.stdout, `pace       ${c.callsPerSecond} call/s, up to ${c.maxConcurrent} at once; ${c.retry.maxAttempts} attempt(s)${retry}`);
  println(io.stdout, `progress   ${progressLine(c, io)}`);
  println(io.stdout, `calls      ${c.counts.attempts} placed, ${c.counts.pending} contact(s) waiting`);
  println(io.stdout, `dashboard  ${campaignPage(client, c.id)}`);
}

/**
 * Polls every second. On a terminal one line is redrawn in place; otherwise a line is printed whenever it
 * changes. A brief outage of Koe or its database is waited out.
 */
async function watchCampaign(client: KoeApiClient, path: string, first: CampaignRecord, io: CliIo): Promise<void> {
  const tty = io.stdout.isTTY === true;
  const lineOf = (c: CampaignRecord): string => `${c.status.padEnd(9)} ${progressLine(c, io)}`;
  let campaign = first;
  let last = '';
  let outage = false;
  println(io.stdout);
  for (;;) {
    const line = lineOf(campaign);
    if (tty) io.stdout.write(`\r${fit(line, io.stdout.columns)}\x1b[K`);
    else if (line !== last) println(io.stdout, line);
    last = line;
    if (WATCH_ENDS.has(campaign.status)) break;
    await sleep(io.pollIntervalMs ?? 1000);
    try {
      campaign = await client.get<CampaignRecord>(path);
      if (outage) println(io.stderr, `${tty ? '\n' : ''}(reconnected)`);
      outage = false;
    } catch (err) {
      const transient = err instanceof KoeUnreachableError || (err instanceof KoeApiError && err.status === 503);
      if (!transient) throw err;
      if (!outage) println(io.stderr, `${tty ? '\n' : ''}(${err.message}; still trying)`);
      outage = true;
    }
  }
  if (tty) println(io.stdout);
  println(io.stdout, `Campaign ${describeStatus(campaign)}.`);
}

function progressLine(c: CampaignRecord, io: CliIo): string {
  return renderProgress({
    done: c.counts.done,
    inFlight: c.counts.inFlight,
    total: c.counts.total,
    width: BAR_WIDTH,
    outcomes: c.counts.outcomes,
    ascii: !terminalShowsUtf8(io.env),
  });
}

/** Cut to the terminal's width so a redrawn line never wraps. */
function fit(line: string, columns: number | undefined): string {
  if (!columns || line.length < columns) return line;
  return `${line.slice(0, Math.max(0, columns - 2))}…`;
}

function describeStatus(c: CampaignRecord): string {
  return c.statusReason ? `${c.status} (${c.statusReason})` : c.status;
}

function campaignPage(client: KoeApiClient, id: string): string {
  return `${client.url}/campaigns/${encodeURIComponent(id)}`;
}

// ── export ──────────────────────────────────────────────────────────────────────────────────────

async function exportCampaign(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseIdArguments('koe campaign export', argv, { out: { type: 'string' } });
  if (!parsed) {
    println(io.stdout, EXPORT_HELP);
    return 0;
  }
  const client = await KoeApiClient.login(await resolveConnection(parsed.values, io));
  const csv = await client.getText(`/api/campaigns/${encodeURIComponent(parsed.id)}/export.csv`);
  const out = parsed.values.out;
  if (typeof out !== 'string') {
    io.stdout.write(csv);
    return 0;
  }
  await writeFile(resolve(io.cwd, out), csv, 'utf8');
  const rows = Math.max(0, csv.split(/\r?\n/).filter((line) => line !== '').length - 1);
  println(io.stdout, `Wrote ${rows} contact(s) to ${out}`);
  return 0;
}

// ── shared argument parsing ─────────────────────────────────────────────────────────────────────

type ExtraOptions = Record<string, { type: 'boolean' } | { type: 'string' }>;

/** `<id>` plus the connection flags and `extra`; `undefined` for --help. */
function parseIdArguments(command: string, argv: string[], extra: ExtraOptions): { id: string; values: Record<string, string | boolean | undefined> } | undefined {
  const { values, positionals } = parseCommandLine(command, argv, { allowPositionals: true, options: { ...CONNECTION_ONLY, ...extra } });
  if (values.help) return undefined;
  const [id, ...more] = positionals;
  if (!id) throw new UsageError(`the campaign id is missing: ${command} <id> (koe campaign list shows them)`, command);
  if (more.length > 0) throw new UsageError(`unexpected argument "${more[0]}"`, command);
  const flat: Record<string, string | boolean | undefined> = {};
  for (const [key, value] of Object.entries(values)) flat[key] = Array.isArray(value) ? value.join(',') : value;
  return { id, values: flat };
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `10m`, `1h`, `1h30m`, `500ms`, `1.5h` → milliseconds. A bare number is refused (which unit?). */
export function parseDurationMs(text: string): number {
  const trimmed = text.trim().toLowerCase();
  const part = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/gy;
  let total = 0;
  let end = 0;
  let parts = 0;
  for (let match = part.exec(trimmed); match; match = part.exec(trimmed)) {
    total += Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? ''] ?? Number.NaN);
    end = part.lastIndex;
    parts += 1;
  }
  if (parts === 0 || end !== trimmed.length || !Number.isFinite(total)) {
    throw new Error(`"${text}" is not a duration: write a number with a unit, such as 90s, 10m, 1h or 1h30m`);
  }
  return Math.round(total);
}

/** Milliseconds → the shortest of `90s`, `10m`, `1h30m`. */
export function formatDurationMs(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  let seconds = ms / 1000;
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60]] as const) {
    if (seconds >= size) {
      parts.push(`${Math.floor(seconds / size)}${unit}`);
      seconds %= size;
    }
  }
  if (seconds > 0 || parts.length === 0) parts.push(`${seconds}s`);
  return parts.join('');
}

/** `09:00-20:00` (also `9:00-20:00`, an en dash, `24:00` as the end) → `{ start, end }` as `HH:MM`. */
export function parseWindow(text: string): { start: string; end: string } {
  const match = /^\s*(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})\s*$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a window: write HH:MM-HH:MM, such as 09:00-20:00`);
  const [, h1, m1, h2, m2] = match.map(Number) as [number, number, number, number, number];
  const valid = (h: number, m: number, isEnd: boolean): boolean => (h < 24 && m < 60) || (isEnd && h === 24 && m === 0);
  if (!valid(h1, m1, false) || !valid(h2, m2, true)) throw new Error(`"${text}" has a time that does not exist (00:00 to 24:00)`);
  const hhmm = (h: number, m: number): string => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
  return { start: hhmm(h1, m1), end: hhmm(h2, m2) };
}

const DAY_FULL_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
const DAY_NAMES = DAY_FULL_NAMES.map((name) => name.slice(0, 3));

/**
 * ISO weekdays (1 = Monday … 7 = Sunday), sorted: `mon-fri`, `sat,sun`, `1,2,3`, `1-5`, full names,
 * `weekdays`, `weekends`, `daily`. A range may wrap past Sunday (`fri-mon`).
 */
export function parseDays(text: string): number[] {
  const days = new Set<number>();
  const items = text.toLowerCase().split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new Error(`"${text}" has an empty day`);
  for (const item of items) {
    if (item === 'weekdays') [1, 2, 3, 4, 5].forEach((d) => days.add(d));
    else if (item === 'weekends' || item === 'weekend') [6, 7].forEach((d) => days.add(d));
    else if (item === 'daily' || item === 'every' || item === 'all') [1, 2, 3, 4, 5, 6, 7].forEach((d) => days.add(d));
    else {
      const [from, to, ...extra] = item.split('-').map((s) => s.trim());
      if (extra.length > 0) throw new Error(`"${item}" is not a day or a range of days`);
      const first = dayNumber(from ?? '');
      const last = to === undefined ? first : dayNumber(to);
      for (let d = first, steps = 0; steps < 7; d = (d % 7) + 1, steps += 1) {
        days.add(d);
        if (d === last) break;
      }
    }
  }
  return [...days].sort((a, b) => a - b);
}

function dayNumber(text: string): number {
  if (/^[1-7]$/.test(text)) return Number(text);
  // Two letters already tell every day apart (mo tu we th fr sa su).
  const index = text.length >= 2 ? DAY_FULL_NAMES.findIndex((full) => full.startsWith(text)) : -1;
  if (index < 0) {
    throw new Error(`"${text}" is not a day: use mon … sun or 1 (Monday) … 7 (Sunday)`);
  }
  return index + 1;
}

/** `[1,2,3,4,5]` → `mon-fri`; `[6,7]` → `sat-sun`; `[1,3]` → `mon,wed`; all seven → `every day`. */
export function formatDays(days: number[]): string {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  if (sorted.length === 7) return 'every day';
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] ?? 0) === (sorted[j] ?? 0) + 1) j += 1;
    const name = (d: number | undefined): string => DAY_NAMES[(d ?? 1) - 1] ?? String(d);
    if (j - i >= 2) runs.push(`${name(sorted[i])}-${name(sorted[j])}`);
    else for (let k = i; k <= j; k += 1) runs.push(name(sorted[k]));
    i = j + 1;
  }
  return runs.join(',');
}

const RETRYABLE: readonly RetryableOutcome[] = ['busy', 'no-answer', 'failed', 'voicemail'];

/** `busy,no-answer` → outcomes to retry (`no_answer` is read as `no-answer`; `none` for no retries). */
export function parseRetryOn(text: string): RetryableOutcome[] {
  if (text.trim().toLowerCase() === 'none') return [];
  const outcomes = new Set<RetryableOutcome>();
  for (const raw of text.split(',')) {
    const item = raw.trim().toLowerCase().replace(/_/g, '-');
    const outcome = RETRYABLE.find((o) => o === item);
    if (!outcome) throw new Error(`"${raw.trim()}" is not a retryable outcome; use ${RETRYABLE.join(', ')} (or none)`);
    outcomes.add(outcome);
  }
  return RETRYABLE.filter((o) => outcomes.has(o));
}

export function parsePositiveInt(text: string): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) < 1) throw new Error(`"${text}" must be a whole number of at least 1`);
  return Number(text);
}

export function parsePositiveNumber(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) throw new Error(`"${text}" must be a number above 0`);
  return value;
}
