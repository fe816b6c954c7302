// Spoken turns through Koe's engine with its real models, over a real WebSocket to a real Koe server:
// speech made by other voices than Koe's (flite awb and kal16; Koe speaks slt), sent in the session's
// audio format, detected, recognised, answered by the embedded dialogue and spoken back. Once in phone
// audio (μ-law), once in the GA default PCM16 24 kHz (whose reply audio is then recognised to check it
// says its transcript), once as a beta-shaped session.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { removeScratch } from '../unit/engine/speech-fixtures.js';
import type { RunningKoe, WireEvent, WireFormat } from './engine-harness.js';
import {
  assertResponseOrder,
  audioEventNames,
  BYTES_PER_MS,
  decodeFromWire,
  EngineClient,
  GA_FORMAT,
  peak,
  responseAudio,
  responseOf,
  sendSpeech,
  spokenTranscript,
  startKoe,
  utterance,
} from './engine-harness.js';

const INSTRUCTIONS = 'You are the friendly receptionist of Sakura Dental Clinic, answering the phone. Opening hours: Monday to Friday, 9 am to 6 pm.';

type Transcribed = { item_id: string; transcript: string };

/** The events of one caller turn and its reply, checked for what every shape and format has in common. */
async function spokenTurn(client: EngineClient, from: number): Promise<{ transcript: string; done: WireEvent; userItemId: string }> {
  const started = await client.waitFor('input_audio_buffer.speech_started', { from });
  const stopped = await client.waitFor('input_audio_buffer.speech_stopped', { from });
  const committed = await client.waitFor('input_audio_buffer.committed', { from });
  const itemId = started.item_id as string;
  assert.equal(stopped.item_id, itemId);
  assert.equal(committed.item_id, itemId);
  assert.ok((stopped.audio_end_ms as number) > (started.audio_start_ms as number));
  const completed = (await client.waitFor('conversation.item.input_audio_transcription.completed', { from })) as WireEvent & Transcribed;
  assert.equal(completed.item_id, itemId);
  const delta = await client.waitFor('conversation.item.input_audio_transcription.delta', { from });
  assert.equal(delta.item_id, itemId);
  assert.ok(client.indexOf(delta) < client.indexOf(completed), 'the transcription delta comes before completed');
  const done = await client.waitFor('response.done', { from, timeoutMs: 30_000 });
  const created = await client.waitFor('response.created', { from });
  assert.ok(client.indexOf(committed) < client.indexOf(created), 'the response follows the commit');
  assert.equal(responseOf(done).status, 'completed');
  assertResponseOrder(client, responseOf(done).id);
  return { transcript: completed.transcript, done, userItemId: itemId };
}

function audioOf(client: EngineClient, done: WireEvent, format: WireFormat): { ms: number; pcm: Int16Array } {
  const bytes = responseAudio(client, responseOf(done).id);
  if (format === 'pcm16') assert.equal(bytes.length % 2, 0, 'whole PCM16 samples');
  return { ms: bytes.length / BYTES_PER_MS[format], pcm: decodeFromWire(bytes, format) };
}

