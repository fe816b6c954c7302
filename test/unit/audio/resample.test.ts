import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamingResampler, resamplePcm16 } from '../../../src/audio/resample.js';
import { chunks, concat, db, prng, rms, sine, toneAmplitude, whiteNoise } from './signals.js';

const TELEPHONY_PAIRS: ReadonlyArray<readonly [number, number]> = [
  [8000, 16000],
  [8000, 24000],
  [16000, 8000],
  [16000, 24000],
  [24000, 8000],
  [24000, 16000],
];

/** Samples at each end of a one-shot output that the filter's edges may disturb. */
function edge(rateHz: number): number {
  return Math.ceil(rateHz / 100);
}

function streamed(resampler: StreamingResampler, input: Int16Array, sizes: readonly number[]): Int16Array {
  const outputs = chunks(input, sizes).map((chunk) => resampler.push(chunk));
  return concat(...outputs, resampler.flush());
}

describe('resamplePcm16', () => {
  test('output length is ceil(input · to / from)', () => {
    for (const [fromHz, toHz] of [...TELEPHONY_PAIRS, [44100, 8000] as const, [8000, 11025] as const]) {
      for (const length of [0, 1, 2, 3, 159, 160, 161, 479, 480, 1001]) {
        assert.equal(
          resamplePcm16(new Int16Array(length), fromHz, toHz).length,
          Math.ceil((length * toHz) / fromHz),
          `${fromHz}→${toHz}, ${length} samples`,
        );
      }
    }
  });

  test('a 1 kHz tone keeps its level (within 0.1 dB) and its timing (within 0.5 % of its amplitude)', () => {
    const amplitude = 10000;
    for (const [fromHz, toHz] of TELEPHONY_PAIRS) {
      const output = resamplePcm16(sine(1000, fromHz, fromHz, amplitude, 0.7), fromHz, toHz);
      const ideal = sine(1000, toHz, toHz, amplitude, 0.7);
      const from = edge(toHz);
      const to = toHz - edge(toHz);
      const levelDb = db(toneAmplitude(output, 1000, toHz, from, to) / amplitude);
      assert.ok(Math.abs(levelDb) < 0.1, `${fromHz}→${toHz}: 1 kHz at ${levelDb.toFixed(3)} dB`);
      let worst = 0;
      for (let n = from; n < to; n++) worst = Math.max(worst, Math.abs(output[n]! - ideal[n]!));
      assert.ok(worst < amplitude * 0.005, `${fromHz}→${toHz}: off the ideal sine by up to ${worst}`);
    }
  });

  test('24 kHz → 8 kHz: 1 kHz within 1 dB, 6 kHz at least 40 dB down (it would alias to 2 kHz)', () => {
    const amplitude = 16000;
    const pass = resamplePcm16(sine(1000, 24000, 24000, amplitude), 24000, 8000);
    const stop = resamplePcm16(sine(6000, 24000, 24000, amplitude), 24000, 8000);
    const passDb = db(rms(pass, 80, 7920) / (amplitude / Math.SQRT2));
    const stopDb = db(rms(stop, 80, 7920) / (amplitude / Math.SQRT2));
    assert.ok(Math.abs(passDb) < 1, `1 kHz at ${passDb.toFixed(2)} dB`);
    assert.ok(stopDb < -40, `6 kHz at ${stopDb.toFixed(1)} dB`);
    // The design target is 80 dB; the tone is gone below the rounding noise of int16.
    assert.ok(stopDb < -70, `6 kHz at ${stopDb.toFixed(1)} dB, design target 80 dB down`);
  });

  test('downsampling rejects everything above the new Nyquist', () => {
    const cases: ReadonlyArray<readonly [number, number, number]> = [
      [16000, 8000, 4400],
      [16000, 8000, 7000],
      [24000, 16000, 8800],
      [24000, 16000, 11000],
      [24000, 8000, 4400],
      [24000, 8000, 11900],
      [44100, 8000, 12000],
    ];
    for (const [fromHz, toHz, toneHz] of cases) {
      const output = resamplePcm16(sine(toneHz, fromHz, fromHz, 16000), fromHz, toHz);
      const levelDb = db(rms(output, edge(toHz), toHz - edge(toHz)) / (16000 / Math.SQRT2));
      assert.ok(levelDb < -60, `${fromHz}→${toHz}: ${toneHz} Hz at ${levelDb.toFixed(1)} dB`);
    }
  });

  test('upsampling leaves no images of the input band', () => {
    const cases: ReadonlyArray<readonly [number, number, number]> = [
      [8000, 24000, 3000],
      [8000, 24000, 1000],
      [8000, 16000, 3000],
      [16000, 24000, 6000],
    ];
    for (const [fromHz, toHz, toneHz] of cases) {
      const output = resamplePcm16(sine(toneHz, fromHz, fromHz, 16000), fromHz, toHz);
      const from = edge(toHz);
      const to = toHz - edge(toHz);
      const wanted = toneAmplitude(output, toneHz, toHz, from, to);
      for (let image = fromHz - toneHz; image < toHz / 2; image += fromHz) {
        for (const imageHz of [image, image + 2 * toneHz]) {
          if (imageHz >= toHz / 2) continue;
          const imageDb = db(toneAmplitude(output, imageHz, toHz, from, to) / wanted);
          assert.ok(imageDb < -60, `${fromHz}→${toHz}: image of ${toneHz} Hz at ${imageHz} Hz is ${imageDb.toFixed(1)} dB`);
        }
      }
    }
  });

  test('passes DC exactly', () => {
    for (const [fromHz, toHz] of TELEPHONY_PAIRS) {
      const output = resamplePcm16(new Int16Array(fromHz / 10).fill(-1234), fromHz, toHz);
      for (let n = edge(toHz); n < output.length - edge(toHz); n++) assert.equal(output[n], -1234, `${fromHz}→${toHz} at ${n}`);
    }
  });

  test('saturates instead of wrapping when the filter overshoots full scale', () => {
    const square = Int16Array.from({ length: 8000 }, (_, n) => (n % 40 < 20 ? 32767 : -32768));
    const output = resamplePcm16(square, 8000, 24000);
    // Gibbs overshoot exceeds int16; a wrapped sample would flip sign in the middle of a half period.
    for (let n = 240; n < output.length - 240; n++) {
      const phase = n % 120;
      if (phase > 10 && phase < 50) assert.ok(output[n]! > 20000, `sample ${n} = ${output[n]}`);
      if (phase > 70 && phase < 110) assert.ok(output[n]! < -20000, `sample ${n} = ${output[n]}`);
    }
    assert.ok(output.includes(32767) && output.includes(-32768));
  });

  test('works for other integer rates (44.1 kHz, 11.025 kHz, 48 kHz)', () => {
    for (const [fromHz, toHz] of [
      [44100, 8000],
      [8000, 11025],
      [48000, 16000],
      [48000, 44100],
    ] as const) {
      const output = resamplePcm16(sine(1000, fromHz, fromHz, 10000), fromHz, toHz);
      const levelDb = db(toneAmplitude(output, 1000, toHz, edge(toHz), toHz - edge(toHz)) / 10000);
      assert.ok(Math.abs(levelDb) < 0.1, `${fromHz}→${toHz}: ${levelDb.toFixed(3)} dB`);
    }
  });

  test('the same rate returns an equal copy', () => {
    const input = sine(440, 8000, 160, 1000);
    const output = resamplePcm16(input, 8000, 8000);
    assert.deepEqual(output, input);
    assert.notEqual(output.buffer, input.buffer);
  });

  test('rejects rates that are not positive integers', () => {
    for (const bad of [0, -8000, 8000.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => resamplePcm16(new Int16Array(4), bad, 8000), { name: 'RangeError', message: /fromHz/ });
      assert.throws(() => new StreamingResampler(8000, bad), { name: 'RangeError', message: /toHz/ });
    }
  });
});

