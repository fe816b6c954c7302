// Writes call events to the database without ever making a call wait.
//
// `write` turns an event into SQL operations and queues them, synchronously; one drain loop writes the
// queue in order, a batch per transaction, starting on the next turn of the event loop (a turn that just
// ended is on disk milliseconds later, which is what bounds the loss when the process is killed).
// Properties the design rests on:
//   - order: one loop, FIFO, so a call's row is written before its turns and `ended` after everything.
//   - idempotence: every operation can run twice with the same outcome (keys numbered here, upserts,
//     absolute values), so a batch whose COMMIT outcome was unknown is simply written again.
//   - no dangling rows: inserts for a call whose row is missing (dropped) do nothing instead of failing.
//   - a database that is down: the batch is retried with backoff (100 ms doubling to 5 s) forever;
//     the queue is bounded and, when full, sheds the least valuable operations first (events, usage,
//     tool calls, then turns, then call rows), counted and logged.
//   - a database that refuses an operation (bad data): that operation alone is dropped and logged.
import type { CallEvent, TokenUsage } from '../call/call-events.js';
import { addUsage, emptyUsage } from '../call/call-events.js';
import type { Logger } from '../log/logger.js';
import type { KoeMetrics } from '../metrics/metrics.js';
import type { CallEventWriter, Database } from './store.js';
import { isPermanentDatabaseError } from './database-errors.js';
import { backendName, estimateCostUsd } from './cost.js';
import { cleanText, jsonText, wholeMs } from './pg-values.js';

export type StoreMetrics = Pick<KoeMetrics, 'storeQueueDepth' | 'storeWrites' | 'storeDroppedWrites' | 'storeWriteSeconds'>;

/** What a queued operation writes, from least to most valuable: the order in which a full queue sheds. */
export type WriteKind = 'event' | 'usage' | 'tool' | 'turn' | 'call';
const SHED_ORDER: readonly WriteKind[] = ['event', 'usage', 'tool', 'turn', 'call'];
const RANK: Readonly<Record<WriteKind, number>> = { event: 0, usage: 1, tool: 2, turn: 3, call: 4 };

/** Rows kept in call_events per call; the last few are kept for the events that matter most. */
export const MAX_EVENTS_PER_CALL = 500;
const RESERVED_EVENTS = 10;
const ALWAYS_KEPT_EVENTS = new Set<CallEvent['type']>(['call.started', 'call.ended', 'call.error', 'model.error']);
/** Events the dashboard follows live but that are not worth a row: many per turn, superseded at once. */
const UNSTORED_EVENTS = new Set<CallEvent['type']>(['transcript.partial', 'agent.state']);

const MAX_TURN_TEXT_CHARS = 100_000;
const MAX_TOOL_OUTPUT_CHARS = 65_536;
const MAX_EVENT_STRING_CHARS = 4_096;
/** Ended calls whose numbering is remembered, so events arriving after the end still number right. */
const MAX_ENDED_CALLS = 5_000;
/** A guard against calls that never end (a bug upstream); far above what one process can carry. */
const MAX_ACTIVE_CALLS = 50_000;

export interface CallEventWriterOptions {
  db: Database;
  log: Logger;
  metrics: StoreMetrics;
  /** Written into each call row: which process handled it. */
  processId: string;
  /** Operations held while the database is slow or down (each event is one to three). Default 10,000. */
  queueLimit?: number;
  /** Operations per transaction. Default 200. */
  maxBatchOps?: number;
  retryFirstMs?: number;
  retryMaxMs?: number;
}

interface Op {
  index: number;
  kind: WriteKind;
  callId: string;
  sql: string;
  params: unknown[];
  state: 'queued' | 'taken' | 'dropped';
}

interface FlushWaiter {
  target: number;
  resolve: () => void;
}

interface CallState {
  backend: string;
  model: string;
  turnSeq: number;
  eventSeq: number;
  eventsOmitted: number;
  usage: TokenUsage;
  /** The queued usage update, rewritten in place while it waits: only the latest total matters. */
  pendingUsage: Op | undefined;
}

