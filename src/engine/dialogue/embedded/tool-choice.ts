// Applying the request's tool_choice to what the policy planned: 'none' never calls, 'auto' calls what was
// planned (only tools the request offers), 'required' and a forced function always call, building
// arguments from the tool's JSON Schema and the caller's words when the policy planned nothing fitting.
import { randomBytes } from 'node:crypto';
import { DialogueError, type DialogueTool, type DialogueToolChoice } from '../dialogue.js';
import type { ReplyLanguage } from './agent-profile.js';
import { readChoice, readDigits, readNumber } from './slot-values.js';
import type { Decision, PlannedCall } from './turn-policy.js';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function newCallId(): string {
  let id = 'call_';
  for (const byte of randomBytes(16)) id += ALPHANUMERIC[byte % ALPHANUMERIC.length] as string;
  return id;
}

/** A forced function must be one of the request's tools. */
export function checkToolChoice(choice: DialogueToolChoice, tools: readonly DialogueTool[]): void {
  if (typeof choice === 'object' && !tools.some((t) => t.name === choice.name)) {
    throw new DialogueError(
      `tool_choice names the function "${choice.name}", which is not among the tools (${tools.map((t) => t.name).join(', ') || 'none'})`,
      'bad_request',
      false,
    );
  }
}

/** What to say before calling a built-in tool the policy did not plan for. */
const PREFACE: Record<string, Record<ReplyLanguage, string>> = {
  hang_up: { en: 'Thank you for calling. Goodbye!', ja: 'お電話ありがとうございました。失礼いたします。' },
  transfer: { en: 'One moment, please. Let me put you through.', ja: '少々お待ちください。おつなぎします。' },
};

export function applyToolChoice(
  decision: Decision,
  choice: DialogueToolChoice,
  tools: readonly DialogueTool[],
  utterance: string,
  language: ReplyLanguage,
): Decision {
  const offered = new Map(tools.map((t) => [t.name, t]));
  const planned = decision.calls.filter((c) => offered.has(c.name));
  if (choice === 'none') return { ...decision, calls: [] };
  if (choice === 'auto') return { ...decision, calls: planned };
  if (choice === 'required' && planned.length > 0) return { ...decision, calls: planned };
  const forced = typeof choice === 'object' ? offered.get(choice.name) : pickTool(tools);
  if (forced === undefined) return { ...decision, calls: planned };
  const own = planned.find((c) => c.name === forced.name);
  if (own !== undefined) return { ...decision, calls: [own] };
  const call: PlannedCall = { name: forced.name, arguments: synthesizeArguments(forced, utterance) };
  const preface = PREFACE[forced.name]?.[language];
  // The planned reply may promise something else ("How can I help?") than the forced call does.
  const text = preface ?? (planned.length > 0 ? '' : decision.text);
  return { text, calls: [call], source: decision.source };
}

/** For 'required' with nothing planned: the first tool callable without arguments, else the first. */
function pickTool(tools: readonly DialogueTool[]): DialogueTool | undefined {
  return tools.find((t) => requiredProperties(t).length === 0) ?? tools[0];
}

function requiredProperties(tool: DialogueTool): string[] {
  const required = tool.parameters.required;
  return Array.isArray(required) ? required.filter((r): r is string => typeof r === 'string') : [];
}

interface PropertySchema {
  type?: unknown;
  enum?: unknown;
  pattern?: unknown;
}

/** Arguments for the schema's required properties, read from the caller's words where possible. */
export function synthesizeArguments(tool: DialogueTool, utterance: string): Record<string, unknown> {
  const properties = (tool.parameters.properties ?? {}) as Record<string, PropertySchema>;
  const args: Record<string, unknown> = {};
  for (const name of requiredProperties(tool)) {
    const schema = properties[name] ?? {};
    if (Array.isArray(schema.enum) && schema.enum.length > 0) {
      const values = schema.enum.map(String);
      args[name] = readChoice(utterance, values.map((value) => ({ value, synonyms: [value] }))) ?? schema.enum[0];
    } else if (schema.type === 'number' || schema.type === 'integer') args[name] = readNumber(utterance) ?? 0;
    else if (schema.type === 'boolean') args[name] = true;
    else if (name === 'digits' || (typeof schema.pattern === 'string' && schema.pattern.includes('0-9'))) {
      args[name] = readDigits(utterance) ?? '';
    } else args[name] = utterance.trim();
  }
  return args;
}

/**
 * Keeps only the arguments the tool declares when its schema closes the object
 * (`additionalProperties: false`): the built-in intents add a `reason` that a client's own hang_up may
 * not accept. Open schemas get everything.
 */
export function fitArgumentsToTool(args: Record<string, unknown>, tool: DialogueTool | undefined): Record<string, unknown> {
  if (tool === undefined || tool.parameters.additionalProperties !== false) return args;
  const declared = new Set(Object.keys((tool.parameters.properties ?? {}) as Record<string, unknown>));
  return Object.fromEntries(Object.entries(args).filter(([name]) => declared.has(name)));
}
