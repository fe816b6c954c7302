// Twilio: the Media Streams codec (pure), TwiML, request signatures, stream tokens, REST call control.
export * from './media-stream.js';
export * from './twiml.js';
export * from './signature.js';
export * from './stream-token.js';
export * from './call-control.js';
