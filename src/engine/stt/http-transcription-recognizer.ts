// Speech-to-text through any OpenAI-compatible `POST /audio/transcriptions` endpoint: OpenAI (whisper-1,
// gpt-4o-transcribe), speaches / faster-whisper-server, whisper.cpp's server, LocalAI, vLLM. Each utterance is
// sent whole as a 16 kHz mono WAV in a multipart form, the way OpenAI's SDKs send a file.
import { encodeWav, pcm16ToBytesLE } from '../../audio/index.js';
import { HttpAudioEndpoint, isRecord } from '../http-audio-endpoint.js';
import { StageError } from '../stage.js';
import { UtteranceRecognitionStream, type RecognitionHints } from './recognition-stream.js';
import type { RecognitionStream, SpeechRecognizer, Transcript, UtteranceOptions } from './recognizer.js';

const SAMPLE_RATE_HZ = 16_000;
/** OpenAI refuses audio shorter than 0.1 s ("audio_too_short"); shorter utterances are padded with silence. */
const MIN_AUDIO_MS = 100;
/** OpenAI's upload limit is 25 MB; a 16 kHz PCM16 WAV reaches it after ≈13 minutes. */
const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;

export const DEFAULT_STT_MODEL = 'whisper-1';
export const DEFAULT_STT_TIMEOUT_MS = 15_000;

export interface HttpTranscriptionRecognizerOptions {
  /** The API root, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8000/v1`; `/audio/transcriptions` is appended. */
  baseUrl: string;
  /** Default `whisper-1`. */
  model?: string;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  /** Spoken language (ISO-639-1) when an utterance names none; unset lets the service detect it. */
  language?: string;
  /** Time allowed for one utterance's request. Default 15 000 ms. */
  timeoutMs?: number;
  /** For tests and custom transports. Default: the global fetch. */
  fetchImpl?: typeof fetch;
}

/**
 * Grammars cannot be sent to these services and are ignored: the open vocabulary of the model applies.
 * `language` and `prompt` go with each request.
 */
export class HttpTranscriptionRecognizer implements SpeechRecognizer {
  readonly sampleRateHz = SAMPLE_RATE_HZ;
  readonly model: string;
  readonly #endpoint: HttpAudioEndpoint;
  readonly #language: string | undefined;

  constructor(options: HttpTranscriptionRecognizerOptions) {
    this.model = options.model ?? DEFAULT_STT_MODEL;
    if (!this.model.trim()) throw new TypeError('STT: model must not be empty');
    this.#endpoint = new HttpAudioEndpoint({
      baseUrl: options.baseUrl,
      path: 'audio/transcriptions',
      stage: 'STT',
      timeoutMs: options.timeoutMs ?? DEFAULT_STT_TIMEOUT_MS,
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      ...(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}),
    });
    this.#language = isoLanguage(options.language);
  }

  /** The endpoint as logs may name it (no credentials). */
  get where(): string {
    return this.#endpoint.where;
  }

  stream(options: UtteranceOptions = {}): RecognitionStream {
    return new UtteranceRecognitionStream((pcm, _grammar, signal, hints) => this.#transcribe(pcm, hints, signal), { ...options, sampleRateHz: SAMPLE_RATE_HZ });
  }

  transcribe(pcm: Int16Array, options: UtteranceOptions & { signal?: AbortSignal } = {}): Promise<Transcript> {
    const hints: RecognitionHints = { ...(options.language ? { language: options.language } : {}), ...(options.prompt ? { prompt: options.prompt } : {}) };
    return this.#transcribe(pcm, hints, options.signal);
  }

  async close(): Promise<void> {
    this.#endpoint.close();
  }

  async #transcribe(pcm: Int16Array, hints: RecognitionHints, signal: AbortSignal | undefined): Promise<Transcript> {
    const audioMs = (pcm.length * 1000) / SAMPLE_RATE_HZ;
    if (pcm.length === 0) return { text: '', audioMs: 0, decodeMs: 0 };
    const wav = wavOf(pcm);
    if (wav.byteLength > MAX_UPLOAD_BYTES) {
      throw new StageError('bad_input', `STT: an utterance of ${Math.round(audioMs / 1000)} s is over the 25 MB upload limit of transcription services`);
    }
    const form = new FormData();
    // Services pick the decoder by the file name's extension (OpenAI answers 400 without a known one).
    form.append('file', new Blob([wav], { type: 'audio/wav' }), 'audio.wav');
    form.append('model', this.model);
    const language = isoLanguage(hints.language) ?? this.#language;
    if (language) form.append('language', language);
    if (hints.prompt) form.append('prompt', hints.prompt);
    form.append('response_format', 'json');
    const answer = await this.#endpoint.post(form, { accept: 'application/json' }, signal);
    const text = transcriptText(answer.body, answer.contentType, this.#endpoint.where);
    return { text, audioMs, decodeMs: answer.elapsedMs };
  }
}

