// Client events of the GA protocol (realtime-fields.md, "ga client events"). Every event may carry
// an `event_id` (≤ 512 chars), which the server echoes only in `error.event_id`.

import type { RealtimeItem } from './items.js';
import type { ResponseCreateParams } from './response.js';
import type { SessionConfig } from './session.js';

interface ClientEventCommon {
  event_id?: string;
}

export interface SessionUpdateEvent extends ClientEventCommon {
  type: 'session.update';
  session: SessionConfig;
}
export interface InputAudioBufferAppendEvent extends ClientEventCommon {
  type: 'input_audio_buffer.append';
  /** Base64 audio in the session's input format, ≤ 15 MiB. */
  audio: string;
}
export interface InputAudioBufferCommitEvent extends ClientEventCommon {
  type: 'input_audio_buffer.commit';
}
export interface InputAudioBufferClearEvent extends ClientEventCommon {
  type: 'input_audio_buffer.clear';
}
/** WebRTC/SIP only. */
export interface OutputAudioBufferClearEvent extends ClientEventCommon {
  type: 'output_audio_buffer.clear';
}
export interface ConversationItemCreateEvent extends ClientEventCommon {
  type: 'conversation.item.create';
  /** Insert after this item; `"root"` inserts at the start; absent appends. */
  previous_item_id?: string;
  item: RealtimeItem;
}
export interface ConversationItemRetrieveEvent extends ClientEventCommon {
  type: 'conversation.item.retrieve';
  item_id: string;
}
export interface ConversationItemTruncateEvent extends ClientEventCommon {
  type: 'conversation.item.truncate';
  item_id: string;
  /** Always 0 in practice. */
  content_index: number;
  /** Milliseconds of the item's audio the user heard. */
  audio_end_ms: number;
}
export interface ConversationItemDeleteEvent extends ClientEventCommon {
  type: 'conversation.item.delete';
  item_id: string;
}
export interface ResponseCreateEvent extends ClientEventCommon {
  type: 'response.create';
  response?: ResponseCreateParams;
}
export interface ResponseCancelEvent extends ClientEventCommon {
  type: 'response.cancel';
  /** Absent: the in-progress response of the default conversation. */
  response_id?: string;
}

export type RealtimeClientEvent =
  | SessionUpdateEvent
  | InputAudioBufferAppendEvent
  | InputAudioBufferCommitEvent
  | InputAudioBufferClearEvent
  | OutputAudioBufferClearEvent
  | ConversationItemCreateEvent
  | ConversationItemRetrieveEvent
  | ConversationItemTruncateEvent
  | ConversationItemDeleteEvent
  | ResponseCreateEvent
  | ResponseCancelEvent;

export type RealtimeClientEventType = RealtimeClientEvent['type'];

/** In the order the live service lists them in its `invalid_value` error for an unknown `type`. */
export const CLIENT_EVENT_TYPES: readonly RealtimeClientEventType[] = [
  'session.update',
  'input_audio_buffer.append',
  'input_audio_buffer.commit',
  'input_audio_buffer.clear',
  'output_audio_buffer.clear',
  'conversation.item.create',
  'conversation.item.truncate',
  'conversation.item.delete',
  'conversation.item.retrieve',
  'response.create',
  'response.cancel',
];
