import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { DialogueMessage } from '../../../../src/engine/dialogue/dialogue.js';
import { EmbeddedDialogueEngine } from '../../../../src/engine/dialogue/embedded/index.js';
import { readChoice, readDate, readDigits, readFreeText, readNumber, readYesNo, speakDigits } from '../../../../src/engine/dialogue/embedded/slot-values.js';
import { Conversation, runTurn, sampleAgent } from './_embedded.js';

const engine = new EmbeddedDialogueEngine();
after(() => engine.close());
const receptionist = sampleAgent('receptionist');

describe('reading slot values from recognised speech', () => {
  test('digits: words and numerals alike, doubles, tens, homophones only next to digits', () => {
    assert.equal(readDigits('four five six'), '456');
    assert.equal(readDigits('456'), '456');
    assert.equal(readDigits('my number is five five five um one two three four'), '5551234');
    assert.equal(readDigits('double five oh nine'), '5509');
    assert.equal(readDigits('one eight hundred'), '1800');
    assert.equal(readDigits('twenty one forty'), '2140');
    assert.equal(readDigits('five for to eight'), '5428');
    assert.equal(readDigits('i want to go for a walk'), undefined, '"to" and "for" alone are words');
    assert.equal(readDigits('press star one pound'), '*1#');
    assert.equal(readDigits('it is 555-0199'), '5550199');
  });

  test('yes/no: variants, negations, the recogniser\'s "know" for "no", Japanese', () => {
    for (const yes of ['yes', 'yeah sure', 'yep that is right', 'of course', 'okay go ahead', 'yes please', 'はい、お願いします']) assert.equal(readYesNo(yes), 'yes', yes);
    for (const no of ['no', 'nope', 'no thank you', "i'm good thanks", 'not really', 'know', 'いいえ、結構です']) assert.equal(readYesNo(no), 'no', no);
    for (const neither of ['not sure', 'maybe', 'the blue one', "i don't know"]) assert.equal(readYesNo(neither), undefined, neither);
  });

  test('numbers, dates, choices, free text', () => {
    assert.equal(readNumber('twenty five'), 25);
    assert.equal(readNumber('a hundred and five'), 105);
    assert.equal(readNumber('a table for 3'), 3);
    assert.equal(readNumber('a couple of us'), 2);
    assert.equal(readNumber('for'), 4, 'alone, "for" is the number');
    assert.equal(readDate('how about tomorrow afternoon'), 'tomorrow afternoon');
    assert.equal(readDate('next monday please'), 'next Monday');
    assert.equal(readDate('on the fifth of may'), 'May 5');
    assert.equal(readDate('the 12th'), 'the 12th');
    assert.equal(readDate('on wednesdays'), 'Wednesday');
    assert.equal(readDate('来週の月曜日'), '来週の月曜日');
    assert.equal(readDate('no idea'), undefined);
    const sizes = [
      { value: 'small', synonyms: ['small', 'little'] },
      { value: 'large', synonyms: ['large', 'big one'] },
    ];
    assert.equal(readChoice('the big one please', sizes), 'large');
    assert.equal(readChoice('a little one', sizes), 'small');
    assert.equal(readChoice('medium', sizes), undefined);
    assert.equal(readFreeText("um my name's john smith", 'name'), 'John Smith');
    assert.equal(readFreeText('it is about my bill', 'reason'), 'it is about my bill');
  });

  test('digits are spoken one by one, grouped like phone numbers', () => {
    assert.equal(speakDigits('5551234'), '5 5 5, 1 2 3 4');
    assert.equal(speakDigits('5551234567'), '5 5 5, 1 2 3, 4 5 6 7');
    assert.equal(speakDigits('*1#'), 'star 1 pound');
  });
});

const BOOKING = [
  'You are the booking line of Luigi Trattoria.',
  '```koe-script',
  'intents:',
  '  - name: book_table',
  '    examples: [I would like to book a table, can I reserve a table, table for tonight]',
  '    keywords: [book a table, reservation, reserve]',
  '    slots: [party, day, seating, name, phone, confirm]',
  '    replies: ["Booked, {name}: a {seating} table for {party} {day}. We will text {phone}."]',
  '    tool:',
  '      name: create_booking',
  '      arguments: { people: "{party}", day: "{day}", seating: "{seating}", phone: "{phone}" }',
  'slots:',
  '  party: { type: number, prompt: How many people?, retry: "Sorry, how many people will there be?" }',
  '  day: { type: date, prompt: Which day? }',
  '  seating:',
  '    type: enum',
  '    prompt: Inside or on the terrace?',
  '    values: { inside: [indoors, in], terrace: [outside, outdoors, patio] }',
  '  confirm: { type: yes_no, prompt: "Shall I book it?" }',
  '```',
].join('\n');
const createBooking = {
  name: 'create_booking',
  description: 'Create a booking.',
  parameters: { type: 'object', properties: {}, required: [] },
};

