// A small pool of worker threads, each owning one heavy native or wasm instance (a pocketsphinx decoder,
// a Flite module). Work that blocks for tens or hundreds of milliseconds runs there instead of on the
// event loop that carries live calls. A worker that dies is replaced; its in-flight task fails as retryable.
import { parentPort, workerData, type TransferListItem, type Worker } from 'node:worker_threads';
import { startModuleWorker } from '../workers/module-worker.js';
import { StageError, stageErrorData, stageErrorFromData, type StageErrorData } from './stage.js';

export { workerEntry } from '../workers/module-worker.js';

export interface WorkerPoolOptions {
  /** Appears in error messages: "pocketsphinx worker …". */
  name: string;
  /** The worker module. Use `workerEntry(import.meta.url, 'file-stem')`. */
  entry: URL;
  size: number;
  workerData?: unknown;
  /** How long a worker may take to load its model before start fails. */
  readyTimeoutMs?: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  transfer?: readonly TransferListItem[];
}

type FromWorker<Res> =
  | { type: 'ready' }
  | { type: 'init_failed'; error: StageErrorData }
  | { type: 'result'; id: number; result: Res }
  | { type: 'error'; id: number; error: StageErrorData };

interface Task<Req, Res> {
  id: number;
  request: Req;
  transfer: readonly TransferListItem[];
  resolve: (result: Res) => void;
  reject: (error: unknown) => void;
  /** Set once the caller got its answer (abort, close); a late worker reply is then dropped. */
  settled: boolean;
  detachSignal: () => void;
}

interface Slot<Req, Res> {
  worker: Worker | undefined;
  state: 'starting' | 'idle' | 'busy' | 'dead';
  task: Task<Req, Res> | undefined;
}

const SHUTDOWN_GRACE_MS = 2_000;

export class WorkerPool<Req, Res> {
  readonly #options: Required<Omit<WorkerPoolOptions, 'workerData'>> & { workerData: unknown };
  readonly #slots: Slot<Req, Res>[] = [];
  readonly #queue: Task<Req, Res>[] = [];
  #nextId = 1;
  #closing: Promise<void> | undefined;
  #restarts = 0;

