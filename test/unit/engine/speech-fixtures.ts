// Test audio made at test time: speech from Debian's espeak-ng and flite command lines, the phone band
// through sox, tones and noise computed here. Nothing is downloaded or stored.
//
// The phone-band round trip (16 kHz → 8 kHz → μ-law → 16 kHz) is done with sox on purpose: an
// implementation independent of Koe's own src/audio, so these tests do not grade Koe's codec with itself.
// `-D` turns sox's dither off: dither is random, and the recogniser's answers on the same sentence then
// vary from run to run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const RATE_HZ = 16_000;
export const TEST_APT_PACKAGES = 'espeak-ng flite sox';

let scratch: string | undefined;

function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'koe-speech-test-'));
  return scratch;
}

/** Removes the temporary files of this test process. */
export function removeScratch(): void {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

function run(command: string, args: readonly string[], input?: Uint8Array): Buffer {
  try {
    return execFileSync(command, args, { input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${command} is not installed; tests need: apt-get install -y ${TEST_APT_PACKAGES}`, { cause: error });
    throw error;
  }
}

function toInt16(raw: Buffer): Int16Array {
  const copy = new Int16Array(raw.length >> 1);
  for (let i = 0; i < copy.length; i++) copy[i] = raw.readInt16LE(i * 2);
  return copy;
}

function bytesOf(pcm: Int16Array): Buffer {
  const out = Buffer.alloc(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i] as number, i * 2);
  return out;
}

/** Any WAV file → 16 kHz mono PCM16 (sox resamples). */
function wavTo16k(path: string): Int16Array {
  return toInt16(run('sox', ['-D', path, '-t', 'raw', '-r', String(RATE_HZ), '-e', 'signed', '-b', '16', '-c', '1', '-']));
}

let fileCounter = 0;

/** Speech from espeak-ng, 16 kHz. */
export function espeak(text: string, voice = 'en-us'): Int16Array {
  const path = join(scratchDir(), `espeak-${fileCounter++}.wav`);
  run('espeak-ng', ['-v', voice, '-w', path, text]);
  return wavTo16k(path);
}

/** Speech from Debian's flite command line (voices kal, kal16, awb, rms, slt), 16 kHz. */
export function flite(text: string, voice: string): Int16Array {
  const path = join(scratchDir(), `flite-${fileCounter++}.wav`);
  run('flite', ['-voice', voice, '-t', text, '-o', path]);
  return wavTo16k(path);
}

/** What a caller's speech sounds like after Twilio: 8 kHz μ-law and back up to 16 kHz. */
export function phoneBand(pcm: Int16Array): Int16Array {
  const mulaw = run('sox', ['-D', '-t', 'raw', '-r', String(RATE_HZ), '-e', 'signed', '-b', '16', '-c', '1', '-', '-t', 'raw', '-r', '8000', '-e', 'u-law', '-'], bytesOf(pcm));
  return toInt16(run('sox', ['-D', '-t', 'raw', '-r', '8000', '-e', 'u-law', '-c', '1', '-', '-t', 'raw', '-r', String(RATE_HZ), '-e', 'signed', '-b', '16', '-'], mulaw));
}

export function silence(ms: number): Int16Array {
  return new Int16Array(Math.round((ms * RATE_HZ) / 1000));
}

/** Sum of sines; `amplitude` is the peak of each, in PCM16 units. */
export function tone(frequenciesHz: readonly number[], ms: number, amplitude: number): Int16Array {
  const out = new Int16Array(Math.round((ms * RATE_HZ) / 1000));
  for (let i = 0; i < out.length; i++) {
    let value = 0;
    for (const f of frequenciesHz) value += amplitude * Math.sin((2 * Math.PI * f * i) / RATE_HZ);
    out[i] = Math.max(-32768, Math.min(32767, Math.round(value)));
  }
  return out;
}

/** Deterministic white noise, peak `amplitude`. */
export function whiteNoise(ms: number, amplitude: number, seed = 1): Int16Array {
  const out = new Int16Array(Math.round((ms * RATE_HZ) / 1000));
  let state = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = Math.round((((state >>> 0) / 0xffffffff) * 2 - 1) * amplitude);
  }
  return out;
}

export function concat(...parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Mixes `noise` under `signal` (same length or longer noise). */
export function mix(signal: Int16Array, noise: Int16Array): Int16Array {
  const out = new Int16Array(signal.length);
  for (let i = 0; i < signal.length; i++) out[i] = Math.max(-32768, Math.min(32767, (signal[i] as number) + (noise[i % noise.length] as number)));
  return out;
}

/** First and last sample above `level`, in ms; undefined for silence. */
export function activeSpanMs(pcm: Int16Array, level = 500): { startMs: number; endMs: number } | undefined {
  let first = -1;
  let last = -1;
  for (let i = 0; i < pcm.length; i++) {
    if (Math.abs(pcm[i] as number) > level) {
      if (first < 0) first = i;
      last = i;
    }
  }
  if (first < 0) return undefined;
  return { startMs: (first * 1000) / RATE_HZ, endMs: ((last + 1) * 1000) / RATE_HZ };
}

/** Word errors (substitutions + insertions + deletions) between two word strings. */
export function wordErrors(reference: string, hypothesis: string): { errors: number; words: number } {
  const ref = reference.toLowerCase().split(/\s+/).filter(Boolean);
  const hyp = hypothesis.toLowerCase().split(/\s+/).filter(Boolean);
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const current = [i];
    for (let j = 1; j <= hyp.length; j++) {
      const substitution = (previous[j - 1] as number) + (ref[i - 1] === hyp[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return { errors: previous[hyp.length] as number, words: ref.length };
}
