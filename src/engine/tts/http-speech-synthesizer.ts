// Text-to-speech through any OpenAI-compatible `POST /audio/speech` endpoint: OpenAI (tts-1,
// gpt-4o-mini-tts), speaches (Kokoro, Piper), LocalAI and the like. One request per sentence, a few
// sentences ahead of the one playing; the audio comes back as raw PCM or as a WAV file.
import { parseWav, pcm16FromBytesLE, resamplePcm16, toMonoPcm16, WavFormatError } from '../../audio/index.js';
import { serverErrorMessage } from '../dialogue/chat-completions/chat-errors.js';
import { HttpAudioEndpoint } from '../http-audio-endpoint.js';
import { StageError } from '../stage.js';
import { withoutMarkdown } from './flite-text.js';
import { SentenceSynthesisStream } from './synthesis-stream.js';
import type { SpeechSynthesizer, SynthesisOptions, SynthesisStream } from './synthesizer.js';

/**
 * `pcm`: raw 16-bit little-endian mono samples (OpenAI's are 24 kHz). `wav`: a WAV file, whose header
 * gives the rate; Koe resamples it to `sampleRateHz`.
 */
export type HttpSpeechFormat = 'pcm' | 'wav';

export const DEFAULT_TTS_MODEL = 'tts-1';
export const DEFAULT_TTS_VOICE = 'alloy';
export const DEFAULT_TTS_SAMPLE_RATE_HZ = 24_000;
export const DEFAULT_TTS_TIMEOUT_MS = 15_000;
/** OpenAI's limits for `speed`. */
const MIN_SPEED = 0.25;
const MAX_SPEED = 4;

export interface HttpSpeechSynthesizerOptions {
  /** The API root, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8880/v1`; `/audio/speech` is appended. */
  baseUrl: string;
  /** Default `tts-1`. */
  model?: string;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  /** Voice of streams that name none. Default `alloy`. */
  voice?: string;
  /** Default `pcm`. */
  format?: HttpSpeechFormat;
  /**
   * With `pcm`, the rate the server's samples are at (OpenAI: 24 000). With `wav`, the rate Koe converts
   * every answer to. Default 24 000.
   */
  sampleRateHz?: number;
  /** Time allowed for one sentence's request, audio included. Default 15 000 ms. */
  timeoutMs?: number;
  /** Sentences requested at the same time (the one playing next and those after it). Default 2. */
  concurrency?: number;
  /** For tests and custom transports. Default: the global fetch. */
  fetchImpl?: typeof fetch;
}

export class HttpSpeechSynthesizer implements SpeechSynthesizer {
  readonly sampleRateHz: number;
  readonly model: string;
  readonly voice: string;
  readonly format: HttpSpeechFormat;
  readonly #endpoint: HttpAudioEndpoint;
  readonly #concurrency: number;

  constructor(options: HttpSpeechSynthesizerOptions) {
    this.model = options.model ?? DEFAULT_TTS_MODEL;
    this.voice = options.voice ?? DEFAULT_TTS_VOICE;
    this.format = options.format ?? 'pcm';
    this.sampleRateHz = options.sampleRateHz ?? DEFAULT_TTS_SAMPLE_RATE_HZ;
    this.#concurrency = options.concurrency ?? 2;
    if (!this.model.trim()) throw new TypeError('TTS: model must not be empty');
    if (!this.voice.trim()) throw new TypeError('TTS: voice must not be empty');
    if (this.format !== 'pcm' && this.format !== 'wav') throw new TypeError(`TTS: format must be pcm or wav, got ${String(this.format)}`);
    if (!(Number.isInteger(this.sampleRateHz) && this.sampleRateHz >= 8_000 && this.sampleRateHz <= 48_000)) {
      throw new RangeError(`TTS: sampleRateHz must be an integer from 8000 to 48000, got ${this.sampleRateHz}`);
    }
    if (!(Number.isInteger(this.#concurrency) && this.#concurrency >= 1)) throw new RangeError(`TTS: concurrency must be an integer ≥ 1, got ${this.#concurrency}`);
    this.#endpoint = new HttpAudioEndpoint({
      baseUrl: options.baseUrl,
      path: 'audio/speech',
      stage: 'TTS',
      timeoutMs: options.timeoutMs ?? DEFAULT_TTS_TIMEOUT_MS,
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      ...(options.fetchImpl ? { fetchImpl: options.fetchImpl } : {}),
    });
  }

  /** The endpoint as logs may name it (no credentials). */
  get where(): string {
    return this.#endpoint.where;
  }

  stream(options: SynthesisOptions = {}): SynthesisStream {
    const voice = checkVoice(options.voice ?? this.voice);
    const speed = checkSpeed(options.speed ?? 1);
    return new SentenceSynthesisStream((sentence, signal) => this.#sentence(sentence, voice, speed, signal), {
      sampleRateHz: this.sampleRateHz,
      concurrency: this.#concurrency,
      ...(options.chunkMs === undefined ? {} : { chunkMs: options.chunkMs }),
    });
  }

