// Flite pads each sentence with ≈150–280 ms of silence at the start and ≈70–200 ms at the end. Spoken
// sentence after sentence that adds up to long gaps and a slower first word, so the padding is cut to a
// natural pause.

/** Below this (≈ −44 dBFS) a sample counts as silence. */
const SILENCE_LEVEL = 200;

/** A view of `samples` keeping at most `leadMs` before the first sound and `trailMs` after the last. */
export function trimSilence(samples: Int16Array, sampleRateHz: number, leadMs: number, trailMs: number): Int16Array {
  let first = 0;
  while (first < samples.length && Math.abs(samples[first] as number) < SILENCE_LEVEL) first++;
  if (first === samples.length) return samples;
  let last = samples.length - 1;
  while (last > first && Math.abs(samples[last] as number) < SILENCE_LEVEL) last--;
  const start = Math.max(0, first - Math.round((leadMs * sampleRateHz) / 1000));
  const end = Math.min(samples.length, last + 1 + Math.round((trailMs * sampleRateHz) / 1000));
  return samples.subarray(start, end);
}
