// Builds the body of `POST /chat/completions` from a dialogue request, in the shape OpenAI documents and
// Ollama, llama.cpp's server, vLLM and LocalAI accept.
import type { DialogueMessage, DialogueRequest, DialogueTool, DialogueToolCall } from '../dialogue.js';

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ChatToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatTool {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

export type ChatToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

export interface ChatCompletionsBody {
  model: string;
  messages: ChatMessage[];
  stream: true;
  stream_options?: { include_usage: true };
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
  temperature?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
}

/** What a server turned out to refuse; the engine learns it from the server's error and asks again. */
export interface BodyCompatibility {
  streamOptions: boolean;
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
  temperature: boolean;
  /** False for chat templates without a system role (Gemma's under vLLM): instructions lead the first user turn. */
  systemRole: boolean;
  /** True for templates that demand user/assistant/user/… (Mistral's, Llama 2's under vLLM). */
  alternateRoles: boolean;
}

export const OPENAI_COMPATIBILITY: BodyCompatibility = {
  streamOptions: true,
  maxTokensField: 'max_tokens',
  temperature: true,
  systemRole: true,
  alternateRoles: false,
};

/** Opens a conversation the agent started (its greeting), for templates that want a user turn first. */
export const CALL_STARTED = '(The call has connected.)';

/** A tool call whose output never came (a hang-up, a cancelled call) still needs a result for the API. */
export const MISSING_TOOL_RESULT = '(no result)';

export function chatCompletionsBody(
  request: DialogueRequest,
  settings: { model: string; temperature?: number },
  compat: BodyCompatibility,
): ChatCompletionsBody {
  const body: ChatCompletionsBody = { model: settings.model, messages: chatMessages(request.instructions, request.messages, compat), stream: true };
  if (compat.streamOptions) body.stream_options = { include_usage: true };

  // OpenAI rejects an empty `tools` array, and `tool_choice` without tools.
  if (request.tools.length > 0) {
    const choice = request.toolChoice;
    if (typeof choice === 'object') {
      // Offering only the named tool keeps the choice on servers that read `tool_choice` as a string only
      // (llama.cpp's server falls back to `auto`; Ollama ignores the field).
      const named = request.tools.filter((tool) => tool.name === choice.name);
      body.tools = (named.length > 0 ? named : request.tools).map(chatTool);
      body.tool_choice = { type: 'function', function: { name: choice.name } };
    } else {
      body.tools = request.tools.map(chatTool);
      body.tool_choice = choice;
    }
  }

  if (settings.temperature !== undefined && compat.temperature) body.temperature = settings.temperature;
  if (request.maxOutputTokens !== undefined) body[compat.maxTokensField] = request.maxOutputTokens;
  return body;
}

function chatTool(tool: DialogueTool): ChatTool {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}

/**
 * Maps the conversation. Chat-completion servers require every assistant `tool_calls` entry to be answered
 * by a `tool` message right after it, and refuse a `tool` message that answers nothing; the Realtime
 * conversation is looser (an output may arrive after the user spoke again, or never). So each call's
 * result is placed right after its assistant message, a missing one becomes a placeholder, and
 * orphaned results are dropped.
 */
export function chatMessages(
  instructions: string,
  messages: readonly DialogueMessage[],
  compat: Pick<BodyCompatibility, 'systemRole' | 'alternateRoles'> = OPENAI_COMPATIBILITY,
): ChatMessage[] {
  const results = new Map<string, string>();
  for (const message of messages) {
    if (message.role === 'tool' && !results.has(message.toolCallId)) results.set(message.toolCallId, message.content);
  }
  // Ollama refuses an empty `messages` list: without instructions or turns, an empty system message goes.
  const out: ChatMessage[] = instructions !== '' || messages.length === 0 ? [{ role: 'system', content: instructions }] : [];
  for (const message of messages) {
    switch (message.role) {
      case 'user':
        out.push({ role: 'user', content: message.content });
        break;
      case 'assistant': {
        const calls = message.toolCalls ?? [];
        if (calls.length === 0) {
          out.push({ role: 'assistant', content: message.content });
          break;
        }
        out.push({ role: 'assistant', content: message.content === '' ? null : message.content, tool_calls: calls.map(chatToolCall) });
        for (const call of calls) out.push({ role: 'tool', tool_call_id: call.callId, content: results.get(call.callId) ?? MISSING_TOOL_RESULT });
        break;
      }
      case 'tool':
        // Already placed after the call it answers (or answers nothing).
        break;
    }
  }
  let shaped = out;
  if (compat.alternateRoles) shaped = alternating(shaped);
  if (!compat.systemRole) shaped = withoutSystemRole(shaped);
  return shaped;
}

function withoutSystemRole(messages: ChatMessage[]): ChatMessage[] {
  const [system, ...rest] = messages;
  if (system?.role !== 'system' || system.content === '') return rest;
  const first = rest.findIndex((m) => m.role === 'user');
  if (first < 0) return [{ role: 'user', content: system.content }, ...rest];
  return rest.map((m, i) => (i === first && m.role === 'user' ? { role: 'user', content: `${system.content}\n\n${m.content}` } : m));
}

/** Merges neighbours of the same role and opens with a user turn, as strict templates require. */
function alternating(messages: ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const message of messages) {
    const last = out.at(-1);
    if (last?.role === 'user' && message.role === 'user') {
      out[out.length - 1] = { role: 'user', content: `${last.content}\n${message.content}` };
    } else if (last?.role === 'assistant' && message.role === 'assistant' && !last.tool_calls) {
      // Text then text, or text then calls: one assistant turn.
      const content = [last.content, message.content].filter((c): c is string => typeof c === 'string' && c !== '').join(' ');
      out[out.length - 1] = { ...message, content: content === '' ? null : content };
    } else {
      out.push(message);
    }
  }
  const firstTurn = out.findIndex((m) => m.role !== 'system');
  if (firstTurn >= 0 && out[firstTurn]?.role !== 'user') out.splice(firstTurn, 0, { role: 'user', content: CALL_STARTED });
  return out;
}

function chatToolCall(call: DialogueToolCall): ChatToolCall {
  return { id: call.callId, type: 'function', function: { name: call.name, arguments: jsonObjectText(call.arguments) } };
}

/**
 * Ollama parses the arguments of past calls into an object and fails the whole request when it cannot,
 * so arguments that are not a JSON object are sent as `{}`.
 */
function jsonObjectText(text: string): string {
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return text;
  } catch {
    // falls through
  }
  return '{}';
}
