// The input audio buffer and turns (realtime.md §b.3): append, commit, clear, the input clock, what the
// brain's VAD reports (speech started / stopped, idle timeout) and input transcription.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MULAW_SESSION, mulaw, pcm, startSession, types, type Json } from './session-harness.js';

const MANUAL_TURNS = { type: 'session.update', session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcmu' }, turn_detection: null } } } };

describe('protocol session: input_audio_buffer', () => {
  test('append: decoded, on the input clock, handed to the brain; never acknowledged', () => {
    const h = startSession();
    assert.deepEqual(h.send({ type: 'input_audio_buffer.append', audio: pcm(20) }), []);
    assert.deepEqual(h.send({ type: 'input_audio_buffer.append', audio: pcm(30) }), []);
    h.send(MANUAL_TURNS);
    h.send({ type: 'input_audio_buffer.append', audio: mulaw(20) });
    assert.equal(h.session.inputAudioMs, 70);
    assert.deepEqual(
      h.brain.audio.map((a) => [a.bytes, a.format.type, a.startMs]),
      [
        [960, 'audio/pcm', 0],
        [1440, 'audio/pcm', 20],
        [160, 'audio/pcmu', 50],
      ],
    );
  });

  test('append: not base64 → invalid_value; an empty append changes nothing', () => {
    const h = startSession();
    const out = h.send({ type: 'input_audio_buffer.append', event_id: 'a1', audio: 'not base64!' });
    assert.deepEqual(out[0]?.error, {
      type: 'invalid_request_error',
      code: 'invalid_value',
      message: "Invalid 'audio'. Expected base64-encoded audio bytes but got an invalid value.",
      param: 'audio',
      event_id: 'a1',
    });
    assert.deepEqual(h.send({ type: 'input_audio_buffer.append', audio: '' }), []);
    assert.equal(h.brain.audio.length, 0);
    assert.equal(h.session.inputAudioMs, 0);
  });

  test('commit with less than 100 ms → input_audio_buffer_commit_empty, with the live message', () => {
    const h = startSession();
    let out = h.send({ type: 'input_audio_buffer.commit', event_id: 'c1' });
    assert.deepEqual(out[0]?.error, {
      type: 'invalid_request_error',
      code: 'input_audio_buffer_commit_empty',
      message: 'Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has 0.00ms of audio.',
      param: null,
      event_id: 'c1',
    });
    h.send({ type: 'input_audio_buffer.append', audio: pcm(99.5) });
    out = h.send({ type: 'input_audio_buffer.commit' });
    assert.match(String((out[0]?.error as Json).message), /buffer only has 99\.50ms of audio\.$/);
  });

  test('commit: committed, then the user item added and done; the brain gets the audio; no response', () => {
    const h = startSession();
    h.send(MULAW_SESSION);
    h.send({ type: 'input_audio_buffer.append', audio: mulaw(60) });
    h.send({ type: 'input_audio_buffer.append', audio: mulaw(60) });
    const out = h.send({ type: 'input_audio_buffer.commit' });
    assert.deepEqual(types(out), ['input_audio_buffer.committed', 'conversation.item.added', 'conversation.item.done']);
    const [committed, added, done] = out as unknown as [Json, Json, Json];
    assert.equal(committed.previous_item_id, null);
    assert.match(String(committed.item_id), /^item_/);
    const item = { id: committed.item_id, type: 'message', status: 'completed', role: 'user', content: [{ type: 'input_audio', transcript: null }] };
    assert.deepEqual([added.previous_item_id, added.item], [null, item]);
    assert.deepEqual([done.previous_item_id, done.item], [null, item]);
    assert.equal(h.brain.committed.length, 1);
    const c = h.brain.committed[0];
    assert.ok(c);
    assert.deepEqual(
      { itemId: c.itemId, bytes: c.audio.length, format: c.format, audioMs: c.audioMs, start: c.audioStartMs, end: c.audioEndMs, transcription: c.transcription },
      { itemId: committed.item_id, bytes: 960, format: { type: 'audio/pcmu' }, audioMs: 120, start: 0, end: 120, transcription: { model: 'gpt-4o-transcribe' } },
    );
    assert.equal(h.brain.responses.length, 0, 'a client commit never creates a response');
    // The next commit names the first item as its predecessor; the clock keeps counting.
    h.send({ type: 'input_audio_buffer.append', audio: mulaw(100) });
    const second = h.send({ type: 'input_audio_buffer.commit' });
    assert.equal(second[0]?.previous_item_id, committed.item_id);
    assert.deepEqual([h.brain.committed[1]?.audioStartMs, h.brain.committed[1]?.audioEndMs], [120, 220]);
  });

  test('clear: cleared, the brain forgets, a speech in progress ends without speech_stopped', () => {
    const h = startSession();
    h.send({ type: 'input_audio_buffer.append', audio: pcm(200) });
    h.control.speechStarted(0);
    assert.equal(h.control.speaking, true);
    assert.deepEqual(types(h.send({ type: 'input_audio_buffer.clear' })), ['input_audio_buffer.cleared']);
    assert.equal(h.brain.cleared, 1);
    assert.equal(h.control.speaking, false);
    assert.equal(h.session.inputAudioMs, 200, 'the clock never goes back');
    const out = h.send({ type: 'input_audio_buffer.commit' });
    assert.equal((out[0]?.error as Json).code, 'input_audio_buffer_commit_empty');
    h.take();
    h.control.speechStopped(300);
    assert.deepEqual(h.take(), [], 'the cleared speech cannot be stopped');
  });
});

describe('protocol session: turns from the brain', () => {
  test('speech_started / speech_stopped share the item; commit, item, then a VAD response', () => {
    const h = startSession();
    h.send(MULAW_SESSION);
    h.send({ type: 'input_audio_buffer.append', audio: mulaw(1000) });
    const itemId = h.control.speechStarted(99.6);
    assert.equal(h.control.speechStarted(200), itemId, 'a second start is the same speech');
    h.control.speechStopped(900.4);
    const out = h.take();
    assert.deepEqual(types(out).slice(0, 6), [
      'input_audio_buffer.speech_started',
      'input_audio_buffer.speech_stopped',
      'input_audio_buffer.committed',
      'conversation.item.added',
      'conversation.item.done',
      'response.created',
    ]);
    assert.deepEqual([out[0]?.audio_start_ms, out[0]?.item_id], [100, itemId]);
    assert.deepEqual([out[1]?.audio_end_ms, out[1]?.item_id], [900, itemId]);
    assert.equal(out[2]?.item_id, itemId);
    assert.equal(h.brain.responses[0]?.request.trigger, 'vad');
    assert.equal(h.control.speaking, false);
  });

  test('speech ends a turn without a response when create_response is off, or a response is active', () => {
    const h = startSession();
    h.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: { type: 'server_vad', create_response: false } } } } });
    h.control.speechStarted(0);
    h.control.speechStopped(500);
    assert.equal(h.brain.responses.length, 0);

    const busy = startSession();
    busy.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: { type: 'server_vad', interrupt_response: false } } } } });
    busy.send({ type: 'response.create' });
    busy.control.speechStarted(0);
    busy.control.speechStopped(500);
    assert.equal(busy.brain.responses.length, 1, 'the running response was neither cut nor joined');
    assert.equal(busy.control.activeResponse, busy.brain.responses[0]);
  });

  test('a commit ends the speech in progress: its item is committed, a later stop is ignored', () => {
    const h = startSession();
    h.send({ type: 'input_audio_buffer.append', audio: pcm(200) });
    const itemId = h.control.speechStarted(0);
    const out = h.send({ type: 'input_audio_buffer.commit' });
    assert.equal(out[0]?.item_id, itemId);
    h.control.speechStopped(300);
    assert.deepEqual(h.take(), []);
  });

  test('transcription sessions never respond', () => {
    const h = startSession({ sessionType: 'transcription' });
    h.control.speechStarted(0);
    h.control.speechStopped(400);
    assert.ok(!types(h.take()).includes('response.created'));
    const out = h.send({ type: 'response.create', event_id: 'r1' });
    assert.deepEqual(out[0]?.error, {
      type: 'invalid_request_error',
      code: 'invalid_value',
      message: 'Responses are not supported in transcription sessions.',
      param: 'type',
      event_id: 'r1',
    });
  });

  test('idle timeout: timeout_triggered, the silent buffer committed, then a response', () => {
    const h = startSession();
    h.send({ type: 'input_audio_buffer.append', audio: pcm(50) });
    h.control.timeoutTriggered(0.4, 6000.2);
    const out = h.take();
    assert.deepEqual(types(out).slice(0, 5), [
      'input_audio_buffer.timeout_triggered',
      'input_audio_buffer.committed',
      'conversation.item.added',
      'conversation.item.done',
      'response.created',
    ]);
    assert.deepEqual([out[0]?.audio_start_ms, out[0]?.audio_end_ms, out[0]?.item_id], [0, 6000, out[1]?.item_id]);
    assert.equal(h.brain.committed[0]?.audioMs, 50);
    // Not while the caller speaks.
    h.brain.responses[0]?.finish();
    h.control.speechStarted(100);
    h.take();
    h.control.timeoutTriggered(0, 7000);
    assert.deepEqual(h.take(), []);
  });
});

