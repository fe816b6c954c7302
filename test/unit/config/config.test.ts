import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/index.js';

describe('config', () => {
  test('defaults: port 5050, built-in engine, GA shape, frozen', () => {
    const c = loadConfig({});
    assert.equal(c.port, 5050);
    assert.equal(c.realtime.url, undefined);
    assert.equal(c.realtime.shape, 'ga');
    assert.equal(c.streamSecretIsEphemeral, true);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.realtime));
  });
  test('an OpenAI key selects the OpenAI endpoint unless REALTIME_URL is set', () => {
    assert.equal(loadConfig({ OPENAI_API_KEY: 'sk-x' }).realtime.url, 'wss://api.openai.com/v1/realtime');
    assert.equal(loadConfig({ OPENAI_API_KEY: 'sk-x', REALTIME_URL: 'ws://127.0.0.1:9/v1/realtime' }).realtime.url, 'ws://127.0.0.1:9/v1/realtime');
  });
  test('every bad variable is reported at once, by name', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty', REALTIME_URL: 'http://x', REALTIME_API_SHAPE: 'v2' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        ['PORT', 'REALTIME_URL', 'REALTIME_API_SHAPE'].every((name) => err.problems.some((p) => p.startsWith(name))),
    );
    assert.throws(() => loadConfig({ TWILIO_ACCOUNT_SID: 'AC' + '0'.repeat(32) }), /TWILIO_AUTH_TOKEN/);
  });
  test('PUBLIC_URL loses its trailing slash; empty strings count as unset', () => {
    const c = loadConfig({ PUBLIC_URL: 'https://koe.example.com/', PORT: '' });
    assert.equal(c.publicUrl, 'https://koe.example.com');
    assert.equal(c.port, 5050);
  });
});
