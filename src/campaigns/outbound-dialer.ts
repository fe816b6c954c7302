// Places one outbound call: checks the agent, caller ID and templates before anything is dialed, creates
// the call record (so Twilio's requests find it on any Koe process), asks Twilio to place the call with
// signed callbacks back to Koe, and classifies what Twilio answers so callers (the API, the campaign
// dispatcher) know whether to retry, give up on the number, or stop and tell a person.
import type { Agent, AgentRegistry } from '../agents/index.js';
import { agentTemplates, callVariables, renderTemplate, TemplateError } from '../agents/index.js';
import { maxVariableChars } from '../call/stream-parameter-names.js';
import type { Logger } from '../log/logger.js';
import type { KoeMetrics } from '../metrics/metrics.js';
import { backendName } from '../store/cost.js';
import type { OutboundCallStore } from '../store/outbound-call-store.js';
import type { CallControl } from '../twilio/index.js';
import { TwilioRestError } from '../twilio/index.js';

/**
 * retry: Twilio did not process the request (429 / 20429), safe to send again later.
 * uncertain: no answer or a 5xx — the call may have been placed; its status callbacks will tell.
 * invalid_number: Twilio refused the number called. caller_id: Twilio refused the caller ID.
 * auth: Twilio refused the credentials. refused: any other refusal of this call.
 * not_configured / unknown_agent / template: Koe could not ask at all (nothing was dialed).
 */
export type DialErrorKind = 'retry' | 'uncertain' | 'invalid_number' | 'caller_id' | 'auth' | 'refused' | 'not_configured' | 'unknown_agent' | 'template';

export class DialError extends Error {
  constructor(
    readonly kind: DialErrorKind,
    message: string,
    readonly details: { twilioCode?: number | null; httpStatus?: number | null; problems?: string[]; callId?: string } = {},
  ) {
    super(message);
    this.name = 'DialError';
  }
}

/** Twilio error codes meaning "this number cannot be called" (protocol/twilio.md §5.5 and Twilio's error list). */
const INVALID_NUMBER_CODES: ReadonlySet<number> = new Set([21211, 21214, 21215, 21216, 21217, 21401, 21421, 13223, 13224]);
const CALLER_ID_CODES: ReadonlySet<number> = new Set([21210, 21212, 21213]);
const AUTH_CODES: ReadonlySet<number> = new Set([20003, 20005, 20006, 20008]);

export function classifyTwilioError(err: TwilioRestError): DialErrorKind {
  if (err.status === 429 || err.code === 20429) return 'retry';
  if (err.status === null || (err.status >= 500 && err.status <= 599)) return 'uncertain';
  if (err.code !== null && INVALID_NUMBER_CODES.has(err.code)) return 'invalid_number';
  if (err.code !== null && CALLER_ID_CODES.has(err.code)) return 'caller_id';
  if ((err.code !== null && AUTH_CODES.has(err.code)) || err.status === 401 || err.status === 403) return 'auth';
  return 'refused';
}

export interface DialRequest {
  /** Koe's id for the call record; a fresh UUID when absent. */
  callId?: string;
  /** E.164, already normalised. */
  to: string;
  from?: string | undefined;
  agentId: string;
  variables?: Record<string, string>;
  /** Default: the agent's answeringMachine.detect. */
  machineDetection?: boolean | undefined;
  /** Default 30 s. */
  ringTimeoutSec?: number;
  /** Record this call (KOE_RECORD_CALLS records every call anyway). */
  record?: boolean | undefined;
  campaign?: { campaignId: string; contactId: number; attempt: number };
}

export interface DialedCall {
  callId: string;
  callSid: string;
}

export interface OutboundDialerOptions {
  outbound: OutboundCallStore;
  agents: AgentRegistry;
  callControl: CallControl | undefined;
  /** Where Twilio reaches Koe (PUBLIC_URL). */
  publicUrl: string | undefined;
  /** TWILIO_CALLER_ID. */
  callerId: string | undefined;
  processId: string;
  model: () => { url: string; model: string; shape: 'ga' | 'beta' };
  newCallId: () => string;
  log: Logger;
  metrics: Pick<KoeMetrics, 'outboundDials'>;
}

export const OUTBOUND_TWIML_PATH = '/twilio/outbound';
export const STATUS_CALLBACK_PATH = '/twilio/status';
export const AMD_CALLBACK_PATH = '/twilio/amd';
export const DEFAULT_RING_TIMEOUT_SEC = 30;

export class OutboundDialer {
  readonly #opts: OutboundDialerOptions;

  constructor(opts: OutboundDialerOptions) {
    this.#opts = opts;
  }

