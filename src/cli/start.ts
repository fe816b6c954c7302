// `koe start`: load configuration and agents, start the server, shut down cleanly on SIGINT/SIGTERM.
import { resolve } from 'node:path';
import { loadAgentsFile } from '../agents/index.js';
import { loadConfig, loadDotEnv } from '../config/index.js';
import { createLogger } from '../log/logger.js';
import { buildServer } from '../server/app.js';

export async function startCommand(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel });
  const agents = loadAgentsFile(resolve(config.agentsFile), config.defaultAgentId);
  const server = await buildServer({ config, log, agents, collectProcessMetrics: true });

  if (!config.twilio.authToken) {
    log.warn('TWILIO_AUTH_TOKEN is not set: Twilio routes accept loopback clients only (local development)');
  }
  if (config.streamSecretIsEphemeral) {
    log.info('KOE_STREAM_SECRET is not set: stream tokens are valid on this process only');
  }
  await server.app.listen({ port: config.port, host: config.host });
  const backend = config.realtime.url ? new URL(config.realtime.url).host : 'built-in engine';
  log.info(
    { port: config.port, agents: agents.list().map((a) => a.id), backend, model: config.realtime.model, shape: config.realtime.shape },
    `Koe is listening on port ${config.port}`,
  );
  if (config.publicUrl) log.info(`Twilio voice webhook: ${config.publicUrl}/twilio/voice`);
  if (!config.realtime.url) {
    // Calls use the built-in engine: load its models now so the first caller does not wait for them.
    server.engine().catch((err: unknown) => log.error({ err: (err as Error).message }, 'the built-in engine cannot start; calls will hear the apology until this is fixed'));
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: ending active calls');
    server.app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
