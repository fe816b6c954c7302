// The dashboard's built files (dist/web, from `npm run build`) at `/`, with the single-page app's fallback:
// any other GET outside the server's own paths gets index.html, so a reload on /calls/123 works.
// Hashed assets are cached for a year; index.html is revalidated every time so a new build shows at once.
import { stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PACKAGE_ROOT } from './package-root.js';

export const DASHBOARD_DIR = join(PACKAGE_ROOT, 'dist', 'web');
/** Paths the server answers itself; never the dashboard's, even when nothing there matched. */
const SERVER_PATHS = ['/api', '/twilio', '/v1', '/healthz', '/metrics'];
const IMMUTABLE = 'public, max-age=31536000, immutable';

const NOT_BUILT_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Koe: dashboard not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>The Koe dashboard is not built</h1>
<p>Koe is running (calls, <code>/twilio</code>, <code>/api</code>, <code>/healthz</code> all work), but the dashboard's files
are missing from <code>dist/web</code>. Build them with:</p>
<pre>npm run build</pre>
<p>then reload this page.</p>
</body></html>
`;

function isServerPath(path: string): boolean {
  return SERVER_PATHS.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export async function registerStaticDashboard(app: FastifyInstance, opts: { dir?: string } = {}): Promise<void> {
  const root = resolve(opts.dir ?? DASHBOARD_DIR);
  const send = (reply: FastifyReply, file: string, cacheControl: string): FastifyReply =>
    reply.header('cache-control', cacheControl).sendFile(file, root, { cacheControl: false, dotfiles: 'deny' });

  // Its own context: @fastify/static's reply.sendFile stays out of the other routes' way.
  await app.register(async (web) => {
    await web.register(fastifyStatic, { serve: false });
    const notForUpgrades = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      // A WebSocket to a path nobody serves is refused (404), not upgraded and dropped.
      if (request.ws) await reply.callNotFound();
    };
    web.get('/*', { onRequest: notForUpgrades }, async (request, reply) => {
      let path: string;
      try {
        path = decodeURIComponent(request.url.split('?', 1)[0] ?? '/');
      } catch {
        return reply.callNotFound();
      }
      if (isServerPath(path)) return reply.callNotFound();
      // Looked up on every request, so running `npm run build` while Koe runs is enough.
      if (!(await isFile(join(root, 'index.html')))) return reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT_HTML);
      const file = resolve(root, `.${path}`);
      if (file.startsWith(root + sep) && (await isFile(file))) {
        const relative = file.slice(root.length + 1);
        return send(reply, relative, relative.startsWith(`assets${sep}`) ? IMMUTABLE : 'no-cache');
      }
      return send(reply, 'index.html', 'no-cache');
    });
  });
}