  /** What is missing before calls can be placed (empty when ready). */
  missingSettings(): string[] {
    const missing: string[] = [];
    if (!this.#opts.callControl) missing.push('TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN');
    if (!this.#opts.publicUrl) missing.push('PUBLIC_URL (the https address Twilio reaches Koe at)');
    return missing;
  }

  /** The caller ID a call from this agent uses when none is given; undefined when there is none. */
  defaultFrom(agent: Agent): string | undefined {
    return agent.phoneNumbers[0] ?? this.#opts.callerId;
  }

  /** Checks everything Koe can check before dialing; throws DialError (nothing dialed). Returns the agent and caller ID. */
  prepare(request: DialRequest): { agent: Agent; from: string } {
    const missing = this.missingSettings();
    if (missing.length > 0) throw new DialError('not_configured', `outbound calls need ${missing.join(' and ')}`);
    const agent = this.#opts.agents.get(request.agentId);
    if (!agent) throw new DialError('unknown_agent', `no agent "${request.agentId}"`);
    const from = request.from ?? this.defaultFrom(agent);
    if (!from) {
      throw new DialError('caller_id', 'no caller ID: pass `from`, give the agent a phone number, or set TWILIO_CALLER_ID');
    }
    // The same values the stream will fill the templates with; the SID is not known yet.
    const variables = callVariables(agent, { callSid: 'CA-pending', direction: 'outbound', callerNumber: from, calledNumber: request.to }, request.variables);
    const problems: string[] = [];
    for (const [name, value] of Object.entries(request.variables ?? {})) {
      if (value.length > maxVariableChars(name)) problems.push(`variables.${name}: ${value.length} characters; a call carries at most ${maxVariableChars(name)}`);
    }
    for (const [name, template] of agentTemplates(agent)) {
      try {
        renderTemplate(template, variables, `agent "${agent.id}" ${name}`);
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        problems.push(err.message);
      }
    }
    if (problems.length > 0) throw new DialError('template', problems.join('; '), { problems });
    return { agent, from };
  }

  async dial(request: DialRequest): Promise<DialedCall> {
    try {
      const dialed = await this.#dial(request);
      this.#opts.metrics.outboundDials.inc({ result: 'placed' });
      return dialed;
    } catch (err) {
      this.#opts.metrics.outboundDials.inc({ result: err instanceof DialError ? err.kind : 'error' });
      throw err;
    }
  }

  async #dial(request: DialRequest): Promise<DialedCall> {
    const { agent, from } = this.prepare(request);
    const callControl = this.#opts.callControl as CallControl;
    const base = (this.#opts.publicUrl as string).replace(/\/+$/, '');
    const callId = request.callId ?? this.#opts.newCallId();
    const model = this.#opts.model();
    await this.#opts.outbound.createDialing({
      id: callId,
      from,
      to: request.to,
      agentId: agent.id,
      agentVersion: this.#opts.agents.versionOf(agent.id),
      backend: backendName(model.url),
      model: model.model,
      apiShape: model.shape,
      variables: request.variables ?? {},
      processId: this.#opts.processId,
      record: request.record ?? false,
      ...(request.campaign ? { campaign: request.campaign } : {}),
    });
    const detect = request.machineDetection ?? agent.answeringMachine.detect;
    const query = `?callId=${encodeURIComponent(callId)}`;
    try {
      const created = await callControl.createCall({
        to: request.to,
        from,
        url: `${base}${OUTBOUND_TWIML_PATH}${query}`,
        statusCallback: `${base}${STATUS_CALLBACK_PATH}${query}`,
        statusCallbackEvents: ['initiated', 'ringing', 'answered', 'completed'],
        timeoutSec: request.ringTimeoutSec ?? DEFAULT_RING_TIMEOUT_SEC,
        // Asynchronous: the stream starts at answer while detection runs, so a person is not kept waiting.
        ...(detect
          ? {
              machineDetection: agent.answeringMachine.action === 'leave_message' ? ('DetectMessageEnd' as const) : ('Enable' as const),
              asyncAmd: true,
              asyncAmdStatusCallback: `${base}${AMD_CALLBACK_PATH}${query}`,
            }
          : {}),
      });
      await this.#opts.outbound.setDialed(callId, created.sid, created.status);
      this.#opts.log.info({ callId, callSid: created.sid, agentId: agent.id, campaignId: request.campaign?.campaignId }, 'outbound call placed');
      return { callId, callSid: created.sid };
    } catch (err) {
      if (!(err instanceof TwilioRestError)) {
        await this.#opts.outbound.setDialFailed(callId, (err as Error).message).catch(() => undefined);
        throw err;
      }
      const kind = classifyTwilioError(err);
      const message = `Twilio ${err.code ?? err.status ?? 'error'}: ${err.message}`;
      // A 429 was never processed: no call, no record to keep. After an uncertain failure the record
      // stays `dialing` so a late status callback still lands; otherwise the attempt is recorded as failed.
      if (kind === 'retry') await this.#opts.outbound.discard(callId).catch(() => undefined);
      else if (kind !== 'uncertain') await this.#opts.outbound.setDialFailed(callId, message).catch(() => undefined);
      this.#opts.log.warn({ callId, kind, twilioCode: err.code, httpStatus: err.status, campaignId: request.campaign?.campaignId }, `outbound call not placed: ${message}`);
      throw new DialError(kind, message, { twilioCode: err.code, httpStatus: err.status, callId });
    }
  }
}
