// Who may use /api: a valid login session cookie on every route not marked public; JSON bodies on every
// mutation (a cross-site HTML form can only send form or text bodies, and SameSite=Strict keeps the cookie
// off cross-site requests anyway); and for WebSockets, which browsers open cross-origin without CORS,
// an Origin equal to the Host (or PUBLIC_URL) so another site's page cannot open one with our cookie.
import type { FastifyRequest } from 'fastify';
import { ApiFailure } from '../api/api-errors.js';
import { parseCookieHeader } from './cookies.js';
import type { LoginSessions } from './login-sessions.js';
import { SESSION_COOKIE } from './login-sessions.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without a login session (only the login route and the session probe). */
    public?: boolean;
  }
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function sessionIdOf(request: FastifyRequest): string | undefined {
  return parseCookieHeader(request.headers.cookie).get(SESSION_COOKIE);
}

/** Whether the browser reached us over https (directly, through a trusted proxy, or at an https PUBLIC_URL). */
export function isSecureRequest(request: FastifyRequest, publicUrl: string | undefined): boolean {
  if (request.protocol === 'https') return true;
  if (!publicUrl) return false;
  const url = new URL(publicUrl);
  return url.protocol === 'https:' && url.host === request.host;
}

export function originAllowed(request: FastifyRequest, publicUrl: string | undefined): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true; // not a browser, so no ambient cookie to abuse
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  if (host === request.host) return true;
  return publicUrl !== undefined && new URL(publicUrl).host === host;
}

function isJson(contentType: string | undefined): boolean {
  const type = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  return type === 'application/json';
}

export function authGuard(sessions: LoginSessions, publicUrl: string | undefined) {
  return async (request: FastifyRequest): Promise<void> => {
    if (request.ws && !originAllowed(request, publicUrl)) {
      throw new ApiFailure(403, 'forbidden_origin', 'this WebSocket may only be opened from the dashboard’s own origin');
    }
    // Authentication first: a request without a session learns nothing else about the route.
    if (!request.routeOptions.config.public && !(await sessions.valid(sessionIdOf(request)))) {
      throw new ApiFailure(401, 'unauthorized', 'log in first: POST /api/auth/login');
    }
    if (BODY_METHODS.has(request.method) && !isJson(request.headers['content-type'])) {
      throw new ApiFailure(415, 'unsupported_media_type', 'send Content-Type: application/json');
    }
  };
}
