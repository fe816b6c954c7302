import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { defineAgent, renderTemplate } from '../../../../src/agents/index.js';
import { DialogueError } from '../../../../src/engine/dialogue/dialogue.js';
import { extractScript, parseScript } from '../../../../src/engine/dialogue/embedded/agent-script.js';
import { BUILT_IN_INTENT_NAMES, BUILT_IN_SLOT_NAMES } from '../../../../src/engine/dialogue/embedded/default-intents.js';
import { buildPlan } from '../../../../src/engine/dialogue/embedded/dialogue-plan.js';
import { EmbeddedDialogueEngine } from '../../../../src/engine/dialogue/embedded/index.js';
import { Conversation, runTurn, sampleAgent } from './_embedded.js';

const builtIns = { intents: BUILT_IN_INTENT_NAMES, slots: BUILT_IN_SLOT_NAMES };
const fenced = (yaml: string): string => `You are the receptionist of Acme.\n\n\`\`\`koe-script\n${yaml}\n\`\`\`\n`;

/** The receptionist example from the engine's README, as the lead would paste it. */
function readmeReceptionistScript(): string {
  const readme = readFileSync(new URL('../../../../src/engine/dialogue/embedded/README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Example: the English receptionist'));
  const start = section.indexOf('```koe-script');
  const end = section.indexOf('\n```\n', start);
  assert.ok(start >= 0 && end > start, 'the README has the receptionist example');
  return section.slice(start, end + 5);
}

function badRequest(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DialogueError, `a DialogueError, got ${String(err)}`);
    assert.equal(err.code, 'bad_request');
    assert.equal(err.retryable, false);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('koe-script: finding the block', () => {
  test('no block: no script, the prose is the instructions', () => {
    const { yaml, prose } = extractScript('You are the receptionist of Acme.');
    assert.equal(yaml, undefined);
    assert.equal(prose, 'You are the receptionist of Acme.');
  });

  test('an indented block (inside a YAML list, say) is dedented and cut out of the prose', () => {
    const text = 'Prose before.\n  ```koe-script\n  intents:\n    - name: a\n      examples: [x]\n      replies: [y]\n  ```\nProse after.';
    const { yaml, prose } = extractScript(text);
    assert.equal(yaml, 'intents:\n  - name: a\n    examples: [x]\n    replies: [y]');
    assert.equal(prose, 'Prose before.\nProse after.');
  });

  test('an unclosed block and a second block are clear errors', () => {
    badRequest(() => extractScript('```koe-script\nintents: []\n'), /not closed/);
    badRequest(() => extractScript('```koe-script\n```\n```koe-script\n```'), /more than one/);
  });
});

