import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { DialogueMessage } from '../../../../src/engine/dialogue/dialogue.js';
import { readAgentProfile } from '../../../../src/engine/dialogue/embedded/agent-profile.js';
import { EmbeddedDialogueEngine } from '../../../../src/engine/dialogue/embedded/index.js';
import { Conversation, runTurn, sampleAgent } from './_embedded.js';

const engine = new EmbeddedDialogueEngine();
after(() => engine.close());
const receptionist = sampleAgent('receptionist');
const onayami = sampleAgent('onayami');

async function reply(utterance: string, options: { tools?: typeof receptionist.tools; instructions?: string; language?: string } = {}) {
  return runTurn(engine, {
    instructions: options.instructions ?? receptionist.instructions,
    tools: options.tools ?? receptionist.tools,
    messages: [{ role: 'user', content: utterance }],
    ...(options.language !== undefined ? { language: options.language } : {}),
  });
}

describe('reading the agent from its instructions', () => {
  test('the sample receptionist: role, organisation, opening hours, not a counselling line', () => {
    const profile = readAgentProfile(receptionist.instructions, 'en');
    assert.equal(profile.role, 'receptionist');
    assert.equal(profile.organisation, 'Sakura Dental Clinic');
    assert.equal(profile.openingHours, 'Monday to Friday, 9 am to 6 pm');
    assert.equal(profile.style, 'receptionist');
    assert.equal(profile.language, 'en');
    assert.deepEqual(profile.emergencyContacts, []);
  });

  test('other phrasings: a name, "for", adjectives joined by "and", hours in a sentence', () => {
    const profile = readAgentProfile(
      'You are Mia, a warm and professional assistant for Acme Plumbing. We are open weekdays from 8 a.m. to 5 p.m.',
      undefined,
    );
    assert.equal(profile.name, 'Mia');
    assert.equal(profile.role, 'assistant');
    assert.equal(profile.organisation, 'Acme Plumbing');
    assert.equal(profile.openingHours, 'weekdays from 8 am to 5 pm');
  });

  test('the sample Japanese agent: organisation from 「」, role, Japanese, counselling', () => {
    const profile = readAgentProfile(onayami.instructions, 'ja');
    assert.equal(profile.organisation, 'お悩み相談室');
    assert.equal(profile.role, '相談員');
    assert.equal(profile.language, 'ja');
    assert.equal(profile.style, 'counselling');
  });
});

