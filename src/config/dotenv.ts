// Reads ./.env (or the file KOE_ENV_FILE names) into process.env without overriding variables already set.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import dotenv from 'dotenv';

export function loadDotEnv(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string | undefined {
  const path = resolve(cwd, env.KOE_ENV_FILE ?? '.env');
  if (!existsSync(path)) return undefined;
  dotenv.config({ path, processEnv: env as Record<string, string>, quiet: true, override: false });
  return path;
}
