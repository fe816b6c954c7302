// The fake Twilio network checked against a tiny real receiver (node:http + ws on loopback) that validates
// every signature with the official twilio.validateRequest, answers TwiML and speaks on the media stream.
// Koe's own code is used only as the REST client (createTwilioCallControl), as Koe will use it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import twilio from 'twilio';
import { WebSocketServer, type WebSocket } from 'ws';
import { TwilioRestError, createTwilioCallControl, type CreateCallOptions } from '../../../src/twilio/call-control.js';
import { BEEP_MS, beepMulaw, startFakeTwilioNetwork } from '../../fakes/fake-twilio-network.js';
import type { CalleeScript, FakeNetworkCall, FakeTwilioNetwork } from '../../fakes/fake-twilio-network.js';

const accountSid = 'AC0123456789abcdef0123456789abcdef';
const authToken = 'network-test-token';
const FROM = '+15017122661';
const TO = '+15558675310';
const RFC2822 = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/;

// ── the receiver: what Koe's HTTP and WebSocket endpoints look like to Twilio ─────────────────────

interface ReceivedRequest {
  method: string;
  /** Path and query as requested. */
  path: string;
  url: string;
  params: Record<string, string>;
  signatureValid: boolean;
  atMs: number;
}

interface StreamSession {
  signatureValid: boolean;
  ws: WebSocket;
  streamSid: string | undefined;
  callSid: string | undefined;
  customParameters: Record<string, string> | undefined;
  events: string[];
  /** μ-law from the callee (the fake), in arrival order. */
  inbound: Buffer[];
  closed: boolean;
  send(audio: Uint8Array): void;
}

type StreamMode = 'reply-and-close' | 'keep-open';

interface Receiver {
  url: string;
  streamUrl: string;
  requests: ReceivedRequest[];
  sessions: StreamSession[];
  rejectedUpgrades: number;
  /** TwiML (or a status + body) for /voice; default: <Connect><Stream> with a token parameter. */
  voice: (req: ReceivedRequest) => string | { status: number; body: string };
  streamMode: StreamMode;
  /** What the "agent" says on the stream right after `start` (reply-and-close mode). */
  agentAudio: Buffer;
  session(callSid: string): StreamSession | undefined;
  close(): Promise<void>;
}

function streamTwiml(streamUrl: string, after = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="${streamUrl}"><Parameter name="token" value="x"/></Stream></Connect>${after}</Response>`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function startReceiver(): Promise<Receiver> {
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((req, res) => {
    void handle(req, res);
  });
  const receiver: Receiver = {
    url: '',
    streamUrl: '',
    requests: [],
    sessions: [],
    rejectedUpgrades: 0,
    voice: () => streamTwiml(receiver.streamUrl),
    streamMode: 'reply-and-close',
    agentAudio: Buffer.alloc(800, 0x2a),
    session: (callSid) => receiver.sessions.find((s) => s.callSid === callSid),
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const params = Object.fromEntries(new URLSearchParams(body));
    const url = receiver.url + (req.url ?? '/');
    const signature = req.headers['x-twilio-signature'];
    const entry: ReceivedRequest = {
      method: req.method ?? '',
      path: req.url ?? '/',
      url,
      params,
      signatureValid: typeof signature === 'string' && twilio.validateRequest(authToken, signature, url, params),
      atMs: performance.timeOrigin + performance.now(),
    };
    receiver.requests.push(entry);
    if (!entry.signatureValid) {
      res.writeHead(403).end();
      return;
    }
    if (entry.path.startsWith('/voice')) {
      const answer = receiver.voice(entry);
      const { status, body: text } = typeof answer === 'string' ? { status: 200, body: answer } : answer;
      res.writeHead(status, { 'content-type': 'text/xml' }).end(text);
      return;
    }
    res.writeHead(entry.path.startsWith('/status') ? 204 : 200).end();
  }

  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    const signature = req.headers['x-twilio-signature'];
    // §4.3: the wss/ws URL connected to, no parameters; also try a trailing slash.
    const valid =
      typeof signature === 'string' &&
      (twilio.validateRequest(authToken, signature, receiver.streamUrl, {}) || twilio.validateRequest(authToken, signature, `${receiver.streamUrl}/`, {}));
    if (!valid || req.url !== '/stream') {
      receiver.rejectedUpgrades += 1;
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session: StreamSession = {
        signatureValid: valid,
        ws,
        streamSid: undefined,
        callSid: undefined,
        customParameters: undefined,
        events: [],
        inbound: [],
        closed: false,
        send(audio) {
          if (session.streamSid === undefined || ws.readyState !== ws.OPEN) return;
          for (let i = 0; i < audio.length; i += 160) {
            const payload = Buffer.from(audio.subarray(i, i + 160)).toString('base64');
            ws.send(JSON.stringify({ event: 'media', streamSid: session.streamSid, media: { payload } }));
          }
        },
      };
      receiver.sessions.push(session);
      ws.on('close', () => (session.closed = true));
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as Record<string, unknown>;
        const event = String(msg['event']);
        session.events.push(event);
        if (event === 'start') {
          const start = msg['start'] as Record<string, unknown>;
          session.streamSid = String(start['streamSid']);
          session.callSid = String(start['callSid']);
          session.customParameters = start['customParameters'] as Record<string, string>;
          if (receiver.streamMode === 'reply-and-close') {
            session.send(receiver.agentAudio);
            setTimeout(() => ws.close(1000), 300);
          }
        } else if (event === 'media') {
          const media = msg['media'] as Record<string, string>;
          session.inbound.push(Buffer.from(media['payload'] ?? '', 'base64'));
        }
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}`;
  receiver.streamUrl = `ws://127.0.0.1:${port}/stream`;
  return receiver;
}

