// The live view of calls for dashboards: every call event of this process, and (with PostgreSQL) of every
// other Koe process on the same database, fanned out to subscribers, plus a snapshot of the calls still
// running so a dashboard that connects mid-call sees what has happened so far.
//
// Across processes events travel as NOTIFY on one channel. A notification carries one event; PostgreSQL
// refuses payloads of 8,000 bytes or more, so long text is shortened (and marked) to fit. Notifications
// from one process are sent one at a time, in order, so a remote dashboard sees each call's events in the
// order they happened. A process that dies without sending call.ended leaves calls behind: remote calls
// not heard of (by an event or the owner's heartbeat) for `staleRemoteMs` are dropped from snapshots.
import type { CallEvent, CallEventListener } from '../call/call-events.js';
import type { Logger } from '../log/logger.js';
import type { Database } from '../store/store.js';

export const LIVE_CHANNEL = 'koe_live';
/** PostgreSQL's limit is 8,000 bytes; the margin covers its own framing. */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7_900;
/** Suffix of a text field shortened to fit a notification. */
export const TRUNCATION_MARK = '…[truncated]';

/** One call event and the Koe process whose call it is. */
export interface LiveEnvelope {
  processId: string;
  event: CallEvent;
}

export interface LiveCallSnapshot {
  processId: string;
  /** Oldest first; transcript.partial coalesced to the latest per item. */
  events: CallEvent[];
}

export type LiveListener = (envelope: LiveEnvelope) => void;

export interface CallEventSource {
  subscribe(listener: CallEventListener): () => void;
}

export interface LiveHubOptions {
  events: CallEventSource;
  processId: string;
  log: Logger;
  /** LISTEN/NOTIFY to follow calls on other processes; without it the hub sees this process only. */
  db?: Pick<Database, 'listen' | 'notify'> | undefined;
  /** Events kept per running call for snapshots (call.started is always kept). */
  maxEventsPerCall?: number;
  /** A remote call not heard of for this long is dropped from snapshots. */
  staleRemoteMs?: number;
  /** How often this process tells others which of its calls are still running. */
  heartbeatMs?: number;
  /** Notifications waiting to be sent before the oldest are dropped (the database is slow or down). */
  maxPendingNotifications?: number;
  nowMs?: () => number;
}

/** What travels on the channel: an event, or a heartbeat naming the sender's running calls. */
type Notification =
  | { processId: string; event: CallEvent; truncated?: true }
  | { processId: string; alive: string[] };

interface TrackedCall {
  processId: string;
  events: CallEvent[];
  /** The latest transcript.partial kept per item, to replace it when the next one comes. */
  partials: Map<string, CallEvent>;
  lastSeenMs: number;
}

interface OutgoingNotification {
  payload: string;
  /** Coalescing key for partial transcripts: a newer one replaces one not sent yet. */
  key: string | undefined;
}

const MAX_ITEMS_PER_CONTAINER = 50;
const SHORTENING_STEPS_CHARS = [1_000, 250, 60] as const;

export class LiveHub {
  readonly processId: string;
  readonly #opts: Required<Omit<LiveHubOptions, 'db' | 'events' | 'processId' | 'log'>>;
  readonly #log: Logger;
  readonly #db: Pick<Database, 'listen' | 'notify'> | undefined;
  readonly #source: CallEventSource;
  readonly #listeners = new Set<LiveListener>();
  readonly #local = new Map<string, TrackedCall>();
  readonly #remote = new Map<string, TrackedCall>();

  readonly #outbox: OutgoingNotification[] = [];
  readonly #outboxByKey = new Map<string, OutgoingNotification>();
  #sending = false;
  #idleWaiters: Array<() => void> = [];
  #droppedNotifications = 0;
  #failedNotifications = 0;

