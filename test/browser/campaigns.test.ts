// Outbound calls and campaigns in a real browser: Debian's Chromium driven by playwright-core against a Koe
// (store, dashboard API, campaign dialer, the built dashboard) whose Twilio is the fake network
// (test/fakes/fake-twilio-network.ts, started by the harness, which gives Koe its PUBLIC_URL) and whose model
// is the fake Realtime server.
// Needs the dashboard built (`npm run build:web`; `npm test` does it) and `chromium` installed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { CallDetailResponse, CampaignList, CampaignRecord } from '../../src/server/api/api-types.js';
import type { ResponseContext } from '../fakes/fake-realtime-server.js';
import type { CalleeScript, FakeTwilioNetwork } from '../fakes/fake-twilio-network.js';
import { silence, speechLike } from '../integration/harness.js';
import type { TrackedPage } from '../support/browser.js';
import { launchChromium, loginInBrowser, openPage, requireBuiltDashboard, tid, withFailureCapture } from '../support/browser.js';
import type { DashboardServer } from '../server/dashboard-support.js';
import { ADMIN_PASSWORD, api, login, startDashboardServer } from '../server/dashboard-support.js';

const CALLER_ID = '+12025550199';
const GREETING = 'Hello, this is Sakura Dental calling about your appointment.';
const REPLY = 'Of course, Tuesday at ten works.';
const SINGLE_CALL_TO = '+12025550100';

/** Callees by number: the single call talks; the campaign's contacts answer, are busy, or do not answer. */
const CALLEES: Record<string, CalleeScript> = {
  [SINGLE_CALL_TO]: { kind: 'answer', audio: Buffer.concat([speechLike(600), silence(900)]), speakAfterMs: 1500, hangUpAfterMs: 5000 },
  '+12025550101': { kind: 'answer', hangUpAfterMs: 1500 },
  '+12025550102': { kind: 'answer', hangUpAfterMs: 1500 },
  '+12025550103': { kind: 'busy' },
  '+12025550104': { kind: 'no-answer' },
};

/** Line 4 (1 = the header) is not a phone number. */
const CONTACTS_CSV = ['phone,patientName', '+12025550101,Aiko', '+12025550102,Ben', 'not-a-phone,Nobody', '+12025550103,Chika', '+12025550104,Daisuke', ''].join('\n');

function greetThenAnswer(ctx: ResponseContext) {
  if (ctx.index === 0) return [{ type: 'audio' as const, transcript: GREETING, audioMs: 600 }];
  return [{ type: 'audio' as const, transcript: REPLY, audioMs: 600 }];
}

let network: FakeTwilioNetwork;
let server: DashboardServer;
let browser: Browser;
let dash: TrackedPage | undefined;
let cookie: string;
let campaignId = '';

