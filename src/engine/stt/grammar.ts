// Constrained recognition. When the agent asks for digits or a yes/no answer, recognising against a small
// grammar instead of the open language model cuts errors sharply on phone audio.
import { createHash } from 'node:crypto';
import { StageError } from '../stage.js';

export type RecognitionGrammar =
  /** A JSGF V1.0 grammar; its first public rule is used. */
  | { type: 'jsgf'; jsgf: string }
  /** A keyword list: the utterance is exactly one of these phrases (lower-case dictionary words). */
  | { type: 'phrases'; phrases: readonly string[] }
  /**
   * One or more spoken digits, "zero" to "nine". `allowOh` adds "oh" for zero: callers say it, but on phone
   * audio the recogniser then splits "zero" into "zero oh" (digit WER 11 % → 27 % in Koe's measurements).
   */
  | { type: 'digits'; allowOh?: boolean }
  /** "yes" or "no". */
  | { type: 'yes_no' };

/** A grammar ready for a decoder: a stable name (by content, so decoders can cache it), the text, its words. */
export interface CompiledGrammar {
  name: string;
  jsgf: string;
  words: readonly string[];
}

const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'] as const;
const MAX_JSGF_CHARS = 65_536;
const WORD = /^[a-z][a-z'.-]*$/;

function jsgf(name: string, rule: string): string {
  return `#JSGF V1.0;\ngrammar ${name};\npublic <${name}> = ${rule};\n`;
}

function phraseWords(phrase: string): string[] {
  const words = phrase.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) throw new StageError('bad_input', 'a grammar phrase is empty');
  for (const word of words) {
    if (!WORD.test(word)) throw new StageError('bad_input', `grammar phrase "${phrase}" has an unusable word "${word}" (letters and apostrophes only)`);
  }
  return words;
}

/** The words a JSGF text uses, for a dictionary check before pocketsphinx sees it. */
function jsgfWords(text: string): string[] {
  const body = text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, ' ')
    .replace(/^\s*#JSGF[^;]*;/, ' ')
    .replace(/\bgrammar\s+[\w.]+\s*;/g, ' ')
    .replace(/\bimport\s+<[^>]*>\s*;/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\/[^/]*\//g, ' ')
    .replace(/\bpublic\b/g, ' ')
    .replace(/[()[\]|*+=;]/g, ' ');
  return [...new Set(body.split(/\s+/).filter(Boolean).map((word) => word.toLowerCase()))];
}

function validateJsgf(text: string): void {
  if (text.length > MAX_JSGF_CHARS) throw new StageError('bad_input', `JSGF grammar is longer than ${MAX_JSGF_CHARS} characters`);
  if (!/^\s*#JSGF V1\.0\b/.test(text)) throw new StageError('bad_input', 'JSGF grammar must start with "#JSGF V1.0;"');
  // pocketsphinx's JSGF scanner copies characters it cannot match to stdout; keep those out.
  if (/[^\t\n\r\x20-\x7e]/.test(text)) throw new StageError('bad_input', 'JSGF grammar must be plain ASCII');
  if (!/\bpublic\s+</.test(text)) throw new StageError('bad_input', 'JSGF grammar has no public rule');
}

export function compileGrammar(grammar: RecognitionGrammar): CompiledGrammar {
  let text: string;
  let words: string[];
  switch (grammar.type) {
    case 'digits':
      words = grammar.allowOh ? [...DIGIT_WORDS, 'oh'] : [...DIGIT_WORDS];
      text = jsgf('digits', `( ${words.join(' | ')} )+`);
      break;
    case 'yes_no':
      words = ['yes', 'no'];
      text = jsgf('yes_no', 'yes | no');
      break;
    case 'phrases': {
      if (grammar.phrases.length === 0) throw new StageError('bad_input', 'a phrases grammar needs at least one phrase');
      const phrases = grammar.phrases.map(phraseWords);
      words = [...new Set(phrases.flat())];
      text = jsgf('phrases', phrases.map((p) => `( ${p.join(' ')} )`).join(' | '));
      break;
    }
    case 'jsgf':
      validateJsgf(grammar.jsgf);
      text = grammar.jsgf;
      words = jsgfWords(grammar.jsgf);
      break;
  }
  const name = `g_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
  return { name, jsgf: text, words };
}
