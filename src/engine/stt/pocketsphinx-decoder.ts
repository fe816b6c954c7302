// One pocketsphinx decoder (≈100 MB with the en-us language model). Synchronous and slow (a few hundred
// milliseconds per utterance), so it lives in a worker thread; see pocketsphinx-worker.ts.
import { StageError } from '../stage.js';
import type { CompiledGrammar } from './grammar.js';
import { loadPocketsphinx, type NativePointer, type PocketsphinxBinding } from './pocketsphinx-binding.js';
import type { PocketsphinxModel } from './pocketsphinx-model.js';

export interface DecodeResult {
  text: string;
  /** Time spent inside pocketsphinx. */
  decodeMs: number;
}

/** Compiled grammars kept per decoder; the oldest is dropped beyond this. */
const MAX_GRAMMARS = 32;

export class PocketsphinxDecoder {
  readonly #ps: PocketsphinxBinding;
  #decoder: NativePointer | undefined;
  #config: NativePointer | undefined;
  readonly #languageModelSearch: string;
  #currentSearch: string;
  readonly #grammars: string[] = [];

  constructor(model: PocketsphinxModel) {
    this.#ps = loadPocketsphinx();
    this.#ps.silenceLog();
    const config = this.#ps.createConfig([
      '-hmm', model.hmmDir,
      '-lm', model.languageModelPath,
      '-dict', model.dictionaryPath,
      '-featparams', model.featParamsPath,
      // Noise removal keeps a noise estimate from one utterance to the next, so a pooled decoder would
      // decode one call's audio differently depending on the call it served before. Without it the
      // result depends only on the utterance (and phone-band digits came out better: 7 % vs 16 % WER).
      '-remove_noise', 'no',
      // Silence removal keeps its own adaptive state across utterances too (the same audio was heard as
      // "product of an egg" and then "five six seven eight"); Koe's VAD already cut the utterance.
      '-remove_silence', 'no',
      '-logfn', '/dev/null',
    ]);
    if (!config) throw new StageError('unavailable', 'pocketsphinx rejected its configuration');
    const decoder = this.#ps.init(config);
    if (!decoder) {
      this.#ps.freeConfig(config);
      throw new StageError('unavailable', `pocketsphinx could not load the model in ${model.hmmDir}`);
    }
    this.#config = config;
    this.#decoder = decoder;
    this.#languageModelSearch = this.#ps.currentSearch(decoder) ?? '_default';
    this.#currentSearch = this.#languageModelSearch;
  }

  /** Decodes one whole utterance of 16 kHz mono PCM16, with the language model or a grammar. */
  decode(pcm: Int16Array, grammar?: CompiledGrammar): DecodeResult {
    const decoder = this.#decoder;
    if (!decoder) throw new StageError('closed', 'pocketsphinx decoder is freed');
    const started = performance.now();
    const search = grammar ? this.#ensureGrammar(decoder, grammar) : this.#languageModelSearch;
    if (search !== this.#currentSearch) {
      if (this.#ps.setSearch(decoder, search) < 0) throw new StageError('internal', `pocketsphinx could not switch to search ${search}`);
      this.#currentSearch = search;
    }
    if (pcm.length === 0) return { text: '', decodeMs: performance.now() - started };
    if (this.#ps.startUtterance(decoder) < 0) throw new StageError('internal', 'ps_start_utt failed');
    const processed = this.#ps.processRaw(decoder, pcm, true);
    const ended = this.#ps.endUtterance(decoder);
    if (processed < 0 || ended < 0) throw new StageError('internal', `pocketsphinx failed to decode (${processed}, ${ended})`);
    const hypothesis = this.#ps.hypothesis(decoder) ?? '';
    return { text: normalizeHypothesis(hypothesis), decodeMs: performance.now() - started };
  }

  #ensureGrammar(decoder: NativePointer, grammar: CompiledGrammar): string {
    const known = this.#grammars.indexOf(grammar.name);
    if (known >= 0) {
      this.#grammars.splice(known, 1);
      this.#grammars.push(grammar.name);
      return grammar.name;
    }
    const unknown = grammar.words.filter((word) => !this.#ps.hasWord(decoder, word));
    if (unknown.length > 0) {
      throw new StageError('bad_input', `grammar uses words missing from the pronunciation dictionary: ${unknown.slice(0, 10).join(', ')}`);
    }
    if (this.#ps.setJsgfString(decoder, grammar.name, grammar.jsgf) < 0) {
      throw new StageError('bad_input', 'pocketsphinx rejected the JSGF grammar (syntax error?)');
    }
    this.#grammars.push(grammar.name);
    if (this.#grammars.length > MAX_GRAMMARS) {
      const oldest = this.#grammars.shift() as string;
      if (oldest === this.#currentSearch) {
        this.#ps.setSearch(decoder, this.#languageModelSearch);
        this.#currentSearch = this.#languageModelSearch;
      }
      this.#ps.unsetSearch(decoder, oldest);
    }
    return grammar.name;
  }

  /** Frees the decoder. Idempotent. */
  free(): void {
    if (this.#decoder) this.#ps.free(this.#decoder);
    if (this.#config) this.#ps.freeConfig(this.#config);
    this.#decoder = undefined;
    this.#config = undefined;
  }
}

/** Words only: no alternate-pronunciation markers like "read(2)", single spaces. */
export function normalizeHypothesis(hypothesis: string): string {
  return hypothesis
    .replace(/\(\d+\)/g, '')
    .split(/\s+/)
    .filter((word) => word !== '' && !/^<.*>$/.test(word) && !/^\[.*\]$/.test(word))
    .join(' ');
}