  async synthesize(text: string, options: Omit<SynthesisOptions, 'chunkMs'> & { signal?: AbortSignal } = {}): Promise<Int16Array> {
    const { signal, ...streamOptions } = options;
    if (signal?.aborted) throw new StageError('aborted', 'TTS: aborted');
    const stream = this.stream({ ...streamOptions, chunkMs: 0 });
    const onAbort = (): void => stream.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const parts: Int16Array[] = [];
    try {
      stream.push(text);
      stream.end();
      for await (const event of stream) {
        if (event.type === 'failed') throw event.error;
        parts.push(event.audio);
      }
      if (signal?.aborted) throw new StageError('aborted', 'TTS: aborted');
    } finally {
      signal?.removeEventListener('abort', onAbort);
      stream.close();
    }
    const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  async close(): Promise<void> {
    this.#endpoint.close();
  }

  async #sentence(sentence: string, voice: string, speed: number, signal: AbortSignal): Promise<Int16Array> {
    const input = withoutMarkdown(sentence).replace(/\s+/g, ' ').trim();
    if (!/[\p{L}\p{N}]/u.test(input)) return new Int16Array(0);
    const body = {
      model: this.model,
      input,
      voice,
      response_format: this.format,
      // Left out at the normal pace: some servers reject the field, and 1 is everyone's default.
      ...(speed === 1 ? {} : { speed }),
    };
    const answer = await this.#endpoint
      .post(JSON.stringify(body), { 'content-type': 'application/json' }, signal)
      .catch((error: unknown) => {
        throw voiceRefused(error, voice) ?? error;
      });
    return this.#decode(answer.body, answer.contentType);
  }

  /** The samples of one answer at `sampleRateHz`, whatever the server actually sent. */
  #decode(body: Uint8Array, contentType: string): Int16Array {
    const where = this.#endpoint.where;
    if (body.byteLength === 0) return new Int16Array(0);
    // LocalAI and some others answer every request with a WAV file, whatever `response_format` asked for.
    if (startsWith(body, 'RIFF') && startsWith(body.subarray(8), 'WAVE')) return this.#fromWav(body);
    const compressed = compressedFormat(body, contentType);
    if (compressed) {
      throw new StageError('unavailable', `TTS: ${where} answered with ${compressed} although response_format was ${this.format}; Koe plays only pcm and wav, so it needs a server or model that honours TTS_FORMAT`, {
        retryable: false,
      });
    }
    if (/json|text\/html|text\/plain/i.test(contentType)) {
      // An error sent with status 200 (some servers do).
      const { message } = serverErrorMessage(Buffer.from(body).toString('utf8'));
      throw new StageError('internal', `TTS: ${where} answered with ${contentType.split(';')[0]} instead of audio: ${message.slice(0, 200)}`, { retryable: false });
    }
    if (this.format === 'wav') {
      throw new StageError('internal', `TTS: ${where} answered with something that is not a WAV file (${contentType || 'no content type'})`, { retryable: false });
    }
    // A stray odd byte would shift every sample after it; half a sample is dropped instead.
    const whole = body.byteLength % 2 === 0 ? body : body.subarray(0, body.byteLength - 1);
    return pcm16FromBytesLE(whole).slice();
  }

  #fromWav(body: Uint8Array): Int16Array {
    let pcm: Int16Array;
    let rateHz: number;
    try {
      const parsed = parseWav(withStreamedDataSize(body));
      pcm = toMonoPcm16(parsed).slice();
      rateHz = parsed.sampleRateHz;
    } catch (error) {
      const reason = error instanceof WavFormatError ? error.message : String(error);
      throw new StageError('internal', `TTS: ${this.#endpoint.where} answered with a WAV file Koe cannot read: ${reason}`, { retryable: false, cause: error });
    }
    return rateHz === this.sampleRateHz ? pcm : resamplePcm16(pcm, rateHz, this.sampleRateHz);
  }
}

