// A local fake of Twilio's REST API for calls (protocol/twilio.md §5), on a real HTTP server on loopback.
// Point the official client at it (createTwilioCallControl({ apiBaseUrl })) or talk to it with fetch.
//
// Layers, so outbound-call tests can grow it into "Twilio places the call, fetches Koe's TwiML, opens the
// media stream": FakeCallStore holds call state and transition rules (no HTTP); the server only parses,
// authenticates and answers; `onCallCreated`/`onCallUpdated` hooks let a test drive what happens next.
//
// Codes beyond §5 (21201, 21212, 21213, 21205, 32018) are Twilio's documented ones; 20001 is used for
// "bad parameter value" cases whose exact code Twilio does not document.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FormParams = Record<string, string | string[]>;

export type FakeCallStatus =
  | 'queued'
  | 'initiated'
  | 'ringing'
  | 'in-progress'
  | 'completed'
  | 'busy'
  | 'no-answer'
  | 'failed'
  | 'canceled';

const ENDED: ReadonlySet<FakeCallStatus> = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);

export interface FakeCallUpdate {
  atMs: number;
  params: FormParams;
}

export interface FakeCallRecord {
  sid: string;
  accountSid: string;
  to: string;
  from: string;
  status: FakeCallStatus;
  direction: 'inbound' | 'outbound-api';
  url: string | null;
  method: string;
  twiml: string | null;
  statusCallback: string | null;
  statusCallbackMethod: string;
  statusCallbackEvents: string[];
  machineDetection: string | null;
  asyncAmd: boolean;
  asyncAmdStatusCallback: string | null;
  asyncAmdStatusCallbackMethod: string;
  /** Requested when `url` fails (non-2xx or unreachable). */
  fallbackUrl: string | null;
  fallbackMethod: string;
  record: boolean;
  timeoutSec: number;
  answeredBy: string | null;
  /** How long the call waits in `queued` for the account's CPS slot; the resource's `queue_time`. Set by onCallCreating. */
  queueTimeMs: number;
  dateCreated: Date;
  dateUpdated: Date;
  startTime: Date | null;
  endTime: Date | null;
  /** Every accepted update, in order (Status, Twiml, Url …). */
  updates: FakeCallUpdate[];
}

export interface FakeRestError {
  status: number;
  code: number;
  message: string;
  moreInfo?: string;
}

export interface FakeRestRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  params: FormParams;
  /** HTTP status the fake answered. */
  status: number;
  /** Wall-clock ms the request arrived (performance.timeOrigin + performance.now()). */
  atMs: number;
}

export interface FakeTwilioRestOptions {
  accountSid: string;
  authToken: string;
  /** Called after a call was created, before the 201 answer is written (e.g. to set `queueTimeMs`); `request` is the create request. */
  onCallCreating?: (call: FakeCallRecord, request: FakeRestRequest) => void;
  /** Called after a call was created (status `queued`); e.g. to "answer" it and fetch its TwiML. */
  onCallCreated?: (call: FakeCallRecord) => void;
  /** Called after an accepted update. */
  onCallUpdated?: (call: FakeCallRecord, params: FormParams) => void;
}

export interface FakeTwilioRest {
  baseUrl: string;
  requests: FakeRestRequest[];
  calls: Map<string, FakeCallRecord>;
  /** Errors thrown by onCallCreating/onCallCreated/onCallUpdated (the answer is sent regardless); tests assert it stays empty. */
  hookErrors: unknown[];
  /** The next request (any route) is answered with this error instead; calls queue up. */
  failNext(opts: FakeRestError): void;
  /** Registers a live call that did not come through this API (an inbound call), `in-progress`. */
  addInboundCall(opts: { from: string; to: string; sid?: string }): FakeCallRecord;
  /** Moves a call along as the network would (ringing, in-progress, busy …). */
  setCallStatus(callSid: string, status: FakeCallStatus): FakeCallRecord;
  close(): Promise<void>;
}

class RestFailure extends Error {
  constructor(readonly failure: FakeRestError) {
    super(failure.message);
  }
}

function restError(status: number, code: number, message: string): RestFailure {
  return new RestFailure({ status, code, message });
}

// E.164-ish: optional +, 7 to 15 digits, no leading zero (so "+1555", Twilio's own 21211 example, fails).
const PHONE = /^\+?[1-9][0-9]{6,14}$/;

