// `koe call` and `koe campaign …` against a real Koe (store, dashboard API, campaign dialer) whose Twilio is
// the fake network: the CLI functions run in this process with an output sink, and one test spawns the real
// binary.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { CliIo } from '../../src/cli/api-client.js';
import { callCommand } from '../../src/cli/call.js';
import { campaignCommand } from '../../src/cli/campaign.js';
import type { CallDetailResponse, CampaignRecord } from '../../src/server/api/api-types.js';
import type { ResponseContext } from '../fakes/fake-realtime-server.js';
import type { CalleeScript, FakeTwilioNetwork } from '../fakes/fake-twilio-network.js';
import { silence, speechLike } from '../integration/harness.js';
import type { DashboardServer } from './dashboard-support.js';
import { ADMIN_PASSWORD, api, login, startDashboardServer } from './dashboard-support.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CALLER_ID = '+12025550199';
const GREETING = 'Hello, this is Koe calling from Sakura Dental.';
const REPLY = 'Of course, a cleaning on Tuesday at ten.';

/** Callees by number: the one `koe call` dials talks; the campaign's answer, are busy, or do not answer. */
const CALLEES: Record<string, CalleeScript> = {
  '+12025550101': { kind: 'answer', audio: Buffer.concat([speechLike(600), silence(900)]), speakAfterMs: 1200, hangUpAfterMs: 4000 },
  '+12025550201': { kind: 'answer', hangUpAfterMs: 400 },
  '+12025550202': { kind: 'answer', hangUpAfterMs: 400 },
  '+12025550203': { kind: 'busy' },
  '+12025550204': { kind: 'no-answer' },
  '+12025550205': { kind: 'answer', hangUpAfterMs: 400 },
};
const BAD_ROWS = 53;

function greetThenAnswer(ctx: ResponseContext) {
  if (ctx.index === 0) return [{ type: 'audio' as const, transcript: GREETING, audioMs: 400 }];
  return [{ type: 'audio' as const, transcript: REPLY, audioMs: 400 }];
}

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

