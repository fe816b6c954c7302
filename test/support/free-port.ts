// A loopback port nobody listens on right now, for servers whose address must be known before they
// start (Koe's PUBLIC_URL, which the fake Twilio calls back). The OS hands out ports round-robin, so
// the port is very unlikely to be taken again before the server binds it.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
