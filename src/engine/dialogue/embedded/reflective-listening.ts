// Reflective listening for counselling lines: say back what the caller said in the second person, name
// the feeling their words carry, then validate it or ask an open question. Never advice. The variant
// used rotates with the turn number so the listener does not sound like a loop.
import type { ReplyLanguage } from './agent-profile.js';
import { normalizeUtterance, wordsOf } from './spoken-words.js';

export type Emotion = 'sad' | 'lonely' | 'tired' | 'angry' | 'scared' | 'guilty' | 'hurt' | 'confused' | 'stressed';

interface EmotionCue {
  emotion: Emotion;
  /** Words (or word pairs) that carry it; a plain adjective is also said back as the caller said it. */
  words: string[];
}

const EMOTION_CUES: EmotionCue[] = [
  { emotion: 'lonely', words: ['lonely', 'alone', 'isolated', 'nobody', 'no one', 'no friends', 'by myself', 'left out', 'lonesome'] },
  { emotion: 'sad', words: ['sad', 'down', 'depressed', 'unhappy', 'miserable', 'crying', 'cry', 'cried', 'heartbroken', 'upset', 'hopeless', 'empty', 'grief', 'grieving', 'lost my', 'passed away', 'died'] },
  { emotion: 'tired', words: ['tired', 'exhausted', 'worn out', 'drained', "can't sleep", 'cannot sleep', 'no sleep', 'burned out', 'burnt out', 'fatigued', 'sleepless'] },
  { emotion: 'angry', words: ['angry', 'mad', 'furious', 'annoyed', 'frustrated', 'irritated', 'fed up', 'hate', 'rage', 'pissed'] },
  { emotion: 'scared', words: ['scared', 'afraid', 'frightened', 'terrified', 'anxious', 'worried', 'nervous', 'panic', 'fear', 'worry', 'anxiety'] },
  { emotion: 'stressed', words: ['stressed', 'stress', 'overwhelmed', 'pressure', 'too much', "can't cope", 'cannot cope', 'struggling'] },
  { emotion: 'guilty', words: ['guilty', 'ashamed', 'shame', 'my fault', 'blame myself', 'embarrassed', 'regret'] },
  { emotion: 'hurt', words: ['hurt', 'betrayed', 'rejected', 'cheated', 'dumped', 'broke up', 'left me', 'ignored'] },
  { emotion: 'confused', words: ['confused', 'lost', "don't know what to do", 'stuck', 'torn', 'unsure'] },
];

/** The feeling said back, in a form that follows "you're feeling …". */
const EMOTION_PHRASE: Record<Emotion, string> = {
  sad: 'really sad',
  lonely: 'lonely',
  tired: 'worn out',
  angry: 'angry',
  scared: 'worried and scared',
  stressed: 'under a lot of pressure',
  guilty: 'guilty',
  hurt: 'hurt',
  confused: 'unsure what to do',
};
const SAY_BACK_AS_IS = new Set([
  'sad', 'depressed', 'unhappy', 'miserable', 'heartbroken', 'upset', 'hopeless', 'empty', 'lonely', 'isolated', 'tired',
  'exhausted', 'drained', 'angry', 'furious', 'annoyed', 'frustrated', 'irritated', 'scared', 'afraid', 'frightened',
  'terrified', 'anxious', 'worried', 'nervous', 'stressed', 'overwhelmed', 'guilty', 'ashamed', 'embarrassed', 'hurt',
  'betrayed', 'rejected', 'confused', 'stuck', 'lost',
]);

const VALIDATION_EN: Record<Emotion | 'none', string[]> = {
  sad: ['That sounds really painful.', 'That sounds so hard to carry.'],
  lonely: ['Feeling alone like that is really hard.', 'That sounds very lonely.'],
  tired: ['That sounds exhausting.', 'No wonder you feel so drained.'],
  angry: ['It makes sense that you feel angry about that.', 'That sounds really frustrating.'],
  scared: ['That sounds frightening.', "It's understandable to feel worried about that."],
  stressed: ['That is a lot to carry at once.', 'That sounds overwhelming.'],
  guilty: ['It sounds like you are being very hard on yourself.', 'That sounds like a heavy feeling to carry.'],
  hurt: ['That must have really hurt.', 'That sounds very painful.'],
  confused: ["It's okay not to have the answers right now.", 'That sounds like a hard place to be.'],
  none: ['That sounds really hard.', 'Thank you for telling me.'],
};
const OPEN_QUESTIONS_EN = [
  'Can you tell me more about that?',
  'What has been the hardest part for you?',
  'How long have you been feeling this way?',
  'How are you coping with all of this?',
  'What happened?',
  'What is on your mind right now?',
];
const LISTENING_EN = ["I'm listening. Please take your time.", "I'm here with you. Go on, whenever you're ready."];

