// Twenty engine sessions at once in one Koe process, each caller saying something different (digits,
// names, places, sentences; two voices; μ-law, PCM16 and A-law in turn), with their audio interleaved frame
// by frame as if all were talking at the same moment. The dialogue is a chat-completions endpoint served
// by the test that repeats back what it was told, so a reply shows which transcript it was made from:
// every session must get its own words back, in its transcript and in its spoken reply, and nothing of
// another session's.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Script } from '../unit/engine/dialogue-llm/fake-chat-server.js';
import { FakeChatServer, streamText } from '../unit/engine/dialogue-llm/fake-chat-server.js';
import { removeScratch, wordErrors } from '../unit/engine/speech-fixtures.js';
import type { RunningKoe, WireEvent, WireFormat } from './engine-harness.js';
import { BYTES_PER_MS, EngineClient, encodeForWire, GA_FORMAT, responseAudio, responseOf, spokenTranscript, startKoe, utterance } from './engine-harness.js';

const CALLERS: ReadonlyArray<readonly [string, 'awb' | 'kal16']> = [
  ['one two three four', 'awb'],
  ['hello there', 'kal16'],
  ['nine eight seven six', 'awb'],
  ['seven three one five', 'kal16'],
  ['zero one zero two', 'awb'],
  ['three three nine nine', 'kal16'],
  ['six five four three', 'awb'],
  ['my name is john smith', 'awb'],
  ['my name is david brown', 'kal16'],
  ['my name is peter', 'awb'],
  ['my number is four one five', 'kal16'],
  ['i live in boston', 'awb'],
  ['i live in chicago', 'kal16'],
  ['the weather is sunny today', 'awb'],
  ['please call me tomorrow morning', 'kal16'],
  ['i need a new toothbrush', 'awb'],
  ['my dog is very hungry', 'kal16'],
  ['i like green apples', 'awb'],
  ['i lost my keys', 'kal16'],
  ['the cat is sleeping', 'awb'],
];

const FORMATS: readonly WireFormat[] = ['g711_ulaw', 'pcm16', 'g711_alaw'];

/** Repeats the caller's last words back. */
const echo: Script = (exchange) => {
  const messages = exchange.body.messages as Array<{ role: string; content: string }>;
  const last = messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  return streamText([`You said ${last}.`])(exchange);
};

