// The built-in intents every phone agent needs, with English examples for the classifier (the recogniser
// is English) and replies in the agent's language and style. Phrased to be short, as on a phone call.
import type { AgentProfile, ReplyLanguage } from './agent-profile.js';
import { crisisReply, crisisSafeReply, crisisUnsafeReply } from './crisis.js';
import type { FallbackPlan, PlanIntent, ToolSet } from './dialogue-plan.js';
import type { SlotSpec } from './slot-values.js';

export const BUILT_IN_INTENT_NAMES: ReadonlySet<string> = new Set([
  'greeting', 'goodbye', 'thanks', 'human', 'take_message', 'repeat', 'identity', 'bot_check', 'hours', 'yes', 'no', 'hold',
  'cancel', 'press_keys', 'anything_else', 'go_ahead', 'try_again', 'crisis', 'crisis_safe', 'crisis_unsafe',
]);
export const BUILT_IN_SLOT_NAMES: ReadonlySet<string> = new Set(['name', 'phone', 'reason', 'keys', 'destination']);

type Lines = Record<ReplyLanguage, string[]>;
const say = (profile: AgentProfile, lines: Lines): string[] => lines[profile.language];

const EXAMPLES = {
  greeting: [
    'hello', 'hi', 'hi there', 'hey', 'hello there', 'good morning', 'good afternoon', 'good evening', 'hello is anyone there',
    'hi how are you', 'hey how is it going', 'yes hello', 'hello hello', 'hi good morning',
  ],
  goodbye: [
    'goodbye', 'bye', 'bye bye', 'okay bye', 'thanks bye', 'thank you goodbye', "that's all thank you", "that's all for today",
    'that is everything', "that's it thanks", 'i have to go now', "i'll let you go", 'have a nice day', 'talk to you later',
    'see you', "no that's all bye", 'nothing else thanks bye', "i'm done thank you", 'alright goodbye then', 'have a good one',
  ],
  thanks: [
    'thank you', 'thanks', 'thanks a lot', 'thank you very much', 'great thanks', 'perfect thank you', "that's helpful thanks",
    'i appreciate it', 'cheers', 'thank you so much',
  ],
  human: [
    'can i speak to a person', 'i want to talk to a human', 'operator', 'representative', 'get me a real person',
    'connect me to someone', 'transfer me please', 'can you put me through to someone', "i'd like to speak to a staff member",
    'let me talk to the manager', 'is there someone i can talk to', 'speak to an agent', 'customer service please',
    'i need a real person', 'can i talk to the doctor', 'put me through to reception', 'can i speak with somebody',
    'i want to speak to someone', 'human please', 'talk to a live person',
  ],
  take_message: [
    "i'd like to leave a message", 'can you take a message', 'can i leave a message', 'please have someone call me back',
    'i want a call back', 'could someone call me back', 'tell them i called', 'pass on a message', 'leave a voicemail',
    'ask them to call me back', 'i need a callback', 'take my number and call me back',
  ],
  repeat: [
    'sorry what', 'what did you say', 'can you repeat that', 'say that again', 'pardon', 'come again', "i didn't catch that",
    'repeat please', 'could you say that again please', "i didn't hear you", 'sorry i missed that', 'one more time please',
    'what was that', 'excuse me what',
  ],
  identity: [
    'who is this', 'who are you', 'what is this', 'who am i speaking to', 'who am i talking to', 'what company is this',
    'where am i calling', 'what is this place', 'did i call the right number', "what's your name", 'who is speaking',
    'what is this number',
  ],
  bot_check: [
    'are you a robot', 'am i talking to a machine', 'is this a real person', 'are you a human', 'are you real',
    'is this automated', 'is this an ai', 'am i speaking to a computer', 'are you a bot', 'is this a recording',
  ],
  hours: [
    'what are your opening hours', 'when are you open', 'what time do you open', 'what time do you close', 'are you open today',
    'are you open on saturday', 'what are your hours', 'when do you close', 'how late are you open', 'are you open tomorrow',
    'what days are you open', 'business hours', 'are you open on the weekend', 'when do you open in the morning',
  ],
  yes: ['yes', 'yeah', 'yes please', 'sure', 'okay', 'correct', "that's right", 'yep', 'of course', 'absolutely', 'sounds good'],
  no: ['no', 'nope', 'no thanks', 'not really', 'no thank you', 'nah', "no i'm good", 'not now'],
  hold: ['hold on', 'one moment please', 'wait a second', 'just a minute', 'give me a second', 'hang on', 'let me check', 'one sec'],
  cancel: ['never mind', 'forget it', 'cancel that', 'stop', 'i changed my mind', 'skip that', 'forget about it'],
  press_keys: [
    'press one', 'press two please', 'can you press star', 'press the pound key', 'hit zero', 'dial extension two zero four',
    'press nine for me', 'enter one two three four', 'push five', 'press the hash key', 'please press three',
  ],
} satisfies Record<string, string[]>;

