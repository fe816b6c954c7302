// Twilio's side of a bidirectional Media Stream (protocol/twilio.md §1–2), spoken by the browser softphone
// so a browser call reaches the same code path as a phone call. Messages have exactly Twilio's fields:
// counters are decimal strings, `connected` has no streamSid, `media` carries track/chunk/timestamp.

export const FRAME_MS = 20;

function hex(bytes: number): string {
  const data = new Uint8Array(bytes);
  crypto.getRandomValues(data);
  return Array.from(data, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A Twilio-shaped SID: two letters and 32 hex digits. */
export function randomSid(prefix: 'MZ' | 'AC' | 'CA'): string {
  return prefix + hex(16);
}

export interface StreamStart {
  callSid: string;
  accountSid: string;
  streamSid: string;
  customParameters: Record<string, string>;
}

/** What the server sends on a bidirectional stream, checked the way Twilio would. */
export type ServerStreamMessage =
  | { event: 'media'; payload: string }
  | { event: 'mark'; name: string }
  | { event: 'clear' }
  | { event: 'invalid'; reason: string };

export function parseServerMessage(data: unknown, streamSid: string): ServerStreamMessage {
  if (typeof data !== 'string') return { event: 'invalid', reason: 'binary frame (Twilio 31950)' };
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    return { event: 'invalid', reason: 'not JSON' };
  }
  if (typeof message !== 'object' || message === null) return { event: 'invalid', reason: 'not an object' };
  const m = message as Record<string, unknown>;
  if (m.streamSid !== streamSid) return { event: 'invalid', reason: `wrong streamSid ${String(m.streamSid)}` };
  switch (m.event) {
    case 'media': {
      const media = m.media as Record<string, unknown> | undefined;
      if (!media || typeof media.payload !== 'string') return { event: 'invalid', reason: 'media.payload missing' };
      return { event: 'media', payload: media.payload };
    }
    case 'mark': {
      const mark = m.mark as Record<string, unknown> | undefined;
      if (!mark || typeof mark.name !== 'string') return { event: 'invalid', reason: 'mark.name missing' };
      return { event: 'mark', name: mark.name };
    }
    case 'clear':
      return { event: 'clear' };
    default:
      return { event: 'invalid', reason: `unknown event ${String(m.event)}` };
  }
}

/** Builds the messages one stream sends, keeping Twilio's counters. */
export class TwilioStreamEncoder {
  readonly #start: StreamStart;
  #sequence = 0;
  #chunk = 0;
  #timestampMs = 0;

  constructor(start: StreamStart) {
    this.#start = start;
  }

  get streamSid(): string {
    return this.#start.streamSid;
  }

  get chunksSent(): number {
    return this.#chunk;
  }

  connected(): string {
    return JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' });
  }

  start(): string {
    const s = this.#start;
    return JSON.stringify({
      event: 'start',
      sequenceNumber: this.#next(),
      start: {
        accountSid: s.accountSid,
        streamSid: s.streamSid,
        callSid: s.callSid,
        tracks: ['inbound'],
        customParameters: s.customParameters,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
      streamSid: s.streamSid,
    });
  }

  /** One frame of caller audio (base64 μ-law); the timestamp follows the audio, 20 ms per 160 bytes. */
  media(payload: string, durationMs = FRAME_MS): string {
    this.#chunk += 1;
    const message = JSON.stringify({
      event: 'media',
      sequenceNumber: this.#next(),
      media: { track: 'inbound', chunk: String(this.#chunk), timestamp: String(this.#timestampMs), payload },
      streamSid: this.#start.streamSid,
    });
    this.#timestampMs += durationMs;
    return message;
  }

  mark(name: string): string {
    return JSON.stringify({ event: 'mark', sequenceNumber: this.#next(), streamSid: this.#start.streamSid, mark: { name } });
  }

  dtmf(digit: string): string {
    return JSON.stringify({ event: 'dtmf', streamSid: this.#start.streamSid, sequenceNumber: this.#next(), dtmf: { track: 'inbound_track', digit } });
  }

  stop(): string {
    return JSON.stringify({
      event: 'stop',
      sequenceNumber: this.#next(),
      stop: { accountSid: this.#start.accountSid, callSid: this.#start.callSid },
      streamSid: this.#start.streamSid,
    });
  }

  #next(): string {
    this.#sequence += 1;
    return String(this.#sequence);
  }
}
