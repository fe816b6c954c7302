// Command-line parsing of `koe call` and `koe campaign create`: durations, calling windows, days, retry
// outcomes, variables, and the request each command line becomes; mistakes are UsageErrors (exit 2).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../../src/cli/api-client.js';
import { parseCallArguments, parseVariables } from '../../../src/cli/call.js';
import {
  formatDays,
  formatDurationMs,
  parseCreateArguments,
  parseDays,
  parseDurationMs,
  parsePositiveInt,
  parsePositiveNumber,
  parseRetryOn,
  parseWindow,
} from '../../../src/cli/campaign.js';

describe('durations', () => {
  test('seconds, minutes, hours, days, milliseconds and combinations', () => {
    assert.equal(parseDurationMs('90s'), 90_000);
    assert.equal(parseDurationMs('10m'), 600_000);
    assert.equal(parseDurationMs('1h'), 3_600_000);
    assert.equal(parseDurationMs('1h30m'), 5_400_000);
    assert.equal(parseDurationMs('1.5h'), 5_400_000);
    assert.equal(parseDurationMs('2d'), 172_800_000);
    assert.equal(parseDurationMs('500ms'), 500);
    assert.equal(parseDurationMs(' 10M '), 600_000);
  });
  test('a bare number, an unknown unit or trailing junk is refused with an example', () => {
    for (const bad of ['90', '', '10x', '10m5', 'm', '-5m', '1h 30m junk']) {
      assert.throws(() => parseDurationMs(bad), /such as 90s, 10m, 1h/, bad);
    }
  });
  test('formatting back', () => {
    assert.equal(formatDurationMs(90_000), '1m30s');
    assert.equal(formatDurationMs(600_000), '10m');
    assert.equal(formatDurationMs(5_400_000), '1h30m');
    assert.equal(formatDurationMs(0), '0s');
    assert.equal(formatDurationMs(1_500), '1500ms');
  });
});

describe('windows', () => {
  test('HH:MM-HH:MM, a single-digit hour, an en dash, 24:00 as the end', () => {
    assert.deepEqual(parseWindow('09:00-20:00'), { start: '09:00', end: '20:00' });
    assert.deepEqual(parseWindow('9:30 – 17:45'), { start: '09:30', end: '17:45' });
    assert.deepEqual(parseWindow('00:00-24:00'), { start: '00:00', end: '24:00' });
  });
  test('times that do not exist and other shapes are refused', () => {
    for (const bad of ['9-17', '09:00', '24:00-25:00', '09:60-10:00', '25:00-26:00', '09:00-24:30', 'nine to five']) {
      assert.throws(() => parseWindow(bad), Error, bad);
    }
    assert.throws(() => parseWindow('24:00-24:00'), /does not exist/);
  });
});

