// The Koe HTTP server: Twilio routes and media WebSocket, health and metrics, and (with a store) the
// dashboard: its API, live WebSocket, softphone and static files.
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import formbody from '@fastify/formbody';
import websocket from '@fastify/websocket';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { AgentRegistry } from '../agents/index.js';
import { loadApologyClip } from '../audio/index.js';
import { CallEventHub, callLogObserver } from '../call/call-event-hub.js';
import type { CallSession } from '../call/call-session.js';
import type { ModelConnection } from '../call/model-link.js';
import type { CallServices } from '../call/twilio-stream-handler.js';
import { CampaignDispatcher } from '../campaigns/campaign-dispatcher.js';
import { OutboundDialer } from '../campaigns/outbound-dialer.js';
import type { Config } from '../config/index.js';
import { LiveHub } from '../live/live-hub.js';
import type { Logger } from '../log/logger.js';
import { createMetrics } from '../metrics/metrics.js';
import type { KoeMetrics } from '../metrics/metrics.js';
import { RealtimeConnection } from '../realtime/index.js';
import type { AgentCatalog } from '../store/agent-catalog.js';
import type { Store } from '../store/store.js';
import type { CallControl } from '../twilio/index.js';
import { createTwilioCallControl, DEFAULT_REST_TIMEOUT_MS } from '../twilio/index.js';
import { selectDialogue } from '../engine/dialogue/select-dialogue.js';
import { KoeEngine } from '../engine/engine.js';
import { speechStageOptions } from '../engine/speech-stages.js';
import { registerDashboardApi, registerDisabledApi } from './api/dashboard-api.js';
import { PasswordHash, resolveAdminPassword } from './auth/admin-password.js';
import { LoginRateLimiter } from './auth/login-rate-limiter.js';
import { LoginSessions } from './auth/login-sessions.js';
import { ENGINE_PATH, registerEngineRoutes } from './engine-routes.js';
import { packageVersion } from './package-root.js';
import { registerStaticDashboard } from './static-dashboard.js';
import { registerTwilioRoutes } from './twilio-routes.js';

/**
 * Largest WebSocket message accepted before the socket is closed (1009). The Realtime protocol allows
 * 15 MiB appends; Twilio sends ~300 bytes and its handler drops anything over 64 KiB on its own.
 */
const MAX_WS_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface KoeServer {
  app: FastifyInstance;
  hub: CallEventHub;
  metrics: KoeMetrics;
  activeCalls: Map<string, CallSession>;
  /** Live call events for dashboards (this process's, and other processes' through the store's database). */
  live: LiveHub;
  /** Names this process in stored calls and live events. */
  processId: string;
  /** The realtime URL calls connect to (resolved once the server listens, for the built-in engine). */
  realtimeUrl(): string;
  /** Starts the built-in engine (speech models and dialogue) if it is not running yet. */
  engine(): Promise<KoeEngine>;
  /** Places outbound calls (with a store). */
  dialer: OutboundDialer | undefined;
  /** Dials running campaigns once the server is ready (with a store and KOE_CAMPAIGN_DISPATCH). */
  dispatcher: CampaignDispatcher | undefined;
}

export interface KoeServerOptions {
  config: Config;
  log: Logger;
  agents: AgentRegistry;
  /** Overrides for tests and embedding. */
  callControl?: CallControl;
  connectModel?: (signal: AbortSignal) => Promise<ModelConnection>;
  apologyClip?: Uint8Array;
  collectProcessMetrics?: boolean;
  /** Metrics shared with parts built before the server (the store). */
  metrics?: KoeMetrics;
  /** Builds the engine instead of the configured one (tests). */
  createEngine?: () => Promise<KoeEngine>;
  /**
   * Calls are stored, the dashboard (API, live view, softphone) is served, and live events cross processes.
   * The caller owns it: close it after the server.
   */
  store?: Store;
  /** Agent edits from the dashboard; its registry must be `agents`. Without it agents are read-only. */
  catalog?: AgentCatalog;
  /** Default: `<hostname>-<pid>-<random>`, unique per run. */
  processId?: string;
  /** Campaign dispatch timings (tests). */
  dispatcherTimings?: { tickMs?: number; housekeepingMs?: number; endedGraceMs?: number; silentAfterMs?: number };
}

