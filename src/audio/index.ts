// The audio part: codecs, levels, resampling, DTMF and WAV. Pure functions and small stateful
// stream processors; nothing here knows about calls, sockets or protocols.

export {
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
} from './g711.js';
export {
  bytesPerMs,
  bytesPerSample,
  decodeToPcm16,
  durationMsOfBytes,
  encodeFromPcm16,
  pcm16FromBytesLE,
  pcm16ToBytesLE,
  rmsDbfs,
} from './pcm.js';
export type { AudioEncoding } from './pcm.js';
export { StreamingResampler, resamplePcm16 } from './resample.js';
export { DtmfDetector, generateDtmfMulaw, generateDtmfPcm16 } from './dtmf.js';
export type { DtmfDetectorOptions, DtmfToneOptions } from './dtmf.js';
export { WavFormatError, encodeWav, parseWav, toMonoPcm16, wavHeader } from './wav.js';
export type { ParsedWav, WavInput } from './wav.js';
export { APOLOGY_CLIP_SAMPLE_RATE_HZ, loadApologyClip } from './apology-clip.js';
