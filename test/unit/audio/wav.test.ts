import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WavFormatError, encodeWav, parseWav, toMonoPcm16 } from '../../../src/audio/wav.js';
import type { ParsedWav } from '../../../src/audio/wav.js';
import { pcm16ToAlaw, pcm16ToMulaw } from '../../../src/audio/g711.js';
import { pcm16ToBytesLE } from '../../../src/audio/pcm.js';
import { sine } from './signals.js';

// Builds RIFF files chunk by chunk, so tests can make the odd ones real writers produce.
function chunk(id: string, body: Uint8Array, declaredSize = body.length): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 'latin1');
  header.writeUInt32LE(declaredSize, 4);
  return Buffer.concat([header, body, Buffer.alloc(body.length % 2)]);
}

function riff(...chunks: Buffer[]): Buffer {
  const body = Buffer.concat(chunks);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length + 4, 4);
  header.write('WAVE', 8, 'latin1');
  return Buffer.concat([header, body]);
}

function fmt(formatTag: number, channels: number, sampleRateHz: number, bitsPerSample: number, extra?: Buffer): Buffer {
  const body = Buffer.alloc(16);
  const blockAlign = (channels * bitsPerSample) / 8;
  body.writeUInt16LE(formatTag, 0);
  body.writeUInt16LE(channels, 2);
  body.writeUInt32LE(sampleRateHz, 4);
  body.writeUInt32LE(sampleRateHz * blockAlign, 8);
  body.writeUInt16LE(blockAlign, 12);
  body.writeUInt16LE(bitsPerSample, 14);
  return chunk('fmt ', extra ? Buffer.concat([body, extra]) : body);
}

/** The cbSize + WAVE_FORMAT_EXTENSIBLE tail: valid bits, channel mask, sub-format GUID. */
function extensible(subFormatTag: number, validBits: number, guidTail = '000000001000800000aa00389b71'): Buffer {
  const extra = Buffer.alloc(24);
  extra.writeUInt16LE(22, 0);
  extra.writeUInt16LE(validBits, 2);
  extra.writeUInt32LE(4, 4);
  extra.writeUInt16LE(subFormatTag, 8);
  Buffer.from(guidTail, 'hex').copy(extra, 10);
  return extra;
}

const PCM = pcm16ToBytesLE(sine(440, 8000, 80, 12000));
const MULAW = pcm16ToMulaw(sine(440, 8000, 80, 12000));

function parseError(buf: Uint8Array): WavFormatError {
  try {
    parseWav(buf);
  } catch (error) {
    assert.ok(error instanceof WavFormatError, `expected a WavFormatError, got ${String(error)}`);
    return error;
  }
  assert.fail('parseWav accepted the file');
}