function isCallAddress(value: string): boolean {
  return PHONE.test(value) || /^sip:.+@.+/.test(value) || /^client:[A-Za-z0-9_.-]+$/.test(value);
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function one(params: FormParams, name: string): string | undefined {
  const v = params[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

function many(params: FormParams, name: string): string[] {
  const v = params[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export function newSid(prefix: string): string {
  return prefix + randomBytes(16).toString('hex');
}

/** Call state and Twilio's rules for it, without HTTP. */
export class FakeCallStore {
  readonly calls = new Map<string, FakeCallRecord>();

  constructor(readonly accountSid: string) {}

  create(params: FormParams, nowMs = Date.now()): FakeCallRecord {
    const to = one(params, 'To');
    const from = one(params, 'From');
    const url = one(params, 'Url');
    const twiml = one(params, 'Twiml');
    if (to === undefined || to === '') throw restError(400, 21201, "No 'To' number is specified");
    if (from === undefined || from === '') throw restError(400, 21213, "No 'From' number is specified");
    if (!isCallAddress(to)) throw restError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!isCallAddress(from)) throw restError(400, 21212, `The 'From' number ${from} is not a valid phone number.`);
    if (url === undefined && twiml === undefined && one(params, 'ApplicationSid') === undefined) {
      throw restError(400, 21205, 'A Url, Twiml or ApplicationSid parameter is required.');
    }
    if (url !== undefined && !isHttpUrl(url)) throw restError(400, 21205, `Url is not a valid URL: ${url}`);
    if (twiml !== undefined) checkTwiml(twiml);
    const statusCallback = one(params, 'StatusCallback');
    if (statusCallback !== undefined && !isHttpUrl(statusCallback)) {
      throw restError(400, 21205, `StatusCallback is not a valid URL: ${statusCallback}`);
    }
    const events = many(params, 'StatusCallbackEvent');
    for (const e of events) {
      if (!['initiated', 'ringing', 'answered', 'completed'].includes(e)) {
        throw restError(400, 20001, `StatusCallbackEvent ${e} is not one of initiated, ringing, answered, completed`);
      }
    }
    const machineDetection = one(params, 'MachineDetection');
    if (machineDetection !== undefined && machineDetection !== 'Enable' && machineDetection !== 'DetectMessageEnd') {
      throw restError(400, 20001, `MachineDetection must be Enable or DetectMessageEnd, got ${machineDetection}`);
    }
    const timeout = one(params, 'Timeout');
    const timeoutSec = timeout === undefined ? 60 : Number(timeout);
    if (!Number.isInteger(timeoutSec) || timeoutSec < 1 || timeoutSec > 600) {
      throw restError(400, 20001, `Timeout must be an integer from 1 to 600, got ${timeout}`);
    }
    const now = new Date(nowMs);
    const call: FakeCallRecord = {
      sid: newSid('CA'),
      accountSid: this.accountSid,
      to,
      from,
      status: 'queued',
      direction: 'outbound-api',
      // The reference: when both are given, Twiml is ignored.
      url: url ?? null,
      method: one(params, 'Method') ?? 'POST',
      twiml: url === undefined ? (twiml ?? null) : null,
      statusCallback: statusCallback ?? null,
      statusCallbackMethod: one(params, 'StatusCallbackMethod') ?? 'POST',
      statusCallbackEvents: events.length > 0 ? events : ['completed'],
      machineDetection: machineDetection ?? null,
      asyncAmd: one(params, 'AsyncAmd') === 'true',
      asyncAmdStatusCallback: one(params, 'AsyncAmdStatusCallback') ?? null,
      asyncAmdStatusCallbackMethod: one(params, 'AsyncAmdStatusCallbackMethod') ?? 'POST',
      fallbackUrl: one(params, 'FallbackUrl') ?? null,
      fallbackMethod: one(params, 'FallbackMethod') ?? 'POST',
      record: one(params, 'Record') === 'true',
      timeoutSec,
      answeredBy: null,
      queueTimeMs: 0,
      dateCreated: now,
      dateUpdated: now,
      startTime: null,
      endTime: null,
      updates: [],
    };
    this.calls.set(call.sid, call);
    return call;
  }

  addInbound(opts: { from: string; to: string; sid?: string }, nowMs = Date.now()): FakeCallRecord {
    const now = new Date(nowMs);
    const call: FakeCallRecord = {
      sid: opts.sid ?? newSid('CA'),
      accountSid: this.accountSid,
      to: opts.to,
      from: opts.from,
      status: 'in-progress',
      direction: 'inbound',
      url: null,
      method: 'POST',
      twiml: null,
      statusCallback: null,
      statusCallbackMethod: 'POST',
      statusCallbackEvents: [],
      machineDetection: null,
      asyncAmd: false,
      asyncAmdStatusCallback: null,
      asyncAmdStatusCallbackMethod: 'POST',
      fallbackUrl: null,
      fallbackMethod: 'POST',
      record: false,
      timeoutSec: 60,
      answeredBy: null,
      queueTimeMs: 0,
      dateCreated: now,
      dateUpdated: now,
      startTime: now,
      endTime: null,
      updates: [],
    };
    this.calls.set(call.sid, call);
    return call;
  }

  /** §5.4: Status=completed ends a call in any live state; Status=canceled only touches queued/ringing ones. */
  update(sid: string, params: FormParams, nowMs = Date.now()): FakeCallRecord {
    const call = this.calls.get(sid);
    if (call === undefined) {
      throw restError(404, 20404, `The requested resource /2010-04-01/Accounts/${this.accountSid}/Calls/${sid}.json was not found`);
    }
    const status = one(params, 'Status');
    const twiml = one(params, 'Twiml');
    const url = one(params, 'Url');
    if (status !== undefined && status !== 'completed' && status !== 'canceled') {
      throw restError(400, 20001, `Status must be completed or canceled, got ${status}`);
    }
    if (twiml !== undefined && url !== undefined) throw restError(400, 20001, 'Twiml and Url cannot be used together');
    if (twiml !== undefined) checkTwiml(twiml);
    if (url !== undefined && !isHttpUrl(url)) throw restError(400, 21205, `Url is not a valid URL: ${url}`);
    if (one(params, 'StatusCallback') !== undefined && url === undefined) {
      throw restError(400, 20001, 'StatusCallback can only be changed together with Url');
    }
    const newStatusCallback = one(params, 'StatusCallback');
    if (newStatusCallback !== undefined && !isHttpUrl(newStatusCallback)) {
      throw restError(400, 21205, `StatusCallback is not a valid URL: ${newStatusCallback}`);
    }
    if (ENDED.has(call.status)) throw restError(400, 21220, 'Call is not in-progress. Cannot redirect.');

    const now = new Date(nowMs);
    if (status === 'completed' || (status === 'canceled' && call.status !== 'in-progress')) {
      this.end(call, call.status === 'in-progress' ? 'completed' : 'canceled', now);
    } else if (twiml !== undefined || url !== undefined) {
      if (call.status !== 'in-progress') throw restError(400, 21220, 'Call is not in-progress. Cannot redirect.');
      call.twiml = twiml ?? null;
      call.url = url ?? null;
      if (url !== undefined) call.method = one(params, 'Method') ?? 'POST';
      const statusCallback = one(params, 'StatusCallback');
      if (statusCallback !== undefined) {
        call.statusCallback = statusCallback;
        call.statusCallbackMethod = one(params, 'StatusCallbackMethod') ?? 'POST';
      }
    }
    // Status=canceled on a live call is accepted and changes nothing, as on Twilio.
    call.dateUpdated = now;
    call.updates.push({ atMs: nowMs, params });
    return call;
  }

  setStatus(sid: string, status: FakeCallStatus, nowMs = Date.now()): FakeCallRecord {
    const call = this.calls.get(sid);
    if (call === undefined) throw new Error(`fake Twilio: no call ${sid}`);
    const now = new Date(nowMs);
    if (ENDED.has(status)) this.end(call, status, now);
    else {
      call.status = status;
      if (status === 'in-progress' && call.startTime === null) call.startTime = now;
    }
    call.dateUpdated = now;
    return call;
  }

  private end(call: FakeCallRecord, status: FakeCallStatus, now: Date): void {
    call.status = status;
    call.endTime = now;
  }
}

function checkTwiml(twiml: string): void {
  if (twiml.length > 4000) throw restError(400, 32018, 'Twiml size exceeded maximum allowed value of 4000 characters');
}

export function rfc2822(date: Date | null): string | null {
  // Twilio's form: "Tue, 31 Aug 2010 20:36:28 +0000".
  return date === null ? null : date.toUTCString().replace('GMT', '+0000');
}

/** The Call resource as Twilio's 2010 API renders it: snake_case, RFC 2822 dates, strings for counters. */
export function callResourceJson(call: FakeCallRecord): Record<string, unknown> {
  const uri = `/2010-04-01/Accounts/${call.accountSid}/Calls/${call.sid}`;
  const duration =
    call.startTime !== null && call.endTime !== null ? String(Math.round((call.endTime.getTime() - call.startTime.getTime()) / 1000)) : null;
  return {
    sid: call.sid,
    date_created: rfc2822(call.dateCreated),
    date_updated: rfc2822(call.dateUpdated),
    parent_call_sid: null,
    account_sid: call.accountSid,
    to: call.to,
    to_formatted: call.to,
    from: call.from,
    from_formatted: call.from,
    phone_number_sid: null,
    status: call.status,
    start_time: rfc2822(call.startTime),
    end_time: rfc2822(call.endTime),
    duration,
    price: null,
    price_unit: 'USD',
    direction: call.direction,
    answered_by: call.answeredBy,
    api_version: '2010-04-01',
    forwarded_from: null,
    group_sid: null,
    caller_name: null,
    queue_time: String(Math.round(call.queueTimeMs)),
    trunk_sid: null,
    uri: `${uri}.json`,
    subresource_uris: {
      notifications: `${uri}/Notifications.json`,
      recordings: `${uri}/Recordings.json`,
      streams: `${uri}/Streams.json`,
      payments: `${uri}/Payments.json`,
      user_defined_message_subscriptions: `${uri}/UserDefinedMessageSubscriptions.json`,
      user_defined_messages: `${uri}/UserDefinedMessages.json`,
      events: `${uri}/Events.json`,
      siprec: `${uri}/Siprec.json`,
    },
  };
}

/** application/x-www-form-urlencoded with repeated keys kept (as arrays). */
export function parseForm(body: string): FormParams {
  const out: FormParams = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const prev = out[key];
    if (prev === undefined) out[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[key] = [prev, value];
  }
  return out;
}

const MAX_BODY_BYTES = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(restError(413, 20001, 'Request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startFakeTwilioRest(opts: FakeTwilioRestOptions): Promise<FakeTwilioRest> {
  const store = new FakeCallStore(opts.accountSid);
  const requests: FakeRestRequest[] = [];
  const pendingFailures: FakeRestError[] = [];
  const hookErrors: unknown[] = [];
  const runHook = (hook: () => void): void => {
    try {
      hook();
    } catch (err) {
      hookErrors.push(err);
    }
  };
  const expectedAuth = `Basic ${Buffer.from(`${opts.accountSid}:${opts.authToken}`).toString('base64')}`;

  function send(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  function errorBody(failure: FakeRestError): Record<string, unknown> {
    return {
      code: failure.code,
      message: failure.message,
      more_info: failure.moreInfo ?? `https://www.twilio.com/docs/errors/${failure.code}`,
      status: failure.status,
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    let params: FormParams = {};
    const entry: FakeRestRequest = { method, path, params, status: 0, atMs: performance.timeOrigin + performance.now() };
    requests.push(entry);
    const answer = (status: number, body: unknown): void => {
      entry.status = status;
      send(res, status, body);
    };
    try {
      const body = await readBody(req);
      const contentType = req.headers['content-type'] ?? '';
      if (contentType.startsWith('application/x-www-form-urlencoded')) params = parseForm(body);
      entry.params = params;

      const failure = pendingFailures.shift();
      if (failure !== undefined) throw new RestFailure(failure);
      if (req.headers.authorization !== expectedAuth) {
        res.setHeader('www-authenticate', 'Basic realm="Twilio API"');
        throw restError(401, 20003, 'Authenticate');
      }

      const base = `/2010-04-01/Accounts/${opts.accountSid}`;
      const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls(?:\/([^/]+))?\.json$/.exec(path);
      if (match !== null && match[1] !== opts.accountSid) throw restError(401, 20003, 'Authenticate');
      if (match === null || !path.startsWith(base)) {
        throw restError(404, 20404, `The requested resource ${path} was not found`);
      }
      const callSid = match[2];
      if (callSid === undefined) {
        if (method !== 'POST') throw restError(405, 20004, 'Method not allowed');
        const call = store.create(params);
        if (opts.onCallCreating) runHook(() => opts.onCallCreating?.(call, entry));
        answer(201, callResourceJson(call));
        if (opts.onCallCreated) runHook(() => opts.onCallCreated?.(call));
        return;
      }
      if (method === 'GET') {
        const call = store.calls.get(callSid);
        if (call === undefined) throw restError(404, 20404, `The requested resource ${path} was not found`);
        answer(200, callResourceJson(call));
        return;
      }
      if (method !== 'POST') throw restError(405, 20004, 'Method not allowed');
      const call = store.update(callSid, params);
      answer(200, callResourceJson(call));
      if (opts.onCallUpdated) runHook(() => opts.onCallUpdated?.(call, params));
    } catch (err) {
      if (err instanceof RestFailure) answer(err.failure.status, errorBody(err.failure));
      else answer(500, errorBody({ status: 500, code: 20500, message: `fake Twilio failed: ${(err as Error).message}` }));
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    calls: store.calls,
    hookErrors,
    failNext(failure) {
      pendingFailures.push(failure);
    },
    addInboundCall(call) {
      return store.addInbound(call);
    },
    setCallStatus(callSid, status) {
      return store.setStatus(callSid, status);
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // The official client keeps connections alive; close() alone would wait for them to idle out.
        server.closeAllConnections();
      });
    },
  };
}
