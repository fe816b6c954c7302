import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DialogueEvent, DialogueRequest } from '../../../../src/engine/dialogue/dialogue.js';
import { DialogueError } from '../../../../src/engine/dialogue/dialogue.js';
import { chatFunctions, chatHistory, createGgufDialogue, loadNodeLlamaCpp, type GgufDialogue } from '../../../../src/engine/dialogue/gguf/index.js';
import { collect, withTimeout } from './iterate.js';
import { writeTinyGguf } from './tiny-gguf.js';

// What the tiny model says after any prompt (see tiny-gguf.ts): a greeting, then a call in the ChatML
// wrapper's function syntax, then round again from " there".
const SAYS = ['Hello', '▁there', '!', '▁||', 'call', ':', '▁', 'lookup', '(', '{"', 'city', '":"', 'Oslo', '"}', ')'];
const lookup = { name: 'lookup', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

function request(overrides: Partial<DialogueRequest> = {}): DialogueRequest {
  return {
    instructions: 'You are Koe, a phone agent.',
    messages: [{ role: 'user', content: 'Hello?' }],
    tools: [],
    toolChoice: 'auto',
    signal: new AbortController().signal,
    ...overrides,
  };
}

const text = (events: DialogueEvent[]) => events.flatMap((e) => (e.type === 'text.delta' ? [e.delta] : [])).join('');

function isDialogueError(code: DialogueError['code'], message: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof DialogueError, `expected a DialogueError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  };
}

describe('gguf dialogue (node-llama-cpp, a tiny generated model)', () => {
  let dir: string;
  let modelPath: string;
  let engine: GgufDialogue;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'koe-gguf-'));
    modelPath = join(dir, 'koe-tiny.gguf');
    writeTinyGguf(modelPath, { says: SAYS, then: 'loop' });
    // One thread: the test machine has two cores and other tests run beside this one.
    engine = await createGgufDialogue({ modelPath, threads: 1, temperature: 0, contextSize: 2048 });
  });

  after(async () => {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('loads the model and streams text deltas with usage from the token counts', async (t) => {
    assert.equal(engine.name, 'gguf:koe-tiny');
    assert.equal(engine.info.chatWrapper, 'ChatML');
    assert.equal(engine.info.threads, 1);
    const startedAt = performance.now();
    const events: DialogueEvent[] = [];
    let firstDeltaMs: number | undefined;
    for await (const event of engine.respond(request({ maxOutputTokens: 48 }))) {
      if (event.type === 'text.delta') firstDeltaMs ??= performance.now() - startedAt;
      events.push(event);
    }
    const elapsedMs = performance.now() - startedAt;
    const deltas = events.filter((e) => e.type === 'text.delta');
    assert.ok(deltas.length > 10, 'text arrives token by token');
    assert.ok(text(events).startsWith('Hello there! ||call: lookup({"city":"Oslo"}) there!'), text(events));
    const done = events.at(-1);
    assert.ok(done?.type === 'done');
    assert.equal(done.usage.outputTokens, 48);
    assert.ok(done.usage.inputTokens > 10 && done.usage.inputTokens < 200, `input tokens ${done.usage.inputTokens}`);
    t.diagnostic(
      `gguf: load ${engine.info.loadMs} ms; first delta ${Math.round(firstDeltaMs ?? 0)} ms; ` +
        `${done.usage.outputTokens} tokens in ${Math.round(elapsedMs)} ms = ${Math.round((done.usage.outputTokens / elapsedMs) * 1000)} tokens/s ` +
        `(tiny model: this is node-llama-cpp's per-token overhead, not a real model's speed)`,
    );
  });

  test('a function call the model makes becomes a function_call event, after the text before it', async () => {
    const events = await collect(engine.respond(request({ tools: [lookup], messages: [{ role: 'user', content: 'Weather in Oslo?' }] })));
    assert.equal(text(events).trim(), 'Hello there!');
    const calls = events.filter((e) => e.type === 'function_call');
    assert.equal(calls.length, 1);
    const [call] = calls;
    assert.ok(call?.type === 'function_call');
    assert.equal(call.call.name, 'lookup');
    assert.deepEqual(JSON.parse(call.call.arguments), { city: 'Oslo' });
    assert.match(call.call.callId, /^call_[0-9a-f]{24}$/);
    assert.equal(events.at(-1)?.type, 'done');
    assert.ok(events.indexOf(call) < events.length - 1);
  });

  test('tool_choice none offers no functions: the same words stay text', async () => {
    const events = await collect(engine.respond(request({ tools: [lookup], toolChoice: 'none', maxOutputTokens: 15 })));
    assert.equal(events.filter((e) => e.type === 'function_call').length, 0);
    assert.equal(text(events), 'Hello there! ||call: lookup({"city":"Oslo"})');
  });

  test('abort mid-generation ends the reply without done, and the next reply works', async () => {
    const controller = new AbortController();
    const seen: DialogueEvent[] = [];
    const startedAt = performance.now();
    // No token limit but the default: without the abort this would run to 512 tokens.
    for await (const event of engine.respond(request({ signal: controller.signal }))) {
      seen.push(event);
      if (seen.length === 3) controller.abort();
    }
    assert.ok(seen.length >= 3 && seen.every((e) => e.type === 'text.delta'), JSON.stringify(seen));
    assert.ok(performance.now() - startedAt < 5_000);
    const next = await withTimeout(collect(engine.respond(request({ maxOutputTokens: 3 }))), 10_000, 'the reply after an abort');
    assert.equal(text(next), 'Hello there!');
  });

  test('leaving the loop early stops the generation and frees the sequence', async () => {
    let count = 0;
    for await (const event of engine.respond(request())) {
      assert.equal(event.type, 'text.delta');
      if (++count === 2) break;
    }
    const next = await withTimeout(collect(engine.respond(request({ maxOutputTokens: 2 }))), 10_000, 'the reply after leaving early');
    assert.equal(text(next), 'Hello there');
  });

  test('replies beyond the free sequences wait their turn', async () => {
    const [a, b] = await withTimeout(
      Promise.all([collect(engine.respond(request({ maxOutputTokens: 3 }))), collect(engine.respond(request({ maxOutputTokens: 5 })))]),
      10_000,
      'two replies on one sequence',
    );
    assert.equal(text(a), 'Hello there!');
    assert.equal(text(b), 'Hello there! ||call');
  });

  test('speaks a koe_say line verbatim without generating', async () => {
    const events = await collect(engine.respond(request({ metadata: { koe_say: 'Thanks for calling.' } })));
    assert.deepEqual(events, [
      { type: 'text.delta', delta: 'Thanks for calling.' },
      { type: 'done', usage: { inputTokens: 0, outputTokens: 5 } },
    ]);
  });

  test('close() stops a generation in flight and refuses new replies', async () => {
    const own = await createGgufDialogue({ modelPath, threads: 1, temperature: 0, contextSize: 512 });
    const seen: DialogueEvent[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of own.respond(request())) {
          seen.push(event);
          if (seen.length === 1) await own.close();
        }
      })(),
      isDialogueError('unavailable', /closed/),
    );
    assert.ok(seen.every((e) => e.type === 'text.delta'));
    await own.close();
    await assert.rejects(collect(own.respond(request())), isDialogueError('unavailable', /closed/));
  });

  test('a missing file, a file that is not GGUF, an unreadable GGUF and a missing package fail clearly', async () => {
    const missing = join(dir, 'nowhere', 'model.gguf');
    await assert.rejects(createGgufDialogue({ modelPath: missing }), isDialogueError('unavailable', new RegExp(`model file not found: ${escape(missing)}.*does not download`)));
    const notGguf = join(dir, 'model.bin');
    await writeFile(notGguf, 'PK\x03\x04 this is a zip, not a model');
    await assert.rejects(createGgufDialogue({ modelPath: notGguf }), isDialogueError('unavailable', new RegExp(`not a GGUF model file: ${escape(notGguf)}`)));
    await assert.rejects(createGgufDialogue({ modelPath: dir }), isDialogueError('unavailable', /not a file/));
    const corrupt = join(dir, 'corrupt.gguf');
    await writeFile(corrupt, Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(16, 0xff)]));
    await assert.rejects(createGgufDialogue({ modelPath: corrupt }), isDialogueError('unavailable', new RegExp(`${escape(corrupt)} is corrupt or truncated`)));
    // A download cut short: a valid header, tensor data missing.
    const truncated = join(dir, 'truncated.gguf');
    await writeFile(truncated, (await readFile(modelPath)).subarray(0, 60_000));
    await assert.rejects(createGgufDialogue({ modelPath: truncated, threads: 1 }), isDialogueError('unavailable', new RegExp(`cannot load ${escape(truncated)}`)));
    await assert.rejects(loadNodeLlamaCpp('node-llama-cpp-not-installed'), isDialogueError('unavailable', /npm install node-llama-cpp-not-installed/));
    await assert.rejects(createGgufDialogue({ modelPath, packageName: 'node-llama-cpp-not-installed' }), isDialogueError('unavailable', /npm install/));
  });

  test('the conversation maps to node-llama-cpp chat history, calls with their results', () => {
    const history = chatHistory('Be brief.', [
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: 'Let me check.', toolCalls: [{ callId: 'c1', name: 'lookup', arguments: '{"city":"Oslo"}' }] },
      { role: 'user', content: 'Hurry.' },
      { role: 'tool', toolCallId: 'c1', content: '{"temp_c":4}' },
      { role: 'assistant', content: 'It is 4 degrees.' },
      { role: 'assistant', content: '', toolCalls: [{ callId: 'c2', name: 'hang_up', arguments: '' }] },
      { role: 'tool', toolCallId: 'c2', content: 'done' },
      { role: 'assistant', content: 'Bye!' },
    ]);
    assert.deepEqual(history, [
      { type: 'system', text: 'Be brief.' },
      { type: 'user', text: 'Weather in Oslo?' },
      {
        type: 'model',
        response: ['Let me check.', { type: 'functionCall', name: 'lookup', params: { city: 'Oslo' }, result: { temp_c: 4 }, startsNewChunk: true }],
      },
      { type: 'user', text: 'Hurry.' },
      { type: 'model', response: ['It is 4 degrees.'] },
      // The words after a call's result continue the response that made the call.
      { type: 'model', response: [{ type: 'functionCall', name: 'hang_up', params: {}, result: 'done', startsNewChunk: true }, 'Bye!'] },
      // A finished assistant turn: the reply starts a new one.
      { type: 'model', response: [] },
    ]);
    // Ending in tool results: generation continues the response that made the call; a missing result is a placeholder.
    assert.deepEqual(chatHistory('', [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: '', toolCalls: [{ callId: 'c', name: 'f', arguments: '{}' }] }]), [
      { type: 'user', text: 'Hi' },
      { type: 'model', response: [{ type: 'functionCall', name: 'f', params: {}, result: '(no result)', startsNewChunk: true }] },
    ]);
  });

  test('tool choice decides which functions the model is offered', () => {
    const hangUp = { name: 'hang_up', description: 'End the call', parameters: { type: 'object', properties: {} } };
    const tools = [lookup, hangUp];
    assert.deepEqual(Object.keys(chatFunctions({ tools, toolChoice: 'auto' }) ?? {}), ['lookup', 'hang_up']);
    assert.deepEqual(Object.keys(chatFunctions({ tools, toolChoice: 'required' }) ?? {}), ['lookup', 'hang_up']);
    assert.deepEqual(Object.keys(chatFunctions({ tools, toolChoice: { type: 'function', name: 'hang_up' } }) ?? {}), ['hang_up']);
    assert.equal(chatFunctions({ tools, toolChoice: 'none' }), undefined);
    assert.equal(chatFunctions({ tools: [], toolChoice: 'auto' }), undefined);
    assert.deepEqual(chatFunctions({ tools: [lookup], toolChoice: 'auto' }), { lookup: { description: lookup.description, params: lookup.parameters } });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
