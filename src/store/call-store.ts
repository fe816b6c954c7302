// Reading calls back (dashboard, API) and the few updates that do not come from call events.
// Calls themselves are written by the CallEventWriter as they happen.
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CallDirection, CallEndReason, TokenUsage } from '../call/call-events.js';
import type {
  CallDetail,
  CallEventRecord,
  CallListQuery,
  CallRecord,
  CallRecordStatus,
  Page,
  ToolCallRecord,
  TurnRecord,
} from './records.js';
import type { CallStore, Database } from './store.js';

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

export interface MarkAbandonedOptions {
  /** A process whose heartbeat is older than this is dead; 0 treats every other process as dead. */
  staleAfterMs: number;
}

/** CallStore plus the housekeeping the store itself runs. */
export interface CallRepository extends CallStore {
  /**
   * Marks `abandoned` the active calls of processes other than this one whose heartbeat stopped more
   * than `staleAfterMs` ago (or that never registered one). Returns the call ids marked.
   */
  markAbandoned(options: MarkAbandonedOptions): Promise<string[]>;
}

interface CallRow {
  id: string;
  call_sid: string | null;
  stream_sid: string | null;
  direction: CallDirection;
  from_number: string | null;
  to_number: string | null;
  agent_id: string;
  agent_version: number | null;
  backend: string;
  model: string;
  api_shape: 'ga' | 'beta';
  status: CallRecordStatus;
  end_reason: CallEndReason | null;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  usage: TokenUsage | null;
  cost_usd: number | null;
  has_recording: boolean;
  variables: Record<string, string> | null;
  twilio_status: string | null;
  process_id: string;
  turn_count: number;
  dialed_at: string | null;
  answered_by: string | null;
  error: string | null;
  campaign_id: string | null;
  contact_id: number | string | null;
  attempt: number | null;
}

const CALL_COLUMNS = `c.id, c.call_sid, c.stream_sid, c.direction, c.from_number, c.to_number, c.agent_id, c.agent_version,
  c.backend, c.model, c.api_shape, c.status, c.end_reason, c.started_at, c.ended_at, c.duration_ms, c.usage, c.cost_usd,
  c.has_recording, c.variables, c.twilio_status, c.process_id, c.dialed_at, c.answered_by, c.error, c.campaign_id,
  c.contact_id, c.attempt,
  (SELECT count(*) FROM turns t WHERE t.call_id = c.id) AS turn_count`;

const CALL_ID_PATTERN = /^[A-Za-z0-9_.-]{1,200}$/;

export function createCallStore(db: Database, options: { recordingsDir: string; processId: string }): CallRepository {
  const recordingsDir = resolve(options.recordingsDir);

  return {
    async list(query) {
      const { where, params } = listFilter(query);
      const page = query.page ?? 1;
      const pageSize = query.pageSize ?? DEFAULT_PAGE_SIZE;
      if (!Number.isInteger(page) || page < 1) throw new RangeError(`page must be a whole number ≥ 1, got ${page}`);
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
        throw new RangeError(`pageSize must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${pageSize}`);
      }
      const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
      const n = params.length;
      const [items, count] = await Promise.all([
        db.query<CallRow>(
          `SELECT ${CALL_COLUMNS} FROM calls c ${whereSql} ORDER BY c.started_at DESC, c.id DESC LIMIT $${n + 1} OFFSET $${n + 2}`,
          [...params, pageSize, (page - 1) * pageSize],
        ),
        db.query<{ total: number }>(`SELECT count(*) AS total FROM calls c ${whereSql}`, params),
      ]);
      const result: Page<CallRecord> = { items: items.rows.map(toCallRecord), page, pageSize, total: Number(count.rows[0]?.total ?? 0) };
      return result;
    },

    async get(id) {
      const [call, turns, tools, events] = await Promise.all([
        db.query<CallRow>(`SELECT ${CALL_COLUMNS} FROM calls c WHERE c.id = $1`, [id]),
        db.query<TurnRow>('SELECT * FROM turns WHERE call_id = $1 ORDER BY seq', [id]),
        db.query<ToolCallRow>('SELECT * FROM tool_calls WHERE call_id = $1 ORDER BY called_at_ms, tool_call_id', [id]),
        db.query<EventRow>('SELECT * FROM call_events WHERE call_id = $1 ORDER BY seq', [id]),
      ]);
      const row = call.rows[0];
      if (!row) return undefined;
      const detail: CallDetail = {
        call: toCallRecord(row),
        turns: turns.rows.map(toTurnRecord),
        toolCalls: tools.rows.map(toToolCallRecord),
        events: events.rows.map(toEventRecord),
      };
      return detail;
    },

    async getByCallSid(callSid) {
      // One Twilio call can have several records (a stream replaced by a newer one): the latest wins.
      const { rows } = await db.query<CallRow>(
        `SELECT ${CALL_COLUMNS} FROM calls c WHERE c.call_sid = $1 ORDER BY c.started_at DESC, c.id DESC LIMIT 1`,
        [callSid],
      );
      return rows[0] ? toCallRecord(rows[0]) : undefined;
    },

    async recordingPath(id) {
      const { rows } = await db.query<{ id: string; has_recording: boolean }>('SELECT id, has_recording FROM calls WHERE id = $1', [id]);
      const row = rows[0];
      // The id becomes a file name: anything path-like is refused even though Koe minted it.
      if (!row?.has_recording || !CALL_ID_PATTERN.test(row.id)) return undefined;
      const path = join(recordingsDir, `${row.id}.wav`);
      try {
        await access(path);
        return path;
      } catch {
        return undefined; // the process died before the file was written, or it was cleaned up
      }
    },

    async setTwilioStatus(callSid, status) {
      await db.query('UPDATE calls SET twilio_status = $2 WHERE call_sid = $1', [callSid, status]);
    },

    async markAbandoned({ staleAfterMs }) {
      if (!(Number.isFinite(staleAfterMs) && staleAfterMs >= 0)) throw new RangeError(`staleAfterMs must be ≥ 0, got ${staleAfterMs}`);
      // The database's clock judges heartbeats, so processes on machines with skewed clocks agree.
      const { rows } = await db.query<{ id: string }>(
        `UPDATE calls c SET status = 'abandoned'
         WHERE c.status = 'active' AND c.process_id <> $1
           AND NOT EXISTS (
             SELECT 1 FROM koe_processes p
             WHERE p.process_id = c.process_id AND p.heartbeat_at > now() - $2::double precision * interval '1 millisecond')
         RETURNING c.id`,
        [options.processId, staleAfterMs],
      );
      return rows.map((r) => r.id);
    },
  };
}

