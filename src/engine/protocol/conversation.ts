// The default conversation of a session: its items in order, where new ones go (`previous_item_id`,
// `"root"`), retrieval, deletion, and truncation of assistant audio (realtime.md §b.7) against the
// milliseconds of audio each assistant item really carried. Input audio is not kept in items.

import { newRealtimeId, type ItemReference, type RealtimeItem } from '../../realtime/index.js';
import { protocolErrors, type ProtocolError } from './errors.js';

interface StoredItem {
  item: RealtimeItem;
  /** Assistant audio generated for the item, ms: what truncation is checked against. */
  audioMs: number;
}

export type ConversationResult<T> = ({ ok: true } & T) | { ok: false; error: ProtocolError };

export class Conversation {
  readonly id = newRealtimeId('conv');
  readonly #items: StoredItem[] = [];

  /** The live items (not copies). */
  get items(): RealtimeItem[] {
    return this.#items.map((stored) => stored.item);
  }

  get lastItemId(): string | null {
    return this.#items[this.#items.length - 1]?.item.id ?? null;
  }

  find(itemId: string): RealtimeItem | undefined {
    return this.#stored(itemId)?.item;
  }

  /** The id of the item before `itemId`; null when it is first or no longer there. */
  previousIdOf(itemId: string): string | null {
    const index = this.#indexOf(itemId);
    return index > 0 ? (this.#items[index - 1]?.item.id ?? null) : null;
  }

  /** Adds an item the server made at the end; returns the previous item's id. The item is stored as is. */
  append(item: RealtimeItem): string | null {
    const previous = this.lastItemId;
    this.#items.push({ item, audioMs: 0 });
    return previous;
  }

  /**
   * `conversation.item.create`: a copy of `item` goes after `previousItemId` (`"root"`: first; absent:
   * last), with an id and a status when the client left them out.
   */
  create(item: RealtimeItem, previousItemId: string | undefined): ConversationResult<{ item: RealtimeItem; previousItemId: string | null }> {
    const created = structuredClone(item);
    if ('id' in created && created.id !== undefined && this.#stored(created.id)) {
      return { ok: false, error: protocolErrors.itemExists(created.id) };
    }
    let index = this.#items.length;
    if (previousItemId === 'root') index = 0;
    else if (previousItemId !== undefined) {
      const found = this.#indexOf(previousItemId);
      if (found < 0) return { ok: false, error: protocolErrors.previousItemNotFound(previousItemId) };
      index = found + 1;
    }
    if (created.id === undefined) created.id = newRealtimeId('item');
    if ('status' in created || created.type === 'message' || created.type === 'function_call' || created.type === 'function_call_output') {
      (created as { status?: string }).status ??= 'completed';
    }
    const previous = index === 0 ? null : (this.#items[index - 1]?.item.id ?? null);
    this.#items.splice(index, 0, { item: created, audioMs: 0 });
    return { ok: true, item: created, previousItemId: previous };
  }

  delete(itemId: string): boolean {
    const index = this.#indexOf(itemId);
    if (index < 0) return false;
    this.#items.splice(index, 1);
    return true;
  }

  /** Counts assistant audio generated for an item (no-op for items not in the conversation). */
  addAudioMs(itemId: string, ms: number): void {
    const stored = this.#stored(itemId);
    if (stored) stored.audioMs += ms;
  }

  audioMsOf(itemId: string): number | undefined {
    return this.#stored(itemId)?.audioMs;
  }

  /**
   * `conversation.item.truncate`: the item's audio ends at `audioEndMs` and its transcript becomes
   * `remaining(item)` (what was heard; `""` drops it, as the service does).
   */
  truncate(
    itemId: string,
    contentIndex: number,
    audioEndMs: number,
    remaining: (item: RealtimeItem) => string | undefined,
  ): ConversationResult<object> {
    const stored = this.#stored(itemId);
    if (!stored) return { ok: false, error: protocolErrors.truncateItemNotFound(itemId) };
    const { item } = stored;
    const content = item.type === 'message' && item.role === 'assistant' ? item.content[contentIndex] : undefined;
    if (!content || content.type !== 'output_audio') return { ok: false, error: protocolErrors.truncateNotAudio() };
    if (audioEndMs > stored.audioMs) return { ok: false, error: protocolErrors.truncatePastEnd(stored.audioMs, audioEndMs) };
    stored.audioMs = audioEndMs;
    content.transcript = remaining(structuredClone(item)) ?? '';
    return { ok: true };
  }

  /** `response.create.response.input`: copies of the items, references replaced by the items they name. */
  resolveInput(input: readonly (RealtimeItem | ItemReference)[]): ConversationResult<{ items: RealtimeItem[] }> {
    const items: RealtimeItem[] = [];
    for (const [index, entry] of input.entries()) {
      if (entry.type !== 'item_reference') {
        items.push(structuredClone(entry));
        continue;
      }
      const found = this.find(entry.id);
      if (!found) return { ok: false, error: protocolErrors.inputItemNotFound(index, entry.id) };
      items.push(structuredClone(found));
    }
    return { ok: true, items };
  }

  #indexOf(itemId: string): number {
    return this.#items.findIndex((stored) => stored.item.id === itemId);
  }

  #stored(itemId: string): StoredItem | undefined {
    return this.#items.find((stored) => stored.item.id === itemId);
  }
}
