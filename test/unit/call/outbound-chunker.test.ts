import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OutboundChunker } from '../../../src/call/outbound-chunker.js';

describe('OutboundChunker', () => {
  test('sends whole 20 ms frames at once, at most maxChunkMs per message, and keeps the remainder', () => {
    const c = new OutboundChunker({ maxChunkMs: 100 });
    const out = c.push('item_A', new Uint8Array(1000)); // 125 ms
    assert.deepEqual(out.map((o) => o.audio.length), [800, 160]);
    assert.deepEqual(out.map((o) => o.durationMs), [100, 20]);
    // 40 bytes left over; 120 more make one more frame.
    const next = c.push('item_A', new Uint8Array(120));
    assert.deepEqual(next.map((o) => o.audio.length), [160]);
    assert.deepEqual(c.flush(), []);
  });

  test('flush sends a partial frame at the end of an item', () => {
    const c = new OutboundChunker();
    assert.deepEqual(c.push('item_A', new Uint8Array(100)), []);
    const tail = c.flush();
    assert.equal(tail.length, 1);
    assert.equal(tail[0]?.audio.length, 100);
    assert.equal(tail[0]?.itemId, 'item_A');
  });

  test('a new item flushes the previous item first, keeping byte order', () => {
    const c = new OutboundChunker();
    c.push('item_A', Uint8Array.from({ length: 50 }, () => 1));
    const out = c.push('item_B', Uint8Array.from({ length: 160 }, () => 2));
    assert.deepEqual(out.map((o) => [o.itemId, o.audio.length, o.audio[0]]), [['item_A', 50, 1], ['item_B', 160, 2]]);
  });

  test('reset drops unsent audio', () => {
    const c = new OutboundChunker();
    c.push('item_A', new Uint8Array(100));
    c.reset();
    assert.deepEqual(c.flush(), []);
  });
});
