import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALAW_SILENCE_BYTE,
  MULAW_SILENCE_BYTE,
  alawDecodeSample,
  alawEncodeSample,
  alawToPcm16,
  mulawDecodeSample,
  mulawEncodeSample,
  mulawToPcm16,
  pcm16ToAlaw,
  pcm16ToMulaw,
} from '../../../src/audio/g711.js';

// Literal ports of the ITU-T G.191 STL reference loops (g711.c), one sample at a time on a full
// 16-bit sample. The module under test builds lookup tables instead; these check them.
function g191UlawCompress(linear: number): number {
  let absno = linear < 0 ? (~linear >> 2) + 33 : (linear >> 2) + 33;
  if (absno > 0x1fff) absno = 0x1fff;
  let i = absno >> 6;
  let segno = 1;
  while (i !== 0) {
    segno++;
    i >>= 1;
  }
  const highNibble = 0x0008 - segno;
  let lowNibble = (absno >> segno) & 0x000f;
  lowNibble = 0x000f - lowNibble;
  let log = (highNibble << 4) | lowNibble;
  if (linear >= 0) log |= 0x0080;
  return log;
}

function g191UlawExpand(log: number): number {
  const sign = log < 0x0080 ? -1 : 1;
  let mantissa = ~log;
  const exponent = (mantissa >> 4) & 0x0007;
  const segment = exponent + 1;
  mantissa &= 0x000f;
  const step = 4 << segment;
  // `| 0`: C's short has no negative zero, JavaScript's number does.
  return (sign * ((0x0080 << exponent) + step * mantissa + step / 2 - 4 * 33)) | 0;
}

function g191AlawCompress(linear: number): number {
  let ix = linear < 0 ? ~linear >> 4 : linear >> 4;
  if (ix > 15) {
    let iexp = 1;
    while (ix > 16 + 15) {
      ix >>= 1;
      iexp++;
    }
    ix -= 16;
    ix += iexp << 4;
  }
  if (linear >= 0) ix |= 0x0080;
  return ix ^ 0x0055;
}

function g191AlawExpand(log: number): number {
  let ix = log ^ 0x0055;
  ix &= 0x007f;
  const iexp = ix >> 4;
  let mant = ix & 0x000f;
  if (iexp > 0) mant += 16;
  mant = (mant << 4) + 0x0008;
  if (iexp > 1) mant <<= iexp - 1;
  return log > 127 ? mant : -mant;
}

const ALL_CODES = Uint8Array.from({ length: 256 }, (_, i) => i);
const ALL_SAMPLES = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);

describe('μ-law', () => {
  test('decodes the known values of G.711', () => {
    assert.equal(mulawDecodeSample(0xff), 0);
    assert.equal(mulawDecodeSample(0x7f), 0);
    assert.equal(mulawDecodeSample(0x00), -32124);
    assert.equal(mulawDecodeSample(0x80), 32124);
    assert.equal(mulawDecodeSample(0xfe), 8);
    assert.equal(mulawDecodeSample(0x7e), -8);
    // The first segment of the well-known decode table (codes 0x00-0x0F), then the next one's start.
    assert.deepEqual(
      Array.from(mulawToPcm16(ALL_CODES.subarray(0, 17))),
      [
        -32124, -31100, -30076, -29052, -28028, -27004, -25980, -24956, -23932, -22908, -21884, -20860, -19836,
        -18812, -17788, -16764, -15996,
      ],
    );
  });

  test('encodes the extremes, zero and the one-complement negative zero', () => {
    assert.equal(mulawEncodeSample(0), 0xff);
    assert.equal(mulawEncodeSample(3), 0xff);
    assert.equal(mulawEncodeSample(4), 0xfe);
    assert.equal(mulawEncodeSample(-1), 0x7f);
    assert.equal(mulawEncodeSample(-4), 0x7f);
    assert.equal(mulawEncodeSample(-5), 0x7e);
    assert.equal(mulawEncodeSample(32767), 0x80);
    assert.equal(mulawEncodeSample(-32768), 0x00);
    assert.equal(MULAW_SILENCE_BYTE, 0xff);
    assert.equal(mulawDecodeSample(MULAW_SILENCE_BYTE), 0);
  });

  test('every code word survives decode then encode (0x7F, negative zero, becomes 0xFF)', () => {
    const roundTrip = pcm16ToMulaw(mulawToPcm16(ALL_CODES));
    for (let code = 0; code < 256; code++) {
      assert.equal(roundTrip[code], code === 0x7f ? 0xff : code, `code 0x${code.toString(16)}`);
    }
  });

  test('matches the G.191 reference on all 256 codes and all 65 536 samples', () => {
    const decoded = mulawToPcm16(ALL_CODES);
    for (let code = 0; code < 256; code++) assert.equal(decoded[code], g191UlawExpand(code), `decode 0x${code.toString(16)}`);
    const encoded = pcm16ToMulaw(ALL_SAMPLES);
    for (let i = 0; i < ALL_SAMPLES.length; i++) {
      const sample = ALL_SAMPLES[i]!;
      if (encoded[i] !== g191UlawCompress(sample)) assert.fail(`encode ${sample}: 0x${encoded[i]!.toString(16)}`);
      if (mulawEncodeSample(sample) !== encoded[i]) assert.fail(`single-sample encode ${sample} differs from batch`);
    }
  });

  test('quantizes monotonically, within half a step of the segment', () => {
    const reconstructed = mulawToPcm16(pcm16ToMulaw(ALL_SAMPLES));
    for (let i = 1; i < ALL_SAMPLES.length; i++) {
      if (reconstructed[i]! < reconstructed[i - 1]!) assert.fail(`not monotonic at ${ALL_SAMPLES[i]}`);
    }
    for (let i = 0; i < ALL_SAMPLES.length; i++) {
      const sample = ALL_SAMPLES[i]!;
      const magnitude = Math.min(Math.abs(sample), 32124);
      // Segment s covers about 2^(s+5)·4 in magnitude with steps of 2^(s+3), i.e. ≤ magnitude/16 + 8.
      const halfStep = magnitude / 16 + 8;
      const error = Math.abs(reconstructed[i]! - Math.max(-32124, Math.min(32124, sample)));
      if (error > halfStep) assert.fail(`error ${error} at ${sample} exceeds ${halfStep}`);
    }
  });

  test('single-sample functions saturate out-of-range input and mask codes to 8 bits', () => {
    assert.equal(mulawEncodeSample(40000), 0x80);
    assert.equal(mulawEncodeSample(-40000), 0x00);
    assert.equal(mulawEncodeSample(Number.NaN), 0xff);
    assert.equal(mulawDecodeSample(0x100), mulawDecodeSample(0x00));
  });
});

