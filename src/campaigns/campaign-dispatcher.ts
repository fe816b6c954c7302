// Dials running campaigns. Every Koe process may run one dispatcher on the same database: contacts are
// claimed under a lease (SKIP LOCKED), each claim reserves the campaign's next calls-per-second slots
// on the campaign row, so the rate and the concurrency cap hold across processes, and a process that
// dies leaves only leases that expire.
import type { Logger } from '../log/logger.js';
import type { CampaignRepository, ClaimedContact } from '../store/campaign-store.js';
import { DialError, type OutboundDialer } from './outbound-dialer.js';

export interface CampaignDispatcherOptions {
  campaigns: CampaignRepository;
  dialer: OutboundDialer;
  processId: string;
  log: Logger;
  /** How long a claimed contact stays with this process before others may take it back. */
  leaseMs: number;
  /** How often running campaigns are checked for due contacts. Default 200 ms. */
  tickMs?: number;
  /** CPS slots are reserved at most this far ahead. Default 1 s. */
  lookaheadMs?: number;
  /** At most this many contacts per claim. Default 100. */
  maxBatch?: number;
  /** Expired leases, lost status callbacks and finished campaigns are looked at this often. Default 2 s. */
  housekeepingMs?: number;
  /** A contact whose call's stream ended this long ago with no final status callback is settled. Default 2 min. */
  endedGraceMs?: number;
  /** A contact whose call Twilio never reported on this long after its ring timeout is settled as failed. Default 10 min. */
  silentAfterMs?: number;
}

/** Twilio's 429 backoff: doubling from 1 s up to 60 s, with jitter, per campaign. */
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;

export class CampaignDispatcher {
  readonly #opts: Required<Omit<CampaignDispatcherOptions, 'campaigns' | 'dialer' | 'processId' | 'log'>> &
    Pick<CampaignDispatcherOptions, 'campaigns' | 'dialer' | 'processId' | 'log'>;
  readonly #log: Logger;
  /** Contacts claimed and waiting for their CPS slot, by call id. */
  readonly #scheduled = new Map<string, { contact: ClaimedContact; timer: NodeJS.Timeout }>();
  readonly #dialing = new Set<Promise<void>>();
  /** Campaigns held back after Twilio said 429, until this time, with the count of 429s in a row. */
  readonly #backoff = new Map<string, { untilMs: number; strikes: number }>();
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  /** Housekeeping runs beside the claims (never holding them back) and one at a time. */
  #housekeepingRun: Promise<void> | undefined;
  #lastHousekeepingMs = 0;
  #closed = false;
  #lastTickError = '';

