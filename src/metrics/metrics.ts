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
  /** Call-event writes waiting for the database (queued + in flight). */
  readonly storeQueueDepth: Gauge;
  readonly storeWrites: Counter<'outcome'>;
  readonly storeDroppedWrites: Counter<'kind'>;
  readonly storeWriteSeconds: Histogram;
  /** Outbound calls Koe asked Twilio to place, by result (placed, or why not). */
  readonly outboundDials: Counter<'result'>;
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
    storeQueueDepth: new Gauge({ name: 'koe_store_queue_depth', help: 'Call-event writes waiting for the database', registers }),
    storeWrites: new Counter({
      name: 'koe_store_writes_total',
      help: 'Call-event writes: written, retried (a failed attempt, retried later) or rejected (refused by the database, dropped)',
      labelNames: ['outcome'],
      registers,
    }),
    storeDroppedWrites: new Counter({
      name: 'koe_store_dropped_writes_total',
      help: 'Call-event writes dropped, by kind: event, usage, tool, turn, call (queue full, shed in that order), shutdown (database still down at close), closed (written after close), invalid',
      labelNames: ['kind'],
      registers,
    }),
    outboundDials: new Counter({
      name: 'koe_outbound_dials_total',
      help: 'Outbound calls Koe asked Twilio to place: placed, or retry (429), uncertain (no answer / 5xx), invalid_number, caller_id, auth, refused, not_configured, unknown_agent, template',
      labelNames: ['result'],
      registers,
    }),
    storeWriteSeconds: new Histogram({
      name: 'koe_store_write_seconds',
      help: 'Time to write one batch of call events in one transaction, seconds',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
  };
}