  #unsubscribeEvents: (() => void) | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: LiveHubOptions) {
    this.processId = opts.processId;
    this.#log = opts.log.child({ component: 'live' });
    this.#db = opts.db;
    this.#source = opts.events;
    this.#opts = {
      maxEventsPerCall: opts.maxEventsPerCall ?? 500,
      staleRemoteMs: opts.staleRemoteMs ?? 60_000,
      heartbeatMs: opts.heartbeatMs ?? 20_000,
      maxPendingNotifications: opts.maxPendingNotifications ?? 2_000,
      nowMs: opts.nowMs ?? Date.now,
    };
  }

  /** Starts following this process's calls and (with a database) resolves once listening to the others. */
  async start(): Promise<void> {
    if (this.#unsubscribeEvents) return;
    this.#unsubscribeEvents = this.#source.subscribe((event) => this.#onLocalEvent(event));
    if (!this.#db) return;
    this.#unlisten = await this.#db.listen(LIVE_CHANNEL, (payload) => this.#onNotification(payload));
    this.#timer = setInterval(() => this.#tick(), this.#opts.heartbeatMs);
    this.#timer.unref();
  }

  /** Every event from now on, local and remote. The listener must not throw (it is logged if it does). */
  subscribe(listener: LiveListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The calls running now, on this process and (as far as heard) on others. */
  snapshot(): LiveCallSnapshot[] {
    this.#reapStale();
    return [...this.#local.values(), ...this.#remote.values()].map((c) => ({ processId: c.processId, events: [...c.events] }));
  }

  get stats(): { localCalls: number; remoteCalls: number; pendingNotifications: number; droppedNotifications: number; failedNotifications: number } {
    return {
      localCalls: this.#local.size,
      remoteCalls: this.#remote.size,
      pendingNotifications: this.#outbox.length,
      droppedNotifications: this.#droppedNotifications,
      failedNotifications: this.#failedNotifications,
    };
  }

  /** Stops following calls; sends what is queued first (the call.ended events of a shutdown) for up to `drainMs`. */
  async close(drainMs = 2_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribeEvents?.();
    clearInterval(this.#timer);
    await this.#whenSent(drainMs);
    const unlisten = this.#unlisten;
    this.#unlisten = undefined;
    await unlisten?.().catch((err: unknown) => this.#log.warn({ err: (err as Error).message }, 'could not stop listening for live events'));
    this.#listeners.clear();
  }

  #onLocalEvent(event: CallEvent): void {
    this.#track(this.#local, this.processId, event);
    this.#fanOut({ processId: this.processId, event });
    if (this.#db && !this.#closed) {
      const payload = encodeEventNotification(this.processId, event);
      if (payload === undefined) {
        this.#log.warn({ callSid: event.callSid, type: event.type }, 'a call event is too large for a live notification even shortened; other processes miss it');
        return;
      }
      const key = event.type === 'transcript.partial' ? `${event.callId}\u0000${event.itemId}` : undefined;
      this.#enqueue({ payload, key });
    }
  }

  #onNotification(payload: string): void {
    let message: unknown;
    try {
      message = JSON.parse(payload);
    } catch {
      this.#log.warn('ignored a live notification that is not JSON');
      return;
    }
    if (!isNotification(message)) {
      this.#log.warn('ignored a live notification of unknown shape');
      return;
    }
    if (message.processId === this.processId) return; // our own, already fanned out when it happened
    if ('alive' in message) {
      const now = this.#opts.nowMs();
      for (const callId of message.alive) {
        const call = this.#remote.get(callId);
        if (call && call.processId === message.processId) call.lastSeenMs = now;
      }
      return;
    }
    this.#track(this.#remote, message.processId, message.event);
    this.#fanOut({ processId: message.processId, event: message.event });
  }

  #track(calls: Map<string, TrackedCall>, processId: string, event: CallEvent): void {
    if (event.type === 'call.ended') {
      calls.delete(event.callId);
      return;
    }
    let call = calls.get(event.callId);
    if (!call) {
      call = { processId, events: [], partials: new Map(), lastSeenMs: 0 };
      calls.set(event.callId, call);
    }
    call.lastSeenMs = this.#opts.nowMs();
    if (event.type === 'transcript.partial') {
      const previous = call.partials.get(event.itemId);
      if (previous) call.events.splice(call.events.lastIndexOf(previous), 1);
      call.partials.set(event.itemId, event);
    }
    call.events.push(event);
    if (call.events.length > this.#opts.maxEventsPerCall) {
      // The oldest event goes, except call.started: it says whose call this is.
      const at = call.events[0]?.type === 'call.started' ? 1 : 0;
      const [dropped] = call.events.splice(at, 1);
      if (dropped?.type === 'transcript.partial' && call.partials.get(dropped.itemId) === dropped) call.partials.delete(dropped.itemId);
    }
  }

  #fanOut(envelope: LiveEnvelope): void {
    for (const listener of this.#listeners) {
      try {
        listener(envelope);
      } catch (err) {
        this.#log.error({ err, type: envelope.event.type }, 'a live listener threw');
      }
    }
  }

  #tick(): void {
    this.#reapStale();
    if (this.#local.size === 0) return;
    for (const payload of encodeHeartbeats(this.processId, [...this.#local.keys()])) this.#enqueue({ payload, key: undefined });
  }

  #reapStale(): void {
    const oldest = this.#opts.nowMs() - this.#opts.staleRemoteMs;
    for (const [callId, call] of this.#remote) {
      if (call.lastSeenMs < oldest) {
        this.#remote.delete(callId);
        this.#log.info({ callId, processId: call.processId }, 'dropped a remote call not heard of for a while (its process may have stopped)');
      }
    }
  }

  #enqueue(notification: OutgoingNotification): void {
    if (notification.key !== undefined) {
      const waiting = this.#outboxByKey.get(notification.key);
      if (waiting) {
        waiting.payload = notification.payload;
        return;
      }
      this.#outboxByKey.set(notification.key, notification);
    }
    if (this.#outbox.length >= this.#opts.maxPendingNotifications) {
      const dropped = this.#outbox.shift();
      if (dropped?.key !== undefined) this.#outboxByKey.delete(dropped.key);
      this.#droppedNotifications += 1;
      if (this.#droppedNotifications === 1 || this.#droppedNotifications % 1_000 === 0) {
        this.#log.warn({ dropped: this.#droppedNotifications }, 'live notifications are backing up (database slow or down); dropping the oldest');
      }
    }
    this.#outbox.push(notification);
    if (!this.#sending) void this.#drain();
  }

  /** Sends queued notifications one by one, in order; never rejects. */
  async #drain(): Promise<void> {
    const db = this.#db;
    if (!db) return;
    this.#sending = true;
    for (let next = this.#outbox.shift(); next; next = this.#outbox.shift()) {
      if (next.key !== undefined) this.#outboxByKey.delete(next.key);
      try {
        await db.notify(LIVE_CHANNEL, next.payload);
      } catch (err) {
        this.#failedNotifications += 1;
        if (this.#failedNotifications === 1 || this.#failedNotifications % 1_000 === 0) {
          this.#log.warn({ err: (err as Error).message, failed: this.#failedNotifications }, 'could not send a live notification');
        }
      }
    }
    this.#sending = false;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  #whenSent(timeoutMs: number): Promise<void> {
    if (!this.#sending && this.#outbox.length === 0) return Promise.resolve();
    return new Promise((done) => {
      const timer = setTimeout(done, timeoutMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        done();
      });
    });
  }
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The notification for one event, shortened to fit; undefined if even the shortest form does not. */
export function encodeEventNotification(processId: string, event: CallEvent): string | undefined {
  const whole = JSON.stringify({ processId, event } satisfies Notification);
  if (byteLength(whole) < MAX_NOTIFY_PAYLOAD_BYTES) return whole;
  for (const maxChars of SHORTENING_STEPS_CHARS) {
    const shortened = JSON.stringify({ processId, event: shorten(event, maxChars) as CallEvent, truncated: true } satisfies Notification);
    if (byteLength(shortened) < MAX_NOTIFY_PAYLOAD_BYTES) return shortened;
  }
  return undefined;
}

/** Heartbeats naming `callIds`, as many notifications as it takes to stay under the size limit. */
export function encodeHeartbeats(processId: string, callIds: readonly string[]): string[] {
  const payloads: string[] = [];
  let batch: string[] = [];
  const encode = (alive: string[]): string => JSON.stringify({ processId, alive } satisfies Notification);
  for (const callId of callIds) {
    if (batch.length > 0 && byteLength(encode([...batch, callId])) >= MAX_NOTIFY_PAYLOAD_BYTES) {
      payloads.push(encode(batch));
      batch = [];
    }
    batch.push(callId);
  }
  if (batch.length > 0) payloads.push(encode(batch));
  return payloads;
}

/** A copy with every string over `maxChars` cut and marked, and long lists and maps cut too. */
function shorten(value: unknown, maxChars: number): unknown {
  if (typeof value === 'string') {
    if (value.length <= maxChars) return value;
    let cut = value.slice(0, maxChars);
    // Never leave half a surrogate pair: it would not survive UTF-8.
    if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
    return cut + TRUNCATION_MARK;
  }
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS_PER_CONTAINER).map((v) => shorten(v, maxChars));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .slice(0, MAX_ITEMS_PER_CONTAINER)
        .map(([k, v]) => [k, shorten(v, maxChars)]),
    );
  }
  return value;
}

function isNotification(value: unknown): value is Notification {
  if (typeof value !== 'object' || value === null) return false;
  const { processId, event, alive } = value as Record<string, unknown>;
  if (typeof processId !== 'string') return false;
  if (Array.isArray(alive)) return alive.every((id) => typeof id === 'string');
  if (typeof event !== 'object' || event === null) return false;
  const { type, callId, callSid } = event as Record<string, unknown>;
  return typeof type === 'string' && typeof callId === 'string' && typeof callSid === 'string';
}
