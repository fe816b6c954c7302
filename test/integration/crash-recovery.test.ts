// End to end crash safety: a real `koe start` process on embedded PGlite takes a call; right after the
// caller heard several turns to their end, the process is killed with SIGKILL mid-call — no shutdown code
// runs, nothing waits for the database first. A new process on the same KOE_DATA_DIR must still have those turns, and must mark the call
// as abandoned (its process died before the end) instead of leaving it "active" forever.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { CallDetail, CallRecord, Page } from '../../src/server/api/api-types.js';
import type { FakeRealtimeServer } from '../fakes/fake-realtime-server.js';
import { KoeProcess, makeTempDir, removeTempDir, waitUntil, writeTestAgentsFile } from '../support/koe-process.js';
import { PhoneCaller } from '../support/place-call.js';
import { speechLike, startScriptedModel } from '../support/scripted-model.js';

let model: FakeRealtimeServer;
let dataDir: string;
const processes: KoeProcess[] = [];

before(async () => {
  model = await startScriptedModel({
    transcript: (_instructions, n) => `caller question number ${n}`,
    reply: (_instructions, userText) => `answer to ${userText ?? 'nothing'}`,
  });
  dataDir = makeTempDir('koe-crash-');
});

after(async () => {
  for (const koe of processes) await koe.kill();
  await model.close();
  removeTempDir(dataDir);
});

async function findCall(koe: KoeProcess, cookie: string, callSid: string): Promise<CallRecord | undefined> {
  const page = await koe.getJson<Page<CallRecord>>(`/api/calls?q=${encodeURIComponent(callSid)}`, cookie);
  return page.items.find((c) => c.callSid === callSid);
}

test('kill -9 mid-call: the finished turns survive a restart and the call is marked abandoned', { timeout: 90_000 }, async () => {
  const agentsFile = writeTestAgentsFile(dataDir);
  const first = await KoeProcess.start({ name: 'first', dataDir, agentsFile, realtimeUrl: model.url });
  processes.push(first);

  const caller = await PhoneCaller.place(first.baseUrl);
  await caller.waitForGreeting();
  await caller.say(speechLike(800));
  await caller.say(speechLike(800));

  // Greeting, two caller turns and two replies are finished: the caller heard the last reply to its end
  // (its audio played out and the line has been quiet for 900 ms since). No waiting for the database:
  // what was finished when the process dies must be on disk already.
  const holding = caller.holdLine(() => false, 60_000, 'nothing (the line is held until Koe dies)').catch((err: unknown) => err);
  await first.kill();
  assert.equal(first.child.signalCode, 'SIGKILL');
  const holdOutcome = await holding;
  assert.match(String(holdOutcome), /the call ended/, 'the caller saw the media stream die with the process');

  const second = await KoeProcess.start({ name: 'second', dataDir, agentsFile, realtimeUrl: model.url });
  processes.push(second);
  const cookie2 = await second.login();
  const call = await waitUntil(() => findCall(second, cookie2, caller.callSid), 10_000, 'the call record');
  const recovered = await waitUntil(
    async () => {
      const detail = await second.getJson<CallDetail>(`/api/calls/${call.id}`, cookie2);
      return detail.call.status === 'active' ? undefined : detail;
    },
    15_000,
    'the dead process’s call to leave the "active" status',
  );
  assert.equal(recovered.call.status, 'abandoned');
  assert.equal(recovered.call.callSid, caller.callSid);
  assert.deepEqual(
    recovered.turns.map((t) => [t.seq, t.role, t.text]),
    [
      [1, 'assistant', 'Thank you for calling Sakura Dental Clinic. How can I help you today?'],
      [2, 'user', 'caller question number 1'],
      [3, 'assistant', 'answer to caller question number 1'],
      [4, 'user', 'caller question number 2'],
      [5, 'assistant', 'answer to caller question number 2'],
    ],
    'every turn finished before the kill is stored, in order',
  );
  assert.equal(recovered.turns[0]?.source, 'greeting');

  // The restarted process works: a new call is answered and finished normally.
  const next = await PhoneCaller.place(second.baseUrl);
  await next.waitForGreeting();
  await next.hangUp();
  const ended = await waitUntil(
    async () => {
      const record = await findCall(second, cookie2, next.callSid);
      return record?.status === 'ended' ? record : undefined;
    },
    10_000,
    'the new call to end',
  );
  assert.equal(ended.endReason, 'caller_hung_up');
  await second.stop();
});
