// The C functions of Debian's pocketsphinx 0.8 (libpocketsphinx3 + libsphinxbase3), bound through koffi.
// Only what a whole-utterance decoder needs.
import koffi, { type LibraryHandle } from 'koffi';
import { StageError } from '../stage.js';

export const POCKETSPHINX_PACKAGES = 'libpocketsphinx3 pocketsphinx-en-us';
export const POCKETSPHINX_INSTALL_HINT = `install the Debian packages: apt-get install -y ${POCKETSPHINX_PACKAGES}`;

/** An opaque C pointer as koffi hands it over. */
export type NativePointer = { readonly __brand: 'NativePointer' };

export interface PocketsphinxBinding {
  /** `cmd_ln_init(NULL, ps_args(), TRUE, name, value, …, NULL)`; the strings are copied. */
  createConfig(args: readonly string[]): NativePointer | null;
  freeConfig(config: NativePointer): void;
  init(config: NativePointer): NativePointer | null;
  free(decoder: NativePointer): void;
  startUtterance(decoder: NativePointer): number;
  /** `full_utt` = the buffer is the whole utterance: batch cepstral mean normalisation over all of it. */
  processRaw(decoder: NativePointer, pcm: Int16Array, fullUtterance: boolean): number;
  endUtterance(decoder: NativePointer): number;
  hypothesis(decoder: NativePointer): string | null;
  currentSearch(decoder: NativePointer): string | null;
  setSearch(decoder: NativePointer, name: string): number;
  unsetSearch(decoder: NativePointer, name: string): number;
  setJsgfString(decoder: NativePointer, name: string, jsgf: string): number;
  /** True when the pronunciation dictionary knows the word. */
  hasWord(decoder: NativePointer, word: string): boolean;
  /** Silences sphinxbase's own logging, which otherwise writes to stderr from every thread. */
  silenceLog(): void;
}

let binding: PocketsphinxBinding | undefined;

/** The first of `names` that loads; otherwise StageError `unavailable` naming the Debian packages. */
export function openLibrary(names: readonly string[]): LibraryHandle {
  let lastError: unknown;
  for (const name of names) {
    try {
      return koffi.load(name);
    } catch (error) {
      lastError = error;
    }
  }
  throw new StageError('unavailable', `pocketsphinx is not installed (could not load ${names.join(' or ')}); ${POCKETSPHINX_INSTALL_HINT}`, {
    cause: lastError,
  });
}

/** Loads the libraries once per thread. Throws StageError `unavailable` naming the packages to install. */
export function loadPocketsphinx(): PocketsphinxBinding {
  if (binding) return binding;
  const sphinxbase = openLibrary(['libsphinxbase.so.3', 'libsphinxbase.so']);
  const pocketsphinx = openLibrary(['libpocketsphinx.so.3', 'libpocketsphinx.so']);

  const cmdLnInit = sphinxbase.func('void *cmd_ln_init(void *inout, void *defn, int strict, ...)');
  const cmdLnFree = sphinxbase.func('int cmd_ln_free_r(void *cmdln)');
  const errSetLogfp = sphinxbase.func('void err_set_logfp(void *stream)');
  const ckdFree = sphinxbase.func('void ckd_free(void *ptr)');
  const psArgs = pocketsphinx.func('void *ps_args(void)');
  const psInit = pocketsphinx.func('void *ps_init(void *config)');
  const psFree = pocketsphinx.func('int ps_free(void *ps)');
  const psStartUtt = pocketsphinx.func('int ps_start_utt(void *ps)');
  const psProcessRaw = pocketsphinx.func('int ps_process_raw(void *ps, const int16_t *data, size_t n_samples, int no_search, int full_utt)');
  const psEndUtt = pocketsphinx.func('int ps_end_utt(void *ps)');
  const psGetHyp = pocketsphinx.func('const char *ps_get_hyp(void *ps, _Out_ int32_t *out_best_score)');
  const psGetSearch = pocketsphinx.func('const char *ps_get_search(void *ps)');
  const psSetSearch = pocketsphinx.func('int ps_set_search(void *ps, const char *name)');
  const psUnsetSearch = pocketsphinx.func('int ps_unset_search(void *ps, const char *name)');
  const psSetJsgfString = pocketsphinx.func('int ps_set_jsgf_string(void *ps, const char *name, const char *jsgf_string)');
  const psLookupWord = pocketsphinx.func('void *ps_lookup_word(void *ps, const char *word)');

  binding = {
    createConfig(args) {
      const variadic: unknown[] = [];
      for (const arg of args) variadic.push('const char *', arg);
      variadic.push('void *', null);
      return cmdLnInit(null, psArgs(), 1, ...variadic) as NativePointer | null;
    },
    freeConfig: (config) => void cmdLnFree(config),
    init: (config) => psInit(config) as NativePointer | null,
    free: (decoder) => void psFree(decoder),
    startUtterance: (decoder) => psStartUtt(decoder) as number,
    processRaw: (decoder, pcm, fullUtterance) => psProcessRaw(decoder, pcm, pcm.length, 0, fullUtterance ? 1 : 0) as number,
    endUtterance: (decoder) => psEndUtt(decoder) as number,
    hypothesis: (decoder) => psGetHyp(decoder, [0]) as string | null,
    currentSearch: (decoder) => psGetSearch(decoder) as string | null,
    setSearch: (decoder, name) => psSetSearch(decoder, name) as number,
    unsetSearch: (decoder, name) => psUnsetSearch(decoder, name) as number,
    setJsgfString: (decoder, name, jsgf) => psSetJsgfString(decoder, name, jsgf) as number,
    hasWord(decoder, word) {
      const phones: unknown = psLookupWord(decoder, word);
      if (phones === null) return false;
      ckdFree(phones);
      return true;
    },
    silenceLog: () => void errSetLogfp(null),
  };
  return binding;
}
