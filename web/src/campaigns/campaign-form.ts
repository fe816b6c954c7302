// The new-campaign form: its state, the CreateCampaignRequest built from it (with the checks the server
// makes on settings, so most mistakes show before the upload), the CSV header read in the browser, and
// the server's `path: message` problems put back next to their fields.
import type { AgentRecord, CreateCampaignRequest, RetryableOutcome } from '../api/types.js';
import type { Translate } from '../i18n/i18n.js';

export const RETRYABLE_OUTCOMES: readonly RetryableOutcome[] = ['busy', 'no-answer', 'failed', 'voicemail'];
/** ISO weekdays, 1 = Monday … 7 = Sunday. */
export const WEEKDAYS: readonly number[] = [1, 2, 3, 4, 5, 6, 7];

export interface CampaignForm {
  name: string;
  agentId: string;
  from: string;
  phoneColumn: string;
  defaultCountry: string;
  callsPerSecond: string;
  maxConcurrent: string;
  windowStart: string;
  /** `00:00` stands for midnight at the end of the day (sent as `24:00`). */
  windowEnd: string;
  days: number[];
  timezone: string;
  maxAttempts: string;
  retryDelayMin: string;
  retryOn: RetryableOutcome[];
  machineDetection: boolean;
  ringTimeoutSec: string;
  start: boolean;
}

/** The contacts: a file read in the browser, or pasted text. */
export interface CsvSource {
  text: string;
  fileName: string | null;
}

/** The server's defaults (src/server/api/api-types.ts CreateCampaignRequest), shown as the starting values. */
export function emptyCampaignForm(): CampaignForm {
  return {
    name: '',
    agentId: '',
    from: '',
    phoneColumn: '',
    defaultCountry: '',
    callsPerSecond: '1',
    maxConcurrent: '10',
    windowStart: '09:00',
    windowEnd: '20:00',
    days: [...WEEKDAYS],
    timezone: 'UTC',
    maxAttempts: '3',
    retryDelayMin: '10',
    retryOn: ['busy', 'no-answer'],
    machineDetection: false,
    ringTimeoutSec: '30',
    start: false,
  };
}

/** What a campaign takes from its agent unless changed: the agent's time zone and answering-machine setting. */
export function agentDefaults(agent: AgentRecord): Pick<CampaignForm, 'timezone' | 'machineDetection'> {
  return { timezone: agent.definition.timezone ?? 'UTC', machineDetection: agent.definition.answeringMachine?.detect ?? false };
}

export const CAMPAIGN_FIELDS = [
  'name',
  'agentId',
  'from',
  'csv',
  'phoneColumn',
  'defaultCountry',
  'callsPerSecond',
  'maxConcurrent',
  'window.start',
  'window.end',
  'window.days',
  'timezone',
  'retry.maxAttempts',
  'retry.delayMs',
  'retry.on',
  'machineDetection',
  'ringTimeoutSec',
] as const;
export type CampaignField = (typeof CAMPAIGN_FIELDS)[number];

export interface CampaignProblem {
  /** A CampaignField, or '' for problems that belong to no one field. */
  path: string;
  message: string;
}

/** `window.days[2]` → `window.days`; `retry` → ''. */
export function campaignFieldOf(path: string): CampaignField | null {
  const bare = path.replace(/\[\d+\]/g, '');
  for (const field of CAMPAIGN_FIELDS) if (bare === field || bare.startsWith(`${field}.`)) return field;
  return null;
}

/** A server problem (`retry.maxAttempts: Too big …`) placed on its field when it names one. */
export function parseCampaignProblem(problem: string): CampaignProblem {
  const match = /^\s*([A-Za-z0-9_$./[\]-]+)\s*:\s*(.+)$/s.exec(problem);
  const path = match?.[1];
  if (path && match[2] && campaignFieldOf(path)) return { path: campaignFieldOf(path) as CampaignField, message: match[2] };
  return { path: '', message: problem };
}

export function groupCampaignProblems(problems: readonly CampaignProblem[]): { byField: Map<CampaignField, string[]>; general: string[] } {
  const byField = new Map<CampaignField, string[]>();
  const general: string[] = [];
  for (const problem of problems) {
    const field = campaignFieldOf(problem.path);
    if (field) byField.set(field, [...(byField.get(field) ?? []), problem.message]);
    else general.push(problem.message);
  }
  return { byField, general };
}

const TIME_RE = /^([01]\d|2[0-3]):[0-5]\d$/;
const COUNTRY_RE = /^[A-Za-z]{2}$/;

