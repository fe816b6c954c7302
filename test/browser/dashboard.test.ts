// The dashboard in a real browser: Debian's Chromium driven by playwright-core, against a real `koe start`
// process with the built-in engine (real speech recognition and synthesis) and embedded PGlite.
// Needs the dashboard built (`npm run build:web`; `npm test` does it) and `chromium flite sox` installed.
//
// Phone calls are placed the way Twilio places them (voice webhook, TwiML, media stream) with a recorded
// caller (samples/caller-opening-hours.wav: "Hello. What are your opening hours?"); the softphone test
// feeds the same question to Chromium's fake microphone from a WAV file made here with flite.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { CallDetail, CallRecord, Page as ApiPage } from '../../src/server/api/api-types.js';
import { callerUtterances } from '../../src/simulate/caller-audio.js';
import type { TrackedPage } from '../support/browser.js';
import { launchChromium, openLivePage, openPage, requireBuiltDashboard, tid, withFailureCapture } from '../support/browser.js';
import { ADMIN_PASSWORD, KoeProcess, makeTempDir, REPO_ROOT, removeTempDir, waitUntil } from '../support/koe-process.js';
import { PhoneCaller } from '../support/place-call.js';
import { speechWav } from '../support/speech.js';

const GREETING = 'Thank you for calling Sakura Dental Clinic. How can I help you today?';
const NEW_GREETING = 'Good day, this is the new front desk of Sakura Dental Clinic. What can I do for you?';
/** What the built-in engine answers to the opening-hours question (from the agent's instructions). */
const OPENING_HOURS_REPLY = /Monday to Friday/i;

let koe: KoeProcess;
let browser: Browser;
let dash: TrackedPage | undefined;
let scratch: string;
let question: Buffer;
let micWav: string;
let cookie: string;
/** The call of the live-call test: placed with the agent's first version. */
let firstCall: { callSid: string; agentVersion: number | null } | undefined;

before(async () => {
  requireBuiltDashboard();
  scratch = makeTempDir('koe-browser-');
  // "Hello. What are your opening hours?" is the recording's first utterance; "goodbye" the second.
  const utterance = callerUtterances(readFileSync(join(REPO_ROOT, 'samples', 'caller-opening-hours.wav')))[0];
  assert.ok(utterance, 'the sample caller recording holds speech');
  question = utterance;
  // Chromium loops the file: the question, then a long pause for the agent's answer.
  micWav = speechWav(scratch, 'Hello. What are your opening hours?', { rateHz: 48_000, leadMs: 3_000, tailMs: 14_000 });
  [koe, browser] = await Promise.all([KoeProcess.start({ name: 'dashboard', dataDir: scratch }), launchChromium({ fakeMicWav: micWav })]);
  cookie = await koe.login();
});

after(async () => {
  await browser?.close();
  await koe?.stop();
  if (scratch) removeTempDir(scratch);
});

async function findCall(callSid: string): Promise<CallRecord | undefined> {
  const page = await koe.getJson<ApiPage<CallRecord>>(`/api/calls?q=${encodeURIComponent(callSid)}`, cookie);
  return page.items.find((c) => c.callSid === callSid);
}

function signedIn(): TrackedPage {
  assert.ok(dash, 'the login test signed a page in');
  return dash;
}

test('login: a wrong password is refused with a message, /api answers 401 without a session, the right one opens the dashboard', async () => {
  const tracked = await openPage(browser, koe.baseUrl);
  dash = tracked;
  const { page } = tracked;
  await withFailureCapture('login', tracked, async () => {
    await page.goto('/');
    await page.locator(tid('login-form')).waitFor();

    const unauthenticated = (await page.evaluate(
      `fetch('/api/calls').then(async (r) => ({ status: r.status, body: await r.json() }))`,
    )) as { status: number; body: { error?: { code?: string } } };
    assert.equal(unauthenticated.status, 401);
    assert.ok(unauthenticated.body.error?.code, 'the 401 carries an API error body');

    await page.locator(tid('login-password')).fill('not-the-password');
    await page.locator(tid('login-submit')).click();
    await page.locator(tid('login-error')).waitFor();
    assert.match(await page.locator(tid('login-error')).innerText(), /\S/);
    assert.equal(await page.locator(tid('nav-live')).count(), 0, 'still signed out');

    await page.locator(tid('login-password')).fill(ADMIN_PASSWORD);
    await page.locator(tid('login-submit')).click();
    await page.locator(tid('nav-live')).waitFor();
    await page.locator(tid('live-page')).waitFor();
    const status = (await page.evaluate(`fetch('/api/calls').then((r) => r.status)`)) as number;
    assert.equal(status, 200, 'the session cookie opens /api');
  });
});

