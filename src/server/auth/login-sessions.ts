// Dashboard login sessions: a random 32-byte id in the browser's cookie, only its SHA-256 in the database,
// so a leaked database (or backup) holds no usable session, and sessions work across processes on one
// PostgreSQL and survive restarts.
import { createHash, randomBytes } from 'node:crypto';
import type { LoginSessionStore } from '../../store/store.js';

export const SESSION_COOKIE = 'koe_session';
const SESSION_ID_BYTES = 32;
/** base64url of 32 bytes; anything else in the cookie is not one of ours and is not looked up. */
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

export class LoginSessions {
  constructor(
    private readonly store: LoginSessionStore,
    readonly ttlMs: number,
  ) {}

  async create(now = new Date()): Promise<{ id: string; expiresAt: Date }> {
    const id = randomBytes(SESSION_ID_BYTES).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.ttlMs);
    await this.store.create(hashSessionId(id), expiresAt);
    return { id, expiresAt };
  }

  async valid(id: string | undefined, now = new Date()): Promise<boolean> {
    if (id === undefined || !SESSION_ID_PATTERN.test(id)) return false;
    return this.store.valid(hashSessionId(id), now);
  }

  async remove(id: string | undefined): Promise<void> {
    if (id === undefined || !SESSION_ID_PATTERN.test(id)) return;
    await this.store.remove(hashSessionId(id));
  }
}
