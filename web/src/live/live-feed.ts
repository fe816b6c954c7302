// WS /api/live: a snapshot of every active call, then each call event as it happens. Reconnects with
// capped exponential backoff and jitter; each (re)connection starts from a fresh snapshot, so nothing
// missed while away is lost. Calls that end stay listed for a while so their transcript does not vanish.
import { apiRequest, reportUnauthorized } from '../api/api-client.js';
import type { CallEvent, LiveMessage, SessionStatus } from '../api/types.js';
import { sameOriginWebSocketUrl } from '../api/websocket-url.js';
import { emptyCallState, reduceCallEvent, replayCallEvents } from './call-state.js';
import type { CallState } from './call-state.js';

export type LiveConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'stopped';

export interface LiveConnection {
  status: LiveConnectionStatus;
  /** Failed attempts since the last good connection. */
  failures: number;
  /** When the next attempt starts (epoch ms), while reconnecting. */
  retryAt: number | null;
}

export interface LiveSnapshot {
  connection: LiveConnection;
  /** By callId, in the order calls were first seen. */
  calls: ReadonlyMap<string, CallState>;
}

const LIVE_PATH = '/api/live';
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15_000;
const KEEP_ENDED_CALLS = 20;

export function backoffMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1));
  // Full jitter above a floor of half the step, so many dashboards do not reconnect in lockstep.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class LiveFeed {
  #snapshot: LiveSnapshot = { connection: { status: 'stopped', failures: 0, retryAt: null }, calls: new Map() };
  readonly #listeners = new Set<() => void>();
  #socket: WebSocket | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #running = false;
  #notifyQueued = false;

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  getSnapshot = (): LiveSnapshot => this.#snapshot;

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#connect();
  }

  stop(): void {
    this.#running = false;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    const socket = this.#socket;
    this.#socket = null;
    socket?.close(1000, 'dashboard closed');
    this.#set({ connection: { status: 'stopped', failures: 0, retryAt: null }, calls: new Map() });
  }

  /** Connects now instead of waiting for the backoff timer. */
  retryNow(): void {
    if (!this.#running || this.#socket) return;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#connect();
  }

  #connect(): void {
    const failures = this.#snapshot.connection.failures;
    this.#setConnection({ status: failures === 0 ? 'connecting' : 'reconnecting', failures, retryAt: null });
    let socket: WebSocket;
    try {
      socket = new WebSocket(sameOriginWebSocketUrl(LIVE_PATH));
    } catch {
      this.#scheduleRetry(false);
      return;
    }
    this.#socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
    };
    socket.onmessage = (message: MessageEvent) => {
      if (this.#socket !== socket || typeof message.data !== 'string') return;
      let parsed: LiveMessage;
      try {
        parsed = JSON.parse(message.data) as LiveMessage;
      } catch {
        return;
      }
      this.#onMessage(parsed);
    };
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      if (this.#running) this.#scheduleRetry(opened);
    };
  }

  #scheduleRetry(hadOpened: boolean): void {
    // A connection that delivered its snapshot counts as good: start the backoff over.
    const failures = this.#snapshot.connection.status === 'open' ? 1 : this.#snapshot.connection.failures + 1;
    const delayMs = backoffMs(failures);
    this.#setConnection({ status: 'reconnecting', failures, retryAt: Date.now() + delayMs });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#running) this.#connect();
    }, delayMs);
    // A refused upgrade looks like any other close: ask whether the session is still valid.
    if (!hadOpened) void this.#checkSession();
  }

  async #checkSession(): Promise<void> {
    try {
      const status = await apiRequest<SessionStatus>('/api/auth/session');
      if (!status.authenticated) reportUnauthorized();
    } catch {
      // Offline or server down: keep retrying the socket.
    }
  }

  #onMessage(message: LiveMessage): void {
    if (message.type === 'snapshot') {
      const calls = new Map<string, CallState>();
      for (const snapshot of message.calls) {
        const state = replayCallEvents(snapshot.events, snapshot.processId);
        if (state) calls.set(state.callId, state);
      }
      // Calls that were live before the gap and are not any more ended while we were away.
      const ended = [...this.#snapshot.calls.values()]
        .filter((call) => !calls.has(call.callId))
        .map((call) => (call.ended ? call : { ...call, agentState: 'ended' as const, ended: { reason: null, durationMs: null } }));
      const merged = new Map<string, CallState>();
      for (const call of keepRecent(ended)) merged.set(call.callId, call);
      for (const [id, call] of calls) merged.set(id, call);
      this.#snapshot = { connection: { status: 'open', failures: 0, retryAt: null }, calls: merged };
      this.#notify();
      return;
    }
    if (message.type === 'event') this.#apply(message.event, message.processId);
  }

  #apply(event: CallEvent, processId: string): void {
    const calls = new Map(this.#snapshot.calls);
    const previous = calls.get(event.callId) ?? emptyCallState(event, processId);
    calls.set(event.callId, reduceCallEvent(previous, event));
    this.#snapshot = { ...this.#snapshot, calls: event.type === 'call.ended' ? trimEnded(calls) : calls };
    this.#notify();
  }

  #setConnection(connection: LiveConnection): void {
    this.#set({ ...this.#snapshot, connection });
  }

  #set(snapshot: LiveSnapshot): void {
    this.#snapshot = snapshot;
    this.#notify();
  }

  // Events arrive in bursts (one per audio chunk's transcript delta): render once per burst.
  #notify(): void {
    if (this.#notifyQueued) return;
    this.#notifyQueued = true;
    queueMicrotask(() => {
      this.#notifyQueued = false;
      for (const listener of this.#listeners) listener();
    });
  }
}

function keepRecent(ended: CallState[]): CallState[] {
  return ended.slice(-KEEP_ENDED_CALLS);
}

function trimEnded(calls: Map<string, CallState>): Map<string, CallState> {
  const ended = [...calls.values()].filter((call) => call.ended);
  for (const call of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED_CALLS))) calls.delete(call.callId);
  return calls;
}
