// The built dashboard at `/`: files with the right caching, the single-page app's fallback to index.html,
// the server's own paths left alone, and a clear 503 when the dashboard was not built.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import websocket from '@fastify/websocket';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { registerStaticDashboard } from '../../src/server/static-dashboard.js';

async function serve(dir: string): Promise<{ app: FastifyInstance; base: string }> {
  const app = Fastify();
  await app.register(websocket);
  await registerStaticDashboard(app, { dir });
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { app, base: `http://127.0.0.1:${port}` };
}

describe('static dashboard (built)', () => {
  let dir: string;
  let app: FastifyInstance;
  let base: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'koe-web-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Koe</title><div id="root"></div>');
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log("koe")');
    writeFileSync(join(dir, 'favicon.svg'), '<svg/>');
    writeFileSync(join(tmpdir(), 'koe-outside.txt'), 'secret');
    ({ app, base } = await serve(dir));
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(tmpdir(), 'koe-outside.txt'), { force: true });
  });

  test('index.html at / is revalidated every time', async () => {
    const response = await fetch(`${base}/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    assert.match(await response.text(), /<div id="root">/);
  });

  test('hashed assets are cached for a year; other files are revalidated', async () => {
    const asset = await fetch(`${base}/assets/index-abc123.js`);
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(await asset.text(), 'console.log("koe")');
    const icon = await fetch(`${base}/favicon.svg`);
    assert.equal(icon.status, 200);
    assert.equal(icon.headers.get('cache-control'), 'no-cache');
  });

  test('app routes fall back to index.html; HEAD works', async () => {
    for (const path of ['/calls', '/calls/123', '/agents/receptionist/edit?x=1']) {
      const response = await fetch(`${base}${path}`);
      assert.equal(response.status, 200, path);
      assert.match(await response.text(), /<div id="root">/);
    }
    const head = await fetch(`${base}/calls`, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });

  test('server paths are never the dashboard, and nothing outside dist/web is served', async () => {
    for (const path of ['/api/nope', '/twilio/nope', '/v1/nope', '/metrics/x', '/healthz/x', '/api']) {
      const response = await fetch(`${base}${path}`);
      assert.equal(response.status, 404, path);
      await response.arrayBuffer();
    }
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const escape = await fetch(`${base}/..%2fkoe-outside.txt`);
    assert.doesNotMatch(await escape.text(), /secret/);
    const post = await fetch(`${base}/calls`, { method: 'POST' });
    assert.equal(post.status, 404);
  });

  test('a WebSocket to a path nobody serves is refused, not upgraded', async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/nothing-here`);
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    ws.terminate();
    assert.equal(status, 404);
  });
});

describe('static dashboard (not built)', () => {
  test('/ answers 503 with a page saying to run npm run build', async () => {
    const { app, base } = await serve(join(tmpdir(), 'koe-no-such-dashboard'));
    try {
      const response = await fetch(`${base}/`);
      assert.equal(response.status, 503);
      assert.match(response.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await response.text(), /npm run build/);
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
    } finally {
      await app.close();
    }
  });
});
