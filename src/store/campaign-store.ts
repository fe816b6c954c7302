// Campaigns and their contacts in the database: creation with the imported contacts, status changes,
// progress, and the dispatch primitives several Koe processes share safely — contacts claimed with
// FOR UPDATE SKIP LOCKED under a lease, calls-per-second slots reserved on the campaign row, expired
// leases released, finished calls settled into outcomes and retries.
import { randomUUID } from 'node:crypto';
import type {
  CallingWindow,
  CampaignCounts,
  CampaignRecord,
  CampaignSettings,
  CampaignStatus,
  ContactAttempt,
  ContactListQuery,
  ContactOutcome,
  ContactRecord,
  ContactState,
  ImportReport,
  Page,
} from './records.js';
import type { Database } from './store.js';

export const CONTACT_OUTCOMES: readonly ContactOutcome[] = ['answered', 'voicemail', 'busy', 'no-answer', 'failed', 'canceled'];
const MAX_CONTACT_PAGE_SIZE = 200;
const INSERT_BATCH_ROWS = 5_000;

export interface NewContact {
  line: number;
  phone: string;
  timezone: string | null;
  variables: Record<string, string>;
}

export type CampaignAction = 'start' | 'pause' | 'resume' | 'cancel';

/** A status change the campaign's current status does not allow (HTTP 409). */
export class CampaignStateError extends Error {
  constructor(
    readonly campaignId: string,
    readonly status: CampaignStatus,
    readonly action: CampaignAction,
  ) {
    super(`campaign ${campaignId} is ${status}; it cannot ${action}`);
    this.name = 'CampaignStateError';
  }
}

/** A contact claimed for dialing by this process, with the moment its calls-per-second slot opens. */
export interface ClaimedContact {
  campaignId: string;
  contactId: number;
  phone: string;
  variables: Record<string, string>;
  /** 1 for the first call to this contact. */
  attempt: number;
  /** The call record id to use for this attempt. */
  callId: string;
  /** Wait this long (from when claim() resolved) before dialing: the campaign's CPS slot. */
  delayMs: number;
  agentId: string;
  from: string;
  machineDetection: boolean;
  ringTimeoutSec: number;
}

export interface ClaimOptions {
  processId: string;
  /** At most this many contacts per claim. */
  maxBatch: number;
  /** How long the claim holds before another process may take the contact back. */
  leaseMs: number;
  /** Reserve CPS slots at most this far ahead. */
  lookaheadMs: number;
}

export interface LeaseRecovery {
  /** Leases expired with no sign Twilio has the call: contacts back to pending. */
  released: number;
  /** Leases expired but Twilio reported on the call: contacts now `calling`. */
  adopted: number;
}

export interface CampaignRepository {
  create(settings: CampaignSettings, contacts: readonly NewContact[], report: ImportReport): Promise<CampaignRecord>;
  list(): Promise<CampaignRecord[]>;
  get(id: string): Promise<CampaignRecord | undefined>;
  /** A person's start / pause / resume / cancel; throws CampaignStateError when not allowed. */
  act(id: string, action: CampaignAction): Promise<CampaignRecord>;
  /** Koe pauses a running campaign for a reason people must act on (credentials refused …). */
  pauseFor(id: string, reason: string): Promise<void>;
  contacts(id: string, query: ContactListQuery): Promise<Page<ContactRecord>>;
  /** Every contact in line order, in pages (for the CSV export). */
  exportContacts(id: string, onPage: (rows: ExportedContact[]) => Promise<void> | void): Promise<void>;
  runningIds(): Promise<string[]>;
  claim(campaignId: string, options: ClaimOptions): Promise<ClaimedContact[]>;
  /**
   * Right before dialing: true when the contact is still this process's claim and its campaign still runs
   * (the lease is renewed). A contact of a paused or canceled campaign goes back to pending; one whose lease
   * expired and was taken by another process is left alone — never dialed twice.
   */
  confirmClaim(contact: Pick<ClaimedContact, 'campaignId' | 'contactId' | 'callId'>, processId: string, leaseMs: number): Promise<boolean>;
  /** Twilio accepted the call: the contact is `calling` until its final status callback. */
  markCalling(contact: Pick<ClaimedContact, 'campaignId' | 'contactId' | 'callId' | 'attempt'>): Promise<void>;
  /** The call was not placed and may be tried again (429, missing lease …) after `delayMs`; no attempt counted. */
  release(contact: Pick<ClaimedContact, 'campaignId' | 'contactId' | 'callId'>, delayMs: number, error?: string): Promise<void>;
  /** The call attempt failed for good or retries as its policy says (Twilio refused the number …). */
  failAttempt(contact: Pick<ClaimedContact, 'campaignId' | 'contactId' | 'callId' | 'attempt'>, error: string, retry: boolean): Promise<void>;
  recoverLeases(): Promise<LeaseRecovery>;
  /**
   * Settles contacts whose status callback never came: the call's stream ended minutes ago, or Twilio
   * never reported on it long after its ring timeout. Returns how many were settled.
   */
  reconcile(options: { endedGraceMs: number; silentAfterMs: number }): Promise<number>;
  /** Running campaigns with no contact left to call become `completed`; returns their ids. */
  finishCompleted(): Promise<string[]>;
}

