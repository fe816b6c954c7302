// The dialogue step of Koe's engine: given the conversation so far, produce the agent's next turn as a
// stream of text and function calls. Three implementations sit behind this interface: the embedded
// rule/NLU engine (no model), any OpenAI-compatible chat-completions endpoint, and a local GGUF model.

export interface DialogueToolCall {
  callId: string;
  name: string;
  /** JSON text. */
  arguments: string;
}

export type DialogueMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: DialogueToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

export interface DialogueTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

export type DialogueToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; name: string };

export interface DialogueRequest {
  /** The system prompt: session instructions, or the response's override. */
  instructions: string;
  /** The conversation in order, text only (user speech as its transcript). */
  messages: DialogueMessage[];
  tools: DialogueTool[];
  toolChoice: DialogueToolChoice;
  /** ISO-639-1 language hint (from the transcription settings), when known. */
  language?: string;
  /** `response.create.response.metadata`, e.g. Koe's `koe_say` for a verbatim greeting. */
  metadata?: Record<string, unknown>;
  /** Upper bound on generated tokens (`max_output_tokens`); undefined = no limit. */
  maxOutputTokens?: number;
  /** Aborted on `response.cancel` or when the session closes: stop generating at once. */
  signal: AbortSignal;
}

export type DialogueEvent =
  /** Text of the reply as it is generated; the engine speaks it sentence by sentence. */
  | { type: 'text.delta'; delta: string }
  | { type: 'function_call'; call: DialogueToolCall }
  | { type: 'done'; usage: DialogueUsage };

export interface DialogueUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface DialogueEngine {
  /** A short name for logs and `/healthz`, e.g. `embedded`, `chat-completions:llama3`, `gguf:qwen`. */
  readonly name: string;
  /**
   * Produces one turn. The iterable ends after `done`; an aborted signal ends it early without `done`.
   * Failures reject the iteration with a DialogueError.
   */
  respond(request: DialogueRequest): AsyncIterable<DialogueEvent>;
  /** Releases models, connections and workers. Idempotent. */
  close(): Promise<void>;
}

export class DialogueError extends Error {
  constructor(
    message: string,
    /** Maps to the Realtime `response.done` failure: `status_details.error.code`. */
    readonly code: 'unavailable' | 'rate_limited' | 'bad_request' | 'timeout' | 'internal',
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DialogueError';
  }
}

/** Koe's greeting asks for a verbatim line through response metadata; any engine may honour it. */
export function verbatimLine(metadata: Record<string, unknown> | undefined): string | undefined {
  const say = metadata?.koe_say;
  return typeof say === 'string' && say.trim() !== '' ? say : undefined;
}

/** Rough token count for usage reporting where the engine has no tokenizer (≈ 4 characters per token). */
export function estimateTokens(text: string): number {
  return Math.ceil([...text].length / 4);
}
