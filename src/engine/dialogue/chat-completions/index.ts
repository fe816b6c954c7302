export { createChatCompletionsDialogue, DEFAULT_CHAT_TIMEOUT_MS, type ChatCompletionsDialogueOptions } from './chat-completions-dialogue.js';
export { chatCompletionsBody, chatMessages, MISSING_TOOL_RESULT, type ChatCompletionsBody, type ChatMessage } from './chat-request.js';