// ── helpers ───────────────────────────────────────────────────────────────────────────────────────

interface World {
  network: FakeTwilioNetwork;
  receiver: Receiver;
  control: ReturnType<typeof createTwilioCallControl>;
  place(opts?: Partial<CreateCallOptions>): Promise<FakeNetworkCall>;
}

async function withWorld(
  opts: { callee?: (call: { to: string }) => CalleeScript; accountCps?: number },
  run: (world: World) => Promise<void>,
): Promise<void> {
  const receiver = await startReceiver();
  const network = await startFakeTwilioNetwork({ accountSid, authToken, ...opts });
  const control = createTwilioCallControl({ accountSid, authToken, apiBaseUrl: network.baseUrl });
  const world: World = {
    network,
    receiver,
    control,
    async place(overrides = {}) {
      const created = await control.createCall({
        to: TO,
        from: FROM,
        url: `${receiver.url}/voice`,
        statusCallback: `${receiver.url}/status`,
        statusCallbackEvents: ['initiated', 'ringing', 'answered', 'completed'],
        ...overrides,
      });
      const call = network.calls.get(created.sid);
      assert.ok(call, `the network knows ${created.sid}`);
      return call;
    },
  };
  try {
    await run(world);
    await network.idle();
    assert.deepEqual(network.errors, []);
    assert.deepEqual(network.rest.hookErrors, []);
    // Every request and upgrade the network made was signed correctly.
    assert.deepEqual(
      receiver.requests.filter((r) => !r.signatureValid).map((r) => r.path),
      [],
    );
    assert.equal(receiver.rejectedUpgrades, 0);
    for (const call of network.calls.values()) {
      for (const s of call.streams) assert.deepEqual(s.protocolViolations, []);
    }
  } finally {
    await network.close();
    await receiver.close();
  }
}

async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function statusCallbacks(call: FakeNetworkCall) {
  return call.callbacks.filter((c) => c.kind === 'status');
}

function summary(call: FakeNetworkCall): Array<[string, string | undefined, string | undefined]> {
  return statusCallbacks(call).map((c) => [c.event, c.params['CallStatus'], c.params['SequenceNumber']]);
}

// ── tests ─────────────────────────────────────────────────────────────────────────────────────────

