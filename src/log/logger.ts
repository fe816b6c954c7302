// One pino logger for the process; per-call children carry callSid/streamSid.
// Secrets are redacted by path so a careless `log.info({ config })` cannot leak them.
import pino from 'pino';
import type { Logger, LoggerOptions } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'apiKey',
  'authToken',
  'streamSecret',
  'password',
  'token',
  '*.apiKey',
  '*.authToken',
  '*.streamSecret',
  '*.password',
  '*.token',
  'headers.authorization',
  'headers["x-twilio-signature"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-twilio-signature"]',
];

export function createLogger(opts: { level: LoggerOptions['level']; destination?: pino.DestinationStream }): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    base: { service: 'koe' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
