// The dashboard build: `npx vite build --config web/vite.config.ts` writes dist/web, which Koe serves at `/`.
// `npx vite --config web/vite.config.ts` runs a dev server that forwards the API to a Koe on port 5050.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
/** The Koe server the dev server forwards to (override for a Koe on another port). */
const koe = process.env.KOE_DEV_PROXY_TARGET ?? 'http://127.0.0.1:5050';

export default defineConfig({
  root,
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
  },
  server: {
    proxy: {
      '/api': { target: koe, ws: true },
      '/twilio': { target: koe, ws: true },
      '/v1': { target: koe, ws: true },
      '/healthz': { target: koe },
    },
  },
});
