// Every type of the Realtime protocol Koe knows, in one import. GA is what Koe speaks inside;
// beta shapes are only for the translation in beta.ts.

export type * from './audio-format.js';
export type * from './items.js';
export type * from './session.js';
export type * from './response.js';
export type * from './client-events.js';
export type * from './server-events.js';
export type * from './beta-types.js';