describe('koe call and koe campaign against a running Koe', () => {
  let network: FakeTwilioNetwork;
  let server: DashboardServer;
  let cookie: string;
  let work: string;

  const run = async (
    command: (argv: string[], io: CliIo) => Promise<number>,
    argv: string[],
    opts: { env?: NodeJS.ProcessEnv; tty?: boolean } = {},
  ): Promise<CliRun> => {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: { write: (t: string) => (stdout += t), isTTY: opts.tty ?? false, columns: 200 },
      stderr: { write: (t: string) => (stderr += t) },
      env: opts.env ?? { KOE_URL: server.base, KOE_ADMIN_PASSWORD: ADMIN_PASSWORD, LANG: 'en_US.UTF-8' },
      cwd: work,
      pollIntervalMs: 100,
    };
    const code = await command(argv, io);
    return { code, stdout, stderr };
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'koe-cli-test-'));
    server = await startDashboardServer({
      agents: [{ id: 'dental', name: 'Dental', instructions: 'You call for {{companyName}}.', variables: { companyName: 'Sakura Dental' }, greeting: GREETING }],
      realtime: { respond: greetThenAnswer, transcripts: ['I would like to book a cleaning'] },
      twilioNetwork: { callee: (call) => CALLEES[call.to] ?? { kind: 'failed' } },
      dispatcherTimings: { tickMs: 50, housekeepingMs: 200 },
      env: { TWILIO_CALLER_ID: CALLER_ID },
    });
    network = server.harness.network as FakeTwilioNetwork;
    cookie = await login(server.base);
  });

  after(async () => {
    await server?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('koe call refuses a bad number with the API problems, one per line (exit 1); usage mistakes exit 2', async () => {
    const refused = await run(callCommand, ['not a number', '--agent', 'dental']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^error: .+/);
    assert.ok(refused.stderr.split('\n').some((line) => line.startsWith('  - ')), refused.stderr);
    assert.equal(refused.stdout, '');
    const usage = await run(callCommand, ['+12025550101']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--agent is required/);
    assert.equal(network.created.length, 0);
  });

  test('koe call --wait: id, status and dashboard page, the call as it goes, then the transcript', { timeout: 30_000 }, async () => {
    const result = await run(callCommand, ['+12025550101', '--agent', 'dental', '--from', CALLER_ID, '--var', 'customer=Aiko Tanaka', '--wait']);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const id = /^call\s+(\S+)$/m.exec(result.stdout)?.[1] as string;
    assert.ok(id, result.stdout);
    assert.match(result.stdout, /^status\s+dialing$/m);
    assert.match(result.stdout, /^to\s+\+12025550101$/m);
    assert.ok(result.stdout.includes(`dashboard  ${server.base}/calls/${id}`), result.stdout);
    // Status changes as they happened, ending with the reason.
    const states = result.stdout.split('\n').filter((line) => /^\s+\d+\.\ds {2}/.test(line)).map((line) => line.trim().replace(/^\S+\s+/, ''));
    assert.ok(states.some((s) => s.startsWith('active')), states.join('\n'));
    assert.match(states.at(-1) ?? '', /^ended: caller hung up \(twilio: completed/);
    assert.ok(result.stdout.includes(`Transcript:\n  agent:  ${GREETING}\n  caller: I would like to book a cleaning\n  agent:  ${REPLY}\n`), result.stdout);
    // What Koe was asked for.
    const detail = await api<CallDetailResponse>(server.base, 'GET', `/api/calls/${id}`, { cookie });
    assert.equal(detail.body.call.variables.customer, 'Aiko Tanaka');
    assert.equal(detail.body.call.from, CALLER_ID);
    const placed = [...network.calls.values()].find((c) => c.record.to === '+12025550101');
    assert.equal(placed?.record.machineDetection, null);
  });

  let campaignId = '';

  test('campaign create: the id, imported and rejected counts, the first 50 rejections and how many more', async () => {
    const good = Object.keys(CALLEES).filter((n) => n.startsWith('+120255502') && n !== '+12025550205');
    const bad = Array.from({ length: BAD_ROWS }, (_, i) => `not-a-phone-${i},Bad ${i}`);
    writeFileSync(join(work, 'contacts.csv'), ['phone,name', ...good.map((n, i) => `${n},Patient ${i}`), ...bad].join('\n') + '\n');
    const result = await run(campaignCommand, [
      'create', '--csv', 'contacts.csv', '--agent', 'dental', '--name', 'Spring recall',
      '--window', '00:00-24:00', '--days', 'daily', '--timezone', 'UTC', '--attempts', '1', '--cps', '5', '--concurrency', '3',
      '--retry-delay', '90s', '--ring-timeout', '20',
    ]);
    assert.equal(result.code, 0, result.stderr);
    campaignId = /^campaign\s+(\S+)$/m.exec(result.stdout)?.[1] as string;
    assert.ok(campaignId, result.stdout);
    assert.match(result.stdout, /^status\s+draft$/m);
    assert.match(result.stdout, new RegExp(`^imported\\s+4 of ${4 + BAD_ROWS} rows \\(phone column "phone"; variables: name\\)$`, 'm'));
    assert.match(result.stdout, new RegExp(`^rejected\\s+${BAD_ROWS}$`, 'm'));
    const rejections = result.stdout.split('\n').filter((line) => /^ {2}line \d+: /.test(line));
    assert.equal(rejections.length, 50);
    assert.match(rejections[0] ?? '', /^ {2}line 6: not-a-phone-0 — .+/);
    assert.ok(result.stdout.includes(`  … and ${BAD_ROWS - 50} more (see the dashboard)\n`), result.stdout);
    assert.ok(result.stdout.includes(`Start it with: koe campaign start ${campaignId}`));

    const stored = await api<CampaignRecord>(server.base, 'GET', `/api/campaigns/${campaignId}`, { cookie });
    assert.equal(stored.body.status, 'draft');
    assert.deepEqual(stored.body.window, { start: '00:00', end: '24:00', days: [1, 2, 3, 4, 5, 6, 7] });
    assert.deepEqual([stored.body.callsPerSecond, stored.body.maxConcurrent, stored.body.ringTimeoutSec], [5, 3, 20]);
    assert.deepEqual([stored.body.retry.maxAttempts, stored.body.retry.delayMs, stored.body.timezone], [1, 90_000, 'UTC']);
    assert.equal(stored.body.from, CALLER_ID);
  });

  test('campaign list shows it as a draft with its progress', async () => {
    const result = await run(campaignCommand, ['list']);
    assert.equal(result.code, 0, result.stderr);
    const [header, ...rows] = result.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^ID\s+STATUS\s+DONE\s+CALLING\s+CREATED\s+NAME$/);
    const row = rows.find((r) => r.startsWith(campaignId));
    assert.match(row ?? '', /\sdraft\s+0\/4\s+0\s+.*Spring recall$/);
  });

  test('campaign start, then status --watch prints one line per change until it completes', { timeout: 60_000 }, async () => {
    const started = await run(campaignCommand, ['start', campaignId]);
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, new RegExp(`^${campaignId}  running  Spring recall\\n$`));

    const watched = await run(campaignCommand, ['status', campaignId, '--watch']);
    assert.equal(watched.code, 0, watched.stderr);
    assert.match(watched.stdout, /^name\s+Spring recall$/m);
    assert.match(watched.stdout, /^window\s+00:00-24:00 every day \(UTC\)$/m);
    assert.ok(!watched.stdout.includes('\r'), 'no redraws when standard output is not a terminal');
    const lines = watched.stdout.split('\n').filter((l) => /^(running|completed)\s+\[/.test(l));
    assert.equal(new Set(lines).size, lines.length, 'a line only when something changed');
    assert.equal(lines.at(-1), 'completed [████████████████████] 100% 4/4 · answered 2 busy 1 no-answer 1');
    assert.match(watched.stdout, /Campaign completed\.\n$/);

    const again = await run(campaignCommand, ['start', campaignId]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error: .+\[.+\]\n$/);
  });

  test('campaign export: CSV to standard output or to a file', async () => {
    const toStdout = await run(campaignCommand, ['export', campaignId]);
    assert.equal(toStdout.code, 0, toStdout.stderr);
    const [header, ...rows] = toStdout.stdout.trimEnd().split(/\r?\n/);
    assert.match(header ?? '', /^line,phone,state,outcome,attempts,last_call_id,last_twilio_status,answered_by,last_error,name$/);
    assert.equal(rows.length, 4);
    assert.ok(rows.some((r) => r.includes('+12025550203') && r.includes(',busy,')), rows.join('\n'));

    const toFile = await run(campaignCommand, ['export', campaignId, '--out', 'results.csv']);
    assert.equal(toFile.code, 0, toFile.stderr);
    assert.equal(toFile.stdout, 'Wrote 4 contact(s) to results.csv\n');
    assert.equal(readFileSync(join(work, 'results.csv'), 'utf8'), toStdout.stdout);
  });

  test('create --start and status --watch on a terminal: one line redrawn in place', { timeout: 60_000 }, async () => {
    writeFileSync(join(work, 'one.csv'), 'Phone\n+12025550205\n');
    const created = await run(campaignCommand, ['create', '--csv', 'one.csv', '--agent', 'dental', '--name', 'One', '--window', '00:00-24:00', '--days', 'mon-sun', '--attempts', '1', '--start']);
    assert.equal(created.code, 0, created.stderr);
    const id = /^campaign\s+(\S+)$/m.exec(created.stdout)?.[1] as string;
    assert.match(created.stdout, /^status\s+running$/m);
    assert.match(created.stdout, /^rejected\s+0$/m);
    assert.ok(!created.stdout.includes('Start it with'));

    const watched = await run(campaignCommand, ['status', id, '--watch'], { tty: true });
    assert.equal(watched.code, 0, watched.stderr);
    assert.ok(watched.stdout.includes('\rcompleted [████████████████████] 100% 1/1 · answered 1\x1b[K\n'), JSON.stringify(watched.stdout));
    assert.match(watched.stdout, /Campaign completed\.\n$/);
  });

  test('the password comes from <KOE_DATA_DIR>/admin-password; a wrong one names its source, never itself', async () => {
    const dataDir = join(work, 'data-dir');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'admin-password'), `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
    const ok = await run(campaignCommand, ['list'], { env: { KOE_URL: server.base, KOE_DATA_DIR: 'data-dir' } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Spring recall/);

    writeFileSync(join(dataDir, 'admin-password'), 'a-wrong-password\n');
    const wrong = await run(campaignCommand, ['list'], { env: { KOE_URL: server.base, KOE_DATA_DIR: 'data-dir' } });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, `error: wrong password for Koe at ${server.base} (the password from ${join(dataDir, 'admin-password')}) [invalid_password]\n`);
  });

  test('the koe binary: campaign list', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'campaign', 'list'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        KOE_URL: server.base,
        KOE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        // No .env of the working tree may change what is tested.
        KOE_ENV_FILE: join(work, 'no.env'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^ID\s+STATUS/);
    assert.match(stdout, new RegExp(`^${campaignId}\\s+completed\\s+4/4\\s+0\\s+.*Spring recall$`, 'm'));
    assert.deepEqual(network.errors, []);
  });
});