describe('koe-script: validation', () => {
  test('a full script parses: line lists, tool shorthand, slot types, fallback', () => {
    const script = parseScript(
      [
        'style: counseling',
        'language: ja',
        'intents:',
        '  - name: order',
        '    examples: [I want to order]',
        '    slots: [size, count]',
        '    replies: Ordered {count} {size}.',
        '    tool: place_order',
        '    onResult: ["Your order number is {result.id}."]',
        'slots:',
        '  size: { type: enum, prompt: Which size?, values: { small: [little], large: [big] } }',
        '  count: { type: number, prompt: [How many?, How many would you like?] }',
        'fallback:',
        '  replies: Sorry?',
        '  escalateAfter: 2',
        '  escalation: Shall I get someone?',
        '  onYes: human',
      ].join('\n'),
      builtIns,
    );
    assert.equal(script.style, 'counselling');
    assert.equal(script.language, 'ja');
    assert.deepEqual(script.intents[0]?.replies, ['Ordered {count} {size}.']);
    assert.deepEqual(script.intents[0]?.tool, { name: 'place_order', arguments: {} });
    assert.deepEqual(script.slots.count?.prompt, ['How many?', 'How many would you like?']);
    assert.deepEqual(script.slots.size?.values, { small: ['little'], large: ['big'] });
    assert.equal(script.fallback?.escalateAfter, 2);
  });

  test('an empty block is an empty script: built-ins only', () => {
    const script = parseScript('', builtIns);
    assert.deepEqual(script.intents, []);
    assert.equal(script.defaults, true);
  });

  test('YAML syntax errors name the line', () => {
    badRequest(() => parseScript('intents:\n  - name: a\n    examples: [x, y\n  - name: b', builtIns), /koe-script: the YAML does not parse at line \d+/);
  });

  test('schema errors name the field path', () => {
    badRequest(() => parseScript('intents:\n  - name: a\n    examples: [x]\n    replys: [y]', builtIns), /intents\[0\]: unknown field "replys"/);
    badRequest(() => parseScript('intents:\n  - name: a b\n    examples: [x]\n    replies: [y]', builtIns), /intents\[0\]\.name: use letters/);
    badRequest(() => parseScript('slots:\n  day: { type: weekday, prompt: Which day? }', builtIns), /slots\.day\.type: type must be one of digits/);
    badRequest(() => parseScript('slots:\n  size: { type: enum, prompt: Which? }', builtIns), /slots\.size\.values: an enum slot needs values/);
    badRequest(() => parseScript('intents:\n  - name: a\n    examples: [x]\n    replies: []', builtIns), /intents\[0\]\.replies: give at least one line/);
    badRequest(() => parseScript('fallback:\n  escalateAfter: 0', builtIns), /fallback\.escalateAfter/);
  });

  test('references are checked: slots, onYes/onNo targets, placeholders, duplicate names', () => {
    badRequest(() => parseScript('intents:\n  - name: a\n    examples: [x]\n    slots: [dayy]\n    replies: [y]', builtIns), /intents\[0\]\.slots\[0\]: no slot named "dayy"/);
    badRequest(() => parseScript('intents:\n  - name: a\n    examples: [x]\n    replies: [y]\n    onYes: nowhere', builtIns), /intents\[0\]\.onYes: no intent named "nowhere"/);
    badRequest(() => parseScript('intents:\n  - name: a\n    examples: [x]\n    replies: ["Hi {nmae}"]', builtIns), /intents\[0\]\.replies\[0\]: \{nmae\} is not a slot/);
    badRequest(() => parseScript('intents:\n  - name: a\n    examples: [x]\n    replies: [y]\n  - name: a\n    examples: [z]\n    replies: [w]', builtIns), /defined twice/);
    badRequest(() => parseScript('intents:\n  - name: a\n    replies: [y]', builtIns), /give "a" examples or keywords/);
    badRequest(() => parseScript('intents:\n  - name: a\n    examples: [x]', builtIns), /"a" needs replies, a tool or slots/);
  });

  test('built-in names may be overridden with only the fields that change', () => {
    const plan = buildPlan({
      instructions: fenced('intents:\n  - name: goodbye\n    replies: [Cheerio!]'),
      tools: sampleAgent('receptionist').tools,
      toolChoice: 'auto',
    });
    const goodbye = plan.intents.get('goodbye');
    assert.deepEqual(goodbye?.replies, ['Cheerio!']);
    assert.ok((goodbye?.examples.length ?? 0) > 5, 'keeps the built-in examples');
    assert.equal(goodbye?.tool?.name, 'hang_up', 'keeps the hang_up');
  });

  test('defaults: false drops the built-in intents; those the script names stay as targets, not recognised', () => {
    const plan = buildPlan({
      instructions: fenced('defaults: false\nintents:\n  - name: a\n    examples: [x]\n    replies: [Anything else?]\n    onNo: goodbye'),
      tools: [],
      toolChoice: 'auto',
    });
    assert.ok(plan.intents.has('a'));
    assert.ok(!plan.intents.has('greeting'));
    assert.deepEqual(plan.intents.get('goodbye')?.examples, []);
    assert.ok(plan.intents.has('crisis'), 'the crisis rule is never dropped');
  });

  test("the README's example pasted into the receptionist's instructions passes Koe's agent loader and templates", () => {
    const { agent } = sampleAgent('receptionist');
    const pasted = defineAgent({ ...agent, instructions: `${agent.instructions}\n${readmeReceptionistScript()}` });
    const rendered = renderTemplate(pasted.instructions, { ...agent.variables, date: '2025-01-15', weekday: 'Wednesday', time: '09:00' });
    assert.ok(extractScript(rendered).yaml?.includes('{name}'), 'slot placeholders survive the agent template');
  });

  test("the README's receptionist example is a valid script", () => {
    const { yaml } = extractScript(readmeReceptionistScript());
    assert.ok(yaml !== undefined);
    const script = parseScript(yaml, builtIns);
    assert.deepEqual(
      script.intents.map((i) => i.name),
      ['book_appointment', 'change_appointment', 'dental_pain', 'prices'],
    );
    assert.ok(!readmeReceptionistScript().includes('}}'), 'nothing Koe’s agent templates would read as a placeholder');
  });
});

describe('koe-script: through the engine', () => {
  test('a bad script fails the response with bad_request; the engine keeps serving other agents', async () => {
    const engine = new EmbeddedDialogueEngine();
    const bad = fenced('intents:\n  - name: a\n    examples: [x]\n    slots: [missing]\n    replies: [y]');
    for (let i = 0; i < 2; i += 1) {
      await assert.rejects(
        runTurn(engine, { instructions: bad, messages: [{ role: 'user', content: 'hello' }] }),
        (err: unknown) => err instanceof DialogueError && err.code === 'bad_request' && /intents\[0\]\.slots\[0\]/.test(err.message),
      );
    }
    const good = await runTurn(engine, { instructions: 'You are the receptionist of Acme.', messages: [{ role: 'user', content: 'hello' }] });
    assert.match(good.text, /Hello/);
    await engine.close();
  });

  test("the README's example holds a booking conversation with the sample receptionist", async () => {
    const engine = new EmbeddedDialogueEngine();
    const { instructions, tools } = sampleAgent('receptionist');
    const conversation = new Conversation(engine, { instructions: `${instructions}\n${readmeReceptionistScript()}`, tools });
    assert.match((await conversation.say('hi i would like to book an appointment')).text, /check-up, a cleaning, or something else/);
    assert.match((await conversation.say('a cleaning please')).text, /Which day/);
    assert.match((await conversation.say('next tuesday morning')).text, /your name/);
    assert.match((await conversation.say('my name is mary jones')).text, /Thank you, Mary Jones\. What's the best number/);
    const done = await conversation.say('five five five two three four nine eight seven six');
    assert.equal(
      done.text,
      "Thank you, Mary Jones. I've noted a request for a cleaning on next Tuesday morning. The front desk will call you on 5 5 5, 2 3 4, 9 8 7 6 to confirm a time. Is there anything else I can help you with?",
    );
    const bye = await conversation.say('no that is all');
    assert.deepEqual(bye.calls.map((c) => c.name), ['hang_up']);
    await engine.close();
  });
});
