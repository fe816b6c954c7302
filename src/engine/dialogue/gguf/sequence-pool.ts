// Hands out a fixed set of resources (the context's sequences) one request at a time; requests beyond
// them wait their turn, and a wait ends at once when its signal aborts.

interface Waiter<T> {
  resolve: (item: T) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

export class SequencePool<T> {
  readonly #free: T[];
  readonly #waiters: Waiter<T>[] = [];
  #closedWith: Error | undefined;

  constructor(items: readonly T[]) {
    this.#free = [...items];
  }

  /** Rejects with the signal's reason when it aborts first, or with the close error. */
  acquire(signal: AbortSignal): Promise<T> {
    if (this.#closedWith) return Promise.reject(this.#closedWith);
    if (signal.aborted) return Promise.reject(signal.reason as unknown);
    const item = this.#free.pop();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const at = this.#waiters.indexOf(waiter);
          if (at >= 0) this.#waiters.splice(at, 1);
          reject(signal.reason as unknown);
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  release(item: T): void {
    const waiter = this.#waiters.shift();
    if (!waiter) {
      this.#free.push(item);
      return;
    }
    waiter.signal.removeEventListener('abort', waiter.onAbort);
    waiter.resolve(item);
  }

  /** Fails every waiting request and any later one. */
  close(error: Error): void {
    this.#closedWith = error;
    for (const waiter of this.#waiters.splice(0)) {
      waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.reject(error);
    }
  }
}
