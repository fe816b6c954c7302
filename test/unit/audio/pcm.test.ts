import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bytesPerMs,
  bytesPerSample,
  decodeToPcm16,
  durationMsOfBytes,
  encodeFromPcm16,
  pcm16FromBytesLE,
  pcm16ToBytesLE,
  rmsDbfs,
} from '../../../src/audio/pcm.js';
import type { AudioEncoding } from '../../../src/audio/pcm.js';
import { mulawToPcm16, pcm16ToAlaw, pcm16ToMulaw } from '../../../src/audio/g711.js';
import { amplitudeOfDbfs, sine } from './signals.js';

const LE_BYTES = [0x01, 0x00, 0xff, 0xff, 0x00, 0x80, 0xff, 0x7f, 0x34, 0x12];
const LE_VALUES = [1, -1, -32768, 32767, 0x1234];

describe('pcm16FromBytesLE', () => {
  test('reads little-endian signed samples', () => {
    assert.deepEqual(Array.from(pcm16FromBytesLE(Uint8Array.from(LE_BYTES))), LE_VALUES);
  });

  test('shares memory at an even offset, copies at an odd one', () => {
    const even = new Uint8Array(12);
    even.set(LE_BYTES, 2);
    const evenView = pcm16FromBytesLE(even.subarray(2));
    assert.deepEqual(Array.from(evenView), LE_VALUES);
    assert.equal(evenView.buffer, even.buffer);

    const odd = new Uint8Array(11);
    odd.set(LE_BYTES, 1);
    const fromOdd = pcm16FromBytesLE(odd.subarray(1));
    assert.deepEqual(Array.from(fromOdd), LE_VALUES);
    assert.notEqual(fromOdd.buffer, odd.buffer);
  });

  test('reads a Node Buffer decoded from base64, as Twilio and Realtime deliver audio', () => {
    const payload = Buffer.from(Uint8Array.from(LE_BYTES)).toString('base64');
    assert.deepEqual(Array.from(pcm16FromBytesLE(Buffer.from(payload, 'base64'))), LE_VALUES);
  });

  test('rejects half a sample', () => {
    assert.throws(() => pcm16FromBytesLE(new Uint8Array(3)), { name: 'RangeError', message: /even number of bytes, got 3/ });
  });

  test('empty in, empty out', () => {
    assert.equal(pcm16FromBytesLE(new Uint8Array(0)).length, 0);
  });
});

describe('pcm16ToBytesLE', () => {
  test('writes little-endian bytes, also for a view into a larger array', () => {
    const backing = new Int16Array([9, ...LE_VALUES, 9]);
    const bytes = pcm16ToBytesLE(backing.subarray(1, 1 + LE_VALUES.length));
    assert.ok(Buffer.isBuffer(bytes));
    assert.deepEqual(Array.from(bytes), LE_BYTES);
  });

  test('round-trips through pcm16FromBytesLE', () => {
    const samples = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
    assert.deepEqual(pcm16FromBytesLE(pcm16ToBytesLE(samples)), samples);
  });
});

describe('rmsDbfs', () => {
  test('silence and empty input are -Infinity', () => {
    assert.equal(rmsDbfs(new Int16Array(160)), -Infinity);
    assert.equal(rmsDbfs(new Int16Array(0)), -Infinity);
  });

  test('is relative to a full-scale square wave', () => {
    const square = Int16Array.from({ length: 800 }, (_, n) => (n % 20 < 10 ? 32767 : -32768));
    assert.ok(Math.abs(rmsDbfs(square)) < 0.001);
    assert.ok(Math.abs(rmsDbfs(sine(1000, 8000, 8000, 32767)) + 3.0103) < 0.01);
    assert.ok(Math.abs(rmsDbfs(sine(1000, 8000, 8000, amplitudeOfDbfs(-20))) + 20) < 0.01);
    assert.ok(Math.abs(rmsDbfs(sine(440, 24000, 24000, 327.67)) + 43.01) < 0.05);
  });
});

describe('sizes and durations', () => {
  test('bytes per sample and per millisecond', () => {
    assert.equal(bytesPerSample('pcm16'), 2);
    assert.equal(bytesPerSample('mulaw'), 1);
    assert.equal(bytesPerSample('alaw'), 1);
    assert.equal(bytesPerMs('mulaw', 8000), 8);
    assert.equal(bytesPerMs('alaw', 8000), 8);
    assert.equal(bytesPerMs('pcm16', 24000), 48);
    assert.equal(bytesPerMs('pcm16', 16000), 32);
    assert.equal(bytesPerMs('pcm16', 22050), 44.1);
  });

  test('a Twilio frame is 20 ms, so is a 24 kHz PCM16 chunk of 960 bytes', () => {
    assert.equal(durationMsOfBytes(160, 'mulaw', 8000), 20);
    assert.equal(durationMsOfBytes(960, 'pcm16', 24000), 20);
    assert.equal(durationMsOfBytes(0, 'pcm16', 24000), 0);
    assert.equal(durationMsOfBytes(1, 'mulaw', 8000), 0.125);
  });

  test('rejects nonsense rates, lengths and encodings', () => {
    assert.throws(() => bytesPerMs('mulaw', 0), RangeError);
    assert.throws(() => bytesPerMs('mulaw', Number.NaN), RangeError);
    assert.throws(() => durationMsOfBytes(-1, 'mulaw', 8000), RangeError);
    assert.throws(() => durationMsOfBytes(160, 'mulaw', -8000), RangeError);
    const opus = 'opus' as unknown as AudioEncoding;
    assert.throws(() => bytesPerMs(opus, 8000), { name: 'RangeError', message: /unknown audio encoding "opus"/ });
    assert.throws(() => decodeToPcm16(new Uint8Array(2), opus), RangeError);
    assert.throws(() => encodeFromPcm16(new Int16Array(2), opus), RangeError);
  });
});

describe('decodeToPcm16 and encodeFromPcm16', () => {
  const pcm = sine(440, 8000, 160, 12000, 0.5);

  test('use the right codec for each encoding', () => {
    assert.deepEqual(encodeFromPcm16(pcm, 'mulaw'), pcm16ToMulaw(pcm));
    assert.deepEqual(encodeFromPcm16(pcm, 'alaw'), pcm16ToAlaw(pcm));
    assert.deepEqual(Uint8Array.from(encodeFromPcm16(pcm, 'pcm16')), Uint8Array.from(pcm16ToBytesLE(pcm)));
    const mulaw = pcm16ToMulaw(pcm);
    assert.deepEqual(decodeToPcm16(mulaw, 'mulaw'), mulawToPcm16(mulaw));
  });

  test('round-trip: exact for PCM16, within the G.711 quantization for μ-law and A-law', () => {
    const encodings: AudioEncoding[] = ['pcm16', 'mulaw', 'alaw'];
    for (const encoding of encodings) {
      const back = decodeToPcm16(encodeFromPcm16(pcm, encoding), encoding);
      assert.equal(back.length, pcm.length);
      for (let n = 0; n < pcm.length; n++) {
        const tolerance = encoding === 'pcm16' ? 0 : Math.abs(pcm[n]!) / 16 + 16;
        assert.ok(Math.abs(back[n]! - pcm[n]!) <= tolerance, `${encoding} sample ${n}: ${back[n]} vs ${pcm[n]}`);
      }
    }
  });
});
