// The agent editor's form state and its translation to and from an agent definition (src/agents/agent.ts),
// with the same checks the server's schema makes, so most mistakes are shown before saving.
import type { AgentInput } from '../api/types.js';
import type { Translate } from '../i18n/i18n.js';

export type TurnType = 'server_vad' | 'semantic_vad' | 'manual';
export type Eagerness = 'low' | 'medium' | 'high' | 'auto';

export interface VariableRow {
  name: string;
  value: string;
}

export interface AgentForm {
  id: string;
  name: string;
  language: string;
  voice: string;
  timezone: string;
  instructions: string;
  greeting: string;
  greetingInterruptible: boolean;
  turnType: TurnType;
  threshold: string;
  prefixPaddingMs: string;
  silenceDurationMs: string;
  idleTimeoutMs: string;
  eagerness: Eagerness;
  createResponse: boolean;
  interruptResponse: boolean;
  toolsJson: string;
  variables: VariableRow[];
  phoneNumbers: string;
  dtmfDebounceMs: string;
}

/** A problem with a path such as `tools[1].url` or `phoneNumbers[0]`. */
export interface Problem {
  path: string;
  message: string;
}

export const FORM_FIELDS = [
  'id',
  'name',
  'language',
  'voice',
  'timezone',
  'instructions',
  'greeting',
  'greetingInterruptible',
  'turnDetection',
  'tools',
  'variables',
  'phoneNumbers',
  'dtmfDebounceMs',
  'transcription',
] as const;
export type FormField = (typeof FORM_FIELDS)[number];

const ID_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const E164_RE = /^\+[1-9]\d{1,14}$/;
const TOOL_NAME_RE = /^[a-zA-Z0-9_-]{1,64}$/;
const DESTINATION_RE = /^[a-z0-9_-]+$/i;
const PLACEHOLDER_RE = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

export const DEFAULT_SERVER_VAD = { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 500 };

export function emptyForm(): AgentForm {
  return {
    id: '',
    name: '',
    language: 'en-US',
    voice: 'alloy',
    timezone: 'UTC',
    instructions: '',
    greeting: '',
    greetingInterruptible: false,
    turnType: 'server_vad',
    threshold: String(DEFAULT_SERVER_VAD.threshold),
    prefixPaddingMs: String(DEFAULT_SERVER_VAD.prefixPaddingMs),
    silenceDurationMs: String(DEFAULT_SERVER_VAD.silenceDurationMs),
    idleTimeoutMs: '',
    eagerness: 'auto',
    createResponse: true,
    interruptResponse: true,
    toolsJson: '[]',
    variables: [],
    phoneNumbers: '',
    dtmfDebounceMs: '',
  };
}

export function formFromDefinition(definition: AgentInput): AgentForm {
  const form = emptyForm();
  const td = definition.turnDetection;
  form.id = definition.id;
  form.name = definition.name;
  form.language = definition.language ?? form.language;
  form.voice = definition.voice ?? form.voice;
  form.timezone = definition.timezone ?? form.timezone;
  form.instructions = definition.instructions;
  form.greeting = definition.greeting ?? '';
  form.greetingInterruptible = definition.greetingInterruptible ?? false;
  if (td) {
    form.turnType = td.type;
    if (td.type === 'server_vad') {
      if (td.threshold !== undefined) form.threshold = String(td.threshold);
      if (td.prefixPaddingMs !== undefined) form.prefixPaddingMs = String(td.prefixPaddingMs);
      if (td.silenceDurationMs !== undefined) form.silenceDurationMs = String(td.silenceDurationMs);
      form.idleTimeoutMs = td.idleTimeoutMs === undefined || td.idleTimeoutMs === null ? '' : String(td.idleTimeoutMs);
    }
    if (td.type === 'semantic_vad' && td.eagerness) form.eagerness = td.eagerness;
    if (td.type !== 'manual') {
      form.createResponse = td.createResponse ?? true;
      form.interruptResponse = td.interruptResponse ?? true;
    }
  }
  form.toolsJson = JSON.stringify(definition.tools ?? [], null, 2);
  form.variables = Object.entries(definition.variables ?? {}).map(([name, value]) => ({ name, value }));
  form.phoneNumbers = (definition.phoneNumbers ?? []).join('\n');
  form.dtmfDebounceMs = definition.dtmfDebounceMs === undefined ? '' : String(definition.dtmfDebounceMs);
  return form;
}