export interface ExportedContact {
  line: number;
  phone: string;
  state: ContactState;
  outcome: ContactOutcome | null;
  attempts: number;
  lastCallId: string | null;
  lastTwilioStatus: string | null;
  answeredBy: string | null;
  lastError: string | null;
  variables: Record<string, string>;
}

/** Transitions a person may ask for: from → to. */
const TRANSITIONS: Readonly<Record<CampaignAction, { from: readonly CampaignStatus[]; to: CampaignStatus }>> = {
  start: { from: ['draft'], to: 'running' },
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  cancel: { from: ['draft', 'running', 'paused'], to: 'canceled' },
};

interface CampaignRow {
  id: string;
  name: string;
  agent_id: string;
  from_number: string;
  status: CampaignStatus;
  status_reason: string | null;
  calls_per_second: number;
  max_concurrent: number;
  window_start_min: number;
  window_end_min: number;
  window_days: number[];
  default_timezone: string;
  max_attempts: number;
  retry_delay_ms: number;
  retry_on: string[];
  machine_detection: boolean;
  ring_timeout_sec: number;
  import_report: ImportReport;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

const CAMPAIGN_COLUMNS = `id, name, agent_id, from_number, status, status_reason, calls_per_second, max_concurrent, window_start_min,
  window_end_min, window_days, default_timezone, max_attempts, retry_delay_ms, retry_on, machine_detection, ring_timeout_sec,
  import_report, created_at, started_at, finished_at`;

/** `HH:MM` → minutes after midnight (24:00 → 1440). */
export function windowMinutes(hhmm: string): number {
  const match = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(hhmm);
  if (!match) throw new RangeError(`calling-window times are HH:MM, got ${JSON.stringify(hhmm)}`);
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  if (minutes > 1440) throw new RangeError(`calling-window times end at 24:00, got ${hhmm}`);
  return minutes;
}

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function toWindow(row: CampaignRow): CallingWindow {
  return { start: hhmm(row.window_start_min), end: hhmm(row.window_end_min), days: [...row.window_days].map(Number) };
}

function emptyCounts(): CampaignCounts {
  const outcomes = Object.fromEntries(CONTACT_OUTCOMES.map((o) => [o, 0])) as Record<ContactOutcome, number>;
  return { total: 0, pending: 0, inFlight: 0, done: 0, outcomes, attempts: 0 };
}

function toCampaignRecord(row: CampaignRow, counts: CampaignCounts): CampaignRecord {
  return {
    id: row.id,
    name: row.name,
    agentId: row.agent_id,
    from: row.from_number,
    status: row.status,
    statusReason: row.status_reason,
    callsPerSecond: Number(row.calls_per_second),
    maxConcurrent: row.max_concurrent,
    window: toWindow(row),
    timezone: row.default_timezone,
    retry: { maxAttempts: row.max_attempts, delayMs: row.retry_delay_ms, on: row.retry_on as CampaignSettings['retry']['on'] },
    machineDetection: row.machine_detection,
    ringTimeoutSec: row.ring_timeout_sec,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    counts,
    importReport: row.import_report,
  };
}

/**
 * The window condition for a contact row aliased `cc` of campaign row aliased `k`, evaluated in the
 * contact's zone (or the campaign's). A window whose end is before its start wraps past midnight.
 */
const IN_CALLING_WINDOW = `
  (extract(isodow FROM now() AT TIME ZONE coalesce(cc.timezone, k.default_timezone))::integer = ANY (k.window_days))
  AND (
    CASE WHEN k.window_start_min < k.window_end_min
      THEN (extract(hour FROM now() AT TIME ZONE coalesce(cc.timezone, k.default_timezone)) * 60
            + extract(minute FROM now() AT TIME ZONE coalesce(cc.timezone, k.default_timezone))) >= k.window_start_min
       AND (extract(hour FROM now() AT TIME ZONE coalesce(cc.timezone, k.default_timezone)) * 60
            + extract(minute FROM now() AT TIME ZONE coalesce(cc.timezone, k.default_timezone))) < k.window_end_min
      ELSE (extract(hour FROM now() AT TIME ZONE coalesce(cc.timezone, k.default_timezone)) * 60
            + extract(minute FROM now() AT TIME ZONE coalesce(cc.timezone, k.default_timezone))) >= k.window_start_min
        OR (extract(hour FROM now() AT TIME ZONE coalesce(cc.timezone, k.default_timezone)) * 60
            + extract(minute FROM now() AT TIME ZONE coalesce(cc.timezone, k.default_timezone))) < k.window_end_min
    END)`;

type Tx = Pick<Database, 'query'>;

/**
 * Settles the campaign contact of a finished call (inside the status-callback transaction): its outcome,
 * or back to pending for a retry when the campaign's policy says so. Only the contact's current attempt
 * counts, and only once. Returns what happened, or undefined when nothing did.
 */
export async function settleContactForCall(tx: Tx, callId: string, outcome: ContactOutcome): Promise<ContactOutcome | 'retry' | undefined> {
  const { rows } = await tx.query<{ state: string; retry: boolean }>(
    `WITH finished AS (
       SELECT campaign_id, contact_id, coalesce(attempt, 1) AS attempt FROM calls WHERE id = $1 AND campaign_id IS NOT NULL
     ), target AS (
       SELECT cc.campaign_id, cc.id,
              ($2 = ANY (k.retry_on) AND finished.attempt < k.max_attempts AND k.status IN ('running', 'paused', 'draft')) AS retry,
              k.retry_delay_ms
       FROM finished
       JOIN campaign_contacts cc ON cc.campaign_id = finished.campaign_id AND cc.id = finished.contact_id
       JOIN campaigns k ON k.id = cc.campaign_id
       WHERE cc.last_call_id = $1 AND cc.state IN ('dialing', 'calling')
       FOR UPDATE OF cc
     )
     UPDATE campaign_contacts cc SET
       state = CASE WHEN target.retry THEN 'pending' ELSE 'done' END,
       outcome = CASE WHEN target.retry THEN NULL ELSE $2 END,
       attempts = greatest(cc.attempts, (SELECT attempt FROM finished)),
       next_attempt_at = CASE WHEN target.retry THEN now() + target.retry_delay_ms * interval '1 millisecond' ELSE cc.next_attempt_at END,
       last_error = CASE WHEN $2 IN ('answered', 'voicemail') THEN NULL ELSE $2 END,
       lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
     FROM target
     WHERE cc.campaign_id = target.campaign_id AND cc.id = target.id
     RETURNING cc.state, target.retry`,
    [callId, outcome],
  );
  const row = rows[0];
  if (!row) return undefined;
  return row.retry ? 'retry' : outcome;
}

export function createCampaignStore(db: Database): CampaignRepository {
  async function countsFor(ids: readonly string[]): Promise<Map<string, CampaignCounts>> {
    const result = new Map<string, CampaignCounts>(ids.map((id) => [id, emptyCounts()]));
    if (ids.length === 0) return result;
    const { rows } = await db.query<{ campaign_id: string; state: ContactState; outcome: ContactOutcome | null; n: number; attempts: number }>(
      `SELECT campaign_id, state, outcome, count(*) AS n, coalesce(sum(attempts), 0) AS attempts
       FROM campaign_contacts WHERE campaign_id = ANY ($1::text[]) GROUP BY campaign_id, state, outcome`,
      [ids],
    );
    for (const row of rows) {
      const counts = result.get(row.campaign_id);
      if (!counts) continue;
      const n = Number(row.n);
      counts.total += n;
      counts.attempts += Number(row.attempts);
      if (row.state === 'pending') counts.pending += n;
      else if (row.state === 'done') {
        counts.done += n;
        if (row.outcome) counts.outcomes[row.outcome] += n;
      } else counts.inFlight += n;
    }
    return result;
  }

  async function getRecord(id: string): Promise<CampaignRecord | undefined> {
    const { rows } = await db.query<CampaignRow>(`SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1`, [id]);
    const row = rows[0];
    if (!row) return undefined;
    const counts = (await countsFor([id])).get(id) ?? emptyCounts();
    return toCampaignRecord(row, counts);
  }

  return {
    async create(settings, contacts, report) {
      const id = randomUUID();
      const windowStart = windowMinutes(settings.window.start);
      const windowEnd = windowMinutes(settings.window.end);
      if (windowStart === windowEnd) throw new RangeError('the calling window is empty: start and end are the same time');
      await db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO campaigns (id, name, agent_id, from_number, calls_per_second, max_concurrent, window_start_min, window_end_min,
                                  window_days, default_timezone, max_attempts, retry_delay_ms, retry_on, machine_detection,
                                  ring_timeout_sec, import_report)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::integer[], $10, $11, $12, $13::text[], $14, $15, $16::jsonb)`,
          [
            id,
            settings.name,
            settings.agentId,
            settings.from,
            settings.callsPerSecond,
            settings.maxConcurrent,
            windowStart,
            windowEnd === 0 ? 1440 : windowEnd,
            settings.window.days,
            settings.timezone,
            settings.retry.maxAttempts,
            settings.retry.delayMs,
            settings.retry.on,
            settings.machineDetection,
            settings.ringTimeoutSec,
            JSON.stringify(report),
          ],
        );
        // Array parameters unnested: one statement per 5,000 contacts instead of one per contact.
        for (let start = 0; start < contacts.length; start += INSERT_BATCH_ROWS) {
          const batch = contacts.slice(start, start + INSERT_BATCH_ROWS);
          await tx.query(
            `INSERT INTO campaign_contacts (campaign_id, id, line, phone, timezone, variables)
             SELECT $1, ord + $2::bigint, line, phone, tz, vars::jsonb
             FROM unnest($3::integer[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS t(line, phone, tz, vars, ord)`,
            [
              id,
              start,
              batch.map((c) => c.line),
              batch.map((c) => c.phone),
              batch.map((c) => c.timezone),
              batch.map((c) => JSON.stringify(c.variables)),
            ],
          );
        }
      });
      const record = await getRecord(id);
      if (!record) throw new Error(`campaign ${id} vanished after it was created`);
      return record;
    },

    async list() {
      const { rows } = await db.query<CampaignRow>(`SELECT ${CAMPAIGN_COLUMNS} FROM campaigns ORDER BY created_at DESC, id DESC LIMIT 500`);
      const counts = await countsFor(rows.map((r) => r.id));
      return rows.map((row) => toCampaignRecord(row, counts.get(row.id) ?? emptyCounts()));
    },

    get: getRecord,

    async act(id, action) {
      const rule = TRANSITIONS[action];
      await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ status: CampaignStatus }>('SELECT status FROM campaigns WHERE id = $1 FOR UPDATE', [id]);
        const current = rows[0]?.status;
        if (current === undefined) return;
        if (!rule.from.includes(current)) throw new CampaignStateError(id, current, action);
        await tx.query(
          `UPDATE campaigns SET status = $2, status_reason = NULL,
             started_at = CASE WHEN $2 = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
             finished_at = CASE WHEN $2 = 'canceled' THEN now() ELSE finished_at END,
             -- A resumed campaign does not make up for lost time with a burst.
             next_slot_at = CASE WHEN $2 = 'running' THEN greatest(next_slot_at, now()) ELSE next_slot_at END
           WHERE id = $1`,
          [id, rule.to],
        );
        if (rule.to === 'canceled') {
          // Calls already placed finish normally; nobody else is called.
          await tx.query(
            `UPDATE campaign_contacts SET state = 'done', outcome = 'canceled', updated_at = now()
             WHERE campaign_id = $1 AND state = 'pending'`,
            [id],
          );
        }
      });
      const record = await getRecord(id);
      if (!record) throw new CampaignNotFoundError(id);
      return record;
    },

    async pauseFor(id, reason) {
      await db.query(`UPDATE campaigns SET status = 'paused', status_reason = $2 WHERE id = $1 AND status = 'running'`, [id, reason.slice(0, 1000)]);
    },

    async contacts(id, query) {
      const page = query.page ?? 1;
      const pageSize = query.pageSize ?? 50;
      if (!Number.isInteger(page) || page < 1) throw new RangeError(`page must be a whole number ≥ 1, got ${page}`);
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_CONTACT_PAGE_SIZE) {
        throw new RangeError(`pageSize must be a whole number from 1 to ${MAX_CONTACT_PAGE_SIZE}, got ${pageSize}`);
      }
      const where = ['cc.campaign_id = $1'];
      const params: unknown[] = [id];
      if (query.state) {
        params.push(query.state);
        where.push(`cc.state = $${params.length}`);
      }
      if (query.outcome) {
        params.push(query.outcome);
        where.push(`cc.outcome = $${params.length}`);
      }
      if (query.q) {
        params.push(`%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
        where.push(`(cc.phone ILIKE $${params.length} OR cc.variables::text ILIKE $${params.length})`);
      }
      const whereSql = where.join(' AND ');
      const n = params.length;
      const [items, total] = await Promise.all([
        db.query<ContactRow>(
          `SELECT cc.id, cc.line, cc.phone, cc.timezone, cc.variables, cc.state, cc.outcome, cc.attempts, cc.next_attempt_at,
                  cc.last_error, cc.updated_at
           FROM campaign_contacts cc WHERE ${whereSql} ORDER BY cc.id LIMIT $${n + 1} OFFSET $${n + 2}`,
          [...params, pageSize, (page - 1) * pageSize],
        ),
        db.query<{ total: number }>(`SELECT count(*) AS total FROM campaign_contacts cc WHERE ${whereSql}`, params),
      ]);
      const contactIds = items.rows.map((r) => Number(r.id));
      const attempts = new Map<number, ContactAttempt[]>();
      if (contactIds.length > 0) {
        const { rows } = await db.query<AttemptRow>(
          `SELECT id, contact_id, attempt, dialed_at, status, twilio_status, answered_by, end_reason, duration_ms, error
           FROM calls WHERE campaign_id = $1 AND contact_id = ANY ($2::bigint[]) ORDER BY dialed_at, id`,
          [id, contactIds],
        );
        for (const row of rows) {
          const list = attempts.get(Number(row.contact_id)) ?? [];
          list.push({
            callId: row.id,
            attempt: row.attempt ?? list.length + 1,
            dialedAt: row.dialed_at,
            status: row.status,
            twilioStatus: row.twilio_status,
            answeredBy: row.answered_by,
            endReason: row.end_reason,
            durationMs: row.duration_ms,
            error: row.error,
          });
          attempts.set(Number(row.contact_id), list);
        }
      }
      return {
        items: items.rows.map((row) => toContactRecord(row, attempts.get(Number(row.id)) ?? [])),
        page,
        pageSize,
        total: Number(total.rows[0]?.total ?? 0),
      };
    },

    async exportContacts(id, onPage) {
      let after = -1;
      for (;;) {
        const { rows } = await db.query<ExportRow>(
          `SELECT cc.id, cc.line, cc.phone, cc.state, cc.outcome, cc.attempts, cc.last_call_id, cc.last_error, cc.variables,
                  c.twilio_status, c.answered_by
           FROM campaign_contacts cc LEFT JOIN calls c ON c.id = cc.last_call_id
           WHERE cc.campaign_id = $1 AND cc.id > $2 ORDER BY cc.id LIMIT 5000`,
          [id, after],
        );
        if (rows.length === 0) return;
        after = Number(rows[rows.length - 1]?.id);
        await onPage(
          rows.map((r) => ({
            line: r.line,
            phone: r.phone,
            state: r.state,
            outcome: r.outcome,
            attempts: r.attempts,
            lastCallId: r.last_call_id,
            lastTwilioStatus: r.twilio_status,
            answeredBy: r.answered_by,
            lastError: r.last_error,
            variables: r.variables ?? {},
          })),
        );
      }
    },

    async runningIds() {
      const { rows } = await db.query<{ id: string }>(`SELECT id FROM campaigns WHERE status = 'running' ORDER BY created_at, id`);
      return rows.map((r) => r.id);
    },

    async claim(campaignId, options) {
      return db.transaction(async (tx) => {
        // The campaign row's lock serialises claims for one campaign across processes: the concurrency
        // count and the CPS slots are read and advanced by one claimer at a time.
        const { rows: campaigns } = await tx.query<{
          agent_id: string;
          from_number: string;
          calls_per_second: number;
          max_concurrent: number;
          machine_detection: boolean;
          ring_timeout_sec: number;
          first_slot_ms: number;
          in_flight: number;
        }>(
          `SELECT k.agent_id, k.from_number, k.calls_per_second, k.max_concurrent, k.machine_detection, k.ring_timeout_sec,
                  extract(epoch FROM greatest(k.next_slot_at, now()) - now()) * 1000 AS first_slot_ms,
                  (SELECT count(*) FROM campaign_contacts cc
                   WHERE cc.campaign_id = k.id AND cc.state IN ('dialing', 'calling')) AS in_flight
           FROM campaigns k WHERE k.id = $1 AND k.status = 'running' FOR UPDATE`,
          [campaignId],
        );
        const campaign = campaigns[0];
        if (!campaign) return [];
        const cps = Number(campaign.calls_per_second);
        const intervalMs = 1000 / cps;
        const firstSlotMs = Math.max(0, Number(campaign.first_slot_ms));
        const free = campaign.max_concurrent - Number(campaign.in_flight);
        const slots = firstSlotMs > options.lookaheadMs ? 0 : Math.floor((options.lookaheadMs - firstSlotMs) / intervalMs) + 1;
        const wanted = Math.min(free, slots, options.maxBatch);
        if (wanted <= 0) return [];
        const { rows } = await tx.query<{
          id: number | string;
          phone: string;
          variables: Record<string, string> | null;
          attempts: number;
          last_call_id: string;
          next_attempt_at: string;
        }>(
          `WITH due AS (
             SELECT cc.id FROM campaign_contacts cc JOIN campaigns k ON k.id = cc.campaign_id
             WHERE cc.campaign_id = $1 AND cc.state = 'pending' AND cc.next_attempt_at <= now() AND ${IN_CALLING_WINDOW}
             ORDER BY cc.next_attempt_at, cc.id
             LIMIT $2
             FOR UPDATE OF cc SKIP LOCKED
           )
           UPDATE campaign_contacts cc SET state = 'dialing', lease_owner = $3,
             lease_expires_at = now() + $4::double precision * interval '1 millisecond',
             last_call_id = gen_random_uuid()::text, updated_at = now()
           FROM due WHERE cc.campaign_id = $1 AND cc.id = due.id
           RETURNING cc.id, cc.phone, cc.variables, cc.attempts, cc.last_call_id, cc.next_attempt_at`,
          [campaignId, wanted, options.processId, options.leaseMs],
        );
        if (rows.length === 0) return [];
        rows.sort((a, b) => (a.next_attempt_at < b.next_attempt_at ? -1 : a.next_attempt_at > b.next_attempt_at ? 1 : Number(a.id) - Number(b.id)));
        await tx.query(
          `UPDATE campaigns SET next_slot_at = greatest(next_slot_at, now()) + $2::double precision * interval '1 millisecond' WHERE id = $1`,
          [campaignId, rows.length * intervalMs],
        );
        return rows.map((row, k) => ({
          campaignId,
          contactId: Number(row.id),
          phone: row.phone,
          variables: row.variables ?? {},
          attempt: row.attempts + 1,
          callId: row.last_call_id,
          delayMs: firstSlotMs + k * intervalMs,
          agentId: campaign.agent_id,
          from: campaign.from_number,
          machineDetection: campaign.machine_detection,
          ringTimeoutSec: campaign.ring_timeout_sec,
        }));
      });
    },

    async confirmClaim(contact, processId, leaseMs) {
      const { rows } = await db.query<{ running: boolean }>(
        `UPDATE campaign_contacts cc SET
           lease_expires_at = CASE WHEN k.status = 'running' THEN now() + $5::double precision * interval '1 millisecond' ELSE NULL END,
           state = CASE WHEN k.status = 'running' THEN cc.state ELSE 'pending' END,
           lease_owner = CASE WHEN k.status = 'running' THEN cc.lease_owner ELSE NULL END,
           updated_at = now()
         FROM campaigns k
         WHERE k.id = cc.campaign_id AND cc.campaign_id = $1 AND cc.id = $2 AND cc.last_call_id = $3
           AND cc.state = 'dialing' AND cc.lease_owner = $4
         RETURNING k.status = 'running' AS running`,
        [contact.campaignId, contact.contactId, contact.callId, processId, leaseMs],
      );
      return rows[0]?.running === true;
    },

    async markCalling(contact) {
      await db.query(
        `UPDATE campaign_contacts SET state = 'calling', attempts = greatest(attempts, $4), lease_owner = NULL, lease_expires_at = NULL,
           last_error = NULL, updated_at = now()
         WHERE campaign_id = $1 AND id = $2 AND last_call_id = $3 AND state = 'dialing'`,
        [contact.campaignId, contact.contactId, contact.callId, contact.attempt],
      );
    },

    async release(contact, delayMs, error) {
      await db.query(
        `UPDATE campaign_contacts SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL,
           next_attempt_at = now() + $4::double precision * interval '1 millisecond', last_error = coalesce($5, last_error), updated_at = now()
         WHERE campaign_id = $1 AND id = $2 AND last_call_id = $3 AND state = 'dialing'`,
        [contact.campaignId, contact.contactId, contact.callId, Math.max(0, delayMs), error ?? null],
      );
    },

    async failAttempt(contact, error, retry) {
      await db.query(
        `UPDATE campaign_contacts cc SET
           state = CASE WHEN $5 AND $4 < k.max_attempts THEN 'pending' ELSE 'done' END,
           outcome = CASE WHEN $5 AND $4 < k.max_attempts THEN NULL ELSE 'failed' END,
           next_attempt_at = CASE WHEN $5 AND $4 < k.max_attempts THEN now() + k.retry_delay_ms * interval '1 millisecond' ELSE cc.next_attempt_at END,
           attempts = greatest(cc.attempts, $4), last_error = $6, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
         FROM campaigns k
         WHERE k.id = cc.campaign_id AND cc.campaign_id = $1 AND cc.id = $2 AND cc.last_call_id = $3 AND cc.state = 'dialing'`,
        [contact.campaignId, contact.contactId, contact.callId, contact.attempt, retry, error.slice(0, 1000)],
      );
    },

    async recoverLeases() {
      return db.transaction(async (tx) => {
        // Twilio reported on the call (a status callback stored a SID or status): it was placed, so the
        // contact waits for the call's end like any other. Otherwise it was never placed: call it again.
        const adopted = await tx.query(
          `UPDATE campaign_contacts cc SET state = 'calling', attempts = greatest(cc.attempts, coalesce(c.attempt, cc.attempts + 1)),
             lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
           FROM calls c
           WHERE cc.state = 'dialing' AND cc.lease_expires_at < now() AND c.id = cc.last_call_id
             AND (c.call_sid IS NOT NULL OR c.twilio_status IS NOT NULL)`,
        );
        await tx.query(
          `UPDATE calls c SET status = 'ended', end_reason = 'dial_failed', ended_at = now(),
             error = 'not placed: the dialing process stopped before Twilio confirmed the call'
           FROM campaign_contacts cc
           WHERE cc.state = 'dialing' AND cc.lease_expires_at < now() AND c.id = cc.last_call_id AND c.status = 'dialing'
             AND c.call_sid IS NULL AND c.twilio_status IS NULL`,
        );
        const released = await tx.query(
          `UPDATE campaign_contacts SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL, updated_at = now(),
             last_error = 'lease expired before the call was placed (the dialing process stopped); called again'
           WHERE state = 'dialing' AND lease_expires_at < now()`,
        );
        return { released: released.affectedRows, adopted: adopted.affectedRows };
      });
    },

    async reconcile({ endedGraceMs, silentAfterMs }) {
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<{ call_id: string; status: string; answered_by: string | null }>(
          `SELECT c.id AS call_id, c.status, c.answered_by
           FROM campaign_contacts cc JOIN calls c ON c.id = cc.last_call_id JOIN campaigns k ON k.id = cc.campaign_id
           WHERE cc.state = 'calling'
             AND ((c.status IN ('ended', 'abandoned') AND c.ended_at < now() - $1::double precision * interval '1 millisecond')
               OR (c.status = 'dialing'
                   AND c.dialed_at < now() - (k.ring_timeout_sec * 1000 + $2::double precision) * interval '1 millisecond'))
           LIMIT 500`,
          [endedGraceMs, silentAfterMs],
        );
        let settled = 0;
        for (const row of rows) {
          const outcome: ContactOutcome =
            row.status === 'dialing' ? 'failed' : row.answered_by?.startsWith('machine') || row.answered_by === 'fax' ? 'voicemail' : 'answered';
          if (row.status === 'dialing') {
            await tx.query(
              `UPDATE calls SET status = 'ended', end_reason = 'dial_failed', ended_at = now(),
                 error = coalesce(error, 'no status callback from Twilio') WHERE id = $1 AND status = 'dialing'`,
              [row.call_id],
            );
          }
          if (await settleContactForCall(tx, row.call_id, outcome)) settled += 1;
        }
        return settled;
      });
    },

