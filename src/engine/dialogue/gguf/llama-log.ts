// llama.cpp explains a failed load only in its log ("tensor … data is not within the file bounds"), while
// node-llama-cpp's error says just "Failed to load model". The log is kept here so errors can quote it,
// and passed to Koe's logger instead of the console.
import type { Logger } from '../../../log/logger.js';

type LlamaLogLevelName = 'disabled' | 'fatal' | 'error' | 'warn' | 'info' | 'log' | 'debug';

const KEPT_LINES = 8;

export class LlamaLog {
  readonly #log: Logger | undefined;
  readonly #recent: string[] = [];

  constructor(log: Logger | undefined) {
    this.#log = log;
  }

  /** For getLlama's `logger` option. */
  readonly write = (level: LlamaLogLevelName, message: string): void => {
    const text = message.trim();
    if (text === '') return;
    if (level === 'fatal' || level === 'error' || level === 'warn') {
      this.#recent.push(text);
      if (this.#recent.length > KEPT_LINES) this.#recent.shift();
    }
    if (level === 'fatal' || level === 'error') this.#log?.error({ llama: level }, text);
    else if (level === 'warn') this.#log?.warn({ llama: level }, text);
    else this.#log?.debug({ llama: level }, text);
  };

  /** The most telling recent line, for an error message. */
  reason(): string | undefined {
    const newestFirst = [...this.#recent].reverse();
    return (
      newestFirst.find((line) => /corrupt|invalid|unknown|not within|unsupported|error loading model/i.test(line)) ??
      newestFirst.find((line) => /error|fail/i.test(line)) ??
      newestFirst[0]
    );
  }

  /** Lets log lines still queued from native code arrive. */
  async settled(): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  clear(): void {
    this.#recent.length = 0;
  }
}
