// One reducer turns a call's events into what the dashboard shows. The live view replays a snapshot
// through it and then applies each new event, so both paths build exactly the same state.
import type { AgentState, CallEndReason, CallEvent, CallInfo, TokenUsage } from '../api/types.js';
import { addUsage as sumUsage } from '../../../src/call/call-events.js';

export type TimelineItem =
  | {
      kind: 'user';
      key: string;
      atMs: number;
      itemId: string;
      text: string | null;
      source: 'speech' | 'dtmf';
      startedAtMs: number;
      endedAtMs: number;
    }
  | {
      kind: 'assistant';
      key: string;
      atMs: number;
      itemId: string;
      text: string;
      heardText: string;
      interrupted: boolean;
      greeting: boolean;
      startedAtMs: number;
      endedAtMs: number;
      latencyMs: number | null;
      audioMs: number | null;
      heardMs: number | null;
    }
  | { kind: 'partial'; key: string; atMs: number; itemId: string; role: 'user' | 'assistant'; text: string }
  | { kind: 'barge_in'; key: string; atMs: number; heardMs: number; sentMs: number }
  | {
      kind: 'tool';
      key: string;
      atMs: number;
      toolCallId: string;
      name: string;
      arguments: unknown;
      result: { ok: boolean | null; output: string | null; durationMs: number | null } | null;
    }
  | { kind: 'dtmf'; key: string; atMs: number; direction: 'received' | 'sent'; digits: string }
  | { kind: 'error'; key: string; atMs: number; message: string; code: string | null; fatal: boolean }
  | { kind: 'reconnected'; key: string; atMs: number; attempt: number }
  | { kind: 'ended'; key: string; atMs: number; reason: CallEndReason | null; durationMs: number | null };

export type TurnItem = Extract<TimelineItem, { kind: 'user' | 'assistant' }>;

export interface CallState {
  callId: string;
  callSid: string;
  processId: string | null;
  info: CallInfo | null;
  variables: Record<string, string>;
  agentState: AgentState;
  /** Wall-clock start (ISO) of the media stream, from the first event seen. */
  startedAt: string;
  lastAtMs: number;
  items: TimelineItem[];
  usage: TokenUsage | null;
  ended: { reason: CallEndReason | null; durationMs: number | null } | null;
  eventCount: number;
  /** Every event but transcript deltas, for the events table. */
  events: CallEvent[];
}

export function emptyCallState(first: Pick<CallEvent, 'callId' | 'callSid' | 'at' | 'atMs'>, processId: string | null): CallState {
  const startedAt = new Date(Date.parse(first.at) - first.atMs);
  return {
    callId: first.callId,
    callSid: first.callSid,
    processId,
    info: null,
    variables: {},
    agentState: 'connecting',
    startedAt: Number.isNaN(startedAt.getTime()) ? first.at : startedAt.toISOString(),
    lastAtMs: 0,
    items: [],
    usage: null,
    ended: null,
    eventCount: 0,
    events: [],
  };
}

function replaceByItemId(items: TimelineItem[], itemId: string, next: TimelineItem): TimelineItem[] {
  const at = items.findIndex((item) => (item.kind === 'partial' || item.kind === 'user' || item.kind === 'assistant') && item.itemId === itemId);
  if (at < 0) return [...items, next];
  const copy = items.slice();
  copy[at] = next;
  return copy;
}

function addUsage(a: TokenUsage | null, b: TokenUsage): TokenUsage {
  return a ? sumUsage(a, b) : { ...b };
}

