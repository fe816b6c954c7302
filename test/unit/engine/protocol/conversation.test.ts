// Conversation items (realtime.md §b.5, §b.7): create with previous_item_id / "root", retrieve,
// delete, and truncate of assistant audio with the live errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Harness, Json } from './session-harness.js';
import { startSession, types } from './session-harness.js';

const userText = (text: string, extra: Json = {}): Json => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }], ...extra });

function create(h: Harness, item: Json, previous?: string): Json {
  const out = h.send({ type: 'conversation.item.create', item, ...(previous !== undefined ? { previous_item_id: previous } : {}) });
  assert.deepEqual(types(out), ['conversation.item.added', 'conversation.item.done']);
  assert.deepEqual(out[0]?.item, out[1]?.item);
  assert.equal(out[0]?.previous_item_id, out[1]?.previous_item_id);
  return out[0] as Json;
}

/** An assistant audio item of `audioMs`, with `transcript`, made by a response. */
function assistantAudio(h: Harness, transcript: string, audioMs: number): string {
  h.brain.respond = (response) => {
    const message = response.beginMessage();
    message.text(transcript);
    message.audio(Buffer.alloc(audioMs * 48));
    response.finish();
  };
  const out = h.send({ type: 'response.create' });
  return String((h.one(out, 'response.output_item.done').item as Json).id);
}

describe('protocol session: conversation.item.create', () => {
  test('appends by default, "root" inserts first, previous_item_id inserts after it', () => {
    const h = startSession();
    const a = create(h, userText('a'));
    const itemA = a.item as Json;
    assert.match(String(itemA.id), /^item_[A-Za-z0-9]{21}$/);
    assert.deepEqual(itemA, { id: itemA.id, type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'a' }] });
    assert.equal(a.previous_item_id, null);
    const c = create(h, userText('c', { id: 'item_mine' }));
    assert.equal(c.previous_item_id, itemA.id);
    const root = create(h, { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'first' }] }, 'root');
    assert.equal(root.previous_item_id, null);
    const b = create(h, userText('b', { status: 'incomplete' }), String(itemA.id));
    assert.equal(b.previous_item_id, itemA.id);
    assert.equal((b.item as Json).status, 'incomplete', 'a status the client set is kept');
    const texts = h.session.items.map((item) => (item.type === 'message' && item.content[0]?.type === 'input_text' ? item.content[0].text : '?'));
    assert.deepEqual(texts, ['first', 'a', 'b', 'c']);
    const fn = create(h, { type: 'function_call_output', call_id: 'call_1', output: '{}' });
    assert.deepEqual({ ...(fn.item as Json), id: 'x' }, { id: 'x', type: 'function_call_output', call_id: 'call_1', output: '{}', status: 'completed' });
  });

  test('an unknown previous_item_id and a duplicate id are refused', () => {
    const h = startSession();
    let out = h.send({ type: 'conversation.item.create', event_id: 'c1', previous_item_id: 'item_nope', item: userText('x') });
    assert.deepEqual(out[0]?.error, {
      type: 'invalid_request_error',
      code: 'item_not_found',
      message: "Previous item with id 'item_nope' not found.",
      param: 'previous_item_id',
      event_id: 'c1',
    });
    create(h, userText('x', { id: 'item_same' }));
    out = h.send({ type: 'conversation.item.create', event_id: 'c2', item: userText('y', { id: 'item_same' }) });
    assert.deepEqual(out[0]?.error, {
      type: 'invalid_request_error',
      code: 'invalid_value',
      message: "Item with id 'item_same' already exists.",
      param: 'item.id',
      event_id: 'c2',
    });
    assert.equal(h.session.items.length, 1);
  });

  test('beta: one conversation.item.created in beta item shape', () => {
    const h = startSession({ shape: 'beta' });
    const out = h.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] } });
    assert.deepEqual(types(out), ['conversation.item.created']);
    assert.equal((out[0]?.item as Json).object, 'realtime.item');
  });
});

describe('protocol session: retrieve and delete', () => {
  test('retrieve returns a copy of the item; unknown ids → item_not_found', () => {
    const h = startSession();
    const item = create(h, userText('hello')).item as Json;
    const out = h.send({ type: 'conversation.item.retrieve', item_id: item.id });
    assert.deepEqual(types(out), ['conversation.item.retrieved']);
    assert.deepEqual(out[0]?.item, item);
    const missing = h.send({ type: 'conversation.item.retrieve', event_id: 'r1', item_id: 'item_nope' });
    assert.deepEqual(missing[0]?.error, {
      type: 'invalid_request_error',
      code: 'item_not_found',
      message: 'Item with item_id not found: item_nope',
      param: 'item_id',
      event_id: 'r1',
    });
  });

  test('delete removes the item; a second delete → item_not_found', () => {
    const h = startSession();
    const item = create(h, userText('hello')).item as Json;
    const out = h.send({ type: 'conversation.item.delete', item_id: item.id });
    assert.deepEqual({ ...out[0], event_id: 'x' }, { type: 'conversation.item.deleted', event_id: 'x', item_id: item.id });
    assert.equal(h.session.items.length, 0);
    const again = h.send({ type: 'conversation.item.delete', event_id: 'd2', item_id: item.id });
    assert.deepEqual([(again[0]?.error as Json).code, (again[0]?.error as Json).event_id], ['item_not_found', 'd2']);
  });
});

