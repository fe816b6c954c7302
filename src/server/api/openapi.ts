// GET /api/openapi.json: an OpenAPI 3.1 description of /api, built from the registered routes themselves
// (api-route.ts) and the zod schemas that validate them, so it lists exactly what the server answers.
import { z } from 'zod';
import { SESSION_COOKIE } from '../auth/login-sessions.js';
import type { ApiRoute } from './api-route.js';
import { httpRoute } from './api-route.js';
import { apiComponents } from './api-schemas.js';

export const OPENAPI_PATH = '/api/openapi.json';
const SECURITY_SCHEME = 'sessionCookie';
const COMPONENT_PREFIX = '#/components/schemas/';

type JsonObject = Record<string, unknown>;

const DESCRIPTION = `The JSON API the Koe dashboard itself uses.

**Authentication.** \`POST /api/auth/login\` with the admin password (\`KOE_ADMIN_PASSWORD\`, or the generated one in
\`<KOE_DATA_DIR>/admin-password\`) sets the \`${SESSION_COOKIE}\` cookie (HttpOnly, SameSite=Strict, Secure over https).
Every other route, the WebSockets included, answers 401 without it. Sessions are stored in the database, so they work
on every Koe process sharing it and survive restarts.

**Requests.** Every POST, PUT and DELETE must send \`Content-Type: application/json\` (a body may be left out where
noted), which with SameSite=Strict keeps other sites from acting with the cookie. WebSockets must be opened from
the server's own origin (an \`Origin\` header naming another host answers 403).

**Errors.** Always \`{ "error": { "code", "message", "problems"? } }\`; \`problems\` lists each invalid field as
\`path: what is wrong\`.`;

function stripSchemaKeywords(schema: JsonObject): JsonObject {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

/** The registered component a schema is, if any. */
function componentId(schema: z.ZodType): string | undefined {
  return apiComponents.get(schema)?.id;
}

function schemaRef(schema: z.ZodType): JsonObject {
  const id = componentId(schema);
  if (id) return { $ref: `${COMPONENT_PREFIX}${id}` };
  return stripSchemaKeywords(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonObject);
}

function parameters(where: 'path' | 'query', shape: z.ZodObject | undefined): JsonObject[] {
  if (!shape) return [];
  return Object.entries(shape.shape).map(([name, field]) => {
    const schema = field as z.ZodType;
    // Query values arrive as text and are coerced: their documented type is what they are coerced to.
    const { description, ...jsonSchema } = stripSchemaKeywords(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonObject);
    return {
      name,
      in: where,
      required: where === 'path' || !schema.safeParse(undefined).success,
      ...(typeof description === 'string' ? { description } : {}),
      schema: jsonSchema,
    };
  });
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is not valid (`problems` names each field).',
  401: 'No valid session: log in first.',
  403: 'The WebSocket was opened from another origin.',
  415: 'The body is not `application/json`.',
  500: 'Unexpected server error (logged).',
};

function operation(route: ApiRoute): JsonObject {
  const statuses = new Map<number, { description: string; schema?: z.ZodType; contentType?: string }>();
  for (const [status, response] of Object.entries(route.responses)) statuses.set(Number(status), response);
  const addError = (status: number): void => {
    if (!statuses.has(status)) statuses.set(status, { description: ERROR_DESCRIPTIONS[status] ?? 'Error.' });
  };
  if (route.body || route.query || route.params) addError(400);
  if (!route.public) addError(401);
  if (route.websocket) addError(403);
  if (route.method !== 'GET') addError(415);
  addError(500);

  const responses: JsonObject = {};
  for (const [status, response] of [...statuses].sort(([a], [b]) => a - b)) {
    let content: JsonObject | undefined;
    if (status >= 400) content = { 'application/json': { schema: { $ref: `${COMPONENT_PREFIX}ApiError` } } };
    else if (response.contentType) content = { [response.contentType]: { schema: { type: 'string', format: 'binary' } } };
    else if (response.schema) content = { 'application/json': { schema: schemaRef(response.schema) } };
    responses[String(status)] = { description: response.description, ...(content ? { content } : {}) };
  }

  const params = [...parameters('path', route.params), ...parameters('query', route.query)];
  return {
    operationId: operationId(route),
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(route.body
      ? { requestBody: { required: !route.bodyOptional, content: { 'application/json': { schema: schemaRef(route.body) } } } }
      : {}),
    responses,
    ...(route.public ? { security: [] } : {}),
    ...(route.websocket ? { 'x-websocket': true } : {}),
  };
}

function operationId(route: ApiRoute): string {
  const words = route.path
    .replace(/^\/api\//, '')
    .split(/[/.]/)
    .filter(Boolean)
    .map((part) => (part.startsWith(':') ? `by-${part.slice(1)}` : part));
  return [route.method.toLowerCase(), ...words]
    .join('-')
    .replace(/-(\w)/g, (_m, c: string) => c.toUpperCase());
}

/** `/api/calls/:id` → `/api/calls/{id}`. */
export function openApiPath(fastifyPath: string): string {
  return fastifyPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

export function openApiDocument(routes: readonly ApiRoute[], version: string): JsonObject {
  const { schemas } = z.toJSONSchema(apiComponents, { uri: (id) => `${COMPONENT_PREFIX}${id}`, io: 'input', unrepresentable: 'any' }) as {
    schemas: Record<string, JsonObject>;
  };
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Koe API', version, description: DESCRIPTION, license: { name: 'MIT', identifier: 'MIT' } },
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    security: [{ [SECURITY_SCHEME]: [] }],
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, stripSchemaKeywords(schema)])),
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description: 'Set by POST /api/auth/login.',
        },
      },
    },
  };
}

/** The route serving the document of `routes` (which should include this route; it is built on first request). */
export function openApiRoute(routes: () => readonly ApiRoute[], version: string): ApiRoute {
  let document: JsonObject | undefined;
  return httpRoute({
    method: 'GET',
    path: OPENAPI_PATH,
    tag: 'meta',
    summary: 'This document (OpenAPI 3.1)',
    responses: { 200: { description: 'The OpenAPI description of /api.' } },
    handler: async () => {
      document ??= openApiDocument(routes(), version);
      return document;
    },
  });
}