/** Pure: the state after one more event. Unknown event types leave the state as it was. */
export function reduceCallEvent(state: CallState, event: CallEvent): CallState {
  const base: CallState = {
    ...state,
    lastAtMs: Math.max(state.lastAtMs, event.atMs),
    eventCount: state.eventCount + 1,
    events: event.type === 'transcript.partial' ? state.events : [...state.events, event],
  };
  const key = `${event.type}:${state.eventCount}`;
  switch (event.type) {
    case 'call.started':
      return { ...base, info: event.call, variables: event.variables };
    case 'agent.state':
      return { ...base, agentState: event.state };
    case 'transcript.partial': {
      const existing = state.items.find((item) => 'itemId' in item && item.itemId === event.itemId);
      // A final turn is never turned back into a partial by a late delta.
      if (existing && existing.kind !== 'partial') return base;
      const atMs = existing ? existing.atMs : event.atMs;
      const next: TimelineItem = { kind: 'partial', key: existing?.key ?? key, atMs, itemId: event.itemId, role: event.role, text: event.text };
      return { ...base, items: replaceByItemId(state.items, event.itemId, next) };
    }
    case 'turn.user':
      return {
        ...base,
        items: replaceByItemId(state.items, event.itemId, {
          kind: 'user',
          key: `turn:${event.itemId}`,
          atMs: event.startedAtMs,
          itemId: event.itemId,
          text: event.text,
          source: event.source,
          startedAtMs: event.startedAtMs,
          endedAtMs: event.endedAtMs,
        }),
      };
    case 'turn.assistant':
      return {
        ...base,
        items: replaceByItemId(state.items, event.itemId, {
          kind: 'assistant',
          key: `turn:${event.itemId}`,
          atMs: event.startedAtMs,
          itemId: event.itemId,
          text: event.text,
          heardText: event.heardText,
          interrupted: event.interrupted,
          greeting: event.greeting,
          startedAtMs: event.startedAtMs,
          endedAtMs: event.endedAtMs,
          latencyMs: event.latencyMs,
          audioMs: event.audioMs,
          heardMs: event.heardMs,
        }),
      };
    case 'barge_in':
      return { ...base, items: [...state.items, { kind: 'barge_in', key, atMs: event.atMs, heardMs: event.heardMs, sentMs: event.sentMs }] };
    case 'tool.called':
      return {
        ...base,
        items: [
          ...state.items,
          { kind: 'tool', key: `tool:${event.toolCallId}`, atMs: event.atMs, toolCallId: event.toolCallId, name: event.name, arguments: event.arguments, result: null },
        ],
      };
    case 'tool.result': {
      const result = { ok: event.ok, output: event.output, durationMs: event.durationMs };
      const at = state.items.findIndex((item) => item.kind === 'tool' && item.toolCallId === event.toolCallId);
      if (at < 0) {
        return {
          ...base,
          items: [
            ...state.items,
            { kind: 'tool', key: `tool:${event.toolCallId}`, atMs: event.atMs - event.durationMs, toolCallId: event.toolCallId, name: event.name, arguments: null, result },
          ],
        };
      }
      const items = state.items.slice();
      items[at] = { ...(items[at] as Extract<TimelineItem, { kind: 'tool' }>), result };
      return { ...base, items };
    }
    case 'dtmf.received':
    case 'dtmf.sent':
      return {
        ...base,
        items: [...state.items, { kind: 'dtmf', key, atMs: event.atMs, direction: event.type === 'dtmf.sent' ? 'sent' : 'received', digits: event.digits }],
      };
    case 'model.usage':
      return { ...base, usage: addUsage(state.usage, event.usage) };
    case 'model.error':
      return { ...base, items: [...state.items, { kind: 'error', key, atMs: event.atMs, message: event.message, code: event.code, fatal: event.fatal }] };
    case 'call.error':
      return { ...base, items: [...state.items, { kind: 'error', key, atMs: event.atMs, message: event.message, code: null, fatal: false }] };
    case 'model.reconnected':
      return { ...base, items: [...state.items, { kind: 'reconnected', key, atMs: event.atMs, attempt: event.attempt }] };
    case 'call.ended':
      return {
        ...base,
        agentState: 'ended',
        usage: event.usage,
        ended: { reason: event.reason, durationMs: event.durationMs },
        // Partials left behind by the end will never be finalized.
        items: [
          ...state.items.filter((item) => item.kind !== 'partial' || item.text.trim() !== ''),
          { kind: 'ended', key, atMs: event.atMs, reason: event.reason, durationMs: event.durationMs },
        ],
      };
    default:
      return base;
  }
}

/** Builds a call's state from its events, oldest first (a snapshot from WS /api/live). */
export function replayCallEvents(events: readonly CallEvent[], processId: string | null): CallState | null {
  const first = events[0];
  if (!first) return null;
  return events.reduce(reduceCallEvent, emptyCallState(first, processId));
}

/** The timeline in call order: by offset, arrival order breaking ties. */
export function orderedTimeline(items: readonly TimelineItem[]): TimelineItem[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => a.item.atMs - b.item.atMs || a.index - b.index)
    .map(({ item }) => item);
}

export function turnsOf(items: readonly TimelineItem[]): TurnItem[] {
  return items.filter((item): item is TurnItem => item.kind === 'user' || item.kind === 'assistant').sort((a, b) => a.startedAtMs - b.startedAtMs);
}
