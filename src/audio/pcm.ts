// Raw 16-bit PCM bytes, levels, and the three encodings Koe moves around (Twilio speaks μ-law,
// the Realtime protocol speaks PCM16, μ-law or A-law).

import { alawToPcm16, mulawToPcm16, pcm16ToAlaw, pcm16ToMulaw } from './g711.js';

export type AudioEncoding = 'pcm16' | 'mulaw' | 'alaw';

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Reads little-endian 16-bit samples. When the host is little-endian and the bytes start on an
 * even offset, the result is a view that shares memory with `buf` (no copy); otherwise the samples
 * are copied. Throws a RangeError on an odd byte count (half a sample is malformed input).
 */
export function pcm16FromBytesLE(buf: Uint8Array): Int16Array {
  if (buf.byteLength % 2 !== 0) {
    throw new RangeError(`PCM16 needs an even number of bytes, got ${buf.byteLength}`);
  }
  const sampleCount = buf.byteLength >> 1;
  if (HOST_IS_LITTLE_ENDIAN) {
    if (buf.byteOffset % 2 === 0) return new Int16Array(buf.buffer, buf.byteOffset, sampleCount);
    const out = new Int16Array(sampleCount);
    new Uint8Array(out.buffer).set(buf);
    return out;
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = new Int16Array(sampleCount);
  for (let i = 0; i < sampleCount; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

/**
 * Little-endian bytes of `pcm`. On a little-endian host this is a view that shares memory with
 * `pcm` (no copy), which is what a base64 encoder or a socket write wants.
 */
export function pcm16ToBytesLE(pcm: Int16Array): Buffer {
  if (HOST_IS_LITTLE_ENDIAN) return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const out = Buffer.alloc(pcm.byteLength);
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i]!, i * 2);
  return out;
}

/**
 * RMS level relative to a full-scale square wave, in dB: a full-scale sine is -3.01 dBFS.
 * Empty or all-zero input is -Infinity.
 */
export function rmsDbfs(pcm: Int16Array): number {
  let sumOfSquares = 0;
  for (let i = 0; i < pcm.length; i++) {
    const sample = pcm[i]!;
    sumOfSquares += sample * sample;
  }
  if (sumOfSquares === 0) return -Infinity;
  return 10 * Math.log10(sumOfSquares / (pcm.length * 32768 * 32768));
}

export function bytesPerSample(encoding: AudioEncoding): 1 | 2 {
  switch (encoding) {
    case 'pcm16':
      return 2;
    case 'mulaw':
    case 'alaw':
      return 1;
    default:
      return unknownEncoding(encoding);
  }
}

export function bytesPerMs(encoding: AudioEncoding, sampleRateHz: number): number {
  assertSampleRate(sampleRateHz);
  return (bytesPerSample(encoding) * sampleRateHz) / 1000;
}

export function durationMsOfBytes(byteLength: number, encoding: AudioEncoding, sampleRateHz: number): number {
  if (!Number.isFinite(byteLength) || byteLength < 0) {
    throw new RangeError(`byteLength must be a non-negative number, got ${byteLength}`);
  }
  return byteLength / bytesPerMs(encoding, sampleRateHz);
}

/** For `pcm16` the result may share memory with `bytes` (see pcm16FromBytesLE). */
export function decodeToPcm16(bytes: Uint8Array, encoding: AudioEncoding): Int16Array {
  switch (encoding) {
    case 'pcm16':
      return pcm16FromBytesLE(bytes);
    case 'mulaw':
      return mulawToPcm16(bytes);
    case 'alaw':
      return alawToPcm16(bytes);
    default:
      return unknownEncoding(encoding);
  }
}

/** For `pcm16` the result may share memory with `pcm` (see pcm16ToBytesLE). */
export function encodeFromPcm16(pcm: Int16Array, encoding: AudioEncoding): Uint8Array {
  switch (encoding) {
    case 'pcm16':
      return pcm16ToBytesLE(pcm);
    case 'mulaw':
      return pcm16ToMulaw(pcm);
    case 'alaw':
      return pcm16ToAlaw(pcm);
    default:
      return unknownEncoding(encoding);
  }
}

function assertSampleRate(sampleRateHz: number): void {
  if (!Number.isFinite(sampleRateHz) || sampleRateHz <= 0) {
    throw new RangeError(`sampleRateHz must be a positive number, got ${sampleRateHz}`);
  }
}

// Reached only by untyped callers; the type system rules it out.
function unknownEncoding(encoding: never): never {
  throw new RangeError(`unknown audio encoding ${JSON.stringify(encoding)}; expected pcm16, mulaw or alaw`);
}
