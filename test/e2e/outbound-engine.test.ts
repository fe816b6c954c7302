// An outbound call end to end with everything real but Twilio's cloud: a `koe start` process with the
// built-in engine (speech recognition, dialogue, synthesis) and embedded PGlite places a call through the
// official Twilio client; the fake Twilio network fetches Koe's TwiML (signed), opens the media stream and
// plays a recorded callee ("Hello. What are your opening hours?"); Koe's agent greets, hears, answers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { CallDetail, PlaceCallResponse } from '../../src/server/api/api-types.js';
import { callerUtterances } from '../../src/simulate/caller-audio.js';
import type { FakeTwilioNetwork } from '../fakes/fake-twilio-network.js';
import { startFakeTwilioNetwork } from '../fakes/fake-twilio-network.js';
import { freePort } from '../support/free-port.js';
import { KoeProcess, makeTempDir, REPO_ROOT, removeTempDir, waitUntil } from '../support/koe-process.js';

const ACCOUNT_SID = `AC${'7'.repeat(32)}`;
const AUTH_TOKEN = 'outbound-e2e-auth-token';
const CALLEE = '+14155550123';

let koe: KoeProcess;
let network: FakeTwilioNetwork;
let scratch: string;
let cookie: string;

before(async () => {
  scratch = makeTempDir('koe-outbound-');
  const question = callerUtterances(readFileSync(join(REPO_ROOT, 'samples', 'caller-opening-hours.wav')))[0];
  assert.ok(question);
  network = await startFakeTwilioNetwork({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    // The callee lets the greeting (~4 s) play, asks, listens to the answer, then hangs up.
    callee: () => ({ kind: 'answer', audio: question, speakAfterMs: 5_000, hangUpAfterMs: 16_000 }),
  });
  const port = await freePort();
  koe = await KoeProcess.start({
    name: 'outbound',
    dataDir: scratch,
    env: {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_API_BASE_URL: network.baseUrl,
      TWILIO_CALLER_ID: '+14155550100',
    },
  });
  cookie = await koe.login();
});

after(async () => {
  await koe?.stop();
  await network?.close();
  if (scratch) removeTempDir(scratch);
});

test('an outbound call with the built-in engine: greeting, the callee’s question recognised, the answer heard', async () => {
  const placed = await fetch(`${koe.baseUrl}/api/calls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ to: CALLEE, agentId: 'receptionist' }),
  });
  assert.equal(placed.status, 201, await placed.clone().text());
  const { call } = (await placed.json()) as PlaceCallResponse;

  const detail = await waitUntil(
    async () => {
      const d = await koe.getJson<CallDetail>(`/api/calls/${call.id}`, cookie);
      return d.call.status === 'ended' && d.call.twilioStatus === 'completed' ? d : undefined;
    },
    40_000,
    'the outbound call to end',
  );
  assert.equal(detail.call.direction, 'outbound');
  assert.equal(detail.call.backend, 'engine');
  assert.equal(detail.call.endReason, 'caller_hung_up');
  const texts = detail.turns.map((t) => `${t.role}: ${t.text ?? ''}`);
  assert.equal(detail.turns[0]?.source, 'greeting', texts.join('\n'));
  assert.match(detail.turns[0]?.text ?? '', /Sakura Dental Clinic/);
  const question = detail.turns.find((t) => t.role === 'user');
  assert.match(question?.text ?? '', /opening hours/i, texts.join('\n'));
  const answer = detail.turns.find((t) => t.role === 'assistant' && t.seq > (question?.seq ?? 0));
  assert.match(answer?.heardText ?? '', /Monday to Friday/i, texts.join('\n'));
  assert.ok((answer?.latencyMs ?? Infinity) < 3_000, `answered in ${answer?.latencyMs} ms`);

  const fake = network.calls.get(call.callSid as string);
  assert.ok(fake);
  // Greeting + answer reached the callee: several seconds of μ-law at 8 bytes per ms.
  assert.ok(fake.receivedAudio().length > 4_000 * 8, `the callee heard ${fake.receivedAudio().length / 8} ms`);
  assert.deepEqual(
    fake.callbacks.filter((c) => c.kind === 'status').map((c) => [c.params.CallStatus, c.answeredStatus]),
    [
      ['initiated', 204],
      ['ringing', 204],
      ['in-progress', 204],
      ['completed', 204],
    ],
  );
  assert.deepEqual(network.errors, []);
});
