// The speech brain inside the real protocol core, with scripted stages: what reaches speech recognition
// after a VAD commit.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import type { DialogueEngine } from '../../../../src/engine/dialogue/dialogue.js';
import type { EngineStages, VadSettings } from '../../../../src/engine/pipeline/speech-brain.js';
import { SpeechBrain } from '../../../../src/engine/pipeline/speech-brain.js';
import { ProtocolSession } from '../../../../src/engine/protocol/index.js';
import { StageOutput } from '../../../../src/engine/stage.js';
import type { StageStatus, StageStream } from '../../../../src/engine/stage.js';
import type { SpeechRecognizer, Transcript } from '../../../../src/engine/stt/index.js';
import type { SpeechSynthesizer } from '../../../../src/engine/tts/index.js';
import type { VadEvent } from '../../../../src/engine/vad/index.js';

/** A VAD that hears speech between two points of the session's input clock. */
class ScriptedVad implements StageStream<Int16Array, VadEvent> {
  readonly #out = new StageOutput<VadEvent>();
  #ms: number;
  constructor(
    private readonly settings: VadSettings,
    private readonly speech: { startMs: number; endMs: number },
  ) {
    this.#ms = settings.startMs;
  }
  status: StageStatus = 'open';
  push(pcm: Int16Array): void {
    const before = this.#ms;
    this.#ms += (pcm.length * 1000) / 16_000;
    if (before <= this.speech.startMs && this.#ms > this.speech.startMs) {
      this.#out.push({ type: 'speech_started', audioStartMs: this.speech.startMs - this.settings.prefixPaddingMs, speechStartMs: this.speech.startMs });
    }
    const stopAt = this.speech.endMs + this.settings.silenceDurationMs;
    if (before <= stopAt && this.#ms > stopAt) this.#out.push({ type: 'speech_stopped', audioEndMs: stopAt, speechEndMs: this.speech.endMs });
  }
  flush(): void {}
  end(): void {
    this.#out.end();
  }
  abort(): void {
    this.#out.abort();
  }
  close(): void {
    this.#out.abort();
  }
  [Symbol.asyncIterator](): AsyncIterator<VadEvent> {
    return this.#out[Symbol.asyncIterator]();
  }
}

function stages(heardMs: number[], speech: { startMs: number; endMs: number }): EngineStages {
  const recognizer: SpeechRecognizer = {
    sampleRateHz: 16_000,
    stream: () => {
      throw new Error('not used');
    },
    transcribe: async (pcm): Promise<Transcript> => {
      heardMs.push((pcm.length * 1000) / 16_000);
      return { text: 'hello', audioMs: (pcm.length * 1000) / 16_000, decodeMs: 1 };
    },
    close: async () => undefined,
  };
  const nothing = (): never => {
    throw new Error('not used');
  };
  return {
    recognizer,
    synthesizer: { sampleRateHz: 16_000, stream: nothing, synthesize: nothing, close: async () => undefined } as SpeechSynthesizer,
    dialogue: { name: 'none', respond: nothing, close: async () => undefined } as DialogueEngine,
    createVad: (settings) => new ScriptedVad(settings, speech),
    voiceFor: () => 'slt',
  };
}

describe('SpeechBrain', () => {
  test('recognition gets the turn from where speech started, not the silence before it', async () => {
    const heardMs: number[] = [];
    const sent: string[] = [];
    // 6 s of line silence (the caller listening), then 1 s of speech, then the silence that ends the turn.
    const speech = { startMs: 6_000, endMs: 7_000 };
    const session = new ProtocolSession({
      shape: 'ga',
      model: 'koe',
      send: (text) => sent.push(text),
      brain: (control) => new SpeechBrain(control, stages(heardMs, speech), pino({ level: 'silent' })),
    });
    session.receive(
      JSON.stringify({
        type: 'session.update',
        session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcmu' }, transcription: { model: 'koe' }, turn_detection: { type: 'server_vad', prefix_padding_ms: 300, silence_duration_ms: 500, create_response: false } } } },
      }),
    );
    const frame = Buffer.alloc(160, 0xff).toString('base64');
    for (let ms = 0; ms < 8_000; ms += 20) {
      session.receive(JSON.stringify({ type: 'input_audio_buffer.append', audio: frame }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (let i = 0; i < 20 && heardMs.length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(heardMs.length, 1, `one turn recognised; events: ${sent.map((t) => (JSON.parse(t) as { type: string }).type).join(', ')}`);
    // From speech start minus the 300 ms prefix padding to the commit at speech end + 500 ms silence.
    assert.ok(Math.abs((heardMs[0] as number) - (7_500 - 5_700)) <= 40, `recognised ${heardMs[0]} ms, expected ≈1800 ms`);
    session.close();
  });
});
