// The browser softphone: a call to an agent from the browser microphone over the same path as a Twilio
// call. POST /api/softphone/calls mints what POST /twilio/voice puts in its TwiML (a call SID, the stream
// parameters and the signed stream token); the browser then opens /api/softphone/stream and speaks Twilio's
// Media Streams protocol (μ-law 8 kHz), handled by the same handler and CallSession as Twilio's stream.
import { randomBytes } from 'node:crypto';
import { TemplateError } from '../../agents/index.js';
import { handleTwilioStream } from '../../call/twilio-stream-handler.js';
import { streamParameters } from '../stream-parameters.js';
import { ApiFailure } from './api-errors.js';
import type { DashboardApiDeps } from './api-deps.js';
import type { ApiRoute } from './api-route.js';
import { httpRoute, webSocketRoute } from './api-route.js';
import { softphoneCallRequestSchema, softphoneCallResponseSchema } from './api-schemas.js';
import type { SoftphoneCallResponse } from './api-types.js';

export const SOFTPHONE_STREAM_PATH = '/api/softphone/stream';
/** What a softphone call's caller number reads as in the call record and the `callerNumber` variable. */
export const SOFTPHONE_CALLER = 'softphone';
const TAG = 'softphone';

export function softphoneRoutes(deps: DashboardApiDeps): ApiRoute[] {
  const { config, log } = deps;
  return [
    httpRoute({
      method: 'POST',
      path: '/api/softphone/calls',
      tag: TAG,
      summary: 'Start a browser call to an agent',
      description:
        `Returns the call SID and the \`start.customParameters\` to send on WS ${SOFTPHONE_STREAM_PATH}. The stream token in them ` +
        'binds the agent and the variables to this call SID and expires like a Twilio call’s.',
      body: softphoneCallRequestSchema,
      responses: {
        200: { description: 'Open the stream with these.', schema: softphoneCallResponseSchema },
        400: { description: 'The agent’s templates need variables this call lacks (`problems` names them), or bad input.' },
        404: { description: 'No such agent.' },
      },
      handler: async ({ body }): Promise<SoftphoneCallResponse> => {
        const agent = deps.agents.get(body.agentId);
        if (!agent) throw new ApiFailure(404, 'not_found', `no agent "${body.agentId}"`);
        const callSid = `CA${randomBytes(16).toString('hex')}`;
        try {
          const parameters = streamParameters(
            { agent, callSid, direction: 'inbound', callerNumber: SOFTPHONE_CALLER, variables: body.variables ?? {} },
            { secret: config.streamSecret, ttlMs: config.streamTokenTtlMs },
          );
          log.info({ callSid, agentId: agent.id }, 'softphone call prepared');
          return { callSid, streamPath: SOFTPHONE_STREAM_PATH, parameters };
        } catch (err) {
          if (!(err instanceof TemplateError)) throw err;
          throw new ApiFailure(400, 'missing_variables', err.message, err.missing);
        }
      },
    }),
    webSocketRoute({
      path: SOFTPHONE_STREAM_PATH,
      tag: TAG,
      summary: 'The softphone’s media stream (Twilio Media Streams protocol)',
      description:
        'Send `connected`, then `start` with the callSid and customParameters from POST /api/softphone/calls, then 20 ms ' +
        '`media` frames of μ-law 8 kHz; the agent answers with `media`, `mark` and `clear` exactly as to Twilio.',
      responses: { 101: { description: 'Switching to the WebSocket protocol.' } },
      handler: (socket) => handleTwilioStream(socket, deps.callServices),
    }),
  ];
}
