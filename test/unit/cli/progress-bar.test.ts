// The campaign progress line: bar, share, count, calls in flight and outcomes, in the order they read.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderProgress, terminalShowsUtf8 } from '../../../src/cli/progress-bar.js';

describe('renderProgress', () => {
  test('the example line: bar, percent, count, calling, outcomes in order', () => {
    assert.equal(
      renderProgress({ done: 120, inFlight: 3, total: 200, width: 10, outcomes: { 'no-answer': 18, answered: 90, busy: 12 } }),
      '[██████░░░░] 60% 120/200 · 3 calling · answered 90 busy 12 no-answer 18',
    );
  });

  test('nothing in flight and no outcomes yet leaves those parts out', () => {
    assert.equal(renderProgress({ done: 0, inFlight: 0, total: 5, width: 5, outcomes: {} }), '[░░░░░] 0% 0/5');
    assert.equal(
      renderProgress({ done: 0, inFlight: 0, total: 5, width: 5, outcomes: { answered: 0, busy: 0, voicemail: 0 } }),
      '[░░░░░] 0% 0/5',
    );
  });

  test('100% and a full bar only when every contact is done', () => {
    assert.equal(renderProgress({ done: 199, inFlight: 1, total: 200, width: 10, outcomes: {} }), '[█████████░] 99% 199/200 · 1 calling');
    assert.equal(
      renderProgress({ done: 200, inFlight: 0, total: 200, width: 10, outcomes: { answered: 150, voicemail: 10, failed: 2, canceled: 38 } }),
      '[██████████] 100% 200/200 · answered 150 voicemail 10 failed 2 canceled 38',
    );
  });

  test('an empty campaign, and counts out of range, do not break the bar', () => {
    assert.equal(renderProgress({ done: 0, inFlight: 0, total: 0, width: 4, outcomes: {} }), '[░░░░] 0% 0/0');
    assert.equal(renderProgress({ done: 12, inFlight: 0, total: 10, width: 4, outcomes: {} }), '[████] 100% 10/10');
    assert.equal(renderProgress({ done: -3, inFlight: 0, total: 10, width: 0, outcomes: {} }), '[░] 0% 0/10');
  });

  test('ASCII fallback', () => {
    assert.equal(renderProgress({ done: 1, inFlight: 2, total: 4, width: 8, outcomes: { busy: 1 }, ascii: true }), '[##------] 25% 1/4 · 2 calling · busy 1');
  });

  test('UTF-8 terminals are told by the locale', () => {
    assert.equal(terminalShowsUtf8({ LANG: 'en_US.UTF-8' }, 'linux'), true);
    assert.equal(terminalShowsUtf8({ LC_ALL: 'C', LANG: 'en_US.UTF-8' }, 'linux'), false);
    assert.equal(terminalShowsUtf8({ LANG: 'ja_JP.utf8' }, 'darwin'), true);
    assert.equal(terminalShowsUtf8({ LANG: 'C' }, 'win32'), true);
  });
});
