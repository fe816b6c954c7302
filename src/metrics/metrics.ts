// Prometheus metrics for one Koe server. A registry per server instance (not prom-client's global one)
// so tests can run several servers in one process without name clashes.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type BadInputSource = 'twilio' | 'model';

export interface KoeMetrics {
  readonly registry: Registry;
  readonly callsStarted: Counter<'direction'>;
  readonly callsEnded: Counter<'reason'>;
  readonly callsActive: Gauge;
  readonly badInput: Counter<'source' | 'kind'>;
  readonly bargeIns: Counter;
  readonly toolCalls: Counter<'tool' | 'outcome'>;
  readonly modelConnectFailures: Counter<'retryable'>;
  readonly turnLatencyMs: Histogram;
  readonly rejectedStreams: Counter<'reason'>;
  readonly rejectedWebhooks: Counter<'reason'>;
}

export function createMetrics(opts: { collectProcessMetrics?: boolean } = {}): KoeMetrics {
  const registry = new Registry();
  if (opts.collectProcessMetrics) collectDefaultMetrics({ register: registry, prefix: 'koe_' });
  const registers = [registry];
  return {
    registry,
    callsStarted: new Counter({ name: 'koe_calls_started_total', help: 'Calls whose media stream was accepted', labelNames: ['direction'], registers }),
    callsEnded: new Counter({ name: 'koe_calls_ended_total', help: 'Calls ended, by reason', labelNames: ['reason'], registers }),
    callsActive: new Gauge({ name: 'koe_calls_active', help: 'Calls with a live media stream', registers }),
    badInput: new Counter({ name: 'koe_bad_input_total', help: 'Malformed or unexpected messages received and dropped', labelNames: ['source', 'kind'], registers }),
    bargeIns: new Counter({ name: 'koe_barge_ins_total', help: 'Times the caller interrupted audible agent speech', registers }),
    toolCalls: new Counter({ name: 'koe_tool_calls_total', help: 'Tool calls made by the model', labelNames: ['tool', 'outcome'], registers }),
    modelConnectFailures: new Counter({ name: 'koe_model_connect_failures_total', help: 'Failed connections to the realtime model', labelNames: ['retryable'], registers }),
    turnLatencyMs: new Histogram({
      name: 'koe_turn_latency_ms',
      help: 'Caller speech end to first agent audio sent, milliseconds',
      buckets: [100, 200, 300, 400, 500, 700, 1000, 1500, 2000, 3000, 5000],
      registers,
    }),
    rejectedStreams: new Counter({ name: 'koe_rejected_streams_total', help: 'Media stream connections refused', labelNames: ['reason'], registers }),
    rejectedWebhooks: new Counter({ name: 'koe_rejected_webhooks_total', help: 'Twilio webhooks refused', labelNames: ['reason'], registers }),
  };
}
