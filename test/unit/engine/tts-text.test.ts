import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SentenceSplitter, toFliteText } from '../../../src/engine/tts/index.js';

function splitStreamed(text: string, pieceChars: number): string[] {
  const splitter = new SentenceSplitter();
  const sentences: string[] = [];
  for (let i = 0; i < text.length; i += pieceChars) sentences.push(...splitter.push(text.slice(i, i + pieceChars)));
  return [...sentences, ...splitter.flush()];
}

describe('SentenceSplitter', () => {
  const reply = 'Sure! Dr. Smith sees patients at 9.30 a.m. on Mondays. Is that OK? "Yes," she said. Great…\nAnything else';

  test('splits at sentence ends, not at abbreviations, initials or decimals', () => {
    assert.deepEqual(splitStreamed(reply, reply.length), [
      'Sure!',
      'Dr. Smith sees patients at 9.30 a.m. on Mondays.',
      'Is that OK?',
      '"Yes," she said.',
      'Great…',
      'Anything else',
    ]);
    assert.deepEqual(splitStreamed('I spoke to J. R. Smith today. Bye.', 100), ['I spoke to J. R. Smith today.', 'Bye.']);
  });

  test('gives the same sentences however the text is streamed', () => {
    for (const piece of [1, 2, 3, 7, 16]) assert.deepEqual(splitStreamed(reply, piece), splitStreamed(reply, reply.length), `pieces of ${piece}`);
  });

  test('a sentence is released only once the next one begins (or on flush)', () => {
    const splitter = new SentenceSplitter();
    assert.deepEqual(splitter.push('Hello there.'), []);
    assert.deepEqual(splitter.push(' How'), ['Hello there.']);
    assert.deepEqual(splitter.flush(), ['How']);
    assert.deepEqual(splitter.flush(), []);
  });

  test('run-on text is cut at a comma or a space before maxChars, and empty sentences are dropped', () => {
    const splitter = new SentenceSplitter({ maxChars: 40 });
    const sentences = splitter.push('this goes on and on, without any stop at all and it keeps going further ');
    assert.ok(sentences.length >= 1);
    for (const sentence of [...sentences, ...splitter.flush()]) assert.ok(sentence.length <= 40, sentence);
    assert.deepEqual(new SentenceSplitter().push('... ** \n'), []);
  });
});

describe('toFliteText', () => {
  test('turns model output into plain ASCII Flite can speak', () => {
    assert.equal(toFliteText('**Great** — it’s “done”…'), 'Great , it\'s "done"...');
    assert.equal(toFliteText('- Café costs 5 € & more'), 'Cafe costs 5 euros and more');
    assert.equal(toFliteText('See [our site](https://example.com) or `call us`.'), 'See our site or call us.');
    assert.equal(toFliteText('-5 degrees'), '-5 degrees');
    assert.equal(toFliteText('日本語'), '');
  });
});