describe('generic intents (sample receptionist, noisy English)', () => {
  test('greeting', async () => {
    assert.equal((await reply('hello')).text, 'Hello, this is Sakura Dental Clinic. How can I help you today?');
    assert.match((await reply('could morning')).text, /^Hello/);
  });

  test('goodbye: says goodbye, then calls hang_up after the text', async () => {
    const result = await reply("okay that's all thanks by");
    assert.equal(result.text, 'Thank you for calling. Goodbye!');
    assert.deepEqual(result.calls.map((c) => [c.name, JSON.parse(c.arguments)]), [['hang_up', { reason: 'the caller said goodbye' }]]);
    const kinds = result.events.map((e) => e.type);
    assert.deepEqual(kinds, ['text.delta', 'text.delta', 'function_call', 'done']);
  });

  test('goodbye without a hang_up tool: says goodbye only', async () => {
    const result = await reply('goodbye', { tools: [] });
    assert.equal(result.text, 'Thank you for calling. Goodbye!');
    assert.deepEqual(result.calls, []);
  });

  test('asking for a human: transfer when offered', async () => {
    const result = await reply('can i speak to a real purse in');
    assert.equal(result.text, 'Of course. Let me put you through to a colleague now.');
    assert.deepEqual(result.calls.map((c) => [c.name, JSON.parse(c.arguments)]), [['transfer', { reason: 'the caller asked for a person' }]]);
  });

  test('asking for a human without transfer: offers a message; yes takes it', async () => {
    const conversation = new Conversation(engine, { instructions: receptionist.instructions, tools: [] });
    const offer = await conversation.say('operator');
    assert.match(offer.text, /can't put you through right now, but I can take a message/);
    assert.deepEqual(offer.calls, []);
    assert.equal((await conversation.say('yes please')).text, 'Sure. May I have your name, please?');
  });

  test('a transfer with several destinations asks which one, then transfers there', async () => {
    const transfer = {
      name: 'transfer',
      description: 'Transfer the caller to a human.',
      parameters: { type: 'object', properties: { destination: { type: 'string', enum: ['billing', 'front_desk'] } }, required: ['destination'] },
    };
    const conversation = new Conversation(engine, { instructions: receptionist.instructions, tools: [transfer] });
    assert.equal((await conversation.say('i want to talk to a human')).text, 'Of course. Who would you like to speak to: billing or front desk?');
    const done = await conversation.say('the front desk please');
    assert.deepEqual(JSON.parse(done.calls[0]?.arguments ?? '{}'), { reason: 'the caller asked for a person', destination: 'front_desk' });
    const direct = await runTurn(engine, { instructions: receptionist.instructions, tools: [transfer], messages: [{ role: 'user', content: 'put me through to billing' }] });
    assert.deepEqual(JSON.parse(direct.calls[0]?.arguments ?? '{}').destination, 'billing');
  });

  test('yes and no without a pending question; no after "anything else?" ends the call', async () => {
    assert.equal((await reply('yeah sure')).text, 'Okay. How can I help you?');
    const conversation = new Conversation(engine, { instructions: receptionist.instructions, tools: receptionist.tools });
    assert.equal((await conversation.say('nope')).text, 'Alright. Is there anything else I can help you with?');
    const bye = await conversation.say('know');
    assert.deepEqual(bye.calls.map((c) => c.name), ['hang_up']);
  });

  test('"okay thank you goodbye" after "anything else?" is a goodbye, not a yes', async () => {
    for (const goodbye of ['okay thank you goodbye', 'ok goodbye', 'yes thanks bye']) {
      const conversation = new Conversation(engine, { instructions: receptionist.instructions, tools: receptionist.tools });
      assert.match((await conversation.say('what are your opening hours')).text, /anything else/);
      const bye = await conversation.say(goodbye);
      assert.deepEqual(bye.calls.map((c) => c.name), ['hang_up'], goodbye);
    }
  });

  test('"no, but…" after "anything else?" answers the question instead of hanging up', async () => {
    const conversation = new Conversation(engine, { instructions: receptionist.instructions, tools: receptionist.tools });
    await conversation.say('thank you');
    const hours = await conversation.say('no actually what are your opening hours');
    assert.match(hours.text, /^We're open Monday to Friday/);
    assert.deepEqual(hours.calls, []);
  });

  test('repeat that: says the last line again, even when it was cut short', async () => {
    const messages: DialogueMessage[] = [
      { role: 'assistant', content: 'Thank you for calling Sakura Dental Clinic. How can I help you today?' },
      { role: 'user', content: 'sorry what' },
    ];
    const result = await runTurn(engine, { instructions: receptionist.instructions, tools: receptionist.tools, messages });
    assert.equal(result.text, 'Sure. Thank you for calling Sakura Dental Clinic. How can I help you today?');
  });

  test('who are you / what is this: from the instructions', async () => {
    assert.equal((await reply('who is this')).text, 'This is the receptionist of Sakura Dental Clinic. How can I help?');
    assert.equal((await reply('is this sakura dental clinic')).text, 'This is the receptionist of Sakura Dental Clinic. How can I help?');
    const bare = await reply('who are you', { instructions: 'Answer the phone politely.', tools: [] });
    assert.equal(bare.text, 'This is an automated phone assistant. How can I help?');
  });

  test('are you a robot: honest', async () => {
    assert.match((await reply('am i talking to a machine')).text, /^I'm an automated assistant for Sakura Dental Clinic\./);
  });

  test('opening hours: stated ones, else an offer to take a message', async () => {
    assert.equal(
      (await reply('what are your ours')).text,
      "We're open Monday to Friday, 9 am to 6 pm. Is there anything else I can help you with?",
    );
    const unknown = await reply('when are you open', { instructions: 'You are the receptionist of Acme.', tools: [] });
    assert.match(unknown.text, /don't have the opening hours to hand/);
  });

  test('thanks, hold on', async () => {
    assert.equal((await reply('thank you')).text, "You're welcome! Is there anything else I can help you with?");
    assert.equal((await reply('hold on a second')).text, 'Sure, take your time.');
  });

  test('not understood: rephrase requests in rotation, then an offer to transfer; yes transfers', async () => {
    const conversation = new Conversation(engine, { instructions: receptionist.instructions, tools: receptionist.tools });
    const first = await conversation.say('purple monkey dishwasher');
    const second = await conversation.say('banana split');
    assert.equal(first.text, "Sorry, I didn't quite catch that. Could you say it again?");
    assert.equal(second.text, 'Sorry, could you say that in a different way?');
    const third = await conversation.say('blue elephant');
    assert.equal(third.text, "I'm sorry, I'm having trouble understanding. Would you like me to put you through to a colleague?");
    const yes = await conversation.say('yes');
    assert.deepEqual(yes.calls.map((c) => c.name), ['transfer']);
  });

  test('the agent speaks first without a verbatim line: the greeting; later silences: a check-in', async () => {
    assert.equal((await runTurn(engine, { instructions: receptionist.instructions, messages: [] })).text, 'Hello, this is Sakura Dental Clinic. How can I help you today?');
    const later = await runTurn(engine, {
      instructions: receptionist.instructions,
      messages: [
        { role: 'user', content: 'hello' },
        { role: 'assistant', content: 'Hello, this is Sakura Dental Clinic. How can I help you today?' },
      ],
    });
    assert.equal(later.text, 'Are you still there? Take your time.');
  });

  test('noisy words never hang up: a sentence that merely resembles goodbye falls back', async () => {
    const result = await reply('the weather is nice to day');
    assert.deepEqual(result.calls, []);
  });
});

describe('Japanese replies for a Japanese-language agent', () => {
  const jaReceptionist = 'あなたは「さくら歯科」の受付です。営業時間は平日9時から18時です。電話で短く話してください。';
  test('generic intents answer in Japanese (English recognised input)', async () => {
    const tools = receptionist.tools;
    assert.equal((await reply('hello', { instructions: jaReceptionist, tools })).text, 'はい、さくら歯科でございます。ご用件をお伺いします。');
    assert.equal((await reply('who is this', { instructions: jaReceptionist, tools })).text, 'こちらは、さくら歯科の受付です。ご用件をお伺いします。');
    assert.equal((await reply('what are your hours', { instructions: jaReceptionist, tools })).text, '受付時間は、平日9時から18時です。ほかに何かございますか。');
    const bye = await reply('goodbye', { instructions: jaReceptionist, tools });
    assert.equal(bye.text, 'お電話ありがとうございました。失礼いたします。');
    assert.deepEqual(bye.calls.map((c) => c.name), ['hang_up']);
    assert.match((await reply('operator', { instructions: jaReceptionist, tools })).text, /担当の者におつなぎします/);
    assert.match((await reply('purple monkey', { instructions: jaReceptionist, tools })).text, /うまく聞き取れませんでした/);
  });

  test('an English agent answers in Japanese when the transcription language is ja', async () => {
    assert.equal((await reply('thank you', { language: 'ja' })).text, 'どういたしまして。ほかに何かございますか。');
  });

  test('Japanese words are recognised too, for a Japanese recogniser', async () => {
    const bye = await reply('ありがとうございました、失礼します', { instructions: onayami.instructions, tools: onayami.tools, language: 'ja' });
    assert.deepEqual(bye.calls.map((c) => c.name), ['hang_up']);
  });

  test('Japanese replies are streamed sentence by sentence', async () => {
    const result = await reply('hello', { instructions: onayami.instructions, tools: onayami.tools, language: 'ja' });
    assert.deepEqual(result.deltas, ['はい、こちらで、お話をお聴きしています。', 'ゆっくりで大丈夫ですので、お話しください。']);
  });
});
