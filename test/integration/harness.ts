// Boots a real Koe server on loopback against the fake Realtime service (and optionally the fake
// Twilio REST API), and places calls through the real webhook + media WebSocket path.
import type { AgentInput } from '../../src/agents/index.js';
import { AgentRegistry, defineAgent } from '../../src/agents/index.js';
import type { CallEvent, CallEventType } from '../../src/call/call-events.js';
import type { ModelConnection } from '../../src/call/model-link.js';
import { loadConfig } from '../../src/config/index.js';
import { RealtimeConnection } from '../../src/realtime/index.js';
import { createLogger } from '../../src/log/logger.js';
import type { KoeServer } from '../../src/server/app.js';
import { buildServer } from '../../src/server/app.js';
import type { AgentCatalog } from '../../src/store/agent-catalog.js';
import type { Store } from '../../src/store/store.js';
import { parseStreamTwiml } from '../../src/simulate/place-call.js';
import { computeSignature } from '../../src/twilio/index.js';
import type { FakeRealtimeServer, FakeRealtimeServerOptions } from '../fakes/fake-realtime-server.js';
import { startFakeRealtimeServer } from '../fakes/fake-realtime-server.js';
import type { FakeTwilioCallOptions } from '../fakes/fake-twilio-media.js';
import { FakeTwilioCall, fakeSid } from '../fakes/fake-twilio-media.js';
import type { FakeTwilioRest } from '../fakes/fake-twilio-rest.js';
import { startFakeTwilioRest } from '../fakes/fake-twilio-rest.js';
import type { FakeTwilioNetwork, FakeTwilioNetworkOptions } from '../fakes/fake-twilio-network.js';
import { startFakeTwilioNetwork } from '../fakes/fake-twilio-network.js';
import { freePort } from '../support/free-port.js';
import type { KoeServerOptions } from '../../src/server/app.js';

export const TEST_ACCOUNT_SID = `AC${'1'.repeat(32)}`;
export const TEST_AUTH_TOKEN = 'test-auth-token-0123456789abcdef';
/** A short, recognisable "apology": 400 ms of a 1 kHz-ish pattern, so tests can find it in played audio. */
export const TEST_APOLOGY_CLIP = Buffer.from(Array.from({ length: 3200 }, (_, i) => (i % 8 < 4 ? 0x20 : 0xa0)));

export interface HarnessOptions {
  agents?: AgentInput[];
  realtime?: FakeRealtimeServerOptions;
  env?: Record<string, string>;
  /** Start the fake Twilio REST API and configure Koe with credentials for it. */
  twilioRest?: boolean;
  /** Record calls into this folder (KOE_RECORD_CALLS, KOE_RECORDINGS_DIR). */
  recordingDir?: string;
  /** Store calls here and serve the dashboard API (the caller closes it after the harness). */
  store?: Store;
  /** Agent edits; its registry replaces the harness's own agents. */
  catalog?: AgentCatalog;
  processId?: string;
  /**
   * Start the fake Twilio network (REST API + what Twilio does after a call is created) and configure Koe
   * for outbound calls against it: credentials, its API base URL, and PUBLIC_URL = Koe's own address.
   */
  twilioNetwork?: Omit<FakeTwilioNetworkOptions, 'accountSid' | 'authToken'>;
  dispatcherTimings?: KoeServerOptions['dispatcherTimings'];
  /** Wraps the model connector (e.g. to delay connecting). */
  wrapConnect?: (connect: (signal: AbortSignal) => Promise<ModelConnection>) => (signal: AbortSignal) => Promise<ModelConnection>;
}

export const DEFAULT_TEST_AGENT: AgentInput = {
  id: 'tester',
  name: 'Test agent',
  instructions: 'You are a test agent for {{companyName}}.',
  variables: { companyName: 'Koe Test' },
  tools: ['hang_up', 'send_dtmf'],
  dtmfDebounceMs: 300,
};

export class Harness {
  readonly events: CallEvent[] = [];
  #waiters: Array<() => void> = [];