/** The `{{names}}` a template uses, in order of first use. */
export function templateVariables(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER_RE)) {
    const name = match[1] as string;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

function templateProblem(template: string, t: Translate): string | null {
  const rest = template.replace(PLACEHOLDER_RE, '');
  return rest.includes('{{') || rest.includes('}}') ? t('problem.placeholder') : null;
}

function parseNumber(text: string, opts: { min: number; max: number; integer: boolean }): number | null | 'invalid' {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed);
  if (!Number.isFinite(value) || (opts.integer && !Number.isInteger(value)) || value < opts.min || value > opts.max) return 'invalid';
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const TOOL_KEYS: Record<string, readonly string[]> = {
  hang_up: ['type'],
  send_dtmf: ['type'],
  transfer: ['type', 'number', 'destinations', 'callerId', 'announce', 'timeoutSec'],
  http: ['type', 'name', 'description', 'parameters', 'url', 'headers', 'timeoutMs'],
};

/** Checks a parsed tools array the way the server's schema does; problems name paths like tools[1].url. */
export function validateTools(value: unknown, t: Translate): Problem[] {
  if (!Array.isArray(value)) return [{ path: 'tools', message: t('problem.toolsArray') }];
  const problems: Problem[] = [];
  value.forEach((tool: unknown, index) => {
    const at = `tools[${index}]`;
    const add = (field: string | null, message: string) => problems.push({ path: field ? `${at}.${field}` : at, message });
    if (tool === 'hang_up' || tool === 'send_dtmf') return;
    if (!isPlainObject(tool)) return add(null, t('problem.toolShape'));
    const type = tool.type;
    if (typeof type !== 'string' || !(type in TOOL_KEYS)) return add('type', t('problem.toolType'));
    for (const key of Object.keys(tool)) if (!(TOOL_KEYS[type] as readonly string[]).includes(key)) add(key, t('problem.unknownKey'));
    if (type === 'transfer') {
      const hasNumber = tool.number !== undefined;
      const hasDestinations = tool.destinations !== undefined;
      if (hasNumber === hasDestinations) add(null, t('problem.transferTarget'));
      if (hasNumber && (typeof tool.number !== 'string' || !E164_RE.test(tool.number))) add('number', t('problem.e164'));
      if (hasDestinations) {
        if (!isPlainObject(tool.destinations)) add('destinations', t('problem.object'));
        else
          for (const [name, number] of Object.entries(tool.destinations)) {
            if (!DESTINATION_RE.test(name)) add(`destinations.${name}`, t('problem.destinationName'));
            else if (typeof number !== 'string' || !E164_RE.test(number)) add(`destinations.${name}`, t('problem.e164'));
          }
      }
      if (tool.callerId !== undefined && (typeof tool.callerId !== 'string' || !E164_RE.test(tool.callerId))) add('callerId', t('problem.e164'));
      if (tool.announce !== undefined && typeof tool.announce !== 'string') add('announce', t('problem.string'));
      if (tool.timeoutSec !== undefined && (typeof tool.timeoutSec !== 'number' || !Number.isInteger(tool.timeoutSec) || tool.timeoutSec < 5 || tool.timeoutSec > 600))
        add('timeoutSec', t('problem.range', { min: 5, max: 600 }));
    }
    if (type === 'http') {
      if (typeof tool.name !== 'string' || !TOOL_NAME_RE.test(tool.name)) add('name', t('problem.toolName'));
      if (typeof tool.description !== 'string' || tool.description.length === 0) add('description', t('problem.required'));
      if (tool.parameters !== undefined && !isPlainObject(tool.parameters)) add('parameters', t('problem.object'));
      let urlOk = false;
      if (typeof tool.url === 'string') {
        try {
          urlOk = /^https?:$/.test(new URL(tool.url).protocol);
        } catch {
          urlOk = false;
        }
      }
      if (!urlOk) add('url', t('problem.httpUrl'));
      if (tool.headers !== undefined) {
        if (!isPlainObject(tool.headers)) add('headers', t('problem.object'));
        else for (const [name, v] of Object.entries(tool.headers)) if (typeof v !== 'string') add(`headers.${name}`, t('problem.string'));
      }
      if (tool.timeoutMs !== undefined && (typeof tool.timeoutMs !== 'number' || !Number.isInteger(tool.timeoutMs) || tool.timeoutMs < 100 || tool.timeoutMs > 120_000))
        add('timeoutMs', t('problem.range', { min: 100, max: 120_000 }));
    }
  });
  const names = value.flatMap((tool: unknown) => (isPlainObject(tool) && tool.type === 'http' && typeof tool.name === 'string' ? [tool.name] : []));
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) problems.push({ path: 'tools', message: t('problem.duplicateTool', { name }) });
    seen.add(name);
  }
  return problems;
}