const KEYWORDS = {
  greeting: ['hello', 'hi', 'hey', 'hiya', 'howdy', 'good morning', 'good afternoon', 'good evening', 'もしもし', 'こんにちは', 'こんばんは', 'おはよう'],
  goodbye: [
    'bye', 'goodbye', 'bye bye', 'good bye', "that's all", 'that is all', "that's it", 'see you', 'have a nice', 'have a good day',
    'thank you bye', 'thanks bye', 'thank you goodbye', 'thanks goodbye', 'okay bye', 'ok bye', 'all right bye', 'alright bye',
    'i have to go', 'gotta go', 'so long', 'by by', 'さようなら', 'さよなら', '失礼します', '失礼いたします',
  ],
  thanks: ['thanks', 'thank you', 'cheers', 'appreciate', 'ありがとう'],
  human: [
    'operator', 'representative', 'human', 'real person', 'a person', 'someone', 'somebody', 'staff', 'manager', 'live person',
    'agent', 'transfer', 'put me through', '担当者', 'オペレーター', '人と話',
  ],
  take_message: ['message', 'call me back', 'call back', 'callback', 'voicemail', '伝言', '折り返し'],
  repeat: [
    'repeat', 'pardon', 'what', 'sorry what', 'come again', 'say again', 'say that again', "didn't catch", 'huh', 'what did you',
    'what was that', 'excuse me', 'もう一度', 'もういちど',
  ],
  identity: ['who is this', 'who are you', 'what is this', 'who am i speaking', 'who am i talking', 'どちら様', 'どなた'],
  bot_check: [
    'robot', 'machine', 'computer', 'bot', 'automated', 'are you real', 'are you human', 'are you a real person',
    'is this a real person', 'am i talking to a real person', 'am i speaking to a real person', 'am i speaking with a real person',
    'ロボット', '機械',
  ],
  hours: ['opening hours', 'open', 'hours', 'close', 'closing', 'open today', '営業時間', '何時'],
  yes: ['yes', 'yeah', 'yep', 'yup', 'sure', 'okay', 'ok', 'correct', 'right', 'please', 'absolutely', 'of course', 'はい', 'ええ'],
  no: ['no', 'nope', 'nah', 'no thanks', 'not really', "i'm fine", "i'm good", "i'm okay", 'いいえ', 'いや'],
  hold: ['hold on', 'one moment', 'one second', 'wait', 'hang on', 'just a sec', 'just a minute', 'ちょっと待って', '少々お待ち'],
  cancel: ['never mind', 'cancel', 'forget it', 'stop', 'やめ', 'キャンセル'],
  press_keys: ['press', 'push', 'hit', 'pound key', 'hash key', 'star key', 'extension', '押して'],
} satisfies Record<string, string[]>;

export function defaultSlots(profile: AgentProfile, tools: ToolSet): SlotSpec[] {
  const slots: SlotSpec[] = [
    {
      name: 'name',
      type: 'free_text',
      prompts: say(profile, { en: ['Sure. May I have your name, please?'], ja: ['かしこまりました。お名前をお伺いできますか。'] }),
      retries: [],
    },
    {
      name: 'phone',
      type: 'digits',
      minDigits: 7,
      maxDigits: 15,
      prompts: say(profile, {
        en: ["Thank you, {name}. What's the best number to call you back on?"],
        ja: ['ありがとうございます。折り返しのお電話番号を、お願いいたします。'],
      }),
      retries: say(profile, {
        en: ["Sorry, I didn't catch the whole number. Could you say it one digit at a time?"],
        ja: ['申し訳ございません、番号を聞き取れませんでした。数字をひとつずつ、おっしゃっていただけますか。'],
      }),
    },
    {
      name: 'reason',
      type: 'free_text',
      prompts: say(profile, { en: ['And what is it regarding?'], ja: ['ご用件を、お伺いできますか。'] }),
      retries: [],
    },
    {
      name: 'keys',
      type: 'digits',
      prompts: say(profile, { en: ['Which keys should I press?'], ja: ['どのボタンを押しましょうか。'] }),
      retries: [],
    },
  ];
  if (tools.transferDestinations.length > 1) {
    const options = tools.transferDestinations.map((d) => d.replace(/[_-]+/g, ' '));
    slots.push({
      name: 'destination',
      type: 'enum',
      choices: tools.transferDestinations.map((value) => ({ value, synonyms: [value] })),
      prompts: say(profile, {
        en: [`Of course. Who would you like to speak to: ${joinOr(options, 'or')}?`],
        ja: [`かしこまりました。${options.join('、')}のどちらにおつなぎしましょうか。`],
      }),
      retries: [],
    });
  }
  return slots;
}