describe('slot filling across turns (state from the conversation only)', () => {
  test('a full booking: values in the request fill at once, the rest are asked in order, tool arguments raw', async () => {
    const conversation = new Conversation(engine, { instructions: BOOKING, tools: [createBooking] });
    assert.equal((await conversation.say('hi can i book a table for four tomorrow')).text, 'Inside or on the terrace?');
    assert.equal((await conversation.say('outside please')).text, 'Sure. May I have your name, please?');
    assert.equal((await conversation.say('it is maria')).text, "Thank you, Maria. What's the best number to call you back on?");
    assert.equal((await conversation.say('oh seven seven double oh nine one two three four five')).text, 'Shall I book it?');
    const booked = await conversation.say('yes');
    assert.equal(booked.text, 'Booked, Maria: a terrace table for 4 tomorrow. We will text 0 7 7, 0 0 9 1, 2 3 4 5.');
    assert.deepEqual(JSON.parse(booked.calls[0]?.arguments ?? ''), { people: '4', day: 'tomorrow', seating: 'terrace', phone: '07700912345' });
  });

  test('an unreadable answer is asked again with the retry line; "sorry what?" repeats and keeps the question', async () => {
    const conversation = new Conversation(engine, { instructions: BOOKING, tools: [createBooking] });
    assert.equal((await conversation.say('i would like to book a table')).text, 'How many people?');
    assert.equal((await conversation.say('um the usual')).text, 'Sorry, how many people will there be?');
    assert.equal((await conversation.say('sorry what')).text, 'Sure. Sorry, how many people will there be?');
    assert.equal((await conversation.say('six')).text, 'Which day?');
  });

  test('after three unreadable answers the form is dropped for the escalation offer', async () => {
    const conversation = new Conversation(engine, { instructions: BOOKING, tools: [] });
    await conversation.say('i would like to book a table');
    await conversation.say('blue');
    await conversation.say('green');
    const third = await conversation.say('yellow');
    assert.match(third.text, /having trouble understanding/);
  });

  test('a phone number read in chunks is put together', async () => {
    const conversation = new Conversation(engine, { instructions: receptionist.instructions, tools: receptionist.tools });
    await conversation.say('can i leave a message');
    await conversation.say('peter');
    assert.equal((await conversation.say('five five five')).text, 'Okay, go on.');
    assert.equal((await conversation.say('two one two')).text, 'Mm-hm, and then?');
    assert.equal((await conversation.say('three four five six')).text, 'And what is it regarding?');
    const done = await conversation.say('my appointment on friday');
    assert.match(done.text, /call you back on 5 5 5, 2 1 2, 3 4 5 6\./);
  });

  test("keys pressed on the phone (Koe's keypad note) answer a number question, and mean nothing elsewhere", async () => {
    const conversation = new Conversation(engine, { instructions: receptionist.instructions, tools: receptionist.tools });
    await conversation.say('can i leave a message');
    await conversation.say('ann');
    assert.equal((await conversation.say('The caller pressed 5551234567# on the phone keypad.')).text, 'And what is it regarding?');
    assert.match((await conversation.say('my cleaning')).text, /call you back on 5 5 5, 1 2 3, 4 5 6 7\./);
    const stray = await runTurn(engine, {
      instructions: receptionist.instructions,
      tools: receptionist.tools,
      messages: [{ role: 'user', content: 'The caller pressed 1 on the phone keypad.' }],
    });
    assert.deepEqual(stray.calls, [], 'not read as "press one"');
  });

  test('"never mind" drops the form; a goodbye mid-form ends the call', async () => {
    const cancel = new Conversation(engine, { instructions: BOOKING, tools: [createBooking] });
    await cancel.say('i would like to book a table');
    assert.equal((await cancel.say('never mind')).text, 'No problem. Is there anything else I can help you with?');
    const bye = new Conversation(engine, { instructions: receptionist.instructions, tools: receptionist.tools });
    await bye.say('i want to leave a message');
    assert.deepEqual((await bye.say('bye')).calls.map((c) => c.name), ['hang_up']);
  });

  test('the state survives replies cut short by barge-in and consecutive caller turns (a cancelled reply)', async () => {
    const messages: DialogueMessage[] = [
      { role: 'assistant', content: 'Thank you for calling Luigi Trattoria.' },
      { role: 'user', content: 'i would like to book a table' },
      { role: 'assistant', content: 'How many' }, // cut by barge-in: the prompt was only partly heard
      { role: 'user', content: 'three' },
      { role: 'user', content: 'people' }, // the reply to "three" was cancelled: one turn
    ];
    const result = await runTurn(engine, { instructions: BOOKING, tools: [createBooking], messages });
    assert.equal(result.text, 'Which day?');
  });
});
