// A scripted Realtime model for process-level tests and the dashboard benchmark: the fake of OpenAI's
// service (test/fakes/fake-realtime-server.ts) with its energy VAD, answering every caller turn with a
// transcript and a reply derived from it, so each turn's words are known in advance and can be looked
// for on a dashboard. Runs in the test process, on loopback.
import type { FakeRealtimeServer, FakeRealtimeServerOptions, FakeRealtimeSession } from '../fakes/fake-realtime-server.js';
import { startFakeRealtimeServer } from '../fakes/fake-realtime-server.js';

export interface ScriptedModelOptions {
  /** What the caller "said" in its `n`th turn (from 1) of the session whose instructions are `instructions`. */
  transcript: (instructions: string, n: number) => string;
  /** The reply to a caller turn. The greeting Koe asks for is said as asked (`koe_say`). */
  reply: (instructions: string, userText: string | undefined) => string;
  /** Length of each reply's audio (default 1000 ms). */
  replyAudioMs?: number;
  /** × real time the reply audio is generated at (default 10). */
  generationSpeed?: number;
  /** Keep every frame in and out (default false: long runs). */
  record?: boolean;
}

/** The session's instructions (Koe renders the agent's template into them, caller number included). */
function instructionsOf(session: FakeRealtimeSession): string {
  const config = session.config;
  return 'instructions' in config && typeof config.instructions === 'string' ? config.instructions : '';
}

export function startScriptedModel(opts: ScriptedModelOptions): Promise<FakeRealtimeServer> {
  const turns = new WeakMap<object, number>();
  const options: FakeRealtimeServerOptions = {
    vad: 'energy',
    record: opts.record ?? false,
    generationSpeed: opts.generationSpeed ?? 10,
    transcripts: ({ session }) => {
      const n = (turns.get(session) ?? 0) + 1;
      turns.set(session, n);
      return opts.transcript(instructionsOf(session), n);
    },
    respond: (ctx) => {
      const say = ctx.metadata?.['koe_say'];
      const transcript = typeof say === 'string' ? say : opts.reply(instructionsOf(ctx.session), ctx.lastUserTranscript);
      return [{ type: 'audio', transcript, audioMs: opts.replyAudioMs ?? 1000 }];
    },
  };
  return startFakeRealtimeServer(options);
}

/** μ-law "speech" for the fake's energy VAD: a loud square-ish wave. */
export function speechLike(ms: number): Buffer {
  const out = Buffer.alloc(Math.round(ms * 8));
  for (let i = 0; i < out.length; i += 1) out[i] = Math.floor(i / 13) % 2 === 0 ? 0x10 : 0x90;
  return out;
}
