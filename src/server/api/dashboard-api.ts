// The dashboard API under /api, in its own Fastify context: the auth guard, JSON-only bodies and the
// `{ error }` shape apply to its routes only, never to Twilio's or the engine's.
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authGuard } from '../auth/auth-guard.js';
import { ApiFailure, sendApiError } from './api-errors.js';
import type { DashboardApiDeps } from './api-deps.js';
import type { ApiRoute } from './api-route.js';
import { agentRoutes } from './agent-routes.js';
import { authRoutes } from './auth-routes.js';
import { callRoutes } from './call-routes.js';
import { campaignRoutes } from './campaign-routes.js';
import { infoRoutes } from './info-routes.js';
import { liveRoutes } from './live-routes.js';
import { openApiRoute } from './openapi.js';
import { softphoneRoutes } from './softphone-routes.js';

/** Every route of the API, the OpenAPI document's own included. */
export function dashboardApiRoutes(deps: DashboardApiDeps): ApiRoute[] {
  const routes: ApiRoute[] = [
    ...authRoutes(deps),
    ...infoRoutes(deps),
    ...callRoutes(deps),
    ...campaignRoutes(deps),
    ...agentRoutes(deps),
    ...softphoneRoutes(deps),
    ...liveRoutes(deps),
  ];
  routes.push(openApiRoute(() => routes, deps.version));
  return routes;
}

export async function registerDashboardApi(app: FastifyInstance, deps: DashboardApiDeps): Promise<void> {
  await app.register(async (api) => {
    // Logout and delete carry no body, yet must say application/json (the CSRF rule): an empty JSON body
    // means no body. Anything else goes to Fastify's own parser, which refuses __proto__ and constructor keys.
    const parseJson = api.getDefaultJsonParser('error', 'error') as (
      request: FastifyRequest,
      body: string,
      done: (err: Error | null, value?: unknown) => void,
    ) => void;
    api.removeContentTypeParser('application/json');
    api.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      if (body === '' || (Buffer.isBuffer(body) && body.length === 0)) {
        done(null, undefined);
        return;
      }
      parseJson(request, body.toString(), done);
    });
    api.setErrorHandler((error, request, reply) => sendApiError(error, request, reply));
    api.addHook('onRequest', authGuard(deps.sessions, deps.config.publicUrl));
    // reply.sendFile for recordings (Range, ETag, 416); no files are served from a folder by it.
    await api.register(fastifyStatic, { serve: false });

    for (const route of dashboardApiRoutes(deps)) route.register(api);
    // Unknown /api paths: answered here (after the guard) rather than by the dashboard's SPA fallback.
    api.all('/api/*', async () => {
      throw new ApiFailure(404, 'not_found', 'no such API route; see GET /api/openapi.json');
    });
  });
}

/** Without a store there are no sessions to log in with, so /api answers that storage is off. */
export async function registerDisabledApi(app: FastifyInstance): Promise<void> {
  const disabled = async (): Promise<never> => {
    throw new ApiFailure(503, 'storage_disabled', 'the dashboard API needs the store (embedded PGlite or DATABASE_URL)');
  };
  await app.register(async (api) => {
    api.setErrorHandler((error, request, reply) => sendApiError(error, request, reply));
    api.all('/api', disabled);
    api.all('/api/*', disabled);
  });
}
