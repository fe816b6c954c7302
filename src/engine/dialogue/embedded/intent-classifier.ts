// Which intent a recognised utterance means. Two layers, because the recogniser gets about one word in
// four wrong: a keyword layer that decides short utterances ("yes", "bye", "operator") on fuzzy word
// matches, and nlp.js's neural classifier, trained from the intents' examples, for everything longer.
// A classifier guess also needs a content word it was trained on, so noise does not land on an intent
// by chance; otherwise the utterance is not understood and the fallback answers.
import { createRequire } from 'node:module';
import type { DialoguePlan } from './dialogue-plan.js';
import { FUNCTION_WORDS, contentWords, findPhrase, hasJapanese, normalizeUtterance, wordsMatch, wordsOf } from './spoken-words.js';

/** Minimal typing of the nlp.js API used here (the packages ship no types). */
interface NlpClassification {
  classifications: Array<{ intent: string; score: number }>;
}
interface NlpInstance {
  addDocument(locale: string, utterance: string, intent: string): void;
  train(): Promise<unknown>;
  classify(locale: string, utterance: string): Promise<NlpClassification>;
}
interface NlpContainer {
  use(plugin: unknown): void;
}
const require = createRequire(import.meta.url);
const { containerBootstrap } = require('@nlpjs/core') as { containerBootstrap: () => NlpContainer };
const { Nlp } = require('@nlpjs/nlp') as { Nlp: new (settings: Record<string, unknown>) => NlpInstance };
const { LangEn } = require('@nlpjs/lang-en-min') as { LangEn: unknown };

export interface Classification {
  /** Undefined: not understood. */
  intent: string | undefined;
  score: number;
  via: 'keyword' | 'classifier' | 'none';
}

export interface ClassifyOptions {
  /** A question is pending: intents marked onlyWhenAwaiting are eligible. */
  awaiting: boolean;
}

/** Utterances up to this many words are decided by keywords when one matches. */
const SHORT_UTTERANCE_WORDS = 4;
const CLASSIFIER_THRESHOLD = 0.62;
/** For intents that end or hand over the call. */
const COSTLY_THRESHOLD = 0.85;
const COSTLY_TOOLS = new Set(['hang_up', 'transfer']);
/** Single keywords too common to decide on their own against a longer phrase. */
const WEAK_KEYWORDS = new Set([...FUNCTION_WORDS, 'what', 'right', 'sure', 'fine', 'great', 'open', 'close', 'hit', 'push', 'wait', 'stop', 'huh']);
const MEMO_ENTRIES = 512;
/** Words after which a heard "by" is a goodbye. */
const CLOSERS = new Set(['ok', 'okay', 'thanks', 'thank', 'you', 'alright', 'right', 'bye', 'by', 'good', 'well', 'then', 'so', 'cheers', 'great', 'much', 'now', 'all', 'yeah', 'yes', 'no', 'oh', 'lot', 'it']);
/** Share of the content words an intent must know before a guess is believed. */
const MIN_COVERAGE = 0.5;
const COSTLY_COVERAGE = 0.75;

interface KeywordEntry {
  intent: string;
  phrase: string[];
  /** A CJK keyword is matched as a substring. */
  substring?: string;
}

export class IntentClassifier {
  readonly #nlp: NlpInstance | undefined;
  readonly #keywords: KeywordEntry[];
  readonly #vocabulary: Map<string, Set<string>>;
  readonly #precedence: Map<string, number>;
  readonly #onlyWhenAwaiting: Set<string>;
  readonly #costly: Set<string>;
  /** Intents that end the call. */
  readonly #ending: Set<string>;
  readonly #memo = new Map<string, Classification>();
  /** log(intents / intents using the word): rare words say more. */
  readonly #idf = new Map<string, number>();
  /** The idf of a word two intents share: the bar for deciding on words alone. */
  readonly #distinctiveIdf: number;