export function defaultIntents(profile: AgentProfile, tools: ToolSet): PlanIntent[] {
  const counselling = profile.style === 'counselling';
  const can = (tool: string): boolean => tools.names.has(tool);
  const intent = (
    name: keyof typeof EXAMPLES | 'anything_else' | 'go_ahead' | 'try_again' | 'crisis' | 'crisis_safe' | 'crisis_unsafe',
    replies: string[],
    extra: Partial<PlanIntent> = {},
  ): PlanIntent => ({
    name,
    examples: name in EXAMPLES ? [...EXAMPLES[name as keyof typeof EXAMPLES]] : [],
    keywords: name in KEYWORDS ? [...KEYWORDS[name as keyof typeof KEYWORDS]] : [],
    replies,
    slots: [],
    ...extra,
  });
  const org = profile.organisation;
  const anythingElse = { onNo: 'goodbye', onYes: 'go_ahead' } as const;
  const intents: PlanIntent[] = [];

  intents.push(
    intent(
      'goodbye',
      counselling
        ? say(profile, {
            en: ['Thank you for talking with me today. Please take good care of yourself. Goodbye.'],
            ja: ['お話ししてくださって、ありがとうございました。どうか、ご自分を大切になさってください。失礼いたします。'],
          })
        : say(profile, {
            en: ['Thank you for calling. Goodbye!', 'Thanks for calling, have a great day. Goodbye!'],
            ja: ['お電話ありがとうございました。失礼いたします。'],
          }),
      can('hang_up') ? { tool: { name: 'hang_up', arguments: { reason: 'the caller said goodbye' } } } : {},
    ),
  );

  const destination = tools.transferDestinations.length > 1 ? { slots: ['destination'] } : {};
  const transferArgs: Record<string, unknown> = { reason: 'the caller asked for a person' };
  if (tools.transferDestinations.length > 1) transferArgs.destination = '{destination}';
  else if (tools.transferDestinations.length === 1) transferArgs.destination = tools.transferDestinations[0];
  intents.push(
    can('transfer')
      ? intent(
          'human',
          say(profile, {
            en: [counselling ? 'Of course. Let me connect you to someone now.' : 'Of course. Let me put you through to a colleague now.'],
            ja: ['かしこまりました。担当の者におつなぎします。少々お待ちください。'],
          }),
          { tool: { name: 'transfer', arguments: transferArgs }, ...destination },
        )
      : counselling
        ? intent(
            'human',
            say(profile, {
              en: ["I'm sorry, I can't connect you to anyone else from this line. But I'm here with you, and I'm listening."],
              ja: ['申し訳ありません。ここからほかの方におつなぎすることはできないのですが、わたしがここで、お話をお聴きしています。'],
            }),
          )
        : intent(
            'human',
            say(profile, {
              en: ["I'm sorry, I can't put you through right now, but I can take a message and have someone call you back. Would you like that?"],
              ja: ['申し訳ございません。ただいまおつなぎできませんが、ご伝言をお預かりして、折り返しご連絡できます。ご伝言を残されますか。'],
            }),
            { onYes: 'take_message', onNo: 'anything_else' },
          ),
  );

  if (can('send_dtmf')) {
    intents.push(
      intent('press_keys', say(profile, { en: ['Sure.'], ja: ['かしこまりました。'] }), {
        slots: ['keys'],
        tool: { name: 'send_dtmf', arguments: { digits: '{keys}' } },
      }),
    );
  }

  if (!counselling) {
    intents.push(
      intent(
        'take_message',
        say(profile, {
          en: ["Thank you, {name}. I'll pass your message on, and someone will call you back on {phone}. Is there anything else I can help you with?"],
          ja: ['ありがとうございます、{name}様。ご伝言を承りました。{phone}に、折り返しご連絡いたします。ほかに何かございますか。'],
        }),
        { slots: ['name', 'phone', 'reason'], ...anythingElse },
      ),
    );
  }

  intents.push(
    intent(
      'repeat',
      say(profile, { en: ['Sure. {last_reply}', 'Of course. {last_reply}'], ja: ['失礼いたしました。{last_reply}'] }),
      { keepsAwaiting: true },
    ),
  );

  // "Is this Sakura Dental Clinic?" asks who answered: the organisation's own words belong to identity.
  const orgExamples = org !== undefined && !/[\u3040-\u9fff]/u.test(org) ? [`is this ${org}`, `is this the ${org}`, `am i through to ${org}`] : [];
  const identity = intent('identity', identityReplies(profile));
  identity.examples.push(...orgExamples);
  intents.push(identity);
  intents.push(
    intent(
      'bot_check',
      say(profile, {
        en: [
          `I'm an automated assistant${org !== undefined ? ` for ${org}` : ''}.` +
            (counselling ? " I'm here to listen, for as long as you need." : can('transfer') ? ' I can help with most things, or put you through to a colleague.' : ' I can help with most things, or take a message.'),
        ],
        ja: [`わたしは、${org !== undefined ? `${org}の` : ''}自動応答のアシスタントです。` + (counselling ? 'ゆっくり、お話をお聴きします。' : 'ご用件をお伺いします。')],
      }),
    ),
  );

  const hours = profile.openingHours;
  intents.push(
    hours !== undefined
      ? intent(
          'hours',
          say(profile, {
            en: [`We're open ${hours}. Is there anything else I can help you with?`],
            ja: [`受付時間は、${hours}です。ほかに何かございますか。`],
          }),
          counselling ? {} : anythingElse,
        )
      : intent(
          'hours',
          counselling
            ? say(profile, { en: ["I'm sorry, I don't have the hours to hand. But I'm here now, and I'm listening."], ja: ['申し訳ありません、時間のご案内はできないのですが、いまはわたしがお話をお聴きします。'] })
            : say(profile, {
                en: ["I'm sorry, I don't have the opening hours to hand. I can take a message and have someone call you back. Would you like that?"],
                ja: ['申し訳ございません。営業時間は、こちらではご案内できません。ご伝言をお預かりしましょうか。'],
              }),
          counselling ? {} : { onYes: 'take_message', onNo: 'anything_else' },
        ),
  );

  intents.push(
    intent(
      'thanks',
      counselling
        ? say(profile, {
            en: ["You're very welcome. Is there anything else you'd like to talk about?"],
            ja: ['こちらこそ、お話ししてくださって、ありがとうございます。ほかに、お話ししたいことはありますか。'],
          })
        : say(profile, {
            en: ["You're welcome! Is there anything else I can help you with?", 'My pleasure. Is there anything else I can do for you?'],
            ja: ['どういたしまして。ほかに何かございますか。'],
          }),
      anythingElse,
    ),
  );

  intents.push(
    intent(
      'hold',
      say(profile, { en: ['Sure, take your time.', "Of course, I'll wait."], ja: ['はい、ごゆっくりどうぞ。'] }),
      { keepsAwaiting: true },
    ),
  );
  intents.push(
    intent('cancel', say(profile, { en: ['No problem. Is there anything else I can help you with?'], ja: ['かしこまりました。ほかに何かございますか。'] }), {
      onlyWhenAwaiting: true,
      ...anythingElse,
    }),
  );

  intents.push(intent('greeting', greetingReplies(profile)));
  intents.push(
    intent(
      'no',
      counselling
        ? say(profile, { en: ["That's okay. Take your time."], ja: ['大丈夫ですよ。ゆっくりで、かまいません。'] })
        : say(profile, { en: ['Alright. Is there anything else I can help you with?'], ja: ['かしこまりました。ほかに何かございますか。'] }),
      counselling ? {} : anythingElse,
    ),
  );
  intents.push(
    intent(
      'yes',
      counselling
        ? say(profile, { en: ["Mm. Please go on, I'm listening."], ja: ['はい。どうぞ、続けてください。'] })
        : say(profile, { en: ['Okay. How can I help you?', 'Great. What can I do for you?'], ja: ['はい。どのようなご用件でしょうか。'] }),
    ),
  );

  // Reached only through onYes/onNo.
  intents.push(
    intent(
      'anything_else',
      counselling
        ? say(profile, { en: ["Is there anything else you'd like to talk about?"], ja: ['ほかに、お話ししたいことはありますか。'] })
        : say(profile, { en: ['Alright. Is there anything else I can help you with?'], ja: ['かしこまりました。ほかに何かございますか。'] }),
      anythingElse,
    ),
  );
  intents.push(intent('go_ahead', say(profile, { en: ['Sure, go ahead.', 'Of course. What can I do for you?'], ja: ['はい、どうぞ。'] })));
  intents.push(
    intent(
      'try_again',
      say(profile, {
        en: ["Okay, let's try again. What can I help you with? Short sentences work best for me."],
        ja: ['かしこまりました。もう一度お伺いします。短く区切って、おっしゃってください。'],
      }),
    ),
  );
  intents.push(
    intent('crisis', [crisisReply(profile.emergencyContacts, profile.language)], { onYes: 'crisis_safe', onNo: 'crisis_unsafe' }),
    intent('crisis_safe', [crisisSafeReply(profile.language)]),
    intent('crisis_unsafe', [crisisUnsafeReply(profile.emergencyContacts, profile.language)]),
  );
  return intents;
}

