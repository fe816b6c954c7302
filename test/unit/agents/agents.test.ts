import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  AgentConfigError,
  callVariables,
  defineAgent,
  loadAgentsFile,
  parseAgents,
  renderTemplate,
  TemplateError,
  templateVariables,
} from '../../../src/agents/index.js';

describe('templates', () => {
  test('fills variables, tolerating spaces inside braces', () => {
    assert.equal(renderTemplate('Hello {{ name }}, welcome to {{companyName}}.', { name: 'Aiko', companyName: 'Koe' }), 'Hello Aiko, welcome to Koe.');
  });
  test('a missing variable is an error naming every missing one, never rendered raw', () => {
    assert.throws(
      () => renderTemplate('{{a}} {{b}} {{a}} {{c}}', { b: 'x' }, 'greeting'),
      (err: unknown) => err instanceof TemplateError && /greeting needs \{\{a\}\}, \{\{c\}\}/.test(err.message) && err.missing.join() === 'a,c',
    );
  });
  test('malformed placeholders are rejected when parsed', () => {
    assert.throws(() => templateVariables('Hi {{ 1bad }}'), TemplateError);
    assert.throws(() => templateVariables('Hi {{name'), TemplateError);
    assert.deepEqual(templateVariables('{{x}} and {{y}} and {{x}}'), ['x', 'y']);
  });
});

describe('agents', () => {
  test('the shipped agents.yaml loads: English receptionist, Japanese counselling line, outbound reminder', () => {
    const registry = loadAgentsFile(new URL('../../../agents.yaml', import.meta.url).pathname);
    const ids = registry.list().map((a) => a.id);
    assert.deepEqual(ids, ['receptionist', 'onayami', 'reminder']);
    // The outbound sample: voicemail message, phone-menu guidance with send_dtmf, never speaking digits.
    const reminder = registry.get('reminder');
    assert.ok(reminder);
    assert.equal(reminder.answeringMachine.action, 'leave_message');
    assert.ok(reminder.tools.some((t) => t.type === 'send_dtmf'));
    assert.match(reminder.instructions, /send_dtmf/);
    assert.match(reminder.instructions, /Never say the digits/);
    const outboundVars = { name: 'Aiko', appointmentTime: 'Monday 10:00' };
    assert.equal(registry.defaultAgent.id, 'receptionist');
    const ja = registry.get('onayami');
    assert.ok(ja);
    assert.equal(ja.language, 'ja-JP');
    for (const crisis of ['110', '119', '0570-064-556']) assert.ok(ja.instructions.includes(crisis), crisis);
    assert.match(ja.greeting ?? '', /お悩み相談室|lineName/);
    // Every template of every shipped agent renders with the call's built-in variables.
    // (The outbound agent's with the variables its calls are placed with.)
    for (const agent of registry.list()) {
      const vars = callVariables(
        agent,
        { callSid: 'CA1', direction: 'inbound', callerNumber: '+15550001111', calledNumber: '+15550002222' },
        agent.id === 'reminder' ? outboundVars : {},
      );
      assert.doesNotThrow(() => renderTemplate(agent.instructions, vars));
      if (agent.greeting) assert.doesNotThrow(() => renderTemplate(agent.greeting as string, vars));
      if (agent.answeringMachine.message) assert.doesNotThrow(() => renderTemplate(agent.answeringMachine.message as string, vars));
    }
  });

  test('routes by called number, else the default agent', () => {
    const registry = parseAgents(
      {
        defaultAgent: 'b',
        agents: [
          { id: 'a', name: 'A', instructions: 'x', phoneNumbers: ['+15550001111'] },
          { id: 'b', name: 'B', instructions: 'y' },
        ],
      },
      'test',
    );
    assert.equal(registry.forCalledNumber('+15550001111').id, 'a');
    assert.equal(registry.forCalledNumber('+15559999999').id, 'b');
    assert.equal(registry.forCalledNumber(undefined).id, 'b');
  });

  test('bad agent files give errors that point at the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'koe-agents-'));
    const bad = join(dir, 'agents.yaml');
    writeFileSync(bad, 'agents:\n  - id: Bad Id\n    name: x\n    instructions: "{{oops"\n    tools: [{ type: http, name: t, description: d, url: "ftp://x" }]\n');
    assert.throws(
      () => loadAgentsFile(bad),
      (err: unknown) =>
        err instanceof AgentConfigError &&
        err.problems.some((p) => p.startsWith('agents[0].id')) &&
        err.problems.some((p) => p.startsWith('agents[0].instructions')) &&
        err.problems.some((p) => p.startsWith('agents[0].tools[0]')),
    );
    writeFileSync(bad, 'agents: [\n');
    assert.throws(() => loadAgentsFile(bad), (err: unknown) => err instanceof AgentConfigError && /line/.test(err.problems[0] ?? ''));
    assert.throws(() => loadAgentsFile(join(dir, 'missing.yaml')), AgentConfigError);
    assert.throws(
      () => parseAgents({ agents: [{ id: 'a', name: 'A', instructions: 'x' }, { id: 'a', name: 'B', instructions: 'y' }] }, 't'),
      /used twice/,
    );
  });

  test('call variables: agent defaults < call facts < given variables; dates in the agent time zone', () => {
    const agent = defineAgent({ id: 'a', name: 'A', instructions: 'x', timezone: 'Asia/Tokyo', language: 'ja-JP', variables: { companyName: 'Default', callerNumber: 'shadowed' } });
    const vars = callVariables(
      agent,
      { callSid: 'CA1', direction: 'outbound', callerNumber: '+81300000000', now: new Date('2026-11-21T20:30:00Z') },
      { companyName: 'Given' },
    );
    assert.equal(vars.companyName, 'Given');
    assert.equal(vars.callerNumber, '+81300000000');
    assert.equal(vars.date, '2026-11-22');
    assert.equal(vars.time, '05:30');
    assert.equal(vars.weekday, '日曜日');
    assert.equal(vars.direction, 'outbound');
  });
});