void test('answer: ordered signed callbacks, TwiML fetch, signed stream with <Parameter>s, audio both ways, Koe closes → completed', async () => {
  const calleeSays = Buffer.alloc(480, 0x55);
  await withWorld({ callee: () => ({ kind: 'answer', audio: calleeSays, speakAfterMs: 40 }) }, async ({ receiver, place }) => {
    const voiceUrl = `${receiver.url}/voice?campaign=7&lead=a%20b`;
    const call = await place({ url: voiceUrl, statusCallback: `${receiver.url}/status?campaign=7` });
    assert.equal(await call.ended, 'completed');

    assert.deepEqual(summary(call), [
      ['initiated', 'initiated', '0'],
      ['ringing', 'ringing', '1'],
      ['answered', 'in-progress', '2'],
      ['completed', 'completed', '3'],
    ]);
    for (const cb of statusCallbacks(call)) {
      assert.equal(cb.url, `${receiver.url}/status?campaign=7`);
      assert.equal(cb.answeredStatus, 204);
      assert.equal(cb.params['CallSid'], call.sid);
      assert.equal(cb.params['AccountSid'], accountSid);
      assert.equal(cb.params['From'], FROM);
      assert.equal(cb.params['To'], TO);
      assert.equal(cb.params['Caller'], FROM);
      assert.equal(cb.params['Called'], TO);
      assert.equal(cb.params['Direction'], 'outbound-api');
      assert.equal(cb.params['ApiVersion'], '2010-04-01');
      assert.equal(cb.params['CallbackSource'], 'call-progress-events');
      assert.match(cb.params['Timestamp'] ?? '', RFC2822);
    }
    const terminal = statusCallbacks(call)[3]!.params;
    assert.match(terminal['CallDuration'] ?? '', /^\d+$/);
    assert.equal(terminal['Duration'], '1');
    assert.equal(terminal['SipResponseCode'], '200');
    assert.equal(statusCallbacks(call)[2]!.params['CallDuration'], undefined);

    // What the receiver saw, in arrival order, all signed over the exact URL including the query string.
    const statusArrivals = receiver.requests.filter((r) => r.path.startsWith('/status')).map((r) => r.params['SequenceNumber']);
    assert.deepEqual(statusArrivals, ['0', '1', '2', '3']);
    const voice = receiver.requests.filter((r) => r.path.startsWith('/voice'));
    assert.equal(voice.length, 1);
    assert.equal(voice[0]!.url, voiceUrl);
    assert.equal(voice[0]!.method, 'POST');
    assert.deepEqual(voice[0]!.params, {
      CallSid: call.sid,
      AccountSid: accountSid,
      From: FROM,
      To: TO,
      Caller: FROM,
      Called: TO,
      CallStatus: 'in-progress',
      Direction: 'outbound-api',
      ApiVersion: '2010-04-01',
    });
    assert.equal(call.twimlFetches.length, 1);
    assert.equal(call.twimlFetches[0]!.status, 200);

    // The stream: signed upgrade, start with the call and the <Parameter>s, the agent's audio kept.
    const session = receiver.session(call.sid);
    assert.ok(session);
    assert.equal(session.signatureValid, true);
    assert.deepEqual(session.customParameters, { token: 'x' });
    assert.deepEqual(session.events.slice(0, 2), ['connected', 'start']);
    assert.ok(!session.events.includes('stop'), 'Koe closed the socket: Twilio sends no stop');
    assert.equal(call.media?.callSid, call.sid);
    assert.deepEqual(call.receivedAudio(), receiver.agentAudio);
    // The callee's words arrived after speakAfterMs, between silence frames.
    const inbound = Buffer.concat(session.inbound);
    assert.ok(inbound.includes(calleeSays), 'callee audio on the stream');
    assert.equal(inbound[0], 0xff, 'silence before the callee speaks');
    assert.deepEqual(
      call.statusHistory.map((h) => h.status),
      ['queued', 'initiated', 'ringing', 'in-progress', 'completed'],
    );
    assert.equal(call.record.status, 'completed');
    assert.notEqual(call.answeredAtMs, null);
  });
});