export async function buildServer(opts: KoeServerOptions): Promise<KoeServer> {
  const { config, log } = opts;
  const metrics = opts.metrics ?? createMetrics({ collectProcessMetrics: opts.collectProcessMetrics ?? false });
  const processId = opts.processId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const { store } = opts;
  if (opts.catalog && opts.catalog.registry !== opts.agents) {
    throw new TypeError('buildServer: pass the catalog\'s registry as `agents`, or calls would not follow agent edits');
  }
  const hub = new CallEventHub(log);
  hub.subscribe(callLogObserver(log));
  const activeCalls = new Map<string, CallSession>();

  const app = Fastify({
    loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger,
    // Per-request access logs would drown call logs; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.trustProxy,
    bodyLimit: 256 * 1024,
  });
  await app.register(formbody);
  await app.register(websocket, { options: { maxPayload: MAX_WS_MESSAGE_BYTES } });

  const realtimeUrl = (): string => {
    if (config.realtime.url) return config.realtime.url;
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    return `ws://127.0.0.1:${port}${ENGINE_PATH}`;
  };

  const callControl =
    opts.callControl ??
    (config.twilio.accountSid && config.twilio.authToken
      ? createTwilioCallControl({
          accountSid: config.twilio.accountSid,
          authToken: config.twilio.authToken,
          ...(config.twilio.apiBaseUrl ? { apiBaseUrl: config.twilio.apiBaseUrl } : {}),
          // A call request must end well inside its campaign contact's lease, or another process could take
          // the contact back and dial it while Twilio is still placing the first call.
          timeoutMs: Math.min(DEFAULT_REST_TIMEOUT_MS, Math.floor(config.outbound.leaseMs / 2)),
        })
      : undefined);

  // The built-in engine starts on first use (or at boot, see start.ts) and is shared by every session.
  let enginePromise: Promise<KoeEngine> | undefined;
  const engine = (): Promise<KoeEngine> => {
    enginePromise ??= (
      opts.createEngine ??
      (async () =>
        KoeEngine.create({
          dialogue: await selectDialogue(config.llm, log),
          log: log.child({ component: 'engine' }),
          ...speechStageOptions(config),
        }))
    )().catch((err: unknown) => {
      // Let a later connection try again (e.g. after the missing package was installed).
      enginePromise = undefined;
      throw err;
    });
    return enginePromise;
  };
  registerEngineRoutes(app, { engine, apiKey: config.engine.apiKey, log });

  const modelApiKey = config.realtime.url ? config.realtime.apiKey : config.engine.apiKey;
  const connectModel =
    opts.connectModel ??
    ((signal: AbortSignal) =>
      RealtimeConnection.connect({
        url: realtimeUrl(),
        shape: config.realtime.shape,
        model: config.realtime.model,
        connectTimeoutMs: config.realtime.connectTimeoutMs,
        signal,
        ...(modelApiKey ? { apiKey: modelApiKey } : {}),
      }));

  const callServices: CallServices = {
    agents: opts.agents,
    streamSecret: config.streamSecret,
    connectModel,
    get modelDescription() {
      const url = new URL(realtimeUrl());
      return { url: `${url.protocol}//${url.host}${url.pathname}`, model: config.realtime.model, shape: config.realtime.shape };
    },
    callControl,
    apologyClip: opts.apologyClip ?? loadApologyClip(),
    settings: {
      handshakeTimeoutMs: config.realtime.connectTimeoutMs,
      transcriptionModel: config.realtime.transcriptionModel,
      toolTimeoutMs: config.toolTimeoutMs,
      maxCallDurationMs: config.maxCallDurationMs,
    },
    log,
    metrics,
    onEvent: hub.publish,
    activeCalls,
    newCallId: () => randomUUID(),
    // Every call with KOE_RECORD_CALLS; otherwise only calls placed with `record`.
    recording: { dir: config.recording.dir, all: config.recording.enabled },
  };

  registerTwilioRoutes(app, {
    config,
    agents: opts.agents,
    log,
    metrics,
    callServices,
    ...(store ? { outbound: store.outbound } : {}),
  });

  const dialer = store
    ? new OutboundDialer({
        outbound: store.outbound,
        agents: opts.agents,
        callControl,
        publicUrl: config.publicUrl,
        callerId: config.twilio.callerId,
        processId,
        model: () => callServices.modelDescription,
        newCallId: () => randomUUID(),
        log: log.child({ component: 'outbound' }),
        metrics,
      })
    : undefined;
  const dispatcher =
    store && dialer && config.outbound.dispatchCampaigns
      ? new CampaignDispatcher({ campaigns: store.campaigns, dialer, processId, log, leaseMs: config.outbound.leaseMs, ...opts.dispatcherTimings })
      : undefined;
  if (dispatcher) app.addHook('onReady', async () => dispatcher.start());

  // Hashed before anything starts listening, so a bad password file fails the start with nothing left open.
  const password = store
    ? await PasswordHash.of(await resolveAdminPassword({ configured: config.dashboard.adminPassword, dataDir: config.store.dataDir, log }))
    : undefined;
  if (store) hub.subscribe((event) => store.writer.write(event));
  // PGlite is one process's own database: nobody else could LISTEN, so only PostgreSQL carries live events.
  const live = new LiveHub({ events: hub, processId, log, db: store?.db.kind === 'postgres' ? store.db : undefined });
  await live.start();
  if (store && password && dialer) {
    await registerDashboardApi(app, {
      dialer,
      config,
      log: log.child({ component: 'api' }),
      store,
      catalog: opts.catalog,
      agents: opts.agents,
      live,
      callServices,
      processId,
      password,
      sessions: new LoginSessions(store.loginSessions, config.dashboard.sessionTtlMs),
      loginLimiter: new LoginRateLimiter(),
      version: packageVersion(),
    });
  } else {
    await registerDisabledApi(app);
  }
  await registerStaticDashboard(app);

  app.get('/healthz', async () => ({ status: 'ok', activeCalls: activeCalls.size }));
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  app.addHook('onClose', async () => {
    // No new calls from campaigns while the running ones end.
    await dispatcher?.close();
    for (const session of [...activeCalls.values()]) session.end('server_shutdown');
    // After the calls ended: their call.ended events still reach dashboards on other processes.
    await live.close();
    const running = enginePromise;
    enginePromise = undefined;
    if (running) await running.then((e) => e.close(), () => undefined);
  });

  return { app, hub, metrics, activeCalls, live, processId, realtimeUrl, engine, dialer, dispatcher };
}