describe('A-law', () => {
  test('decodes the known values of G.711', () => {
    assert.equal(alawDecodeSample(0xd5), 8);
    assert.equal(alawDecodeSample(0x55), -8);
    assert.equal(alawDecodeSample(0xaa), 32256);
    assert.equal(alawDecodeSample(0x2a), -32256);
    assert.deepEqual(
      Array.from(alawToPcm16(ALL_CODES.subarray(0, 16))),
      [-5504, -5248, -6016, -5760, -4480, -4224, -4992, -4736, -7552, -7296, -8064, -7808, -6528, -6272, -7040, -6784],
    );
  });

  test('encodes the extremes and both zeros', () => {
    assert.equal(alawEncodeSample(0), 0xd5);
    assert.equal(alawEncodeSample(15), 0xd5);
    assert.equal(alawEncodeSample(16), 0xd4);
    assert.equal(alawEncodeSample(-1), 0x55);
    assert.equal(alawEncodeSample(32767), 0xaa);
    assert.equal(alawEncodeSample(-32768), 0x2a);
    assert.equal(ALAW_SILENCE_BYTE, 0xd5);
    assert.equal(alawEncodeSample(70000), 0xaa);
  });

  test('every code word survives decode then encode', () => {
    assert.deepEqual(pcm16ToAlaw(alawToPcm16(ALL_CODES)), ALL_CODES);
  });

  test('matches the G.191 reference on all 256 codes and all 65 536 samples', () => {
    const decoded = alawToPcm16(ALL_CODES);
    for (let code = 0; code < 256; code++) assert.equal(decoded[code], g191AlawExpand(code), `decode 0x${code.toString(16)}`);
    const encoded = pcm16ToAlaw(ALL_SAMPLES);
    for (let i = 0; i < ALL_SAMPLES.length; i++) {
      const sample = ALL_SAMPLES[i]!;
      if (encoded[i] !== g191AlawCompress(sample)) assert.fail(`encode ${sample}: 0x${encoded[i]!.toString(16)}`);
      if (alawEncodeSample(sample) !== encoded[i]) assert.fail(`single-sample encode ${sample} differs from batch`);
    }
  });

  test('is symmetric: a sample and its one-complement differ only in the sign bit', () => {
    for (let sample = 0; sample < 32768; sample++) {
      if ((alawEncodeSample(sample) ^ alawEncodeSample(~sample)) !== 0x80) assert.fail(`A-law asymmetric at ${sample}`);
      if ((mulawEncodeSample(sample) ^ mulawEncodeSample(~sample)) !== 0x80) assert.fail(`μ-law asymmetric at ${sample}`);
    }
  });
});

describe('batch conversion', () => {
  test('handles empty input and views at odd offsets', () => {
    assert.equal(mulawToPcm16(new Uint8Array(0)).length, 0);
    assert.equal(pcm16ToAlaw(new Int16Array(0)).length, 0);
    const backing = new Uint8Array([0x11, 0x00, 0x80, 0xff, 0x7f]);
    assert.deepEqual(Array.from(mulawToPcm16(backing.subarray(1))), [-32124, 32124, 0, 0]);
  });

  test('a 1 kHz tone keeps its level through μ-law and A-law (SNR above 35 dB)', () => {
    const pcm = Int16Array.from({ length: 8000 }, (_, n) => Math.round(10000 * Math.sin((2 * Math.PI * 1000 * n) / 8000 + 0.3)));
    for (const [name, decoded] of [
      ['μ-law', mulawToPcm16(pcm16ToMulaw(pcm))],
      ['A-law', alawToPcm16(pcm16ToAlaw(pcm))],
    ] as const) {
      let signal = 0;
      let noise = 0;
      for (let n = 0; n < pcm.length; n++) {
        signal += pcm[n]! * pcm[n]!;
        noise += (decoded[n]! - pcm[n]!) ** 2;
      }
      const snrDb = 10 * Math.log10(signal / noise);
      assert.ok(snrDb > 35, `${name} SNR ${snrDb.toFixed(1)} dB`);
    }
  });
});
