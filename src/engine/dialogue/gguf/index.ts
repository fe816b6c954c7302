export { createGgufDialogue, DEFAULT_GGUF_MAX_TOKENS, type GgufDialogue, type GgufDialogueOptions } from './gguf-dialogue.js';
export { chatFunctions, chatHistory } from './chat-history.js';
export { checkGgufFile } from './gguf-file.js';
export { loadNodeLlamaCpp } from './node-llama-cpp-loader.js';