const EMOTION_JA: Record<Emotion | 'none', string> = {
  sad: '悲しいお気持ちなのですね。',
  lonely: 'ひとりぼっちのように感じていらっしゃるのですね。',
  tired: 'とてもお疲れなのですね。',
  angry: '腹が立つお気持ちなのですね。',
  scared: '不安で、こわいお気持ちなのですね。',
  stressed: 'いろいろなことが重なって、苦しいのですね。',
  guilty: 'ご自分を責めていらっしゃるのですね。',
  hurt: '傷ついていらっしゃるのですね。',
  confused: 'どうしたらいいか、迷っていらっしゃるのですね。',
  none: 'そうだったのですね。',
};
const VALIDATION_JA = ['それは、おつらかったですね。', 'お話ししてくださって、ありがとうございます。', 'そう感じるのは、自然なことだと思います。'];
const OPEN_QUESTIONS_JA = [
  'よろしければ、もう少し聞かせていただけますか。',
  'どんなことがあったのか、お話しいただけますか。',
  'いちばんつらいのは、どんなところですか。',
  'ゆっくりで大丈夫ですよ。',
];
const JAPANESE_CUES: Array<[RegExp, Emotion]> = [
  [/さびし|寂し|淋し|孤独|ひとりぼっち|一人ぼっち/u, 'lonely'],
  [/悲し|かなし|泣|落ち込|むなし|虚し/u, 'sad'],
  [/疲れ|つかれ|眠れ|ねむれ|だるい/u, 'tired'],
  [/腹が立|怒|イライラ|いらいら|むかつ/u, 'angry'],
  [/不安|怖|こわ|心配|おびえ/u, 'scared'],
  [/苦し|くるし|しんど|つら|辛/u, 'stressed'],
  [/自分のせい|申し訳|恥ずかし/u, 'guilty'],
  [/傷つ|裏切/u, 'hurt'],
  [/わからない|分からない|迷/u, 'confused'],
];

export interface Reflection {
  text: string;
  emotion?: Emotion;
}

/** A listening reply to what the caller said; `turn` picks the variant. */
export function reflect(utterance: string, language: ReplyLanguage, turn: number): Reflection {
  return language === 'ja' ? reflectJapanese(utterance, turn) : reflectEnglish(utterance, turn);
}

function reflectEnglish(utterance: string, turn: number): Reflection {
  const cue = findEmotion(utterance);
  const paraphrase = paraphraseFirstPerson(utterance);
  const pick = <T>(items: readonly T[], offset = 0): T => items[(turn + offset) % items.length] as T;
  const emotion = cue?.emotion;
  const validation = pick(VALIDATION_EN[emotion ?? 'none']);
  const question = pick(OPEN_QUESTIONS_EN);
  if (paraphrase !== undefined) {
    const lead = pick(['It sounds like', 'So', 'I hear that'], 0);
    const said = `${lead} ${paraphrase}.`;
    // Say the feeling back too when the paraphrase does not already carry it.
    const feeling = cue !== undefined && !paraphrase.includes(cue.word) ? ` You sound ${feelingWord(cue)}.` : '';
    const follow = turn % 2 === 0 ? question : cue !== undefined ? validation : question;
    const reflection: Reflection = { text: `${said}${feeling} ${follow}` };
    if (emotion !== undefined) reflection.emotion = emotion;
    return reflection;
  }
  if (cue !== undefined) {
    return { text: `It sounds like you're feeling ${feelingWord(cue)}. ${validation} ${question}`, emotion: cue.emotion };
  }
  if (wordsOf(utterance).length <= 2) return { text: pick(LISTENING_EN) };
  return { text: `${pick(['I see.', 'Mm, I understand.', 'I hear you.'])} ${question}` };
}

function feelingWord(cue: { emotion: Emotion; word: string }): string {
  return SAY_BACK_AS_IS.has(cue.word) ? cue.word : EMOTION_PHRASE[cue.emotion];
}

