// Koe's engine: a server of the OpenAI Realtime protocol that runs offline. The speech stages and the
// dialogue are created once per process and shared; each WebSocket gets its own protocol session and
// brain (VAD stream, transcripts, replies), released when the socket closes.
import type { Logger } from '../log/logger.js';
import type { RealtimeShape } from '../realtime/index.js';
import type { DialogueEngine } from './dialogue/dialogue.js';
import type { EngineStages } from './pipeline/speech-brain.js';
import { SpeechBrain } from './pipeline/speech-brain.js';
import { ProtocolSession } from './protocol/index.js';
import type { FrameData } from './protocol/index.js';
import { createRecognizer, createSynthesizer, speechStageNames, voiceMapper, type SpeechStageOptions } from './speech-stages.js';
import { sileroVadStream } from './vad/index.js';

/** `sttHttp` / `ttsHttp` select OpenAI-compatible speech services; `speechStageOptions(config)` fills these in. */
export interface EngineOptions extends SpeechStageOptions {
  dialogue: DialogueEngine;
  log: Logger;
  /** Replace stages (tests, or other providers). */
  stages?: Partial<Omit<EngineStages, 'dialogue'>>;
}

export interface EngineSessionOptions {
  shape: RealtimeShape;
  model: string;
  sessionType: 'realtime' | 'transcription';
  send: (text: string) => void;
}

export interface EngineSession {
  receive(data: FrameData, isBinary: boolean): void;
  close(): void;
}

export class KoeEngine {
  readonly #stages: EngineStages;
  readonly #log: Logger;
  readonly #sessions = new Set<EngineSession>();
  #closed = false;

  private constructor(stages: EngineStages, log: Logger) {
    this.#stages = stages;
    this.#log = log;
  }

  /** Loads the speech models. Rejects with a StageError naming what to install when one is missing. */
  static async create(opts: EngineOptions): Promise<KoeEngine> {
    const started = performance.now();
    const [recognized, synthesized] = await Promise.allSettled([
      opts.stages?.recognizer ?? createRecognizer(opts),
      opts.stages?.synthesizer ?? createSynthesizer(opts),
    ]);
    if (recognized.status === 'rejected' || synthesized.status === 'rejected') {
      // The stage that did start must not keep its threads.
      if (recognized.status === 'fulfilled' && !opts.stages?.recognizer) await recognized.value.close();
      if (synthesized.status === 'fulfilled' && !opts.stages?.synthesizer) await synthesized.value.close();
      throw recognized.status === 'rejected' ? recognized.reason : (synthesized as PromiseRejectedResult).reason;
    }
    const recognizer = recognized.value;
    const synthesizer = synthesized.value;
    const stages: EngineStages = {
      recognizer,
      synthesizer,
      dialogue: opts.dialogue,
      createVad:
        opts.stages?.createVad ??
        ((s) =>
          sileroVadStream({
            threshold: s.threshold,
            prefixPaddingMs: s.prefixPaddingMs,
            silenceDurationMs: s.silenceDurationMs,
            startMs: s.startMs,
          })),
      voiceFor: opts.stages?.voiceFor ?? voiceMapper(opts),
    };
    opts.log.info({ startMs: Math.round(performance.now() - started), dialogue: opts.dialogue.name, ...speechStageNames(recognizer, synthesizer) }, 'engine ready');
    return new KoeEngine(stages, opts.log);
  }

  get activeSessions(): number {
    return this.#sessions.size;
  }

  get dialogueName(): string {
    return this.#stages.dialogue.name;
  }

  openSession(opts: EngineSessionOptions): EngineSession {
    if (this.#closed) throw new Error('the engine is closed');
    const log = this.#log.child({ component: 'engine', shape: opts.shape });
    const protocol = new ProtocolSession({
      shape: opts.shape,
      model: opts.model,
      sessionType: opts.sessionType,
      send: opts.send,
      brain: (control) => new SpeechBrain(control, this.#stages, log),
      log,
    });
    const session: EngineSession = {
      receive: (data, isBinary) => {
        protocol.receive(data, isBinary);
      },
      close: () => {
        protocol.close();
        this.#sessions.delete(session);
      },
    };
    this.#sessions.add(session);
    return session;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const session of [...this.#sessions]) session.close();
    await Promise.allSettled([this.#stages.recognizer.close(), this.#stages.synthesizer.close(), this.#stages.dialogue.close()]);
  }
}
