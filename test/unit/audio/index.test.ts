import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as audio from '../../../src/audio/index.js';
import { amplitudeOfDbfs, toneAmplitude } from './signals.js';

test('the index exports the public API', () => {
  const functions = [
    'mulawToPcm16', 'pcm16ToMulaw', 'alawToPcm16', 'pcm16ToAlaw',
    'mulawDecodeSample', 'mulawEncodeSample', 'alawDecodeSample', 'alawEncodeSample',
    'pcm16FromBytesLE', 'pcm16ToBytesLE', 'rmsDbfs', 'bytesPerMs', 'bytesPerSample', 'durationMsOfBytes',
    'decodeToPcm16', 'encodeFromPcm16', 'resamplePcm16', 'StreamingResampler',
    'generateDtmfPcm16', 'generateDtmfMulaw', 'DtmfDetector',
    'parseWav', 'encodeWav', 'toMonoPcm16', 'WavFormatError', 'loadApologyClip',
  ] as const;
  for (const name of functions) assert.equal(typeof audio[name], 'function', name);
  assert.equal(audio.MULAW_SILENCE_BYTE, 0xff);
});

test('a Twilio frame through the engine path: μ-law 8 kHz → PCM16 24 kHz → μ-law 8 kHz', () => {
  // What the engine does with caller audio and with its own speech, 20 ms at a time.
  const caller = audio.generateDtmfMulaw('5', { toneMs: 400, gapMs: 0, levelDbfs: -12 });
  const up = new audio.StreamingResampler(8000, 24000);
  const down = new audio.StreamingResampler(24000, 8000);
  const detector = new audio.DtmfDetector();
  const out: Uint8Array[] = [];
  const digits: string[] = [];
  for (let offset = 0; offset < caller.length; offset += 160) {
    const pcm24 = up.push(audio.mulawToPcm16(caller.subarray(offset, offset + 160)));
    const wire = audio.encodeFromPcm16(pcm24, 'pcm16');
    const pcm8 = down.push(audio.decodeToPcm16(wire, 'pcm16'));
    digits.push(...detector.push(pcm8));
    out.push(audio.pcm16ToMulaw(pcm8));
  }
  out.push(audio.pcm16ToMulaw(down.push(up.flush())), audio.pcm16ToMulaw(down.flush()));
  const back = audio.mulawToPcm16(Buffer.concat(out));
  assert.equal(back.length, caller.length);
  assert.deepEqual(digits, ['5']);
  // 770 Hz and 1336 Hz survive at their level, and in time with the input.
  for (const hz of [770, 1336]) {
    const levelDb = 20 * Math.log10(toneAmplitude(back, hz, 8000, 400, 2800) / amplitudeOfDbfs(-12));
    assert.ok(Math.abs(levelDb) < 0.5, `${hz} Hz at ${levelDb.toFixed(2)} dB`);
  }
  const original = audio.mulawToPcm16(caller);
  let worst = 0;
  for (let n = 400; n < 2800; n++) worst = Math.max(worst, Math.abs(back[n]! - original[n]!));
  assert.ok(worst < 1200, `largest difference ${worst}`);
});
