// The dashboard's one password: KOE_ADMIN_PASSWORD, else a random one generated on first start and kept in
// `<dataDir>/admin-password` (mode 0600) so it survives restarts and is shared by processes on one data
// folder. Only the file's path is ever logged. In memory only its scrypt hash is kept.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../../log/logger.js';

export const ADMIN_PASSWORD_FILE = 'admin-password';
const MIN_PASSWORD_CHARS = 8;
const SALT_BYTES = 16;
const KEY_BYTES = 64;
/** scrypt cost: ~50 ms per check on one core, run on libuv's pool so calls keep the event loop. */
const SCRYPT_PARAMS = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

function scryptKey(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((done, fail) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, SCRYPT_PARAMS, (err, key) => (err ? fail(err) : done(key)));
  });
}

/** A password known only by its salted scrypt hash. */
export class PasswordHash {
  readonly #salt: Buffer;
  readonly #key: Buffer;

  private constructor(salt: Buffer, key: Buffer) {
    this.#salt = salt;
    this.#key = key;
  }

  static async of(password: string): Promise<PasswordHash> {
    const salt = randomBytes(SALT_BYTES);
    return new PasswordHash(salt, await scryptKey(password, salt));
  }

  async matches(candidate: string): Promise<boolean> {
    const key = await scryptKey(candidate, this.#salt);
    return timingSafeEqual(key, this.#key);
  }
}

/** KOE_ADMIN_PASSWORD, else the generated password kept in `<dataDir>/admin-password` (created if absent). */
export async function resolveAdminPassword(opts: {
  configured: string | undefined;
  dataDir: string;
  log: Logger;
}): Promise<string> {
  if (opts.configured !== undefined) return opts.configured;
  const file = resolve(join(opts.dataDir, ADMIN_PASSWORD_FILE));
  await mkdir(opts.dataDir, { recursive: true });
  try {
    // `wx`: two processes starting on one data folder cannot both write a password; the loser reads the winner's.
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.writeFile(`${randomBytes(18).toString('base64url')}\n`, 'utf8');
    } finally {
      await handle.close();
    }
    opts.log.warn({ file }, 'KOE_ADMIN_PASSWORD is not set: generated a dashboard password, kept in this file');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    opts.log.info({ file }, 'dashboard password: KOE_ADMIN_PASSWORD is not set, using the one kept in this file');
  }
  const password = (await readFile(file, 'utf8')).trim();
  if (password.length < MIN_PASSWORD_CHARS) {
    throw new Error(`${file} must hold a password of at least ${MIN_PASSWORD_CHARS} characters (or set KOE_ADMIN_PASSWORD)`);
  }
  if (((await stat(file)).mode & 0o077) !== 0) {
    opts.log.warn({ file }, 'the dashboard password file is readable by other users: chmod 600 it');
  }
  return password;
}
