// WS /api/live: a snapshot of the running calls, then every call event as it happens (this process and,
// with PostgreSQL, every other Koe process on the database).
import type { WebSocket } from 'ws';
import type { DashboardApiDeps } from './api-deps.js';
import type { ApiRoute } from './api-route.js';
import { webSocketRoute } from './api-route.js';
import { liveMessageSchema } from './api-schemas.js';
import type { LiveMessage } from './api-types.js';

/** A dashboard this far behind (a stalled tab, a slow link) is disconnected; it reconnects to a fresh snapshot. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const OPEN = 1;

export function liveRoutes(deps: DashboardApiDeps): ApiRoute[] {
  const { live, log } = deps;
  return [
    webSocketRoute({
      path: '/api/live',
      tag: 'live',
      summary: 'Live call events',
      description: 'Messages are LiveMessage JSON: one `snapshot` of the calls running now, then one `event` per call event. Messages from the browser are ignored.',
      responses: { 101: { description: 'Switching to the WebSocket protocol; messages follow LiveMessage.', schema: liveMessageSchema } },
      handler: (socket: WebSocket) => {
        const send = (message: LiveMessage): void => {
          if (socket.readyState !== OPEN) return;
          if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
            log.warn({ bufferedBytes: socket.bufferedAmount }, 'a live dashboard is not keeping up; disconnecting it');
            socket.close(1013, 'too slow: reconnect');
            return;
          }
          socket.send(JSON.stringify(message));
        };
        // Snapshot and subscription in one turn of the event loop: no event falls between them.
        send({ type: 'snapshot', calls: live.snapshot() });
        const unsubscribe = live.subscribe(({ processId, event }) => send({ type: 'event', processId, event }));
        socket.on('close', unsubscribe);
        socket.on('error', (err) => log.debug({ err: err.message }, 'live socket error'));
      },
    }),
  ];
}
