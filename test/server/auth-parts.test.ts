// The login's parts on their own: the Cookie header, the cookie's flags, the rate limiter's arithmetic,
// the password hash, and the generated password file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log/logger.js';
import { ADMIN_PASSWORD_FILE, PasswordHash, resolveAdminPassword } from '../../src/server/auth/admin-password.js';
import { parseCookieHeader, sessionCookie } from '../../src/server/auth/cookies.js';
import { LoginRateLimiter } from '../../src/server/auth/login-rate-limiter.js';

describe('cookies', () => {
  test('the Cookie header is parsed leniently; the first of a repeated name wins', () => {
    const cookies = parseCookieHeader(' a=1; koe_session=abc ;b="quoted"; junk; =x; koe_session=second');
    assert.equal(cookies.get('a'), '1');
    assert.equal(cookies.get('koe_session'), 'abc');
    assert.equal(cookies.get('b'), 'quoted');
    assert.equal(cookies.size, 3);
    assert.equal(parseCookieHeader(undefined).size, 0);
  });

  test('the session cookie is HttpOnly, SameSite=Strict, Path=/, with Max-Age, Secure only over https', () => {
    assert.equal(sessionCookie('koe_session', 'v', { maxAgeSec: 3600.7, secure: false }), 'koe_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600');
    assert.match(sessionCookie('koe_session', 'v', { maxAgeSec: 0, secure: true }), /Max-Age=0; Secure$/);
  });
});

describe('login rate limiter', () => {
  const limits = { perIpFailures: 3, globalFailures: 5, windowMs: 60_000, maxTrackedIps: 100 };

  test('an IP is refused after its failures until the oldest leaves the window; success clears it', () => {
    let now = 0;
    const limiter = new LoginRateLimiter(limits, () => now);
    for (let i = 0; i < 3; i += 1) {
      assert.equal(limiter.begin('1.1.1.1').allowed, true);
      now += 1_000;
    }
    const refused = limiter.begin('1.1.1.1');
    assert.deepEqual(refused, { allowed: false, retryAfterSec: 57 });
    assert.equal(limiter.begin('2.2.2.2').allowed, true, 'other IPs still may try');
    now = 60_001;
    const again = limiter.begin('1.1.1.1');
    assert.equal(again.allowed, true);
    if (again.allowed) again.attempt.succeeded();
    for (let i = 0; i < 2; i += 1) assert.equal(limiter.begin('1.1.1.1').allowed, true);
  });

  test('attempts in flight count, so a parallel burst cannot exceed the limit', () => {
    const limiter = new LoginRateLimiter(limits, () => 0);
    const verdicts = Array.from({ length: 10 }, () => limiter.begin('1.1.1.1'));
    assert.equal(verdicts.filter((v) => v.allowed).length, 3);
  });

  test('the global limit holds across IPs', () => {
    const limiter = new LoginRateLimiter(limits, () => 0);
    const allowed = Array.from({ length: 10 }, (_, i) => limiter.begin(`10.0.0.${i}`).allowed);
    assert.deepEqual(allowed, [true, true, true, true, true, false, false, false, false, false]);
  });
});

describe('admin password', () => {
  test('scrypt hash matches only the password', async () => {
    const hash = await PasswordHash.of('correct horse');
    assert.equal(await hash.matches('correct horse'), true);
    assert.equal(await hash.matches('correct horsE'), false);
    assert.equal(await hash.matches(''), false);
  });

  test('without KOE_ADMIN_PASSWORD one is generated once (mode 0600), reused later, and never logged', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'koe-admin-'));
    try {
      const lines: string[] = [];
      const log = createLogger({
        level: 'debug',
        destination: new Writable({
          write(chunk: Buffer, _enc, done) {
            lines.push(chunk.toString());
            done();
          },
        }),
      });
      const dir = join(dataDir, 'nested');
      const first = await resolveAdminPassword({ configured: undefined, dataDir: dir, log });
      assert.ok(first.length >= 20);
      assert.equal(statSync(join(dir, ADMIN_PASSWORD_FILE)).mode & 0o777, 0o600);
      const second = await resolveAdminPassword({ configured: undefined, dataDir: dir, log });
      assert.equal(second, first);
      const logged = lines.join('');
      assert.ok(logged.includes(join(dir, ADMIN_PASSWORD_FILE)), 'the file path is logged');
      assert.ok(!logged.includes(first), 'the password is not');
      assert.equal(await resolveAdminPassword({ configured: 'from-the-env', dataDir: dir, log }), 'from-the-env');

      writeFileSync(join(dataDir, ADMIN_PASSWORD_FILE), 'short\n');
      await assert.rejects(resolveAdminPassword({ configured: undefined, dataDir, log }), /at least 8 characters/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
