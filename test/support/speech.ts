// Caller speech made at test time with Debian's flite (voice kal16: not the voice Koe speaks with) and
// sox, nothing downloaded or stored: μ-law utterances for simulated phone callers, and 16-bit PCM WAV
// files for Chromium's fake microphone.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { callerUtterances } from '../../src/simulate/caller-audio.js';

const APT_PACKAGES = 'flite sox';

function run(command: string, args: readonly string[]): void {
  try {
    execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${command} is not installed; these tests need: apt-get install -y ${APT_PACKAGES}`, { cause: error });
    }
    throw error;
  }
}

let counter = 0;

/**
 * `text` spoken by flite into a mono 16-bit PCM WAV at `rateHz`, with silence before and after. `sox -D`:
 * no dither, so the recogniser hears the same samples on every run.
 */
export function speechWav(dir: string, text: string, opts: { rateHz?: number; leadMs?: number; tailMs?: number; voice?: string } = {}): string {
  const n = counter++;
  const raw = join(dir, `speech-${n}-flite.wav`);
  const out = join(dir, `speech-${n}.wav`);
  run('flite', ['-voice', opts.voice ?? 'kal16', '-t', text, '-o', raw]);
  run('sox', [
    '-D',
    raw,
    '-r',
    String(opts.rateHz ?? 16_000),
    '-c',
    '1',
    '-b',
    '16',
    '-e',
    'signed-integer',
    out,
    'pad',
    String((opts.leadMs ?? 300) / 1000),
    String((opts.tailMs ?? 300) / 1000),
  ]);
  return out;
}

/** `text` as one caller utterance: 8 kHz μ-law phone audio, as Twilio would carry it. */
export function spokenUtterance(dir: string, text: string): Buffer {
  const utterances = callerUtterances(readFileSync(speechWav(dir, text)), { minPauseMs: 2_000 });
  if (utterances.length === 0) throw new Error(`flite produced no speech for "${text}"`);
  return Buffer.concat(utterances);
}
