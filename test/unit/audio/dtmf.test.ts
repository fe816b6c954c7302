import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DtmfDetector, generateDtmfMulaw, generateDtmfPcm16 } from '../../../src/audio/dtmf.js';
import { mulawToPcm16, pcm16ToMulaw } from '../../../src/audio/g711.js';
import { loadApologyClip } from '../../../src/audio/apology-clip.js';
import { resamplePcm16 } from '../../../src/audio/resample.js';
import { amplitudeOfDbfs, chunks, concat, db, mix, rms, silence, sine, toneAmplitude, tones, whiteNoise } from './signals.js';

const ALL_DIGITS = '0123456789*#ABCD';
const ROWS = [697, 770, 852, 941];
const COLUMNS = [1209, 1336, 1477, 1633];
const KEYPAD = ['123A', '456B', '789C', '*0#D'];

function frequenciesOf(digit: string): [number, number] {
  const row = KEYPAD.findIndex((keys) => keys.includes(digit));
  return [ROWS[row]!, COLUMNS[KEYPAD[row]!.indexOf(digit)]!];
}

/** Feeds `pcm` in Twilio-sized frames (or the given chunk sizes) and collects the digits. */
function detect(pcm: Int16Array, sampleRateHz = 8000, sizes: readonly number[] = [sampleRateHz / 50]): string {
  const detector = new DtmfDetector({ sampleRateHz });
  return chunks(pcm, sizes)
    .flatMap((chunk) => detector.push(chunk))
    .join('');
}

/** A two-tone signal with independent levels, for twist and level tests. */
function keyTone(digit: string, ms: number, rowDbfs: number, columnDbfs: number, sampleRateHz = 8000): Int16Array {
  const [rowHz, columnHz] = frequenciesOf(digit);
  return tones(sampleRateHz, (ms * sampleRateHz) / 1000, [
    [rowHz, amplitudeOfDbfs(rowDbfs)],
    [columnHz, amplitudeOfDbfs(columnDbfs)],
  ]);
}

const SPEECH_FIXTURE = new URL('../../fixtures/audio/speech-en.ulaw', import.meta.url);