/** Services take ISO-639-1 (`en`); a session may say `en-US` or `EN`. */
function isoLanguage(language: string | undefined): string | undefined {
  const primary = language?.trim().split(/[-_]/)[0]?.toLowerCase();
  return primary ? primary : undefined;
}

function wavOf(pcm: Int16Array): Buffer {
  const minSamples = (MIN_AUDIO_MS * SAMPLE_RATE_HZ) / 1000;
  const padded = pcm.length >= minSamples ? pcm : padWithSilence(pcm, minSamples);
  return encodeWav({ sampleRateHz: SAMPLE_RATE_HZ, encoding: 'pcm16', data: pcm16ToBytesLE(padded) });
}

function padWithSilence(pcm: Int16Array, samples: number): Int16Array {
  const out = new Int16Array(samples);
  out.set(pcm, 0);
  return out;
}

/**
 * The text of a transcription answer. Shapes seen: `{"text"}` (OpenAI json, speaches, vLLM, whisper.cpp),
 * `{"text", "segments"}` (LocalAI, verbose_json), only `segments`, and plain text from servers that ignore
 * `response_format` (whisper.cpp sends it as text/html). whisper.cpp also answers failures with HTTP 200 and
 * `{"error": "…"}`.
 */
export function transcriptText(body: Uint8Array, contentType: string, where: string): string {
  const raw = Buffer.from(body).toString('utf8');
  const trimmed = raw.trim();
  const looksJson = /json/i.test(contentType) || trimmed.startsWith('{');
  if (!looksJson) return cleanTranscript(trimmed);
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    // A plain-text transcript that happens to start with "{" is still a transcript.
    if (!/json/i.test(contentType)) return cleanTranscript(trimmed);
    throw new StageError('internal', `STT: ${where} answered with broken JSON: ${trimmed.slice(0, 200)}`, { retryable: true });
  }
  if (!isRecord(parsed)) throw new StageError('internal', `STT: ${where} answered with JSON that is not an object: ${trimmed.slice(0, 200)}`);
  if (typeof parsed.text === 'string') return cleanTranscript(parsed.text);
  if (Array.isArray(parsed.segments)) {
    return cleanTranscript(parsed.segments.map((s) => (isRecord(s) && typeof s.text === 'string' ? s.text : '')).join(' '));
  }
  const error = isRecord(parsed.error) ? parsed.error.message : parsed.error;
  if (typeof error === 'string') throw new StageError('internal', `STT: ${where} failed: ${error}`, { retryable: false });
  throw new StageError('internal', `STT: ${where} answered without a "text" field: ${trimmed.slice(0, 200)}`);
}

/**
 * Whisper marks what is not speech in brackets ("[BLANK_AUDIO]" from whisper.cpp on silence, "[Music]",
 * "(silence)"); those are not words the caller said.
 */
const NON_SPEECH = /[[(]\s*(?:blank[_ ]audio|silence|music|applause|laughter|noise|inaudible|no speech|speaker[_ ]turn|sound|beep)\s*[\])]/gi;

function cleanTranscript(text: string): string {
  return text.replace(NON_SPEECH, ' ').replace(/\s+/g, ' ').trim();
}
