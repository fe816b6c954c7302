// Stored calls: list and search, one call with its turns, tool calls and events, and its recording.
import { basename, dirname } from 'node:path';
import { notFound } from './api-errors.js';
import type { DashboardApiDeps } from './api-deps.js';
import type { ApiRoute } from './api-route.js';
import { httpRoute } from './api-route.js';
import { callDetailSchema, callListQuerySchema, callListSchema, idParamsSchema } from './api-schemas.js';
import type { CallDetailResponse, CallList } from './api-types.js';

const TAG = 'calls';

export function callRoutes(deps: DashboardApiDeps): ApiRoute[] {
  const { calls } = deps.store;
  return [
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
