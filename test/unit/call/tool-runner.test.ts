import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { defineAgent } from '../../../src/agents/index.js';
import type { ToolHost, TransferTarget } from '../../../src/call/tools/tool-runner.js';
import { ToolRunner } from '../../../src/call/tools/tool-runner.js';
import { toolDefinitions } from '../../../src/call/tools/tool-definitions.js';

const log = pino({ level: 'silent' });

function fakeHost(overrides: Partial<ToolHost> = {}): ToolHost & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    callSid: 'CA0123',
    hangUpAfterSpeech: (reason) => calls.push(`hang_up:${reason ?? ''}`),
    playDtmf: (digits) => calls.push(`dtmf:${digits}`),
    transferAfterSpeech: async (target: TransferTarget) => {
      calls.push(`transfer:${target.number}`);
    },
    ...overrides,
  };
}

describe('ToolRunner', () => {
  let baseUrl = '';
  const received: Array<{ body: string; headers: Record<string, unknown> }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      if (req.url === '/slow') return void setTimeout(() => res.end('{}'), 2_000).unref();
      if (req.url === '/fail') {
        res.statusCode = 503;
        return void res.end('down for maintenance');
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ slots: ['10:00', '11:30'], echo: JSON.parse(body) }));
    });
  });
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const agent = () =>
    defineAgent({
      id: 'a',
      name: 'A',
      instructions: 'x',
      tools: [
        'hang_up',
        'send_dtmf',
        { type: 'transfer', destinations: { sales: '+15550001111', support: '+15550002222' } },
        { type: 'http', name: 'find_slots', description: 'Find free slots', url: `${baseUrl}/slots`, headers: { authorization: 'Bearer t' } },
        { type: 'http', name: 'slow', description: 'slow', url: `${baseUrl}/slow`, timeoutMs: 200 },
        { type: 'http', name: 'broken', description: 'broken', url: `${baseUrl}/fail` },
      ],
    });

  test('function definitions for built-in and HTTP tools', () => {
    const defs = toolDefinitions(agent().tools);
    assert.deepEqual(defs.map((d) => d.name), ['hang_up', 'send_dtmf', 'transfer', 'find_slots', 'slow', 'broken']);
    const transfer = defs.find((d) => d.name === 'transfer');
    assert.deepEqual((transfer?.parameters.properties as Record<string, { enum?: string[] }>).destination?.enum, ['sales', 'support']);
  });

  test('hang_up and send_dtmf act on the call through the host', async () => {
    const host = fakeHost();
    const runner = new ToolRunner(agent().tools, host, { defaultTimeoutMs: 1000, log });
    const hang = await runner.run('hang_up', '{"reason":"done"}', new AbortController().signal);
    assert.equal(hang.continueConversation, false);
    const dtmf = await runner.run('send_dtmf', '{"digits":"12#"}', new AbortController().signal);
    assert.equal(dtmf.ok, true);
    const bad = await runner.run('send_dtmf', '{"digits":"12x"}', new AbortController().signal);
    assert.equal(bad.ok, false);
    assert.deepEqual(host.calls, ['hang_up:done', 'dtmf:12#']);
  });

  test('transfer picks the named destination and reports failures to the model', async () => {
    const host = fakeHost();
    const runner = new ToolRunner(agent().tools, host, { defaultTimeoutMs: 1000, log });
    const ok = await runner.run('transfer', '{"destination":"support"}', new AbortController().signal);
    assert.equal(ok.ok, true);
    assert.deepEqual(host.calls, ['transfer:+15550002222']);
    const unknown = await runner.run('transfer', '{"destination":"ceo"}', new AbortController().signal);
    assert.match(unknown.output, /unknown destination/);
    const failing = new ToolRunner(agent().tools, fakeHost({ transferAfterSpeech: () => Promise.reject(new Error('21220 call not in progress')) }), { defaultTimeoutMs: 1000, log });
    const failed = await failing.run('transfer', '{"destination":"sales"}', new AbortController().signal);
    assert.equal(failed.ok, false);
    assert.match(failed.output, /21220/);
  });

  test('HTTP tools POST the arguments as JSON and return the body; errors and timeouts become outputs', async () => {
    const runner = new ToolRunner(agent().tools, fakeHost(), { defaultTimeoutMs: 1000, log });
    const result = await runner.run('find_slots', '{"day":"monday"}', new AbortController().signal);
    assert.equal(result.ok, true);
    assert.deepEqual(JSON.parse(result.output), { slots: ['10:00', '11:30'], echo: { day: 'monday' } });
    const sent = received.at(-1);
    assert.equal(sent?.headers['content-type'], 'application/json');
    assert.equal(sent?.headers.authorization, 'Bearer t');
    assert.equal(sent?.headers['x-koe-call-sid'], 'CA0123');

    const started = performance.now();
    const slow = await runner.run('slow', '{}', new AbortController().signal);
    assert.equal(slow.ok, false);
    assert.match(slow.output, /did not answer within 200 ms/);
    assert.ok(performance.now() - started < 1500);

    const broken = await runner.run('broken', '{}', new AbortController().signal);
    assert.deepEqual(JSON.parse(broken.output), { error: 'the broken service answered HTTP 503', body: 'down for maintenance' });

    assert.match((await runner.run('nope', '{}', new AbortController().signal)).output, /unknown tool/);
    assert.match((await runner.run('find_slots', '[1,2]', new AbortController().signal)).output, /not a JSON object/);
  });
});
