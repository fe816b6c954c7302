// Who may open WS /v1/realtime. With KOE_ENGINE_KEY set, every client needs it as a Bearer token (or, for
// browsers, as the `openai-insecure-api-key.<key>` subprotocol), loopback included; without the key set,
// only loopback clients get in.
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { after, before, describe, test } from 'node:test';
import type { RunningKoe } from './engine-harness.js';
import { EngineClient, startKoe, UpgradeRefused } from './engine-harness.js';

const KEY = 'koe-test-engine-key-7f3a9c';

async function refusal(connecting: Promise<EngineClient>): Promise<UpgradeRefused> {
  const error = await connecting.then(
    async (client) => {
      await client.close();
      return undefined;
    },
    (err: unknown) => err,
  );
  assert.ok(error instanceof UpgradeRefused, `the upgrade should be refused, got ${String(error)}`);
  return error;
}

async function admitted(connecting: Promise<EngineClient>): Promise<void> {
  const client = await connecting;
  try {
    const created = await client.waitFor('session.created');
    assert.equal((created.session as { type: string }).type, 'realtime');
  } finally {
    await client.close();
  }
}

describe('engine: KOE_ENGINE_KEY', () => {
  let koe: RunningKoe;
  before(async () => {
    koe = await startKoe({ KOE_ENGINE_KEY: KEY });
  });
  after(async () => {
    await koe.close();
  });

  test('no key, a wrong key, or a wrong key of the right length: HTTP 401 with an OpenAI-style error, even on loopback', async () => {
    for (const apiKey of [undefined, 'sk-wrong', `${KEY.slice(0, -1)}X`, `${KEY} `.repeat(2)]) {
      const refused = await refusal(EngineClient.connect(koe.realtimeUrl, apiKey === undefined ? {} : { apiKey }));
      assert.equal(refused.status, 401, `key ${JSON.stringify(apiKey)}`);
      assert.deepEqual(JSON.parse(refused.body), {
        error: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Missing or invalid API key.' },
      });
    }
    // A wrong key offered as a browser subprotocol does not get in either.
    const refused = await refusal(EngineClient.connect(koe.realtimeUrl, { protocols: ['realtime', 'openai-insecure-api-key.sk-wrong'] }));
    assert.equal(refused.status, 401);
  });

  test('the right key gets a session, as a Bearer header (GA and beta) or as a browser subprotocol', async () => {
    await admitted(EngineClient.connect(koe.realtimeUrl, { apiKey: KEY }));
    const beta = await EngineClient.connect(koe.realtimeUrl, { apiKey: KEY, beta: true });
    try {
      const created = await beta.waitFor('session.created');
      assert.equal((created.session as { input_audio_format: string }).input_audio_format, 'pcm16');
    } finally {
      await beta.close();
    }
    await admitted(EngineClient.connect(koe.realtimeUrl, { protocols: ['realtime', `openai-insecure-api-key.${KEY}`] }));
    // A browser asks for the beta shape by subprotocol too.
    const browserBeta = await EngineClient.connect(koe.realtimeUrl, { protocols: ['realtime', `openai-insecure-api-key.${KEY}`, 'openai-beta.realtime-v1'] });
    try {
      const created = await browserBeta.waitFor('session.created');
      assert.equal((created.session as { input_audio_format: string }).input_audio_format, 'pcm16', 'a beta session');
    } finally {
      await browserBeta.close();
    }
  });
});

describe('engine: without KOE_ENGINE_KEY', () => {
  const external = Object.values(networkInterfaces())
    .flat()
    .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;
  let koe: RunningKoe;
  before(async () => {
    koe = await startKoe({}, { host: '0.0.0.0' });
  });
  after(async () => {
    await koe.close();
  });

  test('loopback clients get in with any key or none', async () => {
    await admitted(EngineClient.connect(koe.realtimeUrl));
    await admitted(EngineClient.connect(koe.realtimeUrl, { apiKey: 'sk-anything' }));
  });

  test('a client from another address is refused with 401', { skip: external ? false : 'this machine has no non-loopback IPv4 address' }, async () => {
    const refused = await refusal(EngineClient.connect(`ws://${external}:${koe.port}/v1/realtime`, { apiKey: 'sk-anything' }));
    assert.equal(refused.status, 401);
  });
});
