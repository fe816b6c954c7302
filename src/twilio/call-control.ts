// REST call control (protocol/twilio.md §5) behind a small interface, so the call layer can be tested
// with a fake and never sees the SDK. Implemented with the official client; errors come out as one
// TwilioRestError type carrying a `retryable` verdict (one error taxonomy; the retry policy is the caller's).
import twilio from 'twilio';
import type RequestClientType from 'twilio/lib/base/RequestClient.js';

export const DEFAULT_TWILIO_API_BASE_URL = 'https://api.twilio.com';
export const DEFAULT_REST_TIMEOUT_MS = 10_000;
/** Twilio's limit on inline `Twiml` in REST requests. */
export const MAX_INLINE_TWIML_CHARS = 4000;

/**
 * What `hangUp` found: `hung_up` when Twilio accepted `Status=completed`; `already_ended` when the call
 * was over or unknown (21220 / 20404), which is the goal state, so it resolves instead of rejecting.
 */
export type HangUpOutcome = 'hung_up' | 'already_ended';

export type StatusCallbackEvent = 'initiated' | 'ringing' | 'answered' | 'completed';

export interface CreateCallOptions {
  to: string;
  from: string;
  /** TwiML fetched (signed POST) when the call is answered. One of `url`/`twiml` is required. */
  url?: string;
  /** Inline TwiML, at most 4000 characters. Twilio ignores it when `url` is also given, so pass only one. */
  twiml?: string;
  statusCallback?: string;
  statusCallbackEvents?: string[];
  machineDetection?: 'Enable' | 'DetectMessageEnd';
  asyncAmd?: boolean;
  asyncAmdStatusCallback?: string;
  record?: boolean;
  /** Seconds to ring before `no-answer` (Twilio: default 60, max 600). */
  timeoutSec?: number;
}

export interface CreatedCall {
  sid: string;
  status: string;
}

export interface CallControl {
  /** `Status=completed`: ends a live call, or cancels one still queued or ringing. */
  hangUp(callSid: string): Promise<HangUpOutcome>;
  /** Replaces the call's running TwiML (this ends an active `<Connect><Stream>`). */
  redirect(callSid: string, twiml: string): Promise<void>;
  createCall(opts: CreateCallOptions): Promise<CreatedCall>;
}

export interface TwilioRestErrorInit {
  message: string;
  status: number | null;
  code: number | null;
  moreInfo: string | null;
  cause?: unknown;
  /** Overrides the verdict derived from status and code. */
  retryable?: boolean;
}

/**
 * A failed REST request. `status`/`code`/`moreInfo` are null when no HTTP answer arrived (connection
 * refused or reset, timeout). `retryable` is true for 429/20429, 5xx and network errors. A 429 was
 * never processed; after a 5xx or a timeout on `createCall` the call may nonetheless have been placed.
 */
export class TwilioRestError extends Error {
  readonly status: number | null;
  readonly code: number | null;
  readonly moreInfo: string | null;
  readonly retryable: boolean;

  constructor(init: TwilioRestErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'TwilioRestError';
    this.status = init.status;
    this.code = init.code;
    this.moreInfo = init.moreInfo;
    this.retryable =
      init.retryable ??
      (init.status === null || init.status === 429 || init.code === 20429 || (init.status >= 500 && init.status <= 599));
  }
}

export interface TwilioCallControlOptions {
  accountSid: string;
  authToken: string;
  /** Where the REST API lives; set it to reach a fake or a proxy. Default `https://api.twilio.com`. */
  apiBaseUrl?: string;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
}

type RequestOptions<TData> = RequestClientType.RequestOptions<TData>;

// twilio-node builds absolute URLs on *.twilio.com (api.twilio.com, or a regional host when
// TWILIO_REGION/TWILIO_EDGE are set) and hands them to the http client: the one place to redirect them.
class BaseUrlRequestClient extends twilio.RequestClient {
  readonly #apiBaseUrl: string;

  constructor(apiBaseUrl: string, opts: RequestClientType.RequestClientOptions) {
    super(opts);
    this.#apiBaseUrl = apiBaseUrl.replace(/\/+$/, '');
  }

  override request<TData>(opts: RequestOptions<TData>) {
    const url = new URL(opts.uri);
    const uri = url.hostname === 'twilio.com' || url.hostname.endsWith('.twilio.com') ? `${this.#apiBaseUrl}${url.pathname}${url.search}` : opts.uri;
    return super.request({ ...opts, uri });
  }
}

