// What the caller has actually heard, from Twilio's mark acknowledgements — never from wall-clock guesses.
//
// Every outbound audio chunk is followed by a mark. Twilio echoes a mark once all audio queued before it
// has played, or at once when a `clear` discards it. So marks are counted as heard only while they belong
// to the current generation; `clear()` starts a new generation and forgets every pending mark, which makes
// the echoes Twilio sends for the discarded audio harmless.

export interface ItemPlayback {
  /** Milliseconds of this item's audio the model has produced (what a truncate may not exceed). */
  receivedMs: number;
  /** Milliseconds sent to Twilio. */
  sentMs: number;
  /** Milliseconds acknowledged by a mark of the current generation: what the caller heard. */
  heardMs: number;
}

interface PendingMark {
  name: string;
  /** The assistant item the chunk belongs to; undefined for audio that is not a model item (DTMF, apology). */
  itemId: string | undefined;
  /** The item's sent position after this chunk, ms. */
  itemSentMs: number;
}

export interface MarkAck {
  itemId: string | undefined;
  heardMs: number;
}

export class PlaybackTracker {
  #generation = 0;
  #sequence = 0;
  #pending: PendingMark[] = [];
  readonly #items = new Map<string, ItemPlayback>();
  #drainWaiters: Array<() => void> = [];

  get generation(): number {
    return this.#generation;
  }

  /** True while some audio sent to Twilio has not been acknowledged: the caller may be hearing the agent. */
  get audible(): boolean {
    return this.#pending.length > 0;
  }

  /** Items with audio still queued at Twilio, oldest first (normally one: the reply being played). */
  itemsInPlayback(): string[] {
    const ids: string[] = [];
    for (const mark of this.#pending) {
      if (mark.itemId !== undefined && !ids.includes(mark.itemId)) ids.push(mark.itemId);
    }
    return ids;
  }

  item(itemId: string): Readonly<ItemPlayback> | undefined {
    return this.#items.get(itemId);
  }

  recordReceived(itemId: string, ms: number): void {
    this.#itemOf(itemId).receivedMs += ms;
  }

  /** Registers a chunk just sent and returns the name of the mark to send right after it. */
  recordSent(itemId: string | undefined, ms: number): string {
    let itemSentMs = 0;
    if (itemId !== undefined) {
      const item = this.#itemOf(itemId);
      item.sentMs += ms;
      itemSentMs = item.sentMs;
    }
    this.#sequence += 1;
    const name = `koe:${this.#generation}:${this.#sequence}`;
    this.#pending.push({ name, itemId, itemSentMs });
    return name;
  }

  /**
   * Handles a mark echoed by Twilio. Marks play in order, so an echo also acknowledges every earlier
   * pending mark. Returns undefined for stale or unknown marks (from before a clear, or not ours).
   */
  acknowledge(name: string): MarkAck | undefined {
    const index = this.#pending.findIndex((m) => m.name === name);
    if (index < 0) return undefined;
    const acknowledged = this.#pending.splice(0, index + 1);
    let last: MarkAck | undefined;
    for (const mark of acknowledged) {
      if (mark.itemId === undefined) continue;
      const item = this.#itemOf(mark.itemId);
      item.heardMs = Math.max(item.heardMs, mark.itemSentMs);
      last = { itemId: mark.itemId, heardMs: item.heardMs };
    }
    if (this.#pending.length === 0) this.#notifyDrained();
    return last ?? { itemId: undefined, heardMs: 0 };
  }

  /** Twilio was told to `clear`: nothing pending will be heard. Returns the items that were cut. */
  clear(): Array<{ itemId: string } & ItemPlayback> {
    const cut = this.itemsInPlayback().map((itemId) => ({ itemId, ...(this.#items.get(itemId) as ItemPlayback) }));
    this.#generation += 1;
    this.#pending = [];
    this.#notifyDrained();
    return cut;
  }

  /** Resolves once nothing sent is left unacknowledged. */
  whenDrained(): Promise<void> {
    if (this.#pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #itemOf(itemId: string): ItemPlayback {
    let item = this.#items.get(itemId);
    if (!item) {
      item = { receivedMs: 0, sentMs: 0, heardMs: 0 };
      this.#items.set(itemId, item);
    }
    return item;
  }

  #notifyDrained(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