void test('busy, no-answer (capped by Timeout) and failed: callback order, SipResponseCode, no TwiML fetched', async () => {
  const scripts: Record<string, CalleeScript> = {
    '+15550000001': { kind: 'busy' },
    '+15550000002': { kind: 'no-answer', ringMs: 5000 },
    '+15550000003': { kind: 'failed', sipResponseCode: 404 },
    '+15550000004': { kind: 'failed' },
  };
  await withWorld({ callee: (c) => scripts[c.to] ?? { kind: 'answer' } }, async ({ receiver, place }) => {
    const [busy, noAnswer, failed404, failed] = await Promise.all([
      place({ to: '+15550000001' }),
      place({ to: '+15550000002', timeoutSec: 1 }),
      place({ to: '+15550000003' }),
      place({ to: '+15550000004' }),
    ]);
    assert.equal(await busy.ended, 'busy');
    assert.equal(await noAnswer.ended, 'no-answer');
    assert.equal(await failed404.ended, 'failed');
    assert.equal(await failed.ended, 'failed');

    assert.deepEqual(summary(busy), [
      ['initiated', 'initiated', '0'],
      ['ringing', 'ringing', '1'],
      ['completed', 'busy', '2'],
    ]);
    assert.deepEqual(summary(noAnswer), [
      ['initiated', 'initiated', '0'],
      ['ringing', 'ringing', '1'],
      ['completed', 'no-answer', '2'],
    ]);
    assert.deepEqual(summary(failed404), [
      ['initiated', 'initiated', '0'],
      ['completed', 'failed', '1'],
    ]);
    const sip = (c: FakeNetworkCall) => statusCallbacks(c).at(-1)?.params['SipResponseCode'];
    assert.deepEqual([sip(busy), sip(noAnswer), sip(failed404), sip(failed)], ['486', '487', '404', '500']);
    for (const c of [busy, noAnswer, failed404, failed]) {
      const last = statusCallbacks(c).at(-1)!.params;
      assert.equal(last['CallDuration'], '0');
      assert.equal(last['Duration'], undefined, 'Duration only on completed');
      assert.equal(c.twimlFetches.length, 0);
      assert.equal(c.media, undefined);
    }
    // Timeout=1 cut the 5 s ring short.
    const rang = noAnswer.statusHistory.find((h) => h.status === 'ringing')!.atMs;
    const gaveUp = noAnswer.statusHistory.find((h) => h.status === 'no-answer')!.atMs;
    assert.ok(gaveUp - rang >= 950 && gaveUp - rang < 2000, `rang ${gaveUp - rang} ms`);
    assert.equal(receiver.requests.filter((r) => r.path.startsWith('/voice')).length, 0);
  });
});

void test('only subscribed events are sent; SequenceNumber counts the callbacks sent', async () => {
  await withWorld({ callee: () => ({ kind: 'answer' }) }, async ({ receiver, place }) => {
    receiver.voice = () => '<Response><Hangup/></Response>';
    const byDefault = await place({ statusCallbackEvents: undefined });
    const ringingAndCompleted = await place({ statusCallbackEvents: ['ringing', 'completed'] });
    const answeredOnly = await place({ statusCallbackEvents: ['answered'] });
    const none = await place({ statusCallback: undefined, statusCallbackEvents: undefined });
    await Promise.all([byDefault.ended, ringingAndCompleted.ended, answeredOnly.ended, none.ended]);
    assert.deepEqual(summary(byDefault), [['completed', 'completed', '0']]);
    assert.deepEqual(summary(ringingAndCompleted), [
      ['ringing', 'ringing', '0'],
      ['completed', 'completed', '1'],
    ]);
    assert.deepEqual(summary(answeredOnly), [['answered', 'in-progress', '0']]);
    assert.deepEqual(none.callbacks, []);
    assert.equal(none.status, 'completed');
  });
});

