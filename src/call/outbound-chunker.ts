// Shapes model audio into Twilio media messages: whole 20 ms μ-law frames, at most `maxChunkMs` per message.
// Model deltas come in arbitrary sizes; tiny irregular fragments make Twilio playback jitter at word starts,
// and one huge message would make marks too coarse to know what was heard at barge-in.

export const MULAW_BYTES_PER_MS = 8;
const FRAME_BYTES = 160;

export interface OutboundChunk {
  itemId: string | undefined;
  audio: Buffer;
  durationMs: number;
}

export class OutboundChunker {
  readonly #maxChunkBytes: number;
  #itemId: string | undefined;
  #remainder: Buffer = Buffer.alloc(0);

  constructor(opts: { maxChunkMs?: number } = {}) {
    const maxChunkMs = opts.maxChunkMs ?? 100;
    this.#maxChunkBytes = Math.max(FRAME_BYTES, Math.floor((maxChunkMs * MULAW_BYTES_PER_MS) / FRAME_BYTES) * FRAME_BYTES);
  }

  /** Adds audio for an item; returns the chunks ready to send now (whole frames only). */
  push(itemId: string | undefined, audio: Uint8Array): OutboundChunk[] {
    const out: OutboundChunk[] = [];
    if (itemId !== this.#itemId) {
      out.push(...this.flush());
      this.#itemId = itemId;
    }
    const data = this.#remainder.length > 0 ? Buffer.concat([this.#remainder, audio]) : Buffer.from(audio);
    const whole = data.length - (data.length % FRAME_BYTES);
    for (let offset = 0; offset < whole; offset += this.#maxChunkBytes) {
      const end = Math.min(whole, offset + this.#maxChunkBytes);
      out.push(this.#chunk(data.subarray(offset, end)));
    }
    this.#remainder = Buffer.from(data.subarray(whole));
    return out;
  }

  /** Sends what is left of the current item (at the end of its audio), even if not a whole frame. */
  flush(): OutboundChunk[] {
    if (this.#remainder.length === 0) return [];
    const chunk = this.#chunk(this.#remainder);
    this.#remainder = Buffer.alloc(0);
    return [chunk];
  }

  /** Drops anything not yet sent (barge-in). */
  reset(): void {
    this.#remainder = Buffer.alloc(0);
    this.#itemId = undefined;
  }

  #chunk(audio: Buffer): OutboundChunk {
    return { itemId: this.#itemId, audio, durationMs: audio.length / MULAW_BYTES_PER_MS };
  }
}
