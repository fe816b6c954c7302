// Every /api error has one shape, `{ error: { code, message, problems? } }` (ApiError in api-types.ts).
// Handlers throw ApiFailure; the API's error handler turns it, a Fastify error, or anything else into that shape.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodError } from 'zod';
import { DatabaseUnavailableError } from '../../store/database-errors.js';
import type { ApiError } from './api-types.js';

export class ApiFailure extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly problems?: string[],
    /** Extra response headers (Retry-After on 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

export function apiError(code: string, message: string, problems?: string[]): ApiError {
  return { error: { code, message, ...(problems && problems.length > 0 ? { problems } : {}) } };
}

export function notFound(what: string): ApiFailure {
  return new ApiFailure(404, 'not_found', `${what} not found`);
}

/** `field.sub[0]: message` for each issue, the way agent config errors read. */
export function zodProblems(error: ZodError, prefix = ''): string[] {
  return error.issues.map((issue) => {
    const path = issue.path
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 && !prefix ? '' : '.'}${String(p)}`))
      .join('');
    return `${prefix}${path}`.length > 0 ? `${prefix}${path}: ${issue.message}` : issue.message;
  });
}

const FASTIFY_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/** The API's error handler: known failures keep their status; anything unexpected is a logged 500. */
export function sendApiError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof ApiFailure) {
    return reply.code(error.statusCode).headers(error.headers).send(apiError(error.code, error.message, error.problems));
  }
  if (error instanceof DatabaseUnavailableError) {
    request.log.warn({ err: error.message, url: request.url }, 'API request failed: the database is unavailable');
    return reply.code(503).header('retry-after', '5').send(apiError('database_unavailable', 'the database is unavailable; try again shortly'));
  }
  const status = (error as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own 4xx (bad JSON, body too large, …): its message says what was wrong with the request.
    return reply.code(status).send(apiError(FASTIFY_CODES[status] ?? 'bad_request', (error as Error).message));
  }
  request.log.error({ err: error, url: request.url, method: request.method }, 'API request failed');
  return reply.code(500).send(apiError('internal', 'internal server error'));
}
