// `koe start`: load configuration, open the store (embedded PGlite or PostgreSQL), sync agents.yaml into it,
// start the server, shut down cleanly on SIGINT/SIGTERM (calls ended, queued writes flushed).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { loadAgentsFile } from '../agents/index.js';
import { loadConfig, loadDotEnv } from '../config/index.js';
import { createLogger } from '../log/logger.js';
import { createMetrics } from '../metrics/metrics.js';
import { buildServer } from '../server/app.js';
import { AgentCatalog } from '../store/agent-catalog.js';
import { openStore } from '../store/index.js';

export async function startCommand(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const log = createLogger({ level: config.logLevel });
  const fileAgents = loadAgentsFile(resolve(config.agentsFile), config.defaultAgentId);
  // Unique per run: the store tells this process's calls from those of a process that died.
  const processId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const metrics = createMetrics({ collectProcessMetrics: true });
  const store = await openStore({
    ...(config.store.databaseUrl ? { databaseUrl: config.store.databaseUrl } : {}),
    dataDir: join(config.store.dataDir, 'pglite'),
    recordingsDir: config.recording.dir,
    processId,
    log: log.child({ component: 'store' }),
    metrics,
    queueLimit: config.store.queueLimit,
  });
  const catalog = await AgentCatalog.open({
    store,
    fileAgents,
    agentsFile: resolve(config.agentsFile),
    log: log.child({ component: 'agents' }),
  });
  const server = await buildServer({ config, log, agents: catalog.registry, catalog, store, processId, metrics });

  if (!config.twilio.authToken) {
    log.warn('TWILIO_AUTH_TOKEN is not set: Twilio routes accept loopback clients only (local development)');
  }
  if (config.streamSecretIsEphemeral) {
    log.info('KOE_STREAM_SECRET is not set: stream tokens are valid on this process only');
  }
  await server.app.listen({ port: config.port, host: config.host });
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const backend = config.realtime.url ? new URL(config.realtime.url).host : 'built-in engine';
  log.info(
    {
      port,
      agents: catalog.registry.list().map((a) => a.id),
      backend,
      model: config.realtime.model,
      shape: config.realtime.shape,
      database: store.db.kind,
      processId,
    },
    `Koe is listening on port ${port}`,
  );
  log.info(`Dashboard: http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}/`);
  if (config.publicUrl) log.info(`Twilio voice webhook: ${config.publicUrl}/twilio/voice`);
  const outboundMissing = server.dialer?.missingSettings() ?? [];
  if (outboundMissing.length > 0) log.info(`Outbound calls and campaigns need ${outboundMissing.join(' and ')}`);
  else if (!server.dispatcher) log.info('KOE_CAMPAIGN_DISPATCH=false: this process places calls from the API but dials no campaigns');
  if (!config.realtime.url) {
    // Calls use the built-in engine: load its models now so the first caller does not wait for them.
    server.engine().catch((err: unknown) => log.error({ err: (err as Error).message }, 'the built-in engine cannot start; calls will hear the apology until this is fixed'));
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: ending active calls');
    const shutdown = async (): Promise<void> => {
      await server.app.close();
      await catalog.close();
      await store.close();
    };
    shutdown().then(
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
