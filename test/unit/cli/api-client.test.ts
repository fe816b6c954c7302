// The CLI's API client against a small stand-in HTTP server: the login cookie and JSON-only mutations,
// the API's errors with their problems, what a wrong password, a rate limit and a stopped Koe read like,
// and where the URL and password come from (the password itself is never printed).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CliIo } from '../../../src/cli/api-client.js';
import {
  defaultUrl,
  KoeApiClient,
  KoeApiError,
  KoeUnreachableError,
  reportFailure,
  resolveConnection,
  UsageError,
} from '../../../src/cli/api-client.js';

const PASSWORD = 'correct-horse-battery';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

function sinkIo(overrides: Partial<CliIo> = {}): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) }, env: {}, cwd: process.cwd(), out, err, ...overrides };
}

describe('KoeApiClient', () => {
  let server: Server;
  let base: string;
  const seen: Seen[] = [];
  let loginAnswer: (res: ServerResponse) => void = () => undefined;

  const handle = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    const json = (status: number, value: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(value));
    };
    if (req.url === '/api/auth/login') {
      if ((JSON.parse(body) as { password: string }).password !== PASSWORD) return json(401, { error: { code: 'invalid_password', message: 'wrong password' } });
      return loginAnswer(res);
    }
    if (req.headers.cookie !== 'koe_session=s3ss10n') return json(401, { error: { code: 'unauthorized', message: 'log in first' } });
    if (req.method === 'POST' && req.headers['content-type'] !== 'application/json') return json(415, { error: { code: 'unsupported_media_type', message: 'JSON only' } });
    if (req.url === '/api/things' && req.method === 'GET') return json(200, { things: [1, 2] });
    if (req.url === '/api/things' && req.method === 'POST') return json(201, { echoed: JSON.parse(body) as unknown });
    if (req.url === '/api/bad') return json(400, { error: { code: 'validation_failed', message: 'the request is not valid', problems: ['to: not a phone number', 'agentId: required'] } });
    if (req.url === '/api/export.csv') return void res.writeHead(200, { 'content-type': 'text/csv' }).end('a,b\n1,2\n');
    if (req.url === '/api/html') return void res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
    json(404, { error: { code: 'not_found', message: 'route not found' } });
  };

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((done) => server.close(() => done())));

  const acceptLogin = (): void => {
    loginAnswer = (res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'set-cookie': ['other=1; Path=/', 'koe_session=s3ss10n; Path=/; HttpOnly; SameSite=Strict'],
      });
      res.end(JSON.stringify({ authenticated: true }));
    };
  };

  test('login keeps the session cookie; POSTs are JSON; GET and text work', async () => {
    acceptLogin();
    const client = await KoeApiClient.login({ url: `${base}/`, password: PASSWORD });
    assert.equal(client.url, base);
    const login = seen.find((s) => s.url === '/api/auth/login');
    assert.equal(login?.headers['content-type'], 'application/json');
    assert.deepEqual(await client.get('/api/things'), { things: [1, 2] });
    assert.deepEqual(await client.post('/api/things', { a: 1 }), { echoed: { a: 1 } });
    assert.deepEqual(await client.post('/api/things'), { echoed: {} });
    assert.equal(await client.getText('/api/export.csv'), 'a,b\n1,2\n');
  });

  test('API errors carry status, code, message and problems; reportFailure prints them one per line, exit 1', async () => {
    acceptLogin();
    const client = await KoeApiClient.login({ url: base, password: PASSWORD });
    const err = await client.post('/api/bad', {}).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof KoeApiError);
    assert.deepEqual([err.status, err.code, err.message, err.problems], [400, 'validation_failed', 'the request is not valid', ['to: not a phone number', 'agentId: required']]);
    const io = sinkIo();
    assert.equal(reportFailure(err, io), 1);
    assert.equal(io.err.join(''), 'error: the request is not valid [validation_failed]\n  - to: not a phone number\n  - agentId: required\n');
    assert.deepEqual(io.out, []);
  });

  test('a response that is not the API error shape reports its HTTP status', async () => {
    acceptLogin();
    const client = await KoeApiClient.login({ url: base, password: PASSWORD });
    await assert.rejects(client.get('/api/html'), (e: unknown) => e instanceof KoeApiError && e.status === 502 && /HTTP 502/.test(e.message));
  });

  test('a wrong password names where it came from, never the password', async () => {
    const err = await KoeApiClient.login({ url: base, password: 'not-the-password', passwordSource: 'KOE_ADMIN_PASSWORD' }).catch((e: unknown) => e);
    assert.ok(err instanceof KoeApiError && err.status === 401);
    assert.equal(err.message, `wrong password for Koe at ${base} (the password from KOE_ADMIN_PASSWORD)`);
    const io = sinkIo();
    reportFailure(err, io);
    assert.ok(!io.err.join('').includes('not-the-password'));
  });

  test('429 says when to try again', async () => {
    loginAnswer = (res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '842' });
      res.end(JSON.stringify({ error: { code: 'rate_limited', message: 'too many failed logins; try again in 842 s' } }));
    };
    await assert.rejects(
      KoeApiClient.login({ url: base, password: PASSWORD }),
      (e: unknown) => e instanceof KoeApiError && e.status === 429 && e.retryAfterSec === 842 && e.message === `too many failed logins at ${base}; try again in 842 s`,
    );
  });

  test('a login answered without a session cookie is not taken for Koe', async () => {
    loginAnswer = (res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    await assert.rejects(KoeApiClient.login({ url: base, password: PASSWORD }), /set no koe_session cookie/);
  });

  test('nothing listening: "is Koe running at <url>? (koe start)", exit 1', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((done) => closed.close(() => done()));
    const err = await KoeApiClient.login({ url, password: PASSWORD }).catch((e: unknown) => e);
    assert.ok(err instanceof KoeUnreachableError);
    assert.equal(err.message, `cannot connect (ECONNREFUSED): is Koe running at ${url}? (koe start)`);
    assert.equal(reportFailure(err, sinkIo()), 1);
  });
});

