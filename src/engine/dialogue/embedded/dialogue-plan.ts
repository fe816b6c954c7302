// The dialogue plan: everything the engine needs to answer turns for one agent, built once per distinct
// instructions text and tool set. Built-in intents come first (shaped by the agent's profile and tools),
// then the agent script's intents and slots replace or extend them.
import type { DialogueTool, DialogueToolChoice } from '../dialogue.js';
import { type AgentProfile, type AgentStyle, type ReplyLanguage, readAgentProfile } from './agent-profile.js';
import { type AgentScript, extractScript, parseScript } from './agent-script.js';
import { BUILT_IN_INTENT_NAMES, BUILT_IN_SLOT_NAMES, defaultFallback, defaultIntents, defaultSlots } from './default-intents.js';
import type { EnumChoice, SlotSpec } from './slot-values.js';

export interface ToolInvocation {
  name: string;
  /** Strings may hold `{slot}` placeholders, filled with the slots' raw values. */
  arguments: Record<string, unknown>;
}

export interface PlanIntent {
  name: string;
  /** Phrases for the classifier. */
  examples: string[];
  /** Words or short phrases that decide a short utterance on their own (fuzzy). */
  keywords: string[];
  /** Templates; used in rotation. */
  replies: string[];
  tool?: ToolInvocation;
  /** Slots to fill, in order, before replying. */
  slots: string[];
  /** The reply asked a yes/no question: the intent a yes or a no leads to. */
  onYes?: string;
  onNo?: string;
  /** Said after the tool's result comes back. */
  onResult?: string[];
  onError?: string[];
  /** Recognised only while a question is pending ("never mind"). */
  onlyWhenAwaiting?: boolean;
  /** Leaves the pending question pending ("sorry, what?", "hold on"). */
  keepsAwaiting?: boolean;
}

export interface FallbackPlan {
  replies: string[];
  /** Misunderstandings in a row before the escalation reply is used instead. */
  escalateAfter: number;
  escalation: string[];
  onYes?: string;
  onNo?: string;
}

export interface ToolSet {
  /** Tools the engine may call this turn (none under tool_choice 'none'). */
  names: ReadonlySet<string>;
  /** The `destination` enum of the transfer tool, when it has one. */
  transferDestinations: string[];
}

export interface DialoguePlan {
  language: ReplyLanguage;
  style: AgentStyle;
  profile: AgentProfile;
  intents: Map<string, PlanIntent>;
  slots: Map<string, SlotSpec>;
  fallback: FallbackPlan;
  /** Intent names, most specific first: ties in the keyword layer go to the earlier one. */
  precedence: string[];
  tools: ToolSet;
}

export interface PlanRequest {
  instructions: string;
  language?: string;
  tools: readonly DialogueTool[];
  toolChoice: DialogueToolChoice;
}

/** What a plan depends on, as a cache key. */
export function planKey(request: PlanRequest): string {
  const tools = request.toolChoice === 'none' ? [] : request.tools.map((t) => [t.name, transferDestinations(t)]);
  return JSON.stringify([request.instructions, request.language ?? '', tools]);
}

