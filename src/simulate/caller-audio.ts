// A caller's recording, as phone audio cut into the utterances a simulated caller says one by one:
// any WAV (PCM16, μ-law or A-law; any rate; stereo mixed down) → 8 kHz μ-law, split at pauses.
import { parseWav, pcm16ToMulaw, resamplePcm16, rmsDbfs, toMonoPcm16 } from '../audio/index.js';

const PHONE_RATE_HZ = 8_000;
const FRAME_SAMPLES = 160; // 20 ms at 8 kHz

export interface SplitOptions {
  /** A pause at least this long ends an utterance. */
  minPauseMs?: number;
  /** Frames louder than this count as speech. */
  speechDbfs?: number;
}

/** Returns each utterance as μ-law 8 kHz, with up to 200 ms of the surrounding quiet kept around it. */
export function callerUtterances(wav: Uint8Array, opts: SplitOptions = {}): Buffer[] {
  const parsed = parseWav(wav);
  const mono = toMonoPcm16(parsed);
  const pcm = parsed.sampleRateHz === PHONE_RATE_HZ ? mono : resamplePcm16(mono, parsed.sampleRateHz, PHONE_RATE_HZ);
  const minPauseFrames = Math.ceil((opts.minPauseMs ?? 700) / 20);
  const speechDbfs = opts.speechDbfs ?? -40;
  const padFrames = 10;
  const frames = Math.floor(pcm.length / FRAME_SAMPLES);
  const loud = Array.from({ length: frames }, (_, i) => rmsDbfs(pcm.subarray(i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES)) > speechDbfs);
  const spans: Array<[number, number]> = [];
  let start = -1;
  let quiet = 0;
  for (let i = 0; i < frames; i += 1) {
    if (loud[i]) {
      if (start < 0) start = i;
      quiet = 0;
    } else if (start >= 0 && ++quiet >= minPauseFrames) {
      spans.push([start, i - quiet + 1]);
      start = -1;
      quiet = 0;
    }
  }
  if (start >= 0) spans.push([start, frames - quiet]);
  return spans.map(([from, to]) => {
    const a = Math.max(0, from - padFrames) * FRAME_SAMPLES;
    const b = Math.min(frames, to + padFrames) * FRAME_SAMPLES;
    return Buffer.from(pcm16ToMulaw(pcm.subarray(a, b)));
  });
}
