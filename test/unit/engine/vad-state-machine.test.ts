import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VadStateMachine, resolveVadOptions, type VadEvent, type VadOptions } from '../../../src/engine/vad/vad-state-machine.js';

const FRAME_MS = 32;

/** Feeds one probability per 32 ms frame; returns the events with the frame index that produced them. */
function run(probabilities: readonly number[], options: Partial<VadOptions> = {}): { frame: number; event: VadEvent }[] {
  const machine = new VadStateMachine(options);
  const events: { frame: number; event: VadEvent }[] = [];
  probabilities.forEach((probability, frame) => {
    const event = machine.push({ startMs: frame * FRAME_MS, durationMs: FRAME_MS, probability });
    if (event) events.push({ frame, event });
  });
  return events;
}

const frames = (count: number, probability: number): number[] => new Array<number>(count).fill(probability);

describe('VadStateMachine', () => {
  test('a turn: started after the minimum speech, stopped after the silence, with padding and times', () => {
    const options = { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 320, minSpeechMs: 96 };
    const events = run([...frames(20, 0.05), ...frames(30, 0.9), ...frames(20, 0.05)], options);
    assert.deepEqual(events, [
      // Onset at frame 20 (640 ms); confirmed when 96 ms of speech have passed, at the end of frame 22.
      { frame: 22, event: { type: 'speech_started', audioStartMs: 640 - 300, speechStartMs: 640 } },
      // Silence from frame 50 (1600 ms); 320 ms of it have passed at the end of frame 59.
      { frame: 59, event: { type: 'speech_stopped', audioEndMs: 1920, speechEndMs: 1600 } },
    ]);
  });

  test('blips shorter than the minimum speech duration are ignored', () => {
    const events = run([...frames(10, 0), 0.9, 0.9, ...frames(10, 0), 0.95, ...frames(10, 0)], { minSpeechMs: 100 });
    assert.deepEqual(events, []);
  });

  test('pauses shorter than the silence duration do not end the turn', () => {
    const options = { silenceDurationMs: 500, minSpeechMs: 0 };
    const events = run([...frames(10, 0.9), ...frames(12, 0), ...frames(10, 0.9), ...frames(20, 0)], options);
    assert.deepEqual(
      events.map((e) => e.event.type),
      ['speech_started', 'speech_stopped'],
    );
  });

  test('scores between the two thresholds hold the current state (hysteresis)', () => {
    const options = { threshold: 0.5, negThreshold: 0.3, silenceDurationMs: 96, minSpeechMs: 0 };
    // 0.4 neither starts a turn nor ends one.
    assert.deepEqual(run(frames(20, 0.4), options), []);
    const events = run([...frames(3, 0.9), ...frames(20, 0.4), ...frames(3, 0.1)], options);
    assert.deepEqual(
      events.map((e) => [e.frame, e.event.type]),
      [
        [0, 'speech_started'],
        [25, 'speech_stopped'],
      ],
    );
  });

  test('prefix padding never reaches before the previous turn or the start of audio', () => {
    const options = { prefixPaddingMs: 1000, silenceDurationMs: 64, minSpeechMs: 0 };
    const events = run([...frames(3, 0), ...frames(5, 0.9), ...frames(4, 0), ...frames(5, 0.9), ...frames(4, 0)], options);
    const starts = events.filter((e) => e.event.type === 'speech_started').map((e) => e.event);
    const stops = events.filter((e) => e.event.type === 'speech_stopped').map((e) => e.event);
    assert.deepEqual(starts[0], { type: 'speech_started', audioStartMs: 0, speechStartMs: 96 });
    assert.equal(stops[0]?.type === 'speech_stopped' ? stops[0].audioEndMs : -1, 10 * FRAME_MS);
    assert.deepEqual(starts[1], { type: 'speech_started', audioStartMs: 10 * FRAME_MS, speechStartMs: 12 * FRAME_MS });
  });

  test('finish closes an open turn; reset drops it silently', () => {
    const machine = new VadStateMachine({ minSpeechMs: 0 });
    machine.push({ startMs: 0, durationMs: 32, probability: 1 });
    assert.equal(machine.inSpeech, true);
    assert.deepEqual(machine.finish(500), { type: 'speech_stopped', audioEndMs: 500, speechEndMs: 500 });
    assert.equal(machine.state, 'quiet');
    assert.equal(machine.finish(600), undefined);
    machine.push({ startMs: 600, durationMs: 32, probability: 1 });
    machine.reset(700);
    assert.equal(machine.state, 'quiet');
    const restarted = machine.push({ startMs: 700, durationMs: 32, probability: 1 });
    assert.deepEqual(restarted, { type: 'speech_started', audioStartMs: 700, speechStartMs: 700 });
  });

  test('rejects impossible options at construction', () => {
    assert.throws(() => resolveVadOptions({ threshold: 0 }), RangeError);
    assert.throws(() => resolveVadOptions({ threshold: 1.5 }), RangeError);
    assert.throws(() => resolveVadOptions({ threshold: 0.5, negThreshold: 0.7 }), RangeError);
    assert.throws(() => resolveVadOptions({ silenceDurationMs: 0 }), RangeError);
    assert.throws(() => resolveVadOptions({ prefixPaddingMs: -1 }), RangeError);
    assert.deepEqual(resolveVadOptions({ threshold: 0.1 }).negThreshold, 0.01);
  });
});
