// WAV (RIFF/WAVE) files holding the encodings Koe uses: 16-bit PCM, μ-law and A-law.
//
// The reader walks the RIFF chunks in whatever order they come and skips those it does not need
// (LIST, fact, cue, ...). It accepts a `data` size of 0xFFFFFFFF, which streaming writers use when
// they cannot seek back to fill in the length, and reads to the end of the file then.

import { bytesPerSample, decodeToPcm16 } from './pcm.js';
import type { AudioEncoding } from './pcm.js';

export interface ParsedWav {
  sampleRateHz: number;
  channels: number;
  encoding: AudioEncoding;
  /** Interleaved sample bytes, a view into the parsed buffer (not a copy), whole frames only. */
  data: Uint8Array;
}

export interface WavInput {
  sampleRateHz: number;
  /** Default 1. */
  channels?: number;
  encoding: AudioEncoding;
  /** Interleaved sample bytes; 16-bit PCM little-endian. */
  data: Uint8Array;
}

/** A file that is not a WAV Koe can read: its message says what is wrong. */
export class WavFormatError extends Error {
  override readonly name = 'WavFormatError';
}

const FORMAT_PCM = 0x0001;
const FORMAT_IEEE_FLOAT = 0x0003;
const FORMAT_ALAW = 0x0006;
const FORMAT_MULAW = 0x0007;
const FORMAT_EXTENSIBLE = 0xfffe;
const UNKNOWN_DATA_SIZE = 0xffffffff;
/** Bytes 2..15 of every KSDATAFORMAT_SUBTYPE_* GUID that wraps a classic format tag. */
const SUBFORMAT_GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

const FORMAT_NAMES = new Map<number, string>([
  [0x0002, 'Microsoft ADPCM'],
  [FORMAT_IEEE_FLOAT, 'IEEE float'],
  [0x0011, 'IMA ADPCM'],
  [0x0031, 'GSM 6.10'],
  [0x0050, 'MPEG'],
  [0x0055, 'MPEG Layer 3'],
]);

interface FormatChunk {
  formatTag: number;
  channels: number;
  sampleRateHz: number;
  bitsPerSample: number;
}

function fourCc(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
}

function hex4(value: number): string {
  return `0x${value.toString(16).padStart(4, '0')}`;
}

function readFormatChunk(view: DataView, offset: number, size: number): FormatChunk {
  if (size < 16) throw new WavFormatError(`WAV "fmt " chunk is ${size} bytes; at least 16 are needed`);
  let formatTag = view.getUint16(offset, true);
  const channels = view.getUint16(offset + 2, true);
  const sampleRateHz = view.getUint32(offset + 4, true);
  const bitsPerSample = view.getUint16(offset + 14, true);
  if (formatTag === FORMAT_EXTENSIBLE) {
    if (size < 40) {
      throw new WavFormatError(`WAV "fmt " chunk of WAVE_FORMAT_EXTENSIBLE is ${size} bytes; 40 are needed`);
    }
    const subFormat = offset + 24;
    for (let i = 0; i < SUBFORMAT_GUID_TAIL.length; i++) {
      if (view.getUint8(subFormat + 2 + i) !== SUBFORMAT_GUID_TAIL[i]) {
        throw new WavFormatError('WAV WAVE_FORMAT_EXTENSIBLE has an unknown sub-format GUID');
      }
    }
    formatTag = view.getUint16(subFormat, true);
  }
  return { formatTag, channels, sampleRateHz, bitsPerSample };
}

function encodingOf(format: FormatChunk): AudioEncoding {
  const { formatTag, bitsPerSample } = format;
  let encoding: AudioEncoding;
  switch (formatTag) {
    case FORMAT_PCM:
      encoding = 'pcm16';
      break;
    case FORMAT_MULAW:
      encoding = 'mulaw';
      break;
    case FORMAT_ALAW:
      encoding = 'alaw';
      break;
    default: {
      const name = FORMAT_NAMES.get(formatTag);
      throw new WavFormatError(
        `unsupported WAV format ${name ? `${name} (${hex4(formatTag)})` : hex4(formatTag)}; ` +
          'Koe reads 16-bit PCM, μ-law and A-law',
      );
    }
  }
  const expectedBits = bytesPerSample(encoding) * 8;
  if (bitsPerSample !== expectedBits) {
    throw new WavFormatError(
      `unsupported WAV ${encoding === 'pcm16' ? 'PCM' : encoding} at ${bitsPerSample} bits per sample; ` +
        `Koe reads ${expectedBits}`,
    );
  }
  return encoding;
}

