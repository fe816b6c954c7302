// node-llama-cpp is an optional peer dependency: it is imported only when a GGUF engine is created, so
// Koe installs and runs without it.
import type * as NodeLlamaCppModule from 'node-llama-cpp';
import { DialogueError } from '../dialogue.js';

export type NodeLlamaCpp = typeof NodeLlamaCppModule;

/** @param specifier the package to import; tests pass a missing one. */
export async function loadNodeLlamaCpp(specifier = 'node-llama-cpp'): Promise<NodeLlamaCpp> {
  try {
    return (await import(specifier)) as NodeLlamaCpp;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${specifier}'`)) {
      throw new DialogueError(
        `gguf: the local model engine needs the optional package ${specifier}: run \`npm install ${specifier}\``,
        'unavailable',
        false,
        { cause: error },
      );
    }
    throw new DialogueError(`gguf: ${specifier} is installed but failed to load: ${message}`, 'unavailable', false, { cause: error });
  }
}
