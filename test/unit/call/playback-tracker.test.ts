import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PlaybackTracker } from '../../../src/call/playback-tracker.js';

describe('PlaybackTracker', () => {
  test('heard ms advance only with acknowledged marks, in order', () => {
    const t = new PlaybackTracker();
    t.recordReceived('item_A', 300);
    const m1 = t.recordSent('item_A', 100);
    const m2 = t.recordSent('item_A', 100);
    const m3 = t.recordSent('item_A', 100);
    assert.equal(t.audible, true);
    assert.deepEqual(t.item('item_A'), { receivedMs: 300, sentMs: 300, heardMs: 0 });
    assert.deepEqual(t.acknowledge(m1), { itemId: 'item_A', heardMs: 100 });
    // An echo acknowledges every earlier mark too (Twilio plays in order).
    assert.deepEqual(t.acknowledge(m3), { itemId: 'item_A', heardMs: 300 });
    assert.equal(t.acknowledge(m2), undefined, 'already acknowledged');
    assert.equal(t.audible, false);
  });

  test('marks echoed after a clear are stale and never count as heard', () => {
    const t = new PlaybackTracker();
    const m1 = t.recordSent('item_A', 100);
    const m2 = t.recordSent('item_A', 100);
    t.acknowledge(m1);
    const cut = t.clear();
    assert.deepEqual(cut, [{ itemId: 'item_A', receivedMs: 0, sentMs: 200, heardMs: 100 }]);
    // Twilio echoes pending marks on clear: they must not move heardMs.
    assert.equal(t.acknowledge(m2), undefined);
    assert.equal(t.item('item_A')?.heardMs, 100);
    assert.equal(t.audible, false);
    // New marks carry the new generation.
    const m3 = t.recordSent('item_B', 50);
    assert.match(m3, /^koe:1:/);
    assert.equal(t.acknowledge(m3)?.heardMs, 50);
  });

  test('itemsInPlayback lists items with unacknowledged audio; non-item audio has no item', () => {
    const t = new PlaybackTracker();
    const a = t.recordSent('item_A', 100);
    t.recordSent(undefined, 200); // DTMF tones
    t.recordSent('item_B', 100);
    assert.deepEqual(t.itemsInPlayback(), ['item_A', 'item_B']);
    t.acknowledge(a);
    assert.deepEqual(t.itemsInPlayback(), ['item_B']);
  });

  test('whenDrained resolves when the last pending mark is acknowledged or cleared', async () => {
    const t = new PlaybackTracker();
    await t.whenDrained(); // nothing pending: resolves at once
    const m = t.recordSent('item_A', 20);
    let drained = false;
    const p = t.whenDrained().then(() => (drained = true));
    await Promise.resolve();
    assert.equal(drained, false);
    t.acknowledge(m);
    await p;
    assert.equal(drained, true);
    t.recordSent('item_A', 20);
    const p2 = t.whenDrained();
    t.clear();
    await p2;
  });
});
