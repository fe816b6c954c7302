// G.711 μ-law and A-law, bit-exact with the ITU-T reference implementation (G.191 Software Tool
// Library, g711.c). Every table is built once at module load from that reference arithmetic, so the
// per-sample work in a live call is one table lookup.
//
// Encoding only depends on the top 14 (μ-law) or 12 (A-law) bits of a sample, so the encoders index
// a 16 384- or 4 096-entry table by `sample >> 2` or `sample >> 4` instead of searching segments.
// Negative samples use the one's complement (`~x`), as G.191 does: -1 encodes as "negative zero",
// so the quantizer is symmetric about -0.5 and a round trip of every code word is exact.

/** The μ-law code of a zero sample: what Twilio sends for silence. */
export const MULAW_SILENCE_BYTE = 0xff;
/** The A-law code of a zero sample. */
export const ALAW_SILENCE_BYTE = 0xd5;

function mulawReferenceDecode(code: number): number {
  const inverted = ~code & 0xff;
  const exponent = (inverted >> 4) & 0x07;
  const mantissa = inverted & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return (inverted & 0x80) !== 0 ? -magnitude : magnitude;
}

/** `top14` is the sample's 14 most significant bits, a signed value in [-8192, 8191]. */
function mulawReferenceEncode(top14: number): number {
  let magnitude = (top14 < 0 ? ~top14 : top14) + 33;
  if (magnitude > 0x1fff) magnitude = 0x1fff;
  let segment = 1;
  for (let rest = magnitude >> 6; rest !== 0; rest >>= 1) segment++;
  const high = 8 - segment;
  const low = 0x0f - ((magnitude >> segment) & 0x0f);
  const code = (high << 4) | low;
  return top14 >= 0 ? code | 0x80 : code;
}

function alawReferenceDecode(code: number): number {
  const toggled = code ^ 0x55;
  const exponent = (toggled & 0x7f) >> 4;
  let mantissa = toggled & 0x0f;
  if (exponent > 0) mantissa += 16;
  mantissa = (mantissa << 4) + 8;
  if (exponent > 1) mantissa <<= exponent - 1;
  return (toggled & 0x80) !== 0 ? mantissa : -mantissa;
}

/** `top12` is the sample's 12 most significant bits, a signed value in [-2048, 2047]. */
function alawReferenceEncode(top12: number): number {
  let value = top12 < 0 ? ~top12 : top12;
  if (value > 15) {
    let exponent = 1;
    while (value > 31) {
      value >>= 1;
      exponent++;
    }
    value = value - 16 + (exponent << 4);
  }
  if (top12 >= 0) value |= 0x80;
  return value ^ 0x55;
}

const MULAW_DECODE = new Int16Array(256);
const ALAW_DECODE = new Int16Array(256);
for (let code = 0; code < 256; code++) {
  MULAW_DECODE[code] = mulawReferenceDecode(code);
  ALAW_DECODE[code] = alawReferenceDecode(code);
}

const MULAW_ENCODE_OFFSET = 8192;
const MULAW_ENCODE = new Uint8Array(16384);
for (let top14 = -8192; top14 < 8192; top14++) {
  MULAW_ENCODE[top14 + MULAW_ENCODE_OFFSET] = mulawReferenceEncode(top14);
}

const ALAW_ENCODE_OFFSET = 2048;
const ALAW_ENCODE = new Uint8Array(4096);
for (let top12 = -2048; top12 < 2048; top12++) {
  ALAW_ENCODE[top12 + ALAW_ENCODE_OFFSET] = alawReferenceEncode(top12);
}

/** Values outside int16 saturate; `>>` then drops any fraction. */
function clampInt16(sample: number): number {
  return sample > 32767 ? 32767 : sample < -32768 ? -32768 : sample;
}

/** Decodes one μ-law code word (only its low 8 bits count) to a 16-bit sample. */
export function mulawDecodeSample(code: number): number {
  return MULAW_DECODE[code & 0xff]!;
}

/** Encodes one 16-bit sample to a μ-law code word; values outside int16 saturate. */
export function mulawEncodeSample(sample: number): number {
  return MULAW_ENCODE[(clampInt16(sample) >> 2) + MULAW_ENCODE_OFFSET]!;
}

/** Decodes one A-law code word (only its low 8 bits count) to a 16-bit sample. */
export function alawDecodeSample(code: number): number {
  return ALAW_DECODE[code & 0xff]!;
}

/** Encodes one 16-bit sample to an A-law code word; values outside int16 saturate. */
export function alawEncodeSample(sample: number): number {
  return ALAW_ENCODE[(clampInt16(sample) >> 4) + ALAW_ENCODE_OFFSET]!;
}

export function mulawToPcm16(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = MULAW_DECODE[bytes[i]!]!;
  return out;
}

export function pcm16ToMulaw(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = MULAW_ENCODE[(pcm[i]! >> 2) + MULAW_ENCODE_OFFSET]!;
  return out;
}

export function alawToPcm16(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = ALAW_DECODE[bytes[i]!]!;
  return out;
}

export function pcm16ToAlaw(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = ALAW_ENCODE[(pcm[i]! >> 4) + ALAW_ENCODE_OFFSET]!;
  return out;
}