describe('encodeWav', () => {
  test('writes the canonical 44-byte header for 16-bit PCM', () => {
    const wav = encodeWav({ sampleRateHz: 24000, encoding: 'pcm16', data: PCM });
    assert.equal(wav.length, 44 + PCM.length);
    assert.equal(wav.toString('latin1', 0, 4), 'RIFF');
    assert.equal(wav.readUInt32LE(4), wav.length - 8);
    assert.equal(wav.toString('latin1', 8, 16), 'WAVEfmt ');
    assert.equal(wav.readUInt32LE(16), 16);
    assert.equal(wav.readUInt16LE(20), 1);
    assert.equal(wav.readUInt16LE(22), 1);
    assert.equal(wav.readUInt32LE(24), 24000);
    assert.equal(wav.readUInt32LE(28), 48000);
    assert.equal(wav.readUInt16LE(32), 2);
    assert.equal(wav.readUInt16LE(34), 16);
    assert.equal(wav.toString('latin1', 36, 40), 'data');
    assert.equal(wav.readUInt32LE(40), PCM.length);
    assert.deepEqual(wav.subarray(44), PCM);
  });

  test('writes G.711 with cbSize and a fact chunk, as the format requires', () => {
    const wav = encodeWav({ sampleRateHz: 8000, channels: 2, encoding: 'alaw', data: new Uint8Array(10).fill(0xd5) });
    assert.equal(wav.readUInt32LE(16), 18);
    assert.equal(wav.readUInt16LE(20), 6);
    assert.equal(wav.readUInt16LE(22), 2);
    assert.equal(wav.readUInt32LE(28), 16000);
    assert.equal(wav.readUInt16LE(32), 2);
    assert.equal(wav.readUInt16LE(34), 8);
    assert.equal(wav.readUInt16LE(36), 0);
    assert.equal(wav.toString('latin1', 38, 42), 'fact');
    assert.equal(wav.readUInt32LE(46), 5);
    assert.equal(wav.toString('latin1', 50, 54), 'data');
    assert.equal(wav.readUInt32LE(4), wav.length - 8);
  });

  test('pads an odd-sized data chunk to an even length', () => {
    const wav = encodeWav({ sampleRateHz: 8000, encoding: 'mulaw', data: new Uint8Array(3).fill(0x11) });
    assert.equal(wav.length % 2, 0);
    assert.equal(wav.readUInt32LE(wav.length - 3 - 1 - 4), 3);
    assert.deepEqual(Uint8Array.from(parseWav(wav).data), new Uint8Array(3).fill(0x11));
  });

  test('rejects data that is not whole frames, and nonsense rates or channel counts', () => {
    assert.throws(() => encodeWav({ sampleRateHz: 8000, encoding: 'pcm16', data: new Uint8Array(3) }), RangeError);
    assert.throws(() => encodeWav({ sampleRateHz: 8000, channels: 2, encoding: 'pcm16', data: new Uint8Array(6) }), {
      name: 'RangeError',
      message: /not whole frames of 4 bytes/,
    });
    assert.throws(() => encodeWav({ sampleRateHz: 0, encoding: 'mulaw', data: new Uint8Array(2) }), RangeError);
    assert.throws(() => encodeWav({ sampleRateHz: 8000.5, encoding: 'mulaw', data: new Uint8Array(2) }), RangeError);
    assert.throws(() => encodeWav({ sampleRateHz: 8000, channels: 0, encoding: 'mulaw', data: new Uint8Array(2) }), RangeError);
  });
});

