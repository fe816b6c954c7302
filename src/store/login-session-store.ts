// Dashboard login sessions, stored by the hash of their id (a leaked table does not leak sessions).
import type { Database, LoginSessionStore } from './store.js';

export function createLoginSessionStore(db: Database): LoginSessionStore {
  return {
    async create(idHash, expiresAt) {
      if (Number.isNaN(expiresAt.getTime())) throw new RangeError('expiresAt is not a valid date');
      // Housekeeping rides along with logins, which are rare: no timer needed.
      await db.query('DELETE FROM login_sessions WHERE expires_at <= now()');
      await db.query('INSERT INTO login_sessions (id_hash, expires_at) VALUES ($1, $2::timestamptz)', [idHash, expiresAt.toISOString()]);
    },

    async valid(idHash, now) {
      const { rows } = await db.query('SELECT 1 AS ok FROM login_sessions WHERE id_hash = $1 AND expires_at > $2::timestamptz', [
        idHash,
        now.toISOString(),
      ]);
      return rows.length > 0;
    },

    async remove(idHash) {
      await db.query('DELETE FROM login_sessions WHERE id_hash = $1', [idHash]);
    },
  };
}