test('a phone call appears live with its transcript streaming in, then its detail page shows turns, latencies and how it ended', { timeout: 90_000 }, async () => {
  const { page } = signedIn();
  await withFailureCapture('live-call', signedIn(), async () => {
    await openLivePage(page);
    const caller = await PhoneCaller.place(koe.baseUrl, { from: '+15550123001' });
    const row = page.locator(tid(`live-call-${caller.callSid}`));
    await row.waitFor();
    await row.click();
    const view = page.locator(`${tid('live-call-view')}[data-call-sid="${caller.callSid}"]`);
    await caller.waitForGreeting();
    await view.locator(tid('turn-assistant')).filter({ hasText: GREETING }).waitFor();

    const speaking = caller.say(question, 40_000);
    // The reply streams in (a partial agent turn) before it is final.
    await view.locator(`${tid('turn-partial')}[data-role="assistant"]`).waitFor({ timeout: 40_000 });
    await speaking;
    const reply = view.locator(tid('turn-assistant')).filter({ hasText: OPENING_HOURS_REPLY });
    await reply.waitFor();
    const userTurn = view.locator(tid('turn-user')).first();
    assert.match(await userTurn.innerText(), /open|hour/i, 'the caller’s question was recognised');
    assert.equal(await view.locator(`${tid('turn-partial')}[data-role="assistant"]`).count(), 0, 'the partial became the final turn');

    await caller.hangUp();
    await page.locator(`${tid('live-ended-calls')} ${tid(`live-call-${caller.callSid}`)}`).waitFor();

    // The call in the history, then its page.
    assert.equal(await view.locator(tid('call-details-link')).count(), 1, 'the live view links to the call’s page');
    await page.locator(tid('nav-calls')).click();
    await page.locator(tid(`call-row-${caller.callSid}`)).click();
    const detail = page.locator(`${tid('call-detail')}[data-call-sid="${caller.callSid}"][data-status="ended"]`);
    await detail.waitFor();
    assert.equal(await detail.locator(tid('call-outcome')).getAttribute('data-outcome'), 'caller_hung_up');
    const transcript = detail.locator(tid('call-transcript'));
    assert.match(await transcript.locator(tid('turn-user')).first().innerText(), /open|hour/i);
    await transcript.locator(tid('turn-assistant')).filter({ hasText: OPENING_HOURS_REPLY }).waitFor();
    assert.ok((await transcript.locator(tid('turn-assistant')).count()) >= 2, 'greeting and reply');
    const waterfall = detail.locator(tid('latency-waterfall'));
    await waterfall.waitFor();
    assert.ok((await waterfall.locator(tid('waterfall-row')).count()) >= 1, 'the reply’s latency is drawn');

    const record = await findCall(caller.callSid);
    assert.ok(record, 'the call is stored');
    assert.equal(record.status, 'ended');
    firstCall = { callSid: caller.callSid, agentVersion: record.agentVersion };
  });
});

test('an agent edited in the editor answers the next call with the new greeting (new agent version)', { timeout: 60_000 }, async () => {
  const { page } = signedIn();
  await withFailureCapture('agent-editor', signedIn(), async () => {
    await page.locator(tid('nav-agents')).click();
    await page.locator(tid('agent-row-receptionist')).click();
    const editor = page.locator(`${tid('agent-editor')}[data-agent-id="receptionist"]`);
    await editor.waitFor();
    await editor.locator(tid('agent-field-greeting')).waitFor();
    const versionBefore = Number(await editor.getAttribute('data-version'));
    assert.ok(versionBefore >= 1, `the stored agent has a version (${versionBefore})`);
    assert.equal(await editor.locator(tid('agent-field-greeting')).inputValue(), 'Thank you for calling {{companyName}}. How can I help you today?');

    await editor.locator(tid('agent-field-greeting')).fill(NEW_GREETING);
    await editor.locator(tid('agent-dirty')).waitFor();
    await editor.locator(tid('agent-save')).click();
    await editor.locator(tid('agent-saved')).waitFor();
    await page.locator(`${tid('agent-editor')}[data-version="${versionBefore + 1}"]`).waitFor();

    await openLivePage(page);
    const caller = await PhoneCaller.place(koe.baseUrl, { from: '+15550123002' });
    await page.locator(tid(`live-call-${caller.callSid}`)).click();
    await caller.waitForGreeting();
    const view = page.locator(`${tid('live-call-view')}[data-call-sid="${caller.callSid}"]`);
    await view.locator(tid('turn-assistant')).filter({ hasText: NEW_GREETING }).waitFor();
    assert.ok(caller.stream.stats.bytesPlayed > 8_000 * 2, 'the caller heard seconds of greeting audio');
    await caller.hangUp();

    const record = await waitUntil(async () => {
      const r = await findCall(caller.callSid);
      return r?.status === 'ended' ? r : undefined;
    }, 10_000, 'the call to be stored as ended');
    assert.equal(record.agentVersion, versionBefore + 1, 'the call used the new version');
    const detail = await koe.getJson<CallDetail>(`/api/calls/${record.id}`, cookie);
    const greeting = detail.turns.find((t) => t.role === 'assistant');
    assert.equal(greeting?.text, NEW_GREETING);
    assert.equal(greeting?.source, 'greeting');

    if (firstCall) {
      const earlier = await findCall(firstCall.callSid);
      assert.equal(earlier?.agentVersion, versionBefore, 'the call before the edit keeps the version it used');
    }
  });
});

