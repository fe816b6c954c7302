import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StageError, StageOutput, stageErrorData, stageErrorFromData } from '../../../src/engine/stage.js';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe('StageOutput', () => {
  test('delivers items pushed before and during iteration, then ends', async () => {
    const output = new StageOutput<number>();
    output.push(1);
    const collected = collect(output);
    output.push(2);
    await Promise.resolve();
    output.push(3);
    output.end();
    output.push(4);
    assert.deepEqual(await collected, [1, 2, 3]);
  });

  test('abort drops buffered items and ends a waiting consumer', async () => {
    const output = new StageOutput<number>();
    output.push(1);
    output.abort();
    assert.deepEqual(await collect(output), []);
    const other = new StageOutput<number>();
    const waiting = collect(other);
    other.abort();
    assert.deepEqual(await waiting, []);
  });

  test('fail rejects the iteration after the buffered items', async () => {
    const output = new StageOutput<number>();
    output.push(1);
    output.fail(new StageError('internal', 'boom'));
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const item of output) seen.push(item);
      })(),
      /boom/,
    );
    assert.deepEqual(seen, [1]);
  });

  test('has a single consumer', () => {
    const output = new StageOutput<number>();
    output[Symbol.asyncIterator]();
    assert.throws(() => output[Symbol.asyncIterator](), /single consumer/);
  });

  test('a consumer leaving early is reported once, and later pushes are dropped', async () => {
    let exits = 0;
    const output = new StageOutput<number>(() => exits++);
    output.push(1);
    output.push(2);
    for await (const item of output) {
      assert.equal(item, 1);
      break;
    }
    assert.equal(exits, 1);
    assert.equal(output.finished, true);
  });

  test('StageError crosses a worker boundary as plain data', () => {
    const original = new StageError('worker_crashed', 'gone');
    assert.equal(original.retryable, true);
    const copy = stageErrorFromData(stageErrorData(original));
    assert.deepEqual([copy.code, copy.message, copy.retryable], ['worker_crashed', 'gone', true]);
    assert.deepEqual(stageErrorData(new Error('plain')), { code: 'internal', message: 'plain', retryable: false });
  });
});
