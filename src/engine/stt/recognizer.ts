// What the engine needs from speech-to-text, whatever runs it: pocketsphinx in-process, or any
// OpenAI-compatible /v1/audio/transcriptions endpoint.
import type { StageError, StageStream } from '../stage.js';
import type { RecognitionGrammar } from './grammar.js';

export interface Transcript {
  /**
   * The words, separated by single spaces; empty when nothing was recognised. Pocketsphinx gives
   * lower-case words; a transcription service gives its own casing and punctuation.
   */
  text: string;
  /** Length of the audio decoded. */
  audioMs: number;
  /** Time the recogniser spent on it (waiting for a free decoder not included; a service's round trip included). */
  decodeMs: number;
}

export type RecognitionEvent =
  | ({ type: 'transcript'; utteranceIndex: number } & Transcript)
  | { type: 'failed'; utteranceIndex: number; error: StageError };

export interface UtteranceOptions {
  /** Recognise against this grammar instead of the open vocabulary; `null` forces the open vocabulary. */
  grammar?: RecognitionGrammar | null;
  /** Spoken language as ISO-639-1 (`en`, `ja`), a hint for recognisers that take one. */
  language?: string;
  /** Text that may appear in the audio (names, terms), a hint for recognisers that take one. */
  prompt?: string;
}

/**
 * Speech-to-text for one audio stream. Audio is pushed as it arrives; each `flush` closes one utterance and
 * yields exactly one event for it (`transcript` or `failed`), in utterance order. `end` flushes audio
 * still buffered.
 */
export interface RecognitionStream extends StageStream<Int16Array, RecognitionEvent> {
  /** Closes the current utterance, optionally with its own grammar. */
  flush(utterance?: UtteranceOptions): void;
}

export interface SpeechRecognizer {
  /** Input rate of `push` and `transcribe`: mono PCM16. */
  readonly sampleRateHz: number;
  /** `options.grammar` applies to every utterance of the stream unless a flush names its own. */
  stream(options?: UtteranceOptions): RecognitionStream;
  /** One utterance, whole. */
  transcribe(pcm: Int16Array, options?: UtteranceOptions & { signal?: AbortSignal }): Promise<Transcript>;
  /** Releases decoders and their threads. Idempotent. */
  close(): Promise<void>;
}
