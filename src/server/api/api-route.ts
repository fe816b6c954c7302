// One /api route = its documentation and its handler in one object, so the OpenAPI document is built
// from the very routes that are registered and cannot list a route that does not exist or miss one.
// Inputs are validated with the route's zod schemas before the handler runs.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { z } from 'zod';
import { ApiFailure, zodProblems } from './api-errors.js';

export type ApiMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ApiResponseDoc {
  description: string;
  /** The body's schema (JSON), when there is one. */
  schema?: z.ZodType;
  /** Non-JSON bodies (audio/wav). */
  contentType?: string;
}

export interface ApiRouteDoc {
  method: ApiMethod;
  /** Fastify's spelling: `/api/calls/:id`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** Open without a login session. */
  public?: boolean;
  body?: z.ZodType;
  /** Whether the body may be left out (it is validated as `{}` then). */
  bodyOptional?: boolean;
  /** Overrides the server's request body limit (bytes) for this route. */
  bodyLimit?: number;
  query?: z.ZodObject;
  params?: z.ZodObject;
  /** Successful answers; the error answers every route can give are added by the document. */
  responses: Record<number, ApiResponseDoc>;
  /** A WebSocket: GET with Upgrade. */
  websocket?: boolean;
}

export interface ApiRoute extends ApiRouteDoc {
  register(app: FastifyInstance): void;
}

export interface HandlerInput<Body, Query, Params> {
  body: Body;
  query: Query;
  params: Params;
  request: FastifyRequest;
  reply: FastifyReply;
}

interface HttpRouteSpec<Body, Query, Params> extends Omit<ApiRouteDoc, 'body' | 'query' | 'params' | 'websocket'> {
  body?: z.ZodType<Body>;
  query?: z.ZodObject & z.ZodType<Query>;
  params?: z.ZodObject & z.ZodType<Params>;
  /** Resolves with the JSON body to send, or with the reply when it answered itself. */
  handler(input: HandlerInput<Body, Query, Params>): Promise<unknown>;
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, what: string): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value);
  if (!result.success) throw new ApiFailure(400, 'validation_failed', `the request ${what} is not valid`, zodProblems(result.error));
  return result.data;
}

export function httpRoute<Body = undefined, Query = undefined, Params = undefined>(spec: HttpRouteSpec<Body, Query, Params>): ApiRoute {
  const { handler, ...doc } = spec;
  return {
    ...doc,
    register(app) {
      app.route({
        method: spec.method,
        url: spec.path,
        config: { public: spec.public ?? false },
        ...(spec.bodyLimit ? { bodyLimit: spec.bodyLimit } : {}),
        handler: async (request, reply) => {
          const body = parse(spec.body, request.body ?? (spec.bodyOptional ? {} : undefined), 'body');
          const query = parse(spec.query, request.query, 'query');
          const params = parse(spec.params, request.params, 'path');
          return handler({ body, query, params, request, reply });
        },
      });
    },
  };
}

export function webSocketRoute(
  spec: Omit<ApiRouteDoc, 'method' | 'websocket' | 'body' | 'query' | 'params' | 'bodyOptional'> & {
    handler(socket: WebSocket, request: FastifyRequest): void;
  },
): ApiRoute {
  const { handler, ...doc } = spec;
  return {
    ...doc,
    method: 'GET',
    websocket: true,
    register(app) {
      app.get(spec.path, { websocket: true, config: { public: spec.public ?? false } }, (socket, request) => handler(socket, request));
    },
  };
}
