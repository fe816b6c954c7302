// The brain of one engine session: server VAD on the input audio, speech-to-text of each committed turn,
// the dialogue step, and text-to-speech of the reply sentence by sentence in the session's output format.
// It implements the protocol core's SessionBrain; the core owns event order and the conversation.
import type { Logger } from '../../log/logger.js';
import type { AudioFormat, RealtimeItem, ServerSession, TurnDetection, Voice } from '../../realtime/index.js';
import type { DialogueEngine, DialogueUsage } from '../dialogue/dialogue.js';
import { DialogueError, estimateTokens } from '../dialogue/dialogue.js';
import type { CommittedAudio, ResponseHandle, SessionBrain, SessionControl } from '../protocol/contract.js';
import { StageError, type StageStream } from '../stage.js';
import type { SpeechRecognizer } from '../stt/index.js';
import type { SpeechSynthesizer } from '../tts/index.js';
import type { VadEvent } from '../vad/index.js';
import { decodeWhole, InputDecoder, OutputEncoder } from './audio-formats.js';
import { dialogueMessages, dialogueToolChoice, dialogueTools } from './conversation-messages.js';
import type { SpokenSentence } from './spoken-transcript.js';
import { transcriptHeardUntil } from './spoken-transcript.js';

export interface VadSettings {
  threshold: number;
  prefixPaddingMs: number;
  silenceDurationMs: number;
  startMs: number;
}

/** The shared, per-process parts of the engine every session uses. */
export interface EngineStages {
  recognizer: SpeechRecognizer;
  synthesizer: SpeechSynthesizer;
  dialogue: DialogueEngine;
  /** A VAD stream for one session: 16 kHz PCM16 in, speech events out. */
  createVad(settings: VadSettings): StageStream<Int16Array, VadEvent>;
  /** Maps a Realtime voice name to one the synthesizer has. */
  voiceFor(voice: Voice): string;
}

const STAGE_RATE_HZ = 16_000;
/** Semantic VAD has no model here: its eagerness becomes a silence window. */
const SEMANTIC_SILENCE_MS = { low: 1_200, medium: 700, high: 350, auto: 700 } as const;
const TTS_CHUNK_MS = 100;

export class SpeechBrain implements SessionBrain {
  readonly #control: SessionControl;
  readonly #stages: EngineStages;
  readonly #log: Logger;
  readonly #decoder = new InputDecoder(STAGE_RATE_HZ);
  #vad: StageStream<Int16Array, VadEvent> | undefined;
  #vadKey = '';
  #idleTimer: NodeJS.Timeout | undefined;
  /** The engine always transcribes user audio: the dialogue needs the words even without transcription events. */
  readonly #transcripts = new Map<string, Promise<string>>();
  readonly #spoken = new Map<string, SpokenSentence[]>();
  /** Where the VAD heard the current turn start, on the input clock (prefix padding included). */
  #speechStartMs: number | undefined;
  #closed = false;

  constructor(control: SessionControl, stages: EngineStages, log: Logger) {
    this.#control = control;
    this.#stages = stages;
    this.#log = log;
  }

  // ── input ──────────────────────────────────────────────────────────────────