function findEmotion(utterance: string): { emotion: Emotion; word: string } | undefined {
  const text = ` ${normalizeUtterance(utterance)} `;
  for (const cue of EMOTION_CUES) {
    for (const word of cue.words) {
      if (text.includes(` ${word} `)) return { emotion: cue.emotion, word };
    }
  }
  return undefined;
}

const SWAPS: Record<string, string> = {
  i: 'you', me: 'you', my: 'your', mine: 'yours', myself: 'yourself', "i'm": "you're", "i've": "you've", "i'll": "you'll",
  "i'd": "you'd", we: 'you', us: 'you', our: 'your', ours: 'yours', ourselves: 'yourselves', "we're": "you're",
  "we've": "you've", your: 'my', yours: 'mine', yourself: 'myself', "you're": "I'm", "you've": "I've",
};
const LEADING_FILLERS = /^(?:(?:um+|uh+|er+|ah+|hmm+|well|so|and|but|like|you know|i mean|okay|ok|yeah|oh)\s+)+/;

/**
 * The caller's first first-person clause, said back: "i feel so alone since my wife left" →
 * "you feel so alone since your wife left". Undefined when there is no clause worth saying back.
 */
export function paraphraseFirstPerson(utterance: string): string | undefined {
  const clauses = normalizeUtterance(utterance)
    .split(/\s+(?:but|because|and then|and so|so that|although|though|cause)\s+/)
    .map((c) => c.replace(LEADING_FILLERS, '').trim())
    .filter((c) => c !== '');
  const clause = clauses.find((c) => /^(?:i|i'm|i've|i'd|i'll|my|we|we're|we've|our)\b/.test(c));
  if (clause === undefined) return undefined;
  let words = clause.split(' ');
  if (words.length < 2) return undefined;
  if (words.length > 14) words = words.slice(0, 14);
  const swapped: string[] = [];
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] as string;
    const previous = words[i - 1];
    if (word === 'am' && previous === 'i') swapped.push('are');
    else if (word === 'was' && previous === 'i') swapped.push('were');
    else if (word === 'you') swapped.push(i === 0 || /^(?:and|but|so|that|if|when)$/.test(previous ?? '') ? 'I' : 'me');
    else if (word === 'are' && previous === 'you') swapped.push('am');
    else swapped.push(SWAPS[word] ?? word);
  }
  // A trailing "and", "but", "like" reads as cut off.
  while (swapped.length > 2 && /^(?:and|but|like|so|the|a|to|of|um|uh)$/.test(swapped.at(-1) as string)) swapped.pop();
  return swapped.join(' ');
}

function reflectJapanese(utterance: string, turn: number): Reflection {
  const normalized = normalizeUtterance(utterance);
  const pick = <T>(items: readonly T[], offset = 0): T => items[(turn + offset) % items.length] as T;
  let emotion: Emotion | undefined = JAPANESE_CUES.find(([pattern]) => pattern.test(normalized))?.[1];
  emotion ??= findEmotion(utterance)?.emotion;
  const echo = japaneseEcho(utterance);
  const first = echo ?? EMOTION_JA[emotion ?? 'none'];
  const second = emotion !== undefined && turn % 2 === 1 ? pick(VALIDATION_JA) : pick(OPEN_QUESTIONS_JA);
  const reflection: Reflection = { text: `${first}${second}` };
  if (emotion !== undefined) reflection.emotion = emotion;
  return reflection;
}

/** A short Japanese statement said back with 「〜のですね」, for the plain and polite endings that allow it. */
function japaneseEcho(utterance: string): string | undefined {
  const text = utterance.trim().replace(/[。!?!?…\s]+$/u, '');
  if (!/[\u3040-\u30ff\u3400-\u9fff]/u.test(text) || [...text].length > 24) return undefined;
  const clause = text.split(/[、。]/u).at(-1) ?? text;
  const plain = clause
    .replace(/^(?:私|わたし|僕|ぼく|俺|おれ)(?:は|が)/u, '')
    .replace(/ています$/u, 'ている')
    .replace(/ていました$/u, 'ていた')
    .replace(/ました$/u, 'た')
    .replace(/ません$/u, 'ない')
    .replace(/(い)です$/u, '$1')
    .replace(/です$/u, 'な')
    .replace(/だ$/u, 'な');
  if (plain === '' || /ます$/u.test(plain)) return undefined;
  if (!/(?:い|た|ない|ている|ていた|な)$/u.test(plain)) return undefined;
  return `${plain}のですね。`;
}
