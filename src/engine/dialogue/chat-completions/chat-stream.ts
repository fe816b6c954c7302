// Turns streamed chat-completion chunks into dialogue events: text deltas as they come, tool calls once
// their fragments are complete, usage at the end.
import { randomUUID } from 'node:crypto';
import type { DialogueEvent, DialogueToolCall, DialogueUsage } from '../dialogue.js';

interface PartialCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * One streamed reply. OpenAI sends a tool call as fragments keyed by `index`: the first carries `id` and
 * `function.name`, later ones pieces of `function.arguments`; parallel calls use indexes 0, 1, …
 * Other servers differ, and each is handled here:
 * - Ollama sends each call whole in one chunk, often with the text chunk's `finish_reason` already set;
 * - Gemini's compatibility layer and some proxies send no `index` at all (a new `id` = a new call);
 * - some servers send every call at index 0, each with its own `id`;
 * - some send `arguments` as an object rather than JSON text.
 */
export class ChatStream {
  readonly #calls = new Map<number, PartialCall>();
  #lastKey: number | undefined;
  #usage: DialogueUsage | undefined;
  #finished = false;
  #text = '';
  #emittedArguments = '';

  /** True once a choice reported `finish_reason`. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Usage the server reported, if it did (servers that ignore `stream_options` never do). */
  get usage(): DialogueUsage | undefined {
    return this.#usage;
  }

  /** Everything the model produced, for estimating usage when the server reports none. */
  get producedText(): string {
    return this.#text + this.#emittedArguments;
  }

  /**
   * Reads one parsed `chat.completion.chunk`. `progressed` says the model produced something (text,
   * a tool-call fragment, the end, or usage), as opposed to a role-only or empty chunk.
   */
  accept(chunk: unknown): { events: DialogueEvent[]; progressed: boolean } {
    const events: DialogueEvent[] = [];
    let progressed = false;
    if (!isRecord(chunk)) return { events, progressed };
    const usage = readUsage(chunk.usage);
    if (usage) {
      this.#usage = usage;
      progressed = true;
    }
    const choice = Array.isArray(chunk.choices) ? chunk.choices.find((c) => isRecord(c) && (c.index ?? 0) === 0) : undefined;
    if (!isRecord(choice)) return { events, progressed };
    const delta = isRecord(choice.delta) ? choice.delta : isRecord(choice.message) ? choice.message : undefined;
    if (delta) {
      if (typeof delta.content === 'string' && delta.content !== '') {
        this.#text += delta.content;
        events.push({ type: 'text.delta', delta: delta.content });
        progressed = true;
      }
      // Reasoning models (vLLM `reasoning_content`, Ollama `reasoning`) think aloud first: not to be
      // spoken, but proof that the server is working.
      if (isNonEmptyString(delta.reasoning_content) || isNonEmptyString(delta.reasoning)) progressed = true;
      if (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) {
        for (const fragment of delta.tool_calls) if (isRecord(fragment)) this.#addFragment(fragment);
        progressed = true;
      }
    }
    if (typeof choice.finish_reason === 'string' && choice.finish_reason !== '') {
      this.#finished = true;
      progressed = true;
      events.push(...this.#flushCalls());
    }
    return { events, progressed };
  }

  /** The stream is over: tool calls not yet delivered (no `finish_reason` came) are complete now. */
  end(): DialogueEvent[] {
    return this.#flushCalls();
  }

  #addFragment(fragment: Record<string, unknown>): void {
    const id = typeof fragment.id === 'string' ? fragment.id : '';
    const fn = isRecord(fragment.function) ? fragment.function : {};
    let key: number;
    if (typeof fragment.index === 'number') {
      key = fragment.index;
      const existing = this.#calls.get(key);
      // A different id at a used index is a new call from a server that numbers every call 0.
      if (existing && id !== '' && existing.id !== '' && existing.id !== id) key = this.#freeKey();
    } else if (id !== '') {
      key = [...this.#calls].find(([, call]) => call.id === id)?.[0] ?? this.#freeKey();
    } else {
      key = this.#lastKey ?? this.#freeKey();
    }
    this.#lastKey = key;
    let call = this.#calls.get(key);
    if (!call) {
      call = { id: '', name: '', arguments: '' };
      this.#calls.set(key, call);
    }
    if (id !== '' && call.id === '') call.id = id;
    if (typeof fn.name === 'string' && fn.name !== '' && call.name === '') call.name = fn.name;
    if (typeof fn.arguments === 'string') call.arguments += fn.arguments;
    else if (isRecord(fn.arguments)) call.arguments = JSON.stringify(fn.arguments);
  }

  #freeKey(): number {
    return this.#calls.size === 0 ? 0 : Math.max(...this.#calls.keys()) + 1;
  }

  #flushCalls(): DialogueEvent[] {
    const events: DialogueEvent[] = [];
    const keys = [...this.#calls.keys()].sort((a, b) => a - b);
    for (const key of keys) {
      const partial = this.#calls.get(key) as PartialCall;
      // A call without a name cannot be run; nothing sensible can be done with it.
      if (partial.name === '') continue;
      const call: DialogueToolCall = {
        callId: partial.id || `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
        name: partial.name,
        arguments: partial.arguments.trim() === '' ? '{}' : partial.arguments,
      };
      this.#emittedArguments += call.arguments;
      events.push({ type: 'function_call', call });
    }
    this.#calls.clear();
    this.#lastKey = undefined;
    return events;
  }
}

function readUsage(value: unknown): DialogueUsage | undefined {
  if (!isRecord(value)) return undefined;
  const input = value.prompt_tokens;
  const output = value.completion_tokens;
  if (typeof input !== 'number' && typeof output !== 'number') return undefined;
  return { inputTokens: typeof input === 'number' ? input : 0, outputTokens: typeof output === 'number' ? output : 0 };
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
