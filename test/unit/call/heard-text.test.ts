import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { estimateHeardText } from '../../../src/call/heard-text.js';

describe('estimateHeardText', () => {
  const text = 'Our opening hours are nine to six on weekdays.';
  test('whole text when fully heard, empty when nothing heard', () => {
    assert.equal(estimateHeardText(text, 3000, 3000), text);
    assert.equal(estimateHeardText(text, 0, 3000), '');
  });
  test('cuts proportionally at a word boundary, never mid-word', () => {
    const heard = estimateHeardText(text, 1500, 3000);
    assert.ok(text.startsWith(heard));
    assert.equal(heard, 'Our opening hours are');
    assert.ok(!heard.endsWith(' '));
  });
  test('Japanese is cut by character', () => {
    assert.equal(estimateHeardText('お電話ありがとうございます', 500, 1300), 'お電話あり'); // 13 characters × 500/1300 = 5
  });
});
