export { compileGrammar, type CompiledGrammar, type RecognitionGrammar } from './grammar.js';
export { HttpTranscriptionRecognizer, type HttpTranscriptionRecognizerOptions } from './http-transcription-recognizer.js';
export { POCKETSPHINX_PACKAGES } from './pocketsphinx-binding.js';
export { DEFAULT_MODEL_DIR, PHONE_BAND_CMNINIT, type PocketsphinxModelOptions } from './pocketsphinx-model.js';
export { PocketsphinxRecognizer, type PocketsphinxRecognizerOptions } from './pocketsphinx-recognizer.js';
export { UtteranceRecognitionStream, type RecognitionHints, type TranscribeFunction } from './recognition-stream.js';
export type { RecognitionEvent, RecognitionStream, SpeechRecognizer, Transcript, UtteranceOptions } from './recognizer.js';
