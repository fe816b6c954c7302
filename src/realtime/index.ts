// The Realtime protocol part of Koe: typed events (GA inside), wire validation, GA⇄beta
// translation, ids, and the client connection. Imports nothing from other Koe folders.

export type * from './types.js';
export {
  DEFAULT_AUDIO_FORMAT,
  audioBytesPerMs,
  audioFormatFromBeta,
  audioFormatToBeta,
  audioMsFromBytes,
  base64DecodedLength,
  sampleRateHzOf,
} from './audio-format.js';
export { isAssistantMessage } from './items.js';
export { CLIENT_EVENT_TYPES } from './client-events.js';
export { KNOWN_SERVER_EVENT_TYPES, isKnownServerEvent, isKnownServerEventType } from './server-events.js';
export { newRealtimeId, isRealtimeId, randomAlphanumeric, type RealtimeIdPrefix } from './ids.js';
export {
  clientEventBetaToGa,
  clientEventGaToBeta,
  createBetaToGaState,
  itemBetaToGa,
  itemGaToBeta,
  serverEventBetaToGa,
  serverEventGaToBeta,
  sessionBetaToGa,
  sessionGaToBeta,
  type BetaToGaState,
  type RealtimeShape,
} from './beta.js';
export { parseServerEvent, decodeServerFrame, type ParseServerEventResult } from './server-event-parser.js';
export { serverEventSchemas, serverSessionSchema, itemSchema, responseSchema, audioFormatSchema } from './server-schemas.js';
export { parseClientEvent, parseClientFrame, type ParseClientEventResult } from './client-schemas.js';
export { clientErrorFromIssues, type ClientEventError } from './client-errors.js';
export {
  RealtimeConnection,
  RealtimeConnectError,
  buildRealtimeUrl,
  type RealtimeCloseInfo,
  type RealtimeConnectOptions,
} from './connection.js';
