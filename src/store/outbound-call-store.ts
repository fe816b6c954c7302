// Outbound calls before and around their media stream: the record created when Koe dials (so status
// callbacks and the TwiML request, on whichever process Twilio reaches, find the call), Twilio's status
// callbacks applied in sequence order, the answering-machine verdict, and the campaign contact settled
// when the call is over.
import type { CallEndReason } from '../call/call-events.js';
import { settleContactForCall } from './campaign-store.js';
import type { ContactOutcome } from './records.js';
import type { Database } from './store.js';

/** Twilio's terminal call statuses (protocol/twilio.md §5.3). */
export const TERMINAL_TWILIO_STATUSES: ReadonlySet<string> = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);
const KNOWN_TWILIO_STATUSES: ReadonlySet<string> = new Set(['queued', 'initiated', 'ringing', 'in-progress', ...TERMINAL_TWILIO_STATUSES]);

/** AnsweredBy verdicts meaning "not a person" (protocol/twilio.md §5.3). */
export function isMachineAnswer(answeredBy: string | null | undefined): boolean {
  return answeredBy === 'fax' || (typeof answeredBy === 'string' && answeredBy.startsWith('machine'));
}

export interface NewOutboundCall {
  id: string;
  from: string;
  to: string;
  agentId: string;
  agentVersion: number | null;
  backend: string;
  model: string;
  apiShape: 'ga' | 'beta';
  variables: Record<string, string>;
  processId: string;
  /** Record this call (KOE_RECORD_CALLS records every call anyway). */
  record?: boolean;
  campaign?: { campaignId: string; contactId: number; attempt: number };
}

/** What the TwiML request of an outbound call needs to connect it. */
export interface OutboundCallPlan {
  id: string;
  callSid: string | null;
  status: string;
  from: string;
  to: string;
  agentId: string;
  variables: Record<string, string>;
  /** Recording asked for when the call was placed. */
  record: boolean;
}

export interface TwilioStatusUpdate {
  /** Koe's call id from the callback URL (outbound calls); absent for inbound calls. */
  callId?: string | undefined;
  callSid: string;
  status: string;
  /** SequenceNumber; callbacks may arrive out of order, older ones are ignored. */
  sequence?: number | undefined;
  durationSec?: number | undefined;
  sipResponseCode?: number | undefined;
  answeredBy?: string | undefined;
}

export interface StatusUpdateResult {
  /** False when the callback was older than one already applied, or the call is unknown. */
  applied: boolean;
  /** The campaign contact's outcome when this callback finished it. */
  contactOutcome?: ContactOutcome | 'retry';
}

export interface OutboundCallStore {
  /** Creates the `dialing` record before Twilio is asked to place the call. */
  createDialing(call: NewOutboundCall): Promise<void>;
  /** Twilio accepted the call; `status` is what it answered (`queued`) unless a callback already told more. */
  setDialed(id: string, callSid: string, status?: string): Promise<void>;
  /** Twilio refused the call (or it could not be asked): the record ends as `dial_failed`. */
  setDialFailed(id: string, error: string): Promise<void>;
  /** Removes a record Twilio never processed (429): nothing happened, nothing to keep. */
  discard(id: string): Promise<void>;
  plan(id: string): Promise<OutboundCallPlan | undefined>;
  applyStatus(update: TwilioStatusUpdate): Promise<StatusUpdateResult>;
  /** Stores an async AMD verdict; returns the call's agent id, SID and status (undefined when unknown). */
  setAnsweredBy(
    ref: { callId?: string | undefined; callSid: string },
    answeredBy: string,
  ): Promise<{ id: string; agentId: string; status: string; variables: Record<string, string> } | undefined>;
}

// By Koe's id when the callback URL carries it ($1; the SID may not be stored yet, callbacks can overtake
// the REST answer), else by SID ($2: inbound calls, several records when a stream was replaced).
const BY_ID_OR_SID = `(($1::text IS NOT NULL AND id = $1::text) OR ($1::text IS NULL AND call_sid = $2::text))`;

const END_REASON_FOR_STATUS: Readonly<Record<string, CallEndReason>> = {
  busy: 'busy',
  'no-answer': 'no_answer',
  failed: 'dial_failed',
  canceled: 'canceled',
  // Answered, but the media stream never started (TwiML refused, agent gone): Koe's side failed.
  completed: 'setup_failed',
};

/** A finished call's campaign outcome from Twilio's terminal status and the AMD verdict. */
export function contactOutcomeFor(status: string, answeredBy: string | null): ContactOutcome {
  switch (status) {
    case 'busy':
      return 'busy';
    case 'no-answer':
      return 'no-answer';
    case 'canceled':
      return 'canceled';
    case 'failed':
      return 'failed';
    default:
      return isMachineAnswer(answeredBy) ? 'voicemail' : 'answered';
  }
}

