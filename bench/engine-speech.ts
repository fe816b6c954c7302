// Caller speech for the engine benchmark, made at run time the way the engine tests make theirs: Debian's
// `flite` command line speaks (voices awb and kal16, never Koe's own slt), and sox takes it through the
// phone band (16 kHz → 8 kHz μ-law, no dither, so every run gets the same bytes). Nothing is downloaded.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulawToPcm16, pcm16ToMulaw } from '../src/audio/index.js';

export const PHONE_RATE_HZ = 8_000;
/** One Twilio-sized frame: 20 ms of 8 kHz μ-law. */
export const FRAME_MS = 20;
export const FRAME_BYTES = (PHONE_RATE_HZ * FRAME_MS) / 1000;
export const MULAW_SILENCE = 0xff;
/** A sample louder than this (PCM16, ≈ −36 dBFS) counts as speech when finding where an utterance ends. */
const SPEECH_LEVEL = 500;

/** What callers say to the receptionist: each one a line the embedded dialogue answers briefly. */
export const CALLER_LINES: readonly string[] = [
  'What are your opening hours?',
  'When are you open on Friday?',
  'Hello, good morning.',
  'I would like to leave a message.',
  'Who am I speaking with?',
  'Are you a robot?',
  'What time do you close today?',
  'Thank you very much.',
];
export const CALLER_VOICES: readonly string[] = ['awb', 'kal16'];

export interface PhoneUtterance {
  text: string;
  voice: string;
  /** 8 kHz μ-law, trimmed to the speech and padded with silence to whole 20 ms frames. */
  mulaw: Buffer;
  /** Where the last sample louder than the speech level is, from the start of `mulaw`. */
  speechEndMs: number;
  /** Index of the frame that holds the last speech sample. */
  lastSpeechFrame: number;
}

/**
 * The hiss of a real phone line instead of digital silence: white noise at `dbfs` RMS (re full scale),
 * 8 kHz μ-law, `ms` long. Deterministic.
 */
export function lineNoiseMulaw(ms: number, dbfs: number, seed = 7): Buffer {
  const pcm = new Int16Array(Math.round((ms * PHONE_RATE_HZ) / 1000));
  // Uniform noise of peak A has an RMS of A/√3.
  const peak = 32768 * 10 ** (dbfs / 20) * Math.sqrt(3);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < pcm.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    pcm[i] = Math.round((((state >>> 0) / 0xffffffff) * 2 - 1) * peak);
  }
  return Buffer.from(pcm16ToMulaw(pcm));
}

export class SpeechMaker {
  readonly #dir = mkdtempSync(join(tmpdir(), 'koe-engine-bench-'));
  #counter = 0;

  /** Removes the temporary files. */
  close(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }

  /** `text` in `voice`, through the phone band, as 8 kHz μ-law: the bytes a Twilio caller sends. */
  phoneMulaw(text: string, voice: string): Buffer {
    const wav = join(this.#dir, `caller-${this.#counter++}.wav`);
    run('flite', ['-voice', voice, '-t', text, '-o', wav]);
    return run('sox', ['-D', wav, '-t', 'raw', '-r', String(PHONE_RATE_HZ), '-e', 'u-law', '-b', '8', '-c', '1', '-']);
  }

  /** The same speech as the recogniser gets it after Twilio: μ-law back up to 16 kHz PCM16 (sox). */
  phoneBand16k(mulaw: Buffer): Int16Array {
    const raw = run('sox', ['-D', '-t', 'raw', '-r', String(PHONE_RATE_HZ), '-e', 'u-law', '-b', '8', '-c', '1', '-', '-t', 'raw', '-r', '16000', '-e', 'signed', '-b', '16', '-'], mulaw);
    const out = new Int16Array(raw.length >> 1);
    for (let i = 0; i < out.length; i++) out[i] = raw.readInt16LE(i * 2);
    return out;
  }

  /** A caller utterance, trimmed to its speech so that its last frame holds the end of the speech. */
  utterance(text: string, voice: string): PhoneUtterance {
    const raw = this.phoneMulaw(text, voice);
    const pcm = mulawToPcm16(raw);
    let first = -1;
    let last = -1;
    for (let i = 0; i < pcm.length; i++) {
      if (Math.abs(pcm[i] as number) > SPEECH_LEVEL) {
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first < 0) throw new Error(`flite produced no audible speech for "${text}" (${voice})`);
    const frames = Math.ceil((last + 1 - first) / FRAME_BYTES);
    const mulaw = Buffer.alloc(frames * FRAME_BYTES, MULAW_SILENCE);
    raw.copy(mulaw, 0, first, last + 1);
    return { text, voice, mulaw, speechEndMs: ((last + 1 - first) * 1000) / PHONE_RATE_HZ, lastSpeechFrame: frames - 1 };
  }

  /** Every caller line in every caller voice. */
  corpus(): PhoneUtterance[] {
    const out: PhoneUtterance[] = [];
    for (const text of CALLER_LINES) for (const voice of CALLER_VOICES) out.push(this.utterance(text, voice));
    return out;
  }
}

function run(command: string, args: readonly string[], input?: Uint8Array): Buffer {
  try {
    return execFileSync(command, args, { input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${command} is not installed; the engine benchmark needs: apt-get install -y flite sox`, { cause: error });
    }
    throw error;
  }
}
