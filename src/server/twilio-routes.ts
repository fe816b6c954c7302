// Twilio's entry points: the voice webhook that answers with <Connect><Stream>, the call status callback,
// and the media WebSocket. Every request is checked: the X-Twilio-Signature when an auth token is
// configured, otherwise only loopback clients are accepted (local development and tests).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AgentRegistry } from '../agents/index.js';
import { TemplateError } from '../agents/index.js';
import type { CallServices } from '../call/twilio-stream-handler.js';
import { handleTwilioStream } from '../call/twilio-stream-handler.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../log/logger.js';
import type { KoeMetrics } from '../metrics/metrics.js';
import {
  connectStreamTwiml,
  publicRequestUrl,
  sayAndHangupTwiml,
  toWebSocketUrl,
  validateStreamUpgradeSignature,
  validateWebhookSignature,
} from '../twilio/index.js';
import { streamParameters } from './stream-parameters.js';

export const STREAM_PATH = '/twilio/stream';

/** Loopback clients are the only ones allowed without an auth token (local development and tests). */
export function isLoopbackAddress(ip: string): boolean {
  return ip === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip);
}

export interface TwilioRouteDeps {
  config: Config;
  agents: AgentRegistry;
  log: Logger;
  metrics: KoeMetrics;
  callServices: CallServices;
  /** Keeps a status callback's call status (stored calls); a failure is logged, Twilio still gets 204. */
  onCallStatus?: (callSid: string, status: string) => Promise<void>;
}

type FormBody = Record<string, string | string[] | undefined>;

export function registerTwilioRoutes(app: FastifyInstance, deps: TwilioRouteDeps): void {
  const { config, log, metrics } = deps;
  const authToken = config.twilio.authToken;

  /** The base URL Twilio reaches us at: PUBLIC_URL, else what this request says (proxy headers only if trusted). */
  const baseUrl = (request: FastifyRequest): string =>
    publicRequestUrl({
      publicBaseUrl: config.publicUrl,
      path: '/',
      headers: config.trustProxy ? request.headers : {},
      fallbackProtocol: request.protocol,
      fallbackHost: request.host,
    }).replace(/\/$/, '');

  const refuse = (reply: FastifyReply, reason: string, status = 403): FastifyReply => {
    metrics.rejectedWebhooks.inc({ reason });
    return reply.code(status).type('text/plain').send(status === 403 ? 'Forbidden' : 'Bad Request');
  };

  /** Signature check for form webhooks; without an auth token, loopback only. */
  const webhookAllowed = (request: FastifyRequest, reply: FastifyReply): boolean => {
    if (!authToken) {
      if (isLoopbackAddress(request.ip)) return true;
      log.warn({ ip: request.ip }, 'refused a Twilio webhook from a non-loopback client: set TWILIO_AUTH_TOKEN to accept Twilio');
      refuse(reply, 'not_loopback');
      return false;
    }
    const signature = request.headers['x-twilio-signature'];
    const url = publicRequestUrl({
      publicBaseUrl: config.publicUrl,
      path: request.url,
      headers: config.trustProxy ? request.headers : {},
      fallbackProtocol: request.protocol,
      fallbackHost: request.host,
    });
    const params = Object.fromEntries(
      Object.entries((request.body ?? {}) as FormBody).filter((e): e is [string, string | string[]] => e[1] !== undefined),
    );
    if (typeof signature === 'string' && validateWebhookSignature({ authToken, signature, url, params })) return true;
    log.warn({ url, hasSignature: typeof signature === 'string' }, 'refused a Twilio webhook: bad X-Twilio-Signature');
    refuse(reply, 'bad_signature');
    return false;
  };

  app.post('/twilio/voice', async (request, reply) => {
    if (!webhookAllowed(request, reply)) return reply;
    const body = (request.body ?? {}) as FormBody;
    const callSid = first(body.CallSid);
    if (!callSid) return refuse(reply, 'missing_call_sid', 400);
    const from = first(body.From);
    const to = first(body.To);
    const agent = deps.agents.forCalledNumber(to);
    const callLog = log.child({ callSid, agentId: agent.id });
    let parameters: Record<string, string>;
    try {
      parameters = streamParameters(
        { agent, callSid, direction: 'inbound', callerNumber: from, calledNumber: to },
        { secret: config.streamSecret, ttlMs: config.streamTokenTtlMs },
      );
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      callLog.error({ missing: err.missing }, `cannot answer the call: ${err.message}`);
      return reply
        .type('text/xml')
        .send(sayAndHangupTwiml({ text: 'Sorry, this line is not set up correctly. Please try again later. Goodbye.' }));
    }
    callLog.info({ direction: 'inbound' }, 'answering call');
    return reply.type('text/xml').send(
      connectStreamTwiml({
        streamUrl: `${toWebSocketUrl(baseUrl(request))}${STREAM_PATH}`,
        parameters,
      }),
    );
  });

  app.post('/twilio/status', async (request, reply) => {
    if (!webhookAllowed(request, reply)) return reply;
    const body = (request.body ?? {}) as FormBody;
    const callSid = first(body.CallSid);
    const status = first(body.CallStatus);
    log.info({ callSid, status, durationSec: first(body.CallDuration) }, 'call status callback');
    if (deps.onCallStatus && callSid && status) {
      await deps.onCallStatus(callSid, status).catch((err: unknown) =>
        log.warn({ callSid, status, err: (err as Error).message }, 'could not store the call status'),
      );
    }
    return reply.code(204).send();
  });

  app.get(
    STREAM_PATH,
    {
      websocket: true,
      preValidation: async (request, reply) => {
        if (!authToken) {
          if (isLoopbackAddress(request.ip)) return;
          metrics.rejectedStreams.inc({ reason: 'not_loopback' });
          log.warn({ ip: request.ip }, 'refused a media stream from a non-loopback client: set TWILIO_AUTH_TOKEN to accept Twilio');
          return reply.code(403).send('Forbidden');
        }
        const signature = request.headers['x-twilio-signature'];
        const wssUrl = `${toWebSocketUrl(baseUrl(request))}${STREAM_PATH}`;
        if (typeof signature === 'string' && validateStreamUpgradeSignature({ authToken, signature, wssUrl })) return;
        metrics.rejectedStreams.inc({ reason: 'bad_signature' });
        log.warn({ wssUrl, hasSignature: typeof signature === 'string' }, 'refused a media stream: bad X-Twilio-Signature on the upgrade');
        return reply.code(403).send('Forbidden');
      },
    },
    (socket) => handleTwilioStream(socket, deps.callServices),
  );
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
