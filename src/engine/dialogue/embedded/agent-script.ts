// The agent script: an optional ```koe-script fenced block of YAML inside the session instructions that
// tells the embedded engine what to recognise and what to say. Validated with zod; a bad script is a
// DialogueError('bad_request') naming the field, never a crash. The format is documented in README.md.
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { DialogueError } from '../dialogue.js';

const FENCE_OPEN = /^([ \t]*)```koe-script[ \t]*$/;
const FENCE_CLOSE = /^[ \t]*```[ \t]*$/;

export interface ExtractedScript {
  /** The YAML text, dedented; undefined when the instructions hold no script. */
  yaml: string | undefined;
  /** The instructions without the script block, for reading the agent's profile. */
  prose: string;
}

/** Finds the one ```koe-script block. Throws DialogueError for an unclosed or repeated block. */
export function extractScript(instructions: string): ExtractedScript {
  const lines = instructions.split(/\r?\n/);
  let yaml: string | undefined;
  const prose: string[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const open = (lines[i] as string).match(FENCE_OPEN);
    if (!open) {
      prose.push(lines[i] as string);
      continue;
    }
    if (yaml !== undefined) throw scriptError('the instructions hold more than one ```koe-script block; merge them into one');
    const indent = (open[1] as string).length;
    const body: string[] = [];
    let closed = false;
    for (i += 1; i < lines.length; i += 1) {
      const line = lines[i] as string;
      if (FENCE_CLOSE.test(line)) {
        closed = true;
        break;
      }
      body.push(line.slice(Math.min(indent, line.length - line.trimStart().length)));
    }
    if (!closed) throw scriptError('the ```koe-script block is not closed: end it with a line of ```');
    yaml = body.join('\n');
  }
  return { yaml, prose: prose.join('\n') };
}

// ---- schema ---------------------------------------------------------------------------------------------

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const nameString = z.string().regex(NAME, 'use letters, digits and _ (a letter or _ first)');
const toolName = z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names are 1-64 letters, digits, _ or -');
/** One line or several; several are used in rotation. */
const lines = z
  .union([z.string().trim().min(1, 'must not be empty'), z.array(z.string().trim().min(1, 'must not be empty')).min(1, 'give at least one line')])
  .transform((v) => (typeof v === 'string' ? [v] : v));
const phrases = z.array(z.union([z.string().trim().min(1, 'must not be empty'), z.number()]).transform(String));

const toolSchema = z.union([
  toolName.transform((name) => ({ name, arguments: {} as Record<string, unknown> })),
  z.strictObject({ name: toolName, arguments: z.record(z.string(), z.unknown()).default({}) }),
]);

const SLOT_TYPES = ['digits', 'yes_no', 'number', 'date', 'free_text', 'enum'] as const;

const slotSchema = z
  .strictObject({
    type: z.enum(SLOT_TYPES, { message: `type must be one of ${SLOT_TYPES.join(', ')}` }),
    prompt: lines,
    retry: lines.optional(),
    /** enum: a list of values, or value → synonyms. */
    values: z.union([phrases.min(1), z.record(z.string(), phrases)]).optional(),
    minDigits: z.number().int().min(1).max(32).optional(),
    maxDigits: z.number().int().min(1).max(32).optional(),
  })
  .superRefine((slot, ctx) => {
    if (slot.type === 'enum' && slot.values === undefined) ctx.addIssue({ code: 'custom', path: ['values'], message: 'an enum slot needs values' });
    if (slot.type !== 'enum' && slot.values !== undefined) ctx.addIssue({ code: 'custom', path: ['values'], message: 'only enum slots take values' });
    if (slot.type !== 'digits' && (slot.minDigits !== undefined || slot.maxDigits !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['minDigits'], message: 'only digits slots take minDigits/maxDigits' });
    }
    if (slot.minDigits !== undefined && slot.maxDigits !== undefined && slot.minDigits > slot.maxDigits) {
      ctx.addIssue({ code: 'custom', path: ['maxDigits'], message: 'maxDigits is below minDigits' });
    }
  });

const intentSchema = z.strictObject({
  name: nameString,
  examples: phrases.optional(),
  keywords: phrases.optional(),
  replies: lines.optional(),
  tool: toolSchema.optional(),
  slots: z.array(nameString).optional(),
  onYes: nameString.optional(),
  onNo: nameString.optional(),
  onResult: lines.optional(),
  onError: lines.optional(),
});

const fallbackSchema = z.strictObject({
  replies: lines.optional(),
  escalateAfter: z.number().int().min(1).max(20).optional(),
  escalation: lines.optional(),
  onYes: nameString.optional(),
  onNo: nameString.optional(),
});

const scriptSchema = z.strictObject({
  style: z
    .enum(['receptionist', 'counselling', 'counseling'], { message: 'style must be receptionist or counselling' })
    .transform((s) => (s === 'counseling' ? 'counselling' : s))
    .optional(),
  language: z.enum(['en', 'ja'], { message: 'language must be en or ja' }).optional(),
  /** false drops the built-in intents (greeting, goodbye, human, repeat...). */
  defaults: z.boolean().default(true),
  intents: z.array(intentSchema).default([]),
  slots: z.record(z.string().regex(NAME, 'slot names use letters, digits and _ (a letter or _ first)'), slotSchema).default({}),
  fallback: fallbackSchema.optional(),
});

export type AgentScript = z.output<typeof scriptSchema>;
export type ScriptIntent = z.output<typeof intentSchema>;
export type ScriptSlot = z.output<typeof slotSchema>;

/** What the built-in layer offers a script: names it may refer to and override. */
export interface BuiltInNames {
  intents: ReadonlySet<string>;
  slots: ReadonlySet<string>;
}