/** Builds the plan; throws DialogueError('bad_request') for a bad script. */
export function buildPlan(request: PlanRequest): DialoguePlan {
  const { yaml, prose } = extractScript(request.instructions);
  const script = yaml === undefined ? undefined : parseScript(yaml, { intents: BUILT_IN_INTENT_NAMES, slots: BUILT_IN_SLOT_NAMES });
  const profile = readAgentProfile(prose, request.language);
  if (script?.style !== undefined) profile.style = script.style;
  if (script?.language !== undefined) profile.language = script.language;
  const transfer = request.tools.find((t) => t.name === 'transfer');
  const tools: ToolSet = {
    names: new Set(request.toolChoice === 'none' ? [] : request.tools.map((t) => t.name)),
    transferDestinations: transfer ? transferDestinations(transfer) : [],
  };
  const builtIns = defaultIntents(profile, tools);
  const intents = new Map<string, PlanIntent>();
  const slots = new Map<string, SlotSpec>(defaultSlots(profile, tools).map((s) => [s.name, s]));
  const includeDefaults = script?.defaults ?? true;
  // Without defaults, built-ins stay only as targets the script names (onYes/onNo), and are not recognised.
  const named = new Set(
    [...(script?.intents ?? []).flatMap((i) => [i.onYes, i.onNo, i.name]), script?.fallback?.onYes, script?.fallback?.onNo].filter(
      (n): n is string => n !== undefined,
    ),
  );
  for (const intent of builtIns) {
    if (includeDefaults) intents.set(intent.name, intent);
    else if (named.has(intent.name) || intent.name.startsWith('crisis')) intents.set(intent.name, { ...intent, examples: [], keywords: [] });
  }
  const scriptOrder: string[] = [];
  if (script !== undefined) mergeScript(script, intents, slots, scriptOrder);
  const fallback = defaultFallback(profile, tools);
  if (script?.fallback !== undefined) {
    const f = script.fallback;
    if (f.replies !== undefined) fallback.replies = f.replies;
    if (f.escalateAfter !== undefined) fallback.escalateAfter = f.escalateAfter;
    if (f.escalation !== undefined) fallback.escalation = f.escalation;
    if (f.onYes !== undefined) fallback.onYes = f.onYes;
    if (f.onNo !== undefined) fallback.onNo = f.onNo;
  }
  const precedence = [...scriptOrder, ...builtIns.map((i) => i.name).filter((n) => !scriptOrder.includes(n))].filter((n) =>
    intents.has(n),
  );
  return { language: profile.language, style: profile.style, profile, intents, slots, fallback, precedence, tools };
}

function mergeScript(script: AgentScript, intents: Map<string, PlanIntent>, slots: Map<string, SlotSpec>, order: string[]): void {
  for (const [name, slot] of Object.entries(script.slots)) {
    const spec: SlotSpec = { name, type: slot.type, prompts: slot.prompt, retries: slot.retry ?? slots.get(name)?.retries ?? [] };
    if (slot.values !== undefined) spec.choices = enumChoices(slot.values);
    if (slot.minDigits !== undefined) spec.minDigits = slot.minDigits;
    if (slot.maxDigits !== undefined) spec.maxDigits = slot.maxDigits;
    slots.set(name, spec);
  }
  for (const intent of script.intents) {
    const base = intents.get(intent.name);
    // Fields given replace the built-in's; fields left out keep it.
    const merged: PlanIntent = {
      ...(base ?? { examples: [], keywords: [], replies: [], slots: [] }),
      name: intent.name,
    };
    if (intent.examples !== undefined) merged.examples = intent.examples;
    if (intent.keywords !== undefined) merged.keywords = intent.keywords;
    if (intent.replies !== undefined) merged.replies = intent.replies;
    if (intent.tool !== undefined) merged.tool = { name: intent.tool.name, arguments: intent.tool.arguments };
    if (intent.slots !== undefined) merged.slots = intent.slots;
    if (intent.onYes !== undefined) merged.onYes = intent.onYes;
    if (intent.onNo !== undefined) merged.onNo = intent.onNo;
    if (intent.onResult !== undefined) merged.onResult = intent.onResult;
    if (intent.onError !== undefined) merged.onError = intent.onError;
    intents.set(intent.name, merged);
    order.push(intent.name);
  }
}

function enumChoices(values: string[] | Record<string, string[]>): EnumChoice[] {
  if (Array.isArray(values)) return values.map((value) => ({ value, synonyms: [value] }));
  return Object.entries(values).map(([value, synonyms]) => ({ value, synonyms: [value, ...synonyms] }));
}

function transferDestinations(tool: DialogueTool): string[] {
  const properties = tool.parameters.properties as Record<string, { enum?: unknown }> | undefined;
  const values = properties?.destination?.enum;
  return Array.isArray(values) ? values.filter((v): v is string => typeof v === 'string') : [];
}
