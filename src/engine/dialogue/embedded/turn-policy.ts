// The dialogue policy: given the plan, what the conversation has established so far and the caller's new
// words (or a tool's result), decide what to say and which tools to call. The engine is stateless per
// request, so the state is rebuilt by replaying the conversation through this same policy (see
// conversation-replay.ts); everything here is deterministic for that reason: rotation uses counters in
// the state, never randomness.
import { mentionsCrisis } from './crisis.js';
import { continueLines, nudgeLines, slotRetryLines, toolFollowUps } from './default-intents.js';
import type { DialoguePlan, PlanIntent } from './dialogue-plan.js';
import type { IntentClassifier } from './intent-classifier.js';
import { reflect } from './reflective-listening.js';
import { type Lookup, renderArguments, renderReply, resultLookup } from './reply-template.js';
import { type SlotValue, keypadKeys, readDigits, readSlot, readYesNo } from './slot-values.js';
import { wordsOf } from './spoken-words.js';

export type Awaiting =
  /** `partial`: digits heard so far when the caller reads a number in chunks ("555" … "1234"). */
  | { kind: 'slot'; intent: string; slot: string; attempts: number; partial?: string }
  | { kind: 'confirm'; yes?: string; no?: string };

export interface ConversationState {
  awaiting: Awaiting | undefined;
  slots: Map<string, SlotValue>;
  /** Fallbacks in a row, for escalation. */
  misunderstandings: number;
  /** How often each reply list was used, for rotation. */
  used: Map<string, number>;
  /** What the agent last said (from the conversation itself). */
  lastReply: string;
  userTurns: number;
  /** The intent whose tool call is waiting for its result. */
  toolIntent: string | undefined;
}

export interface PlannedCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface Decision {
  text: string;
  calls: PlannedCall[];
  /** What produced the reply: an intent name, `ask:<slot>`, `retry:<slot>`, `fallback`, `escalation`, `reflect`, `tool_result`, `nudge`. */
  source: string;
}

export interface ToolResult {
  name: string;
  ok: boolean;
  output: unknown;
  raw: string;
}

export function initialState(): ConversationState {
  return { awaiting: undefined, slots: new Map(), misunderstandings: 0, used: new Map(), lastReply: '', userTurns: 0, toolIntent: undefined };
}

/** Intents that may interrupt a slot question; the rest are read as (failed) answers. */
const SLOT_ESCAPES = new Set(['goodbye', 'human', 'repeat', 'hold', 'cancel', 'crisis']);
/** Intents that make no sense as a reaction to a typed slot question. */
const NOT_AN_ANSWER = new Set(['yes', 'no', 'greeting', 'thanks']);
const MAX_SLOT_ATTEMPTS = 3;
/** Intents a longer yes/no answer may also look like; they do not override the answer. */
const ANSWER_LIKE = new Set(['yes', 'no', 'thanks', 'greeting', 'goodbye', 'cancel', 'hold']);

export class TurnPolicy {
  constructor(
    readonly plan: DialoguePlan,
    private readonly classifier: IntentClassifier,
  ) {}

