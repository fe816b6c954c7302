// Two Koe processes on one real PostgreSQL (a fresh database on KOE_TEST_DATABASE_URL's server, made for
// this test; test/support/databases.ts), with the same admin password and stream secret, as behind a load balancer. A call placed on
// process A shows live, transcript included, on process B's dashboard in Chromium (events cross
// processes through PostgreSQL LISTEN/NOTIFY); a login session made on B is valid on A.
// Both processes talk to a scripted Realtime model in this test process, so the test is quick and each
// turn's words are known.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { CallRecord, Page as ApiPage } from '../../src/server/api/api-types.js';
import type { FakeRealtimeServer } from '../fakes/fake-realtime-server.js';
import type { TrackedPage } from '../support/browser.js';
import { launchChromium, loginInBrowser, openLivePage, openPage, requireBuiltDashboard, tid, withFailureCapture } from '../support/browser.js';
import type { TestDatabase } from '../support/databases.js';
import { createPostgresDatabase } from '../support/databases.js';
import { ADMIN_PASSWORD, KoeProcess, makeTempDir, removeTempDir, waitUntil, writeTestAgentsFile } from '../support/koe-process.js';
import { PhoneCaller } from '../support/place-call.js';
import { speechLike, startScriptedModel } from '../support/scripted-model.js';

let model: FakeRealtimeServer;
let database: TestDatabase;
let a: KoeProcess;
let b: KoeProcess;
let browser: Browser;
let scratch: string;

before(async () => {
  requireBuiltDashboard();
  scratch = makeTempDir('koe-two-processes-');
  model = await startScriptedModel({
    transcript: (_instructions, n) => `papaya question ${n} asked on process A`,
    reply: (_instructions, userText) => `mango answer to ${userText ?? 'nothing'}`,
  });
  database = await createPostgresDatabase();
  const agentsFile = writeTestAgentsFile(scratch);
  // Started together, as replicas are: they share the schema migration and the agents import.
  [a, b, browser] = await Promise.all([
    KoeProcess.start({ name: 'A', databaseUrl: database.databaseUrl as string, realtimeUrl: model.url, agentsFile, dataDir: makeTempDir('koe-a-') }),
    KoeProcess.start({ name: 'B', databaseUrl: database.databaseUrl as string, realtimeUrl: model.url, agentsFile, dataDir: makeTempDir('koe-b-') }),
    launchChromium(),
  ]);
});

after(async () => {
  await browser?.close();
  await Promise.all([a?.stop(), b?.stop()]);
  await model?.close();
  await database?.drop();
  if (scratch) removeTempDir(scratch);
});

test('a call on process A shows live with its transcript on process B’s dashboard; B’s login session works on A', { timeout: 60_000 }, async () => {
  let tracked: TrackedPage | undefined;
  await withFailureCapture('two-processes', () => tracked, async () => {
    tracked = await openPage(browser, b.baseUrl);
    const { page, context } = tracked;
    await loginInBrowser(page, ADMIN_PASSWORD);
    await openLivePage(page);

    // The session made on B, presented to A.
    const session = (await context.cookies(b.baseUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
    assert.ok(session, 'B set a session cookie');
    const onA = await a.fetch('/api/calls', { headers: { cookie: session } });
    assert.equal(onA.status, 200, 'A accepts the session B made');
    const forged = await a.fetch('/api/calls', { headers: { cookie: session.replace(/=([^;]{4})/, '=XXXX') } });
    assert.equal(forged.status, 401, 'A still refuses a session it cannot find');
    // In the browser too: the cookie (same host, other port) opens A's dashboard without a login.
    const pageA = await context.newPage();
    await pageA.goto(`${a.baseUrl}/calls`);
    await pageA.locator(tid('calls-page')).waitFor();
    assert.equal(await pageA.locator(tid('login-form')).count(), 0);
    await pageA.close();

    const caller = await PhoneCaller.place(a.baseUrl, { from: '+15550177001' });
    const row = page.locator(`${tid('live-calls')} ${tid(`live-call-${caller.callSid}`)}`);
    await row.waitFor();
    await row.click();
    const view = page.locator(`${tid('live-call-view')}[data-call-sid="${caller.callSid}"]`);
    await caller.waitForGreeting();
    await view.locator(tid('turn-assistant')).filter({ hasText: 'Thank you for calling Sakura Dental Clinic' }).waitFor();
    await caller.say(speechLike(800));
    await view.locator(tid('turn-user')).filter({ hasText: 'papaya question 1 asked on process A' }).waitFor();
    await view.locator(tid('turn-assistant')).filter({ hasText: 'mango answer to papaya question 1 asked on process A' }).waitFor();
    // All of it while the call is still live.
    assert.equal(await page.locator(`${tid('live-calls')} ${tid(`live-call-${caller.callSid}`)}`).count(), 1);
    assert.equal(caller.stream.closed, false);

    await caller.hangUp();
    await page.locator(`${tid('live-ended-calls')} ${tid(`live-call-${caller.callSid}`)}`).waitFor();

    // The call was A's: stored with A's process id, readable from B.
    const cookieB = session;
    const record = await waitUntil(async () => {
      const list = await b.getJson<ApiPage<CallRecord>>(`/api/calls?q=${caller.callSid}`, cookieB);
      const found = list.items.find((c) => c.callSid === caller.callSid);
      return found?.status === 'ended' ? found : undefined;
    }, 10_000, 'the call, ended, in B’s history');
    const processA = await a.waitForLog((l) => typeof l.processId === 'string' && typeof l.msg === 'string' && l.msg.startsWith('Koe is listening'), 1000);
    assert.equal(record.processId, processA.processId, 'process A handled the call');
    assert.equal(record.turnCount, 3);
  });
});