void test('callee hangs up: stop on the stream, then completed with CallDuration; a later REST hang-up finds it ended', async () => {
  await withWorld({ callee: () => ({ kind: 'answer', hangUpAfterMs: 1200 }) }, async ({ receiver, place, control }) => {
    receiver.streamMode = 'keep-open';
    const call = await place();
    assert.equal(await call.ended, 'completed');
    const session = receiver.session(call.sid);
    assert.ok(session);
    assert.equal(session.events.at(-1), 'stop');
    await waitUntil(() => session.closed, 'the socket to close');
    const last = statusCallbacks(call).at(-1)!;
    assert.equal(last.params['CallStatus'], 'completed');
    assert.equal(last.params['CallDuration'], '1');
    assert.equal(last.params['SipResponseCode'], '200');
    assert.ok(session.inbound.length > 30, 'silence flowed while the stream was open');
    assert.equal(await control.hangUp(call.sid), 'already_ended');
  });
});

void test('REST hang-up through createTwilioCallControl: stop, close, completed', async () => {
  await withWorld({}, async ({ receiver, place, control }) => {
    receiver.streamMode = 'keep-open';
    const call = await place();
    await waitUntil(() => receiver.session(call.sid)?.streamSid !== undefined, 'the stream to start');
    receiver.session(call.sid)!.send(Buffer.alloc(320, 0x11));
    await call.media!.waitForReceivedBytes(320);
    assert.equal(await control.hangUp(call.sid), 'hung_up');
    assert.equal(await call.ended, 'completed');
    const session = receiver.session(call.sid)!;
    assert.equal(session.events.at(-1), 'stop');
    assert.equal(session.closed, true);
    assert.deepEqual(
      summary(call).map((s) => s[1]),
      ['initiated', 'ringing', 'in-progress', 'completed'],
    );
    assert.equal(statusCallbacks(call).at(-1)!.params['SipResponseCode'], '200');
    assert.deepEqual(call.receivedAudio(), Buffer.alloc(320, 0x11));
  });
});

void test('cancel while ringing → canceled (487); canceled while queued → no callbacks at all', async () => {
  await withWorld({ accountCps: 1, callee: (c) => (c.to === TO ? { kind: 'answer', ringMs: 3000 } : { kind: 'busy' }) }, async ({ receiver, place, control }) => {
    const ringing = await place();
    const queued = await place({ to: '+15550000009' });
    assert.equal(queued.status, 'queued');
    assert.equal(await control.hangUp(queued.sid), 'hung_up');
    assert.equal(await queued.ended, 'canceled');
    assert.deepEqual(queued.callbacks, []);

    await waitUntil(() => ringing.status === 'ringing', 'ringing');
    await waitUntil(() => statusCallbacks(ringing).length === 2, 'the ringing callback');
    assert.equal(await control.hangUp(ringing.sid), 'hung_up');
    assert.equal(await ringing.ended, 'canceled');
    assert.deepEqual(summary(ringing), [
      ['initiated', 'initiated', '0'],
      ['ringing', 'ringing', '1'],
      ['completed', 'canceled', '2'],
    ]);
    assert.equal(statusCallbacks(ringing).at(-1)!.params['SipResponseCode'], '487');
    assert.equal(ringing.twimlFetches.length, 0);
    assert.equal(receiver.requests.filter((r) => r.path.startsWith('/voice')).length, 0);
  });
});

