// Turns the Realtime conversation (items) into the text conversation a dialogue engine reads.
import type { RealtimeItem, RealtimeTool, ToolChoice } from '../../realtime/index.js';
import type { DialogueMessage, DialogueTool, DialogueToolChoice } from '../dialogue/dialogue.js';

/**
 * @param transcriptOf the engine's own transcript of a user audio item, when the item holds none
 *   (the session may not have asked for transcription events, but the dialogue still needs the words).
 */
export function dialogueMessages(
  items: readonly RealtimeItem[],
  transcriptOf: (itemId: string) => string | undefined,
): { messages: DialogueMessage[]; systemNotes: string[] } {
  const messages: DialogueMessage[] = [];
  const systemNotes: string[] = [];
  for (const item of items) {
    switch (item.type) {
      case 'message': {
        if (item.role === 'system') {
          systemNotes.push(item.content.map((c) => ('text' in c && typeof c.text === 'string' ? c.text : '')).join(' ').trim());
          break;
        }
        if (item.role === 'user') {
          const parts = item.content.map((c) => {
            if (c.type === 'input_text') return c.text;
            if (c.type === 'input_audio') return c.transcript ?? (item.id ? transcriptOf(item.id) : undefined) ?? '';
            return '';
          });
          const text = parts.join(' ').trim();
          if (text) messages.push({ role: 'user', content: text });
          break;
        }
        const text = item.content
          .map((c) => (c.type === 'output_text' ? c.text : c.type === 'output_audio' ? (c.transcript ?? '') : ''))
          .join(' ')
          .trim();
        if (text) messages.push({ role: 'assistant', content: text });
        break;
      }
      case 'function_call': {
        const call = { callId: item.call_id ?? item.id ?? '', name: item.name, arguments: item.arguments };
        const last = messages[messages.length - 1];
        if (last?.role === 'assistant') last.toolCalls = [...(last.toolCalls ?? []), call];
        else messages.push({ role: 'assistant', content: '', toolCalls: [call] });
        break;
      }
      case 'function_call_output':
        messages.push({ role: 'tool', toolCallId: item.call_id, content: item.output });
        break;
      default:
        break;
    }
  }
  return { messages, systemNotes: systemNotes.filter(Boolean) };
}

export function dialogueTools(tools: readonly RealtimeTool[]): DialogueTool[] {
  return tools.flatMap((tool) =>
    tool.type === 'function' || tool.type === undefined
      ? [{ name: tool.name, description: tool.description ?? '', parameters: (tool.parameters as Record<string, unknown> | undefined) ?? { type: 'object', properties: {} } }]
      : [],
  );
}

export function dialogueToolChoice(choice: ToolChoice): DialogueToolChoice {
  if (typeof choice === 'string') return choice;
  return choice.type === 'function' ? { type: 'function', name: choice.name } : 'auto';
}
