// TwiML documents Koe returns or sends (protocol/twilio.md §3), built with the official VoiceResponse so
// escaping and attribute spelling match Twilio's own helper. Bad input is a programming or configuration
// error, so every builder throws a clear Error instead of emitting TwiML that fails on a live call.
import twilio from 'twilio';

type VoiceResponse = InstanceType<typeof twilio.twiml.VoiceResponse>;
type SayAttributes = Parameters<VoiceResponse['say']>[0] & object;

/** Twilio's documented cap on a TwiML document. */
export const MAX_TWIML_BYTES = 64 * 1024;
/** Per `<Parameter>`: name length + value length must stay under this. */
export const MAX_STREAM_PARAMETER_CHARS = 500;

export interface ConnectStreamOptions {
  /** `wss://host/path` (or `ws://` on a loopback host for local tests); no query string. */
  streamUrl: string;
  /** Arrive as `start.customParameters`. */
  parameters: Record<string, string>;
  /** Stream lifecycle webhook (stream-started / stream-stopped / stream-error). */
  statusCallbackUrl?: string;
}

export interface SpeechOptions {
  text: string;
  /** e.g. `en-US`. */
  language?: string;
  /** e.g. `Polly.Joanna`. */
  voice?: string;
}

export interface TransferOptions {
  /** The party to bridge to: E.164 (`+15558675310`) or plain digits. */
  number: string;
  callerId?: string;
  /** Said to the caller before dialing. */
  announce?: SpeechOptions;
  /** Seconds to ring before giving up (Twilio's default is 30). */
  timeoutSec?: number;
  /** Requested when the dialed leg ends (`DialCallStatus`, …). */
  actionUrl?: string;
}

/**
 * `<Connect><Stream>` for a bidirectional media stream, followed by a deliberate `<Hangup/>`: `<Connect>`
 * blocks until the socket closes, then Twilio runs the next verb, so closing the socket ends the call
 * instead of falling into whatever might follow (§3.5, pitfall 11).
 */
export function connectStreamTwiml(opts: ConnectStreamOptions): string {
  checkStreamUrl(opts.streamUrl);
  if (opts.statusCallbackUrl !== undefined) checkHttpUrl(opts.statusCallbackUrl, 'statusCallbackUrl');
  for (const [name, value] of Object.entries(opts.parameters)) {
    if (name.length === 0) throw new Error('stream parameter names must not be empty');
    if (typeof value !== 'string') throw new Error(`stream parameter ${name} must be a string`);
    if (name.length + value.length >= MAX_STREAM_PARAMETER_CHARS) {
      throw new Error(
        `stream parameter ${name}: name and value together are ${name.length + value.length} characters; Twilio requires fewer than ${MAX_STREAM_PARAMETER_CHARS}`,
      );
    }
  }
  const response = new twilio.twiml.VoiceResponse();
  const stream = response.connect().stream({ url: opts.streamUrl, statusCallback: opts.statusCallbackUrl });
  for (const [name, value] of Object.entries(opts.parameters)) stream.parameter({ name, value });
  response.hangup();
  return finish(response);
}

/** Optional `<Say>` then `<Dial answerOnBridge="true">`, so the caller hears ringing until the far party answers. */
export function transferTwiml(opts: TransferOptions): string {
  if (!/^\+?[0-9]{2,15}$/.test(opts.number)) {
    throw new Error(`transfer number must be E.164 or digits only, got ${JSON.stringify(opts.number)}`);
  }
  if (opts.callerId !== undefined && opts.callerId.length === 0) throw new Error('callerId must not be empty');
  if (opts.timeoutSec !== undefined && (!Number.isInteger(opts.timeoutSec) || opts.timeoutSec < 1 || opts.timeoutSec > 600)) {
    throw new Error(`timeoutSec must be an integer from 1 to 600, got ${opts.timeoutSec}`);
  }
  if (opts.actionUrl !== undefined) checkHttpUrl(opts.actionUrl, 'actionUrl');
  const response = new twilio.twiml.VoiceResponse();
  if (opts.announce !== undefined) say(response, opts.announce);
  response
    .dial({ answerOnBridge: true, callerId: opts.callerId, timeout: opts.timeoutSec, action: opts.actionUrl })
    .number(opts.number);
  return finish(response);
}

/** `<Say>` then `<Hangup/>`: the last words of a call that cannot continue. */
export function sayAndHangupTwiml(opts: SpeechOptions): string {
  const response = new twilio.twiml.VoiceResponse();
  say(response, opts);
  response.hangup();
  return finish(response);
}

function say(response: VoiceResponse, opts: SpeechOptions): void {
  if (typeof opts.text !== 'string' || opts.text.trim().length === 0) throw new Error('text to say must not be empty');
  // The package's unions list today's voices and locales; Twilio adds more, so accept any string.
  const attributes = { language: opts.language, voice: opts.voice } as SayAttributes;
  response.say(attributes, opts.text);
}

function finish(response: VoiceResponse): string {
  const xml = response.toString();
  if (Buffer.byteLength(xml, 'utf8') > MAX_TWIML_BYTES) throw new Error(`TwiML is larger than ${MAX_TWIML_BYTES} bytes`);
  return xml;
}

function checkStreamUrl(raw: string): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`stream URL is not an absolute URL: ${JSON.stringify(raw)}`);
  }
  // Twilio drops the query string (and a fragment never reaches a server): pass data as <Parameter>s.
  if (raw.includes('?') || raw.includes('#')) {
    throw new Error(`stream URL must not have a query string or fragment (use stream parameters): ${raw}`);
  }
  if (url.protocol === 'wss:') return;
  if (url.protocol === 'ws:' && isLoopbackHost(url.hostname)) return;
  throw new Error(`stream URL must use wss:// (ws:// only on a loopback host), got ${raw}`);
}

function checkHttpUrl(raw: string, what: string): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${what} is not an absolute URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${what} must be an http(s) URL, got ${raw}`);
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
