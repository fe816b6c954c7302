// Reading slot values out of recognised speech: digit strings, yes/no, numbers, day words, enum choices and
// free text. Each reader is forgiving in the ways pocketsphinx is wrong ("for" for "four", "know" for "no")
// but only where the context makes the reading safe.
import { findPhrase, normalizeUtterance, wordsMatch, wordsOf } from './spoken-words.js';

export type SlotType = 'digits' | 'yes_no' | 'number' | 'date' | 'free_text' | 'enum';

export interface EnumChoice {
  value: string;
  /** Phrases that mean this value, the value itself included. */
  synonyms: string[];
}

export interface SlotSpec {
  name: string;
  type: SlotType;
  /** Questions asked when the slot is missing; used in rotation. */
  prompts: string[];
  /** Asked after an answer that could not be read. */
  retries: string[];
  choices?: EnumChoice[];
  minDigits?: number;
  maxDigits?: number;
}

export interface SlotValue {
  /** The value as data: "4561234", "yes", "3", "next Monday", "billing". Used in tool arguments. */
  raw: string;
  /** The value as it should be spoken back: digits one by one, names capitalised. */
  spoken: string;
}

/** Koe's bridge tells keypad presses as a user line: "The caller pressed 1234# on the phone keypad." */
const KEYPAD_NOTE = /^the caller pressed ([0-9A-D*#w]+) on the phone keypad\.?$/i;

/** The keys of a keypad note, or undefined for speech. */
export function keypadKeys(utterance: string): string | undefined {
  return utterance.trim().match(KEYPAD_NOTE)?.[1];
}

export function readSlot(spec: SlotSpec, utterance: string): SlotValue | undefined {
  switch (spec.type) {
    case 'digits': {
      const keys = keypadKeys(utterance);
      // On the keypad "#" ends an entry; it is not part of the number.
      const digits = keys !== undefined ? (keys.length > 1 ? keys.replace(/#$/, '') : keys) : readDigits(utterance);
      if (digits === undefined) return undefined;
      const count = digits.replace(/[^0-9]/g, '').length;
      if (count < (spec.minDigits ?? 1) || digits.length > (spec.maxDigits ?? 32)) return undefined;
      return { raw: digits, spoken: speakDigits(digits) };
    }
    case 'yes_no': {
      const answer = readYesNo(utterance);
      return answer === undefined ? undefined : { raw: answer, spoken: answer };
    }
    case 'number': {
      const n = readNumber(utterance);
      return n === undefined ? undefined : { raw: String(n), spoken: String(n) };
    }
    case 'date': {
      const day = readDate(utterance);
      return day === undefined ? undefined : { raw: day, spoken: day };
    }
    case 'enum': {
      const choice = readChoice(utterance, spec.choices ?? []);
      return choice === undefined ? undefined : { raw: choice, spoken: choice.replace(/[_-]+/g, ' ') };
    }
    case 'free_text': {
      const text = readFreeText(utterance, spec.name);
      return text === undefined ? undefined : { raw: text, spoken: text };
    }
  }
}

// ---- digits ---------------------------------------------------------------------------------------------

const DIGIT_WORDS: Record<string, string> = {
  zero: '0', oh: '0', o: '0', nought: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7',
  eight: '8', nine: '9', niner: '9', star: '*', asterisk: '*', pound: '#', hash: '#', hashtag: '#',
};
/** Words the recogniser writes for digits; read as digits only next to a real digit. */
const DIGIT_HOMOPHONES: Record<string, string> = {
  won: '1', to: '2', too: '2', tree: '3', free: '3', for: '4', fore: '4', fife: '5', ate: '8', nein: '9', owe: '0',
};
const TEENS: Record<string, string> = {
  ten: '10', eleven: '11', twelve: '12', thirteen: '13', fourteen: '14', fifteen: '15', sixteen: '16', seventeen: '17',
  eighteen: '18', nineteen: '19',
};
const TENS: Record<string, string> = {
  twenty: '2', thirty: '3', forty: '4', fifty: '5', sixty: '6', seventy: '7', eighty: '8', ninety: '9',
};
/** Words that may sit inside a spoken digit string without ending it. */
const DIGIT_CONNECTORS = new Set(['um', 'uh', 'er', 'ah', 'and', 'then', 'dash', 'hyphen', 'space', 'comma', 'uhm', 'hmm']);

type DigitToken = { kind: 'digits'; text: string } | { kind: 'maybe'; text: string } | { kind: 'connector' } | { kind: 'other' };

/**
 * The longest digit string in the utterance: "four five six", "456", "double five", "eight hundred",
 * "twenty one", and star/pound keys. Undefined when there is none.
 */
export function readDigits(utterance: string): string | undefined {
  const words = wordsOf(utterance).flatMap((w) => (/^[0-9*#+]+$/.test(w) ? [w.replace(/\+/g, '')] : [w]));
  const tokens: DigitToken[] = [];
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] as string;
    const next = words[i + 1];
    if (/^[0-9*#]+$/.test(word)) tokens.push({ kind: 'digits', text: word });
    else if ((word === 'double' || word === 'triple') && next !== undefined && DIGIT_WORDS[next] !== undefined) {
      tokens.push({ kind: 'digits', text: (DIGIT_WORDS[next] as string).repeat(word === 'double' ? 2 : 3) });
      i += 1;
    } else if (DIGIT_WORDS[word] !== undefined) tokens.push({ kind: 'digits', text: DIGIT_WORDS[word] });
    else if (TEENS[word] !== undefined) tokens.push({ kind: 'digits', text: TEENS[word] });
    else if (TENS[word] !== undefined) {
      const unit = next === undefined ? undefined : DIGIT_WORDS[next];
      if (unit !== undefined && /^[1-9]$/.test(unit)) {
        tokens.push({ kind: 'digits', text: `${TENS[word]}${unit}` });
        i += 1;
      } else tokens.push({ kind: 'digits', text: `${TENS[word]}0` });
    } else if (word === 'hundred' && tokens.at(-1)?.kind === 'digits') tokens.push({ kind: 'digits', text: '00' });
    else if (word === 'thousand' && tokens.at(-1)?.kind === 'digits') tokens.push({ kind: 'digits', text: '000' });
    else if (DIGIT_HOMOPHONES[word] !== undefined) tokens.push({ kind: 'maybe', text: DIGIT_HOMOPHONES[word] });
    else if (DIGIT_CONNECTORS.has(word)) tokens.push({ kind: 'connector' });
    else tokens.push({ kind: 'other' });
  }
  // A homophone counts when a real digit is its neighbour (connectors skipped); repeat until stable so
  // "five for to" reads as three digits.
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < tokens.length; i += 1) {
      const token = tokens[i] as DigitToken;
      if (token.kind !== 'maybe') continue;
      if (neighbourIsDigits(tokens, i, -1) || neighbourIsDigits(tokens, i, 1)) {
        tokens[i] = { kind: 'digits', text: token.text };
        changed = true;
      }
    }
  }
  let best = '';
  let run = '';
  for (const token of tokens) {
    if (token.kind === 'digits') run += token.text;
    else if (token.kind !== 'connector') {
      if (run.length > best.length) best = run;
      run = '';
    }
  }
  if (run.length > best.length) best = run;
  return best === '' ? undefined : best;
}

function neighbourIsDigits(tokens: readonly DigitToken[], index: number, step: 1 | -1): boolean {
  for (let i = index + step; i >= 0 && i < tokens.length; i += step) {
    const token = tokens[i] as DigitToken;
    if (token.kind === 'connector') continue;
    return token.kind === 'digits';
  }
  return false;
}

/** "4561234" → "4 5 6, 1 2 3 4": one digit at a time, so speech does not say "four million", grouped as phone numbers are read. */
export function speakDigits(digits: string): string {
  const chars = [...digits].map((c) => (c === '*' ? 'star' : c === '#' ? 'pound' : c));
  if (chars.length < 7) return chars.join(' ');
  const sizes = chars.length === 7 ? [3, 4] : chars.length === 10 ? [3, 3, 4] : chars.length === 11 ? [3, 4, 4] : [];
  if (sizes.length === 0) {
    for (let left = chars.length; left > 0; left -= 3) sizes.push(left === 4 ? 4 : Math.min(3, left));
    if (sizes.at(-1) === 1) sizes.splice(-2, 2, 4);
  }
  const groups: string[] = [];
  let at = 0;
  for (const size of sizes) {
    groups.push(chars.slice(at, at + size).join(' '));
    at += size;
  }
  return groups.join(', ');
}

// ---- yes / no -------------------------------------------------------------------------------------------

const YES_PHRASES = [
  'yes', 'yeah', 'yep', 'yup', 'ya', 'yah', 'yas', 'sure', 'certainly', 'correct', 'right', 'exactly', 'absolutely',
  'definitely', 'of course', 'ok', 'okay', 'alright', 'all right', 'please', 'affirmative', 'go ahead', 'sounds good',
  'that would be great', 'i would', 'i do', 'uh huh', 'mhm', 'that works', 'perfect', 'great', 'fine',
].map(wordsOf);
const NO_PHRASES = [
  'no', 'nope', 'nah', 'not really', 'not now', 'negative', 'never', "don't", 'do not', 'i do not', 'wrong', 'incorrect',
  "that's wrong", 'no thanks', 'no thank you', "i'm good", "i'm fine", "that's okay", "that's ok", 'not at all',
].map(wordsOf);
const UNSURE_PHRASES = ['not sure', "don't know", 'do not know', 'maybe', 'perhaps', 'no idea'].map(wordsOf);
const JA_YES = ['はい', 'ええ', 'うん', 'そうです', 'お願いします', 'おねがいします', 'そうですね'];
const JA_NO = ['いいえ', 'いや', '違います', 'ちがいます', '結構です', 'けっこうです', '大丈夫です'];

/** A yes or a no, from the first few words (a long answer may mention "no" later for other reasons). */
export function readYesNo(utterance: string): 'yes' | 'no' | undefined {
  const normalized = normalizeUtterance(utterance);
  const jaNo = JA_NO.findIndex((w) => normalized.includes(w));
  const jaYes = JA_YES.findIndex((w) => normalized.includes(w));
  if (jaNo >= 0) return 'no';
  if (jaYes >= 0) return 'yes';
  const all = wordsOf(utterance);
  const words = all.length > 6 ? all.slice(0, 4) : all;
  if (words.length === 0) return undefined;
  if (UNSURE_PHRASES.some((p) => findPhrase(words, p) >= 0)) return undefined;
  const noAt = firstPhrase(words, NO_PHRASES);
  let yesAt = firstPhrase(words, YES_PHRASES);
  // "not sure", "not right": a negated yes-word is a no.
  if (yesAt > 0 && words[yesAt - 1] === 'not') yesAt = -1;
  if (noAt >= 0 && (yesAt < 0 || noAt <= yesAt)) return 'no';
  if (yesAt >= 0) return 'yes';
  // The recogniser hears "no" as "know" and "yes" as "yet"/"yes sir" as "yessir" in short answers.
  if (all.length <= 3 && words.some((w) => w === 'know' || w === 'now' || w === 'noe')) return 'no';
  if (all.length <= 2 && words.some((w) => w === 'yet' || w === 'yes' || w === 'yesh' || w === 'yessir' || w === 'guess')) return 'yes';
  return undefined;
}

function firstPhrase(words: readonly string[], phrases: readonly string[][]): number {
  let best = -1;
  for (const phrase of phrases) {
    for (let start = 0; start < words.length; start += 1) {
      if (phrase.every((p, k) => words[start + k] === p)) {
        if (best < 0 || start < best) best = start;
        break;
      }
    }
  }
  return best;
}

// ---- numbers --------------------------------------------------------------------------------------------

const UNITS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11,
  twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19,
};
const TENS_VALUE: Record<string, number> = {
  twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
};

/** The first quantity spoken: "twenty five", "a hundred and five", "3", "a couple", "a dozen". */
export function readNumber(utterance: string): number | undefined {
  const words = wordsOf(utterance);
  for (let i = 0; i < words.length; i += 1) {
    const parsed = numberAt(words, i, words.length <= 2);
    if (parsed !== undefined) return parsed;
  }
  return undefined;
}

function numberAt(words: readonly string[], start: number, allowHomophones: boolean): number | undefined {
  const first = words[start] as string;
  if (/^\d+$/.test(first)) return Number(first);
  if (first === 'couple' || (first === 'a' && words[start + 1] === 'couple')) return 2;
  if (first === 'dozen' || (first === 'a' && words[start + 1] === 'dozen')) return 12;
  if (allowHomophones && DIGIT_HOMOPHONES[first] !== undefined) return Number(DIGIT_HOMOPHONES[first]);
  let total = 0;
  let current = 0;
  let seen = false;
  let lastWasUnit = false;
  for (let i = start; i < words.length; i += 1) {
    const word = words[i] as string;
    if (UNITS[word] !== undefined) {
      if (lastWasUnit) break;
      current += UNITS[word];
      lastWasUnit = true;
    } else if (TENS_VALUE[word] !== undefined) {
      if (seen && current % 100 !== 0) break;
      current += TENS_VALUE[word];
      lastWasUnit = false;
    } else if (word === 'hundred') {
      current = (current === 0 ? 1 : current) * 100;
      lastWasUnit = false;
    } else if (word === 'thousand') {
      total += (current === 0 ? 1 : current) * 1000;
      current = 0;
      lastWasUnit = false;
    } else if ((word === 'a' || word === 'an') && !seen && (words[i + 1] === 'hundred' || words[i + 1] === 'thousand')) {
      continue;
    } else if (word === 'and' && seen) {
      continue;
    } else break;
    seen = true;
  }
  return seen ? total + current : undefined;
}

// ---- dates ----------------------------------------------------------------------------------------------

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const MONTHS = [
  'january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december',
];
const ORDINALS: Record<string, number> = {
  first: 1, second: 2, third: 3, fourth: 4, fifth: 5, sixth: 6, seventh: 7, eighth: 8, ninth: 9, tenth: 10, eleventh: 11,
  twelfth: 12, thirteenth: 13, fourteenth: 14, fifteenth: 15, sixteenth: 16, seventeenth: 17, eighteenth: 18,
  nineteenth: 19, twentieth: 20, thirtieth: 30,
};
const PARTS_OF_DAY = new Set(['morning', 'afternoon', 'evening', 'night']);

/**
 * A day as words, normalised: "today", "tomorrow afternoon", "the day after tomorrow", "next Monday",
 * "this weekend", "May 5", "the 12th". Relative words are kept relative: the engine does not know the date.
 */
export function readDate(utterance: string): string | undefined {
  const normalized = normalizeUtterance(utterance);
  const ja = normalized.match(/(\d{1,2}月\d{1,2}日|明後日|あさって|明日|あした|今日|きょう|来週の?[月火水木金土日]曜日?|[月火水木金土日]曜日|来週|今週末|週末)/u);
  if (ja) return ja[1];
  const words = wordsOf(utterance);
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] as string;
    const next = words[i + 1];
    const withPart = (phrase: string, after: number): string =>
      words[after] !== undefined && PARTS_OF_DAY.has(words[after]) ? `${phrase} ${words[after]}` : phrase;
    if (word === 'today' || word === 'tonight') return withPart(word, i + 1);
    if (word === 'day' && next === 'after' && words[i + 2] === 'tomorrow') return 'the day after tomorrow';
    if (word === 'tomorrow' || wordsMatch(word, 'tomorrow')) return withPart('tomorrow', i + 1);
    const weekday = WEEKDAYS.find((d) => wordsMatch(word, d) || word === `${d}s`);
    if (weekday !== undefined) {
      const before = words[i - 1];
      const qualifier = before === 'next' || before === 'this' ? `${before} ` : '';
      return withPart(`${qualifier}${capitalise(weekday)}`, i + 1);
    }
    if ((word === 'next' || word === 'this') && (next === 'week' || next === 'weekend' || next === 'month')) return `${word} ${next}`;
    const month = MONTHS.findIndex((m) => (m.length < 5 ? word === m : wordsMatch(word, m)));
    if (month >= 0 && (month !== 4 || dayNumberAt(words, i + 1) !== undefined)) {
      const day = dayNumberAt(words, i + 1);
      return day === undefined ? capitalise(MONTHS[month] as string) : `${capitalise(MONTHS[month] as string)} ${day.value}`;
    }
    const day = word === 'the' ? dayNumberAt(words, i + 1) : undefined;
    if (day !== undefined && day.ordinal) {
      const ofMonth = words[day.end] === 'of' ? MONTHS.findIndex((m) => wordsMatch(words[day.end + 1] ?? '', m)) : -1;
      return ofMonth >= 0 ? `${capitalise(MONTHS[ofMonth] as string)} ${day.value}` : `the ${ordinalText(day.value)}`;
    }
  }
  return undefined;
}

function dayNumberAt(words: readonly string[], start: number): { value: number; end: number; ordinal: boolean } | undefined {
  const word = words[start];
  if (word === undefined) return undefined;
  const numeric = word.match(/^(\d{1,2})(st|nd|rd|th)?$/);
  if (numeric) {
    const value = Number(numeric[1]);
    return value >= 1 && value <= 31 ? { value, end: start + 1, ordinal: numeric[2] !== undefined } : undefined;
  }
  if (ORDINALS[word] !== undefined) return { value: ORDINALS[word], end: start + 1, ordinal: true };
  if ((word === 'twenty' || word === 'thirty') && words[start + 1] !== undefined && ORDINALS[words[start + 1] as string] !== undefined) {
    const value = (word === 'twenty' ? 20 : 30) + (ORDINALS[words[start + 1] as string] as number);
    return value <= 31 ? { value, end: start + 2, ordinal: true } : undefined;
  }
  if (UNITS[word] !== undefined && (UNITS[word] as number) >= 1) return { value: UNITS[word], end: start + 1, ordinal: false };
  return undefined;
}

function ordinalText(n: number): string {
  const suffix = n % 10 === 1 && n !== 11 ? 'st' : n % 10 === 2 && n !== 12 ? 'nd' : n % 10 === 3 && n !== 13 ? 'rd' : 'th';
  return `${n}${suffix}`;
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

// ---- enum and free text ---------------------------------------------------------------------------------

/** The choice whose value or synonym is spoken (earliest mention wins); fuzzy per word. */
export function readChoice(utterance: string, choices: readonly EnumChoice[]): string | undefined {
  const words = wordsOf(utterance);
  const normalized = normalizeUtterance(utterance);
  let best: { value: string; at: number; length: number } | undefined;
  for (const choice of choices) {
    for (const synonym of choice.synonyms) {
      const phrase = wordsOf(synonym.replace(/[_-]+/g, ' '));
      let at: number;
      if (/[\u3040-\u30ff\u3400-\u9fff]/u.test(synonym)) at = normalized.includes(normalizeUtterance(synonym)) ? 0 : -1;
      else {
        const end = findPhrase(words, phrase);
        at = end < 0 ? -1 : end - phrase.length;
      }
      if (at < 0) continue;
      if (best === undefined || at < best.at || (at === best.at && phrase.length > best.length)) {
        best = { value: choice.value, at, length: phrase.length };
      }
    }
  }
  return best?.value;
}

const FILLERS = /^(?:(?:um+|uh+|er+|ah+|hmm+|well|so|okay|ok|oh|yeah|yes)\s+)+/;
const NAME_PREFIXES = /^(?:my name is|my name's|the name is|name's|this is|it's|it is|i'm|i am|call me|you can call me)\s+/;

/** What was said, tidied: fillers dropped, "my name is" dropped for name slots, names capitalised. */
export function readFreeText(utterance: string, slotName: string): string | undefined {
  let text = normalizeUtterance(utterance).replace(FILLERS, '');
  const isName = /name/i.test(slotName);
  const label = slotName.replace(/_/g, ' ').toLowerCase();
  text = text.replace(new RegExp(`^(?:my|the) ${escapeRegExp(label)} (?:is|was)\\s+`), '');
  if (isName) text = text.replace(NAME_PREFIXES, '').replace(/\s+(?:speaking|here)$/, '');
  text = text.trim();
  if (!/\p{L}|\p{N}/u.test(text)) return undefined;
  if (isName && !/[\u3040-\u30ff\u3400-\u9fff]/u.test(text)) text = text.split(' ').map(capitalise).join(' ');
  return text;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
