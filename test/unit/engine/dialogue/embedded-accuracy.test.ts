// Intent accuracy on recogniser-style noisy English, for the sample receptionist with its tools.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildPlan } from '../../../../src/engine/dialogue/embedded/dialogue-plan.js';
import { IntentClassifier } from '../../../../src/engine/dialogue/embedded/intent-classifier.js';
import { EmbeddedDialogueEngine } from '../../../../src/engine/dialogue/embedded/index.js';
import { runTurn, sampleAgent } from './_embedded.js';
import { HELD_OUT_UTTERANCES, type LabelledUtterance, NOISY_UTTERANCES } from './noisy-utterances.js';

const { instructions, tools } = sampleAgent('receptionist');

async function measure(set: readonly LabelledUtterance[]): Promise<{ correct: number; misses: string[]; msPerUtterance: number }> {
  const classifier = await IntentClassifier.train(buildPlan({ instructions, tools, toolChoice: 'auto' }));
  const misses: string[] = [];
  const started = performance.now();
  for (const item of set) {
    const got = (await classifier.classify(item.heard, { awaiting: false })).intent ?? 'fallback';
    if (got !== item.intent) misses.push(`"${item.heard}": ${item.intent} → ${got}`);
  }
  return { correct: set.length - misses.length, misses, msPerUtterance: (performance.now() - started) / set.length };
}

describe('intent accuracy on noisy recognised speech', () => {
  test('the labelled sets are big enough and cover every built-in intent and the fallback', () => {
    assert.ok(NOISY_UTTERANCES.length >= 60);
    assert.ok(HELD_OUT_UTTERANCES.length >= 60);
    const labels = new Set(NOISY_UTTERANCES.map((u) => u.intent));
    for (const intent of ['greeting', 'goodbye', 'human', 'take_message', 'repeat', 'identity', 'bot_check', 'hours', 'yes', 'no', 'hold', 'thanks', 'press_keys', 'fallback']) {
      assert.ok(labels.has(intent), intent);
    }
  });

  test('the tuning set (keywords and thresholds were tuned on it): at least 95 %', async (t) => {
    const { correct, misses, msPerUtterance } = await measure(NOISY_UTTERANCES);
    const accuracy = correct / NOISY_UTTERANCES.length;
    t.diagnostic(`intent accuracy ${(accuracy * 100).toFixed(1)} % on ${NOISY_UTTERANCES.length} noisy utterances (${msPerUtterance.toFixed(2)} ms each)`);
    for (const miss of misses) t.diagnostic(`miss ${miss}`);
    assert.ok(accuracy >= 0.95, `${(accuracy * 100).toFixed(1)} %`);
  });

  test('the held-out set (never tuned on): at least 88 %', async (t) => {
    const { correct, misses } = await measure(HELD_OUT_UTTERANCES);
    const accuracy = correct / HELD_OUT_UTTERANCES.length;
    t.diagnostic(`intent accuracy ${(accuracy * 100).toFixed(1)} % on ${HELD_OUT_UTTERANCES.length} held-out noisy utterances`);
    for (const miss of misses) t.diagnostic(`miss ${miss}`);
    assert.ok(accuracy >= 0.88, `${(accuracy * 100).toFixed(1)} %`);
  });

  test('no utterance labelled as something else ever ends or hands over the call', async () => {
    const engine = new EmbeddedDialogueEngine();
    for (const item of [...NOISY_UTTERANCES, ...HELD_OUT_UTTERANCES]) {
      if (item.intent === 'goodbye' || item.intent === 'human') continue;
      const result = await runTurn(engine, { instructions, tools, messages: [{ role: 'user', content: item.heard }] });
      const costly = result.calls.filter((c) => c.name === 'hang_up' || c.name === 'transfer');
      assert.deepEqual(costly, [], `"${item.heard}" (${item.intent})`);
    }
    await engine.close();
  });
});