export function parseWav(buf: Uint8Array): ParsedWav {
  if (buf.byteLength < 12) throw new WavFormatError(`not a WAV file: ${buf.byteLength} bytes is too short for a RIFF header`);
  const riff = fourCc(buf, 0);
  if (riff === 'RF64' || riff === 'RIFX') {
    throw new WavFormatError(`unsupported WAV variant ${riff}; Koe reads little-endian RIFF files under 4 GiB`);
  }
  if (riff !== 'RIFF') throw new WavFormatError('not a WAV file: it does not start with "RIFF"');
  const form = fourCc(buf, 8);
  if (form !== 'WAVE') throw new WavFormatError(`not a WAV file: RIFF form type is ${JSON.stringify(form)}, not "WAVE"`);

  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let format: FormatChunk | undefined;
  let data: Uint8Array | undefined;
  let offset = 12;
  while (offset + 8 <= buf.byteLength && (format === undefined || data === undefined)) {
    const id = fourCc(buf, offset);
    let size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    const available = buf.byteLength - body;
    if (id === 'data' && size === UNKNOWN_DATA_SIZE) size = available;
    if (size > available) {
      throw new WavFormatError(
        `WAV file is truncated: its ${JSON.stringify(id)} chunk declares ${size} bytes but only ${available} remain`,
      );
    }
    if (id === 'fmt ' && format === undefined) format = readFormatChunk(view, body, size);
    else if (id === 'data' && data === undefined) data = buf.subarray(body, body + size);
    offset = body + size + (size % 2);
  }
  if (format === undefined) throw new WavFormatError('WAV file has no "fmt " chunk');
  if (data === undefined) throw new WavFormatError('WAV file has no "data" chunk');

  const encoding = encodingOf(format);
  if (format.channels === 0) throw new WavFormatError('WAV "fmt " chunk declares 0 channels');
  if (format.sampleRateHz === 0) throw new WavFormatError('WAV "fmt " chunk declares a sample rate of 0 Hz');
  const frameBytes = format.channels * bytesPerSample(encoding);
  const wholeFrames = data.byteLength - (data.byteLength % frameBytes);
  return {
    sampleRateHz: format.sampleRateHz,
    channels: format.channels,
    encoding,
    data: data.subarray(0, wholeFrames),
  };
}

export function encodeWav(input: WavInput): Buffer {
  const header = wavHeader(input, input.data.byteLength);
  const out = Buffer.alloc(header.byteLength + input.data.byteLength + (input.data.byteLength % 2));
  header.copy(out);
  out.set(input.data, header.byteLength);
  return out;
}

/**
 * The header (everything before the sample bytes) of a WAV file holding `dataBytes` of samples. Writers
 * that stream to disk write it first with the size so far and rewrite it in place as the file grows, so
 * the file is valid whenever the header was last rewritten.
 */
export function wavHeader(format: Omit<WavInput, 'data'>, dataBytes: number): Buffer {
  const { sampleRateHz, encoding } = format;
  const channels = format.channels ?? 1;
  if (!Number.isInteger(sampleRateHz) || sampleRateHz <= 0 || sampleRateHz > 0xffffffff) {
    throw new RangeError(`sampleRateHz must be a positive integer, got ${sampleRateHz}`);
  }
  if (!Number.isInteger(channels) || channels < 1 || channels > 0xffff) {
    throw new RangeError(`channels must be an integer from 1 to 65535, got ${channels}`);
  }
  const sampleBytes = bytesPerSample(encoding);
  const frameBytes = channels * sampleBytes;
  if (dataBytes % frameBytes !== 0) {
    throw new RangeError(`WAV data of ${dataBytes} bytes is not whole frames of ${frameBytes} bytes`);
  }
  const isPcm = encoding === 'pcm16';
  // Non-PCM formats carry cbSize in "fmt " and need a "fact" chunk with the frame count.
  const formatBytes = isPcm ? 16 : 18;
  const factBytes = isPcm ? 0 : 12;
  const padBytes = dataBytes % 2;
  const headerBytes = 12 + 8 + formatBytes + factBytes + 8;
  const total = headerBytes + dataBytes + padBytes;
  if (total - 8 > 0xffffffff) throw new RangeError(`WAV data of ${dataBytes} bytes exceeds the 4 GiB RIFF limit`);

  const out = Buffer.alloc(headerBytes);
  let offset = 0;
  const writeId = (id: string): void => {
    out.write(id, offset, 'latin1');
    offset += 4;
  };
  const writeU32 = (value: number): void => {
    out.writeUInt32LE(value, offset);
    offset += 4;
  };
  const writeU16 = (value: number): void => {
    out.writeUInt16LE(value, offset);
    offset += 2;
  };
  writeId('RIFF');
  writeU32(total - 8);
  writeId('WAVE');
  writeId('fmt ');
  writeU32(formatBytes);
  writeU16(encoding === 'pcm16' ? FORMAT_PCM : encoding === 'mulaw' ? FORMAT_MULAW : FORMAT_ALAW);
  writeU16(channels);
  writeU32(sampleRateHz);
  writeU32(sampleRateHz * frameBytes);
  writeU16(frameBytes);
  writeU16(sampleBytes * 8);
  if (!isPcm) {
    writeU16(0);
    writeId('fact');
    writeU32(4);
    writeU32(dataBytes / frameBytes);
  }
  writeId('data');
  writeU32(dataBytes);
  return out;
}

/**
 * Decodes to 16-bit PCM and mixes all channels down to one by averaging them. A mono PCM16 file's
 * samples may share memory with `parsed.data`.
 */
export function toMonoPcm16(parsed: ParsedWav): Int16Array {
  const { channels } = parsed;
  const interleaved = decodeToPcm16(parsed.data, parsed.encoding);
  if (channels === 1) return interleaved;
  const frames = Math.floor(interleaved.length / channels);
  const mono = new Int16Array(frames);
  for (let frame = 0; frame < frames; frame++) {
    let sum = 0;
    const first = frame * channels;
    for (let channel = 0; channel < channels; channel++) sum += interleaved[first + channel]!;
    mono[frame] = Math.round(sum / channels);
  }
  return mono;
}