void test('async AMD: human after amdDelayMs; a voicemail with Enable → machine_start', async () => {
  await withWorld(
    { callee: (c) => (c.to === TO ? { kind: 'answer' } : { kind: 'voicemail', amdDelayMs: 200, greetingMs: 300, recordMs: 200 }) },
    async ({ receiver, place }) => {
      const amd = { machineDetection: 'Enable' as const, asyncAmd: true, asyncAmdStatusCallback: `${receiver.url}/amd?x=1` };
      const human = await place({ ...amd });
      const machine = await place({ ...amd, to: '+15550000010' });
      await Promise.all([human.ended, machine.ended]);
      const verdict = (c: FakeNetworkCall) => c.callbacks.find((cb) => cb.kind === 'amd');
      const h = verdict(human)!;
      assert.deepEqual(Object.keys(h.params).sort(), ['AccountSid', 'AnsweredBy', 'CallSid', 'MachineDetectionDuration']);
      assert.equal(h.params['AnsweredBy'], 'human');
      assert.equal(h.params['CallSid'], human.sid);
      assert.equal(h.url, `${receiver.url}/amd?x=1`);
      assert.equal(h.answeredStatus, 200);
      const hMs = Number(h.params['MachineDetectionDuration']);
      assert.ok(hMs >= 290 && hMs < 700, `human after ${hMs} ms`);
      assert.ok(h.sentAtMs - human.answeredAtMs! >= 290);
      assert.equal(human.record.answeredBy, 'human');
      const m = verdict(machine)!;
      assert.equal(m.params['AnsweredBy'], 'machine_start');
      const mMs = Number(m.params['MachineDetectionDuration']);
      assert.ok(mMs >= 190 && mMs < 600, `machine_start after ${mMs} ms`);
      assert.equal(machine.record.answeredBy, 'machine_start');
      assert.equal(receiver.requests.filter((r) => r.path.startsWith('/amd')).length, 2);
    },
  );
});

void test('voicemail with DetectMessageEnd: greeting, beep, machine_end_beep right after it; what Koe says after the beep is recorded', async () => {
  const greetingMs = 400;
  await withWorld({ callee: () => ({ kind: 'voicemail', greetingMs, recordMs: 600 }) }, async ({ receiver, place }) => {
    receiver.streamMode = 'keep-open';
    const call = await place({ machineDetection: 'DetectMessageEnd', asyncAmd: true, asyncAmdStatusCallback: `${receiver.url}/amd` });
    await waitUntil(() => receiver.session(call.sid)?.streamSid !== undefined, 'the stream to start');
    const session = receiver.session(call.sid)!;
    session.send(Buffer.alloc(160, 0x44)); // "Hello?" before the beep: not part of the message
    await waitUntil(() => call.callbacks.some((c) => c.kind === 'amd' && c.answeredStatus !== null), 'the AMD callback');
    const message = Buffer.alloc(1600, 0x33);
    session.send(message);
    assert.equal(await call.ended, 'completed'); // the machine stopped recording after recordMs

    const amd = call.callbacks.find((c) => c.kind === 'amd')!;
    assert.equal(amd.params['AnsweredBy'], 'machine_end_beep');
    const detectedMs = Number(amd.params['MachineDetectionDuration']);
    assert.ok(detectedMs >= greetingMs + BEEP_MS - 10 && detectedMs < greetingMs + BEEP_MS + 300, `machine_end_beep after ${detectedMs} ms`);
    assert.deepEqual(Buffer.from(call.voicemailAudio), message);
    assert.deepEqual(call.receivedAudio(), Buffer.concat([Buffer.alloc(160, 0x44), message]));
    // The callee side: silence for the greeting (what was left of it when the stream opened), then the beep.
    const inbound = Buffer.concat(session.inbound);
    const beepAt = inbound.indexOf(Buffer.from(beepMulaw()));
    assert.ok(beepAt > 0, 'the whole beep is on the stream');
    assert.ok(inbound.subarray(0, beepAt).every((b) => b === 0xff), 'the greeting is silence');
    assert.ok(beepAt / 8 > greetingMs - 150 && beepAt / 8 <= greetingMs, `beep at ${beepAt / 8} ms of stream audio`);
    assert.equal(session.events.at(-1), 'stop');
    assert.equal(call.record.answeredBy, 'machine_end_beep');
  });
});