  /** The caller said something. Mutates the state to what it is after this turn. */
  async onUserTurn(state: ConversationState, utterance: string): Promise<Decision> {
    state.userTurns += 1;
    const awaiting = state.awaiting;
    state.awaiting = undefined;
    if (mentionsCrisis(utterance) || (await this.#saysCrisisKeyword(utterance))) return this.#runIntent(state, 'crisis', utterance);

    if (awaiting?.kind === 'confirm') {
      const answer = readYesNo(utterance);
      const target = answer === 'yes' ? awaiting.yes : answer === 'no' ? awaiting.no : undefined;
      if (target !== undefined && this.plan.intents.has(target)) {
        const words = wordsOf(utterance).length;
        const other = words > 1 ? (await this.classifier.classify(utterance, { awaiting: true })).intent : undefined;
        // "Okay, thank you, goodbye" after "anything else?" is a goodbye, not a yes.
        if (other === 'goodbye' && target !== 'goodbye') return this.#runIntent(state, other, utterance);
        // "No, but what are your hours?" asks something: answer that rather than take the no (and hang up).
        if (words > 3 && other !== undefined && !ANSWER_LIKE.has(other) && other !== target) return this.#runIntent(state, other, utterance);
        return this.#runIntent(state, target, utterance);
      }
    }
    if (awaiting?.kind === 'slot') return this.#answerSlot(state, awaiting, utterance);
    // Keys pressed when no number was asked for mean nothing here (and must not read as "press one").
    if (keypadKeys(utterance) !== undefined) return this.#fallback(state, utterance);

    const classification = await this.classifier.classify(utterance, { awaiting: awaiting !== undefined });
    // On a listening line, a caller telling how they feel is heard, not routed: only a clear keyword
    // ("bye", "thank you") turns a feeling-laden sentence into an intent.
    const strong = classification.via === 'keyword' && classification.score === 1;
    if (classification.intent !== undefined && this.plan.style === 'counselling' && !strong && reflect(utterance, this.plan.language, 0).emotion !== undefined) {
      return this.#fallback(state, utterance);
    }
    if (classification.intent !== undefined) {
      const intent = this.plan.intents.get(classification.intent);
      if (intent?.keepsAwaiting === true) state.awaiting = awaiting;
      return this.#runIntent(state, classification.intent, utterance);
    }
    return this.#fallback(state, utterance);
  }

  /** The tools called last turn answered. */
  onToolResults(state: ConversationState, results: readonly ToolResult[]): Decision {
    state.awaiting = undefined;
    const intent = state.toolIntent === undefined ? undefined : this.plan.intents.get(state.toolIntent);
    state.toolIntent = undefined;
    const lines = toolFollowUps(this.plan.profile);
    const failed = results.find((r) => !r.ok);
    const shown = failed ?? results.at(-1);
    if (shown === undefined) return { text: '', calls: [], source: 'tool_result' };
    const lookup = this.#lookup(state, resultLookup(shown.output, shown.raw));
    const custom = failed !== undefined ? intent?.onError : intent?.onResult;
    if (custom !== undefined && custom.length > 0) {
      const text = renderReply(this.#pick(state, `${intent?.name ?? ''}:${failed ? 'error' : 'result'}`, custom), lookup);
      if (intent?.onYes !== undefined || intent?.onNo !== undefined) this.#confirm(state, intent.onYes, intent.onNo);
      return { text, calls: [], source: 'tool_result' };
    }
    if (failed !== undefined) {
      switch (failed.name) {
        case 'transfer': {
          const offer = this.plan.intents.has('take_message') ? 'take_message' : 'anything_else';
          if (this.plan.style !== 'counselling') this.#confirm(state, offer, 'anything_else');
          return { text: this.#pick(state, 'transfer:failed', lines.transferFailed), calls: [], source: 'tool_result' };
        }
        case 'send_dtmf':
          return { text: this.#pick(state, 'dtmf:failed', lines.dtmfFailed), calls: [], source: 'tool_result' };
        case 'hang_up':
          return { text: '', calls: [], source: 'tool_result' };
        default:
          this.#confirm(state, 'go_ahead', 'goodbye');
          return { text: this.#pick(state, 'tool:failed', lines.failed), calls: [], source: 'tool_result' };
      }
    }
    switch (shown.name) {
      case 'hang_up':
      case 'transfer':
        // The call is ending or leaving: nothing more to say.
        return { text: '', calls: [], source: 'tool_result' };
      case 'send_dtmf':
        return { text: this.#pick(state, 'dtmf:done', lines.dtmfDone), calls: [], source: 'tool_result' };
      default: {
        const said = spokenField(shown.output);
        if (said !== undefined) return { text: said, calls: [], source: 'tool_result' };
        this.#confirm(state, 'go_ahead', 'goodbye');
        return { text: this.#pick(state, 'tool:done', lines.done), calls: [], source: 'tool_result' };
      }
    }
  }

  /** Asked to speak with nothing new from the caller: the opening line, or a check that they are still there. */
  onNoInput(state: ConversationState): Decision {
    if (state.userTurns === 0 && state.lastReply === '') return this.#runIntent(state, 'greeting', '');
    const awaiting = state.awaiting;
    if (awaiting?.kind === 'slot') {
      const spec = this.plan.slots.get(awaiting.slot);
      if (spec !== undefined) return { text: renderReply(this.#pick(state, `prompt:${spec.name}`, spec.prompts), this.#lookup(state)), calls: [], source: `ask:${spec.name}` };
    }
    return { text: this.#pick(state, 'nudge', nudgeLines(this.plan.profile)), calls: [], source: 'nudge' };
  }

  async #saysCrisisKeyword(utterance: string): Promise<boolean> {
    const crisis = this.plan.intents.get('crisis');
    if (crisis === undefined || (crisis.keywords.length === 0 && crisis.examples.length === 0)) return false;
    return (await this.classifier.classify(utterance, { awaiting: false })).intent === 'crisis';
  }

  async #answerSlot(state: ConversationState, awaiting: Extract<Awaiting, { kind: 'slot' }>, utterance: string): Promise<Decision> {
    const spec = this.plan.slots.get(awaiting.slot);
    const intent = this.plan.intents.get(awaiting.intent);
    if (spec === undefined || intent === undefined) return this.#fallback(state, utterance);
    if (keypadKeys(utterance) !== undefined && spec.type !== 'digits') {
      state.awaiting = awaiting;
      return { text: renderReply(this.#pick(state, `retry:${spec.name}`, slotRetryLines(spec, this.plan.profile)), this.#lookup(state)), calls: [], source: `retry:${spec.name}` };
    }
    const classification = await this.classifier.classify(utterance, { awaiting: true });
    const recognised = classification.intent;
    const short = wordsOf(utterance).length <= 4;
    const escape = (name: string): Decision => {
      const target = this.plan.intents.get(name);
      if (target?.keepsAwaiting === true) state.awaiting = awaiting;
      return this.#runIntent(state, name, utterance);
    };
    // Free text takes anything, so only a short, clear "sorry, what?" or "bye" interrupts it.
    if (spec.type === 'free_text' && recognised !== undefined && SLOT_ESCAPES.has(recognised) && short && classification.via === 'keyword') {
      return escape(recognised);
    }
    const value = spec.type === 'free_text' && recognised === 'cancel' && short ? undefined : readSlot(spec, utterance);
    if (value !== undefined) {
      state.slots.set(spec.name, value);
      return this.#continueForm(state, intent);
    }
    if (spec.type === 'digits') {
      const chunk = keypadKeys(utterance)?.replace(/#$/, '') ?? readDigits(utterance);
      if (chunk !== undefined) {
        const joined = readSlot(spec, `${awaiting.partial ?? ''}${chunk}`);
        if (joined !== undefined && awaiting.partial !== undefined) {
          state.slots.set(spec.name, joined);
          return this.#continueForm(state, intent);
        }
        if (`${awaiting.partial ?? ''}${chunk}`.length < (spec.maxDigits ?? 32)) {
          state.awaiting = { ...awaiting, partial: `${awaiting.partial ?? ''}${chunk}` };
          return { text: this.#pick(state, 'digits:more', continueLines(this.plan.profile)), calls: [], source: `partial:${spec.name}` };
        }
      }
    }
    // A question about something else ("what are your hours?") is answered instead; nothing that acts
    // (a tool, a new form) is started from a failed answer, where digits may look like "press one".
    if (recognised !== undefined && !NOT_AN_ANSWER.has(recognised) && recognised !== awaiting.intent) {
      const target = this.plan.intents.get(recognised);
      if (SLOT_ESCAPES.has(recognised) || (target !== undefined && target.tool === undefined && target.slots.length === 0)) return escape(recognised);
    }
    if (awaiting.attempts + 1 >= MAX_SLOT_ATTEMPTS) {
      // Asking a fourth time would only annoy: give up on the form and offer the escalation.
      state.misunderstandings = Math.max(state.misunderstandings, this.plan.fallback.escalateAfter - 1);
      return this.#fallback(state, utterance);
    }
    state.awaiting = { ...awaiting, attempts: awaiting.attempts + 1 };
    const retry = this.#pick(state, `retry:${spec.name}`, slotRetryLines(spec, this.plan.profile));
    return { text: renderReply(retry, this.#lookup(state)), calls: [], source: `retry:${spec.name}` };
  }

  #runIntent(state: ConversationState, name: string, utterance: string): Decision {
    const intent = this.plan.intents.get(name);
    if (intent === undefined) return this.#fallback(state, utterance);
    if (name === 'repeat' && state.lastReply === '') return this.#fallback(state, utterance);
    state.misunderstandings = 0;
    if (intent.slots.length > 0) {
      for (const slot of intent.slots) state.slots.delete(slot);
      // What the request itself says ("press five", "for two people tomorrow") fills typed slots at once.
      for (const slot of intent.slots) {
        const spec = this.plan.slots.get(slot);
        if (spec === undefined || spec.type === 'free_text' || spec.type === 'yes_no' || utterance === '') continue;
        const value = readSlot(spec, utterance);
        if (value !== undefined) state.slots.set(slot, value);
      }
      return this.#continueForm(state, intent);
    }
    return this.#complete(state, intent);
  }

  #continueForm(state: ConversationState, intent: PlanIntent): Decision {
    for (const slot of intent.slots) {
      if (state.slots.has(slot)) continue;
      const spec = this.plan.slots.get(slot);
      if (spec === undefined) continue;
      state.awaiting = { kind: 'slot', intent: intent.name, slot, attempts: 0 };
      const prompt = this.#pick(state, `prompt:${slot}`, spec.prompts);
      return { text: renderReply(prompt, this.#lookup(state)), calls: [], source: `ask:${slot}` };
    }
    return this.#complete(state, intent);
  }

  #complete(state: ConversationState, intent: PlanIntent): Decision {
    const lookup = this.#lookup(state);
    const text = intent.replies.length > 0 ? renderReply(this.#pick(state, `reply:${intent.name}`, intent.replies), lookup) : '';
    const calls: PlannedCall[] = [];
    if (intent.tool !== undefined && this.plan.tools.names.has(intent.tool.name)) {
      const rawLookup: Lookup = (name) => state.slots.get(name)?.raw ?? lookup(name);
      calls.push({ name: intent.tool.name, arguments: renderArguments(intent.tool.arguments, rawLookup) as Record<string, unknown> });
    }
    state.toolIntent = calls.length > 0 ? intent.name : undefined;
    if (intent.onYes !== undefined || intent.onNo !== undefined) this.#confirm(state, intent.onYes, intent.onNo);
    return { text, calls, source: intent.name };
  }

  #fallback(state: ConversationState, utterance: string): Decision {
    if (this.plan.style === 'counselling' && wordsOf(utterance).length > 0) {
      const turn = this.#count(state, 'reflect');
      return { text: reflect(utterance, this.plan.language, turn).text, calls: [], source: 'reflect' };
    }
    state.misunderstandings += 1;
    const fallback = this.plan.fallback;
    if (state.misunderstandings >= fallback.escalateAfter && fallback.escalation.length > 0) {
      state.misunderstandings = 0;
      this.#confirm(state, fallback.onYes, fallback.onNo);
      return { text: renderReply(this.#pick(state, 'escalation', fallback.escalation), this.#lookup(state)), calls: [], source: 'escalation' };
    }
    return { text: renderReply(this.#pick(state, 'fallback', fallback.replies), this.#lookup(state)), calls: [], source: 'fallback' };
  }

  #confirm(state: ConversationState, yes: string | undefined, no: string | undefined): void {
    const awaiting: Awaiting = { kind: 'confirm' };
    if (yes !== undefined && this.plan.intents.has(yes)) awaiting.yes = yes;
    if (no !== undefined && this.plan.intents.has(no)) awaiting.no = no;
    state.awaiting = awaiting.yes !== undefined || awaiting.no !== undefined ? awaiting : undefined;
  }

  #lookup(state: ConversationState, extra?: Lookup): Lookup {
    return (name) => {
      if (name === 'last_reply') return state.lastReply;
      const slot = state.slots.get(name);
      if (slot !== undefined) return slot.spoken;
      return extra?.(name);
    };
  }

  /** The next line of a list, in rotation per key. */
  #pick(state: ConversationState, key: string, lines: readonly string[]): string {
    const n = this.#count(state, key);
    return lines[n % Math.max(1, lines.length)] ?? '';
  }

  #count(state: ConversationState, key: string): number {
    const n = state.used.get(key) ?? 0;
    state.used.set(key, n + 1);
    return n;
  }
}

/** An HTTP tool may answer with a line to speak: `{"say": …}`, `{"message": …}`, `{"text": …}` or `{"reply": …}`. */
function spokenField(output: unknown): string | undefined {
  if (output === null || typeof output !== 'object') return undefined;
  for (const key of ['say', 'reply', 'message', 'text']) {
    const value = (output as Record<string, unknown>)[key];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  return undefined;
}
