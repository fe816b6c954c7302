// Audio formats of the Realtime protocol (realtime.md §c.2): GA names them with objects,
// beta with strings. Every format is raw frames, base64 on the wire, no header.

export interface PcmAudioFormat {
  type: 'audio/pcm';
  /** Only 24 kHz exists; the field may be left out. */
  rate?: 24000;
}
export interface PcmuAudioFormat {
  type: 'audio/pcmu';
}
export interface PcmaAudioFormat {
  type: 'audio/pcma';
}
export type AudioFormat = PcmAudioFormat | PcmuAudioFormat | PcmaAudioFormat;
export type AudioFormatType = AudioFormat['type'];

export type BetaAudioFormat = 'pcm16' | 'g711_ulaw' | 'g711_alaw';

export const DEFAULT_AUDIO_FORMAT: Readonly<PcmAudioFormat> = Object.freeze({ type: 'audio/pcm', rate: 24000 });

const BETA_BY_GA: Readonly<Record<AudioFormatType, BetaAudioFormat>> = {
  'audio/pcm': 'pcm16',
  'audio/pcmu': 'g711_ulaw',
  'audio/pcma': 'g711_alaw',
};

/** `undefined` when the object names no format Koe knows (the caller passes it through untouched). */
export function audioFormatToBeta(format: AudioFormat): BetaAudioFormat | undefined {
  return BETA_BY_GA[format.type];
}

export function audioFormatFromBeta(format: BetaAudioFormat): AudioFormat | undefined {
  switch (format) {
    case 'pcm16':
      return { type: 'audio/pcm', rate: 24000 };
    case 'g711_ulaw':
      return { type: 'audio/pcmu' };
    case 'g711_alaw':
      return { type: 'audio/pcma' };
    default:
      return undefined;
  }
}

/** Bytes of raw audio per millisecond: PCM16 at 24 kHz is 48, G.711 at 8 kHz is 8. */
export function audioBytesPerMs(format: AudioFormat): number {
  return format.type === 'audio/pcm' ? 48 : 8;
}

export function sampleRateHzOf(format: AudioFormat): number {
  return format.type === 'audio/pcm' ? 24000 : 8000;
}

/** Decoded size of a base64 string, without decoding it (audio deltas are counted, not copied). */
export function base64DecodedLength(base64: string): number {
  const length = base64.length;
  if (length === 0) return 0;
  let padding = 0;
  if (base64.charCodeAt(length - 1) === 61 /* = */) padding++;
  if (length > 1 && base64.charCodeAt(length - 2) === 61) padding++;
  return Math.floor((length * 3) / 4) - padding;
}

/** Milliseconds of audio held by `bytes` of raw frames in `format` (fractional). */
export function audioMsFromBytes(format: AudioFormat, bytes: number): number {
  return bytes / audioBytesPerMs(format);
}
