// Twilio's side of an inbound call into a running Koe: the signed voice webhook, the TwiML answer, then the
// media stream opened with the <Stream> URL and <Parameter>s Koe returned. Independent of src/twilio (its
// own TwiML parsing and signing through the official package) so it checks Koe rather than mirroring it.
import twilio from 'twilio';
import { randomSid, SimulatedTwilioCall } from './simulated-twilio-call.js';
import type { SimulatedTwilioCallOptions } from './simulated-twilio-call.js';

export interface PlaceCallOptions {
  /** Koe's base URL, e.g. http://127.0.0.1:5050 */
  baseUrl: string;
  from?: string;
  to?: string;
  callSid?: string;
  accountSid?: string;
  /** Sign the webhook and the stream upgrade like Twilio (needed when Koe has TWILIO_AUTH_TOKEN). */
  authToken?: string;
  /** Passed to the simulated media stream. */
  stream?: Omit<SimulatedTwilioCallOptions, 'url' | 'callSid' | 'accountSid' | 'customParameters' | 'signWith'>;
  timeoutMs?: number;
}

export interface PlacedCall {
  callSid: string;
  call: SimulatedTwilioCall;
  /** The <Parameter>s Koe put in its TwiML (including the stream token). */
  parameters: Record<string, string>;
}

/** Places the call and returns once the media stream is connected and `start` was sent. */
export async function placeInboundCall(opts: PlaceCallOptions): Promise<PlacedCall> {
  const callSid = opts.callSid ?? randomSid('CA');
  const accountSid = opts.accountSid ?? randomSid('AC');
  const params: Record<string, string> = {
    CallSid: callSid,
    AccountSid: accountSid,
    From: opts.from ?? '+15550100100',
    To: opts.to ?? '+15550100199',
    CallStatus: 'ringing',
    Direction: 'inbound',
    ApiVersion: '2010-04-01',
  };
  const webhookUrl = `${opts.baseUrl.replace(/\/$/, '')}/twilio/voice`;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (opts.authToken) headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(opts.authToken, webhookUrl, params);
  const res = await fetch(webhookUrl, {
    method: 'POST',
    headers,
    body: new URLSearchParams(params),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
  });
  const twiml = await res.text();
  if (res.status !== 200) throw new Error(`Koe's voice webhook answered HTTP ${res.status}: ${twiml.slice(0, 200)}`);
  const { url, parameters } = parseStreamTwiml(twiml);
  const call = await SimulatedTwilioCall.connect({
    ...opts.stream,
    url,
    callSid,
    accountSid,
    customParameters: parameters,
    ...(opts.authToken ? { signWith: { authToken: opts.authToken, url } } : {}),
  });
  return { callSid, call, parameters };
}

/** The <Stream url> and its <Parameter>s from Koe's <Connect><Stream> answer. */
export function parseStreamTwiml(twiml: string): { url: string; parameters: Record<string, string> } {
  const url = /<Stream[^>]*\surl="([^"]+)"/.exec(twiml)?.[1];
  if (!url) throw new Error(`no <Stream url> in the TwiML: ${twiml.slice(0, 200)}`);
  const parameters: Record<string, string> = {};
  for (const match of twiml.matchAll(/<Parameter name="([^"]*)" value="([^"]*)"\s*\/>/g)) {
    parameters[unescapeXml(match[1] as string)] = unescapeXml(match[2] as string);
  }
  return { url: unescapeXml(url), parameters };
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (_m, name: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[name] as string);
}
