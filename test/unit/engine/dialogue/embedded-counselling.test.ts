import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { looksLikeCounselling, readEmergencyContacts } from '../../../../src/engine/dialogue/embedded/agent-profile.js';
import { mentionsCrisis } from '../../../../src/engine/dialogue/embedded/crisis.js';
import { EmbeddedDialogueEngine } from '../../../../src/engine/dialogue/embedded/index.js';
import { paraphraseFirstPerson, reflect } from '../../../../src/engine/dialogue/embedded/reflective-listening.js';
import { Conversation, ENGLISH_COUNSELLING_INSTRUCTIONS, runTurn, sampleAgent } from './_embedded.js';

const engine = new EmbeddedDialogueEngine();
after(() => engine.close());
const onayami = sampleAgent('onayami');
const receptionist = sampleAgent('receptionist');

/** Advice-dumping, which reflective listening never does. */
const ADVICE = /\byou should\b|\btry to\b|\bwhy don't you\b|\bhave you tried\b|\bi suggest\b|\bmy advice\b|すべき|したほうがいい|した方がいい/i;

describe('telling a listening line from a front desk', () => {
  test('by the words of the instructions', () => {
    assert.equal(looksLikeCounselling(onayami.instructions), true);
    assert.equal(looksLikeCounselling(ENGLISH_COUNSELLING_INSTRUCTIONS), true);
    assert.equal(looksLikeCounselling(receptionist.instructions), false);
    assert.equal(looksLikeCounselling('You answer calls for a plumber. Listen carefully to the address.'), false, 'one "listen" is not enough');
    assert.equal(looksLikeCounselling('傾聴を大切にしてください。'), true);
  });

  test('or by style: counselling in the script', async () => {
    const instructions = 'You are the receptionist of Acme.\n```koe-script\nstyle: counselling\n```';
    const result = await runTurn(engine, { instructions, messages: [{ role: 'user', content: 'i have been feeling really down lately' }] });
    assert.match(result.text, /^It sounds like you have been feeling really down lately\./);
  });
});

