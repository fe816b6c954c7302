// Koe's server side of the OpenAI Realtime protocol, without a transport: one `ProtocolSession` per
// socket, driven by a `SessionBrain` (the engine's stages, or a test fake's script).

export type * from './contract.js';
export { ProtocolSession, type FrameData, type ProtocolLog, type ProtocolSessionOptions } from './protocol-session.js';
export { DEFAULT_MODEL, DEFAULT_INSTRUCTIONS, SESSION_LIFETIME_S } from './session-config.js';
export { MIN_COMMIT_MS, protocolErrors, type ProtocolError } from './errors.js';
export type { AnyServerEventDraft, WireEvent, WireSend } from './wire.js';
