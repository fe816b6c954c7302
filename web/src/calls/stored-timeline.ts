// A stored call (GET /api/calls/:id) as the same timeline the live reducer builds, so one transcript
// component shows both.
import type { CallDetail, CallEndReason, CallEvent, CallEventRecord } from '../api/types.js';
import type { CallState, TimelineItem } from '../live/call-state.js';

function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function fromEvent(event: CallEventRecord): TimelineItem | null {
  const key = `event:${event.seq}`;
  const data = event.data;
  switch (event.type) {
    case 'barge_in':
      return { kind: 'barge_in', key, atMs: event.atMs, heardMs: num(data.heardMs), sentMs: num(data.sentMs) };
    case 'dtmf.received':
    case 'dtmf.sent':
      return { kind: 'dtmf', key, atMs: event.atMs, direction: event.type === 'dtmf.sent' ? 'sent' : 'received', digits: str(data.digits) ?? '' };
    case 'model.error':
      return { kind: 'error', key, atMs: event.atMs, message: str(data.message) ?? '', code: str(data.code), fatal: data.fatal === true };
    case 'call.error':
      return { kind: 'error', key, atMs: event.atMs, message: str(data.message) ?? '', code: null, fatal: false };
    case 'model.reconnected':
      return { kind: 'reconnected', key, atMs: event.atMs, attempt: num(data.attempt) };
    case 'call.ended':
      return { kind: 'ended', key, atMs: event.atMs, reason: str(data.reason) as CallEndReason | null, durationMs: typeof data.durationMs === 'number' ? data.durationMs : null };
    default:
      return null;
  }
}

export function timelineFromDetail(detail: CallDetail): TimelineItem[] {
  const items: TimelineItem[] = [];
  for (const turn of detail.turns) {
    if (turn.role === 'user') {
      items.push({
        kind: 'user',
        key: `turn:${turn.seq}`,
        atMs: turn.startedAtMs,
        itemId: turn.itemId,
        text: turn.text,
        source: turn.source === 'dtmf' ? 'dtmf' : 'speech',
        startedAtMs: turn.startedAtMs,
        endedAtMs: turn.endedAtMs,
      });
    } else {
      const text = turn.text ?? '';
      items.push({
        kind: 'assistant',
        key: `turn:${turn.seq}`,
        atMs: turn.startedAtMs,
        itemId: turn.itemId,
        text,
        heardText: turn.heardText ?? text,
        interrupted: turn.interrupted,
        greeting: turn.source === 'greeting',
        startedAtMs: turn.startedAtMs,
        endedAtMs: turn.endedAtMs,
        latencyMs: turn.latencyMs,
        audioMs: turn.audioMs,
        heardMs: turn.heardMs,
      });
    }
  }
  for (const tool of detail.toolCalls) {
    items.push({
      kind: 'tool',
      key: `tool:${tool.toolCallId}`,
      atMs: tool.calledAtMs,
      toolCallId: tool.toolCallId,
      name: tool.name,
      arguments: tool.arguments,
      result: tool.ok === null && tool.output === null ? null : { ok: tool.ok, output: tool.output, durationMs: tool.durationMs },
    });
  }
  for (const event of detail.events) {
    const item = fromEvent(event);
    if (item) items.push(item);
  }
  return items;
}

export interface ToolCallRow {
  toolCallId: string;
  name: string;
  arguments: unknown;
  ok: boolean | null;
  output: string | null;
  durationMs: number | null;
  calledAtMs: number;
}

export function toolRows(items: readonly TimelineItem[]): ToolCallRow[] {
  return items
    .filter((item): item is Extract<TimelineItem, { kind: 'tool' }> => item.kind === 'tool')
    .map((item) => ({
      toolCallId: item.toolCallId,
      name: item.name,
      arguments: item.arguments,
      ok: item.result?.ok ?? null,
      output: item.result?.output ?? null,
      durationMs: item.result?.durationMs ?? null,
      calledAtMs: item.atMs,
    }))
    .sort((a, b) => a.calledAtMs - b.calledAtMs);
}

export interface EventRow {
  key: string;
  seq: number;
  type: string;
  atMs: number;
  at: string;
  data: Record<string, unknown>;
}

export function eventRowsFromDetail(detail: CallDetail): EventRow[] {
  return detail.events.map((e) => ({ key: `s${e.seq}`, seq: e.seq, type: e.type, atMs: e.atMs, at: e.at, data: e.data }));
}

export function eventRowsFromLive(call: CallState): EventRow[] {
  return call.events.map((event: CallEvent, index) => {
    const { type, atMs, at, callId: _callId, callSid: _callSid, ...data } = event;
    return { key: `l${index}`, seq: index + 1, type, atMs, at, data: data as Record<string, unknown> };
  });
}
