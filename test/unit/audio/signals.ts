// Test signals and measurements for the audio tests. Deliberately independent of src/audio:
// a measurement that shared code with what it measures could not catch its bugs.

/** A sine of `amplitude` (int16 units), rounded to int16. */
export function sine(freqHz: number, sampleRateHz: number, samples: number, amplitude: number, phase = 0): Int16Array {
  const out = new Int16Array(samples);
  for (let n = 0; n < samples; n++) out[n] = Math.round(amplitude * Math.sin((2 * Math.PI * freqHz * n) / sampleRateHz + phase));
  return out;
}

/** Sum of sines given as [freqHz, amplitude] pairs. */
export function tones(sampleRateHz: number, samples: number, parts: ReadonlyArray<readonly [number, number]>): Int16Array {
  const out = new Int16Array(samples);
  for (let n = 0; n < samples; n++) {
    let value = 0;
    for (const [freqHz, amplitude] of parts) value += amplitude * Math.sin((2 * Math.PI * freqHz * n) / sampleRateHz);
    out[n] = Math.max(-32768, Math.min(32767, Math.round(value)));
  }
  return out;
}

/**
 * Amplitude of the component at `freqHz` in x[start, end): correlation with a complex exponential
 * under a Hann window, whose low sidelobes keep a strong tone nearby from leaking into the reading.
 */
export function toneAmplitude(x: Int16Array, freqHz: number, sampleRateHz: number, start = 0, end = x.length): number {
  let re = 0;
  let im = 0;
  let windowSum = 0;
  const length = end - start;
  for (let n = start; n < end; n++) {
    const window = 0.5 - 0.5 * Math.cos((2 * Math.PI * (n - start + 0.5)) / length);
    const angle = (2 * Math.PI * freqHz * n) / sampleRateHz;
    re += window * x[n]! * Math.cos(angle);
    im += window * x[n]! * Math.sin(angle);
    windowSum += window;
  }
  return (2 * Math.hypot(re, im)) / windowSum;
}

export function rms(x: Int16Array, start = 0, end = x.length): number {
  let sum = 0;
  for (let n = start; n < end; n++) sum += x[n]! * x[n]!;
  return Math.sqrt(sum / (end - start));
}

export function db(ratio: number): number {
  return 20 * Math.log10(ratio);
}

/** A small deterministic PRNG (mulberry32), so noise tests do not depend on luck. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Gaussian white noise with the given RMS (int16 units). */
export function whiteNoise(samples: number, rmsValue: number, seed: number): Int16Array {
  const random = prng(seed);
  const out = new Int16Array(samples);
  for (let n = 0; n < samples; n++) {
    const u1 = random() || Number.MIN_VALUE;
    const u2 = random();
    const gaussian = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    out[n] = Math.max(-32768, Math.min(32767, Math.round(gaussian * rmsValue)));
  }
  return out;
}

export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function silence(samples: number): Int16Array {
  return new Int16Array(samples);
}

/** Adds b into a (saturating), a and b of equal length. */
export function mix(a: Int16Array, b: Int16Array): Int16Array {
  const out = new Int16Array(a.length);
  for (let n = 0; n < a.length; n++) out[n] = Math.max(-32768, Math.min(32767, a[n]! + b[n]!));
  return out;
}

/** Splits x into consecutive chunks of the given sizes, cycling through them. */
export function chunks<T extends Int16Array | Uint8Array>(x: T, sizes: readonly number[]): T[] {
  const out: T[] = [];
  let offset = 0;
  for (let i = 0; offset < x.length; i++) {
    const size = sizes[i % sizes.length]!;
    out.push(x.subarray(offset, offset + size) as T);
    offset += size;
  }
  return out;
}

/** The amplitude (int16 units) of a sine at `levelDbfs`, dBFS being RMS re a full-scale square. */
export function amplitudeOfDbfs(levelDbfs: number): number {
  return 32768 * Math.SQRT2 * 10 ** (levelDbfs / 20);
}
