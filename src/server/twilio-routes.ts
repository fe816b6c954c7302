// Twilio's entry points: the voice webhook that answers with <Connect><Stream>, the call status callback,
// and the media WebSocket. Every request is checked: the X-Twilio-Signature when an auth token is
// configured, otherwise only loopback clients are accepted (local development and tests).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Agent, AgentRegistry } from '../agents/index.js';
import { callVariables, renderTemplate, TemplateError } from '../agents/index.js';
import { AMD_CALLBACK_PATH, OUTBOUND_TWIML_PATH, STATUS_CALLBACK_PATH } from '../campaigns/outbound-dialer.js';
import type { CallServices } from '../call/twilio-stream-handler.js';
import { handleTwilioStream } from '../call/twilio-stream-handler.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../log/logger.js';
import type { KoeMetrics } from '../metrics/metrics.js';
import type { OutboundCallStore } from '../store/outbound-call-store.js';
import { isMachineAnswer } from '../store/outbound-call-store.js';
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
  /**
   * Stored calls: status callbacks and AMD verdicts are kept (a failure is logged, Twilio still gets 204),
   * and outbound calls' TwiML is built from the record made when they were dialed.
   */
  outbound?: OutboundCallStore;
}

const SORRY_TEXT = 'Sorry, this line is not set up correctly. Please try again later. Goodbye.';

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
      return reply.type('text/xml').send(sayAndHangupTwiml({ text: SORRY_TEXT }));
    }
    callLog.info({ direction: 'inbound' }, 'answering call');
    return reply.type('text/xml').send(
      connectStreamTwiml({
        streamUrl: `${toWebSocketUrl(baseUrl(request))}${STREAM_PATH}`,
        parameters,
      }),
    );
  });

  app.post(STATUS_CALLBACK_PATH, async (request, reply) => {
    if (!webhookAllowed(request, reply)) return reply;
    const body = (request.body ?? {}) as FormBody;
    const callSid = first(body.CallSid);
    const status = first(body.CallStatus);
    const callId = queryCallId(request);
    log.info({ callSid, callId, status, sequence: first(body.SequenceNumber), durationSec: first(body.CallDuration) }, 'call status callback');
    if (deps.outbound && callSid && status) {
      await deps.outbound
        .applyStatus({
          callId,
          callSid,
          status,
          sequence: optionalInt(first(body.SequenceNumber)),
          durationSec: optionalInt(first(body.CallDuration)),
          sipResponseCode: optionalInt(first(body.SipResponseCode)),
          answeredBy: first(body.AnsweredBy),
        })
        .then(
          (result) => {
            if (result.contactOutcome) log.info({ callSid, callId, outcome: result.contactOutcome }, 'campaign contact settled');
          },
          (err: unknown) => log.warn({ callSid, callId, status, err: (err as Error).message }, 'could not store the call status'),
        );
    }
    return reply.code(204).send();
  });

  // Outbound calls: Twilio asks for TwiML when the callee answers; the call's record says who and how.
  app.post(OUTBOUND_TWIML_PATH, async (request, reply) => {
    if (!webhookAllowed(request, reply)) return reply;
    const body = (request.body ?? {}) as FormBody;
    const callSid = first(body.CallSid);
    const callId = queryCallId(request);
    if (!callSid || !callId) return refuse(reply, 'missing_call_sid', 400);
    const callLog = log.child({ callSid, callId });
    const sorry = (): FastifyReply => reply.type('text/xml').send(sayAndHangupTwiml({ text: SORRY_TEXT }));
    if (!deps.outbound) {
      callLog.error('an outbound call reached a Koe without a database; cannot connect it');
      return sorry();
    }
    const plan = await deps.outbound.plan(callId).catch((err: unknown) => {
      // Twilio would play its own "application error"; the callee hears Koe's apology instead.
      callLog.error({ err: (err as Error).message }, 'cannot read the outbound call record (database down?)');
      return null;
    });
    if (plan === null) return sorry();
    if (!plan || (plan.status !== 'dialing' && plan.status !== 'active')) {
      callLog.error({ status: plan?.status }, 'outbound TwiML requested for an unknown or finished call');
      return sorry();
    }
    const agent = deps.agents.get(plan.agentId);
    if (!agent) {
      callLog.error({ agentId: plan.agentId }, 'the outbound call\'s agent no longer exists');
      return sorry();
    }
    let parameters: Record<string, string>;
    try {
      parameters = streamParameters(
        { agent, callSid, direction: 'outbound', callerNumber: plan.from, calledNumber: plan.to, variables: plan.variables, callId: plan.id, record: plan.record },
        { secret: config.streamSecret, ttlMs: config.streamTokenTtlMs },
      );
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      callLog.error({ missing: err.missing }, `cannot connect the outbound call: ${err.message}`);
      return reply.type('text/xml').send(sayAndHangupTwiml({ text: SORRY_TEXT, language: agent.language }));
    }
    let twiml: string;
    try {
      twiml = connectStreamTwiml({ streamUrl: `${toWebSocketUrl(baseUrl(request))}${STREAM_PATH}`, parameters });
    } catch (err) {
      // Checked when the call was placed; a record written by an older Koe could still break Twilio's limits.
      callLog.error({ err: (err as Error).message }, 'cannot connect the outbound call');
      return sorry();
    }
    callLog.info({ direction: 'outbound', agentId: agent.id }, 'outbound call answered; connecting the stream');
    return reply.type('text/xml').send(twiml);
  });

  // Asynchronous answering-machine detection: the verdict arrives while the stream already runs.
  app.post(AMD_CALLBACK_PATH, async (request, reply) => {
    if (!webhookAllowed(request, reply)) return reply;
    const body = (request.body ?? {}) as FormBody;
    const callSid = first(body.CallSid);
    const answeredBy = first(body.AnsweredBy);
    const callId = queryCallId(request);
    if (!callSid || !answeredBy) return refuse(reply, 'missing_call_sid', 400);
    const callLog = log.child({ callSid, callId });
    callLog.info({ answeredBy, detectionMs: first(body.MachineDetectionDuration) }, 'answering-machine verdict');
    if (!deps.outbound) return reply.code(204).send();
    const call = await deps.outbound.setAnsweredBy({ callId, callSid }, answeredBy).catch((err: unknown) => {
      callLog.warn({ err: (err as Error).message }, 'could not store the answering-machine verdict');
      return undefined;
    });
    // Without the record (database down) the call's live session still names its agent.
    const agentId = call?.agentId ?? deps.callServices.activeCalls.get(callSid)?.info.agentId;
    const agent = agentId === undefined ? undefined : deps.agents.get(agentId);
    if (agent && isMachineAnswer(answeredBy) && call?.status !== 'ended') {
      await actOnMachine(agent, callSid, call?.variables ?? {}, callLog);
    }
    return reply.code(204).send();
  });

  /**
   * The agent's answering-machine setting. The session is usually on this process; when Twilio's callback
   * reached another process, REST does it instead (Twilio's <Say> voice for the message).
   */
  async function actOnMachine(agent: Agent, callSid: string, given: Record<string, string>, callLog: Logger): Promise<void> {
    const session = deps.callServices.activeCalls.get(callSid);
    const setting = agent.answeringMachine;
    let message: string | undefined;
    if (setting.action === 'leave_message' && setting.message) {
      const variables = callVariables(agent, { callSid, direction: 'outbound', callerNumber: session?.info.from, calledNumber: session?.info.to }, given);
      try {
        message = renderTemplate(setting.message, variables, `agent "${agent.id}" answeringMachine.message`);
      } catch (err) {
        callLog.error({ err: (err as Error).message }, 'cannot fill the voicemail message; hanging up instead');
      }
    }
    if (session) {
      if (message) session.leaveVoicemail(message);
      else session.hangUpOnMachine();
      return;
    }
    const callControl = deps.callServices.callControl;
    if (!callControl) return;
    try {
      if (message) await callControl.redirect(callSid, sayAndHangupTwiml({ text: message, language: agent.language }));
      else await callControl.hangUp(callSid);
    } catch (err) {
      callLog.warn({ err: (err as Error).message }, 'could not act on the answering machine over REST');
    }
  }

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

function optionalInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,9}$/.test(value)) return undefined;
  return Number(value);
}

/** `?callId=` on Koe's own callback URLs (covered by Twilio's signature, which signs the full URL). */
function queryCallId(request: FastifyRequest): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.callId;
  return typeof value === 'string' && /^[A-Za-z0-9_.-]{1,200}$/.test(value) ? value : undefined;
}
