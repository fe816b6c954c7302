// Login, logout and the session probe. The password is checked against its scrypt hash; failures are
// rate-limited per client IP and overall; a login mints a session cookie (see cookies.ts for its flags).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isSecureRequest, sessionIdOf } from '../auth/auth-guard.js';
import { sessionCookie } from '../auth/cookies.js';
import { SESSION_COOKIE } from '../auth/login-sessions.js';
import { ApiFailure } from './api-errors.js';
import type { DashboardApiDeps } from './api-deps.js';
import type { ApiRoute } from './api-route.js';
import { httpRoute } from './api-route.js';
import { loginRequestSchema, sessionStatusSchema } from './api-schemas.js';
import type { SessionStatus } from './api-types.js';

const TAG = 'auth';

export function authRoutes(deps: DashboardApiDeps): ApiRoute[] {
  const { sessions, loginLimiter, password, config, log } = deps;

  const setCookie = (request: FastifyRequest, reply: FastifyReply, value: string, maxAgeSec: number): void => {
    reply.header('set-cookie', sessionCookie(SESSION_COOKIE, value, { maxAgeSec, secure: isSecureRequest(request, config.publicUrl) }));
  };

  return [
    httpRoute({
      method: 'POST',
      path: '/api/auth/login',
      tag: TAG,
      public: true,
      summary: 'Log in with the admin password',
      description:
        'Sets the `koe_session` cookie (HttpOnly, SameSite=Strict, Secure over https). Five failed attempts from one IP ' +
        'within 15 minutes (or 100 from all IPs) answer 429 with Retry-After until the oldest failure is 15 minutes old.',
      body: loginRequestSchema,
      responses: {
        200: { description: 'Logged in; the session cookie is set.', schema: sessionStatusSchema },
        401: { description: 'Wrong password.' },
        429: { description: 'Too many failed attempts; see Retry-After.' },
      },
      handler: async ({ body, request, reply }): Promise<SessionStatus> => {
        const verdict = loginLimiter.begin(request.ip);
        if (!verdict.allowed) {
          log.warn({ ip: request.ip, retryAfterSec: verdict.retryAfterSec }, 'dashboard login refused: too many failed attempts');
          throw new ApiFailure(429, 'rate_limited', `too many failed logins; try again in ${verdict.retryAfterSec} s`, undefined, {
            'retry-after': String(verdict.retryAfterSec),
          });
        }
        if (!(await password.matches(body.password))) {
          log.warn({ ip: request.ip }, 'dashboard login failed: wrong password');
          throw new ApiFailure(401, 'invalid_password', 'wrong password');
        }
        verdict.attempt.succeeded();
        // A session this browser still had is replaced, not left valid beside the new one.
        await sessions.remove(sessionIdOf(request));
        const session = await sessions.create();
        setCookie(request, reply, session.id, sessions.ttlMs / 1000);
        log.info({ ip: request.ip }, 'dashboard login');
        return { authenticated: true };
      },
    }),
    httpRoute({
      method: 'POST',
      path: '/api/auth/logout',
      tag: TAG,
      summary: 'Log out',
      description: 'Ends the session everywhere (all processes) and clears the cookie. No body is needed.',
      body: z.object({}),
      bodyOptional: true,
      responses: { 204: { description: 'Logged out.' } },
      handler: async ({ request, reply }) => {
        await sessions.remove(sessionIdOf(request));
        setCookie(request, reply, '', 0);
        return reply.code(204).send();
      },
    }),
    httpRoute({
      method: 'GET',
      path: '/api/auth/session',
      tag: TAG,
      public: true,
      summary: 'Whether the request carries a valid session',
      responses: { 200: { description: 'The session status.', schema: sessionStatusSchema } },
      handler: async ({ request }): Promise<SessionStatus> => ({ authenticated: await sessions.valid(sessionIdOf(request)) }),
    }),
  ];
}
