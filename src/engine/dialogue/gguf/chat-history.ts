// Turns a dialogue request into node-llama-cpp's chat history and function list. Requests are
// stateless: the whole conversation comes each time, and the history is rebuilt from it.
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelFunctions, ChatModelResponse } from 'node-llama-cpp';
import type { DialogueMessage, DialogueRequest } from '../dialogue.js';

/** A tool call whose output never came (a hang-up, a cancelled call) still gets a result in the prompt. */
export const MISSING_TOOL_RESULT = '(no result)';

/**
 * node-llama-cpp keeps a function call and its result inside the model response that made it, and the
 * model's words after the result continue that same response. So an assistant message, the results of
 * its calls and the assistant text that follows them become one model response. When the conversation
 * ends in a finished assistant message, an empty model response starts a new turn; when it ends in tool
 * results, generation continues the response that made the calls.
 */
export function chatHistory(instructions: string, messages: readonly DialogueMessage[]): ChatHistoryItem[] {
  const results = new Map<string, string>();
  for (const message of messages) {
    if (message.role === 'tool' && !results.has(message.toolCallId)) results.set(message.toolCallId, message.content);
  }
  const history: ChatHistoryItem[] = [];
  if (instructions.trim() !== '') history.push({ type: 'system', text: instructions });
  // The model response that made calls, while the assistant may still continue it.
  let open: ChatModelResponse | undefined;
  for (const message of messages) {
    switch (message.role) {
      case 'user':
        history.push({ type: 'user', text: message.content });
        open = undefined;
        break;
      case 'assistant': {
        const response: ChatModelResponse = open ?? { type: 'model', response: [] };
        if (!open) history.push(response);
        if (message.content !== '') response.response.push(message.content);
        const calls = message.toolCalls ?? [];
        calls.forEach((call, i) => {
          const item: ChatModelFunctionCall = {
            type: 'functionCall',
            name: call.name,
            params: parseJson(call.arguments) ?? {},
            result: parseJson(results.get(call.callId) ?? MISSING_TOOL_RESULT) ?? results.get(call.callId) ?? MISSING_TOOL_RESULT,
          };
          if (i === 0) item.startsNewChunk = true;
          response.response.push(item);
        });
        open = calls.length > 0 ? response : undefined;
        break;
      }
      case 'tool':
        // Placed with the call it answers.
        break;
    }
  }
  const last = history.at(-1);
  if (last?.type === 'model' && typeof last.response.at(-1) === 'string') {
    history.push({ type: 'model', response: [] });
  }
  return history;
}

/** The functions the model may call for this request, or undefined for none. */
export function chatFunctions(request: Pick<DialogueRequest, 'tools' | 'toolChoice'>): ChatModelFunctions | undefined {
  const { tools, toolChoice } = request;
  if (tools.length === 0 || toolChoice === 'none') return undefined;
  // node-llama-cpp cannot force a call: a named choice offers only that function, `required` offers all.
  const offered = typeof toolChoice === 'object' ? tools.filter((tool) => tool.name === toolChoice.name) : tools;
  if (offered.length === 0) return undefined;
  const functions: Record<string, ChatModelFunctions[string]> = {};
  for (const tool of offered) {
    functions[tool.name] = { description: tool.description, params: tool.parameters as ChatModelFunctions[string]['params'] };
  }
  return functions;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