export interface BuildResult {
  definition: AgentInput;
  problems: Problem[];
  /** False when the tools JSON does not parse (the definition then keeps the base's tools). */
  toolsParsed: boolean;
}

/**
 * The definition to save: the base's fields the form does not edit (transcription, …) are kept as they
 * were; everything the form edits is written from it.
 */
export function buildDefinition(form: AgentForm, base: AgentInput | null, t: Translate): BuildResult {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });

  if (!ID_RE.test(form.id)) add('id', t('problem.id'));
  if (form.name.trim() === '') add('name', t('problem.required'));
  if (form.instructions.trim() === '') add('instructions', t('problem.required'));
  const instructionsProblem = templateProblem(form.instructions, t);
  if (instructionsProblem) add('instructions', instructionsProblem);
  const greetingProblem = templateProblem(form.greeting, t);
  if (greetingProblem) add('greeting', greetingProblem);
  if (form.language.trim() === '') add('language', t('problem.required'));
  if (form.timezone.trim() === '') add('timezone', t('problem.required'));
  else {
    try {
      new Intl.DateTimeFormat('en', { timeZone: form.timezone.trim() });
    } catch {
      add('timezone', t('problem.timezone'));
    }
  }

  let turnDetection: NonNullable<AgentInput['turnDetection']>;
  if (form.turnType === 'manual') turnDetection = { type: 'manual' };
  else if (form.turnType === 'semantic_vad')
    turnDetection = { type: 'semantic_vad', eagerness: form.eagerness, createResponse: form.createResponse, interruptResponse: form.interruptResponse };
  else {
    const threshold = parseNumber(form.threshold, { min: 0, max: 1, integer: false });
    const prefix = parseNumber(form.prefixPaddingMs, { min: 0, max: 5_000, integer: true });
    const silence = parseNumber(form.silenceDurationMs, { min: 0, max: 10_000, integer: true });
    const idle = parseNumber(form.idleTimeoutMs, { min: 5_000, max: 30_000, integer: true });
    if (threshold === 'invalid') add('turnDetection.threshold', t('problem.range', { min: 0, max: 1 }));
    if (prefix === 'invalid') add('turnDetection.prefixPaddingMs', t('problem.rangeInt', { min: 0, max: 5000 }));
    if (silence === 'invalid') add('turnDetection.silenceDurationMs', t('problem.rangeInt', { min: 0, max: 10000 }));
    if (idle === 'invalid') add('turnDetection.idleTimeoutMs', t('problem.idle'));
    turnDetection = {
      type: 'server_vad',
      threshold: typeof threshold === 'number' ? threshold : DEFAULT_SERVER_VAD.threshold,
      prefixPaddingMs: typeof prefix === 'number' ? prefix : DEFAULT_SERVER_VAD.prefixPaddingMs,
      silenceDurationMs: typeof silence === 'number' ? silence : DEFAULT_SERVER_VAD.silenceDurationMs,
      idleTimeoutMs: typeof idle === 'number' ? idle : null,
      createResponse: form.createResponse,
      interruptResponse: form.interruptResponse,
    };
  }

  let tools: AgentInput['tools'] = base?.tools ?? [];
  let toolsParsed = true;
  try {
    const parsed: unknown = JSON.parse(form.toolsJson.trim() === '' ? '[]' : form.toolsJson);
    const toolProblems = validateTools(parsed, t);
    problems.push(...toolProblems);
    if (Array.isArray(parsed)) tools = parsed as AgentInput['tools'];
  } catch (err) {
    toolsParsed = false;
    add('tools', t('problem.json', { detail: (err as Error).message }));
  }

  const variables: Record<string, string> = {};
  form.variables.forEach((row, index) => {
    const name = row.name.trim();
    if (name === '' && row.value === '') return;
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) add(`variables[${index}]`, t('problem.variableName'));
    else if (name in variables) add(`variables[${index}]`, t('problem.duplicateVariable', { name }));
    variables[name] = row.value;
  });

  const phoneNumbers = form.phoneNumbers
    .split(/[\s,]+/)
    .map((n) => n.trim())
    .filter(Boolean);
  phoneNumbers.forEach((number, index) => {
    if (!E164_RE.test(number)) add(`phoneNumbers[${index}]`, t('problem.e164Number', { number }));
  });

  const dtmf = parseNumber(form.dtmfDebounceMs, { min: 0, max: 10_000, integer: true });
  if (dtmf === 'invalid') add('dtmfDebounceMs', t('problem.rangeInt', { min: 0, max: 10000 }));

  const { greeting: _oldGreeting, dtmfDebounceMs: _oldDtmf, ...kept } = base ?? ({} as Partial<AgentInput>);
  const definition: AgentInput = {
    ...kept,
    id: form.id,
    name: form.name.trim(),
    language: form.language.trim(),
    voice: form.voice.trim(),
    timezone: form.timezone.trim(),
    instructions: form.instructions,
    greetingInterruptible: form.greetingInterruptible,
    variables,
    phoneNumbers,
    turnDetection,
    tools,
  };
  if (form.greeting.trim() !== '') definition.greeting = form.greeting;
  if (typeof dtmf === 'number') definition.dtmfDebounceMs = dtmf;
  return { definition, problems, toolsParsed };
}