  private constructor(
    readonly koe: KoeServer,
    readonly realtime: FakeRealtimeServer,
    readonly rest: FakeTwilioRest | undefined,
    readonly network: FakeTwilioNetwork | undefined,
    readonly baseUrl: string,
    readonly authToken: string | undefined,
    /** PUBLIC_URL when configured: what Twilio would sign webhooks against. */
    readonly publicUrl: string | undefined,
  ) {
    koe.hub.subscribe((event) => {
      this.events.push(event);
      for (const wake of this.#waiters) wake();
    });
  }

  static async start(opts: HarnessOptions = {}): Promise<Harness> {
    const realtime = await startFakeRealtimeServer(opts.realtime ?? {});
    const network = opts.twilioNetwork
      ? await startFakeTwilioNetwork({ ...opts.twilioNetwork, accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN })
      : undefined;
    const rest = network?.rest ?? (opts.twilioRest ? await startFakeTwilioRest({ accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN }) : undefined);
    // Twilio must know Koe's address before Koe listens (PUBLIC_URL): pick the port first.
    const port = network ? await freePort() : 0;
    const env: Record<string, string> = {
      PORT: String(port),
      HOST: '127.0.0.1',
      REALTIME_URL: realtime.url,
      REALTIME_CONNECT_TIMEOUT_MS: '1500',
      LOG_LEVEL: process.env.KOE_TEST_LOG ?? 'silent',
      ...(opts.recordingDir ? { KOE_RECORD_CALLS: 'true', KOE_RECORDINGS_DIR: opts.recordingDir } : {}),
      ...(rest ? { TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID, TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN, TWILIO_API_BASE_URL: rest.baseUrl } : {}),
      ...(network ? { PUBLIC_URL: `http://127.0.0.1:${port}`, TWILIO_CALLER_ID: '+15550001000' } : {}),
      ...opts.env,
    };
    const config = loadConfig(env);
    const log = createLogger({ level: config.logLevel });
    const agents = opts.catalog?.registry ?? new AgentRegistry((opts.agents ?? [DEFAULT_TEST_AGENT]).map((a) => defineAgent(a)));
    const realConnect = (signal: AbortSignal) =>
      RealtimeConnection.connect({ url: realtime.url, shape: config.realtime.shape, model: config.realtime.model, connectTimeoutMs: config.realtime.connectTimeoutMs, signal });
    const koe = await buildServer({
      config,
      log,
      agents,
      apologyClip: TEST_APOLOGY_CLIP,
      ...(opts.store ? { store: opts.store } : {}),
      ...(opts.catalog ? { catalog: opts.catalog } : {}),
      ...(opts.processId ? { processId: opts.processId } : {}),
      ...(opts.wrapConnect ? { connectModel: opts.wrapConnect(realConnect) } : {}),
      ...(opts.dispatcherTimings ? { dispatcherTimings: opts.dispatcherTimings } : {}),
    });
    await koe.app.listen({ port, host: '127.0.0.1' });
    const address = koe.app.server.address();
    const listening = typeof address === 'object' && address ? address.port : 0;
    return new Harness(koe, realtime, rest, network, `http://127.0.0.1:${listening}`, config.twilio.authToken, config.publicUrl);
  }

  get streamUrl(): string {
    return `${this.baseUrl.replace(/^http/, 'ws')}/twilio/stream`;
  }

  /** POSTs the voice webhook like Twilio (signed when an auth token is configured). */
  async voiceWebhook(params: Record<string, string>, opts: { signature?: string; url?: string } = {}): Promise<Response> {
    const url = opts.url ?? `${this.publicUrl ?? this.baseUrl}/twilio/voice`;
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    const signature = opts.signature ?? (this.authToken ? computeSignature(this.authToken, url, params) : undefined);
    if (signature !== undefined) headers['x-twilio-signature'] = signature;
    return fetch(`${this.baseUrl}/twilio/voice`, { method: 'POST', headers, body: new URLSearchParams(params) });
  }

  /** Places an inbound call: webhook → TwiML → media stream with the stream's parameters. */
  async call(opts: { from?: string; to?: string; callSid?: string; stream?: Partial<FakeTwilioCallOptions> } = {}): Promise<FakeTwilioCall> {
    const callSid = opts.callSid ?? fakeSid('CA');
    const params = { CallSid: callSid, AccountSid: TEST_ACCOUNT_SID, From: opts.from ?? '+15550001111', To: opts.to ?? '+15550002222', CallStatus: 'ringing', Direction: 'inbound', ApiVersion: '2010-04-01' };
    this.rest?.addInboundCall({ from: params.From, to: params.To, sid: callSid });
    const response = await this.voiceWebhook(params);
    if (response.status !== 200) throw new Error(`voice webhook answered ${response.status}`);
    const twiml = await response.text();
    const { url, parameters } = parseStreamTwiml(twiml);
    // Twilio connects to the URL in the TwiML; behind PUBLIC_URL that host is a proxy in front of us.
    return FakeTwilioCall.connect({
      url: this.publicUrl ? this.streamUrl : url,
      callSid,
      accountSid: TEST_ACCOUNT_SID,
      customParameters: parameters,
      ...(this.authToken ? { signWith: { authToken: this.authToken, url } } : {}),
      ...opts.stream,
    });
  }

  /** Resolves with the first event (seen already or still to come) of `type` matching `where`. */
  async waitForEvent<T extends CallEventType>(
    type: T,
    where: (event: Extract<CallEvent, { type: T }>) => boolean = () => true,
    timeoutMs = 4000,
  ): Promise<Extract<CallEvent, { type: T }>> {
    const find = () => this.events.find((e): e is Extract<CallEvent, { type: T }> => e.type === type && where(e as Extract<CallEvent, { type: T }>));
    const found = find();
    if (found) return found;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for call event ${type}; saw ${this.events.map((e) => e.type).join(', ')}`));
      }, timeoutMs);
      const check = (): void => {
        const event = find();
        if (!event) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve(event);
      };
      this.#waiters.push(check);
    });
  }

  eventsOf<T extends CallEventType>(type: T): Array<Extract<CallEvent, { type: T }>> {
    return this.events.filter((e): e is Extract<CallEvent, { type: T }> => e.type === type);
  }

  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = await this.koe.metrics.registry.getSingleMetric(name)?.get();
    if (!metric) return 0;
    return metric.values
      .filter((v) => Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val))
      .reduce((sum, v) => sum + v.value, 0);
  }

  async close(): Promise<void> {
    await this.koe.app.close();
    await this.realtime.close();
    if (this.network) await this.network.close();
    else await this.rest?.close();
  }
}

// Koe's <Connect><Stream> answer, read the way the simulator reads it (one parser for tests and tools).
export { parseStreamTwiml } from '../../src/simulate/place-call.js';

/** μ-law "speech" for the fake VAD: a loud 300 Hz-ish square-ish tone. */
export function speechLike(ms: number): Buffer {
  const out = Buffer.alloc(ms * 8);
  for (let i = 0; i < out.length; i += 1) out[i] = Math.floor(i / 13) % 2 === 0 ? 0x10 : 0x90;
  return out;
}

export function silence(ms: number): Buffer {
  return Buffer.alloc(ms * 8, 0xff);
}