describe('StreamingResampler', () => {
  test('concatenated 20 ms chunks equal the one-shot result', () => {
    for (const [fromHz, toHz] of TELEPHONY_PAIRS) {
      const input = concat(whiteNoise(fromHz / 4, 3000, fromHz + toHz), sine(700, fromHz, fromHz / 2, 9000));
      const oneShot = resamplePcm16(input, fromHz, toHz);
      const output = streamed(new StreamingResampler(fromHz, toHz), input, [fromHz / 50]);
      assert.equal(output.length, oneShot.length);
      for (let n = 0; n < output.length; n++) {
        if (Math.abs(output[n]! - oneShot[n]!) > 1) assert.fail(`${fromHz}→${toHz} sample ${n}: ${output[n]} vs ${oneShot[n]}`);
      }
    }
  });

  test('any chunking gives the same result, down to single samples and empty chunks', () => {
    const random = prng(7);
    const input = whiteNoise(4000, 5000, 3);
    for (const [fromHz, toHz] of [...TELEPHONY_PAIRS, [44100, 8000] as const]) {
      const oneShot = resamplePcm16(input, fromHz, toHz);
      const sizes = Array.from({ length: 50 }, () => Math.floor(random() * 300));
      sizes.push(1);
      assert.deepEqual(streamed(new StreamingResampler(fromHz, toHz), input, sizes), oneShot, `${fromHz}→${toHz}`);
      assert.deepEqual(streamed(new StreamingResampler(fromHz, toHz), input.subarray(0, 50), [1]), resamplePcm16(input.subarray(0, 50), fromHz, toHz));
    }
  });

  test('no clicks at 20 ms boundaries: a streamed sine never jumps more than the sine itself', () => {
    const amplitude = 20000;
    const toneHz = 440;
    for (const [fromHz, toHz] of TELEPHONY_PAIRS) {
      const output = streamed(new StreamingResampler(fromHz, toHz), sine(toneHz, fromHz, fromHz, amplitude), [fromHz / 50]);
      const maxStep = 2 * Math.PI * toneHz * (amplitude / toHz) + 2;
      for (let n = edge(toHz) + 1; n < output.length - edge(toHz); n++) {
        const step = Math.abs(output[n]! - output[n - 1]!);
        if (step > maxStep) assert.fail(`${fromHz}→${toHz}: jump of ${step} at ${n} (boundary every ${toHz / 50})`);
      }
    }
  });

  test('holds back only the filter lookahead, and flush returns the rest', () => {
    const resampler = new StreamingResampler(8000, 24000);
    assert.ok(resampler.latencyInputSamples > 0 && resampler.latencyInputSamples <= 8000 * 0.005);
    const first = resampler.push(new Int16Array(160));
    assert.equal(first.length, 480 - 3 * resampler.latencyInputSamples);
    // Once primed, every 20 ms in gives 20 ms out.
    for (let i = 0; i < 5; i++) assert.equal(resampler.push(new Int16Array(160)).length, 480);
    assert.equal(resampler.flush().length, 3 * resampler.latencyInputSamples);
    assert.equal(resampler.flush().length, 0);
  });

  test('flush ends the stream: the next push starts a fresh one', () => {
    const input = sine(1000, 24000, 960, 8000);
    const resampler = new StreamingResampler(24000, 8000);
    const first = concat(resampler.push(input), resampler.flush());
    const second = concat(resampler.push(input), resampler.flush());
    assert.deepEqual(second, first);
    assert.deepEqual(first, resamplePcm16(input, 24000, 8000));
  });

  test('reset discards a stream in progress', () => {
    const resampler = new StreamingResampler(16000, 24000);
    resampler.push(whiteNoise(500, 10000, 1));
    resampler.reset();
    const input = sine(300, 16000, 640, 5000);
    assert.deepEqual(concat(resampler.push(input), resampler.flush()), resamplePcm16(input, 16000, 24000));
  });

  test('same rate passes chunks through as copies', () => {
    const resampler = new StreamingResampler(8000, 8000);
    const chunk = sine(440, 8000, 160, 1000);
    const out = resampler.push(chunk);
    assert.deepEqual(out, chunk);
    assert.notEqual(out.buffer, chunk.buffer);
    assert.equal(resampler.flush().length, 0);
    assert.equal(resampler.latencyInputSamples, 0);
  });

  test('cost per 20 ms frame (logged, not asserted)', (t) => {
    const frames = 3000;
    for (const [fromHz, toHz] of TELEPHONY_PAIRS) {
      const frame = sine(440, fromHz, fromHz / 50, 8000);
      const resampler = new StreamingResampler(fromHz, toHz);
      for (let i = 0; i < 200; i++) resampler.push(frame);
      const start = process.hrtime.bigint();
      let produced = 0;
      for (let i = 0; i < frames; i++) produced += resampler.push(frame).length;
      const nsPerFrame = Number(process.hrtime.bigint() - start) / frames;
      assert.equal(produced, (frames * toHz) / 50);
      t.diagnostic(`resample ${fromHz}→${toHz}: ${Math.round(nsPerFrame)} ns per 20 ms frame`);
    }
  });
});