/** The form field a problem path belongs to (`definition.tools[1].url` → tools), or null. */
export function fieldOfPath(path: string): FormField | null {
  const normalized = path.replace(/^\//, '').replace(/\//g, '.').replace(/^definition[.[]?/, '');
  const head = normalized.split(/[.[]/)[0] ?? '';
  return (FORM_FIELDS as readonly string[]).includes(head) ? (head as FormField) : null;
}

/** Splits a server problem such as `tools.1.url: Invalid URL` into a path and a message. */
export function parseServerProblem(problem: string): Problem {
  const match = /^\s*([A-Za-z0-9_$./[\]-]+)\s*:\s*(.+)$/s.exec(problem);
  if (match && fieldOfPath(match[1] as string)) return { path: match[1] as string, message: match[2] as string };
  return { path: '', message: problem };
}

export function groupProblems(problems: readonly Problem[]): { byField: Map<FormField, Problem[]>; general: Problem[] } {
  const byField = new Map<FormField, Problem[]>();
  const general: Problem[] = [];
  for (const problem of problems) {
    const field = fieldOfPath(problem.path);
    if (!field) general.push(problem);
    else byField.set(field, [...(byField.get(field) ?? []), problem]);
  }
  return { byField, general };
}

export const TOOL_TEMPLATES: Record<'hang_up' | 'send_dtmf' | 'transfer' | 'http', unknown> = {
  hang_up: { type: 'hang_up' },
  send_dtmf: { type: 'send_dtmf' },
  transfer: { type: 'transfer', number: '+15551234567', announce: 'Transferring you now.' },
  http: {
    type: 'http',
    name: 'lookup_order',
    description: 'Looks up an order by its number.',
    parameters: { type: 'object', properties: { orderNumber: { type: 'string' } }, required: ['orderNumber'] },
    url: 'https://example.com/orders/lookup',
    headers: {},
    timeoutMs: 5000,
  },
};