describe('engine: 20 concurrent sessions in one process', () => {
  let koe: RunningKoe;
  let llm: FakeChatServer;
  before(async () => {
    llm = await FakeChatServer.start();
    llm.always(echo);
    koe = await startKoe({ LLM_BASE_URL: llm.baseUrl, LLM_MODEL: 'test' });
  });
  after(async () => {
    await koe.close();
    await llm.close();
    removeScratch();
  });

  test('each caller gets its own transcript and its own spoken reply; nothing crosses over', async () => {
    const sessions = CALLERS.map(([text, voice], index) => {
      const format = FORMATS[index % FORMATS.length] as WireFormat;
      return { text, voice, format, audio: encodeForWire(utterance(text, voice), format), client: undefined as EngineClient | undefined, sentAt: 0 };
    });
    try {
      await Promise.all(
        sessions.map(async (session) => {
          const client = await EngineClient.connect(koe.realtimeUrl);
          session.client = client;
          await client.configure({
            type: 'realtime',
            instructions: 'Repeat what the caller said.',
            audio: {
              input: { format: GA_FORMAT[session.format], transcription: { model: 'koe-stt' }, turn_detection: { type: 'server_vad', silence_duration_ms: 500 } },
              output: { format: GA_FORMAT[session.format] },
            },
          });
        }),
      );
      const clients = sessions.map((s) => s.client as EngineClient);

      // All callers talk at once: one 20 ms frame of each in turn.
      const started = performance.now();
      const frames = sessions.map((s) => Math.ceil(s.audio.length / (BYTES_PER_MS[s.format] * 20)));
      for (let frame = 0; frame < Math.max(...frames); frame++) {
        sessions.forEach((session, i) => {
          const step = BYTES_PER_MS[session.format] * 20;
          if (frame >= (frames[i] as number)) return;
          const chunk = session.audio.subarray(frame * step, (frame + 1) * step);
          (clients[i] as EngineClient).send({ type: 'input_audio_buffer.append', audio: chunk.toString('base64') });
          if (frame === (frames[i] as number) - 1) session.sentAt = performance.now();
        });
      }
      const latencies: number[] = [];
      const dones = await Promise.all(
        clients.map(async (client, i) => {
          const done = await client.waitFor('response.done', { timeoutMs: 60_000 });
          latencies[i] = performance.now() - sessions[i]!.sentAt;
          return done;
        }),
      );
      const totalMs = performance.now() - started;

      const transcripts: string[] = [];
      for (const [i, session] of sessions.entries()) {
        const client = clients[i] as EngineClient;
        const done = dones[i] as WireEvent;
        const heard = (await client.waitFor('conversation.item.input_audio_transcription.completed')).transcript as string;
        transcripts[i] = heard;
        // Its own words: close to what this caller said, and closer to it than to any other caller's.
        const own = wordErrors(session.text, heard);
        assert.ok(own.errors / own.words <= 0.25, `session ${i} said "${session.text}", its transcript is "${heard}"`);
        for (const [j, [other]] of CALLERS.entries()) {
          if (j === i) continue;
          const theirs = wordErrors(other, heard);
          assert.ok(theirs.errors / theirs.words > own.errors / own.words, `session ${i}'s transcript "${heard}" is nearer to session ${j}'s "${other}"`);
        }
        // Its own reply, made from its own transcript, spoken in its own format.
        assert.equal(responseOf(done).status, 'completed');
        assert.equal(spokenTranscript(done), `You said ${heard}.`, `session ${i}'s reply`);
        const audio = responseAudio(client, responseOf(done).id);
        assert.ok(audio.length / BYTES_PER_MS[session.format] > 800, `session ${i}: a spoken reply`);
        if (session.format === 'pcm16') assert.equal(audio.length % 2, 0);
        // One turn, one response.
        assert.equal(client.all('input_audio_buffer.committed').length, 1, `session ${i}: one turn`);
        assert.equal(client.all('response.created').length, 1, `session ${i}: one response`);
        assert.deepEqual(client.invalid, []);
      }

      // No id and no words of one session in another's events.
      const idsOf = (client: EngineClient): Set<string> =>
        new Set(
          client.events.flatMap((e) => [e.item_id, e.response_id, (e.item as { id?: string } | undefined)?.id, (e.response as { id?: string } | undefined)?.id].filter((id): id is string => typeof id === 'string')),
        );
      const ids = clients.map(idsOf);
      const words = clients.map((client) => JSON.stringify(client.events.filter((e) => !e.type.endsWith('audio.delta'))));
      for (let i = 0; i < clients.length; i++) {
        for (let j = 0; j < clients.length; j++) {
          if (i === j) continue;
          const shared = [...(ids[i] as Set<string>)].filter((id) => (ids[j] as Set<string>).has(id));
          assert.deepEqual(shared, [], `sessions ${i} and ${j} share ids`);
          const theirs = transcripts[j] as string;
          // (Unless one caller's words are a part of the other's own.)
          if (!(transcripts[i] as string).includes(theirs)) assert.ok(!(words[i] as string).includes(theirs), `session ${j}'s "${theirs}" shows up in session ${i}`);
        }
      }
      const sorted = [...latencies].sort((a, b) => a - b);
      console.log(
        `# 20 sessions: all replies in ${(totalMs / 1000).toFixed(1)} s; end of speech → response.done median ${((sorted[9] as number) / 1000).toFixed(1)} s, max ${((sorted[19] as number) / 1000).toFixed(1)} s`,
      );
      assert.ok(totalMs < 60_000, `within a minute on this machine, took ${totalMs.toFixed(0)} ms`);
    } finally {
      await Promise.all(sessions.map((s) => s.client?.close()));
    }
  });
});