describe('reflective listening', () => {
  test('pronouns swapped, verbs agreed', () => {
    assert.equal(paraphraseFirstPerson('I feel alone'), 'you feel alone');
    assert.equal(paraphraseFirstPerson('um i feel so alone since my wife left'), 'you feel so alone since your wife left');
    assert.equal(paraphraseFirstPerson("I'm scared of losing my job"), 'you are scared of losing your job');
    assert.equal(paraphraseFirstPerson('i was angry at myself'), 'you were angry at yourself');
    assert.equal(paraphraseFirstPerson('my mother never listens to me'), 'your mother never listens to you');
    assert.equal(paraphraseFirstPerson('the weather'), undefined);
  });

  test('English: paraphrase, the feeling named, then an open question or validation; never advice', async () => {
    const conversation = new Conversation(engine, { instructions: ENGLISH_COUNSELLING_INSTRUCTIONS, tools: [] });
    const lines = [
      await conversation.say('i feel so alone since my wife left'),
      await conversation.say('i am so tired all the time and i cannot sleep'),
      await conversation.say('my boss yelled at me today'),
      await conversation.say('um'),
      await conversation.say('everything is just too much'),
    ].map((r) => r.text);
    assert.equal(lines[0], 'It sounds like you feel so alone since your wife left. Can you tell me more about that?');
    assert.equal(lines[1], 'So you are so tired all the time and you cannot sleep. No wonder you feel so drained.');
    assert.equal(lines[2], 'I hear that your boss yelled at you today. How long have you been feeling this way?');
    assert.equal(lines[3], "I'm here with you. Go on, whenever you're ready.");
    assert.match(lines[4] ?? '', /^It sounds like you're feeling under a lot of pressure\. That (is a lot to carry at once|sounds overwhelming)\./);
    for (const line of lines) assert.doesNotMatch(line ?? '', ADVICE);
    assert.equal(new Set(lines).size, lines.length, 'no line twice');
  });

  test('keyword emotions: sad, tired, angry, scared, lonely', () => {
    const emotions = ['he makes me so sad', 'work has me exhausted', 'this makes me furious', 'honestly i am terrified', 'nobody calls me anymore'].map(
      (u) => reflect(u, 'en', 0).emotion,
    );
    assert.deepEqual(emotions, ['sad', 'tired', 'angry', 'scared', 'lonely']);
  });

  test('Japanese agent: the feeling reflected in Japanese, then an open question or validation', async () => {
    const conversation = new Conversation(engine, { instructions: onayami.instructions, tools: onayami.tools, language: 'ja' });
    const first = await conversation.say('i feel so alone since my wife left');
    assert.equal(first.text, 'ひとりぼっちのように感じていらっしゃるのですね。よろしければ、もう少し聞かせていただけますか。');
    const second = await conversation.say('i am so tired');
    assert.equal(second.text, 'とてもお疲れなのですね。お話ししてくださって、ありがとうございます。');
    const plain = await conversation.say('my job is changing next month');
    assert.match(plain.text, /^そうだったのですね。/);
    for (const r of [first, second, plain]) assert.doesNotMatch(r.text, ADVICE);
  });

  test('Japanese input is echoed back with 〜のですね where the ending allows', () => {
    assert.match(reflect('毎日つらいです', 'ja', 0).text, /^毎日つらいのですね。/);
    assert.match(reflect('眠れません', 'ja', 0).text, /^眠れないのですね。/);
    assert.equal(reflect('眠れません', 'ja', 0).emotion, 'tired');
  });

  test('no escalation to a transfer on a listening line, however long the caller talks', async () => {
    const conversation = new Conversation(engine, { instructions: ENGLISH_COUNSELLING_INSTRUCTIONS, tools: [] });
    for (const line of ['blah blah', 'it is what it is', 'whatever happens happens', 'the thing with the car', 'yeah the car']) {
      const result = await conversation.say(line);
      assert.doesNotMatch(result.text, /put you through|colleague/);
    }
  });
});

describe('ending the call only on a real goodbye', () => {
  test('"goodbye" or "I have to go" inside a story never hangs up; a closing goodbye does', async () => {
    const stories = [
      'my husband said goodbye and left',
      'i have to go to the hospital tomorrow',
      "that's all i remember about that night",
      'everything is just too much',
      '失礼します、ちょっとお聞きしたいのですが',
      'i will stop by tomorrow',
      'please stand by',
    ];
    for (const [instructions, tools, language] of [
      [ENGLISH_COUNSELLING_INSTRUCTIONS, receptionist.tools, undefined],
      [onayami.instructions, onayami.tools, 'ja'],
      [receptionist.instructions, receptionist.tools, undefined],
    ] as const) {
      for (const story of stories) {
        const result = await runTurn(engine, { instructions, tools: [...tools], messages: [{ role: 'user', content: story }], ...(language ? { language } : {}) });
        assert.deepEqual(result.calls, [], story);
      }
      const bye = await runTurn(engine, { instructions, tools: [...tools], messages: [{ role: 'user', content: 'okay thank you so much bye' }] });
      assert.deepEqual(bye.calls.map((c) => c.name), ['hang_up']);
    }
  });
});

describe('the crisis rule', () => {
  test('emergency numbers read from the sample Japanese agent: 110, 119 and いのちの電話', () => {
    const contacts = readEmergencyContacts(onayami.instructions);
    assert.deepEqual(
      contacts.map((c) => [c.number, c.label, c.kind]),
      [
        ['110', '警察', 'emergency'],
        ['119', '救急', 'emergency'],
        ['0570-064-556', 'いのちの電話', 'support'],
      ],
    );
  });

  test('and from an English counselling prompt: 911, 988, 116 123 (not dates or times)', () => {
    const contacts = readEmergencyContacts(`${ENGLISH_COUNSELLING_INSTRUCTIONS}\nToday is 2025-01-15; the time is 14:03. Shifts last 4 hours.`);
    assert.deepEqual(
      contacts.map((c) => [c.number, c.label, c.kind]),
      [
        ['911', 'emergencies', 'emergency'],
        ['988', 'Suicide and Crisis Lifeline', 'support'],
        ['116 123', 'Samaritans', 'support'],
      ],
    );
  });

  test('detection, tolerant of how the recogniser writes it', () => {
    for (const u of ['i want to kill myself', 'i want to kill my self', 'sometimes i think about suicide', "i don't want to live anymore", 'i keep hurting myself', 'he is going to kill me', 'i am in danger', '死にたい']) {
      assert.equal(mentionsCrisis(u), true, u);
    }
    for (const u of ['this traffic is killing me', 'my phone died', 'i am dying to see the new film']) assert.equal(mentionsCrisis(u), false, u);
  });

  test('Japanese agent: a calm reply with the numbers from its instructions, then "are you safe?"', async () => {
    const conversation = new Conversation(engine, { instructions: onayami.instructions, tools: onayami.tools, language: 'ja' });
    const crisis = await conversation.say('i just want to die');
    assert.equal(
      crisis.text,
      '話してくださって、ありがとうございます。あなたのことが、とても大切です。' +
        '事件や身の危険があるときは110番(警察)、急病やけがのときは119番(救急)に、すぐ電話してください。' +
        'つらい気持ちを話したいときは「いのちの電話」0570-064-556にも、電話できます。いま、安全な場所にいらっしゃいますか。',
    );
    assert.deepEqual(crisis.calls, [], 'never hangs up on a caller in crisis');
    const unsafe = await conversation.say('no');
    assert.match(unsafe.text, /いますぐ110番\(警察\)か、119番\(救急\)に電話してください/);
  });

  test('English counselling prompt: the numbers in English; a yes (safe) goes back to listening', async () => {
    const conversation = new Conversation(engine, { instructions: ENGLISH_COUNSELLING_INSTRUCTIONS, tools: [] });
    await conversation.say('hi');
    const crisis = await conversation.say('i have been thinking about killing myself');
    assert.equal(
      crisis.text,
      "I'm really glad you told me, and I'm so sorry you're going through this. Your safety matters most right now. " +
        'If you are in danger, please call 911 right away. ' +
        'You can also call the Suicide and Crisis Lifeline on 988 or the Samaritans on 116 123, any time, to talk to someone. Are you safe right now?',
    );
    const safe = await conversation.say('yes i am at home');
    assert.equal(safe.text, "I'm glad you're safe right now. I'm here, and I'm listening. Would you like to tell me what's been happening?");
  });

  test('the rule holds on any agent, even mid-form, and without numbers it points to the local emergency number', async () => {
    const conversation = new Conversation(engine, { instructions: receptionist.instructions, tools: receptionist.tools });
    await conversation.say('i would like to leave a message');
    const crisis = await conversation.say('i want to end my life');
    assert.match(crisis.text, /please call your local emergency number right away\. Are you safe right now\?$/);
    assert.deepEqual(crisis.calls, []);
  });

  test('a crisis reply is spoken, not only in English: an English agent with language ja answers in Japanese', async () => {
    const result = await runTurn(engine, {
      instructions: ENGLISH_COUNSELLING_INSTRUCTIONS,
      language: 'ja',
      messages: [{ role: 'user', content: 'i want to kill myself' }],
    });
    assert.match(result.text, /^話してくださって/);
    assert.match(result.text, /911/);
  });
});