  private constructor(options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new RangeError(`${options.name} pool size must be a positive integer, got ${options.size}`);
    }
    this.#options = { readyTimeoutMs: 30_000, workerData: undefined, ...options };
  }

  /** Starts every worker and resolves once all have loaded, or rejects with the first load failure. */
  static async start<Req, Res>(options: WorkerPoolOptions): Promise<WorkerPool<Req, Res>> {
    const pool = new WorkerPool<Req, Res>(options);
    const starts: Promise<void>[] = [];
    for (let i = 0; i < options.size; i++) {
      const slot: Slot<Req, Res> = { worker: undefined, state: 'dead', task: undefined };
      pool.#slots.push(slot);
      starts.push(pool.#startSlot(slot));
    }
    const results = await Promise.allSettled(starts);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await pool.close();
      throw failure.reason;
    }
    return pool;
  }

  /** How many workers were replaced after dying. */
  get restarts(): number {
    return this.#restarts;
  }

  get size(): number {
    return this.#slots.length;
  }

  run(request: Req, options: RunOptions = {}): Promise<Res> {
    if (this.#closing) return Promise.reject(new StageError('closed', `${this.#options.name} pool is closed`));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(new StageError('aborted', `${this.#options.name} task aborted`));
    return new Promise<Res>((resolve, reject) => {
      const task: Task<Req, Res> = {
        id: this.#nextId++,
        request,
        transfer: options.transfer ?? [],
        resolve,
        reject,
        settled: false,
        detachSignal: () => undefined,
      };
      if (signal) {
        const onAbort = (): void => this.#abortTask(task);
        signal.addEventListener('abort', onAbort, { once: true });
        task.detachSignal = () => signal.removeEventListener('abort', onAbort);
      }
      this.#queue.push(task);
      this.#dispatch();
    });
  }

  /** Terminates every worker. Queued and running tasks reject with code `closed`. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const closed = new StageError('closed', `${this.#options.name} pool is closed`);
    for (const task of this.#queue.splice(0)) this.#settle(task, closed);
    const exits: Promise<unknown>[] = [];
    for (const slot of this.#slots) {
      if (slot.task) this.#settle(slot.task, closed);
      slot.task = undefined;
      slot.state = 'dead';
      const worker = slot.worker;
      slot.worker = undefined;
      if (worker) exits.push(this.#shutdown(worker));
    }
    await Promise.allSettled(exits);
  }

  /**
   * Asks the worker to free its native instance and exit; a worker stuck in a long native call past the
   * grace period is terminated (its native memory then goes with the process).
   */
  #shutdown(worker: Worker): Promise<unknown> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => void worker.terminate(), SHUTDOWN_GRACE_MS);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
      worker.ref();
      worker.postMessage({ type: 'shutdown' });
    });
  }

  #abortTask(task: Task<Req, Res>): void {
    const queued = this.#queue.indexOf(task);
    if (queued >= 0) this.#queue.splice(queued, 1);
    // A running task cannot be interrupted inside native code; its worker stays busy until it answers,
    // and that answer is dropped.
    this.#settle(task, new StageError('aborted', `${this.#options.name} task aborted`));
  }

  #settle(task: Task<Req, Res>, error: unknown, result?: Res): void {
    if (task.settled) return;
    task.settled = true;
    task.detachSignal();
    if (error === undefined) task.resolve(result as Res);
    else task.reject(error);
  }

  #dispatch(): void {
    if (this.#closing) return;
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (slot.state === 'dead') {
        slot.state = 'starting';
        this.#startSlot(slot).catch((error: unknown) => this.#onStartFailure(error));
        continue;
      }
      if (slot.state !== 'idle' || !slot.worker) continue;
      const task = this.#queue.shift() as Task<Req, Res>;
      slot.state = 'busy';
      slot.task = task;
      slot.worker.ref();
      slot.worker.postMessage({ type: 'task', id: task.id, request: task.request }, task.transfer);
    }
  }

  #onStartFailure(error: unknown): void {
    // With no worker left able to serve, queued callers get the load error rather than waiting forever.
    if (this.#slots.some((s) => s.state === 'idle' || s.state === 'busy' || s.state === 'starting')) return;
    for (const task of this.#queue.splice(0)) this.#settle(task, error);
  }

  #startSlot(slot: Slot<Req, Res>): Promise<void> {
    slot.state = 'starting';
    const worker = startModuleWorker(this.#options.entry, this.#options.workerData);
    slot.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      let initError: StageError | undefined;
      const timer = setTimeout(() => {
        fail(new StageError('unavailable', `${this.#options.name} worker did not start within ${this.#options.readyTimeoutMs} ms`));
        void worker.terminate();
      }, this.#options.readyTimeoutMs);
      const fail = (error: StageError): void => {
        clearTimeout(timer);
        if (slot.worker === worker) {
          slot.worker = undefined;
          slot.state = 'dead';
        }
        initError ??= error;
        reject(error);
      };

      worker.on('message', (message: FromWorker<Res>) => {
        switch (message.type) {
          case 'ready':
            ready = true;
            clearTimeout(timer);
            if (this.#closing || slot.worker !== worker) {
              void worker.terminate();
              resolve();
              return;
            }
            slot.state = 'idle';
            worker.unref();
            resolve();
            this.#dispatch();
            return;
          case 'init_failed':
            fail(stageErrorFromData(message.error));
            void worker.terminate();
            return;
          case 'result':
          case 'error':
            this.#onAnswer(slot, worker, message);
            return;
        }
      });
      // An uncaught exception ends the worker; 'exit' follows and does the bookkeeping.
      worker.on('error', () => undefined);
      worker.on('exit', (code) => {
        if (!ready) {
          fail(initError ?? new StageError('unavailable', `${this.#options.name} worker exited with code ${code} while starting`));
          return;
        }
        this.#onWorkerExit(slot, worker, code);
      });
    });
  }

  #onAnswer(slot: Slot<Req, Res>, worker: Worker, message: FromWorker<Res>): void {
    if (slot.worker !== worker) return;
    const task = slot.task;
    slot.task = undefined;
    slot.state = 'idle';
    worker.unref();
    if (task && (message.type === 'result' || message.type === 'error') && message.id === task.id) {
      if (message.type === 'result') this.#settle(task, undefined, message.result);
      else this.#settle(task, stageErrorFromData(message.error));
    }
    this.#dispatch();
  }

  #onWorkerExit(slot: Slot<Req, Res>, worker: Worker, code: number): void {
    if (slot.worker !== worker || this.#closing) return;
    slot.worker = undefined;
    slot.state = 'dead';
    const task = slot.task;
    slot.task = undefined;
    if (task) {
      this.#settle(task, new StageError('worker_crashed', `${this.#options.name} worker exited with code ${code} during a task`));
    }
    this.#restarts += 1;
    slot.state = 'starting';
    this.#startSlot(slot).then(
      () => undefined,
      (error: unknown) => this.#onStartFailure(error),
    );
  }
}

/** What a worker's request handler returns: the result, and buffers to move rather than copy. */
export interface WorkerAnswer<Res> {
  result: Res;
  transfer?: readonly TransferListItem[];
}

/** What a worker's `init` returns: the request handler, and how to free the instance before exiting. */
export interface WorkerService<Req, Res> {
  handle: (request: Req) => WorkerAnswer<Res>;
  dispose?: () => void;
}

type ToWorker<Req> = { type: 'task'; id: number; request: Req } | { type: 'shutdown' };

/**
 * The worker side. `init` loads the heavy instance once; a throw from `init` is reported as a load
 * failure, a throw from `handle` as that task's error. On shutdown `dispose` runs, then the thread exits.
 */
export function serveWorker<Req, Res, Data = unknown>(init: (data: Data) => Promise<WorkerService<Req, Res>> | WorkerService<Req, Res>): void {
  const port = parentPort;
  if (!port) throw new Error('serveWorker must run inside a worker thread');
  Promise.resolve()
    .then(() => init(workerData as Data))
    .then(
      (service) => {
        port.on('message', (message: ToWorker<Req>) => {
          if (message.type === 'shutdown') {
            try {
              service.dispose?.();
            } finally {
              // In a worker thread this ends the thread only.
              process.exit(0);
            }
          }
          try {
            const answer = service.handle(message.request);
            port.postMessage({ type: 'result', id: message.id, result: answer.result }, answer.transfer ?? []);
          } catch (error) {
            port.postMessage({ type: 'error', id: message.id, error: stageErrorData(error) });
          }
        });
        port.postMessage({ type: 'ready' });
      },
      (error: unknown) => {
        port.postMessage({ type: 'init_failed', error: stageErrorData(error) });
      },
    );
}
