// Picks the engine's dialogue step from configuration: a local GGUF model, an OpenAI-compatible
// chat-completions endpoint, or the embedded engine that needs no model at all.
import type { Config } from '../../config/index.js';
import type { Logger } from '../../log/logger.js';
import { createChatCompletionsDialogue } from './chat-completions/index.js';
import type { DialogueEngine } from './dialogue.js';
import { EmbeddedDialogueEngine } from './embedded/index.js';
import { createGgufDialogue } from './gguf/index.js';

export async function selectDialogue(llm: Config['llm'], log: Logger): Promise<DialogueEngine> {
  switch (llm.kind) {
    case 'embedded':
      return new EmbeddedDialogueEngine();
    case 'chat-completions':
      return createChatCompletionsDialogue({
        baseUrl: llm.baseUrl,
        model: llm.model,
        timeoutMs: llm.timeoutMs,
        ...(llm.apiKey ? { apiKey: llm.apiKey } : {}),
        ...(llm.temperature === undefined ? {} : { temperature: llm.temperature }),
      });
    case 'gguf':
      return createGgufDialogue({
        modelPath: llm.modelPath,
        maxTokens: llm.maxTokens,
        log: log.child({ component: 'llama' }),
        ...(llm.contextSize === undefined ? {} : { contextSize: llm.contextSize }),
        ...(llm.threads === undefined ? {} : { threads: llm.threads }),
        ...(llm.temperature === undefined ? {} : { temperature: llm.temperature }),
      });
  }
}