  constructor(opts: CampaignDispatcherOptions) {
    this.#opts = {
      tickMs: 200,
      lookaheadMs: 1_000,
      maxBatch: 100,
      housekeepingMs: 2_000,
      endedGraceMs: 120_000,
      silentAfterMs: 600_000,
      ...opts,
    };
    this.#log = opts.log.child({ component: 'campaigns' });
  }

  start(): void {
    if (this.#timer || this.#closed) return;
    const loop = (): void => {
      if (this.#closed) return;
      this.#ticking = this.tick().finally(() => {
        this.#ticking = undefined;
        if (!this.#closed) this.#timer = setTimeout(loop, this.#opts.tickMs);
      });
    };
    this.#timer = setTimeout(loop, 0);
  }

  /**
   * One round: claims for every running campaign, and housekeeping when due — started beside the claims,
   * not before them, so a slow housekeeping transaction cannot delay the claims past the CPS slots they
   * reserve (lookaheadMs). Never throws.
   */
  async tick(): Promise<void> {
    const now = Date.now();
    if (!this.#housekeepingRun && now - this.#lastHousekeepingMs >= this.#opts.housekeepingMs) {
      this.#lastHousekeepingMs = now;
      this.#housekeepingRun = this.#housekeeping()
        .catch((err: unknown) => this.#tickFailed(err))
        .finally(() => (this.#housekeepingRun = undefined));
    }
    try {
      for (const campaignId of await this.#opts.campaigns.runningIds()) {
        if (this.#closed) return;
        const held = this.#backoff.get(campaignId);
        if (held && held.untilMs > Date.now()) continue;
        await this.#claim(campaignId);
      }
      this.#lastTickError = '';
    } catch (err) {
      this.#tickFailed(err);
    }
  }

  /** The database is down or slow: the next tick tries again; say so once, not every 200 ms. */
  #tickFailed(err: unknown): void {
    const message = (err as Error).message;
    if (message !== this.#lastTickError) this.#log.warn({ err: message }, 'campaign dispatch failed; retrying');
    this.#lastTickError = message;
  }

  /** Stops claiming, hands back contacts not dialed yet, and waits for calls being placed. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#ticking;
    await this.#housekeepingRun;
    const waiting = [...this.#scheduled.values()];
    this.#scheduled.clear();
    for (const { contact, timer } of waiting) {
      clearTimeout(timer);
      await this.#opts.campaigns.release(contact, 0).catch(() => undefined);
    }
    await Promise.allSettled([...this.#dialing]);
  }

  async #housekeeping(): Promise<void> {
    const { released, adopted } = await this.#opts.campaigns.recoverLeases();
    if (released > 0 || adopted > 0) this.#log.info({ released, adopted }, 'recovered expired campaign leases');
    const settled = await this.#opts.campaigns.reconcile({ endedGraceMs: this.#opts.endedGraceMs, silentAfterMs: this.#opts.silentAfterMs });
    if (settled > 0) this.#log.warn({ settled }, 'settled campaign contacts whose final status callback never came');
    for (const id of await this.#opts.campaigns.finishCompleted()) this.#log.info({ campaignId: id }, 'campaign completed');
  }

  async #claim(campaignId: string): Promise<void> {
    const missing = this.#opts.dialer.missingSettings();
    if (missing.length > 0) {
      const reason = `outbound calls need ${missing.join(' and ')}`;
      await this.#opts.campaigns.pauseFor(campaignId, reason);
      this.#log.error({ campaignId }, `campaign paused: ${reason}`);
      return;
    }
    const claimed = await this.#opts.campaigns.claim(campaignId, {
      processId: this.#opts.processId,
      maxBatch: this.#opts.maxBatch,
      leaseMs: this.#opts.leaseMs,
      lookaheadMs: this.#opts.lookaheadMs,
    });
    for (const contact of claimed) {
      const timer = setTimeout(() => {
        this.#scheduled.delete(contact.callId);
        const dialing = this.#dial(contact).finally(() => this.#dialing.delete(dialing));
        this.#dialing.add(dialing);
      }, contact.delayMs);
      this.#scheduled.set(contact.callId, { contact, timer });
    }
  }

  async #dial(contact: ClaimedContact): Promise<void> {
    const { campaigns, dialer } = this.#opts;
    const log = this.#log.child({ campaignId: contact.campaignId, contactId: contact.contactId, callId: contact.callId });
    try {
      // The campaign may have been paused, or this process stalled past its lease, since the claim.
      if (!(await campaigns.confirmClaim(contact, this.#opts.processId, this.#opts.leaseMs))) return;
      await dialer.dial({
        callId: contact.callId,
        to: contact.phone,
        from: contact.from,
        agentId: contact.agentId,
        variables: contact.variables,
        machineDetection: contact.machineDetection,
        ringTimeoutSec: contact.ringTimeoutSec,
        campaign: { campaignId: contact.campaignId, contactId: contact.contactId, attempt: contact.attempt },
      });
      this.#backoff.delete(contact.campaignId);
      await campaigns.markCalling(contact);
    } catch (err) {
      await this.#onDialFailed(contact, err, log).catch((e: unknown) =>
        log.error({ err: (e as Error).message }, 'could not record a failed dial; the lease will release the contact'),
      );
    }
  }

  async #onDialFailed(contact: ClaimedContact, err: unknown, log: Logger): Promise<void> {
    const { campaigns } = this.#opts;
    if (!(err instanceof DialError)) {
      // The database failed around the dial; the lease releases the contact if the call was not placed.
      log.warn({ err: (err as Error).message }, 'dial failed unexpectedly');
      return;
    }
    switch (err.kind) {
      case 'retry': {
        const strikes = (this.#backoff.get(contact.campaignId)?.strikes ?? 0) + 1;
        const delayMs = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (strikes - 1)) * (0.5 + Math.random() / 2);
        this.#backoff.set(contact.campaignId, { untilMs: Date.now() + delayMs, strikes });
        await campaigns.release(contact, delayMs, err.message);
        log.warn({ delayMs: Math.round(delayMs), strikes }, 'Twilio is rate limiting (429); backing off');
        return;
      }
      case 'uncertain':
        // The call may exist: the contact stays claimed until its lease expires, then Twilio's status
        // callbacks (if any) decide whether it is adopted or called again.
        log.warn({ err: err.message }, 'no clear answer from Twilio; waiting for its status callbacks');
        return;
      case 'invalid_number':
      case 'refused':
      case 'template':
        await campaigns.failAttempt(contact, err.message, false);
        return;
      case 'caller_id':
      case 'auth':
      case 'not_configured':
      case 'unknown_agent': {
        await campaigns.release(contact, 0, err.message);
        const reason =
          err.kind === 'auth'
            ? `Twilio refused the credentials (${err.message}); check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, then resume`
            : err.kind === 'caller_id'
              ? `Twilio refused the caller ID (${err.message}); fix the campaign's caller ID, then resume`
              : `${err.message}; fix it, then resume`;
        await campaigns.pauseFor(contact.campaignId, reason);
        log.error(`campaign paused: ${reason}`);
        return;
      }
    }
  }
}