/** Variables every reply may use besides slot names. */
export const RESERVED_VARIABLES = new Set(['last_reply']);

/** `{{name}}` or `{name}`. The single-brace form survives Koe's agent templates, which render `{{…}}`. */
export const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}|\{([A-Za-z_][A-Za-z0-9_.]*)\}/g;

/** Parses and validates a script's YAML; throws DialogueError('bad_request') with the field path. */
export function parseScript(yaml: string, builtIns: BuiltInNames): AgentScript {
  let data: unknown;
  try {
    data = parseYaml(yaml);
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const at = err.linePos?.[0];
      const where = at ? ` at line ${at.line}, column ${at.col}` : '';
      throw scriptError(`the YAML does not parse${where}: ${err.message.split('\n')[0] ?? ''}`, err);
    }
    throw scriptError(`the YAML does not parse: ${(err as Error).message}`, err);
  }
  if (data === null || data === undefined) data = {};
  const parsed = scriptSchema.safeParse(data);
  if (!parsed.success) throw scriptError(formatIssues(parsed.error.issues));
  const problems = crossCheck(parsed.data, builtIns);
  if (problems.length > 0) throw scriptError(problems.slice(0, 3).join('; '));
  return parsed.data;
}

function crossCheck(script: AgentScript, builtIns: BuiltInNames): string[] {
  const problems: string[] = [];
  const intentNames = new Set<string>(builtIns.intents);
  const seen = new Set<string>();
  script.intents.forEach((intent, i) => {
    if (seen.has(intent.name)) problems.push(`intents[${i}].name: "${intent.name}" is defined twice`);
    seen.add(intent.name);
    intentNames.add(intent.name);
  });
  const slotNames = new Set<string>([...builtIns.slots, ...Object.keys(script.slots)]);
  const reached = new Set<string>();
  for (const intent of script.intents) {
    if (intent.onYes !== undefined) reached.add(intent.onYes);
    if (intent.onNo !== undefined) reached.add(intent.onNo);
  }
  if (script.fallback?.onYes !== undefined) reached.add(script.fallback.onYes);
  if (script.fallback?.onNo !== undefined) reached.add(script.fallback.onNo);

  const checkTemplates = (texts: readonly string[] | undefined, path: string, extra: (name: string) => boolean): void => {
    texts?.forEach((text, k) => {
      for (const match of text.matchAll(PLACEHOLDER)) {
        const name = (match[1] ?? match[2]) as string;
        if (!slotNames.has(name) && !RESERVED_VARIABLES.has(name) && !extra(name)) {
          problems.push(`${path}[${k}]: {${name}} is not a slot (known: ${[...slotNames].join(', ') || 'none'})`);
        }
      }
    });
  };
  const noExtra = (): boolean => false;
  const isResult = (name: string): boolean => name === 'result' || name.startsWith('result.');

  script.intents.forEach((intent, i) => {
    const path = `intents[${i}]`;
    const builtIn = builtIns.intents.has(intent.name);
    const recognisable = (intent.examples?.length ?? 0) > 0 || (intent.keywords?.length ?? 0) > 0;
    if (!builtIn && !recognisable && !reached.has(intent.name)) {
      problems.push(`${path}: give "${intent.name}" examples or keywords, or reach it through another intent's onYes/onNo`);
    }
    if (!builtIn && intent.replies === undefined && intent.tool === undefined && (intent.slots?.length ?? 0) === 0) {
      problems.push(`${path}: "${intent.name}" needs replies, a tool or slots`);
    }
    intent.slots?.forEach((slot, k) => {
      if (!slotNames.has(slot)) problems.push(`${path}.slots[${k}]: no slot named "${slot}" under slots`);
    });
    for (const key of ['onYes', 'onNo'] as const) {
      const target = intent[key];
      if (target !== undefined && !intentNames.has(target)) problems.push(`${path}.${key}: no intent named "${target}"`);
    }
    if ((intent.onResult !== undefined || intent.onError !== undefined) && intent.tool === undefined && !builtIn) {
      problems.push(`${path}: onResult/onError need a tool`);
    }
    checkTemplates(intent.replies, `${path}.replies`, noExtra);
    checkTemplates(intent.onResult, `${path}.onResult`, isResult);
    checkTemplates(intent.onError, `${path}.onError`, isResult);
    if (intent.tool !== undefined) {
      checkTemplates(templateStrings(intent.tool.arguments), `${path}.tool.arguments`, noExtra);
    }
  });
  for (const [name, slot] of Object.entries(script.slots)) {
    checkTemplates(slot.prompt, `slots.${name}.prompt`, noExtra);
    checkTemplates(slot.retry, `slots.${name}.retry`, noExtra);
  }
  for (const key of ['onYes', 'onNo'] as const) {
    const target = script.fallback?.[key];
    if (target !== undefined && !intentNames.has(target)) problems.push(`fallback.${key}: no intent named "${target}"`);
  }
  checkTemplates(script.fallback?.replies, 'fallback.replies', noExtra);
  checkTemplates(script.fallback?.escalation, 'fallback.escalation', noExtra);
  return problems;
}

/** Every string inside tool arguments, however nested. */
export function templateStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(templateStrings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(templateStrings);
  return [];
}

type Issue = z.ZodError['issues'][number];

function formatIssues(issues: readonly Issue[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => {
      const path = formatPath(issue.path);
      const message =
        issue.code === 'unrecognized_keys'
          ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
          : issue.message;
      return path === '' ? message : `${path}: ${message}`;
    })
    .join('; ');
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function scriptError(message: string, cause?: unknown): DialogueError {
  return new DialogueError(`koe-script: ${message}`, 'bad_request', false, cause === undefined ? undefined : { cause });
}
