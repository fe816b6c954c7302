import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backendName, estimateCostUsd, pricesFor } from '../../../src/store/index.js';
import { usage } from './store-fixtures.js';

describe('backend names', () => {
  test('OpenAI, the built-in engine on this machine, or the host', () => {
    assert.equal(backendName('wss://api.openai.com/v1/realtime?model=gpt-realtime'), 'openai');
    assert.equal(backendName('ws://127.0.0.1:5050/v1/realtime'), 'engine');
    assert.equal(backendName('ws://localhost:5050/v1/realtime/'), 'engine');
    assert.equal(backendName('ws://[::1]:5050/v1/realtime?model=koe'), 'engine');
    assert.equal(backendName('ws://127.0.0.1:9999/other'), '127.0.0.1:9999', 'a loopback server that is not /v1/realtime is named by host');
    assert.equal(backendName('wss://my-resource.openai.azure.com/openai/realtime?deployment=x'), 'my-resource.openai.azure.com');
    assert.equal(backendName('not a url'), 'unknown');
  });
});

describe('cost estimates', () => {
  test('list prices per million tokens, cached input split by the text/audio mix', () => {
    // gpt-realtime: text 4 / cached 0.40 / out 16; audio 32 / cached 0.40 / out 64 (USD per 1M).
    const u = usage({ inputTextTokens: 1_000_000, inputAudioTokens: 1_000_000, cachedTokens: 1_000_000, outputTextTokens: 1_000_000, outputAudioTokens: 1_000_000 });
    // Half the cached tokens are text, half audio: 0.5·4 + 0.5·0.4 + 0.5·32 + 0.5·0.4 + 16 + 64
    assert.equal(estimateCostUsd('openai', 'gpt-realtime', u), 98.4);
    assert.equal(estimateCostUsd('openai', 'gpt-realtime-2025-08-28', u), 98.4, 'dated snapshots use their model’s prices');
    assert.equal(estimateCostUsd('openai', 'gpt-realtime-mini', usage({ outputAudioTokens: 1_000 })), 0.02);
    assert.equal(estimateCostUsd('openai', 'gpt-4o-realtime-preview-2024-12-17', usage({ inputAudioTokens: 1_000 })), 0.04);
  });

  test('the built-in engine costs nothing; unknown models have no estimate', () => {
    assert.equal(estimateCostUsd('engine', 'koe-embedded', usage({ outputAudioTokens: 5_000 })), 0);
    assert.equal(estimateCostUsd('openai', 'gpt-realtime-9000', usage({ outputAudioTokens: 5_000 })), null);
    assert.equal(pricesFor('gpt-realtime-2'), undefined, 'a different model is not mistaken for a snapshot');
  });

  test('no usage, no cost; rounded to millionths of a dollar', () => {
    assert.equal(estimateCostUsd('openai', 'gpt-realtime', usage({})), 0);
    assert.equal(estimateCostUsd('openai', 'gpt-realtime', usage({ inputTextTokens: 1 })), 0.000004);
    assert.equal(estimateCostUsd('openai', 'gpt-realtime', usage({ cachedTokens: 10 })), 0, 'cached tokens beyond the input are ignored');
  });
});
