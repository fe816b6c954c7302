// Stored calls: list and search, one call with its turns, tool calls and events, and its recording.
import { basename, dirname } from 'node:path';
import { normalizePhoneNumber } from '../../campaigns/contact-import.js';
import { DialError } from '../../campaigns/outbound-dialer.js';
import type { DialErrorKind } from '../../campaigns/outbound-dialer.js';
import { ApiFailure, notFound } from './api-errors.js';
import type { DashboardApiDeps } from './api-deps.js';
import type { ApiRoute } from './api-route.js';
import { httpRoute } from './api-route.js';
import {
  callDetailSchema,
  callListQuerySchema,
  callListSchema,
  idParamsSchema,
  placeCallRequestSchema,
  placeCallResponseSchema,
} from './api-schemas.js';
import type { CallDetailResponse, CallList } from './api-types.js';

const TAG = 'calls';

/** How a failed dial reads over HTTP. */
const DIAL_FAILURE: Readonly<Record<DialErrorKind, { status: number; code: string }>> = {
  not_configured: { status: 503, code: 'twilio_not_configured' },
  unknown_agent: { status: 404, code: 'not_found' },
  template: { status: 400, code: 'missing_variables' },
  caller_id: { status: 400, code: 'invalid_caller_id' },
  invalid_number: { status: 400, code: 'invalid_number' },
  retry: { status: 503, code: 'twilio_rate_limited' },
  uncertain: { status: 502, code: 'twilio_unreachable' },
  auth: { status: 502, code: 'twilio_auth_failed' },
  refused: { status: 502, code: 'twilio_error' },
};

export function callRoutes(deps: DashboardApiDeps): ApiRoute[] {
  const { calls } = deps.store;
  return [
    httpRoute({
      method: 'POST',
      path: '/api/calls',
      tag: TAG,
      summary: 'Place an outbound call with an agent',
      description:
        'Twilio dials `to`; when the callee answers, the agent talks with them. The call record exists at once (status ' +
        '`dialing`) and follows Twilio’s status callbacks; `variables` fill the agent’s templates. Needs TWILIO_ACCOUNT_SID, ' +
        'TWILIO_AUTH_TOKEN and PUBLIC_URL.',
      body: placeCallRequestSchema,
      responses: {
        201: { description: 'Twilio accepted the call.', schema: placeCallResponseSchema },
        400: { description: 'Bad number, caller ID or missing template variables (`problems`).' },
        404: { description: 'No such agent.' },
        502: { description: 'Twilio refused the call or did not answer (its code and message are in `message`).' },
        503: { description: 'Outbound calling is not configured, or Twilio is rate limiting (retry later).' },
      },
      handler: async ({ body, reply }) => {
        const number = normalizePhoneNumber(body.to, body.defaultCountry ?? deps.config.outbound.defaultCountry);
        if (!number.ok) throw new ApiFailure(400, 'invalid_number', `cannot call ${JSON.stringify(body.to)}: ${number.reason}`, [`to: ${number.reason}`]);
        try {
          const dialed = await deps.dialer.dial({
            to: number.e164,
            from: body.from,
            agentId: body.agentId,
            variables: body.variables ?? {},
            machineDetection: body.machineDetection,
            record: body.record,
          });
          const call = (await calls.get(dialed.callId))?.call;
          if (!call) throw new Error(`call ${dialed.callId} vanished after it was placed`);
          return reply.code(201).send({ call });
        } catch (err) {
          if (!(err instanceof DialError)) throw err;
          const failure = DIAL_FAILURE[err.kind];
          throw new ApiFailure(failure.status, failure.code, err.message, err.details.problems, err.kind === 'retry' ? { 'retry-after': '5' } : {});
        }
      },
    }),
    httpRoute({
      method: 'GET',
      path: '/api/calls',
      tag: TAG,
      summary: 'List and search calls, newest first',
      query: callListQuerySchema,
      responses: { 200: { description: 'One page of calls.', schema: callListSchema } },
      handler: async ({ query }): Promise<CallList> => calls.list(query),
    }),
    httpRoute({
      method: 'GET',
      path: '/api/calls/:id',
      tag: TAG,
      summary: 'One call: its record, turns, tool calls and events',
      params: idParamsSchema,
      responses: { 200: { description: 'The call.', schema: callDetailSchema }, 404: { description: 'No such call.' } },
      handler: async ({ params }): Promise<CallDetailResponse> => {
        const detail = await calls.get(params.id);
        if (!detail) throw notFound('call');
        return detail;
      },
    }),
    httpRoute({
      method: 'GET',
      path: '/api/calls/:id/recording',
      tag: TAG,
      summary: 'The call’s recording (WAV, both sides)',
      description: 'Supports Range requests (206) so the browser can seek.',
      params: idParamsSchema,
      responses: {
        200: { description: 'The recording.', contentType: 'audio/wav' },
        206: { description: 'Part of the recording (Range).', contentType: 'audio/wav' },
        404: { description: 'No such call, or it has no recording.' },
      },
      handler: async ({ params, reply }) => {
        const path = await calls.recordingPath(params.id);
        if (!path) throw notFound('recording');
        // A missing file ends in the API's not-found handler, like a missing record.
        return reply
          .header('cache-control', 'private, no-cache')
          .type('audio/wav')
          .sendFile(basename(path), dirname(path), { acceptRanges: true, cacheControl: false, dotfiles: 'deny' });
      },
    }),
  ];
}