export function createTwilioCallControl(opts: TwilioCallControlOptions): CallControl {
  if (!/^AC[0-9a-fA-F]{32}$/.test(opts.accountSid)) throw new Error('accountSid must be AC followed by 32 hex digits');
  if (!opts.authToken) throw new Error('authToken is required');
  const timeoutMs = opts.timeoutMs ?? DEFAULT_REST_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`);
  const apiBaseUrl = opts.apiBaseUrl ?? DEFAULT_TWILIO_API_BASE_URL;
  const base = new URL(apiBaseUrl);
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error(`apiBaseUrl must be http(s), got ${apiBaseUrl}`);

  const clientOpts: RequestClientType.RequestClientOptions = { timeout: timeoutMs };
  const httpClient = opts.apiBaseUrl === undefined ? new twilio.RequestClient(clientOpts) : new BaseUrlRequestClient(apiBaseUrl, clientOpts);
  const client = twilio(opts.accountSid, opts.authToken, { httpClient });

  return {
    async hangUp(callSid) {
      checkCallSid(callSid);
      try {
        await client.calls(callSid).update({ status: 'completed' });
        return 'hung_up';
      } catch (err) {
        const error = toTwilioRestError(err);
        if (error.code === 21220 || error.code === 20404) return 'already_ended';
        throw error;
      }
    },

    async redirect(callSid, twiml) {
      checkCallSid(callSid);
      checkInlineTwiml(twiml);
      try {
        await client.calls(callSid).update({ twiml });
      } catch (err) {
        throw toTwilioRestError(err);
      }
    },

    async createCall(call) {
      if (!call.to || !call.from) throw new TypeError('createCall needs both to and from');
      if ((call.url === undefined) === (call.twiml === undefined)) throw new TypeError('createCall needs exactly one of url or twiml');
      if (call.twiml !== undefined) checkInlineTwiml(call.twiml);
      if (call.timeoutSec !== undefined && (!Number.isInteger(call.timeoutSec) || call.timeoutSec < 1 || call.timeoutSec > 600)) {
        throw new RangeError(`timeoutSec must be an integer from 1 to 600, got ${call.timeoutSec}`);
      }
      try {
        const created = await client.calls.create({
          to: call.to,
          from: call.from,
          url: call.url,
          twiml: call.twiml,
          statusCallback: call.statusCallback,
          statusCallbackEvent: call.statusCallbackEvents,
          statusCallbackMethod: call.statusCallback === undefined ? undefined : 'POST',
          machineDetection: call.machineDetection,
          asyncAmd: call.asyncAmd === undefined ? undefined : String(call.asyncAmd),
          asyncAmdStatusCallback: call.asyncAmdStatusCallback,
          asyncAmdStatusCallbackMethod: call.asyncAmdStatusCallback === undefined ? undefined : 'POST',
          record: call.record,
          timeout: call.timeoutSec,
        });
        return { sid: created.sid, status: created.status };
      } catch (err) {
        throw toTwilioRestError(err);
      }
    },
  };
}

function checkCallSid(callSid: string): void {
  if (typeof callSid !== 'string' || !/^CA[0-9a-fA-F]{32}$/.test(callSid)) {
    throw new TypeError(`not a call SID: ${JSON.stringify(callSid)}`);
  }
}

function checkInlineTwiml(twiml: string): void {
  if (typeof twiml !== 'string' || twiml.length === 0) throw new TypeError('twiml must be a non-empty string');
  if (twiml.length > MAX_INLINE_TWIML_CHARS) {
    throw new RangeError(`inline TwiML is ${twiml.length} characters; Twilio accepts at most ${MAX_INLINE_TWIML_CHARS}`);
  }
}

/** Maps what the official client throws (RestException, RFC 9457 TwilioServiceException, axios errors). */
export function toTwilioRestError(err: unknown): TwilioRestError {
  if (err instanceof TwilioRestError) return err;
  if (err instanceof twilio.RestException) {
    return new TwilioRestError({
      message: err.message || `Twilio answered HTTP ${err.status}`,
      status: err.status,
      code: typeof err.code === 'number' ? err.code : null,
      moreInfo: typeof err.moreInfo === 'string' ? err.moreInfo : null,
      cause: err,
    });
  }
  if (typeof err === 'object' && err !== null) {
    const e = err as Record<string, unknown>;
    // TwilioServiceException (RFC 9457 body: type, title, status, code, detail) is not exported by the package.
    if (typeof e['status'] === 'number' && typeof e['code'] === 'number' && typeof e['title'] === 'string') {
      return new TwilioRestError({
        message: typeof e['detail'] === 'string' ? e['detail'] : e['title'],
        status: e['status'],
        code: e['code'],
        moreInfo: typeof e['type'] === 'string' ? e['type'] : null,
        cause: err,
      });
    }
    if (e['isAxiosError'] === true) {
      const code = typeof e['code'] === 'string' ? e['code'] : 'network error';
      const message = typeof e['message'] === 'string' ? e['message'] : code;
      return new TwilioRestError({ message: `Twilio request failed: ${code}: ${message}`, status: null, code: null, moreInfo: null, cause: err });
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  // Anything else is a bug (ours or the SDK's): not worth retrying.
  return new TwilioRestError({ message: `Twilio request failed: ${message}`, status: null, code: null, moreInfo: null, cause: err, retryable: false });
}
