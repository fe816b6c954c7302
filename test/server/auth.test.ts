// Dashboard login and the guard in front of /api, over real HTTP on loopback. The first test walks every
// route Fastify has under /api (as Fastify itself lists them), so a route added later without the guard fails it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { hashSessionId } from '../../src/server/auth/login-sessions.js';
import { createPostgresDatabase } from '../support/databases.js';
import type { DashboardServer } from './dashboard-support.js';
import { ADMIN_PASSWORD, api, login, registeredRoutes, startDashboardServer, upgradeStatus } from './dashboard-support.js';

/** A request with node:http, which (unlike fetch) may send any method Fastify routes, TRACE and QUERY included. */
function rawRequest(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // An explicit length: Node sends DELETE and OPTIONS bodies unframed otherwise.
    const framing = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const req = httpRequest(`${base}${path}`, { method, headers: { ...headers, ...framing } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const PUBLIC_ROUTES = new Set(['POST /api/auth/login', 'GET /api/auth/session', 'HEAD /api/auth/session']);
const WEBSOCKET_ROUTES = ['/api/live', '/api/softphone/stream'];

describe('the /api guard', () => {
  let server: DashboardServer;
  before(async () => {
    server = await startDashboardServer();
  });
  after(async () => server.close());

  test('every /api route Fastify knows answers 401 without a session, except login and the session probe', async () => {
    const routes = registeredRoutes(server.harness.koe.app).filter((r) => r.path === '/api' || r.path.startsWith('/api/'));
    assert.ok(routes.length >= 20, `found only ${routes.length} /api routes: the route listing is not being read`);
    for (const expected of ['GET /api/calls', 'GET /api/live', 'GET /api/softphone/stream', 'DELETE /api/agents/:id', 'POST /api/*']) {
      assert.ok(routes.some((r) => `${r.method} ${r.path}` === expected), `${expected} is listed`);
    }
    const bogusCookie = `koe_session=${randomBytes(32).toString('base64url')}`;
    const open: string[] = [];
    for (const route of routes) {
      const path = route.path.replace(/:[A-Za-z]+/g, '1').replace(/\*$/, 'anything');
      for (const cookie of [undefined, bogusCookie]) {
        const headers: Record<string, string> = { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) };
        const hasBody = !['GET', 'HEAD', 'OPTIONS', 'TRACE'].includes(route.method);
        const response = await rawRequest(server.base, route.method, path, headers, hasBody ? '{}' : undefined);
        const name = `${route.method} ${route.path}`;
        if (response.status !== 401) {
          open.push(name);
          continue;
        }
        if (route.method !== 'HEAD') assert.equal((JSON.parse(response.body) as { error: { code: string } }).error.code, 'unauthorized', name);
      }
    }
    assert.deepEqual([...new Set(open)].sort(), [...PUBLIC_ROUTES].filter((r) => routes.some((x) => `${x.method} ${x.path}` === r)).sort());
  });

  test('the live and softphone WebSockets refuse an upgrade without a session (401) and from another origin (403)', async () => {
    const ws = server.base.replace(/^http/, 'ws');
    const cookie = await login(server.base);
    for (const path of WEBSOCKET_ROUTES) {
      assert.equal(await upgradeStatus(`${ws}${path}`), 401, path);
      assert.equal(await upgradeStatus(`${ws}${path}`, { cookie: `koe_session=${randomBytes(32).toString('base64url')}` }), 401, path);
      assert.equal(await upgradeStatus(`${ws}${path}`, { cookie, origin: 'https://evil.example' }), 403, path);
      assert.equal(await upgradeStatus(`${ws}${path}`, { cookie, origin: 'null' }), 403, path);
    }
    assert.equal(await upgradeStatus(`${ws}/api/live`, { cookie, origin: server.base }), 101);
    assert.equal(await upgradeStatus(`${ws}/api/live`, { cookie }), 101, 'no Origin: not a browser, the cookie decides');
  });

  test('login: a wrong password is refused; the right one sets an HttpOnly, SameSite=Strict session cookie', async () => {
    const wrong = await api<{ error: { code: string } }>(server.base, 'POST', '/api/auth/login', { body: { password: 'nope' }, headers: { 'x-forwarded-for': '10.9.9.9' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'invalid_password');
    assert.equal(wrong.headers.get('set-cookie'), null);
    const missing = await api<{ error: { problems: string[] } }>(server.base, 'POST', '/api/auth/login', { body: {} });
    assert.equal(missing.status, 400);
    assert.ok(missing.body.error.problems.some((p) => p.startsWith('password')));

    const right = await api<{ authenticated: boolean }>(server.base, 'POST', '/api/auth/login', { body: { password: ADMIN_PASSWORD } });
    assert.equal(right.status, 200);
    assert.deepEqual(right.body, { authenticated: true });
    const setCookie = right.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^koe_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=604800$/);
    const cookie = setCookie.split(';', 1)[0] as string;

    assert.deepEqual((await api(server.base, 'GET', '/api/auth/session')).body, { authenticated: false });
    assert.deepEqual((await api(server.base, 'GET', '/api/auth/session', { cookie })).body, { authenticated: true });
    const info = await api<{ processId: string; database: string }>(server.base, 'GET', '/api/info', { cookie });
    assert.equal(info.status, 200);
    assert.equal(info.body.database, 'pglite');
    // The session is stored hashed: the cookie's value is nowhere in the database.
    const id = cookie.slice('koe_session='.length);
    const { rows } = await server.store.db.query<Record<string, unknown>>('SELECT * FROM login_sessions');
    assert.ok(rows.length > 0);
    assert.ok(!JSON.stringify(rows).includes(id));
    assert.ok(JSON.stringify(rows).includes(hashSessionId(id)));
  });

  test('mutations must be application/json (the CSRF rule), even with a valid session', async () => {
    const cookie = await login(server.base);
    const agent = { definition: { id: 'csrf', name: 'CSRF', instructions: 'x' } };
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const response = await api<{ error: { code: string } }>(server.base, 'POST', '/api/agents', { cookie, body: JSON.stringify(agent), headers: { 'content-type': type } });
      assert.equal(response.status, 415, type);
      assert.equal(response.body.error.code, 'unsupported_media_type');
    }
    const login415 = await api(server.base, 'POST', '/api/auth/login', { body: `password=${ADMIN_PASSWORD}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(login415.status, 415);
    const noType = await fetch(`${server.base}/api/auth/logout`, { method: 'POST', headers: { cookie } });
    assert.equal(noType.status, 415);
    assert.equal((await api<{ authenticated: boolean }>(server.base, 'GET', '/api/auth/session', { cookie })).body.authenticated, true);
  });

  test('logout ends the session and clears the cookie; an empty JSON body is fine', async () => {
    const cookie = await login(server.base);
    const response = await fetch(`${server.base}/api/auth/logout`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' } });
    assert.equal(response.status, 204);
    assert.match(response.headers.get('set-cookie') ?? '', /^koe_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0$/);
    assert.equal((await api(server.base, 'GET', '/api/info', { cookie })).status, 401);
    assert.deepEqual((await api(server.base, 'GET', '/api/auth/session', { cookie })).body, { authenticated: false });
  });

  test('an expired session is refused', async () => {
    const id = randomBytes(32).toString('base64url');
    await server.store.loginSessions.create(hashSessionId(id), new Date(Date.now() - 1_000));
    const cookie = `koe_session=${id}`;
    assert.equal((await api(server.base, 'GET', '/api/calls', { cookie })).status, 401);
    assert.deepEqual((await api(server.base, 'GET', '/api/auth/session', { cookie })).body, { authenticated: false });
    // The same kind of row with a future expiry is accepted: it is the expiry that refused the first.
    const fresh = randomBytes(32).toString('base64url');
    await server.store.loginSessions.create(hashSessionId(fresh), new Date(Date.now() + 60_000));
    assert.equal((await api(server.base, 'GET', '/api/calls', { cookie: `koe_session=${fresh}` })).status, 200);
  });
});

describe('login rate limit', () => {
  let server: DashboardServer;
  before(async () => {
    // Behind a trusted proxy the client IP comes from X-Forwarded-For, so one test can be several clients.
    server = await startDashboardServer({ env: { KOE_TRUST_PROXY: 'true' } });
  });
  after(async () => server.close());

  const attempt = (ip: string, password: string) =>
    api<{ error?: { code: string } }>(server.base, 'POST', '/api/auth/login', { body: { password }, headers: { 'x-forwarded-for': ip } });

  test('five failures from one IP answer 429 with Retry-After, even for the right password; other IPs are unaffected', async () => {
    for (let i = 0; i < 5; i += 1) assert.equal((await attempt('203.0.113.1', `wrong-${i}`)).status, 401);
    const limited = await attempt('203.0.113.1', 'wrong-again');
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error?.code, 'rate_limited');
    const retryAfterSec = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfterSec > 800 && retryAfterSec <= 900, `Retry-After ${retryAfterSec}`);
    assert.equal((await attempt('203.0.113.1', ADMIN_PASSWORD)).status, 429);
    assert.equal((await attempt('203.0.113.2', ADMIN_PASSWORD)).status, 200);
  });

  test('a successful login resets the IP’s failures', async () => {
    for (let i = 0; i < 4; i += 1) assert.equal((await attempt('203.0.113.3', 'wrong')).status, 401);
    assert.equal((await attempt('203.0.113.3', ADMIN_PASSWORD)).status, 200);
    for (let i = 0; i < 5; i += 1) assert.equal((await attempt('203.0.113.3', 'wrong')).status, 401, `failure ${i + 1} after the reset`);
    assert.equal((await attempt('203.0.113.3', 'wrong')).status, 429);
  });
});

describe('cookie flags behind https', () => {
  test('Secure is set when the request came over https (trusted proxy) or at an https PUBLIC_URL', async () => {
    const server = await startDashboardServer({ env: { KOE_TRUST_PROXY: 'true', PUBLIC_URL: 'https://koe.example' } });
    try {
      const body = JSON.stringify({ password: ADMIN_PASSWORD });
      const headers = { 'content-type': 'application/json' };
      const viaProxy = await api(server.base, 'POST', '/api/auth/login', { body, headers: { ...headers, 'x-forwarded-proto': 'https' } });
      assert.match(viaProxy.headers.get('set-cookie') ?? '', /; Secure$/);
      const plain = await api(server.base, 'POST', '/api/auth/login', { body, headers });
      assert.doesNotMatch(plain.headers.get('set-cookie') ?? '', /Secure/);
      const atPublicHost = await api(server.base, 'POST', '/api/auth/login', { body, headers: { ...headers, 'x-forwarded-host': 'koe.example' } });
      assert.match(atPublicHost.headers.get('set-cookie') ?? '', /; Secure$/);
    } finally {
      await server.close();
    }
  });
});

describe('sessions across processes (PostgreSQL)', () => {
  test('a session made on one server works on another on the same database, and after a restart; logout ends it on both', async () => {
    const database = await createPostgresDatabase();
    const a = await startDashboardServer({ database, ownsDatabase: false, processId: 'koe-a' });
    let b: DashboardServer | undefined;
    let c: DashboardServer | undefined;
    try {
      b = await startDashboardServer({ database, ownsDatabase: false, processId: 'koe-b' });
      const cookie = await login(a.base);
      assert.equal((await api(b.base, 'GET', '/api/calls', { cookie })).status, 200);
      const info = await api<{ database: string; processId: string }>(b.base, 'GET', '/api/info', { cookie });
      assert.deepEqual([info.body.database, info.body.processId], ['postgres', 'koe-b']);

      await a.close();
      c = await startDashboardServer({ database, ownsDatabase: false, processId: 'koe-c' });
      assert.equal((await api(c.base, 'GET', '/api/calls', { cookie })).status, 200, 'the session survives a restart');

      assert.equal((await api(c.base, 'POST', '/api/auth/logout', { cookie, body: {} })).status, 204);
      assert.equal((await api(b.base, 'GET', '/api/calls', { cookie })).status, 401);
    } finally {
      await b?.close();
      await c?.close();
      await database.drop();
    }
  });
});
