// What the engine needs from text-to-speech, whatever runs it (Flite here; an OpenAI-compatible
// /v1/audio/speech endpoint later).
import type { StageError, StageStream } from '../stage.js';

/** A slice of one sentence's audio, placed on the reply's audio timeline so transcript deltas can be aligned. */
export interface SpeechChunk {
  type: 'audio';
  sentenceIndex: number;
  /** The sentence as it was split from the input (before cleaning for the voice). */
  sentenceText: string;
  /** Where the sentence's audio starts in the reply's audio (sum of the audio of all previous sentences). */
  sentenceStartMs: number;
  sentenceDurationMs: number;
  /** Where this chunk starts in the reply's audio. */
  chunkStartMs: number;
  /** Mono PCM16 at the synthesizer's `sampleRateHz`. */
  audio: Int16Array;
  lastInSentence: boolean;
}

export interface SentenceFailed {
  type: 'failed';
  sentenceIndex: number;
  sentenceText: string;
  error: StageError;
}

export type SynthesisEvent = SpeechChunk | SentenceFailed;

/**
 * Text-to-speech for one reply. Text is pushed as the model streams it; each completed sentence is spoken
 * in order. `flush` speaks a trailing partial sentence now; `end` flushes and finishes after the last
 * sentence; `abort` (barge-in, response.cancel) stops at once and drops audio not yet read.
 */
export type SynthesisStream = StageStream<string, SynthesisEvent>;

export interface SynthesisOptions {
  voice?: string;
  /** Speaking rate, 1 = the voice's normal pace. */
  speed?: number;
  /** Audio per chunk; 0 = one chunk per sentence. */
  chunkMs?: number;
}

export interface SpeechSynthesizer {
  /** Output rate: mono PCM16. */
  readonly sampleRateHz: number;
  stream(options?: SynthesisOptions): SynthesisStream;
  /** All of `text`, sentence by sentence, as one buffer. */
  synthesize(text: string, options?: Omit<SynthesisOptions, 'chunkMs'> & { signal?: AbortSignal }): Promise<Int16Array>;
  /** Releases the worker threads and wasm instances. Idempotent. */
  close(): Promise<void>;
}
