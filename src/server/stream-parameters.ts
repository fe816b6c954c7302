// The `start.customParameters` a media stream must present: the call's facts, its variables, and a stream
// token binding them to the call SID and agent. Built the same way for a Twilio call (in the TwiML of
// POST /twilio/voice) and for the browser softphone, so both reach the same handler and CallSession.
import type { Agent } from '../agents/index.js';
import { callVariables, renderTemplate } from '../agents/index.js';
import type { CallDirection } from '../call/call-events.js';
import { CALL_ID_PARAMETER, RECORD_PARAMETER, VARIABLE_PARAMETER_PREFIX } from '../call/twilio-stream-handler.js';
import { mintStreamToken, STREAM_TOKEN_PARAMETER } from '../twilio/index.js';

export interface StreamCall {
  agent: Agent;
  callSid: string;
  direction: CallDirection;
  callerNumber?: string | undefined;
  calledNumber?: string | undefined;
  /** Template variables given for this call; sent as `var_<name>` parameters, covered by the token. */
  variables?: Readonly<Record<string, string>>;
  /** Koe's id of the call record made before the stream (outbound calls); covered by the token. */
  callId?: string;
  /** Record this call even when KOE_RECORD_CALLS is off. */
  record?: boolean;
}

/**
 * Fills the agent's templates first, so a misconfigured agent (or a missing variable) is reported before
 * any stream starts: throws TemplateError naming every missing variable. Returns the parameters, token included.
 */
export function streamParameters(call: StreamCall, token: { secret: string; ttlMs: number }): Record<string, string> {
  const parameters: Record<string, string> = { direction: call.direction };
  if (call.callId) parameters[CALL_ID_PARAMETER] = call.callId;
  if (call.record) parameters[RECORD_PARAMETER] = 'true';
  if (call.callerNumber) parameters.callerNumber = call.callerNumber;
  if (call.calledNumber) parameters.calledNumber = call.calledNumber;
  for (const [name, value] of Object.entries(call.variables ?? {})) parameters[`${VARIABLE_PARAMETER_PREFIX}${name}`] = value;

  const { agent } = call;
  const variables = callVariables(
    agent,
    { callSid: call.callSid, direction: call.direction, callerNumber: call.callerNumber, calledNumber: call.calledNumber },
    call.variables,
  );
  renderTemplate(agent.instructions, variables, `agent "${agent.id}" instructions`);
  if (agent.greeting) renderTemplate(agent.greeting, variables, `agent "${agent.id}" greeting`);

  const streamToken = mintStreamToken({ secret: token.secret, callSid: call.callSid, agentId: agent.id, parameters, ttlMs: token.ttlMs });
  return { ...parameters, [STREAM_TOKEN_PARAMETER]: streamToken };
}
