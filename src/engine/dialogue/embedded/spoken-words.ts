// Recognised speech as words: normalisation, fuzzy word comparison and phrase search, tuned for
// pocketsphinx output (lower case, no punctuation, about one word in four wrong).

/** Lower case, NFKC, punctuation to spaces (apostrophes inside words kept), single spaces. */
export function normalizeUtterance(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[’‘`]/g, "'")
    .replace(/[^\p{L}\p{N}'*#+\s]/gu, ' ')
    .replace(/(^|\s)'+|'+(?=\s|$)/g, '$1')
    .replace(CONTRACTION, (_all, head: string, tail: string) => `${head} ${EXPANSIONS[tail] ?? tail}`)
    .replace(/\s+/g, ' ')
    .trim();
}

/** "who's" and "who is" should read alike; only after pronouns, so "doctor's" keeps its meaning. */
const CONTRACTION = /\b(who|what|where|when|how|that|it|there|here|he|she|i|you|we|they)'(s|m|re|ve|ll|d)\b/g;
const EXPANSIONS: Record<string, string> = { s: 'is', m: 'am', re: 'are', ve: 'have', ll: 'will', d: 'would' };

export function wordsOf(text: string): string[] {
  const normalized = normalizeUtterance(text);
  return normalized === '' ? [] : normalized.split(' ');
}

const CJK = /[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]/gu;

/** True when most letters are Japanese (kana or kanji). */
export function isMostlyJapanese(text: string): boolean {
  const letters = text.match(/\p{L}/gu)?.length ?? 0;
  if (letters === 0) return false;
  const cjk = text.match(CJK)?.length ?? 0;
  return cjk / letters > 0.3;
}

export function hasJapanese(text: string): boolean {
  return /[\u3040-\u30ff\u3400-\u9fff]/u.test(text);
}

/** Levenshtein distance, giving up (returning max + 1) once it cannot stay within max. */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > max) return max + 1;
    previous = current;
  }
  return previous[b.length] as number;
}

/** Words pocketsphinx writes for other words on phone audio, by the word meant. */
const HOMOPHONES: Record<string, readonly string[]> = {
  bye: ['by', 'buy', 'bi'],
  hi: ['high', 'hai'],
  hours: ['ours', 'hour'],
  please: ['piece', 'pleas'],
  message: ['massage', 'messages', 'messy'],
  no: ['know', 'noe'],
  person: ['purse', 'persons', 'parson'],
  live: ['life'],
  yes: ['yet', 'yeas'],
  what: ['watt', 'wat'],
  press: ['pres', 'presses', 'pressed'],
  pound: ['pounds'],
  operator: ['operate', 'operators'],
  repeat: ['repeats', 'repeated'],
  again: ['gain'],
  human: ['humans'],
  hello: ['hallo', 'hullo', 'yellow'],
};

/**
 * Whether a heard word may be the expected one: short words must match exactly (one wrong letter turns
 * "no" into "so"), longer ones may be one edit away, long ones two.
 */
export function wordsMatch(heard: string, expected: string, homophones = true): boolean {
  if (heard === expected) return true;
  if (homophones && HOMOPHONES[expected]?.includes(heard) === true) return true;
  const length = Math.min(heard.length, expected.length);
  if (length < 5) return false;
  return editDistance(heard, expected, length >= 8 ? 2 : 1) <= (length >= 8 ? 2 : 1);
}

/**
 * Finds a phrase in the words, each phrase word fuzzily, and also as one word written apart or together
 * ("good bye" for "goodbye", "voicemail" for "voice mail"). Returns the index after the match, or -1.
 */
export function findPhrase(words: readonly string[], phrase: readonly string[]): number {
  if (phrase.length === 0) return -1;
  const joined = phrase.join('');
  for (let start = 0; start < words.length; start += 1) {
    let ok = true;
    for (let k = 0; k < phrase.length; k += 1) {
      const word = words[start + k];
      if (word === undefined || !wordsMatch(word, phrase[k] as string)) {
        ok = false;
        break;
      }
    }
    if (ok) return start + phrase.length;
    // The recogniser splits and joins compounds freely.
    const two = (words[start] ?? '') + (words[start + 1] ?? '');
    if (phrase.length === 1 && words[start + 1] !== undefined && wordsMatch(two, joined)) return start + 2;
    if (phrase.length === 2 && wordsMatch(words[start] as string, joined)) return start + 1;
  }
  return -1;
}

/** Words that carry little meaning on their own; used to tell real overlap from chance. */
export const FUNCTION_WORDS = new Set(
  (
    'a an the and or but so if then than of to in on at by for from with about as into is am are was were be been being ' +
    'i me my mine myself you your yours we us our they them their he him his she her it its this that these those there here ' +
    "do does did doing have has had having can could would should will shall may might must i'm i'd i've i'll it's that's " +
    "what's there's don't doesn't didn't can't won't just please um uh er ah oh hmm well like yeah okay ok not no yes very really " +
    'some any all up out get got go going want wanna need know think let make now right guys anybody anyone still actually ' +
    'also too would will what'
  ).split(' '),
);

export function contentWords(words: readonly string[]): string[] {
  return words.filter((w) => !FUNCTION_WORDS.has(w) && !/^\d+$/.test(w));
}