describe('protocol session: input transcription', () => {
  test('deltas, then completed with the transcript stored in the item and token usage', () => {
    const h = startSession();
    h.send(MULAW_SESSION);
    h.brain.transcribe = (c) => {
      h.control.transcriptionDelta(c.itemId, 'I need ');
      h.control.transcriptionDelta(c.itemId, 'help');
      h.control.transcriptionCompleted(c.itemId, 'I need help');
    };
    h.send({ type: 'input_audio_buffer.append', audio: mulaw(1000) });
    const out = h.send({ type: 'input_audio_buffer.commit' });
    const itemId = out[0]?.item_id;
    assert.deepEqual(types(out).slice(3), [
      'conversation.item.input_audio_transcription.delta',
      'conversation.item.input_audio_transcription.delta',
      'conversation.item.input_audio_transcription.completed',
    ]);
    assert.deepEqual({ ...out[3], event_id: 'x' }, {
      type: 'conversation.item.input_audio_transcription.delta',
      event_id: 'x',
      item_id: itemId,
      content_index: 0,
      delta: 'I need ',
    });
    const completed = out[5] as Json;
    assert.deepEqual([completed.item_id, completed.content_index, completed.transcript], [itemId, 0, 'I need help']);
    assert.deepEqual(completed.usage, {
      type: 'tokens',
      total_tokens: 13,
      input_tokens: 10,
      input_token_details: { text_tokens: 0, audio_tokens: 10 },
      output_tokens: 3,
    });
    const item = h.session.items[0];
    assert.ok(item?.type === 'message' && item.role === 'user');
    assert.deepEqual(item.content, [{ type: 'input_audio', transcript: 'I need help' }]);
  });

  test('whisper-1 bills by duration; the brain may give the audio length', () => {
    const h = startSession();
    h.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { transcription: { model: 'whisper-1' } } } } });
    h.send({ type: 'input_audio_buffer.append', audio: pcm(1234.5) });
    const out = h.send({ type: 'input_audio_buffer.commit' });
    h.control.transcriptionCompleted(String(out[0]?.item_id), 'hello');
    assert.deepEqual(h.take()[0]?.usage, { type: 'duration', seconds: 1.235 });
    h.send({ type: 'input_audio_buffer.append', audio: pcm(500) });
    const second = h.send({ type: 'input_audio_buffer.commit' });
    h.control.transcriptionCompleted(String(second[0]?.item_id), 'again', { audioMs: 420 });
    assert.deepEqual(h.take()[0]?.usage, { type: 'duration', seconds: 0.42 });
  });

  test('failed: a .failed event with a server_error; the item keeps transcript null', () => {
    const h = startSession();
    h.send(MULAW_SESSION);
    h.send({ type: 'input_audio_buffer.append', audio: mulaw(200) });
    const itemId = String(h.send({ type: 'input_audio_buffer.commit' })[0]?.item_id);
    h.control.transcriptionFailed(itemId, { code: 'transcription_failed', message: 'Input transcription failed.' });
    const failed = h.take()[0] as Json;
    assert.deepEqual({ ...failed, event_id: 'x' }, {
      type: 'conversation.item.input_audio_transcription.failed',
      event_id: 'x',
      item_id: itemId,
      content_index: 0,
      error: { type: 'server_error', code: 'transcription_failed', message: 'Input transcription failed.', param: null },
    });
    const item = h.session.items[0];
    assert.ok(item?.type === 'message' && item.role === 'user');
    assert.equal(item.content[0]?.type === 'input_audio' ? item.content[0].transcript : 'wrong', null);
  });

  test('without transcription the brain is told so', () => {
    const h = startSession();
    h.send({ type: 'input_audio_buffer.append', audio: pcm(200) });
    h.send({ type: 'input_audio_buffer.commit' });
    assert.equal(h.brain.committed[0]?.transcription, null);
  });

  test('beta: the user item is one conversation.item.created; transcription events keep their names', () => {
    const h = startSession({ shape: 'beta' });
    h.brain.transcribe = (c) => h.control.transcriptionCompleted(c.itemId, 'hi');
    h.send({ type: 'session.update', session: { input_audio_transcription: { model: 'gpt-4o-transcribe' } } });
    h.send({ type: 'input_audio_buffer.append', audio: pcm(200) });
    const out = h.send({ type: 'input_audio_buffer.commit' });
    assert.deepEqual(types(out), [
      'input_audio_buffer.committed',
      'conversation.item.created',
      'conversation.item.input_audio_transcription.completed',
    ]);
    assert.deepEqual((out[1]?.item as Json).object, 'realtime.item');
  });
});