function checkVoice(voice: string): string {
  if (!voice.trim()) throw new RangeError('TTS: voice must not be empty');
  return voice;
}

function checkSpeed(speed: number): number {
  if (!(speed >= MIN_SPEED && speed <= MAX_SPEED)) throw new RangeError(`TTS: speed must be between ${MIN_SPEED} and ${MAX_SPEED}, got ${speed}`);
  return speed;
}

/**
 * A 4xx that names the voice (or quotes its name): the model does not have it. OpenAI's tts-1 has no
 * `ballad`, `verse`, `marin` or `cedar`, which Realtime sessions may ask for.
 */
function voiceRefused(error: unknown, voice: string): StageError | undefined {
  if (!(error instanceof StageError) || error.code !== 'bad_input') return undefined;
  const quoted = [`'${voice}'`, `"${voice}"`].some((q) => error.message.includes(q));
  if (!quoted && !/\bvoice\b/i.test(error.message)) return undefined;
  return new StageError('bad_input', `${error.message}; the voice "${voice}" may not exist for this model: set TTS_VOICE to one it has`, { cause: error });
}

function startsWith(bytes: Uint8Array, ascii: string): boolean {
  if (bytes.byteLength < ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (bytes[i] !== ascii.charCodeAt(i)) return false;
  return true;
}

/**
 * A compressed answer, by its magic bytes or its content type. MPEG frame sync is not sniffed: raw PCM that
 * starts with a small negative sample (0xFF 0xFF) looks the same.
 */
function compressedFormat(bytes: Uint8Array, contentType: string): string | undefined {
  if (startsWith(bytes, 'ID3') || /audio\/(mpeg|mp3)/i.test(contentType)) return 'MP3';
  if (startsWith(bytes, 'OggS') || /audio\/(ogg|opus)/i.test(contentType)) return 'Ogg (Opus)';
  if (startsWith(bytes, 'fLaC') || /audio\/(x-)?flac/i.test(contentType)) return 'FLAC';
  if (/audio\/(aac|mp4)/i.test(contentType)) return 'AAC';
  return undefined;
}

/**
 * A WAV written to a pipe cannot go back to fill in its sizes. ffmpeg (speaches) leaves 0xFFFFFFFF,
 * which parseWav reads to the end; other writers leave 0. A `data` chunk declared empty with bytes after
 * it is read to the end too.
 */
function withStreamedDataSize(body: Uint8Array): Uint8Array {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let offset = 12;
  while (offset + 8 <= body.byteLength) {
    const size = view.getUint32(offset + 4, true);
    if (startsWith(body.subarray(offset), 'data')) {
      if (size !== 0 || offset + 8 === body.byteLength) return body;
      const copy = new Uint8Array(body);
      new DataView(copy.buffer).setUint32(offset + 4, 0xffffffff, true);
      return copy;
    }
    if (size === 0xffffffff) return body;
    offset += 8 + size + (size % 2);
  }
  return body;
}