describe('parseWav', () => {
  test('round-trips every encoding, mono and stereo', () => {
    const cases: ParsedWav[] = [
      { sampleRateHz: 24000, channels: 1, encoding: 'pcm16', data: PCM },
      { sampleRateHz: 16000, channels: 2, encoding: 'pcm16', data: PCM },
      { sampleRateHz: 8000, channels: 1, encoding: 'mulaw', data: MULAW },
      { sampleRateHz: 8000, channels: 2, encoding: 'alaw', data: MULAW },
      { sampleRateHz: 8000, channels: 1, encoding: 'mulaw', data: new Uint8Array(0) },
    ];
    for (const input of cases) {
      const parsed = parseWav(encodeWav(input));
      assert.equal(parsed.sampleRateHz, input.sampleRateHz);
      assert.equal(parsed.channels, input.channels);
      assert.equal(parsed.encoding, input.encoding);
      assert.deepEqual(Uint8Array.from(parsed.data), Uint8Array.from(input.data));
    }
  });

  test('finds chunks in any order and skips unknown ones (LIST, odd-sized with a pad byte)', () => {
    const list = chunk('LIST', Buffer.from('INFOISFT\x06\x00\x00\x00Lavf58', 'latin1'));
    const odd = chunk('junk', Buffer.from([1, 2, 3]));
    const file = riff(list, chunk('data', MULAW), odd, fmt(7, 1, 8000, 8));
    const parsed = parseWav(file);
    assert.equal(parsed.encoding, 'mulaw');
    assert.deepEqual(Uint8Array.from(parsed.data), MULAW);
  });

  test('returns a view into the buffer, also when the buffer is a view itself', () => {
    const file = encodeWav({ sampleRateHz: 8000, encoding: 'pcm16', data: PCM });
    const backing = new Uint8Array(file.length + 3);
    backing.set(file, 3);
    const parsed = parseWav(backing.subarray(3));
    assert.equal(parsed.data.buffer, backing.buffer);
    assert.deepEqual(Uint8Array.from(parsed.data), Uint8Array.from(PCM));
  });

  test('reads WAVE_FORMAT_EXTENSIBLE PCM and μ-law', () => {
    const pcm = parseWav(riff(fmt(0xfffe, 1, 16000, 16, extensible(1, 16)), chunk('data', PCM)));
    assert.equal(pcm.encoding, 'pcm16');
    assert.equal(pcm.sampleRateHz, 16000);
    const mulaw = parseWav(riff(fmt(0xfffe, 1, 8000, 8, extensible(7, 8)), chunk('data', MULAW)));
    assert.equal(mulaw.encoding, 'mulaw');
  });

  test('reads to the end when the data size is 0xFFFFFFFF (streamed WAV)', () => {
    const file = riff(fmt(1, 1, 8000, 16), chunk('data', PCM, 0xffffffff));
    assert.deepEqual(Uint8Array.from(parseWav(file).data), Uint8Array.from(PCM));
  });

  test('drops a trailing partial frame', () => {
    const parsed = parseWav(riff(fmt(1, 2, 8000, 16), chunk('data', Buffer.alloc(10))));
    assert.equal(parsed.data.length, 8);
  });

  test('explains what is wrong with files it cannot read', () => {
    const expectations: Array<[string, Uint8Array, RegExp]> = [
      ['empty', new Uint8Array(0), /too short for a RIFF header/],
      ['not RIFF', Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00', 'latin1'), /does not start with "RIFF"/],
      ['RIFX', Buffer.concat([Buffer.from('RIFX'), Buffer.alloc(4), Buffer.from('WAVE')]), /RIFX/],
      ['RF64', Buffer.concat([Buffer.from('RF64'), Buffer.alloc(4), Buffer.from('WAVE')]), /RF64/],
      ['AVI', Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('AVI ')]), /form type is "AVI "/],
      ['no fmt', riff(chunk('data', PCM)), /no "fmt " chunk/],
      ['no data', riff(fmt(1, 1, 8000, 16)), /no "data" chunk/],
      ['truncated data', riff(fmt(1, 1, 8000, 16), chunk('data', PCM, PCM.length + 100)), /truncated: its "data" chunk declares 260 bytes but only 160 remain/],
      ['truncated LIST', riff(chunk('LIST', Buffer.alloc(4), 1000), fmt(1, 1, 8000, 16), chunk('data', PCM)), /truncated: its "LIST" chunk/],
      ['short fmt', riff(chunk('fmt ', Buffer.alloc(14)), chunk('data', PCM)), /"fmt " chunk is 14 bytes/],
      ['IEEE float', riff(fmt(3, 1, 8000, 32), chunk('data', PCM)), /unsupported WAV format IEEE float \(0x0003\); Koe reads 16-bit PCM, μ-law and A-law/],
      ['MP3', riff(fmt(0x55, 1, 8000, 0), chunk('data', PCM)), /MPEG Layer 3 \(0x0055\)/],
      ['unknown tag', riff(fmt(0x1234, 1, 8000, 16), chunk('data', PCM)), /unsupported WAV format 0x1234/],
      ['24-bit PCM', riff(fmt(1, 1, 48000, 24), chunk('data', Buffer.alloc(6))), /PCM at 24 bits per sample; Koe reads 16/],
      ['8-bit PCM', riff(fmt(1, 1, 8000, 8), chunk('data', MULAW)), /PCM at 8 bits per sample/],
      ['16-bit μ-law', riff(fmt(7, 1, 8000, 16), chunk('data', PCM)), /mulaw at 16 bits per sample; Koe reads 8/],
      ['zero channels', riff(fmt(1, 0, 8000, 16), chunk('data', PCM)), /0 channels/],
      ['zero rate', riff(fmt(1, 1, 0, 16), chunk('data', PCM)), /sample rate of 0 Hz/],
      ['short extensible', riff(fmt(0xfffe, 1, 8000, 16), chunk('data', PCM)), /EXTENSIBLE is 16 bytes; 40 are needed/],
      ['foreign GUID', riff(fmt(0xfffe, 1, 8000, 16, extensible(1, 16, '0000000000000000000000000000')), chunk('data', PCM)), /unknown sub-format GUID/],
      ['extensible float', riff(fmt(0xfffe, 1, 8000, 32, extensible(3, 32)), chunk('data', PCM)), /IEEE float/],
    ];
    for (const [name, file, message] of expectations) assert.match(parseError(file).message, message, name);
    assert.equal(parseError(new Uint8Array(0)).name, 'WavFormatError');
  });
});

