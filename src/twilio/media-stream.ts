// Twilio Media Streams wire codec (protocol/twilio.md §1, §2). Pure: no sockets, no clocks, no logging.
// Decoding never throws on bad wire input; it returns a typed error the caller can log and count.
// Encoding throws on misuse (a bad streamSid or mark name is a bug on our side, not wire input).

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

export interface TwilioConnectedMessage {
  event: 'connected';
  protocol: string;
  version: string;
}

export interface TwilioMediaFormat {
  encoding: string;
  sampleRate: number;
  channels: number;
}

export interface TwilioStartMessage {
  event: 'start';
  sequenceNumber: number;
  streamSid: string;
  start: {
    accountSid: string;
    streamSid: string;
    callSid: string;
    tracks: string[];
    mediaFormat: TwilioMediaFormat;
    customParameters: Record<string, string>;
  };
}

export interface TwilioMediaMessage {
  event: 'media';
  sequenceNumber: number;
  streamSid: string;
  media: {
    track: string;
    chunk: number;
    /** Milliseconds since the stream started, on Twilio's stream clock (it can jump over silence). */
    timestamp: number;
    /** Decoded μ-law 8 kHz mono bytes. */
    payload: Buffer;
  };
}

export interface TwilioDtmfMessage {
  event: 'dtmf';
  sequenceNumber: number;
  streamSid: string;
  dtmf: { track: string; digit: string };
}

export interface TwilioMarkMessage {
  event: 'mark';
  sequenceNumber: number;
  streamSid: string;
  mark: { name: string };
}

export interface TwilioStopMessage {
  event: 'stop';
  sequenceNumber: number;
  streamSid: string;
  stop: { accountSid: string; callSid: string };
}

export type TwilioInbound =
  | TwilioConnectedMessage
  | TwilioStartMessage
  | TwilioMediaMessage
  | TwilioDtmfMessage
  | TwilioMarkMessage
  | TwilioStopMessage;

export type TwilioInboundEvent = TwilioInbound['event'];

export type DecodeErrorKind =
  | 'too_large'
  | 'invalid_json'
  | 'not_an_object'
  | 'unknown_event'
  | 'invalid_fields'
  | 'bad_base64';

export interface DecodeError {
  kind: DecodeErrorKind;
  detail: string;
}

export type DecodeResult = { ok: true; message: TwilioInbound } | { ok: false; error: DecodeError };

export interface DecodeOptions {
  /** Largest accepted message in bytes (UTF-8). Default 64 KiB. */
  maxBytes?: number;
}

type JsonObject = Record<string, unknown>;

// Thrown only inside this module and turned into a DecodeResult before returning.
class FieldError extends Error {
  constructor(
    readonly kind: 'invalid_fields' | 'bad_base64',
    detail: string,
  ) {
    super(detail);
  }
}

function fail(kind: DecodeErrorKind, detail: string): DecodeResult {
  return { ok: false, error: { kind, detail } };
}