export function defaultFallback(profile: AgentProfile, tools: ToolSet): FallbackPlan {
  if (profile.style === 'counselling') {
    // Reflective listening answers most turns; these lines are for when there is nothing to reflect.
    return {
      replies: say(profile, {
        en: ["Sorry, I didn't quite catch that. Could you say it again? Take your time."],
        ja: ['すみません、うまく聞き取れませんでした。もう一度、お話しいただけますか。'],
      }),
      escalateAfter: Number.POSITIVE_INFINITY,
      escalation: [],
    };
  }
  const transfer = tools.names.has('transfer');
  return {
    replies: say(profile, {
      en: [
        "Sorry, I didn't quite catch that. Could you say it again?",
        'Sorry, could you say that in a different way?',
        "I'm sorry, I missed that. Could you tell me briefly what you need?",
      ],
      ja: [
        '申し訳ございません、うまく聞き取れませんでした。もう一度おっしゃっていただけますか。',
        '申し訳ございません。別の言い方で、もう一度お願いできますか。',
      ],
    }),
    escalateAfter: 3,
    escalation: transfer
      ? say(profile, {
          en: ["I'm sorry, I'm having trouble understanding. Would you like me to put you through to a colleague?"],
          ja: ['申し訳ございません、うまく聞き取れないようです。担当の者におつなぎしましょうか。'],
        })
      : say(profile, {
          en: ["I'm sorry, I'm having trouble understanding. Would you like to leave a message, so someone can call you back?"],
          ja: ['申し訳ございません、うまく聞き取れないようです。ご伝言をお預かりして、折り返しご連絡しましょうか。'],
        }),
    onYes: transfer ? 'human' : 'take_message',
    onNo: 'try_again',
  };
}

