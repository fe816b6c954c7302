// Server events on their way out: an `event_id` each (realtime.md §c.1), the beta names and shapes for
// a beta client (`serverEventGaToBeta`: one event, or none for `conversation.item.done`), and the
// beta-only fields the GA session does not hold (`temperature`, `client_secret`).

import { newRealtimeId, serverEventGaToBeta, type KnownServerEvent, type RealtimeShape } from '../../realtime/index.js';

type Json = Record<string, unknown>;
type Draft<E> = E extends unknown ? Omit<E, 'event_id'> & { event_id?: string } : never;

/** A known GA server event before its `event_id` is set. */
export type ServerEventDraft = Draft<KnownServerEvent>;
/** Any GA server event, known to Koe or not (tests send new ones), before its `event_id` is set. */
export type AnyServerEventDraft = { type: string; event_id?: string } & Json;

/** One event as it goes on the wire (beta shape for beta clients). Read it; do not change it. */
export type WireEvent = Readonly<{ type: string; event_id: string } & Json>;
/** The transport: sends `text` (the JSON of `event`) as one WebSocket text frame. */
export type WireSend = (text: string, event: WireEvent) => void;

/** The beta `temperature` a session starts with. */
export const DEFAULT_BETA_TEMPERATURE = 0.8;

export class WireWriter {
  readonly shape: RealtimeShape;
  /** Beta sessions report it back; GA has no temperature. */
  betaTemperature = DEFAULT_BETA_TEMPERATURE;
  readonly #send: WireSend;

  constructor(shape: RealtimeShape, send: WireSend) {
    this.shape = shape;
    this.#send = send;
  }

  write(event: ServerEventDraft | AnyServerEventDraft): void {
    const full = { ...event, event_id: typeof event.event_id === 'string' ? event.event_id : newRealtimeId('event') };
    if (this.shape === 'ga') {
      this.#send(JSON.stringify(full), full);
      return;
    }
    for (const out of serverEventGaToBeta(full as never) as unknown as (Json & { type: string; event_id: string })[]) {
      this.#addBetaFields(out);
      this.#send(JSON.stringify(out), out);
    }
  }

  #addBetaFields(event: Json): void {
    if (event.type === 'session.created' || event.type === 'session.updated') {
      const session = event.session as Json;
      session.temperature = this.betaTemperature;
      session.client_secret = null;
    } else if (event.type === 'response.created' || event.type === 'response.done') {
      (event.response as Json).temperature = this.betaTemperature;
    }
  }
}