export function decodeTwilioMessage(raw: string | Buffer, opts?: DecodeOptions): DecodeResult {
  const maxBytes = opts?.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  let text: string;
  if (typeof raw === 'string') {
    // A UTF-8 byte count is never below the UTF-16 length, and at most three times it:
    // the exact count is only needed in between.
    if (raw.length > maxBytes || (raw.length * 3 > maxBytes && Buffer.byteLength(raw, 'utf8') > maxBytes)) {
      return fail('too_large', `message exceeds ${maxBytes} bytes`);
    }
    text = raw;
  } else {
    if (raw.length > maxBytes) return fail('too_large', `message is ${raw.length} bytes, limit ${maxBytes}`);
    text = raw.toString('utf8');
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return fail('invalid_json', (err as Error).message);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail('not_an_object', `expected a JSON object, got ${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  const msg = parsed as JsonObject;
  const event = msg['event'];
  if (typeof event !== 'string') return fail('invalid_fields', 'event: expected a string');

  try {
    switch (event) {
      case 'media':
        return { ok: true, message: decodeMedia(msg) };
      case 'mark':
        return {
          ok: true,
          message: {
            event: 'mark',
            sequenceNumber: counter(msg['sequenceNumber'], 'sequenceNumber'),
            streamSid: sid(msg['streamSid'], 'streamSid'),
            mark: { name: str(object(msg['mark'], 'mark')['name'], 'mark.name') },
          },
        };
      case 'dtmf':
        return { ok: true, message: decodeDtmf(msg) };
      case 'start':
        return { ok: true, message: decodeStart(msg) };
      case 'stop': {
        const stop = object(msg['stop'], 'stop');
        return {
          ok: true,
          message: {
            event: 'stop',
            sequenceNumber: counter(msg['sequenceNumber'], 'sequenceNumber'),
            streamSid: sid(msg['streamSid'], 'streamSid'),
            stop: { accountSid: sid(stop['accountSid'], 'stop.accountSid'), callSid: sid(stop['callSid'], 'stop.callSid') },
          },
        };
      }
      case 'connected':
        return {
          ok: true,
          message: {
            event: 'connected',
            protocol: str(msg['protocol'], 'protocol'),
            version: str(msg['version'], 'version'),
          },
        };
      default:
        return fail('unknown_event', `unknown event ${JSON.stringify(event.slice(0, 64))}`);
    }
  } catch (err) {
    if (err instanceof FieldError) return fail(err.kind, err.message);
    throw err;
  }
}

// The hot path: 50 messages/s per call. Plain property reads and a table-driven base64 check.
function decodeMedia(msg: JsonObject): TwilioMediaMessage {
  const media = object(msg['media'], 'media');
  const payload = media['payload'];
  if (typeof payload !== 'string') throw new FieldError('invalid_fields', 'media.payload: expected a string');
  if (!isBase64(payload)) throw new FieldError('bad_base64', 'media.payload: not valid base64');
  return {
    event: 'media',
    sequenceNumber: counter(msg['sequenceNumber'], 'sequenceNumber'),
    streamSid: sid(msg['streamSid'], 'streamSid'),
    media: {
      track: str(media['track'], 'media.track'),
      chunk: counter(media['chunk'], 'media.chunk'),
      timestamp: counter(media['timestamp'], 'media.timestamp'),
      payload: Buffer.from(payload, 'base64'),
    },
  };
}

const DTMF_DIGITS = new Set(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D']);

function decodeDtmf(msg: JsonObject): TwilioDtmfMessage {
  const dtmf = object(msg['dtmf'], 'dtmf');
  const digit = str(dtmf['digit'], 'dtmf.digit');
  if (!DTMF_DIGITS.has(digit)) throw new FieldError('invalid_fields', `dtmf.digit: not a DTMF key: ${JSON.stringify(digit.slice(0, 8))}`);
  return {
    event: 'dtmf',
    sequenceNumber: counter(msg['sequenceNumber'], 'sequenceNumber'),
    streamSid: sid(msg['streamSid'], 'streamSid'),
    dtmf: { track: str(dtmf['track'], 'dtmf.track'), digit },
  };
}

function decodeStart(msg: JsonObject): TwilioStartMessage {
  const streamSid = sid(msg['streamSid'], 'streamSid');
  const start = object(msg['start'], 'start');
  const innerStreamSid = sid(start['streamSid'], 'start.streamSid');
  if (innerStreamSid !== streamSid) {
    throw new FieldError('invalid_fields', 'start.streamSid: differs from the top-level streamSid');
  }
  const tracksRaw = start['tracks'];
  if (!Array.isArray(tracksRaw) || tracksRaw.length === 0 || !tracksRaw.every((t) => typeof t === 'string')) {
    throw new FieldError('invalid_fields', 'start.tracks: expected a non-empty array of strings');
  }
  const format = object(start['mediaFormat'], 'start.mediaFormat');
  const sampleRate = format['sampleRate'];
  const channels = format['channels'];
  if (typeof sampleRate !== 'number' || !Number.isInteger(sampleRate) || sampleRate <= 0) {
    throw new FieldError('invalid_fields', 'start.mediaFormat.sampleRate: expected a positive integer');
  }
  if (typeof channels !== 'number' || !Number.isInteger(channels) || channels <= 0) {
    throw new FieldError('invalid_fields', 'start.mediaFormat.channels: expected a positive integer');
  }
  return {
    event: 'start',
    sequenceNumber: counter(msg['sequenceNumber'], 'sequenceNumber'),
    streamSid,
    start: {
      accountSid: sid(start['accountSid'], 'start.accountSid'),
      streamSid,
      callSid: sid(start['callSid'], 'start.callSid'),
      tracks: [...(tracksRaw as string[])],
      mediaFormat: { encoding: str(format['encoding'], 'start.mediaFormat.encoding'), sampleRate, channels },
      customParameters: stringMap(start['customParameters'], 'start.customParameters'),
    },
  };
}

function object(value: unknown, field: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FieldError('invalid_fields', `${field}: expected an object`);
  }
  return value as JsonObject;
}

function str(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new FieldError('invalid_fields', `${field}: expected a string`);
  return value;
}

function sid(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new FieldError('invalid_fields', `${field}: expected a non-empty string`);
  }
  return value;
}

// Twilio sends counters as decimal strings; a plain non-negative integer number is accepted too,
// since it carries the same value and costs nothing to allow.
function counter(value: unknown, field: string): number {
  if (typeof value === 'string') {
    const n = value.length;
    if (n === 0 || n > 15) throw new FieldError('invalid_fields', `${field}: expected a decimal integer string`);
    let result = 0;
    for (let i = 0; i < n; i++) {
      const d = value.charCodeAt(i) - 48;
      if (d < 0 || d > 9) throw new FieldError('invalid_fields', `${field}: expected a decimal integer string`);
      result = result * 10 + d;
    }
    return result;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new FieldError('invalid_fields', `${field}: expected a decimal integer string`);
}

function stringMap(value: unknown, field: string): Record<string, string> {
  // Absent means "no <Parameter>s": Twilio documents `{}` for that case, so treat both alike.
  if (value === undefined) return {};
  const obj = object(value, field);
  const entries: Array<[string, string]> = [];
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (typeof v !== 'string') throw new FieldError('invalid_fields', `${field}.${key.slice(0, 64)}: expected a string`);
    entries.push([key, v]);
  }
  // fromEntries defines own properties, so a "__proto__" key stays data and cannot reach a prototype.
  return Object.fromEntries(entries);
}

// 1 for the standard base64 alphabet (RFC 4648 §4), 0 otherwise. Twilio never sends the URL-safe alphabet.
const BASE64_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') BASE64_CHAR[c.charCodeAt(0)] = 1;
const EQUALS = 61;

/**
 * Standard base64, padded or unpadded; `=` only at the end, at most two, and only where padding fits.
 * Buffer.from(s, 'base64') silently skips bad characters, so this check is what catches corrupt input.
 */
export function isBase64(s: string): boolean {
  let end = s.length;
  if (end > 0 && s.charCodeAt(end - 1) === EQUALS) {
    end--;
    if (end > 0 && s.charCodeAt(end - 1) === EQUALS) end--;
    if (s.length % 4 !== 0) return false;
  }
  if (end % 4 === 1) return false;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || BASE64_CHAR[c] !== 1) return false;
  }
  return true;
}

function requireStreamSid(streamSid: string): void {
  if (typeof streamSid !== 'string' || streamSid.length === 0) throw new TypeError('streamSid must be a non-empty string');
}

/** Outbound `media` (§2.1): exactly `event`, `streamSid`, `media.payload`; any number of μ-law bytes. */
export function encodeMediaMessage(streamSid: string, mulaw: Uint8Array): string {
  requireStreamSid(streamSid);
  const payload = Buffer.from(mulaw.buffer, mulaw.byteOffset, mulaw.byteLength).toString('base64');
  // Base64 needs no JSON escaping, so only the sid goes through JSON.stringify.
  return `{"event":"media","streamSid":${JSON.stringify(streamSid)},"media":{"payload":"${payload}"}}`;
}

/** Outbound `mark` (§2.3): echoed by Twilio once everything queued before it has played (or was cleared). */
export function encodeMarkMessage(streamSid: string, name: string): string {
  requireStreamSid(streamSid);
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('mark name must be a non-empty string');
  // Sent once per outbound chunk: a template instead of stringifying a whole object.
  return `{"event":"mark","streamSid":${JSON.stringify(streamSid)},"mark":{"name":${JSON.stringify(name)}}}`;
}

/** Outbound `clear` (§2.4): drops audio buffered at Twilio and makes it echo every pending mark. */
export function encodeClearMessage(streamSid: string): string {
  requireStreamSid(streamSid);
  return JSON.stringify({ event: 'clear', streamSid });
}
