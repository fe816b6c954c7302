// `koe engine`: only the Realtime-protocol engine (WS /v1/realtime and /healthz), for running engines as
// their own processes that bridges elsewhere connect to.
import Fastify from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import websocket from '@fastify/websocket';
import { loadConfig, loadDotEnv } from '../config/index.js';
import { selectDialogue } from '../engine/dialogue/select-dialogue.js';
import { KoeEngine } from '../engine/engine.js';
import { speechStageOptions } from '../engine/speech-stages.js';
import { createLogger } from '../log/logger.js';
import { ENGINE_PATH, registerEngineRoutes } from '../server/engine-routes.js';

export async function engineCommand(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel });
  const engine = await KoeEngine.create({
    dialogue: await selectDialogue(config.llm, log),
    log: log.child({ component: 'engine' }),
    ...speechStageOptions(config),
  });
  const app = Fastify({ loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger });
  await app.register(websocket, { options: { maxPayload: 16 * 1024 * 1024 } });
  registerEngineRoutes(app, { engine: () => Promise.resolve(engine), apiKey: config.engine.apiKey, log });
  app.get('/healthz', async () => ({ status: 'ok', sessions: engine.activeSessions, dialogue: engine.dialogueName }));
  app.addHook('onClose', () => engine.close());
  await app.listen({ port: config.port, host: config.host });
  log.info({ port: config.port, dialogue: engine.dialogueName, auth: config.engine.apiKey ? 'bearer key' : 'loopback only' }, `Koe engine listening on ws://${config.host}:${config.port}${ENGINE_PATH}`);
  const stop = (): void => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
