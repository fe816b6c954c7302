// The wire edge of a client connection: one text frame from the server → GA events, validated.
// Audio and transcript deltas are most of the traffic (hundreds of calls × tens of deltas a
// second), so they skip zod for a hand check of their six fields; everything else goes through
// the schemas in server-schemas.ts. Events of unknown type are kept, not dropped.

import type { RealtimeShape } from './beta.js';
import { renamedServerEventTypeBetaToGa, serverEventBetaToGa, type BetaToGaState } from './beta.js';
import type { BetaServerEvent } from './beta-types.js';
import { serverEventSchemas } from './server-schemas.js';
import { isKnownServerEventType, type RealtimeServerEvent, type UnknownServerEvent } from './server-events.js';

export type ParseServerEventResult = { ok: true; event: RealtimeServerEvent } | { ok: false; reason: string };

type Json = Record<string, unknown>;

const CONTENT_DELTA_TYPES: ReadonlySet<string> = new Set([
  'response.output_audio.delta',
  'response.output_audio_transcript.delta',
  'response.output_text.delta',
]);

function checkContentDelta(event: Json): string | undefined {
  if (typeof event.event_id !== 'string') return 'event_id: expected a string';
  if (typeof event.response_id !== 'string') return 'response_id: expected a string';
  if (typeof event.item_id !== 'string') return 'item_id: expected a string';
  if (typeof event.output_index !== 'number') return 'output_index: expected a number';
  if (typeof event.content_index !== 'number') return 'content_index: expected a number';
  if (typeof event.delta !== 'string') return 'delta: expected a string';
  return undefined;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out || '(event)';
}

/** Validates one JSON-parsed GA server event. Known types are checked; unknown types are kept. */
export function parseServerEvent(json: unknown): ParseServerEventResult {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const event = json as Json;
  const type = event.type;
  if (typeof type !== 'string') return { ok: false, reason: "missing or non-string 'type'" };
  if (CONTENT_DELTA_TYPES.has(type)) {
    const problem = checkContentDelta(event);
    return problem ? { ok: false, reason: `${type}: ${problem}` } : { ok: true, event: event as unknown as RealtimeServerEvent };
  }
  if (!isKnownServerEventType(type)) return { ok: true, event: event as UnknownServerEvent };
  const result = serverEventSchemas[type].safeParse(event);
  if (result.success) {
    // The input, not zod's copy: same object, no extra allocation, unknown fields intact.
    return { ok: true, event: event as unknown as RealtimeServerEvent };
  }
  const issues = result.error.issues.slice(0, 3).map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  return { ok: false, reason: `${type}: ${issues.join('; ')}` };
}

/**
 * One text frame → the GA events it stands for, each validated. A beta frame may stand for two
 * GA events (see beta.ts), or for one invalid one. `state` is the connection's beta memory.
 */
export function decodeServerFrame(text: string, shape: RealtimeShape, state?: BetaToGaState): ParseServerEventResult[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return [{ ok: false, reason: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` }];
  }
  if (shape === 'ga') return [parseServerEvent(json)];
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return [{ ok: false, reason: 'not a JSON object' }];
  const event = json as Json;
  if (typeof event.type !== 'string') return [{ ok: false, reason: "missing or non-string 'type'" }];
  // Hot path: a beta delta only changes its name, and this object is ours, so rename in place.
  const renamed = renamedServerEventTypeBetaToGa(event.type);
  if (renamed !== undefined && renamed.endsWith('.delta')) {
    event.type = renamed;
    return [parseServerEvent(event)];
  }
  return serverEventBetaToGa(event as unknown as BetaServerEvent, state).map((translated) => parseServerEvent(translated));
}
