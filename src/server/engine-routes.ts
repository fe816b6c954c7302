// WS /v1/realtime: Koe's engine, a server of the OpenAI Realtime protocol. GA by default, beta when the
// client sends `OpenAI-Beta: realtime=v1`. A bearer key is required when KOE_ENGINE_KEY is set;
// otherwise only loopback clients may connect (the bridge on the same machine, local development).
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { KoeEngine } from '../engine/engine.js';
import { DEFAULT_MODEL } from '../engine/protocol/index.js';
import type { Logger } from '../log/logger.js';
import type { RealtimeShape } from '../realtime/index.js';
import { isLoopbackAddress } from './twilio-routes.js';

export const ENGINE_PATH = '/v1/realtime';

export interface EngineRouteDeps {
  /** Starts the engine on first use; later calls share the same promise. */
  engine: () => Promise<KoeEngine>;
  apiKey: string | undefined;
  log: Logger;
}

export function registerEngineRoutes(app: FastifyInstance, deps: EngineRouteDeps): void {
  const { log } = deps;
  const engines = new WeakMap<FastifyRequest, KoeEngine>();

  app.get(
    ENGINE_PATH,
    {
      websocket: true,
      preValidation: async (request, reply) => {
        if (!authorised(request, deps.apiKey)) {
          log.warn({ ip: request.ip }, deps.apiKey ? 'refused an engine connection: bad or missing API key' : 'refused an engine connection from a non-loopback client: set KOE_ENGINE_KEY to allow it');
          return reply.code(401).send({ error: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Missing or invalid API key.' } });
        }
        try {
          engines.set(request, await deps.engine());
        } catch (err) {
          log.error({ err: (err as Error).message }, 'the engine cannot start');
          return reply.code(503).send({ error: { type: 'server_error', code: 'engine_unavailable', message: (err as Error).message } });
        }
      },
    },
    (socket, request) => {
      const engine = engines.get(request) as KoeEngine;
      const shape = requestedShape(request);
      const query = new URL(request.url, 'http://localhost').searchParams;
      const session = engine.openSession({
        shape,
        model: query.get('model') ?? DEFAULT_MODEL[shape],
        sessionType: query.get('intent') === 'transcription' ? 'transcription' : 'realtime',
        send: (text) => {
          if (socket.readyState === socket.OPEN) socket.send(text);
        },
      });
      socket.on('message', (data, isBinary) => session.receive(data, isBinary));
      socket.on('close', () => session.close());
      socket.on('error', (err) => log.warn({ err: err.message }, 'engine socket error'));
    },
  );
}

/** GA unless the client asks for the beta shape, by header or (browser clients) by subprotocol. */
function requestedShape(request: FastifyRequest): RealtimeShape {
  const header = String(request.headers['openai-beta'] ?? '');
  const protocols = String(request.headers['sec-websocket-protocol'] ?? '');
  return /realtime=v1/.test(header) || /openai-beta\.realtime-v1/.test(protocols) ? 'beta' : 'ga';
}

function authorised(request: FastifyRequest, apiKey: string | undefined): boolean {
  if (!apiKey) return isLoopbackAddress(request.ip);
  const header = String(request.headers.authorization ?? '');
  // Browsers cannot set headers on a WebSocket: OpenAI's clients pass the key as a subprotocol instead.
  const fromProtocol = /openai-insecure-api-key\.([^,\s]+)/.exec(String(request.headers['sec-websocket-protocol'] ?? ''))?.[1];
  const given = header.startsWith('Bearer ') ? header.slice(7).trim() : fromProtocol;
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(apiKey);
  return a.length === b.length && timingSafeEqual(a, b);
}
