// Picks the engine's speech-to-text and text-to-speech from configuration: the embedded pocketsphinx and
// Flite, or OpenAI-compatible endpoints. The embedded ones are imported only when chosen, so a machine
// without pocketsphinx's Debian packages runs the engine with speech services.
import type { Config } from '../config/index.js';
import type { Voice } from '../realtime/index.js';
import type { SpeechRecognizer } from './stt/recognizer.js';
import { HttpTranscriptionRecognizer, type HttpTranscriptionRecognizerOptions } from './stt/http-transcription-recognizer.js';
import type { SpeechSynthesizer } from './tts/synthesizer.js';
import { HttpSpeechSynthesizer, type HttpSpeechSynthesizerOptions } from './tts/http-speech-synthesizer.js';
import { embeddedVoiceFor, passThroughVoiceFor } from './voices.js';

export interface SpeechStageOptions {
  /** Speech recognizers kept loaded (≈120 MB each); default min(2, cores). Embedded STT only. */
  sttDecoders?: number;
  /** Speech synthesis worker threads; default 1. Embedded TTS only. */
  ttsWorkers?: number;
  /** Speech-to-text through an OpenAI-compatible endpoint instead of pocketsphinx. */
  sttHttp?: HttpTranscriptionRecognizerOptions;
  /**
   * Text-to-speech through an OpenAI-compatible endpoint instead of Flite. `voice` here replaces the voice
   * every session asks for; without it the session's voice name is passed through.
   */
  ttsHttp?: HttpSpeechSynthesizerOptions;
}

/** The speech part of the engine's options, from the validated configuration. */
export function speechStageOptions(config: Pick<Config, 'engine' | 'stt' | 'tts'>): SpeechStageOptions {
  const { engine, stt, tts } = config;
  return {
    ttsWorkers: engine.ttsWorkers,
    ...(engine.sttDecoders === undefined ? {} : { sttDecoders: engine.sttDecoders }),
    ...(stt.kind === 'http'
      ? {
          sttHttp: {
            baseUrl: stt.baseUrl,
            model: stt.model,
            timeoutMs: stt.timeoutMs,
            ...(stt.apiKey ? { apiKey: stt.apiKey } : {}),
            ...(stt.language ? { language: stt.language } : {}),
          },
        }
      : {}),
    ...(tts.kind === 'http'
      ? {
          ttsHttp: {
            baseUrl: tts.baseUrl,
            model: tts.model,
            format: tts.format,
            sampleRateHz: tts.sampleRateHz,
            timeoutMs: tts.timeoutMs,
            ...(tts.apiKey ? { apiKey: tts.apiKey } : {}),
            ...(tts.voice ? { voice: tts.voice } : {}),
          },
        }
      : {}),
  };
}

export async function createRecognizer(options: SpeechStageOptions): Promise<SpeechRecognizer> {
  if (options.sttHttp) return new HttpTranscriptionRecognizer(options.sttHttp);
  const { PocketsphinxRecognizer } = await import('./stt/pocketsphinx-recognizer.js');
  return PocketsphinxRecognizer.create(options.sttDecoders === undefined ? {} : { decoders: options.sttDecoders });
}

export async function createSynthesizer(options: SpeechStageOptions): Promise<SpeechSynthesizer> {
  if (options.ttsHttp) return new HttpSpeechSynthesizer(options.ttsHttp);
  const { FliteSynthesizer } = await import('./tts/flite-synthesizer.js');
  return FliteSynthesizer.create(options.ttsWorkers === undefined ? {} : { workers: options.ttsWorkers });
}

/** Maps a Realtime voice name to one the configured synthesizer has. */
export function voiceMapper(options: SpeechStageOptions): (voice: Voice) => string {
  return options.ttsHttp ? passThroughVoiceFor(options.ttsHttp.voice) : embeddedVoiceFor;
}

/** What the engine runs, for its start-up log line (no keys). */
export function speechStageNames(recognizer: SpeechRecognizer, synthesizer: SpeechSynthesizer): { stt: string; tts: string } {
  return {
    stt: recognizer instanceof HttpTranscriptionRecognizer ? `${recognizer.model} at ${recognizer.where}` : recognizer.constructor.name,
    tts: synthesizer instanceof HttpSpeechSynthesizer ? `${synthesizer.model} at ${synthesizer.where} (${synthesizer.format})` : synthesizer.constructor.name,
  };
}