void test('accountCps: calls leave the queue at the account rate; queue_time reflects the wait', async () => {
  await withWorld({ accountCps: 10, callee: () => ({ kind: 'busy', ringMs: 5 }) }, async ({ network, place }) => {
    const calls = await Promise.all([1, 2, 3, 4, 5].map((i) => place({ to: `+1555000010${i}` })));
    await network.waitForCalls(5);
    await Promise.all(calls.map((c) => c.ended));
    const initiated = network.created
      .map((c) => network.calls.get(c.sid)!.statusHistory.find((h) => h.status === 'initiated')!.atMs)
      .sort((a, b) => a - b);
    assert.ok(initiated.at(-1)! - initiated[0]! >= 390, `span ${initiated.at(-1)! - initiated[0]!} ms`);
    for (let i = 1; i < initiated.length; i++) assert.ok(initiated[i]! - initiated[i - 1]! >= 95, `gap ${initiated[i]! - initiated[i - 1]!} ms`);
    const queueTimes = network.created.map((c) => network.calls.get(c.sid)!.record.queueTimeMs);
    assert.ok(Math.max(...queueTimes) >= 300, `queue times ${queueTimes.join(', ')}`);
    const last = network.created.at(-1)!;
    const res = await fetch(`${network.baseUrl}/2010-04-01/Accounts/${accountSid}/Calls/${last.sid}.json`, {
      headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}` },
    });
    assert.equal(((await res.json()) as Record<string, unknown>)['queue_time'], String(Math.round(network.calls.get(last.sid)!.record.queueTimeMs)));
  });
});

void test('429 from rest.failNext: nothing is created; the retry is', async () => {
  await withWorld({}, async ({ network, place, receiver }) => {
    receiver.voice = () => '<Response><Hangup/></Response>';
    network.rest.failNext({ status: 429, code: 20429, message: 'Too Many Requests' });
    await assert.rejects(place(), (err: unknown) => {
      assert.ok(err instanceof TwilioRestError);
      assert.equal(err.status, 429);
      assert.equal(err.code, 20429);
      assert.equal(err.retryable, true);
      return true;
    });
    assert.equal(network.created.length, 0);
    assert.equal(network.calls.size, 0);
    const call = await place();
    assert.deepEqual(
      network.created.map((c) => c.sid),
      [call.sid],
    );
    assert.deepEqual(
      network.rest.requests.map((r) => r.status),
      [429, 201],
    );
    assert.equal(await call.ended, 'completed');
  });
});

void test('idle() waits for every call and callback; maxConcurrentInProgress counts answered calls at once', async () => {
  await withWorld({ callee: () => ({ kind: 'answer', hangUpAfterMs: 300 }) }, async ({ network, receiver, place }) => {
    receiver.streamMode = 'keep-open';
    const first = await Promise.all([place(), place(), place()]);
    await network.idle();
    assert.equal(network.maxConcurrentInProgress, 3);
    for (const call of first) {
      assert.equal(call.status, 'completed');
      assert.ok(call.callbacks.every((c) => c.answeredStatus !== null), 'every callback answered before idle()');
    }
    const later = await place();
    await network.idle();
    assert.equal(later.status, 'completed');
    assert.equal(network.maxConcurrentInProgress, 3);
    assert.equal(receiver.requests.filter((r) => r.path.startsWith('/status')).length, 16);
  });
});

void test('TwiML without a stream: <Say> takes its time and is recorded; a non-200 TwiML answer ends the call (11200)', async () => {
  await withWorld({}, async ({ receiver, place }) => {
    receiver.voice = (req) =>
      req.params['To'] === TO ? '<Response><Say voice="Polly.Joanna">Hello there</Say><Hangup/><Say>never</Say></Response>' : { status: 500, body: 'oops' };
    const said = await place();
    const broken = await place({ to: '+15550000020' });
    assert.equal(await said.ended, 'completed');
    assert.equal(await broken.ended, 'completed');
    assert.deepEqual(said.said, ['Hello there']);
    assert.deepEqual(
      said.executed.map((v) => v.verb),
      ['Say', 'Hangup'],
    );
    assert.equal(said.executed[0]!.attributes['voice'], 'Polly.Joanna');
    const endedAt = said.statusHistory.at(-1)!.atMs;
    assert.ok(endedAt - said.answeredAtMs! >= 'Hello there'.length * 60 - 5, 'the <Say> took its speaking time');
    assert.equal(said.media, undefined);
    assert.equal(broken.twimlFetches[0]!.status, 500);
    assert.match(broken.warnings.join('\n'), /11200/);
    assert.equal(statusCallbacks(broken).at(-1)!.params['CallStatus'], 'completed');
  });
});

void test('REST TwiML update on a live stream (transfer): stop, close, the <Dial> is recorded, the call completes', async () => {
  await withWorld({}, async ({ receiver, place, control }) => {
    receiver.streamMode = 'keep-open';
    const call = await place();
    await waitUntil(() => receiver.session(call.sid)?.streamSid !== undefined, 'the stream to start');
    await control.redirect(call.sid, `<Response><Say>Transferring you now.</Say><Dial callerId="${FROM}"><Number>+15558670000</Number></Dial></Response>`);
    assert.equal(await call.ended, 'completed');
    const session = receiver.session(call.sid)!;
    assert.equal(session.events.at(-1), 'stop');
    assert.equal(session.closed, true);
    assert.deepEqual(
      call.executed.map((v) => [v.verb, v.text]),
      [
        ['Connect', ''],
        ['Say', 'Transferring you now.'],
        ['Dial', '+15558670000'],
      ],
    );
    assert.match(call.executed[2]!.xml, /<Number>\+15558670000<\/Number>/);
    assert.equal(call.record.updates.length, 1);
  });
});

void test('<Stream statusCallback>: signed stream-started and stream-stopped with StreamSid and StreamName', async () => {
  await withWorld({}, async ({ receiver, place }) => {
    receiver.voice = () =>
      `<Response><Connect><Stream url="${receiver.streamUrl}" name="agent" statusCallback="${receiver.url}/stream-status?c=1"><Parameter name="token" value="x"/></Stream></Connect><Hangup/></Response>`;
    const call = await place();
    assert.equal(await call.ended, 'completed');
    const stream = call.callbacks.filter((c) => c.kind === 'stream');
    assert.deepEqual(
      stream.map((c) => c.event),
      ['stream-started', 'stream-stopped'],
    );
    for (const c of stream) {
      assert.equal(c.answeredStatus, 200);
      assert.equal(c.params['StreamSid'], call.media?.streamSid);
      assert.equal(c.params['StreamName'], 'agent');
      assert.equal(c.params['CallSid'], call.sid);
      assert.match(c.params['Timestamp'] ?? '', /^\d{4}-\d{2}-\d{2}T/);
    }
    assert.equal(receiver.requests.filter((r) => r.path === '/stream-status?c=1').length, 2);
  });
});

void test('synchronous AMD (no AsyncAmd): the TwiML fetch waits for the verdict and carries AnsweredBy', async () => {
  await withWorld({ callee: () => ({ kind: 'answer', answeredBy: 'human', amdDelayMs: 200 }) }, async ({ receiver, place }) => {
    receiver.voice = () => '<Response><Hangup/></Response>';
    const call = await place({ machineDetection: 'Enable' });
    assert.equal(await call.ended, 'completed');
    const voice = receiver.requests.find((r) => r.path.startsWith('/voice'))!;
    assert.equal(voice.params['AnsweredBy'], 'human');
    assert.equal(voice.params['MachineDetectionDuration'], '200');
    assert.ok(voice.atMs - call.answeredAtMs! >= 195, `TwiML fetched ${voice.atMs - call.answeredAtMs!} ms after answer`);
    assert.equal(call.callbacks.filter((c) => c.kind === 'amd').length, 0);
  });
});

void test('a refused stream upgrade: 31920, <Connect> completes and the TwiML goes on', async () => {
  await withWorld({}, async ({ receiver, place }) => {
    receiver.voice = () => `${streamTwiml(receiver.streamUrl.replace('/stream', '/nope'), '<Say>Sorry</Say>')}`;
    const call = await place();
    assert.equal(await call.ended, 'completed');
    assert.equal(receiver.rejectedUpgrades, 1);
    receiver.rejectedUpgrades = 0;
    assert.match(call.warnings.join('\n'), /31920/);
    assert.deepEqual(call.said, ['Sorry']);
    assert.equal(call.media, undefined);
  });
});
