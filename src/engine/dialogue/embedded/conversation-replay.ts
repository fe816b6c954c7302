// Rebuilding the dialogue state from the conversation. Each request carries the whole conversation and
// nothing else, so the engine replays it through the policy: every earlier caller turn (and tool result)
// is decided again, silently, which restores the pending slot question, the filled slots, the
// misunderstanding count and the reply rotation exactly as they were. What the agent actually said is
// taken from the assistant messages (it may have been cut short by a barge-in, or come from elsewhere).
// Classifications are memoised per plan, so a replay costs microseconds per earlier turn.
import type { DialogueMessage, DialogueToolCall } from '../dialogue.js';
import { type ConversationState, type Decision, type ToolResult, type TurnPolicy, initialState } from './turn-policy.js';

export type ConversationTail =
  /** The caller spoke last (consecutive user messages are one turn: the replies between them were cancelled). */
  | { kind: 'user'; utterance: string }
  /** Tool results came back last. */
  | { kind: 'tools'; results: ToolResult[] }
  /** Nothing new since the agent last spoke (or nothing at all). */
  | { kind: 'none' };

export async function replayConversation(
  policy: TurnPolicy,
  messages: readonly DialogueMessage[],
): Promise<{ state: ConversationState; tail: ConversationTail }> {
  const state = initialState();
  const callNames = new Map<string, string>();
  let userText: string[] = [];
  let toolResults: ToolResult[] = [];

  const settle = async (): Promise<Decision | undefined> => {
    let decision: Decision | undefined;
    if (toolResults.length > 0) decision = policy.onToolResults(state, toolResults);
    if (userText.length > 0) decision = await policy.onUserTurn(state, userText.join(' '));
    userText = [];
    toolResults = [];
    return decision;
  };

  for (const message of messages) {
    switch (message.role) {
      case 'user':
        if (toolResults.length > 0) await settle();
        if (message.content.trim() !== '') userText.push(message.content.trim());
        break;
      case 'tool':
        if (userText.length > 0) await settle();
        toolResults.push(toolResult(message.toolCallId, message.content, callNames));
        break;
      case 'assistant': {
        const decision = await settle();
        if (message.content.trim() !== '') state.lastReply = message.content.trim();
        for (const call of message.toolCalls ?? []) callNames.set(call.callId, call.name);
        // Tool calls the replay did not plan (another engine wrote this turn) have no intent to follow up.
        if (decision !== undefined && !sameCalls(decision, message.toolCalls)) state.toolIntent = undefined;
        break;
      }
    }
  }
  if (userText.length > 0) return { state, tail: { kind: 'user', utterance: userText.join(' ') } };
  if (toolResults.length > 0) return { state, tail: { kind: 'tools', results: toolResults } };
  return { state, tail: { kind: 'none' } };
}

function toolResult(callId: string, content: string, callNames: ReadonlyMap<string, string>): ToolResult {
  let output: unknown = content;
  try {
    output = JSON.parse(content);
  } catch {
    // Plain text output.
  }
  const failed =
    output !== null && typeof output === 'object' && !Array.isArray(output) && ('error' in output || (output as { ok?: unknown }).ok === false);
  return { name: callNames.get(callId) ?? '', ok: !failed, output, raw: content };
}

function sameCalls(decision: Decision, calls: readonly DialogueToolCall[] | undefined): boolean {
  const names = (calls ?? []).map((c) => c.name).sort();
  const planned = decision.calls.map((c) => c.name).sort();
  return names.length === planned.length && names.every((n, i) => n === planned[i]);
}