describe('protocol session: conversation.item.truncate', () => {
  test('within the audio: truncated, the transcript deleted, the audio shortened', () => {
    const h = startSession();
    const itemId = assistantAudio(h, 'Hello there', 1000);
    const out = h.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 400 });
    assert.deepEqual({ ...out[0], event_id: 'x' }, {
      type: 'conversation.item.truncated',
      event_id: 'x',
      item_id: itemId,
      content_index: 0,
      audio_end_ms: 400,
    });
    const retrieved = h.send({ type: 'conversation.item.retrieve', item_id: itemId });
    assert.deepEqual((retrieved[0]?.item as Json).content, [{ type: 'output_audio', transcript: '' }]);
    // The audio now ends at 400 ms: truncating past it fails, at it succeeds.
    const past = h.send({ type: 'conversation.item.truncate', event_id: 't', item_id: itemId, content_index: 0, audio_end_ms: 401 });
    assert.equal((past[0]?.error as Json).message, 'Audio content of 400ms is already shorter than 401ms');
    assert.deepEqual(types(h.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 400 })), ['conversation.item.truncated']);
  });

  test('the brain says what was heard: onTruncate sees the full item, its answer is stored', () => {
    const h = startSession();
    const itemId = assistantAudio(h, 'one two three four', 2000);
    h.brain.heard = (_item, audioEndMs) => (audioEndMs >= 1000 ? 'one two' : undefined);
    h.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 1200 });
    assert.equal(h.brain.truncated.length, 1);
    const seen = h.brain.truncated[0];
    assert.equal(seen?.audioEndMs, 1200);
    assert.deepEqual(seen?.item.type === 'message' ? seen.item.content : undefined, [{ type: 'output_audio', transcript: 'one two three four' }]);
    const stored = h.session.items.find((item) => item.id === itemId);
    assert.deepEqual(stored?.type === 'message' ? stored.content : undefined, [{ type: 'output_audio', transcript: 'one two' }]);
    // Undefined: cleared as the service does.
    h.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 500 });
    const after = h.session.items.find((item) => item.id === itemId);
    assert.deepEqual(after?.type === 'message' ? after.content : undefined, [{ type: 'output_audio', transcript: '' }]);
  });

  test('past the end of the audio → invalid_value on audio_end_ms; nothing changes', () => {
    const h = startSession();
    const itemId = assistantAudio(h, 'Hello', 1000.6);
    const out = h.send({ type: 'conversation.item.truncate', event_id: 't3', item_id: itemId, content_index: 0, audio_end_ms: 1500 });
    assert.deepEqual(out[0]?.error, {
      type: 'invalid_request_error',
      code: 'invalid_value',
      message: 'Audio content of 1000ms is already shorter than 1500ms',
      param: 'audio_end_ms',
      event_id: 't3',
    });
    assert.equal(h.brain.truncated.length, 0);
    const item = h.session.items.find((i) => i.id === itemId);
    assert.deepEqual(item?.type === 'message' ? item.content : undefined, [{ type: 'output_audio', transcript: 'Hello' }]);
  });

  test('unknown items → item_truncate_invalid_item_id; user, text and function items → unsupported_content_type', () => {
    const h = startSession();
    let out = h.send({ type: 'conversation.item.truncate', event_id: 't1', item_id: 'item_nope', content_index: 0, audio_end_ms: 0 });
    assert.deepEqual(out[0]?.error, {
      type: 'invalid_request_error',
      code: 'item_truncate_invalid_item_id',
      message: 'Item with item_id not found: item_nope',
      param: 'item_id',
      event_id: 't1',
    });
    const user = String((create(h, userText('hi')).item as Json).id);
    h.brain.respond = (response) => {
      response.beginMessage({ modality: 'text' }).text('typed');
      response.functionCall({ name: 'f', arguments: '{}' });
      response.finish();
    };
    const response = h.send({ type: 'response.create' });
    const [text, call] = response.filter((e) => e.type === 'response.output_item.done').map((e) => String((e.item as Json).id));
    const audio = assistantAudio(h, 'spoken', 100);
    for (const [itemId, contentIndex] of [[user, 0], [text, 0], [call, 0], [audio, 1]] as const) {
      out = h.send({ type: 'conversation.item.truncate', event_id: 't2', item_id: itemId, content_index: contentIndex, audio_end_ms: 0 });
      assert.deepEqual(out[0]?.error, {
        type: 'invalid_request_error',
        code: 'unsupported_content_type',
        message: 'Only model output audio messages can be truncated',
        param: null,
        event_id: 't2',
      });
    }
  });

  test('beta: the same event name and shape', () => {
    const h = startSession({ shape: 'beta' });
    const itemId = assistantAudio(h, 'Hello', 300);
    const out = h.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: 100 });
    assert.deepEqual(types(out), ['conversation.item.truncated']);
  });
});