function greetingReplies(profile: AgentProfile): string[] {
  const org = profile.organisation;
  if (profile.style === 'counselling') {
    return say(profile, {
      en: ["Hello. I'm here, and I'm listening. Please take your time and tell me what's on your mind."],
      ja: ['はい、こちらで、お話をお聴きしています。ゆっくりで大丈夫ですので、お話しください。'],
    });
  }
  return say(profile, {
    en: [org !== undefined ? `Hello, this is ${org}. How can I help you today?` : 'Hello! How can I help you today?', 'Hi there. How can I help?'],
    ja: [org !== undefined ? `はい、${org}でございます。ご用件をお伺いします。` : 'はい、お電話ありがとうございます。ご用件をお伺いします。'],
  });
}

function identityReplies(profile: AgentProfile): string[] {
  const { name, role, organisation: org } = profile;
  const counselling = profile.style === 'counselling';
  if (profile.language === 'ja') {
    const who = org !== undefined && role !== undefined ? `${org}の${role}` : (org ?? role ?? '自動応答のアシスタント');
    return [`こちらは、${who}です。` + (counselling ? 'どうぞ、ゆっくりお話しください。' : 'ご用件をお伺いします。')];
  }
  let who: string;
  if (role !== undefined && org !== undefined) who = `${name !== undefined ? `${name}, ` : ''}the ${role} ${profile.preposition ?? 'of'} ${org}`;
  else if (role !== undefined) who = name !== undefined ? `${name}, the ${role}` : `the ${role}`;
  else if (org !== undefined) who = name !== undefined ? `${name} at ${org}` : org;
  else who = name ?? 'an automated phone assistant';
  return [`This is ${who}.` + (counselling ? " I'm here to listen, so please take your time." : ' How can I help?')];
}