  onInputAudio(audio: Buffer, format: AudioFormat, startMs: number): void {
    if (this.#closed) return;
    const pcm = this.#decoder.decode(audio, format);
    const vad = this.#ensureVad(startMs);
    if (vad && pcm.length > 0) vad.push(pcm);
  }

  onInputCleared(): void {
    this.#speechStartMs = undefined;
    this.#closeVad();
    this.#decoder.reset();
  }

  onSessionUpdated(session: ServerSession): void {
    // A changed turn detection takes effect with the next audio.
    if (this.#vadSettingsKey(session.audio?.input?.turn_detection ?? null) !== this.#vadKey) this.#closeVad();
    this.#armIdleTimer();
  }

  onCommitted(committed: CommittedAudio): void {
    if (this.#closed) return;
    // A VAD commit holds everything since the last one — on a call, mostly the silence while the agent
    // spoke. Recognition gets the turn from where the VAD heard it start (prefix padding included).
    const speechStartMs = this.#speechStartMs;
    this.#speechStartMs = undefined;
    const skipMs = speechStartMs === undefined ? 0 : Math.min(committed.audioMs, Math.max(0, speechStartMs - committed.audioStartMs));
    const bytesPerMs = committed.format.type === 'audio/pcm' ? 48 : 8;
    const skipBytes = Math.floor(skipMs * bytesPerMs) & ~1;
    const pcm = decodeWhole(committed.audio.subarray(skipBytes), committed.format, STAGE_RATE_HZ);
    const audioMs = committed.audioEndMs - committed.audioStartMs;
    const settings = this.#control.config.audio?.input?.transcription;
    const transcript = this.#stages.recognizer
      .transcribe(pcm, { ...(settings?.language ? { language: settings.language } : {}), ...(settings?.prompt ? { prompt: settings.prompt } : {}) })
      .then((t) => t.text);
    this.#transcripts.set(committed.itemId, transcript.catch(() => ''));
    if (!settings) return;
    transcript.then(
      (text) => {
        if (this.#closed) return;
        if (text) this.#control.transcriptionDelta(committed.itemId, text);
        this.#control.transcriptionCompleted(committed.itemId, text, { audioMs });
      },
      (err: unknown) => {
        if (this.#closed) return;
        this.#log.warn({ err: (err as Error).message }, 'transcription failed');
        this.#control.transcriptionFailed(committed.itemId, { code: 'transcription_failed', message: (err as Error).message });
      },
    );
  }

  onTruncate(item: RealtimeItem, audioEndMs: number): string | undefined {
    const sentences = item.id ? this.#spoken.get(item.id) : undefined;
    if (!sentences) return undefined;
    const kept = transcriptHeardUntil(sentences, audioEndMs);
    // Later truncates cut from what is left.
    this.#spoken.set(item.id as string, sentences.filter((s) => s.startMs < audioEndMs));
    return kept;
  }

  // ── responses ──────────────────────────────────────────────────────────────

  onResponse(response: ResponseHandle): void {
    this.#clearIdleTimer();
    this.#respond(response)
      .catch((err: unknown) => {
        const error =
          err instanceof DialogueError
            ? err
            : err instanceof StageError
              ? new DialogueError(err.message, err.code === 'unavailable' ? 'unavailable' : err.code === 'bad_input' ? 'bad_request' : 'internal', err.retryable, { cause: err })
              : new DialogueError((err as Error).message, 'internal', false, { cause: err });
        if (response.signal.aborted) return;
        this.#log.warn({ code: error.code, err: error.message }, 'response failed');
        response.fail({ type: 'server_error', code: error.code, message: error.message });
      })
      .finally(() => this.#armIdleTimer());
  }

  async #respond(response: ResponseHandle): Promise<void> {
    const { request, signal } = response;
    // The reply needs the words of every user turn it answers.
    const pending = request.items.flatMap((item) => (item.id && this.#transcripts.has(item.id) ? [item.id] : []));
    const transcripts = new Map<string, string>();
    for (const id of pending) transcripts.set(id, await (this.#transcripts.get(id) as Promise<string>));
    if (signal.aborted) return;

    const { messages, systemNotes } = dialogueMessages(request.items, (id) => transcripts.get(id));
    const language = this.#control.config.audio?.input?.transcription?.language ?? undefined;
    const events = this.#stages.dialogue.respond({
      instructions: [request.instructions, ...systemNotes].filter(Boolean).join('\n\n'),
      messages,
      tools: dialogueTools(request.tools),
      toolChoice: dialogueToolChoice(request.toolChoice),
      ...(language ? { language } : {}),
      ...(request.metadata ? { metadata: request.metadata } : {}),
      ...(typeof request.maxOutputTokens === 'number' ? { maxOutputTokens: request.maxOutputTokens } : {}),
      signal,
    });

    const speak = request.outputModalities.includes('audio');
    const voice = speak ? new SpokenReply(response, this.#stages, this.#spoken, this.#log) : undefined;
    let writer: ReturnType<ResponseHandle['beginMessage']> | undefined;
    const calls: Array<{ name: string; arguments: string; callId: string }> = [];
    let usage: DialogueUsage = { inputTokens: 0, outputTokens: 0 };
    let text = '';
    try {
      for await (const event of events) {
        if (signal.aborted) return;
        if (event.type === 'text.delta') {
          if (!event.delta) continue;
          text += event.delta;
          if (voice) voice.push(event.delta);
          else (writer ??= response.beginMessage()).text(event.delta);
        } else if (event.type === 'function_call') {
          calls.push({ name: event.call.name, arguments: event.call.arguments, callId: event.call.callId });
        } else {
          usage = event.usage;
        }
      }
      const spokenMs = voice ? await voice.finish() : 0;
      writer?.end();
      if (signal.aborted) return;
      // Text the voice could not say at all (a speech service refusing every sentence) is a failed reply,
      // not a silent one.
      if (voice?.failure && spokenMs === 0 && calls.length === 0) throw voice.failure;
      for (const call of calls) response.functionCall(call);
      response.finish({
        inputTextTokens: usage.inputTokens,
        outputTextTokens: usage.outputTokens || estimateTokens(text),
        outputAudioTokens: Math.ceil(spokenMs / 50),
      });
    } finally {
      voice?.abort();
    }
  }

  // ── VAD and idle timeout ───────────────────────────────────────────────────

  #vadSettingsKey(td: TurnDetection | null): string {
    return td ? JSON.stringify(this.#vadSettings(td, 0)) : '';
  }

  #vadSettings(td: TurnDetection, startMs: number): VadSettings {
    if (td.type === 'semantic_vad') {
      return { threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: SEMANTIC_SILENCE_MS[td.eagerness ?? 'auto'], startMs };
    }
    return {
      threshold: td.threshold ?? 0.5,
      prefixPaddingMs: td.prefix_padding_ms ?? 300,
      silenceDurationMs: td.silence_duration_ms ?? 500,
      startMs,
    };
  }

  #ensureVad(startMs: number): StageStream<Int16Array, VadEvent> | undefined {
    if (this.#vad) return this.#vad;
    const td = this.#control.config.audio?.input?.turn_detection ?? null;
    if (!td) return undefined;
    const settings = this.#vadSettings(td, startMs);
    this.#vadKey = this.#vadSettingsKey(td);
    const vad = this.#stages.createVad(settings);
    this.#vad = vad;
    this.#consumeVad(vad).catch((err: unknown) => this.#log.error({ err }, 'VAD stream failed'));
    return vad;
  }

  async #consumeVad(vad: StageStream<Int16Array, VadEvent>): Promise<void> {
    for await (const event of vad) {
      if (this.#closed || vad !== this.#vad) return;
      if (event.type === 'speech_started') {
        this.#clearIdleTimer();
        this.#speechStartMs = event.audioStartMs;
        this.#control.speechStarted(event.audioStartMs);
      } else {
        this.#control.speechStopped(event.audioEndMs);
      }
    }
  }

  #closeVad(): void {
    this.#vad?.close();
    this.#vad = undefined;
    this.#vadKey = '';
  }

  #armIdleTimer(): void {
    this.#clearIdleTimer();
    const td = this.#control.config.audio?.input?.turn_detection;
    const idleMs = td?.type === 'server_vad' ? td.idle_timeout_ms : null;
    if (!idleMs || this.#closed) return;
    const startMs = this.#control.inputAudioMs;
    this.#idleTimer = setTimeout(() => {
      if (this.#closed || this.#control.activeResponse) return;
      this.#control.timeoutTriggered(startMs, this.#control.inputAudioMs);
    }, idleMs);
  }

  #clearIdleTimer(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearIdleTimer();
    this.#closeVad();
    this.#transcripts.clear();
    this.#spoken.clear();
  }
}

/**
 * The spoken side of one reply: text goes into a TTS stream; audio comes out sentence by sentence, is
 * encoded to the response's format and written with the sentence's transcript as it starts to sound.
 */
class SpokenReply {
  readonly #tts;
  readonly #consumer: Promise<number>;
  readonly #encoder: OutputEncoder;
  readonly #sampleRateHz: number;
  readonly #log: Logger;
  #writer: ReturnType<ResponseHandle['beginMessage']> | undefined;
  #audioMs = 0;
  /** The first sentence that could not be spoken. */
  failure: StageError | undefined;

  constructor(
    private readonly response: ResponseHandle,
    stages: EngineStages,
    spoken: Map<string, SpokenSentence[]>,
    log: Logger,
  ) {
    const { request } = response;
    this.#log = log;
    this.#sampleRateHz = stages.synthesizer.sampleRateHz;
    this.#tts = stages.synthesizer.stream({ voice: stages.voiceFor(request.voice), speed: request.speed, chunkMs: TTS_CHUNK_MS });
    this.#encoder = new OutputEncoder(stages.synthesizer.sampleRateHz, request.outputFormat);
    this.#consumer = this.#consume(spoken);
  }

  push(text: string): void {
    if (this.#tts.status === 'open') this.#tts.push(text);
  }

  /** Speaks what is left; resolves with the reply's audio length once all of it was written. */
  async finish(): Promise<number> {
    if (this.#tts.status === 'open') this.#tts.end();
    const ms = await this.#consumer;
    const tail = this.#encoder.flush();
    if (tail.length > 0 && this.#writer) this.#writer.audio(tail);
    this.#writer?.end();
    return ms;
  }

  abort(): void {
    this.#tts.close();
  }

  async #consume(spoken: Map<string, SpokenSentence[]>): Promise<number> {
    const sentences: SpokenSentence[] = [];
    for await (const event of this.#tts) {
      if (this.response.signal.aborted) break;
      if (event.type === 'failed') {
        this.failure ??= event.error;
        this.#log.warn({ code: event.error.code, sentenceIndex: event.sentenceIndex, err: event.error.message }, 'a sentence could not be spoken');
        continue;
      }
      if (!this.#writer) {
        this.#writer = this.response.beginMessage();
        spoken.set(this.#writer.itemId, sentences);
      }
      if (event.chunkStartMs === event.sentenceStartMs) {
        // The sentence's words are sent as it starts to sound, so the transcript never runs far ahead.
        this.#writer.text(sentences.length === 0 ? event.sentenceText : ` ${event.sentenceText}`);
        sentences.push({ text: event.sentenceText, startMs: event.sentenceStartMs, durationMs: event.sentenceDurationMs });
      }
      const bytes = this.#encoder.encode(event.audio);
      if (bytes.length > 0) this.#writer.audio(bytes);
      this.#audioMs = event.chunkStartMs + (event.audio.length * 1000) / this.#sampleRateHz;
    }
    return this.#audioMs;
  }
}