function listFilter(query: CallListQuery): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const q = query.q?.trim();
  if (q) {
    const pattern = param(`%${escapeLike(q)}%`);
    const matches = [
      `c.id ILIKE ${pattern}`,
      `c.call_sid ILIKE ${pattern}`,
      `c.from_number ILIKE ${pattern}`,
      `c.to_number ILIKE ${pattern}`,
      `c.agent_id ILIKE ${pattern}`,
      `EXISTS (SELECT 1 FROM turns t WHERE t.call_id = c.id AND (t.text ILIKE ${pattern} OR t.heard_text ILIKE ${pattern}))`,
    ];
    // "555 123-4567" finds +15551234567: phone-number-looking queries also match on digits alone.
    const digits = q.replace(/\D/g, '');
    if (/^[+\d\s().-]+$/.test(q) && digits.length >= 3) {
      const digitPattern = param(`%${digits}%`);
      matches.push(
        `regexp_replace(coalesce(c.from_number, ''), '[^0-9]', '', 'g') LIKE ${digitPattern}`,
        `regexp_replace(coalesce(c.to_number, ''), '[^0-9]', '', 'g') LIKE ${digitPattern}`,
      );
    }
    where.push(`(${matches.join(' OR ')})`);
  }
  if (query.agentId) where.push(`c.agent_id = ${param(query.agentId)}`);
  if (query.direction) where.push(`c.direction = ${param(query.direction)}`);
  if (query.status) where.push(`c.status = ${param(query.status)}`);
  if (query.endReason) where.push(`c.end_reason = ${param(query.endReason)}`);
  if (query.since) where.push(`c.started_at >= ${param(isoTimestamp('since', query.since))}::timestamptz`);
  if (query.until) where.push(`c.started_at < ${param(isoTimestamp('until', query.until))}::timestamptz`);
  return { where, params };
}

function isoTimestamp(name: string, value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`${name} must be an ISO 8601 timestamp, got ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

/** LIKE treats % and _ as wildcards and \ as the escape character; a search for "50%" means the text. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function toCallRecord(row: CallRow): CallRecord {
  return {
    id: row.id,
    callSid: row.call_sid,
    streamSid: row.stream_sid,
    direction: row.direction,
    from: row.from_number,
    to: row.to_number,
    agentId: row.agent_id,
    agentVersion: row.agent_version,
    backend: row.backend,
    model: row.model,
    apiShape: row.api_shape,
    status: row.status,
    endReason: row.end_reason,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    durationMs: row.duration_ms,
    usage: row.usage,
    costUsd: row.cost_usd,
    hasRecording: row.has_recording,
    variables: row.variables ?? {},
    twilioStatus: row.twilio_status,
    processId: row.process_id,
    turnCount: Number(row.turn_count),
    dialedAt: row.dialed_at,
    answeredBy: row.answered_by,
    error: row.error,
    campaignId: row.campaign_id,
    contactId: row.contact_id === null ? null : Number(row.contact_id),
    attempt: row.attempt,
  };
}

interface TurnRow {
  call_id: string;
  seq: number;
  role: TurnRecord['role'];
  item_id: string;
  text: string | null;
  heard_text: string | null;
  interrupted: boolean;
  source: TurnRecord['source'];
  started_at_ms: number;
  ended_at_ms: number;
  latency_ms: number | null;
  audio_ms: number | null;
  heard_ms: number | null;
}

function toTurnRecord(row: TurnRow): TurnRecord {
  return {
    callId: row.call_id,
    seq: row.seq,
    role: row.role,
    itemId: row.item_id,
    text: row.text,
    heardText: row.heard_text,
    interrupted: row.interrupted,
    source: row.source,
    startedAtMs: row.started_at_ms,
    endedAtMs: row.ended_at_ms,
    latencyMs: row.latency_ms,
    audioMs: row.audio_ms,
    heardMs: row.heard_ms,
  };
}

interface ToolCallRow {
  call_id: string;
  tool_call_id: string;
  name: string;
  arguments: unknown;
  ok: boolean | null;
  output: string | null;
  duration_ms: number | null;
  called_at_ms: number;
}

function toToolCallRecord(row: ToolCallRow): ToolCallRecord {
  return {
    callId: row.call_id,
    toolCallId: row.tool_call_id,
    name: row.name,
    arguments: row.arguments,
    ok: row.ok,
    output: row.output,
    durationMs: row.duration_ms,
    calledAtMs: row.called_at_ms,
  };
}

interface EventRow {
  call_id: string;
  seq: number;
  type: string;
  at_ms: number;
  at: string;
  data: Record<string, unknown>;
}

function toEventRecord(row: EventRow): CallEventRecord {
  return { callId: row.call_id, seq: row.seq, type: row.type, atMs: row.at_ms, at: row.at, data: row.data };
}
