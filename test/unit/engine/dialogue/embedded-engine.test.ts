import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { type DialogueEvent, DialogueError, estimateTokens } from '../../../../src/engine/dialogue/dialogue.js';
import { EmbeddedDialogueEngine } from '../../../../src/engine/dialogue/embedded/index.js';
import { IntentClassifier } from '../../../../src/engine/dialogue/embedded/intent-classifier.js';
import { splitSentences } from '../../../../src/engine/dialogue/embedded/sentences.js';
import { Conversation, runTurn, sampleAgent } from './_embedded.js';

const { instructions, tools } = sampleAgent('receptionist');

describe('EmbeddedDialogueEngine', () => {
  test('a verbatim line (Koe greeting) is said exactly, sentence by sentence, with no tool call', async () => {
    const engine = new EmbeddedDialogueEngine();
    const greeting = 'Thank you for calling Sakura Dental Clinic. How can I help you today?';
    const result = await runTurn(engine, { instructions, tools, toolChoice: 'required', metadata: { koe_say: greeting } });
    assert.equal(result.text, greeting);
    assert.deepEqual(result.deltas, ['Thank you for calling Sakura Dental Clinic.', ' How can I help you today?']);
    assert.deepEqual(result.calls, []);
    const done = result.events.at(-1);
    assert.deepEqual(done, { type: 'done', usage: { inputTokens: estimateTokens(`${instructions}\n${JSON.stringify(tools)}`), outputTokens: estimateTokens(greeting) } });
    await engine.close();
  });

  test('text streams as one delta per sentence; done reports usage', async () => {
    const engine = new EmbeddedDialogueEngine();
    const result = await runTurn(engine, { instructions, tools, messages: [{ role: 'user', content: 'goodbye' }] });
    assert.deepEqual(result.deltas, ['Thank you for calling.', ' Goodbye!']);
    const done = result.events.at(-1);
    assert.equal(done?.type, 'done');
    if (done?.type === 'done') {
      const call = result.calls[0];
      assert.equal(done.usage.outputTokens, estimateTokens(result.text) + estimateTokens(call?.name ?? '') + estimateTokens(call?.arguments ?? ''));
      assert.ok(done.usage.inputTokens > estimateTokens(instructions));
    }
    assert.deepEqual(splitSentences('It is 9.30 now. Okay! 次です。はい'), ['It is 9.30 now.', ' Okay!', ' 次です。', 'はい']);
    await engine.close();
  });

  test('an aborted signal: nothing at all; an abort mid-reply: stops at once, no done', async () => {
    const engine = new EmbeddedDialogueEngine();
    const early = new AbortController();
    early.abort();
    const none = await runTurn(engine, { instructions, tools, messages: [{ role: 'user', content: 'hello' }], signal: early.signal });
    assert.deepEqual(none.events, []);

    const controller = new AbortController();
    const events: DialogueEvent[] = [];
    for await (const event of engine.respond({
      instructions,
      tools,
      toolChoice: 'auto',
      messages: [{ role: 'user', content: 'goodbye' }],
      signal: controller.signal,
    })) {
      events.push(event);
      controller.abort();
    }
    assert.deepEqual(events.map((e) => e.type), ['text.delta'], 'no second sentence, no hang_up, no done');
    await engine.close();
  });

  test('max_output_tokens cuts the reply at a sentence and drops the tool call, as a model would stop', async () => {
    const engine = new EmbeddedDialogueEngine();
    const result = await runTurn(engine, { instructions, tools, maxOutputTokens: 6, messages: [{ role: 'user', content: 'goodbye' }] });
    assert.equal(result.text, 'Thank you for calling.');
    assert.deepEqual(result.calls, []);
    assert.equal(result.events.at(-1)?.type, 'done');
    await engine.close();
  });

  test('trains once per agent (concurrent first turns included) and keeps a bounded LRU', async (t) => {
    const train = mock.method(IntentClassifier, 'train');
    t.after(() => train.mock.restore());
    const engine = new EmbeddedDialogueEngine({ cacheEntries: 2 });
    const turn = (text: string, agent = instructions) => runTurn(engine, { instructions: agent, tools, messages: [{ role: 'user', content: text }] });
    await Promise.all([turn('hello'), turn('who is this'), turn('goodbye')]);
    assert.equal(train.mock.callCount(), 1);
    await turn('hello', 'You are the receptionist of Acme.');
    await turn('hello', 'You are the receptionist of Beta.');
    await turn('hello');
    assert.equal(train.mock.callCount(), 4, 'the first agent was evicted by two others and trained again');
    await turn('hello', 'You are the receptionist of Beta.');
    assert.equal(train.mock.callCount(), 4, 'the most recent ones stay');
    await engine.close();
  });

  test('after close, respond fails with unavailable; close is idempotent', async () => {
    const engine = new EmbeddedDialogueEngine();
    await engine.close();
    await engine.close();
    await assert.rejects(runTurn(engine, { instructions, messages: [] }), (err: unknown) => err instanceof DialogueError && err.code === 'unavailable');
  });

  test('per-turn latency over a 24-turn call (the whole conversation is replayed every turn)', async (t) => {
    const lines = [
      'hello', 'who is this', 'what are your opening hours', 'yes', 'i would like to leave a message', 'john smith',
      'five five five one two three four', 'it is about my crown', 'yes', 'are you a robot', 'thank you', 'yes',
      'sorry what', 'hold on a second', 'what time do you close', 'yes', 'i like turtles', 'banana', 'no',
      'press one', 'thanks a lot', 'yes', 'who am i speaking to', 'okay thank you bye',
    ];
    // The first engine warms the process up (JIT); the second is a long-running server meeting a new agent.
    for (const phase of ['cold process', 'warm process']) {
      const engine = new EmbeddedDialogueEngine();
      const conversation = new Conversation(engine, { instructions, tools });
      const started = performance.now();
      await conversation.say(lines[0] as string);
      const firstMs = performance.now() - started;
      const turnMs: number[] = [];
      for (const line of lines.slice(1)) {
        const at = performance.now();
        await conversation.say(line);
        turnMs.push(performance.now() - at);
      }
      turnMs.sort((a, b) => a - b);
      const median = turnMs[Math.floor(turnMs.length / 2)] as number;
      const p95 = turnMs[Math.floor(turnMs.length * 0.95)] as number;
      t.diagnostic(
        `${phase}: first turn (trains the agent) ${firstMs.toFixed(1)} ms; later turns median ${median.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms, max ${(turnMs.at(-1) as number).toFixed(2)} ms`,
      );
      // A loose bound, far above what it measures, so a busy machine does not fail it.
      assert.ok(median < 25, `median turn ${median.toFixed(1)} ms`);
      await engine.close();
    }
  });
});
