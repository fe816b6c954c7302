// G.711 μ-law as ITU-T G.191 computes it (14-bit input, one's complement for negative samples), so the
// browser's bytes match Koe's own codec bit for bit. Decoding is a 256-entry table.

const BIAS = 0x84;

/** μ-law code of digital silence. */
export const MULAW_SILENCE = 0xff;

/** A signed 16-bit sample → its μ-law code. */
export function encodeMulawSample(sample: number): number {
  const top14 = (sample | 0) >> 2;
  let magnitude = (top14 < 0 ? ~top14 : top14) + 33;
  if (magnitude > 0x1fff) magnitude = 0x1fff;
  let segment = 1;
  for (let rest = magnitude >> 6; rest !== 0; rest >>= 1) segment++;
  const code = ((8 - segment) << 4) | (0x0f - ((magnitude >> segment) & 0x0f));
  return top14 >= 0 ? code | 0x80 : code;
}

export function decodeMulawSample(code: number): number {
  const u = ~code & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + BIAS) << exponent) - BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

const DECODE_TABLE = new Float32Array(256);
for (let code = 0; code < 256; code++) DECODE_TABLE[code] = decodeMulawSample(code) / 32768;

/** Float samples in [-1, 1] → μ-law bytes. */
export function encodeMulaw(samples: Float32Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i] as number;
    const clamped = v > 1 ? 1 : v < -1 ? -1 : v;
    out[i] = encodeMulawSample(Math.round(clamped * 32767));
  }
  return out;
}

/** μ-law bytes → float samples in [-1, 1]. */
export function decodeMulaw(bytes: Uint8Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = DECODE_TABLE[bytes[i] as number] as number;
  return out;
}