describe('toMonoPcm16', () => {
  test('mono PCM16 comes back as its samples', () => {
    const samples = sine(300, 8000, 64, 9000);
    const mono = toMonoPcm16(parseWav(encodeWav({ sampleRateHz: 8000, encoding: 'pcm16', data: pcm16ToBytesLE(samples) })));
    assert.deepEqual(mono, samples);
  });

  test('averages the channels of each frame', () => {
    const interleaved = new Int16Array([1000, 3000, -32768, -32768, 32767, 32767, 5, -6, 0, 1]);
    const wav = encodeWav({ sampleRateHz: 8000, channels: 2, encoding: 'pcm16', data: pcm16ToBytesLE(interleaved) });
    // (5 - 6) / 2 rounds to 0, (0 + 1) / 2 to 1.
    assert.deepEqual(Array.from(toMonoPcm16(parseWav(wav))), [2000, -32768, 32767, 0, 1]);
    const three = new Int16Array([300, 600, 900, -3, -3, -3]);
    const wav3 = encodeWav({ sampleRateHz: 8000, channels: 3, encoding: 'pcm16', data: pcm16ToBytesLE(three) });
    assert.deepEqual(Array.from(toMonoPcm16(parseWav(wav3))), [600, -3]);
  });

  test('decodes μ-law and A-law', () => {
    const samples = sine(440, 8000, 160, 10000);
    const mulaw = toMonoPcm16(parseWav(encodeWav({ sampleRateHz: 8000, encoding: 'mulaw', data: pcm16ToMulaw(samples) })));
    const alaw = toMonoPcm16(parseWav(encodeWav({ sampleRateHz: 8000, encoding: 'alaw', data: pcm16ToAlaw(samples) })));
    for (let n = 0; n < samples.length; n++) {
      assert.ok(Math.abs(mulaw[n]! - samples[n]!) <= Math.abs(samples[n]!) / 16 + 16, `μ-law ${n}`);
      assert.ok(Math.abs(alaw[n]! - samples[n]!) <= Math.abs(samples[n]!) / 16 + 16, `A-law ${n}`);
    }
    const stereo = new Uint8Array([0x80, 0xff, 0x00, 0x00]);
    assert.deepEqual(Array.from(toMonoPcm16(parseWav(encodeWav({ sampleRateHz: 8000, channels: 2, encoding: 'mulaw', data: stereo })))), [16062, -32124]);
  });
});

function hasSox(): boolean {
  try {
    execFileSync('sox', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('interoperability with sox', { skip: hasSox() ? false : 'sox is not installed' }, () => {
  test('reads what sox writes and sox reads what encodeWav writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'koe-wav-'));
    try {
      const cases = [
        { args: ['-r', '8000', '-c', '1', '-e', 'mu-law', '-b', '8'], encoding: 'mulaw', channels: 1, sampleRateHz: 8000 },
        { args: ['-r', '8000', '-c', '2', '-e', 'a-law', '-b', '8'], encoding: 'alaw', channels: 2, sampleRateHz: 8000 },
        { args: ['-r', '24000', '-c', '1', '-e', 'signed', '-b', '16'], encoding: 'pcm16', channels: 1, sampleRateHz: 24000 },
        // Three channels make sox write WAVE_FORMAT_EXTENSIBLE.
        { args: ['-r', '16000', '-c', '3', '-e', 'signed', '-b', '16'], encoding: 'pcm16', channels: 3, sampleRateHz: 16000 },
      ] as const;
      for (const expected of cases) {
        const path = join(dir, `sox-${expected.encoding}-${expected.channels}.wav`);
        execFileSync('sox', ['-n', ...expected.args, path, 'synth', '0.1', 'sine', '1000']);
        const parsed = parseWav(readFileSync(path));
        assert.equal(parsed.encoding, expected.encoding);
        assert.equal(parsed.channels, expected.channels);
        assert.equal(parsed.sampleRateHz, expected.sampleRateHz);
        const mono = toMonoPcm16(parsed);
        assert.equal(mono.length, expected.sampleRateHz / 10);

        const ours = join(dir, `koe-${expected.encoding}-${expected.channels}.wav`);
        writeFileSync(ours, encodeWav(parsed));
        const info = execFileSync('soxi', [ours], { encoding: 'utf8' });
        assert.match(info, new RegExp(`Channels\\s*: ${expected.channels}`));
        assert.match(info, new RegExp(`Sample Rate\\s*: ${expected.sampleRateHz}`));
        assert.match(info, new RegExp(`Duration\\s*: 00:00:00.10 = ${expected.sampleRateHz / 10} samples`));
        assert.match(info, { mulaw: /u-law/, alaw: /A-law/, pcm16: /Signed Integer PCM/ }[expected.encoding]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
