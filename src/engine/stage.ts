// The contract every engine stage (VAD, STT, TTS, later the LLM) follows, so the engine can swap
// implementations: input is pushed, output is read as an async iterable, and the lifecycle is explicit.

/**
 * One stage stream, tied to one call or one reply.
 *
 * - `push` adds input. It never blocks; heavy work runs elsewhere and shows up as output.
 * - `flush` marks a boundary (end of an utterance, end of a text run) without ending the stream.
 * - `end` says no more input will come; iteration finishes once the remaining output is delivered.
 * - `abort` drops pending work and ends iteration at once. Results that arrive later are discarded.
 * - `close` releases what the stream holds and implies `abort` if the stream is still running.
 *   It is idempotent and safe from any state.
 *
 * Misuse (push after end, a second iterator) throws at once. Failures of one unit of work
 * (one utterance, one sentence) are output events; a failure of the whole stream rejects the iteration.
 */
export interface StageStream<In, Out> extends AsyncIterable<Out> {
  push(input: In): void;
  flush(): void;
  end(): void;
  abort(): void;
  close(): void;
  readonly status: StageStatus;
}

/** `open` takes input; `ending` delivers what is left; `done` delivers nothing more. */
export type StageStatus = 'open' | 'ending' | 'done';

export type StageErrorCode =
  /** A library, model or package is missing; the message names what to install. */
  | 'unavailable'
  /** The input itself is unusable (bad grammar, empty text, wrong sample rate). */
  | 'bad_input'
  /** The worker thread running the stage died; the pool replaces it. */
  | 'worker_crashed'
  /** The work was aborted by the caller. */
  | 'aborted'
  /** The stage or its pool was closed. */
  | 'closed'
  | 'internal';

/** The one error type stages raise or report. `retryable` says whether trying again may succeed. */
export class StageError extends Error {
  readonly code: StageErrorCode;
  readonly retryable: boolean;

  constructor(code: StageErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StageError';
    this.code = code;
    this.retryable = options.retryable ?? code === 'worker_crashed';
  }
}

/** The plain shape a StageError takes when it crosses a worker boundary. */
export interface StageErrorData {
  code: StageErrorCode;
  message: string;
  retryable: boolean;
}

export function stageErrorData(error: unknown): StageErrorData {
  if (error instanceof StageError) return { code: error.code, message: error.message, retryable: error.retryable };
  return { code: 'internal', message: error instanceof Error ? error.message : String(error), retryable: false };
}

export function stageErrorFromData(data: StageErrorData): StageError {
  return new StageError(data.code, data.message, { retryable: data.retryable });
}

/**
 * The output side of a stage: a single-consumer async queue. The stage pushes items; the consumer
 * iterates. Leaving a `for await` loop early counts as the consumer going away and calls `onConsumerExit`,
 * so a stage can stop working for nobody.
 */
export class StageOutput<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #waiter: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
  #state: 'open' | 'ended' | 'aborted' = 'open';
  #failure: unknown;
  #iterated = false;
  readonly #onConsumerExit: (() => void) | undefined;

  constructor(onConsumerExit?: () => void) {
    this.#onConsumerExit = onConsumerExit;
  }

  /** True once `end`, `fail` or `abort` was called: later pushes are dropped. */
  get finished(): boolean {
    return this.#state !== 'open';
  }

  push(item: T): void {
    if (this.#state !== 'open') return;
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.resolve({ value: item, done: false });
      return;
    }
    this.#items.push(item);
  }

  /** Ends iteration after the buffered items. */
  end(): void {
    if (this.#state !== 'open') return;
    this.#state = 'ended';
    this.#settleWaiter();
  }

  /** Ends iteration after the buffered items with this error. */
  fail(error: unknown): void {
    if (this.#state !== 'open') return;
    this.#state = 'ended';
    this.#failure = error;
    this.#settleWaiter();
  }

  /** Drops buffered items and ends iteration now. */
  abort(): void {
    if (this.#state === 'aborted') return;
    this.#state = 'aborted';
    this.#items.length = 0;
    this.#failure = undefined;
    this.#settleWaiter();
  }

  #settleWaiter(): void {
    if (!this.#waiter || this.#items.length > 0) return;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (this.#failure !== undefined) {
      const failure = this.#failure;
      this.#failure = undefined;
      waiter.reject(failure);
    } else {
      waiter.resolve({ value: undefined, done: true });
    }
  }

  #next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift() as T, done: false });
    if (this.#state !== 'open') {
      if (this.#failure !== undefined) {
        const failure = this.#failure;
        this.#failure = undefined;
        return Promise.reject(failure);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.#waiter) throw new Error('StageOutput: next() called again before the previous call settled');
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterated) throw new Error('a stage stream has a single consumer: it was already iterated');
    this.#iterated = true;
    return {
      next: () => this.#next(),
      return: () => {
        if (this.#state === 'open') this.#onConsumerExit?.();
        this.abort();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