function minutesOf(time: string): number {
  const [h, m] = time.split(':');
  return Number(h) * 60 + Number(m);
}

function parseNumber(text: string, opts: { min: number; max: number; integer: boolean; exclusiveMin?: boolean }): number | 'invalid' {
  const trimmed = text.trim();
  const value = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(value) || (opts.integer && !Number.isInteger(value))) return 'invalid';
  if ((opts.exclusiveMin ? value <= opts.min : value < opts.min) || value > opts.max) return 'invalid';
  return value;
}

export interface BuiltCampaign {
  request: CreateCampaignRequest;
  problems: CampaignProblem[];
}

export function buildCampaignRequest(form: CampaignForm, csv: CsvSource, t: Translate): BuiltCampaign {
  const problems: CampaignProblem[] = [];
  const add = (path: CampaignField, message: string) => problems.push({ path, message });

  if (form.name.trim() === '') add('name', t('problem.required'));
  if (form.agentId === '') add('agentId', t('problem.required'));
  if (csv.text.trim() === '') add('csv', t('problem.csvEmpty'));
  const country = form.defaultCountry.trim();
  if (country !== '' && !COUNTRY_RE.test(country)) add('defaultCountry', t('problem.country'));

  const number = (field: CampaignField, text: string, opts: { min: number; max: number; integer: boolean; exclusiveMin?: boolean }): number => {
    const value = parseNumber(text, opts);
    if (value === 'invalid') {
      add(field, opts.exclusiveMin ? t('problem.positive', { max: opts.max }) : t(opts.integer ? 'problem.rangeInt' : 'problem.range', { min: opts.min, max: opts.max }));
      return 0;
    }
    return value;
  };
  const callsPerSecond = number('callsPerSecond', form.callsPerSecond, { min: 0, max: 100, integer: false, exclusiveMin: true });
  const maxConcurrent = number('maxConcurrent', form.maxConcurrent, { min: 1, max: 1000, integer: true });
  const maxAttempts = number('retry.maxAttempts', form.maxAttempts, { min: 1, max: 20, integer: true });
  const retryDelayMin = number('retry.delayMs', form.retryDelayMin, { min: 0, max: 7 * 24 * 60, integer: false });
  const ringTimeoutSec = number('ringTimeoutSec', form.ringTimeoutSec, { min: 5, max: 600, integer: true });

  if (!TIME_RE.test(form.windowStart)) add('window.start', t('problem.time'));
  if (!TIME_RE.test(form.windowEnd)) add('window.end', t('problem.time'));
  const end = form.windowEnd === '00:00' ? '24:00' : form.windowEnd;
  if (TIME_RE.test(form.windowStart) && TIME_RE.test(form.windowEnd) && (end === '24:00' ? 1440 : minutesOf(end)) <= minutesOf(form.windowStart)) {
    add('window.end', t('problem.windowOrder'));
  }
  if (form.days.length === 0) add('window.days', t('problem.days'));

  const timezone = form.timezone.trim();
  if (timezone === '') add('timezone', t('problem.required'));
  else {
    try {
      new Intl.DateTimeFormat('en', { timeZone: timezone });
    } catch {
      add('timezone', t('problem.timezone'));
    }
  }

  const request: CreateCampaignRequest = {
    name: form.name.trim(),
    agentId: form.agentId,
    csv: csv.text,
    callsPerSecond,
    maxConcurrent,
    window: { start: form.windowStart, end, days: [...form.days].sort((a, b) => a - b) },
    timezone,
    retry: { maxAttempts, delayMs: Math.round(retryDelayMin * 60_000), on: RETRYABLE_OUTCOMES.filter((o) => form.retryOn.includes(o)) },
    machineDetection: form.machineDetection,
    ringTimeoutSec,
    start: form.start,
  };
  if (form.from.trim() !== '') request.from = form.from.trim();
  if (form.phoneColumn.trim() !== '') request.phoneColumn = form.phoneColumn.trim();
  if (country !== '') request.defaultCountry = country.toUpperCase();
  return { request, problems };
}

/** The header's column names and the number of data lines (blank lines not counted); null without a header. */
export function csvOutline(text: string): { columns: string[]; rows: number } | null {
  const body = text.replace(/^\uFEFF/, '');
  const lines = body.split(/\r\n|\n|\r/);
  const header = lines[0];
  if (header === undefined || header.trim() === '') return null;
  const columns = splitCsvLine(header).map((c) => c.trim());
  const rows = lines.slice(1).filter((line) => line.trim() !== '').length;
  return { columns, rows };
}

/** One CSV line's fields: commas separate, double quotes quote, `""` is a quote inside quotes. */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
}
