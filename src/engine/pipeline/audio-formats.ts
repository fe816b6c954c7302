// Converts between the Realtime session's audio formats (PCM16 24 kHz, G.711 μ-law/A-law 8 kHz) and the
// mono PCM16 the speech stages work in, with resampler state kept across chunks so streams have no clicks.
import type { AudioEncoding } from '../../audio/index.js';
import { decodeToPcm16, encodeFromPcm16, pcm16FromBytesLE, resamplePcm16, StreamingResampler } from '../../audio/index.js';
import type { AudioFormat } from '../../realtime/index.js';

export function formatSampleRateHz(format: AudioFormat): number {
  return format.type === 'audio/pcm' ? 24_000 : 8_000;
}

export function formatEncoding(format: AudioFormat): AudioEncoding {
  return format.type === 'audio/pcm' ? 'pcm16' : format.type === 'audio/pcmu' ? 'mulaw' : 'alaw';
}

/** Decodes appended input audio to PCM16 at `targetRateHz`, chunk by chunk. */
export class InputDecoder {
  #key = '';
  #resampler: StreamingResampler | undefined;
  /** An odd trailing byte of PCM16 input, waiting for its partner. */
  #pendingByte: number | undefined;

  constructor(readonly targetRateHz: number) {}

  decode(bytes: Uint8Array, format: AudioFormat): Int16Array {
    const encoding = formatEncoding(format);
    const rateHz = formatSampleRateHz(format);
    const key = `${encoding}@${rateHz}`;
    if (key !== this.#key) {
      this.#key = key;
      this.#resampler = rateHz === this.targetRateHz ? undefined : new StreamingResampler(rateHz, this.targetRateHz);
      this.#pendingByte = undefined;
    }
    let pcm: Int16Array;
    if (encoding === 'pcm16') {
      let data = bytes;
      if (this.#pendingByte !== undefined) {
        data = new Uint8Array(bytes.length + 1);
        data[0] = this.#pendingByte;
        data.set(bytes, 1);
        this.#pendingByte = undefined;
      }
      if (data.length % 2 === 1) {
        this.#pendingByte = data[data.length - 1];
        data = data.subarray(0, data.length - 1);
      }
      pcm = pcm16FromBytesLE(data);
    } else {
      pcm = decodeToPcm16(bytes, encoding);
    }
    return this.#resampler ? this.#resampler.push(pcm) : pcm;
  }

  reset(): void {
    this.#key = '';
    this.#resampler = undefined;
    this.#pendingByte = undefined;
  }
}

/** One-shot decode of a whole committed buffer to PCM16 at `targetRateHz`. */
export function decodeWhole(bytes: Uint8Array, format: AudioFormat, targetRateHz: number): Int16Array {
  const encoding = formatEncoding(format);
  const pcm =
    encoding === 'pcm16' ? pcm16FromBytesLE(bytes.length % 2 === 0 ? bytes : bytes.subarray(0, bytes.length - 1)) : decodeToPcm16(bytes, encoding);
  const rateHz = formatSampleRateHz(format);
  return rateHz === targetRateHz ? pcm : resamplePcm16(pcm, rateHz, targetRateHz);
}

/** Encodes PCM16 at `sourceRateHz` into a session output format, chunk by chunk. */
export class OutputEncoder {
  readonly #resampler: StreamingResampler | undefined;
  readonly #encoding: AudioEncoding;

  constructor(
    sourceRateHz: number,
    readonly format: AudioFormat,
  ) {
    const rateHz = formatSampleRateHz(format);
    this.#resampler = rateHz === sourceRateHz ? undefined : new StreamingResampler(sourceRateHz, rateHz);
    this.#encoding = formatEncoding(format);
  }

  encode(pcm: Int16Array): Buffer {
    return this.#bytes(this.#resampler ? this.#resampler.push(pcm) : pcm);
  }

  /** What the resampler still holds, at the end of the audio. */
  flush(): Buffer {
    return this.#resampler ? this.#bytes(this.#resampler.flush()) : Buffer.alloc(0);
  }

  #bytes(pcm: Int16Array): Buffer {
    const encoded = encodeFromPcm16(pcm, this.#encoding);
    return Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  }
}
