export { FLITE_VOICES, FliteSynthesizer, type FliteSynthesizerOptions, type FliteVoice } from './flite-synthesizer.js';
export { toFliteText, withoutMarkdown } from './flite-text.js';
export { HttpSpeechSynthesizer, type HttpSpeechSynthesizerOptions, type HttpSpeechFormat } from './http-speech-synthesizer.js';
export { SentenceSplitter, type SentenceSplitterOptions } from './sentence-splitter.js';
export { SentenceSynthesisStream, type SentenceSynthesisStreamOptions, type SynthesizeSentence } from './synthesis-stream.js';
export type { SentenceFailed, SpeechChunk, SpeechSynthesizer, SynthesisEvent, SynthesisOptions, SynthesisStream } from './synthesizer.js';
