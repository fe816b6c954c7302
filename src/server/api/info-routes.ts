// GET /api/info: what the dashboard needs to render its forms. Nothing secret: no keys, no URLs with
// credentials, no password.
import { builtinCallVariables } from '../../agents/index.js';
import type { Config } from '../../config/index.js';
import { EMBEDDED_VOICES } from '../../engine/voices.js';
import type { DashboardApiDeps } from './api-deps.js';
import type { ApiRoute } from './api-route.js';
import { httpRoute } from './api-route.js';
import { serverInfoSchema } from './api-schemas.js';
import type { ServerInfo } from './api-types.js';
import { exampleCallFacts } from './example-call.js';

/** The voices OpenAI's Realtime API documents. */
export const OPENAI_VOICES = ['alloy', 'ash', 'ballad', 'cedar', 'coral', 'echo', 'marin', 'sage', 'shimmer', 'verse'] as const;

/** `engine` (this server's), `openai`, or the host of another Realtime endpoint. */
export function backendName(realtimeUrl: string | undefined): string {
  if (!realtimeUrl) return 'engine';
  const host = new URL(realtimeUrl).hostname;
  return host === 'api.openai.com' ? 'openai' : host;
}

export function voicesFor(config: Pick<Config, 'realtime' | 'tts'>): string[] {
  if (config.realtime.url) return [...OPENAI_VOICES];
  // The engine: with Flite, OpenAI's names are mapped onto its voices and its own names work too; with a
  // speech endpoint, names pass through unless one voice is configured for every session.
  if (config.tts.kind === 'embedded') return [...OPENAI_VOICES, ...EMBEDDED_VOICES];
  return config.tts.voice ? [config.tts.voice] : [...OPENAI_VOICES];
}

export function infoRoutes(deps: DashboardApiDeps): ApiRoute[] {
  const { config } = deps;
  return [
    httpRoute({
      method: 'GET',
      path: '/api/info',
      tag: 'info',
      summary: 'Server facts the dashboard renders forms with',
      responses: { 200: { description: 'Server facts (no secrets).', schema: serverInfoSchema } },
      handler: async (): Promise<ServerInfo> => {
        const agent = deps.agents.defaultAgent;
        return {
          version: deps.version,
          processId: deps.processId,
          database: deps.store.db.kind,
          backend: backendName(config.realtime.url),
          model: config.realtime.model,
          voices: voicesFor(config),
          recordingEnabled: config.recording.enabled,
          builtinVariables: builtinCallVariables(agent, exampleCallFacts(agent)),
        };
      },
    }),
  ];
}
