// Where a campaign's time goes, without touching src/: the bench wraps the repository methods of an
// in-process Koe's store (the dispatcher, the dialer and the Twilio routes call them through the same
// objects, so they go through the wrappers) and the database's query/transaction, and records how long
// each took. For every dispatched call it also keeps a timeline: the CPS slot the claim gave it, when its
// timer fired (confirmClaim), the call record insert, Twilio's create request (between the insert and
// setDialed), and markCalling.
import { performance } from 'node:perf_hooks';
import type { KoeStore } from '../src/store/index.js';
import { percentile } from './engine-stats.js';

/** Wall-clock ms, the clock of the fake Twilio's `created` times. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export interface CallTimeline {
  to: string;
  /** Claim resolved + the contact's delayMs: when the dispatcher meant to dial. */
  slotAtMs: number;
  confirmStartMs?: number;
  confirmEndMs?: number;
  insertStartMs?: number;
  insertEndMs?: number;
  dialedStartMs?: number;
  dialedEndMs?: number;
  markStartMs?: number;
  markEndMs?: number;
}

export interface OpFigures {
  n: number;
  failed: number;
  totalMs: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function opFigures(durations: readonly number[], failed = 0): OpFigures {
  const totalMs = durations.reduce((sum, d) => sum + d, 0);
  return {
    n: durations.length,
    failed,
    totalMs,
    meanMs: durations.length ? totalMs / durations.length : Number.NaN,
    p50Ms: percentile(durations, 50),
    p95Ms: percentile(durations, 95),
    p99Ms: percentile(durations, 99),
    maxMs: durations.length ? Math.max(...durations) : Number.NaN,
  };
}

export class StoreTimings {
  /** Durations (ms) by operation: `campaigns.claim`, `outbound.applyStatus`, `db.query` … */
  readonly durations = new Map<string, number[]>();
  readonly failures = new Map<string, number>();
  /** Contacts per claim that returned any. */
  readonly claimBatches: number[] = [];
  /** Claims that returned nothing (no slot free, nothing due). */
  emptyClaims = 0;
  /** Wall-clock ms each non-empty claim resolved. */
  readonly claimAtMs: number[] = [];
  /** Wall-clock ms each dispatcher tick began (its runningIds query). */
  readonly tickAtMs: number[] = [];
  /** Wall-clock ms each status callback settled a campaign contact (its outcome or retry stored). */
  readonly settledAtMs: number[] = [];
  readonly calls = new Map<string, CallTimeline>();

  /** Forget everything recorded so far (between phases on the same store). */
  clear(): void {
    this.durations.clear();
    this.failures.clear();
    this.claimBatches.length = 0;
    this.claimAtMs.length = 0;
    this.tickAtMs.length = 0;
    this.settledAtMs.length = 0;
    this.emptyClaims = 0;
    this.calls.clear();
  }

  figures(): Record<string, OpFigures> {
    const out: Record<string, OpFigures> = {};
    for (const [name, list] of [...this.durations].sort((a, b) => a[0].localeCompare(b[0]))) out[name] = opFigures(list, this.failures.get(name) ?? 0);
    return out;
  }

  #record(name: string, ms: number, failed: boolean): void {
    let list = this.durations.get(name);
    if (!list) this.durations.set(name, (list = []));
    list.push(ms);
    if (failed) this.failures.set(name, (this.failures.get(name) ?? 0) + 1);
  }

  /** `fn` timed under `name`; `after` sees the arguments and result of each call that succeeded. */
  timed<A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>, after?: (startMs: number, endMs: number, args: A, result: R) => void): (...args: A) => Promise<R> {
    return async (...args: A): Promise<R> => {
      const startMs = wallNow();
      let result: R;
      try {
        result = await fn(...args);
      } catch (err) {
        this.#record(name, wallNow() - startMs, true);
        throw err;
      }
      const endMs = wallNow();
      this.#record(name, endMs - startMs, false);
      after?.(startMs, endMs, args, result);
      return result;
    };
  }

  #timeline(callId: string): CallTimeline | undefined {
    return this.calls.get(callId);
  }

  /** Wraps the store's repositories and database; returns this. Call before the dispatcher runs. */
  instrument(store: KoeStore): this {
    const { campaigns, outbound, db } = store;
    campaigns.create = this.timed('campaigns.create', campaigns.create.bind(campaigns));
    campaigns.get = this.timed('campaigns.get', campaigns.get.bind(campaigns));
    campaigns.act = this.timed('campaigns.act', campaigns.act.bind(campaigns));
    campaigns.runningIds = this.timed('campaigns.runningIds', campaigns.runningIds.bind(campaigns), (start) => this.tickAtMs.push(start));
    campaigns.claim = this.timed('campaigns.claim', campaigns.claim.bind(campaigns), (_start, end, _args, claimed) => {
      if (claimed.length === 0) {
        this.emptyClaims += 1;
        return;
      }
      this.claimBatches.push(claimed.length);
      this.claimAtMs.push(end);
      for (const c of claimed) this.calls.set(c.callId, { to: c.phone, slotAtMs: end + c.delayMs });
    });
    campaigns.confirmClaim = this.timed('campaigns.confirmClaim', campaigns.confirmClaim.bind(campaigns), (start, end, [contact]) => {
      const t = this.#timeline(contact.callId);
      if (t) Object.assign(t, { confirmStartMs: start, confirmEndMs: end });
    });
    campaigns.markCalling = this.timed('campaigns.markCalling', campaigns.markCalling.bind(campaigns), (start, end, [contact]) => {
      const t = this.#timeline(contact.callId);
      if (t) Object.assign(t, { markStartMs: start, markEndMs: end });
    });
    campaigns.release = this.timed('campaigns.release', campaigns.release.bind(campaigns));
    campaigns.failAttempt = this.timed('campaigns.failAttempt', campaigns.failAttempt.bind(campaigns));
    campaigns.recoverLeases = this.timed('campaigns.recoverLeases', campaigns.recoverLeases.bind(campaigns));
    campaigns.reconcile = this.timed('campaigns.reconcile', campaigns.reconcile.bind(campaigns));
    campaigns.finishCompleted = this.timed('campaigns.finishCompleted', campaigns.finishCompleted.bind(campaigns));

    outbound.createDialing = this.timed('outbound.createDialing', outbound.createDialing.bind(outbound), (start, end, [call]) => {
      const t = this.#timeline(call.id);
      if (t) Object.assign(t, { insertStartMs: start, insertEndMs: end });
    });
    outbound.setDialed = this.timed('outbound.setDialed', outbound.setDialed.bind(outbound), (start, end, [id]) => {
      const t = this.#timeline(id);
      if (t) Object.assign(t, { dialedStartMs: start, dialedEndMs: end });
    });
    outbound.setDialFailed = this.timed('outbound.setDialFailed', outbound.setDialFailed.bind(outbound));
    outbound.applyStatus = this.timed('outbound.applyStatus', outbound.applyStatus.bind(outbound), (_start, end, _args, result) => {
      if (result.contactOutcome) this.settledAtMs.push(end);
    });

    // Every round trip to the database: single statements, and transactions (their statements inside are not counted apart).
    const query = db.query.bind(db);
    db.query = <Row>(sql: string, params?: readonly unknown[]) => this.timed('db.query', (s: string, p?: readonly unknown[]) => query<Row>(s, p))(sql, params);
    db.transaction = this.timed('db.transaction', db.transaction.bind(db)) as typeof db.transaction;
    return this;
  }
}