describe('generateDtmfPcm16', () => {
  test('each digit is tone then gap: 100 ms + 100 ms by default, w is 500 ms', () => {
    assert.equal(generateDtmfPcm16('1').length, 1600);
    assert.equal(generateDtmfPcm16('123').length, 4800);
    assert.equal(generateDtmfPcm16('1w2').length, 3200 + 4000);
    assert.equal(generateDtmfPcm16('ww').length, 8000);
    assert.equal(generateDtmfPcm16('').length, 0);
    assert.equal(generateDtmfPcm16('12', { toneMs: 50, gapMs: 30, sampleRateHz: 16000 }).length, 2 * 1280);
    const gap = generateDtmfPcm16('5').subarray(800);
    assert.ok(gap.every((sample) => sample === 0));
  });

  test('renderings concatenate', () => {
    assert.deepEqual(generateDtmfPcm16('123'), concat(generateDtmfPcm16('12'), generateDtmfPcm16('3')));
  });

  test('every digit has exactly its row and column tone, each at the requested level', () => {
    for (const sampleRateHz of [8000, 16000, 24000]) {
      for (const digit of ALL_DIGITS) {
        const pcm = generateDtmfPcm16(digit, { sampleRateHz, levelDbfs: -10 });
        const [rowHz, columnHz] = frequenciesOf(digit);
        // Skip the 2 ms ramps; measure over the steady 96 ms.
        const from = (2 * sampleRateHz) / 1000;
        const to = (98 * sampleRateHz) / 1000;
        for (const hz of [...ROWS, ...COLUMNS]) {
          const levelDbfs = db(toneAmplitude(pcm, hz, sampleRateHz, from, to) / amplitudeOfDbfs(0));
          if (hz === rowHz || hz === columnHz) {
            assert.ok(Math.abs(levelDbfs + 10) < 0.2, `${digit}@${sampleRateHz}: ${hz} Hz at ${levelDbfs.toFixed(2)} dBFS`);
          } else {
            assert.ok(levelDbfs < -40, `${digit}@${sampleRateHz}: stray ${hz} Hz at ${levelDbfs.toFixed(1)} dBFS`);
          }
        }
      }
    }
  });

  test('the two tones together peak below full scale at the default level', () => {
    const pcm = generateDtmfPcm16(ALL_DIGITS);
    const peak = pcm.reduce((max, sample) => Math.max(max, Math.abs(sample)), 0);
    assert.ok(peak > 0.85 * 32768 && peak < 0.9 * 32768, `peak ${peak}`);
    const tone = pcm.subarray(16, 784);
    assert.ok(Math.abs(db(rms(tone) / 32768) - (-10 + 3.0103)) < 0.1);
  });

  test('tones start and end smoothly (raised-cosine ramps, no click)', () => {
    const pcm = generateDtmfPcm16('1');
    assert.ok(Math.abs(pcm[0]!) < 200 && Math.abs(pcm[799]!) < 400, `edges ${pcm[0]}, ${pcm[799]}`);
    let largestStep = 0;
    for (let n = 1; n < 900; n++) largestStep = Math.max(largestStep, Math.abs(pcm[n]! - pcm[n - 1]!));
    const steadyStep = (2 * Math.PI * (697 + 1209) * amplitudeOfDbfs(-10)) / 8000;
    assert.ok(largestStep <= steadyStep, `largest step ${largestStep}`);
  });

  test('rejects anything but 0-9 * # A-D w, naming the character', () => {
    for (const bad of ['x', 'a', 'W', ' ', '1-2', '١']) {
      assert.throws(() => generateDtmfPcm16(bad), (error: unknown) => {
        assert.ok(error instanceof RangeError);
        assert.match(error.message, /invalid DTMF character/);
        assert.match(error.message, /allowed: 0-9, \*, #, A-D, and w/);
        return true;
      });
    }
    assert.throws(() => generateDtmfPcm16('12x'), { message: /"x" at index 2/ });
  });

  test('rejects nonsense options', () => {
    assert.throws(() => generateDtmfPcm16('1', { toneMs: -1 }), { name: 'RangeError', message: /toneMs/ });
    assert.throws(() => generateDtmfPcm16('1', { gapMs: Number.NaN }), { name: 'RangeError', message: /gapMs/ });
    assert.throws(() => generateDtmfPcm16('1', { levelDbfs: Number.POSITIVE_INFINITY }), { name: 'RangeError' });
    assert.throws(() => generateDtmfPcm16('1', { sampleRateHz: 4000 }), { name: 'RangeError', message: /sampleRateHz/ });
    assert.throws(() => generateDtmfPcm16('1', { sampleRateHz: 8000.5 }), RangeError);
  });
});

describe('generateDtmfMulaw', () => {
  test('is the 8 kHz rendering in μ-law, with 0xFF silence in the gaps', () => {
    const mulaw = generateDtmfMulaw('1#', { toneMs: 60, gapMs: 40 });
    assert.deepEqual(mulaw, pcm16ToMulaw(generateDtmfPcm16('1#', { toneMs: 60, gapMs: 40, sampleRateHz: 8000 })));
    assert.equal(mulaw.length, 1600);
    assert.ok(mulaw.subarray(480, 800).every((byte) => byte === 0xff));
    assert.equal(generateDtmfMulaw('9').length, 1600);
  });
});

describe('DtmfDetector', () => {
  test('detects every digit at 8, 16 and 24 kHz', () => {
    for (const sampleRateHz of [8000, 16000, 24000]) {
      assert.equal(detect(generateDtmfPcm16(ALL_DIGITS, { sampleRateHz }), sampleRateHz), ALL_DIGITS, `${sampleRateHz} Hz`);
    }
  });

  test('detects every digit after a μ-law round trip, and after 8 kHz μ-law resampled to 24 kHz', () => {
    const decoded = mulawToPcm16(generateDtmfMulaw(ALL_DIGITS));
    assert.equal(detect(decoded), ALL_DIGITS);
    assert.equal(detect(resamplePcm16(decoded, 8000, 24000), 24000), ALL_DIGITS);
  });

  test('sequences, repeats and pauses', () => {
    assert.equal(detect(generateDtmfPcm16('12#*0')), '12#*0');
    assert.equal(detect(generateDtmfPcm16('1111')), '1111');
    assert.equal(detect(generateDtmfPcm16('5w5w#')), '55#');
    assert.equal(detect(generateDtmfPcm16('0', { toneMs: 60, gapMs: 0 })), '0');
  });

  test('a digit change with no gap between the tones is still two digits', () => {
    const pcm = concat(keyTone('1', 100, -10, -10), keyTone('2', 100, -10, -10), silence(400));
    assert.equal(detect(pcm), '12');
  });

  test('any chunk size gives the same digits', () => {
    const pcm = generateDtmfPcm16('147*2580#369', { toneMs: 60, gapMs: 60 });
    for (const sizes of [[1], [7], [101, 103], [160], [333], [8000]]) assert.equal(detect(pcm, 8000, sizes), '147*2580#369', `chunks ${sizes.join(',')}`);
  });

  test('a held key is one digit, also across a 10 ms dropout', () => {
    // 80 samples = 10 ms.
    assert.equal(detect(generateDtmfPcm16('8', { toneMs: 3000 })), '8');
    const held = concat(keyTone('8', 500, -10, -10), silence(80), keyTone('8', 500, -10, -10), silence(800));
    assert.equal(detect(held), '8');
  });

  test('40 ms tones with 40 ms gaps are all detected, whatever their alignment to the blocks', () => {
    const train = generateDtmfPcm16('1234567890', { toneMs: 40, gapMs: 40 });
    for (let offset = 0; offset < 110; offset += 3) {
      assert.equal(detect(concat(silence(offset), train)), '1234567890', `offset ${offset}`);
    }
  });

  test('bursts under 27 ms are not key presses', () => {
    const train = generateDtmfPcm16('1234567890', { toneMs: 25, gapMs: 60 });
    for (let offset = 0; offset < 110; offset += 3) assert.equal(detect(concat(silence(offset), train)), '', `offset ${offset}`);
  });

  test('detects -30 dBFS tones and tones in 20 dB SNR noise, ignores -45 dBFS tones', () => {
    assert.equal(detect(generateDtmfPcm16('159D', { levelDbfs: -30 })), '159D');
    assert.equal(detect(generateDtmfPcm16('159D', { levelDbfs: -45 })), '');
    const clean = generateDtmfPcm16('3#6*', { levelDbfs: -15 });
    const noisy = mix(clean, whiteNoise(clean.length, amplitudeOfDbfs(-32) / Math.SQRT2, 11));
    assert.equal(detect(noisy), '3#6*');
    assert.equal(detect(mulawToPcm16(pcm16ToMulaw(noisy))), '3#6*');
  });

  test('accepts 6 dB of normal twist and 3 dB of reverse twist, rejects 12 and 7 dB', () => {
    const padded = (pcm: Int16Array): Int16Array => concat(pcm, silence(400));
    assert.equal(detect(padded(keyTone('5', 100, -10, -16))), '5');
    assert.equal(detect(padded(keyTone('5', 100, -13, -10))), '5');
    assert.equal(detect(padded(keyTone('5', 100, -10, -22))), '');
    assert.equal(detect(padded(keyTone('5', 100, -17, -10))), '');
  });

  test('detects 50 ms keys 1.5 % off nominal in 20 dB SNR noise', () => {
    let index = 0;
    for (const factor of [0.985, 1.015]) {
      for (const digit of ALL_DIGITS) {
        const [rowHz, columnHz] = frequenciesOf(digit);
        const key = concat(silence(200), tones(8000, 400, [[rowHz * factor, amplitudeOfDbfs(-10)], [columnHz * factor, amplitudeOfDbfs(-10)]]), silence(400));
        const noisy = mix(key, whiteNoise(key.length, amplitudeOfDbfs(-27) / Math.SQRT2, 100 + index++));
        assert.equal(detect(mulawToPcm16(pcm16ToMulaw(noisy))), digit, `${digit} × ${factor}`);
      }
    }
  });

  test('rejects tones 3.5 % off their nominal frequencies (ITU-T Q.24)', () => {
    for (const factor of [0.965, 1.035]) {
      for (const digit of ['1', '5', '9', 'D', '*']) {
        const [rowHz, columnHz] = frequenciesOf(digit);
        const pcm = concat(tones(8000, 800, [[rowHz * factor, amplitudeOfDbfs(-10)], [columnHz * factor, amplitudeOfDbfs(-10)]]), silence(400));
        assert.equal(detect(pcm), '', `${digit} × ${factor}`);
      }
    }
  });

  test('rejects a pair gliding through the key frequencies, as speech harmonics do', () => {
    // Both tones sweep from 3 % below to 3 % above nominal in 80 ms: on average on pitch, but
    // never steady (a voice's 4th harmonic gliding by 25 Hz in 20 ms is ordinary).
    const [rowHz, columnHz] = frequenciesOf('7');
    const samples = 640;
    const glide = new Int16Array(samples);
    let rowPhase = 0;
    let columnPhase = 0;
    for (let n = 0; n < samples; n++) {
      const factor = 0.97 + (0.06 * n) / samples;
      rowPhase += (2 * Math.PI * rowHz * factor) / 8000;
      columnPhase += (2 * Math.PI * columnHz * factor) / 8000;
      glide[n] = Math.round(amplitudeOfDbfs(-10) * (Math.sin(rowPhase) + Math.sin(columnPhase)));
    }
    assert.equal(detect(concat(glide, silence(400))), '');
    assert.equal(detect(concat(keyTone('7', 120, -10, -10), silence(400))), '7');
  });

  test('accepts tones 1.5 % off their nominal frequencies', () => {
    for (const factor of [0.985, 1.015]) {
      for (const digit of ['1', '5', '9', 'D']) {
        const [rowHz, columnHz] = frequenciesOf(digit);
        const pcm = concat(tones(8000, 800, [[rowHz * factor, amplitudeOfDbfs(-10)], [columnHz * factor, amplitudeOfDbfs(-10)]]), silence(400));
        assert.equal(detect(pcm), digit, `${digit} × ${factor}`);
      }
    }
  });

  test('rejects a pair with a third tone less than 8 dB below it in either group', () => {
    const withThird = (thirdHz: number, thirdDbfs: number): string =>
      detect(concat(tones(8000, 800, [[697, amplitudeOfDbfs(-10)], [1209, amplitudeOfDbfs(-10)], [thirdHz, amplitudeOfDbfs(thirdDbfs)]]), silence(400)));
    assert.equal(withThird(852, -14), '');
    assert.equal(withThird(1477, -14), '');
    assert.equal(withThird(852, -24), '1');
    assert.equal(withThird(1477, -24), '1');
  });

  test('the pair must carry most of the energy: a louder sound outside the DTMF bands masks it', () => {
    const pair = (otherHz: number, otherDbfs: number): Int16Array =>
      concat(tones(8000, 800, [[852, amplitudeOfDbfs(-20)], [1336, amplitudeOfDbfs(-20)], [otherHz, amplitudeOfDbfs(otherDbfs)]]), silence(400));
    assert.equal(detect(pair(2500, -30)), '8');
    assert.equal(detect(pair(2500, -16)), '');
    assert.equal(detect(pair(300, -16)), '');
    const clean = generateDtmfPcm16('8', { levelDbfs: -20 });
    assert.equal(detect(mix(clean, whiteNoise(clean.length, amplitudeOfDbfs(-15) / Math.SQRT2, 4))), '');
  });

  test('a repeated key with 40 ms gaps is as many digits', () => {
    assert.equal(detect(generateDtmfPcm16('1111', { toneMs: 40, gapMs: 40 })), '1111');
    assert.equal(detect(generateDtmfPcm16('##', { toneMs: 200, gapMs: 25 })), '##');
  });

  test('no digits in white noise, a 440 Hz tone, dial tone or a 1 kHz + 1.4 kHz pair', () => {
    assert.equal(detect(whiteNoise(8000 * 20, 3000, 1)), '');
    assert.equal(detect(whiteNoise(8000 * 5, 12000, 2)), '');
    assert.equal(detect(sine(440, 8000, 8000 * 5, amplitudeOfDbfs(-6))), '');
    assert.equal(detect(tones(8000, 8000 * 5, [[350, 8000], [440, 8000]])), '');
    assert.equal(detect(tones(8000, 8000 * 5, [[1000, 8000], [1400, 8000]])), '');
    assert.equal(detect(whiteNoise(24000 * 5, 3000, 3), 24000), '');
  });

  test('no digits in speech (espeak-ng voices, spoken numbers included; the flite apology clip)', () => {
    const speech = mulawToPcm16(readFileSync(SPEECH_FIXTURE));
    assert.ok(speech.length > 8000 * 8, 'speech fixture present');
    assert.equal(detect(speech), '');
    assert.equal(detect(resamplePcm16(speech, 8000, 16000), 16000), '');
    const louder = speech.map((sample) => Math.max(-32768, Math.min(32767, sample * 2)));
    assert.equal(detect(louder), '');
    assert.equal(detect(mulawToPcm16(loadApologyClip())), '');
  });

  test('still hears a key pressed while someone talks', () => {
    const speech = mulawToPcm16(readFileSync(SPEECH_FIXTURE)).subarray(8000, 8000 + 4800);
    const quietSpeech = speech.map((sample) => Math.round(sample / 4));
    const key = concat(generateDtmfPcm16('7', { toneMs: 300, gapMs: 0 }), silence(2400));
    assert.equal(detect(mix(key, quietSpeech)), '7');
  });

  test('reset forgets a tone in progress', () => {
    const detector = new DtmfDetector();
    assert.deepEqual(detector.push(keyTone('3', 20, -10, -10)), []);
    detector.reset();
    assert.deepEqual(detector.push(silence(800)), []);
    const pressed = new DtmfDetector();
    assert.deepEqual(pressed.push(keyTone('3', 100, -10, -10)), ['3']);
    pressed.reset();
    assert.deepEqual(pressed.push(keyTone('3', 100, -10, -10)), ['3']);
  });

  test('rejects sample rates below 8 kHz', () => {
    assert.throws(() => new DtmfDetector({ sampleRateHz: 4000 }), RangeError);
    assert.throws(() => new DtmfDetector({ sampleRateHz: Number.NaN }), RangeError);
  });

  test('cost per 20 ms frame (logged, not asserted)', (t) => {
    for (const sampleRateHz of [8000, 24000]) {
      const frameSamples = sampleRateHz / 50;
      const signal = concat(generateDtmfPcm16('1234567890', { sampleRateHz }), whiteNoise(sampleRateHz, 2000, 5));
      const frames = chunks(signal, [frameSamples]).filter((frame) => frame.length === frameSamples);
      const detector = new DtmfDetector({ sampleRateHz });
      for (const frame of frames) detector.push(frame);
      const rounds = 20;
      let digits = 0;
      const start = process.hrtime.bigint();
      for (let round = 0; round < rounds; round++) for (const frame of frames) digits += detector.push(frame).length;
      const nsPerFrame = Number(process.hrtime.bigint() - start) / (rounds * frames.length);
      assert.equal(digits, rounds * 10);
      t.diagnostic(`DTMF Goertzel at ${sampleRateHz} Hz: ${Math.round(nsPerFrame)} ns per 20 ms frame`);
    }
  });
});
