// A load balancer for multi-process tests: one public port, TCP connections handed round-robin to the
// live backends. A backend that refuses the connection (its process died) is skipped and the next one
// tried, as a health-checking balancer would; the client only sees a refusal when every backend refuses.
// It forwards bytes only, so Twilio's signatures (over PUBLIC_URL) and WebSocket upgrades pass unchanged.
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface RoundRobinProxy {
  readonly port: number;
  readonly url: string;
  /** The backend ports, tried in turn; set once the processes behind it know their ports. */
  backends: number[];
  /** Connections handed to each backend port, with the wall-clock ms each was made (performance.timeOrigin + performance.now()). */
  readonly routed: Array<{ port: number; atMs: number }>;
  close(): Promise<void>;
}

export async function startRoundRobinProxy(port: number): Promise<RoundRobinProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  let next = 0;

  const proxy: RoundRobinProxy = {
    port,
    url: `http://127.0.0.1:${port}`,
    backends: [],
    routed: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };

  /** Connects to the first backend, from the round-robin position on, that accepts; undefined when none does. */
  const connectUpstream = async (): Promise<{ socket: Socket; port: number } | undefined> => {
    const order = proxy.backends.map((_, k) => proxy.backends[(next + k) % proxy.backends.length] as number);
    next = (next + 1) % Math.max(1, proxy.backends.length);
    for (const backend of order) {
      const socket = await new Promise<Socket | undefined>((resolve) => {
        const attempt = connect({ port: backend, host: '127.0.0.1' });
        attempt.once('connect', () => {
          attempt.removeAllListeners('error');
          resolve(attempt);
        });
        attempt.once('error', () => {
          attempt.destroy();
          resolve(undefined);
        });
      });
      if (socket) return { socket, port: backend };
    }
    return undefined;
  };

  const server = createServer((client) => {
    track(client);
    client.pause();
    client.on('error', () => client.destroy());
    void connectUpstream().then((upstream) => {
      if (!upstream || client.destroyed) {
        upstream?.socket.destroy();
        client.destroy();
        return;
      }
      const { socket } = upstream;
      track(socket);
      proxy.routed.push({ port: upstream.port, atMs: performance.timeOrigin + performance.now() });
      socket.on('error', () => client.destroy());
      client.on('error', () => socket.destroy());
      socket.once('close', () => client.destroy());
      client.once('close', () => socket.destroy());
      client.pipe(socket);
      socket.pipe(client);
      client.resume();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return proxy;
}