test('softphone: Chromium’s microphone (a WAV file) asks a question and the agent’s answer shows in the transcript', { timeout: 90_000 }, async () => {
  const { page } = signedIn();
  await withFailureCapture('softphone', signedIn(), async () => {
    await page.locator(tid('nav-softphone')).click();
    await page.locator(tid('softphone-page')).waitFor();
    await page.locator(tid('softphone-agent')).selectOption('receptionist');
    await page.locator(tid('softphone-call')).click();
    await page.locator(`${tid('softphone-status')}[data-state="in-call"]`).waitFor({ timeout: 20_000 });
    const callSid = (await page.locator(tid('softphone-call-sid')).innerText()).trim();
    assert.match(callSid, /^CA/);

    const transcript = page.locator(tid('softphone-transcript'));
    // A caller turn with recognised words, then an agent turn after it answering the question.
    await transcript.locator(`${tid('turn-assistant')}`).filter({ hasText: OPENING_HOURS_REPLY }).waitFor({ timeout: 60_000 });
    const order: Array<{ role: string | null; text: string; untranscribed: boolean }> = [];
    for (const turn of await transcript.locator(`${tid('turn-user')}, ${tid('turn-assistant')}`).all()) {
      order.push({
        role: await turn.getAttribute('data-testid'),
        text: await turn.locator('.turn-text').first().innerText(),
        untranscribed: (await turn.locator('.turn-text.muted').count()) > 0,
      });
    }
    const replyAt = order.findIndex((t) => t.role === 'turn-assistant' && OPENING_HOURS_REPLY.test(t.text));
    const asked = order.slice(0, replyAt).filter((t) => t.role === 'turn-user' && !t.untranscribed && /\w{3,}/.test(t.text));
    assert.ok(asked.length > 0, `a recognised caller turn comes before the answer: ${JSON.stringify(order)}`);

    const stats = page.locator(tid('softphone-stats'));
    assert.ok(Number(await stats.getAttribute('data-frames-sent')) > 100, 'the microphone streamed audio');
    assert.ok(Number(await stats.getAttribute('data-media-received')) > 0, 'the agent’s audio reached the page');
    assert.equal(await stats.getAttribute('data-violations'), '0');

    await page.locator(tid('softphone-hangup')).click();
    await page.locator(`${tid('softphone-status')}[data-state="ended"]`).waitFor();

    await page.locator(tid('nav-calls')).click();
    const row = page.locator(tid(`call-row-${callSid}`));
    await row.waitFor();
    const record = await waitUntil(async () => {
      const r = await findCall(callSid);
      return r?.status === 'ended' ? r : undefined;
    }, 10_000, 'the softphone call to be stored as ended');
    assert.ok(record.turnCount >= 3, `greeting, question and answer stored (${record.turnCount} turns)`);
  });
});

test('switching the language to Japanese changes the interface text', async () => {
  const { page } = signedIn();
  await withFailureCapture('language', signedIn(), async () => {
    const nav = page.locator(tid('nav-live'));
    assert.equal((await nav.innerText()).trim(), 'Live');
    await page.locator(tid('language-switch')).selectOption('ja');
    await page.waitForFunction(`document.querySelector('[data-testid="nav-live"]')?.textContent.trim() !== 'Live'`);
    assert.match(await nav.innerText(), /[\u3040-\u30ff\u4e00-\u9fff]/, 'the navigation is in Japanese');
    await page.locator(tid('language-switch')).selectOption('en');
    await page.waitForFunction(`document.querySelector('[data-testid="nav-live"]')?.textContent.trim() === 'Live'`);
  });
});

test('Koe logged no errors while the dashboard, the phone calls and the softphone were used', () => {
  const errors = koe.lines.filter((l) => (l.level ?? 0) >= 50).map((l) => l.raw);
  assert.deepEqual(errors, []);
});