describe('resolveConnection', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'koe-cli-'));
    mkdirSync(join(dir, 'data'));
    mkdirSync(join(dir, 'elsewhere'));
    writeFileSync(join(dir, 'data', 'admin-password'), 'from-the-default-file\n');
    writeFileSync(join(dir, 'elsewhere', 'admin-password'), 'from-koe-data-dir\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('URL: --url, else KOE_URL, else loopback on PORT (default 5050) or HOST when it is one address', () => {
    assert.equal(defaultUrl({}), 'http://127.0.0.1:5050');
    assert.equal(defaultUrl({ PORT: '8080', HOST: '0.0.0.0' }), 'http://127.0.0.1:8080');
    assert.equal(defaultUrl({ HOST: '192.168.1.20' }), 'http://192.168.1.20:5050');
    assert.equal(defaultUrl({ HOST: '::1', PORT: '7000' }), 'http://[::1]:7000');
  });

  test('password: --password, else KOE_ADMIN_PASSWORD, else <KOE_DATA_DIR or ./data>/admin-password', async () => {
    const io = sinkIo({ cwd: dir, env: { KOE_URL: 'https://koe.example.com/', KOE_ADMIN_PASSWORD: 'from-the-env', KOE_DATA_DIR: 'elsewhere' } });
    assert.deepEqual(await resolveConnection({ password: 'from-the-flag', url: 'http://10.0.0.2:5050' }, io), {
      url: 'http://10.0.0.2:5050',
      password: 'from-the-flag',
      passwordSource: '--password',
    });
    assert.deepEqual(await resolveConnection({}, io), { url: 'https://koe.example.com', password: 'from-the-env', passwordSource: 'KOE_ADMIN_PASSWORD' });
    const fromDataDir = await resolveConnection({}, sinkIo({ cwd: dir, env: { KOE_DATA_DIR: 'elsewhere', PORT: '6000' } }));
    assert.deepEqual(fromDataDir, { url: 'http://127.0.0.1:6000', password: 'from-koe-data-dir', passwordSource: join(dir, 'elsewhere', 'admin-password') });
    assert.equal((await resolveConnection({}, sinkIo({ cwd: dir }))).password, 'from-the-default-file');
  });

  test('no password anywhere, or a URL that is not http(s): usage errors (exit 2)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'koe-cli-empty-'));
    try {
      const err = await resolveConnection({}, sinkIo({ cwd: empty })).catch((e: unknown) => e);
      assert.ok(err instanceof UsageError && /pass --password, set KOE_ADMIN_PASSWORD/.test(err.message));
      const io = sinkIo();
      assert.equal(reportFailure(err, io), 2);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    await assert.rejects(resolveConnection({ url: 'ftp://koe', password: 'x' }, sinkIo()), UsageError);
    await assert.rejects(resolveConnection({ url: 'not a url', password: 'x' }, sinkIo()), UsageError);
  });
});