describe('days', () => {
  test('ranges, lists, numbers, full names and words, sorted ISO weekdays', () => {
    assert.deepEqual(parseDays('mon-fri'), [1, 2, 3, 4, 5]);
    assert.deepEqual(parseDays('1,2,3'), [1, 2, 3]);
    assert.deepEqual(parseDays('sat,sun'), [6, 7]);
    assert.deepEqual(parseDays('Sunday,Monday'), [1, 7]);
    assert.deepEqual(parseDays('1-5'), [1, 2, 3, 4, 5]);
    assert.deepEqual(parseDays('fri-mon'), [1, 5, 6, 7]);
    assert.deepEqual(parseDays('tue, thu, tu'), [2, 4]);
    assert.deepEqual(parseDays('weekdays'), [1, 2, 3, 4, 5]);
    assert.deepEqual(parseDays('weekends'), [6, 7]);
    assert.deepEqual(parseDays('daily'), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(parseDays('mon-mon'), [1]);
  });
  test('unknown days, 0 and 8, empty items and odd ranges are refused', () => {
    for (const bad of ['funday', '0', '8', 'mon,,tue', '', 'mon-tue-wed', 't', 'mon-']) assert.throws(() => parseDays(bad), Error, bad);
  });
  test('formatting back', () => {
    assert.equal(formatDays([1, 2, 3, 4, 5]), 'mon-fri');
    assert.equal(formatDays([6, 7]), 'sat,sun');
    assert.equal(formatDays([1, 3, 4, 5, 7]), 'mon,wed-fri,sun');
    assert.equal(formatDays([1, 2, 3, 4, 5, 6, 7]), 'every day');
  });
});

describe('numbers and outcomes', () => {
  test('retry outcomes: a list, no_answer read as no-answer, none', () => {
    assert.deepEqual(parseRetryOn('no-answer,busy'), ['busy', 'no-answer']);
    assert.deepEqual(parseRetryOn('NO_ANSWER, voicemail'), ['no-answer', 'voicemail']);
    assert.deepEqual(parseRetryOn('none'), []);
    assert.throws(() => parseRetryOn('busy,answered'), /"answered" is not a retryable outcome/);
  });
  test('positive whole numbers and positive numbers', () => {
    assert.equal(parsePositiveInt('10'), 10);
    for (const bad of ['0', '-1', '1.5', 'ten', '']) assert.throws(() => parsePositiveInt(bad), Error, bad);
    assert.equal(parsePositiveNumber('0.5'), 0.5);
    for (const bad of ['0', '-1', 'x', '', 'Infinity']) assert.throws(() => parsePositiveNumber(bad), Error, bad);
  });
});

describe('koe call arguments', () => {
  test('the request carries what was given and nothing else', () => {
    assert.deepEqual(parseCallArguments(['+819012345678', '--agent', 'dental']), {
      request: { to: '+819012345678', agentId: 'dental' },
      wait: false,
      url: undefined,
      password: undefined,
    });
    const args = parseCallArguments([
      '09012345678', '--agent', 'dental', '--from', '+15550001111', '--var', 'name=Aiko', '--var', 'note=a=b', '--amd',
      '--country', 'jp', '--wait', '--url', 'http://koe.test:8080',
    ]);
    assert.deepEqual(args?.request, {
      to: '09012345678',
      agentId: 'dental',
      from: '+15550001111',
      variables: { name: 'Aiko', note: 'a=b' },
      machineDetection: true,
      defaultCountry: 'JP',
    });
    assert.equal(args?.wait, true);
    assert.equal(args?.url, 'http://koe.test:8080');
  });
  test('--help; mistakes are usage errors naming the command', () => {
    assert.equal(parseCallArguments(['--help']), undefined);
    for (const argv of [[], ['+1555'], ['+1555', '+1666', '--agent', 'a'], ['+1555', '--agent', 'a', '--var', 'novalue'], ['+1555', '--agent', 'a', '--country', 'JPN'], ['+1555', '--agent', 'a', '--bogus'], ['+1555', '--agent']]) {
      assert.throws(() => parseCallArguments(argv), (err: unknown) => err instanceof UsageError && err.command === 'koe call', argv.join(' '));
    }
    assert.throws(() => parseVariables(['=x'], 'koe call'), /NAME=VALUE/);
  });
});

describe('koe campaign create arguments', () => {
  test('every flag becomes its field of the request', () => {
    const args = parseCreateArguments([
      '--csv', 'contacts.csv', '--agent', 'dental', '--name', 'Recall', '--from', '+15550001111', '--phone-column', 'tel',
      '--country', 'JP', '--cps', '0.5', '--concurrency', '4', '--window', '10:00-18:30', '--days', 'mon-fri',
      '--timezone', 'Asia/Tokyo', '--attempts', '2', '--retry-delay', '1h', '--retry-on', 'busy,no-answer,voicemail',
      '--amd', '--ring-timeout', '25', '--start',
    ]);
    assert.equal(args?.csvFile, 'contacts.csv');
    assert.deepEqual(args?.request, {
      name: 'Recall',
      agentId: 'dental',
      from: '+15550001111',
      phoneColumn: 'tel',
      defaultCountry: 'JP',
      callsPerSecond: 0.5,
      maxConcurrent: 4,
      window: { start: '10:00', end: '18:30', days: [1, 2, 3, 4, 5] },
      timezone: 'Asia/Tokyo',
      retry: { maxAttempts: 2, delayMs: 3_600_000, on: ['busy', 'no-answer', 'voicemail'] },
      machineDetection: true,
      ringTimeoutSec: 25,
      start: true,
    });
  });
  test('only the flags given are sent (the server fills its defaults)', () => {
    assert.deepEqual(parseCreateArguments(['--csv', 'c.csv', '--agent', 'a', '--name', 'n'])?.request, { name: 'n', agentId: 'a' });
    assert.deepEqual(parseCreateArguments(['--csv', 'c.csv', '--agent', 'a', '--name', 'n', '--days', 'sat,sun'])?.request.window, { days: [6, 7] });
    assert.deepEqual(parseCreateArguments(['--csv', 'c.csv', '--agent', 'a', '--name', 'n', '--attempts', '1'])?.request.retry, { maxAttempts: 1 });
  });
  test('missing required flags are named together; bad values name their flag', () => {
    assert.throws(() => parseCreateArguments(['--agent', 'a']), (err: unknown) => err instanceof UsageError && /--csv, --name/.test(err.message));
    const base = ['--csv', 'c.csv', '--agent', 'a', '--name', 'n'];
    for (const [flag, value] of [['--cps', '0'], ['--concurrency', 'lots'], ['--window', '9-5'], ['--days', 'someday'], ['--attempts', '0'], ['--retry-delay', '10'], ['--retry-on', 'answered'], ['--ring-timeout', '1.5']] as const) {
      assert.throws(
        () => parseCreateArguments([...base, flag, value]),
        (err: unknown) => err instanceof UsageError && err.message.startsWith(`${flag}:`) && err.command === 'koe campaign create',
        `${flag} ${value}`,
      );
    }
    assert.throws(() => parseCreateArguments([...base, 'stray.csv']), /unexpected argument "stray.csv"/);
  });
});