before(async () => {
  requireBuiltDashboard();
  [server, browser] = await Promise.all([
    startDashboardServer({
      agents: [
        {
          id: 'dental',
          name: 'Dental reminders',
          timezone: 'Asia/Tokyo',
          // patientName has no default: every call must bring it (a CSV column, a field in the place-call form).
          instructions: 'You call {{patientName}} for {{companyName}} about an appointment.',
          variables: { companyName: 'Sakura Dental' },
          greeting: GREETING,
        },
      ],
      realtime: { respond: greetThenAnswer, transcripts: ['Can I move it to Tuesday'] },
      twilioNetwork: { callee: (call) => CALLEES[call.to] ?? { kind: 'failed' } },
      env: { TWILIO_CALLER_ID: CALLER_ID },
    }),
    launchChromium(),
  ]);
  network = server.harness.network as FakeTwilioNetwork;
  cookie = await login(server.base);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

function signedIn(): TrackedPage {
  assert.ok(dash, 'the login test signed a page in');
  return dash;
}

test('login opens the dashboard with a Campaigns entry in the navigation', async () => {
  const tracked = await openPage(browser, server.base);
  dash = tracked;
  await withFailureCapture('campaigns-login', tracked, async () => {
    await loginInBrowser(tracked.page, ADMIN_PASSWORD);
    await tracked.page.locator(tid('nav-campaigns')).waitFor();
  });
});

test('a campaign created from a CSV file with one bad row: the import report names the rejected line', { timeout: 60_000 }, async () => {
  const { page } = signedIn();
  await withFailureCapture('campaign-create', signedIn(), async () => {
    await page.locator(tid('nav-campaigns')).click();
    await page.locator(tid('campaigns-page')).waitFor();
    await page.locator(tid('campaigns-empty')).waitFor();
    await page.locator(tid('campaign-new')).click();
    const form = page.locator(tid('campaign-form'));
    await form.waitFor();

    // The agent's time zone is the default.
    await page.locator(tid('campaign-field-agent')).selectOption('dental');
    assert.equal(await page.locator(tid('campaign-field-timezone')).inputValue(), 'Asia/Tokyo');

    // Nothing filled in: the form says what is missing without asking the server.
    await page.locator(tid('campaign-submit')).click();
    await page.locator(`${tid('field-problem')}[data-path="name"]`).waitFor();
    await page.locator(`${tid('field-problem')}[data-path="csv"]`).waitFor();

    await page.locator(tid('campaign-field-name')).fill('Spring recall');
    await page.locator(tid('campaign-field-file')).setInputFiles({ name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(CONTACTS_CSV) });
    const summary = page.locator(tid('campaign-csv-summary'));
    await summary.waitFor();
    assert.equal(await summary.getAttribute('data-rows'), '5');
    assert.match(await summary.innerText(), /contacts\.csv/);
    assert.match(await page.locator(tid('campaign-csv-columns')).innerText(), /patientName/);
    // Every variable the agent needs comes from a column or a default: no warning.
    await page.waitForTimeout(600);
    assert.equal(await page.locator(tid('campaign-csv-missing')).count(), 0);

    // Around the clock, every day, one attempt each (no retry waits), at 5 calls a second.
    await page.locator(tid('campaign-field-window-start')).fill('00:00');
    await page.locator(tid('campaign-field-window-end')).fill('00:00');
    await page.locator(tid('campaign-field-timezone')).fill('UTC');
    await page.locator(tid('campaign-field-cps')).fill('5');
    await page.locator(tid('campaign-field-max-concurrent')).fill('3');
    await page.locator(tid('campaign-field-max-attempts')).fill('1');
    await page.locator(tid('campaign-field-ring-timeout')).fill('20');
    for (let day = 1; day <= 7; day++) assert.ok(await page.locator(tid(`campaign-field-day-${day}`)).isChecked(), `day ${day} is checked by default`);
    assert.equal(await page.locator(tid('campaign-field-start')).isChecked(), false);
    await page.locator(tid('campaign-submit')).click();

    const detail = page.locator(`${tid('campaign-detail')}[data-status="draft"]`);
    await detail.waitFor();
    campaignId = (await detail.getAttribute('data-campaign-id')) ?? '';
    assert.ok(campaignId, 'the campaign page names its campaign');
    assert.equal(new URL(page.url()).pathname, `/campaigns/${campaignId}`);
    await page.locator(tid('campaign-created')).waitFor();

    const report = page.locator(tid('campaign-import-report'));
    assert.equal(await report.getAttribute('data-imported'), '4');
    assert.equal(await report.getAttribute('data-rejected'), '1');
    const rejection = report.locator(`${tid('import-rejection')}[data-line="4"]`);
    await rejection.waitFor();
    assert.match(await rejection.innerText(), /not-a-phone/);
    assert.equal(await report.locator(tid('import-rejection')).count(), 1);
    assert.match(await page.locator(tid('import-variables')).innerText(), /patientName/);

    // What was sent is what the server kept.
    const stored = await api<CampaignRecord>(server.base, 'GET', `/api/campaigns/${campaignId}`, { cookie });
    assert.deepEqual(stored.body.window, { start: '00:00', end: '24:00', days: [1, 2, 3, 4, 5, 6, 7] });
    assert.deepEqual([stored.body.callsPerSecond, stored.body.maxConcurrent, stored.body.retry.maxAttempts, stored.body.ringTimeoutSec], [5, 3, 1, 20]);
    assert.equal(stored.body.timezone, 'UTC');
    assert.equal(stored.body.from, CALLER_ID);

    // Draft: start and cancel only.
    assert.equal(await page.locator(tid('campaign-start')).isEnabled(), true);
    assert.equal(await page.locator(tid('campaign-cancel')).isEnabled(), true);
    assert.equal(await page.locator(tid('campaign-pause')).isEnabled(), false);
    assert.equal(await page.locator(tid('campaign-resume')).isEnabled(), false);
    const contacts = page.locator(tid('contacts-table'));
    await contacts.waitFor();
    assert.equal(await contacts.locator('tbody tr').count(), 4);
    assert.equal(await contacts.locator(`${tid('contact-state')}[data-state="pending"]`).count(), 4);
  });
});

test('starting it: the page follows the campaign by itself until every contact is done, with outcomes', { timeout: 90_000 }, async () => {
  const { page } = signedIn();
  await withFailureCapture('campaign-run', signedIn(), async () => {
    assert.ok(campaignId, 'the create test made a campaign');
    await page.locator(tid('campaign-start')).click();
    // No reload from here on: the page polls while the campaign runs.
    await page.locator(`${tid('campaign-detail')}[data-status="completed"]`).waitFor({ timeout: 60_000 });
    const progress = page.locator(`${tid('campaign-progress-section')} ${tid('campaign-progress')}`);
    assert.equal(await progress.getAttribute('data-done'), '4');
    assert.equal(await progress.getAttribute('data-total'), '4');
    const count = async (outcome: string) => page.locator(`${tid('campaign-progress-section')} ${tid(`campaign-count-${outcome}`)}`).getAttribute('data-count');
    assert.equal(await count('answered'), '2');
    assert.equal(await count('busy'), '1');
    assert.equal(await count('no-answer'), '1');
    assert.equal(await page.locator(tid('campaign-attempts')).getAttribute('data-count'), '4');
    for (const action of ['start', 'pause', 'resume', 'cancel']) {
      assert.equal(await page.locator(tid(`campaign-${action}`)).isEnabled(), false, `${action} is off once completed`);
    }

    // The contacts table caught up too (it is refreshed when the campaign moves on).
    const busyRow = page.locator(`${tid('contacts-table')} tr[data-phone="+12025550103"]`);
    await page.locator(`${tid('contacts-table')} tr[data-phone="+12025550103"][data-state="done"][data-outcome="busy"]`).waitFor();
    assert.equal(await busyRow.locator(`${tid('contact-attempt')}`).count(), 1);
    assert.equal(await busyRow.locator(`${tid('call-outcome')}`).getAttribute('data-outcome'), 'busy');

    // Filters: by outcome, then by search text.
    await page.locator(tid('contacts-filter-outcome')).selectOption('answered');
    await page.waitForFunction(`document.querySelectorAll('[data-testid="contacts-table"] tbody tr').length === 2 && !document.querySelector('[data-testid="contacts-table"] tr[data-outcome="busy"]')`);
    assert.match(new URL(page.url()).search, /outcome=answered/);
    await page.locator(tid('contacts-search')).fill('Aiko');
    await page.waitForFunction(`document.querySelectorAll('[data-testid="contacts-table"] tbody tr').length === 1`);
    assert.equal(await page.locator(`${tid('contacts-table')} tbody tr`).getAttribute('data-phone'), '+12025550101');

    // Export: a CSV with one row per contact.
    const href = await page.locator(tid('campaign-export')).getAttribute('href');
    assert.equal(href, `/api/campaigns/${campaignId}/export.csv`);
    const exported = (await page.evaluate(`fetch(${JSON.stringify(href)}).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), text: await r.text() }))`)) as {
      status: number;
      type: string | null;
      text: string;
    };
    assert.equal(exported.status, 200);
    assert.match(exported.type ?? '', /text\/csv/);
    assert.equal(exported.text.trimEnd().split(/\r?\n/).length, 5, exported.text);

    // The list shows it completed.
    await page.locator(tid('nav-campaigns')).click();
    const row = page.locator(tid(`campaign-row-${campaignId}`));
    await row.waitFor();
    assert.equal(await row.getAttribute('data-status'), 'completed');
    assert.equal(await row.locator(tid('campaign-progress')).getAttribute('data-done'), '4');
  });
});

test('a contact’s call link opens the call, which names its campaign and attempt', { timeout: 30_000 }, async () => {
  const { page } = signedIn();
  await withFailureCapture('campaign-contact-call', signedIn(), async () => {
    await page.locator(tid(`campaign-row-${campaignId}`)).click();
    await page.locator(tid('campaign-detail')).waitFor();
    const row = page.locator(`${tid('contacts-table')} tr[data-phone="+12025550101"]`);
    await row.waitFor();
    const link = row.locator(tid('contact-attempt')).first();
    const callId = await link.getAttribute('data-call-id');
    assert.ok(callId);
    await link.click();
    const detail = page.locator(`${tid('call-detail')}[data-call-id="${callId}"][data-status="ended"]`);
    await detail.waitFor();
    assert.equal(await detail.locator(`.head-badges ${tid('call-outcome')}`).getAttribute('data-outcome'), 'caller_hung_up');
    assert.equal(await detail.locator(tid('call-attempt')).getAttribute('data-attempt'), '1');
    assert.equal((await detail.locator(`${tid('call-twilio-status')} dd`).innerText()).trim(), 'completed');
    assert.equal(await detail.locator(tid('call-campaign-link')).getAttribute('href'), `/campaigns/${campaignId}`);
    await detail.locator(tid('call-campaign-link')).filter({ hasText: 'Spring recall' }).waitFor();
    await detail.locator(`${tid('call-transcript')} ${tid('turn-assistant')}`).filter({ hasText: GREETING }).waitFor();
  });
});

test('place a call from the calls page: the agent’s needed variable is prefilled, mistakes are explained, then the call is followed live', { timeout: 60_000 }, async () => {
  const { page } = signedIn();
  await withFailureCapture('place-call', signedIn(), async () => {
    await page.locator(tid('nav-calls')).click();
    await page.locator(tid('calls-page')).waitFor();
    await page.locator(tid('place-call-open')).click();
    const dialog = page.locator(tid('place-call-dialog'));
    await dialog.waitFor();
    await dialog.locator(tid('place-call-agent')).selectOption('dental');
    // POST /api/agents/preview says patientName has no value: its row is there, empty.
    const patient = dialog.locator('[data-testid^="place-call-var-value-"][data-name="patientName"]');
    await patient.waitFor();
    assert.equal(await patient.inputValue(), '');
    assert.equal(await dialog.locator('[data-testid^="place-call-var-value-"][data-name="companyName"]').count(), 0, 'variables with a default are not asked for');

    // No number and no patient name: refused in the form, nothing dialed.
    const before = network.created.length;
    await dialog.locator(tid('place-call-submit')).click();
    await dialog.locator(`${tid('field-problem')}[data-path="to"]`).waitFor();
    await dialog.locator(`${tid('field-problem')}[data-path^="variables["]`).waitFor();
    // A number Koe cannot read: the server's 400 and its problems.
    await patient.fill('Aiko Tanaka');
    await dialog.locator(tid('place-call-to')).fill('not a number');
    await dialog.locator(tid('place-call-submit')).click();
    const refused = dialog.locator(`${tid('place-call-error')}[data-status="400"]`);
    await refused.waitFor();
    await refused.locator(tid('error-problems')).waitFor();
    assert.equal(network.created.length, before, 'nothing was dialed');

    await dialog.locator(tid('place-call-to')).fill(SINGLE_CALL_TO);
    await dialog.locator(tid('place-call-submit')).click();
    const detail = page.locator(tid('call-detail'));
    await detail.waitFor();
    const callId = await detail.getAttribute('data-call-id');
    assert.ok(callId);
    assert.equal(new URL(page.url()).pathname, `/calls/${callId}`);
    assert.equal(await dialog.count(), 0, 'the dialog closed');

    // Dialing, then answered: the greeting and the conversation arrive live, then the callee hangs up.
    await detail.locator(`${tid('call-transcript')} ${tid('turn-assistant')}`).filter({ hasText: GREETING }).waitFor({ timeout: 20_000 });
    await page.locator(`${tid('call-detail')}[data-call-id="${callId}"][data-status="ended"]`).waitFor({ timeout: 30_000 });
    assert.equal(await page.locator(`${tid('call-detail')} .head-badges ${tid('call-outcome')}`).getAttribute('data-outcome'), 'caller_hung_up');
    assert.equal(await page.locator(tid('call-dialing')).count(), 0);
    assert.equal(await page.locator(tid('call-campaign')).count(), 0, 'a single call belongs to no campaign');

    const stored = await api<CallDetailResponse>(server.base, 'GET', `/api/calls/${callId}`, { cookie });
    assert.equal(stored.body.call.direction, 'outbound');
    assert.equal(stored.body.call.to, SINGLE_CALL_TO);
    assert.equal(stored.body.call.from, CALLER_ID);
    assert.equal(stored.body.call.variables.patientName, 'Aiko Tanaka');
    assert.equal(stored.body.call.dialedAt !== null, true);
  });
});

test('in Japanese the campaign pages speak Japanese (一斉コール)', async () => {
  const { page } = signedIn();
  await withFailureCapture('campaigns-japanese', signedIn(), async () => {
    await page.locator(tid('language-switch')).selectOption('ja');
    await page.locator(tid('nav-campaigns')).click();
    await page.locator(tid('campaigns-page')).waitFor();
    assert.equal((await page.locator(tid('nav-campaigns')).innerText()).trim(), '一斉コール');
    const row = page.locator(tid(`campaign-row-${campaignId}`));
    assert.equal((await row.locator(tid('campaign-status')).innerText()).trim(), '完了');
    await page.locator(tid('language-switch')).selectOption('en');
  });
});

test('the fake Twilio network saw no mistakes and the campaign list answers', async () => {
  assert.deepEqual(network.errors, []);
  const list = await api<CampaignList>(server.base, 'GET', '/api/campaigns', { cookie });
  assert.equal(list.body.campaigns.length, 1);
});