  private constructor(nlp: NlpInstance | undefined, plan: DialoguePlan) {
    this.#nlp = nlp;
    this.#keywords = [];
    this.#vocabulary = new Map();
    this.#precedence = new Map(plan.precedence.map((name, i) => [name, i]));
    this.#costly = new Set([...plan.intents.values()].filter((i) => i.tool !== undefined && COSTLY_TOOLS.has(i.tool.name)).map((i) => i.name));
    this.#ending = new Set([...plan.intents.values()].filter((i) => i.tool?.name === 'hang_up').map((i) => i.name));
    this.#onlyWhenAwaiting = new Set([...plan.intents.values()].filter((i) => i.onlyWhenAwaiting === true).map((i) => i.name));
    for (const intent of plan.intents.values()) {
      const vocabulary = new Set<string>();
      for (const text of [...intent.examples, ...intent.keywords]) {
        if (hasJapanese(text)) continue;
        for (const word of contentWords(wordsOf(text))) vocabulary.add(word);
      }
      if (vocabulary.size > 0) this.#vocabulary.set(intent.name, vocabulary);
      for (const keyword of intent.keywords) {
        if (hasJapanese(keyword)) this.#keywords.push({ intent: intent.name, phrase: [], substring: normalizeUtterance(keyword) });
        else this.#keywords.push({ intent: intent.name, phrase: wordsOf(keyword) });
      }
      // A Japanese example is as good as a keyword: the English tokenizer cannot split it.
      for (const example of intent.examples) {
        if (hasJapanese(example)) this.#keywords.push({ intent: intent.name, phrase: [], substring: normalizeUtterance(example) });
      }
    }
    const documentFrequency = new Map<string, number>();
    for (const vocabulary of this.#vocabulary.values()) {
      for (const word of vocabulary) documentFrequency.set(word, (documentFrequency.get(word) ?? 0) + 1);
    }
    const intents = Math.max(2, this.#vocabulary.size);
    for (const [word, df] of documentFrequency) this.#idf.set(word, Math.log(intents / df));
    this.#distinctiveIdf = Math.log(intents / 2);
  }

  /** Trains nlp.js on the plan's examples and keywords (30–60 ms for the built-in set of about 250 phrases). */
  static async train(plan: DialoguePlan): Promise<IntentClassifier> {
    const container = containerBootstrap();
    container.use(LangEn);
    const nlp = new Nlp({ container, languages: ['en'], autoSave: false, autoLoad: false, nlu: { log: false }, forceNER: false });
    let documents = 0;
    for (const intent of plan.intents.values()) {
      for (const text of [...intent.examples, ...intent.keywords]) {
        if (hasJapanese(text) || wordsOf(text).length === 0) continue;
        nlp.addDocument('en', normalizeUtterance(text), intent.name);
        documents += 1;
      }
    }
    if (documents === 0) return new IntentClassifier(undefined, plan);
    await nlp.train();
    return new IntentClassifier(nlp, plan);
  }

  async classify(utterance: string, options: ClassifyOptions): Promise<Classification> {
    const text = normalizeUtterance(utterance);
    const key = `${options.awaiting ? 1 : 0}${text}`;
    const known = this.#memo.get(key);
    if (known !== undefined) return known;
    const result = await this.#classify(text, options);
    if (this.#memo.size >= MEMO_ENTRIES) this.#memo.delete(this.#memo.keys().next().value as string);
    this.#memo.set(key, result);
    return result;
  }

  async #classify(text: string, options: ClassifyOptions): Promise<Classification> {
    const none: Classification = { intent: undefined, score: 0, via: 'none' };
    if (text === '') return none;
    const eligible = (intent: string): boolean => options.awaiting || !this.#onlyWhenAwaiting.has(intent);
    const words = text.split(' ');
    const keyword = this.#keywordMatch(text, words, eligible);
    if (keyword !== undefined && keyword.score >= 1 && (words.length <= SHORT_UTTERANCE_WORDS || keyword.score >= 2 || hasJapanese(text))) {
      return { intent: keyword.intent, score: 1, via: 'keyword' };
    }
    const lexical = this.#lexicalScores(words);
    const lexicalBest = [...lexical.entries()].filter(([intent]) => eligible(intent)).sort((a, b) => b[1] - a[1])[0];
    if (this.#nlp !== undefined && !hasJapanese(text)) {
      const output = await this.#nlp.classify('en', text);
      const best = output.classifications.find((c) => c.intent === 'None' || eligible(c.intent));
      if (best !== undefined && best.intent !== 'None') {
        // Ending or handing over the call on a misheard sentence is the costliest mistake: ask for more certainty.
        const threshold = this.#costly.has(best.intent) ? COSTLY_THRESHOLD : CLASSIFIER_THRESHOLD;
        const support = lexical.get(best.intent) ?? 0;
        const coverage = this.#coverage(best.intent, words);
        if (best.score >= threshold && support > 0 && coverage >= (this.#costly.has(best.intent) ? COSTLY_COVERAGE : MIN_COVERAGE)) {
          // The network can be sure for odd reasons ("some one" → "one moment"); rarer shared words outvote it.
          if (lexicalBest !== undefined && lexicalBest[0] !== best.intent && lexicalBest[1] >= 2 * support) {
            return { intent: lexicalBest[0], score: 0.6, via: 'keyword' };
          }
          return { intent: best.intent, score: best.score, via: 'classifier' };
        }
      }
    }
    // Words only one or two intents use still beat not understanding at all, when they are most of what
    // was said (all of it, and more of them, for intents that end or hand over the call).
    if (lexicalBest !== undefined) {
      const costly = this.#costly.has(lexicalBest[0]);
      const coverage = this.#coverage(lexicalBest[0], words);
      if (costly ? coverage === 1 && lexicalBest[1] >= 2 * this.#distinctiveIdf : coverage >= MIN_COVERAGE && lexicalBest[1] >= this.#distinctiveIdf) {
        return { intent: lexicalBest[0], score: 0.5, via: 'keyword' };
      }
    }
    // A telling word ("operator", "somebody", "goodbye") in a longer sentence the classifier could not place.
    if (keyword !== undefined && keyword.telling) return { intent: keyword.intent, score: 0.5, via: 'keyword' };
    // A common word alone ("please", "what") decides only when nothing else did and nothing unknown was said.
    if (keyword !== undefined && words.length <= SHORT_UTTERANCE_WORDS && this.#coverage(keyword.intent, words, 1) === 1) {
      return { intent: keyword.intent, score: 0.5, via: 'keyword' };
    }
    return none;
  }

  /** The share of the utterance's content words the intent's vocabulary knows. */
  #coverage(intent: string, words: readonly string[], whenNothingSaid = 0): number {
    const vocabulary = this.#vocabulary.get(intent);
    const content = [...new Set(words.filter((w) => !FUNCTION_WORDS.has(w)))];
    if (content.length === 0) return whenNothingSaid;
    if (vocabulary === undefined) return 0;
    return content.filter((word) => [...vocabulary].some((known) => sameWord(word, known))).length / content.length;
  }

  /** Per intent: the summed rarity (idf) of the utterance's content words found in its vocabulary. */
  #lexicalScores(words: readonly string[]): Map<string, number> {
    const scores = new Map<string, number>();
    const content = [...new Set(words.filter((w) => !FUNCTION_WORDS.has(w)))];
    for (const [intent, vocabulary] of this.#vocabulary) {
      let score = 0;
      for (const word of content) {
        let bestIdf = 0;
        for (const known of vocabulary) {
          if (sameWord(word, known)) bestIdf = Math.max(bestIdf, this.#idf.get(known) ?? 0);
        }
        score += bestIdf;
      }
      if (score > 0) scores.set(intent, score);
    }
    return scores;
  }

  /** The best keyword match: longest phrase (a weak single word counts half); ties go to precedence. */
  #keywordMatch(
    text: string,
    words: readonly string[],
    eligible: (intent: string) => boolean,
  ): { intent: string; score: number; telling: boolean } | undefined {
    let best: { intent: string; score: number; rank: number; telling: boolean } | undefined;
    for (const entry of this.#keywords) {
      if (!eligible(entry.intent)) continue;
      let score = 0;
      // Callers close with their goodbye: "bye" early in a longer sentence ("he said goodbye and left",
      // 失礼します、… as "excuse me") is not one, and ending the call on it would be the worst mistake.
      const closing = this.#ending.has(entry.intent);
      if (entry.substring !== undefined) {
        const at = text.lastIndexOf(entry.substring);
        if (at >= 0 && (!closing || text.length - (at + entry.substring.length) <= 3)) score = 2;
      } else {
        const end = findPhrase(words, entry.phrase);
        const last = words[end - 1];
        // "by" is "bye" only after a closing word ("okay by", "thank you by"), not in "stop by" or "stand by".
        const heardBy = closing && end > 0 && entry.phrase.at(-1) === 'bye' && last !== 'bye' && last !== 'goodbye';
        const byOk =
          !heardBy ||
          words.length <= 1 ||
          CLOSERS.has(words[end - 2] ?? '') ||
          (end === 1 && ['for', 'now', 'then', 'bye', 'by', 'everyone'].includes(words[1] ?? ''));
        if (end >= 0 && byOk && (!closing || words.length <= SHORT_UTTERANCE_WORDS || words.length - end <= 1)) {
          score = entry.phrase.length === 1 && WEAK_KEYWORDS.has(entry.phrase[0] as string) ? 0.5 : entry.phrase.length;
          // A goodbye that closes the sentence outweighs the thanks before it ("thank you so much, bye").
          if (closing && words.length - end <= 1 && words.length > 1) score += 1.5;
        }
      }
      if (score === 0) continue;
      const rank = this.#precedence.get(entry.intent) ?? Number.MAX_SAFE_INTEGER;
      const telling = score >= 2 || (score === 1 && (entry.phrase[0]?.length ?? 0) >= 5);
      if (best === undefined || score > best.score || (score === best.score && rank < best.rank)) best = { intent: entry.intent, score, rank, telling };
    }
    return best === undefined ? undefined : { intent: best.intent, score: best.score, telling: best.telling };
  }
}

/** Lexical evidence: fuzzy spelling or a shared stem, but not homophones (those are for short phrases). */
function sameWord(heard: string, known: string): boolean {
  return wordsMatch(heard, known, false) || stem(heard) === stem(known);
}

/** Enough stemming to let "opening"/"open" and "calls"/"call" meet. */
function stem(word: string): string {
  return word.replace(/(?:ing|ed|es|s|ly)$/, '');
}
