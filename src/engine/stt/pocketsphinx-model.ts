// Where Debian's pocketsphinx-en-us model lives, and the phone-band variant of its feature parameters.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StageError } from '../stage.js';
import { POCKETSPHINX_INSTALL_HINT } from './pocketsphinx-binding.js';

export const DEFAULT_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

/**
 * Initial cepstral means of phone audio (8 kHz μ-law, upsampled to 16 kHz), averaged over 30 phone-band
 * utterances. The model's feat.params carries wideband values and overrides `-cmninit` given on the command
 * line, which is why live (incremental) decoding of phone audio fails with the shipped file. Whole-utterance
 * decoding normalises over the utterance itself (batch CMN), so there these values only matter as a start.
 */
export const PHONE_BAND_CMNINIT = '45.8,30.6,-29.1,49.9,-17.9,1.8,17.3,-27.5,13.5,-14.7,4.0,10.5,-14.6';

export interface PocketsphinxModel {
  hmmDir: string;
  languageModelPath: string;
  dictionaryPath: string;
  featParamsPath: string;
}

export interface PocketsphinxModelOptions {
  /** Folder with `en-us/` (acoustic model), `en-us.lm.bin` and `cmudict-en-us.dict`. */
  modelDir?: string;
  /** Use the phone-band feature parameters (default true: Koe's audio comes from phone calls). */
  phoneBand?: boolean;
}

function requireFile(path: string): string {
  if (!existsSync(path)) throw new StageError('unavailable', `pocketsphinx model file missing: ${path}; ${POCKETSPHINX_INSTALL_HINT}`);
  return path;
}

/** The feat.params text with `-cmninit` replaced by the phone-band values. */
export function phoneBandFeatParams(original: string): string {
  const lines = original.split('\n').filter((line) => line.trim() !== '' && !/^\s*-cmninit\b/.test(line));
  lines.push(`-cmninit ${PHONE_BAND_CMNINIT}`);
  return `${lines.join('\n')}\n`;
}

/** Writes the file once per content; concurrent writers rename into place, so readers never see half a file. */
function writeDerivedFile(text: string): string {
  const dir = join(tmpdir(), 'koe-pocketsphinx');
  const path = join(dir, `feat-${createHash('sha1').update(text).digest('hex').slice(0, 16)}.params`);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const partial = `${path}.${process.pid}.${Date.now()}`;
  writeFileSync(partial, text);
  renameSync(partial, path);
  return path;
}

/** Checks that the model is installed and prepares its phone-band parameters. Throws StageError `unavailable`. */
export function resolvePocketsphinxModel(options: PocketsphinxModelOptions = {}): PocketsphinxModel {
  const modelDir = options.modelDir ?? DEFAULT_MODEL_DIR;
  const hmmDir = join(modelDir, 'en-us');
  for (const file of ['mdef', 'means', 'variances', 'sendump', 'transition_matrices', 'noisedict']) requireFile(join(hmmDir, file));
  const featParams = requireFile(join(hmmDir, 'feat.params'));
  return {
    hmmDir,
    languageModelPath: requireFile(join(modelDir, 'en-us.lm.bin')),
    dictionaryPath: requireFile(join(modelDir, 'cmudict-en-us.dict')),
    featParamsPath: options.phoneBand === false ? featParams : writeDerivedFile(phoneBandFeatParams(readFileSync(featParams, 'utf8'))),
  };
}