export function createOutboundCallStore(db: Database): OutboundCallStore {
  return {
    async createDialing(call) {
      await db.query(
        `INSERT INTO calls (id, call_sid, direction, from_number, to_number, agent_id, agent_version, backend, model, api_shape,
                            status, started_at, dialed_at, variables, process_id, campaign_id, contact_id, attempt, has_recording)
         VALUES ($1, NULL, 'outbound', $2, $3, $4, $5, $6, $7, $8, 'dialing', now(), now(), $9::jsonb, $10, $11, $12, $13, $14)
         ON CONFLICT (id) DO NOTHING`,
        [
          call.id,
          call.from,
          call.to,
          call.agentId,
          call.agentVersion,
          call.backend,
          call.model,
          call.apiShape,
          JSON.stringify(call.variables),
          call.processId,
          call.campaign?.campaignId ?? null,
          call.campaign?.contactId ?? null,
          call.campaign?.attempt ?? null,
          // While dialing: whether a recording was asked for; the stream's start sets what happened.
          call.record ?? false,
        ],
      );
    },

    async setDialed(id, callSid, status) {
      await db.query('UPDATE calls SET call_sid = $2, twilio_status = coalesce(twilio_status, $3) WHERE id = $1', [id, callSid, status ?? null]);
    },

    async setDialFailed(id, error) {
      await db.query(
        `UPDATE calls SET status = 'ended', end_reason = 'dial_failed', ended_at = now(), error = $2, has_recording = false
         WHERE id = $1 AND status = 'dialing'`,
        [id, error.slice(0, 1000)],
      );
    },

    async discard(id) {
      await db.query(`DELETE FROM calls WHERE id = $1 AND status = 'dialing' AND call_sid IS NULL AND twilio_status IS NULL`, [id]);
    },

    async plan(id) {
      const { rows } = await db.query<{
        id: string;
        call_sid: string | null;
        status: string;
        from_number: string;
        to_number: string;
        agent_id: string;
        variables: Record<string, string> | null;
        has_recording: boolean;
      }>(
        `SELECT id, call_sid, status, from_number, to_number, agent_id, variables, has_recording FROM calls WHERE id = $1 AND direction = 'outbound'`,
        [id],
      );
      const row = rows[0];
      if (!row) return undefined;
      return {
        id: row.id,
        callSid: row.call_sid,
        status: row.status,
        from: row.from_number,
        to: row.to_number,
        agentId: row.agent_id,
        variables: row.variables ?? {},
        record: row.has_recording,
      };
    },

    async applyStatus(update) {
      if (!KNOWN_TWILIO_STATUSES.has(update.status)) return { applied: false };
      const terminal = TERMINAL_TWILIO_STATUSES.has(update.status);
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<{ id: string; status: string; answered_by: string | null; campaign_id: string | null }>(
          `UPDATE calls SET
             twilio_status = $3,
             twilio_sequence = coalesce($4::integer, twilio_sequence),
             call_sid = coalesce(call_sid, $2),
             twilio_duration_sec = coalesce($5::integer, twilio_duration_sec),
             answered_by = coalesce($7, answered_by),
             error = CASE WHEN $6::integer IS NOT NULL AND $3 IN ('failed', 'busy', 'no-answer')
                          THEN coalesce(error, 'SIP ' || $6::integer) ELSE error END,
             status = CASE WHEN $8 AND status = 'dialing' THEN 'ended' ELSE status END,
             end_reason = CASE WHEN $8 AND status = 'dialing' THEN $9 ELSE end_reason END,
             ended_at = CASE WHEN $8 AND status = 'dialing' THEN now() ELSE ended_at END,
             -- Never connected: nothing was recorded, whatever was asked.
             has_recording = CASE WHEN $8 AND status = 'dialing' THEN false ELSE has_recording END
           WHERE ${BY_ID_OR_SID}
             AND (twilio_sequence IS NULL OR $4::integer IS NULL OR twilio_sequence < $4::integer)
             -- A terminal status is final: a late 'ringing' never replaces 'completed'.
             AND (twilio_status IS NULL OR twilio_status NOT IN ('completed', 'busy', 'no-answer', 'failed', 'canceled'))
           RETURNING id, status, answered_by, campaign_id`,
          [
            update.callId ?? null,
            update.callSid,
            update.status,
            update.sequence ?? null,
            update.durationSec ?? null,
            update.sipResponseCode ?? null,
            update.answeredBy ?? null,
            terminal,
            END_REASON_FOR_STATUS[update.status] ?? null,
          ],
        );
        if (rows.length === 0) return { applied: false };
        const result: StatusUpdateResult = { applied: true };
        if (!terminal) return result;
        for (const row of rows) {
          if (row.campaign_id === null) continue;
          const outcome = await settleContactForCall(tx, row.id, contactOutcomeFor(update.status, row.answered_by));
          if (outcome) result.contactOutcome = outcome;
        }
        return result;
      });
    },

    async setAnsweredBy(ref, answeredBy) {
      const { rows } = await db.query<{ id: string; agent_id: string; status: string; variables: Record<string, string> | null }>(
        `UPDATE calls SET answered_by = $3, call_sid = coalesce(call_sid, $2)
         WHERE ${BY_ID_OR_SID}
         RETURNING id, agent_id, status, variables`,
        [ref.callId ?? null, ref.callSid, answeredBy.slice(0, 64)],
      );
      const row = rows[0];
      return row ? { id: row.id, agentId: row.agent_id, status: row.status, variables: row.variables ?? {} } : undefined;
    },
  };
}