export class DatabaseCallEventWriter implements CallEventWriter {
  readonly #db: Database;
  readonly #log: Logger;
  readonly #metrics: StoreMetrics;
  readonly #processId: string;
  readonly #limit: number;
  readonly #maxBatchOps: number;
  readonly #retryFirstMs: number;
  readonly #retryMaxMs: number;
  readonly #queue = new OpQueue();
  /** Per-call numbering and usage. Active calls are never forgotten; ended ones are, oldest first. */
  readonly #activeCalls = new Map<string, CallState>();
  readonly #endedCalls = new Map<string, CallState>();
  #nextIndex = 1;
  /** Every operation with an index up to this one is written or dropped. */
  #doneThrough = 0;
  #inFlight = 0;
  #waiters: FlushWaiter[] = [];
  #drain: Promise<void> | undefined;
  #closed = false;
  /** Set when close gives up on an unreachable database: what is left is counted as lost. */
  #abandon = false;
  #wakeSleeper: (() => void) | undefined;
  #failingSinceMs: number | undefined;
  #lastFailureLogMs = 0;
  #dropsSinceLog: Partial<Record<string, number>> = {};
  #lastDropLogMs = 0;

  constructor(options: CallEventWriterOptions) {
    this.#db = options.db;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#processId = options.processId;
    this.#limit = options.queueLimit ?? 10_000;
    this.#maxBatchOps = options.maxBatchOps ?? 200;
    this.#retryFirstMs = options.retryFirstMs ?? 100;
    this.#retryMaxMs = options.retryMaxMs ?? 5_000;
    if (!(Number.isInteger(this.#limit) && this.#limit > 0)) throw new RangeError(`queueLimit must be a positive whole number, got ${this.#limit}`);
    if (!(Number.isInteger(this.#maxBatchOps) && this.#maxBatchOps > 0)) throw new RangeError(`maxBatchOps must be a positive whole number`);
  }

  get queuedWrites(): number {
    return this.#queue.live + this.#inFlight;
  }

  /** The observer: never throws, never waits. */
  write = (event: CallEvent): void => {
    try {
      this.#enqueueEvent(event);
    } catch (err) {
      this.#log.error({ err, type: event?.type, callId: event?.callId }, 'could not queue a call event for storage');
      this.#countDrop('invalid');
    }
  };

  flush(): Promise<void> {
    const target = this.#nextIndex - 1;
    if (this.#doneThrough >= target) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ target, resolve }));
  }

  /**
   * Writes what is queued, waiting at most `timeoutMs` for the database; what cannot be written by then
   * is counted as dropped (kind `shutdown`) and logged. Later writes are dropped.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    const flushed = await withTimeout(this.flush(), timeoutMs);
    if (!flushed) {
      this.#log.error(
        { queuedWrites: this.queuedWrites, timeoutMs },
        'the database did not take the remaining call events before shutdown; they are lost',
      );
      this.#abandon = true;
      this.#wakeSleeper?.();
      await withTimeout(this.#drain ?? Promise.resolve(), 2_000);
    }
    this.#closed = true;
    this.#logDrops(true);
  }

  #enqueueEvent(event: CallEvent): void {
    if (UNSTORED_EVENTS.has(event.type)) return;
    const { callId } = event;
    const state = this.#stateOf(callId);
    switch (event.type) {
      case 'call.started': {
        const { call, variables } = event;
        state.backend = backendName(call.model.url);
        state.model = call.model.model;
        this.#push('call', callId, INSERT_CALL, [
          callId,
          call.callSid,
          call.streamSid || null,
          call.accountSid || null,
          call.direction,
          call.from ?? null,
          call.to ?? null,
          call.agentId,
          call.agentVersion,
          state.backend,
          call.model.model,
          call.model.shape,
          event.at,
          call.recording,
          jsonText(variables ?? {}),
          this.#processId,
        ]);
        this.#pushEvent(state, event);
        return;
      }
      case 'turn.user':
        this.#push('turn', callId, INSERT_TURN, [
          callId,
          ++state.turnSeq,
          'user',
          event.itemId,
          null,
          event.text === null ? null : cleanText(event.text, MAX_TURN_TEXT_CHARS),
          null,
          false,
          event.source,
          wholeMs(event.startedAtMs) ?? 0,
          wholeMs(event.endedAtMs) ?? 0,
          null,
          null,
          null,
        ]);
        this.#pushEvent(state, event);
        return;
      case 'turn.assistant':
        this.#push('turn', callId, INSERT_TURN, [
          callId,
          ++state.turnSeq,
          'assistant',
          event.itemId,
          event.responseId,
          cleanText(event.text, MAX_TURN_TEXT_CHARS),
          cleanText(event.heardText, MAX_TURN_TEXT_CHARS),
          event.interrupted,
          event.greeting ? 'greeting' : 'reply',
          wholeMs(event.startedAtMs) ?? 0,
          wholeMs(event.endedAtMs) ?? 0,
          wholeMs(event.latencyMs),
          wholeMs(event.audioMs),
          wholeMs(event.heardMs),
        ]);
        this.#pushEvent(state, event);
        return;
      case 'tool.called':
        this.#push('tool', callId, INSERT_TOOL_CALL, [
          callId,
          event.toolCallId,
          event.name,
          jsonText(event.arguments ?? null, MAX_TOOL_OUTPUT_CHARS),
          wholeMs(event.atMs) ?? 0,
        ]);
        this.#pushEvent(state, event);
        return;
      case 'tool.result':
        this.#push('tool', callId, UPSERT_TOOL_RESULT, [
          callId,
          event.toolCallId,
          event.name,
          // Only used when tool.called was dropped: the call began `durationMs` before its result.
          Math.max(0, wholeMs(event.atMs - event.durationMs) ?? 0),
          event.ok,
          cleanText(event.output, MAX_TOOL_OUTPUT_CHARS),
          wholeMs(event.durationMs),
        ]);
        this.#pushEvent(state, event);
        return;
      case 'model.usage': {
        state.usage = addUsage(state.usage, event.usage);
        const params = [callId, jsonText(state.usage), estimateCostUsd(state.backend, state.model, state.usage)];
        if (state.pendingUsage?.state === 'queued') state.pendingUsage.params = params;
        else state.pendingUsage = this.#push('usage', callId, UPDATE_USAGE, params);
        this.#pushEvent(state, event);
        return;
      }
      case 'call.ended': {
        this.#callEnded(callId, state);
        this.#pushEvent(state, event);
        const usage = event.usage ?? state.usage;
        this.#push('call', callId, UPDATE_ENDED, [
          callId,
          event.reason,
          event.at,
          wholeMs(event.durationMs),
          jsonText(usage),
          estimateCostUsd(state.backend, state.model, usage),
        ]);
        return;
      }
      default:
        this.#pushEvent(state, event);
        return;
    }
  }

  #stateOf(callId: string): CallState {
    let state = this.#activeCalls.get(callId) ?? this.#endedCalls.get(callId);
    if (!state) {
      state = { backend: 'unknown', model: '', turnSeq: 0, eventSeq: 0, eventsOmitted: 0, usage: emptyUsage(), pendingUsage: undefined };
      this.#activeCalls.set(callId, state);
      if (this.#activeCalls.size > MAX_ACTIVE_CALLS) {
        const oldest = this.#activeCalls.keys().next().value!;
        this.#log.warn({ callId: oldest }, 'too many calls without call.ended; forgetting the oldest one’s numbering');
        this.#activeCalls.delete(oldest);
      }
    }
    return state;
  }

  #callEnded(callId: string, state: CallState): void {
    if (!this.#activeCalls.delete(callId)) return;
    this.#endedCalls.set(callId, state);
    if (this.#endedCalls.size > MAX_ENDED_CALLS) this.#endedCalls.delete(this.#endedCalls.keys().next().value!);
  }

  #pushEvent(state: CallState, event: CallEvent): void {
    const limit = ALWAYS_KEPT_EVENTS.has(event.type) ? MAX_EVENTS_PER_CALL : MAX_EVENTS_PER_CALL - RESERVED_EVENTS;
    if (state.eventSeq >= limit) {
      state.eventsOmitted++;
      return;
    }
    const { type, callId, callSid: _callSid, atMs, at, ...data } = event;
    const body: Record<string, unknown> = data;
    if (type === 'call.ended' && state.eventsOmitted > 0) body.eventsOmitted = state.eventsOmitted;
    this.#push('event', callId, INSERT_EVENT, [callId, ++state.eventSeq, type, wholeMs(atMs) ?? 0, at, jsonText(body, MAX_EVENT_STRING_CHARS)]);
  }

  #push(kind: WriteKind, callId: string, sql: string, params: unknown[]): Op | undefined {
    if (this.#closed || this.#abandon) {
      // After close the database is gone; queuing would only retry against it forever.
      this.#countDrop(this.#closed ? 'closed' : 'shutdown');
      return undefined;
    }
    const op: Op = { index: 0, kind, callId, sql, params, state: 'queued' };
    if (this.#queue.live >= this.#limit) {
      const victim = this.#queue.shedFor(kind);
      if (!victim) {
        this.#countDrop(kind);
        return undefined;
      }
      this.#countDrop(victim.kind);
    }
    op.index = this.#nextIndex++;
    this.#queue.push(op, this.#limit);
    this.#metrics.storeQueueDepth.set(this.queuedWrites);
    this.#startDrain();
    return op;
  }

  #startDrain(): void {
    if (this.#drain) return;
    // setImmediate, not a timer: the write starts as soon as the caller's turn of the event loop ends.
    this.#drain = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#drainLoop());
  }

  async #drainLoop(): Promise<void> {
    try {
      for (;;) {
        const batch = this.#queue.take(this.#maxBatchOps);
        if (batch.length === 0) break;
        this.#inFlight = batch.length;
        await this.#writeBatch(batch);
        this.#inFlight = 0;
        this.#doneThrough = batch[batch.length - 1]!.index;
        this.#metrics.storeQueueDepth.set(this.queuedWrites);
        this.#settleWaiters();
        // Let sockets and timers run between batches when a backlog is being written.
        if (this.#queue.live > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      this.#log.error({ err }, 'the call-event writer failed unexpectedly; queued writes are kept');
    } finally {
      this.#inFlight = 0;
      this.#drain = undefined;
      if (this.#queue.live === 0) {
        this.#doneThrough = this.#nextIndex - 1;
        this.#settleWaiters();
      } else if (!this.#abandon) {
        this.#startDrain();
      }
      this.#metrics.storeQueueDepth.set(this.queuedWrites);
    }
  }

  async #writeBatch(batch: Op[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.#abandon) {
        for (let i = 0; i < batch.length; i++) this.#countDrop('shutdown');
        return;
      }
      const startedMs = performance.now();
      try {
        await this.#db.transaction(async (tx) => {
          for (const op of batch) await tx.query(op.sql, op.params);
        });
        this.#metrics.storeWriteSeconds.observe((performance.now() - startedMs) / 1000);
        this.#metrics.storeWrites.inc({ outcome: 'written' }, batch.length);
        this.#recovered();
        return;
      } catch (err) {
        if (isPermanentDatabaseError(err)) {
          if (batch.length === 1) {
            const op = batch[0]!;
            this.#metrics.storeWrites.inc({ outcome: 'rejected' });
            this.#log.error({ err, kind: op.kind, callId: op.callId }, 'the database refused a call-event write; it is dropped');
            return;
          }
          // One operation spoils the transaction: write them one by one to find it and keep the rest.
          for (const op of batch) await this.#writeBatch([op]);
          return;
        }
        this.#metrics.storeWrites.inc({ outcome: 'retried' }, batch.length);
        this.#failed(err);
        await this.#sleep(Math.min(this.#retryMaxMs, this.#retryFirstMs * 2 ** (attempt - 1)));
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wakeSleeper = undefined;
        resolve();
      }, ms);
      this.#wakeSleeper = () => {
        clearTimeout(timer);
        this.#wakeSleeper = undefined;
        resolve();
      };
    });
  }

  #settleWaiters(): void {
    if (this.#waiters.length === 0) return;
    const still: FlushWaiter[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.target <= this.#doneThrough) waiter.resolve();
      else still.push(waiter);
    }
    this.#waiters = still;
  }

  #failed(err: unknown): void {
    const now = Date.now();
    if (this.#failingSinceMs === undefined) {
      this.#failingSinceMs = now;
      this.#lastFailureLogMs = now;
      this.#log.warn({ err, queuedWrites: this.queuedWrites }, 'database write failed; call events stay queued and are retried');
    } else if (now - this.#lastFailureLogMs >= 30_000) {
      this.#lastFailureLogMs = now;
      this.#log.warn(
        { err, queuedWrites: this.queuedWrites, failingForMs: now - this.#failingSinceMs },
        'database writes still failing; call events stay queued',
      );
    }
  }

  #recovered(): void {
    if (this.#failingSinceMs === undefined) return;
    this.#log.info({ failedForMs: Date.now() - this.#failingSinceMs }, 'database writes recovered');
    this.#failingSinceMs = undefined;
    this.#logDrops(true);
  }

  #countDrop(kind: string): void {
    this.#metrics.storeDroppedWrites.inc({ kind });
    this.#dropsSinceLog[kind] = (this.#dropsSinceLog[kind] ?? 0) + 1;
    this.#logDrops(false);
  }

  /** At most one line per 10 s while dropping, plus a last one when it stops mattering (recovery, close). */
  #logDrops(force: boolean): void {
    const now = Date.now();
    if (Object.keys(this.#dropsSinceLog).length === 0) return;
    if (!force && now - this.#lastDropLogMs < 10_000) return;
    this.#lastDropLogMs = now;
    this.#log.warn({ dropped: this.#dropsSinceLog, queueLimit: this.#limit }, 'call-event writes dropped (see koe_store_dropped_writes_total)');
    this.#dropsSinceLog = {};
  }
}

/**
 * The queue: FIFO for writing, plus a FIFO per kind to find the oldest operation of the cheapest kind
 * in O(1) when the queue is full. Shed operations stay in the main FIFO as tombstones until reached,
 * and are swept out when they pile up (a long outage under load).
 */
class OpQueue {
  #main = new Fifo<Op>();
  readonly #byKind: Record<WriteKind, Fifo<Op>> = { event: new Fifo(), usage: new Fifo(), tool: new Fifo(), turn: new Fifo(), call: new Fifo() };
  #tombstones = 0;
  live = 0;

  push(op: Op, limit: number): void {
    this.#main.push(op);
    this.#byKind[op.kind].push(op);
    this.live++;
    if (this.#tombstones > limit) {
      this.#main = this.#main.filter((o) => o.state === 'queued');
      this.#tombstones = 0;
    }
  }

  /** Up to `max` operations in order, marked taken. */
  take(max: number): Op[] {
    const batch: Op[] = [];
    while (batch.length < max) {
      const op = this.#main.shift();
      if (!op) break;
      if (op.state === 'dropped') {
        this.#tombstones--;
        continue;
      }
      // Operations leave in index order, so this one heads its kind's FIFO.
      this.#byKind[op.kind].shift();
      op.state = 'taken';
      this.live--;
      batch.push(op);
    }
    return batch;
  }

  /**
   * Makes room for an operation of `kind`: sheds and returns the oldest queued operation of the least
   * valuable kind present, unless every queued operation is worth more than the newcomer (then nothing
   * is shed and the newcomer should be dropped).
   */
  shedFor(kind: WriteKind): Op | undefined {
    for (const candidate of SHED_ORDER) {
      if (RANK[candidate] > RANK[kind]) return undefined;
      const victim = this.#byKind[candidate].shift();
      if (victim) {
        victim.state = 'dropped';
        this.live--;
        this.#tombstones++;
        return victim;
      }
    }
    return undefined;
  }
}

/** An array-backed FIFO with O(1) amortized shift. */
class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  filter(keep: (item: T) => boolean): Fifo<T> {
    const out = new Fifo<T>();
    for (let i = this.#head; i < this.#items.length; i++) if (keep(this.#items[i]!)) out.push(this.#items[i]!);
    return out;
  }
}


/** Resolves true when `promise` settles within `ms`, false otherwise; never holds the process open. */
async function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// Parameters are cast where PostgreSQL cannot infer their type (INSERT … SELECT takes no hints from
// the target columns). `WHERE EXISTS (call)` turns writes for a call whose row was shed into no-ops.
const CALL_EXISTS = 'WHERE EXISTS (SELECT 1 FROM calls WHERE id = $1::text)';

const INSERT_CALL = `
  INSERT INTO calls (id, call_sid, stream_sid, account_sid, direction, from_number, to_number, agent_id, agent_version,
                     backend, model, api_shape, status, started_at, has_recording, variables, process_id)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'active', $13::timestamptz, $14, $15::jsonb, $16)
  ON CONFLICT (id) DO UPDATE SET
    -- An outbound call's record exists from dialing; its media stream now started (on whichever process
    -- Twilio reached). Only a dialing record changes: a retried batch must not revive an ended call.
    status = 'active', call_sid = EXCLUDED.call_sid, stream_sid = EXCLUDED.stream_sid, account_sid = EXCLUDED.account_sid,
    agent_version = EXCLUDED.agent_version, backend = EXCLUDED.backend, model = EXCLUDED.model,
    api_shape = EXCLUDED.api_shape, started_at = EXCLUDED.started_at, has_recording = EXCLUDED.has_recording,
    process_id = EXCLUDED.process_id
  WHERE calls.status = 'dialing'`;

const INSERT_TURN = `
  INSERT INTO turns (call_id, seq, role, item_id, response_id, text, heard_text, interrupted, source,
                     started_at_ms, ended_at_ms, latency_ms, audio_ms, heard_ms)
  SELECT $1::text, $2::integer, $3::text, $4::text, $5::text, $6::text, $7::text, $8::boolean, $9::text,
         $10::integer, $11::integer, $12::integer, $13::integer, $14::integer
  ${CALL_EXISTS}
  ON CONFLICT (call_id, seq) DO NOTHING`;

const INSERT_TOOL_CALL = `
  INSERT INTO tool_calls (call_id, tool_call_id, name, arguments, called_at_ms)
  SELECT $1::text, $2::text, $3::text, $4::jsonb, $5::integer
  ${CALL_EXISTS}
  ON CONFLICT (call_id, tool_call_id) DO NOTHING`;

const UPSERT_TOOL_RESULT = `
  INSERT INTO tool_calls (call_id, tool_call_id, name, called_at_ms, ok, output, duration_ms)
  SELECT $1::text, $2::text, $3::text, $4::integer, $5::boolean, $6::text, $7::integer
  ${CALL_EXISTS}
  ON CONFLICT (call_id, tool_call_id) DO UPDATE SET ok = EXCLUDED.ok, output = EXCLUDED.output, duration_ms = EXCLUDED.duration_ms`;

const UPDATE_USAGE = 'UPDATE calls SET usage = $2::jsonb, cost_usd = $3::double precision WHERE id = $1';

// No status guard: a call marked abandoned while its process could not reach the database is
// corrected when that process comes back and writes the end.
const UPDATE_ENDED = `
  UPDATE calls SET status = 'ended', end_reason = $2, ended_at = $3::timestamptz, duration_ms = $4::integer,
                   usage = $5::jsonb, cost_usd = $6::double precision
  WHERE id = $1`;

const INSERT_EVENT = `
  INSERT INTO call_events (call_id, seq, type, at_ms, at, data)
  SELECT $1::text, $2::integer, $3::text, $4::integer, $5::timestamptz, $6::jsonb
  ${CALL_EXISTS}
  ON CONFLICT (call_id, seq) DO NOTHING`;