function joinOr(items: readonly string[], word: string): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} ${word} ${items.at(-1) as string}`;
}

/** What to say when a tool's result comes back and the intent gave no onResult/onError. */
export interface ToolFollowUps {
  transferFailed: string[];
  dtmfDone: string[];
  dtmfFailed: string[];
  done: string[];
  failed: string[];
}

export function toolFollowUps(profile: AgentProfile): ToolFollowUps {
  const counselling = profile.style === 'counselling';
  return {
    transferFailed: counselling
      ? say(profile, {
          en: ["I'm sorry, I couldn't connect you just now. I'm still here, and I'm listening."],
          ja: ['申し訳ありません、いまはおつなぎできませんでした。わたしはここで、お話をお聴きしています。'],
        })
      : say(profile, {
          en: ["I'm sorry, I couldn't put you through just now. Would you like to leave a message instead?"],
          ja: ['申し訳ございません、ただいまおつなぎできませんでした。ご伝言をお預かりしましょうか。'],
        }),
    dtmfDone: say(profile, { en: ['Done.'], ja: ['押しました。'] }),
    dtmfFailed: say(profile, { en: ["Sorry, I couldn't press those keys."], ja: ['申し訳ございません、ボタンを押せませんでした。'] }),
    done: say(profile, { en: ['Done. Is there anything else I can help you with?'], ja: ['完了しました。ほかに何かございますか。'] }),
    failed: say(profile, {
      en: ["I'm sorry, that didn't work just now. Is there anything else I can help you with?"],
      ja: ['申し訳ございません、うまくいきませんでした。ほかに何かございますか。'],
    }),
  };
}

/** Asked for a reply with nothing new from the caller (a silence): check they are still there. */
export function nudgeLines(profile: AgentProfile): string[] {
  return profile.style === 'counselling'
    ? say(profile, { en: ["I'm still here, whenever you're ready."], ja: ['こちらにおります。ゆっくりで大丈夫ですよ。'] })
    : say(profile, { en: ['Are you still there? Take your time.'], ja: ['もしもし、お電話は聞こえていますでしょうか。'] });
}

/** The caller read part of a number and paused. */
export function continueLines(profile: AgentProfile): string[] {
  return say(profile, { en: ['Okay, go on.', 'Mm-hm, and then?'], ja: ['はい、続けてどうぞ。'] });
}

/** Asked again after an answer that could not be read as the slot's type. */
export function slotRetryLines(slot: SlotSpec, profile: AgentProfile): string[] {
  if (slot.retries.length > 0) return slot.retries;
  switch (slot.type) {
    case 'digits':
      return say(profile, {
        en: ["Sorry, I didn't catch the number. Could you say it one digit at a time?"],
        ja: ['申し訳ございません、番号を聞き取れませんでした。数字をひとつずつ、おっしゃっていただけますか。'],
      });
    case 'yes_no':
      return say(profile, { en: ['Sorry, was that a yes or a no?'], ja: ['申し訳ございません、はい、か、いいえ、でお答えいただけますか。'] });
    case 'number':
      return say(profile, { en: ['Sorry, how many was that?'], ja: ['申し訳ございません、いくつか、もう一度おっしゃっていただけますか。'] });
    case 'date':
      return say(profile, { en: ['Sorry, which day was that?'], ja: ['申し訳ございません、何日か、もう一度おっしゃっていただけますか。'] });
    case 'enum': {
      const options = (slot.choices ?? []).map((c) => c.value.replace(/[_-]+/g, ' '));
      return say(profile, {
        en: [`Sorry, which one would you like: ${joinOr(options, 'or')}?`],
        ja: [`申し訳ございません、${options.join('、')}のどれになりますか。`],
      });
    }
    case 'free_text':
      return say(profile, { en: ['Sorry, could you say that again?'], ja: ['申し訳ございません、もう一度おっしゃっていただけますか。'] });
  }
}
