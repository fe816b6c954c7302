// The dialogue step on a local GGUF model through node-llama-cpp (llama.cpp's CPU build from npm).
// The model file is the user's: Koe never downloads one, and node-llama-cpp is told never to download or
// compile anything either.
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import type { ChatWrapper, Llama, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import type { Logger } from '../../../log/logger.js';
import type { DialogueEngine, DialogueEvent, DialogueRequest } from '../dialogue.js';
import { DialogueError, estimateTokens, verbatimLine } from '../dialogue.js';
import { StageOutput } from '../../stage.js';
import { chatFunctions, chatHistory } from './chat-history.js';
import { checkGgufFile } from './gguf-file.js';
import { LlamaLog } from './llama-log.js';
import { loadNodeLlamaCpp, type NodeLlamaCpp } from './node-llama-cpp-loader.js';
import { SequencePool } from './sequence-pool.js';

export interface GgufDialogueOptions {
  /** A `.gguf` file on this machine. */
  modelPath: string;
  /** Tokens the model sees at once (prompt + reply), per reply. Default: the model's own length, at most 4096. */
  contextSize?: number;
  /**
   * CPU threads per generation. Default: one less than llama.cpp's math cores (at least 1), so VAD,
   * speech recognition and synthesis keep a core: llama.cpp's threads spin while they wait for each other,
   * and on a busy 2-core machine two threads were measured 20–100× slower than one (see LLM.md).
   */
  threads?: number;
  /** Sampling temperature; 0 = always the likeliest token. Default 0.7. */
  temperature?: number;
  /** Cap on tokens per reply when the request sets none. Default 512. */
  maxTokens?: number;
  /** Replies generated at the same time; each holds its own KV cache. Default 1; more wait their turn. */
  sequences?: number;
  /** Tokens a reasoning model may think before it answers. Default 0: a caller cannot wait for thoughts. */
  thoughtTokens?: number;
  /** Sampling seed, for reproducible replies. */
  seed?: number;
  /** Where llama.cpp's warnings go (its errors also end up in the DialogueError). Default: nowhere. */
  log?: Logger;
  /** The package to import; tests pass a missing one. Default `node-llama-cpp`. */
  packageName?: string;
}

export interface GgufDialogue extends DialogueEngine {
  readonly info: {
    modelPath: string;
    /** Time to import node-llama-cpp, load the model and create its context. */
    loadMs: number;
    contextSize: number;
    threads: number;
    sequences: number;
    /** How node-llama-cpp formats the chat for this model (from its chat template), e.g. `ChatML`. */
    chatWrapper: string;
  };
}

export const DEFAULT_GGUF_MAX_TOKENS = 512;
const DEFAULT_CONTEXT_MAX = 4096;
const DEFAULT_TEMPERATURE = 0.7;

/** Loads the model and returns the engine; rejects with DialogueError `unavailable` naming what is missing. */
export async function createGgufDialogue(options: GgufDialogueOptions): Promise<GgufDialogue> {
  const startedAt = performance.now();
  validate(options);
  await checkGgufFile(options.modelPath);
  const lib = await loadNodeLlamaCpp(options.packageName);

  const llamaLog = new LlamaLog(options.log);
  let llama: Llama;
  try {
    llama = await lib.getLlama({
      gpu: false,
      build: 'never',
      usePrebuiltBinaries: true,
      skipDownload: true,
      progressLogs: false,
      logLevel: options.log?.isLevelEnabled('debug') ? lib.LlamaLogLevel.debug : lib.LlamaLogLevel.warn,
      logger: llamaLog.write,
    });
  } catch (error) {
    throw new DialogueError(`gguf: node-llama-cpp has no usable prebuilt binary here (Koe never builds one): ${(error as Error).message}`, 'unavailable', false, {
      cause: error,
    });
  }
  try {
    const model = await loadModel(llama, options.modelPath, llamaLog);
    const threads = options.threads ?? Math.max(1, llama.cpuMathCores - 1);
    const sequences = options.sequences ?? 1;
    const context = await createContext(model, options, threads, sequences);
    const wrapper = lib.resolveChatWrapper(model);
    const pool = new SequencePool(Array.from({ length: sequences }, () => context.getSequence()));
    const info = {
      modelPath: options.modelPath,
      loadMs: Math.round(performance.now() - startedAt),
      contextSize: context.contextSize,
      threads,
      sequences,
      chatWrapper: wrapper.wrapperName,
    };
    return new GgufEngine(lib, llama, context, wrapper, pool, options, info);
  } catch (error) {
    await llama.dispose();
    throw error;
  }
}

function validate(options: GgufDialogueOptions): void {
  if (!options.modelPath) throw new TypeError('gguf: modelPath is required');
  for (const key of ['contextSize', 'threads', 'maxTokens', 'sequences'] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new TypeError(`gguf: ${key} must be a positive integer, got ${value}`);
  }
  if (options.temperature !== undefined && !(options.temperature >= 0)) throw new TypeError(`gguf: temperature must be ≥ 0, got ${options.temperature}`);
}

async function loadModel(llama: Llama, modelPath: string, log: LlamaLog): Promise<LlamaModel> {
  log.clear();
  try {
    return await llama.loadModel({ modelPath, gpuLayers: 0 });
  } catch (error) {
    // llama.cpp's log lines reach JavaScript through a queue and may trail the rejection.
    await log.settled();
    const reason = log.reason();
    const detail = reason ? `${(error as Error).message}: ${reason}` : (error as Error).message;
    throw new DialogueError(`gguf: cannot load ${modelPath}: ${detail}`, 'unavailable', false, { cause: error });
  }
}

async function createContext(model: LlamaModel, options: GgufDialogueOptions, threads: number, sequences: number): Promise<LlamaContext> {
  try {
    return await model.createContext({
      contextSize: options.contextSize ?? { max: Math.min(DEFAULT_CONTEXT_MAX, model.trainContextSize) },
      threads,
      sequences,
    });
  } catch (error) {
    await model.dispose();
    throw new DialogueError(`gguf: cannot create a context for ${options.modelPath}: ${(error as Error).message}`, 'unavailable', false, { cause: error });
  }
}

class GgufEngine implements GgufDialogue {
  readonly name: string;
  readonly info: GgufDialogue['info'];
  readonly #lib: NodeLlamaCpp;
  readonly #llama: Llama;
  readonly #context: LlamaContext;
  readonly #wrapper: ChatWrapper;
  readonly #pool: SequencePool<LlamaContextSequence>;
  readonly #options: GgufDialogueOptions;
  /** Generations in flight, so close() can stop them before freeing the model under them. */
  readonly #running = new Map<AbortController, Promise<void>>();
  #closing: Promise<void> | undefined;

  constructor(
    lib: NodeLlamaCpp,
    llama: Llama,
    context: LlamaContext,
    wrapper: ChatWrapper,
    pool: SequencePool<LlamaContextSequence>,
    options: GgufDialogueOptions,
    info: GgufDialogue['info'],
  ) {
    this.#lib = lib;
    this.#llama = llama;
    this.#context = context;
    this.#wrapper = wrapper;
    this.#pool = pool;
    this.#options = options;
    this.info = info;
    this.name = `gguf:${basename(options.modelPath).replace(/\.gguf$/i, '')}`;
  }

  respond(request: DialogueRequest): AsyncIterable<DialogueEvent> {
    const controller = new AbortController();
    // Leaving the loop early stops the generation: nobody would hear it.
    const output = new StageOutput<DialogueEvent>(() => controller.abort());
    if (this.#closing) {
      output.fail(closedError());
      return output;
    }
    const run = this.#generate(request, controller, output)
      .catch((error: unknown) => output.fail(dialogueErrorFrom(error)))
      .finally(() => this.#running.delete(controller));
    this.#running.set(controller, run);
    return output;
  }

  async #generate(request: DialogueRequest, controller: AbortController, output: StageOutput<DialogueEvent>): Promise<void> {
    const signal = AbortSignal.any([request.signal, controller.signal]);
    if (signal.aborted) return output.end();
    const line = verbatimLine(request.metadata);
    if (line !== undefined) {
      output.push({ type: 'text.delta', delta: line });
      output.push({ type: 'done', usage: { inputTokens: 0, outputTokens: estimateTokens(line) } });
      return output.end();
    }

    let sequence: LlamaContextSequence;
    try {
      sequence = await this.#pool.acquire(signal);
    } catch (error) {
      return this.#settleFailure(error, request, controller, output);
    }
    // Each reply gets a fresh chat on a reused sequence: node-llama-cpp keeps the tokens the new prompt
    // shares with the previous one (same instructions, same earlier turns) and evaluates only the rest.
    let chat: InstanceType<NodeLlamaCpp['LlamaChat']> | undefined;
    try {
      chat = new this.#lib.LlamaChat({ contextSequence: sequence, chatWrapper: this.#wrapper });
      const before = sequence.tokenMeter.getState();
      const functions = chatFunctions(request);
      const history = chatHistory(request.instructions, request.messages);
      const temperature = this.#options.temperature ?? DEFAULT_TEMPERATURE;
      const result = await chat.generateResponse(history, {
        signal,
        onTextChunk: (text) => {
          if (text !== '') output.push({ type: 'text.delta', delta: text });
        },
        maxTokens: request.maxOutputTokens ?? this.#options.maxTokens ?? DEFAULT_GGUF_MAX_TOKENS,
        temperature,
        ...(this.#options.seed !== undefined ? { seed: this.#options.seed } : {}),
        budgets: { thoughtTokens: this.#options.thoughtTokens ?? 0 },
        ...(functions ? { functions } : {}),
      });
      if (signal.aborted) return output.end();
      for (const call of result.functionCalls ?? []) {
        output.push({
          type: 'function_call',
          call: { callId: `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`, name: call.functionName, arguments: JSON.stringify(call.params ?? {}) },
        });
      }
      const used = sequence.tokenMeter.diff(before);
      const outputTokens = used.usedOutputTokens;
      // The prompt as the model saw it, including the part reused from the previous reply.
      const inputTokens = Math.max(0, sequence.contextTokens.length - outputTokens);
      output.push({ type: 'done', usage: { inputTokens, outputTokens } });
      output.end();
    } catch (error) {
      this.#settleFailure(error, request, controller, output);
    } finally {
      chat?.dispose({ disposeSequence: false });
      this.#pool.release(sequence);
    }
  }

  #settleFailure(error: unknown, request: DialogueRequest, controller: AbortController, output: StageOutput<DialogueEvent>): void {
    if (request.signal.aborted) return output.end();
    if (this.#closing) return output.fail(closedError(error));
    if (controller.signal.aborted) return output.end();
    output.fail(dialogueErrorFrom(error));
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#pool.close(closedError());
      for (const controller of this.#running.keys()) controller.abort();
      await Promise.allSettled(this.#running.values());
      await this.#context.dispose();
      await this.#llama.dispose();
    })();
    return this.#closing;
  }
}

function closedError(cause?: unknown): DialogueError {
  return new DialogueError('gguf: the engine was closed', 'unavailable', false, cause === undefined ? undefined : { cause });
}

function dialogueErrorFrom(error: unknown): DialogueError {
  if (error instanceof DialogueError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // The conversation (or its instructions) does not fit the context even after node-llama-cpp drops old turns.
  if (/context size|context shift|too long/i.test(message)) return new DialogueError(`gguf: ${message}`, 'bad_request', false, { cause: error });
  return new DialogueError(`gguf: generation failed: ${message}`, 'internal', true, { cause: error });
}
