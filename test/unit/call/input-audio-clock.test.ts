import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputAudioClock } from '../../../src/call/input-audio-clock.js';

test('InputAudioClock maps model audio positions back to arrival times', () => {
  const clock = new InputAudioClock();
  clock.record(20, 1000);
  clock.record(20, 1021);
  clock.record(1000, 1100); // a buffered second flushed at once
  assert.equal(clock.appendedMs, 1040);
  assert.equal(clock.arrivalOf(0), 1000);
  assert.equal(clock.arrivalOf(25), 1021);
  assert.equal(clock.arrivalOf(500), 1100);
  assert.equal(clock.arrivalOf(1040), undefined, 'not appended yet');
  assert.equal(clock.arrivalOf(-5), undefined);
});