describe('engine: a spoken turn with real models', () => {
  let koe: RunningKoe;
  before(async () => {
    koe = await startKoe();
  });
  after(async () => {
    await koe.close();
    removeScratch();
  });

  test('phone audio in μ-law: VAD, transcription, a relevant reply in μ-law with its transcript (GA event names)', async () => {
    const client = await EngineClient.connect(koe.realtimeUrl);
    try {
      await client.waitFor('session.created');
      const updated = await client.configure({
        type: 'realtime',
        instructions: INSTRUCTIONS,
        audio: {
          input: { format: GA_FORMAT.g711_ulaw, transcription: { model: 'koe-stt' }, turn_detection: { type: 'server_vad', silence_duration_ms: 600 } },
          output: { format: GA_FORMAT.g711_ulaw, voice: 'alloy' },
        },
      });
      assert.deepEqual((updated.session as { audio: { output: { format: unknown } } }).audio.output.format, { type: 'audio/pcmu' });
      const from = client.mark;
      sendSpeech(client, utterance('What are your opening hours?', 'awb'), 'g711_ulaw');
      const { transcript, done, userItemId } = await spokenTurn(client, from);
      // pocketsphinx on phone audio gets most words right, not all ("opening the" has been seen).
      assert.match(transcript, /what are your opening/);
      const said = spokenTranscript(done);
      assert.match(said, /9|nine|monday|friday/i, `the reply should answer with the opening hours: "${said}"`);

      // GA on the wire: item added + done, output_audio names and content.
      const names = audioEventNames('ga');
      assert.ok(client.all('conversation.item.added', from).some((e) => (e.item as { id: string }).id === userItemId));
      assert.ok(client.all('conversation.item.done', from).some((e) => (e.item as { id: string }).id === userItemId));
      assert.equal(client.all('conversation.item.created').length, 0, 'no beta conversation.item.created on a GA session');
      assert.ok(client.all(names.delta, from).length > 0);
      assert.equal(client.all('response.audio.delta').length, 0, 'no beta audio deltas on a GA session');
      assert.equal(responseOf(done).output[0]?.content?.[0]?.type, 'output_audio');
      const transcriptDone = await client.waitFor(names.transcriptDone, { from });
      assert.equal(transcriptDone.transcript, said);
      assert.equal(client.all(names.transcriptDelta, from).map((e) => e.delta).join(''), said, 'the transcript deltas add up to the transcript');

      const audio = audioOf(client, done, 'g711_ulaw');
      assert.ok(audio.ms > 1000, `at least a second of μ-law audio, got ${audio.ms} ms`);
      assert.ok(peak(audio.pcm) > 2000, 'audible');
      assert.deepEqual(client.invalid, [], 'every server event passes Koe’s own schemas');
    } finally {
      await client.close();
    }
  });

  test('PCM16 24 kHz, the GA default format: a greeting answered in PCM16', async () => {
    const client = await EngineClient.connect(koe.realtimeUrl);
    try {
      const created = await client.waitFor('session.created');
      const audio = (created.session as { audio: { input: { format: unknown }; output: { format: unknown } } }).audio;
      assert.deepEqual(audio.input.format, GA_FORMAT.pcm16, 'PCM16 24 kHz in by default');
      assert.deepEqual(audio.output.format, GA_FORMAT.pcm16, 'PCM16 24 kHz out by default');
      // No format in the update: the defaults stay.
      await client.configure({
        type: 'realtime',
        instructions: INSTRUCTIONS,
        audio: { input: { transcription: { model: 'koe-stt' }, turn_detection: { type: 'server_vad', silence_duration_ms: 600 } } },
      });
      const from = client.mark;
      sendSpeech(client, utterance('Hello there.', 'kal16'), 'pcm16');
      const { transcript, done } = await spokenTurn(client, from);
      assert.match(transcript, /hello there/);
      const said = spokenTranscript(done);
      assert.match(said, /Sakura Dental Clinic/, `the reply should greet as the clinic: "${said}"`);
      assert.deepEqual((responseOf(done) as unknown as { audio: { output: { format: unknown } } }).audio.output.format, GA_FORMAT.pcm16);

      const reply = audioOf(client, done, 'pcm16');
      assert.ok(reply.ms > 1500, `a spoken sentence, got ${reply.ms} ms`);
      assert.ok(peak(reply.pcm) > 2000, 'audible');
      assert.deepEqual(client.invalid, []);

      // The audio says what its transcript says: played back into a second session with manual turns,
      // the engine's own recognizer hears the greeting's words.
      const listener = await EngineClient.connect(koe.realtimeUrl);
      try {
        await listener.configure({ type: 'realtime', audio: { input: { transcription: { model: 'koe-stt' }, turn_detection: null } } });
        listener.appendAudio(Buffer.concat([responseAudio(client, responseOf(done).id), Buffer.alloc(BYTES_PER_MS.pcm16 * 300)]), BYTES_PER_MS.pcm16);
        listener.send({ type: 'input_audio_buffer.commit' });
        const heard = (await listener.waitFor('conversation.item.input_audio_transcription.completed')).transcript as string;
        console.log(`# reply "${said}" heard back as "${heard}"`);
        for (const word of ['hello', 'clinic', 'help']) assert.ok(heard.split(' ').includes(word), `"${word}" in what the reply audio says: "${heard}" (transcript: "${said}")`);
        assert.equal(listener.all('response.created').length, 0, 'manual turns: no response without response.create');
      } finally {
        await listener.close();
      }
    } finally {
      await client.close();
    }
  });

  test('a beta session (OpenAI-Beta: realtime=v1): flat session fields and beta event names on the wire', async () => {
    const client = await EngineClient.connect(koe.realtimeUrl, { beta: true });
    try {
      const created = await client.waitFor('session.created');
      const initial = created.session as Record<string, unknown>;
      assert.equal(initial.input_audio_format, 'pcm16');
      assert.equal(initial.output_audio_format, 'pcm16');
      assert.ok(Array.isArray(initial.modalities) && initial.modalities.includes('audio'), 'beta modalities, with audio');
      assert.equal(initial.audio, undefined, 'no GA audio object in a beta session');
      assert.equal(initial.type, undefined, 'no GA session type in a beta session');

      const updated = await client.configure({
        instructions: INSTRUCTIONS,
        input_audio_format: 'g711_ulaw',
        output_audio_format: 'g711_ulaw',
        input_audio_transcription: { model: 'whisper-1' },
        turn_detection: { type: 'server_vad', silence_duration_ms: 600 },
        temperature: 0.7,
      });
      const session = updated.session as Record<string, unknown>;
      assert.equal(session.input_audio_format, 'g711_ulaw');
      assert.equal(session.output_audio_format, 'g711_ulaw');
      assert.equal((session.turn_detection as { type: string }).type, 'server_vad');
      assert.equal((session.input_audio_transcription as { model: string }).model, 'whisper-1');
      assert.equal(session.temperature, 0.7);
      assert.equal(typeof session.voice, 'string');
      assert.equal(session.audio, undefined);

      const from = client.mark;
      sendSpeech(client, utterance('What are your opening hours?', 'awb'), 'g711_ulaw');
      const { transcript, done, userItemId } = await spokenTurn(client, from);
      assert.match(transcript, /what are your opening/);
      assert.match(spokenTranscript(done), /9|nine|monday|friday/i);

      const types = new Set(client.events.slice(from).map((e) => e.type));
      for (const beta of ['conversation.item.created', 'response.audio.delta', 'response.audio_transcript.delta', 'response.audio.done', 'response.audio_transcript.done']) {
        assert.ok(types.has(beta), `${beta} on the wire`);
      }
      for (const ga of ['conversation.item.added', 'conversation.item.done', 'response.output_audio.delta', 'response.output_audio_transcript.delta', 'response.output_audio.done']) {
        assert.ok(!types.has(ga), `no GA ${ga} on a beta session`);
      }
      const createdItems = client.all('conversation.item.created', from).map((e) => e.item as { id: string; role: string; content: Array<{ type: string }> });
      assert.ok(createdItems.some((item) => item.id === userItemId && item.role === 'user' && item.content[0]?.type === 'input_audio'));
      assert.ok(createdItems.some((item) => item.role === 'assistant'), 'the reply is announced with conversation.item.created');
      const response = done.response as Record<string, unknown>;
      assert.equal(response.output_audio_format, 'g711_ulaw');
      assert.ok(Array.isArray(response.modalities));
      assert.equal(typeof response.voice, 'string');
      assert.equal(responseOf(done).output[0]?.content?.[0]?.type, 'audio', 'beta assistant content is "audio"');
      const rateLimits = await client.waitFor('rate_limits.updated', { from });
      const responseCreated = await client.waitFor('response.created', { from });
      assert.ok(client.indexOf(rateLimits) > client.indexOf(responseCreated), 'beta: rate_limits.updated follows response.created');

      const audio = responseAudio(client, responseOf(done).id);
      assert.ok(audio.length / BYTES_PER_MS.g711_ulaw > 1000, 'at least a second of μ-law audio');
      assert.deepEqual(client.invalid, [], 'every beta frame passes Koe’s own beta→GA translation and schemas');
    } finally {
      await client.close();
    }
  });
});