    async finishCompleted() {
      const { rows } = await db.query<{ id: string }>(
        `UPDATE campaigns k SET status = 'completed', finished_at = now()
         WHERE k.status = 'running'
           AND NOT EXISTS (SELECT 1 FROM campaign_contacts cc WHERE cc.campaign_id = k.id AND cc.state <> 'done')
         RETURNING k.id`,
      );
      return rows.map((r) => r.id);
    },
  };
}

export class CampaignNotFoundError extends Error {
  constructor(readonly campaignId: string) {
    super(`no campaign ${campaignId}`);
    this.name = 'CampaignNotFoundError';
  }
}

interface ContactRow {
  id: number | string;
  line: number;
  phone: string;
  timezone: string | null;
  variables: Record<string, string> | null;
  state: ContactState;
  outcome: ContactOutcome | null;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  updated_at: string;
}

interface AttemptRow {
  id: string;
  contact_id: number | string;
  attempt: number | null;
  dialed_at: string | null;
  status: ContactAttempt['status'];
  twilio_status: string | null;
  answered_by: string | null;
  end_reason: ContactAttempt['endReason'];
  duration_ms: number | null;
  error: string | null;
}

interface ExportRow {
  id: number | string;
  line: number;
  phone: string;
  state: ContactState;
  outcome: ContactOutcome | null;
  attempts: number;
  last_call_id: string | null;
  last_error: string | null;
  variables: Record<string, string> | null;
  twilio_status: string | null;
  answered_by: string | null;
}

function toContactRecord(row: ContactRow, calls: ContactAttempt[]): ContactRecord {
  // '-infinity' (never tried) and past times both mean "due now".
  const next = row.next_attempt_at;
  const nextMs = next === null ? NaN : Date.parse(next);
  return {
    id: Number(row.id),
    line: row.line,
    phone: row.phone,
    timezone: row.timezone,
    variables: row.variables ?? {},
    state: row.state,
    outcome: row.outcome,
    attempts: row.attempts,
    nextAttemptAt: row.state === 'pending' && Number.isFinite(nextMs) && nextMs > Date.now() ? new Date(nextMs).toISOString() : null,
    lastError: row.last_error,
    updatedAt: row.updated_at,
    calls,
  };
}
