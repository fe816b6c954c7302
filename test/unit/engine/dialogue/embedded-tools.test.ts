import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DialogueError, type DialogueMessage, type DialogueTool } from '../../../../src/engine/dialogue/dialogue.js';
import { EmbeddedDialogueEngine } from '../../../../src/engine/dialogue/embedded/index.js';
import { Conversation, runTurn, sampleAgent } from './_embedded.js';

const engine = new EmbeddedDialogueEngine();
after(() => engine.close());
const { instructions, tools } = sampleAgent('receptionist');
const CALL_ID = /^call_[A-Za-z0-9]{16}$/;

const lookupTool: DialogueTool = {
  name: 'lookup_booking',
  description: 'Find a booking by its reference.',
  parameters: { type: 'object', properties: { reference: { type: 'string' } }, required: ['reference'] },
};

describe('function calls', () => {
  test('after the spoken text, with a fresh call id and JSON arguments', async () => {
    const result = await runTurn(engine, { instructions, tools, messages: [{ role: 'user', content: 'goodbye' }] });
    const types = result.events.map((e) => e.type);
    assert.ok(types.indexOf('function_call') > types.lastIndexOf('text.delta'));
    assert.equal(types.at(-1), 'done');
    const call = result.calls[0];
    assert.match(call?.callId ?? '', CALL_ID);
    assert.deepEqual(JSON.parse(call?.arguments ?? ''), { reason: 'the caller said goodbye' });
    const again = await runTurn(engine, { instructions, tools, messages: [{ role: 'user', content: 'goodbye' }] });
    assert.notEqual(again.calls[0]?.callId, call?.callId);
  });

  test("a client's closed hang_up schema gets no undeclared arguments; an open one keeps the reason", async () => {
    const closed: DialogueTool = { name: 'hang_up', description: 'End the call.', parameters: { type: 'object', properties: {}, additionalProperties: false } };
    const result = await runTurn(engine, { instructions, tools: [closed], messages: [{ role: 'user', content: 'goodbye' }] });
    assert.deepEqual(JSON.parse(result.calls[0]?.arguments ?? ''), {});
    const open: DialogueTool = { name: 'hang_up', description: 'End the call.', parameters: { type: 'object', properties: {} } };
    const kept = await runTurn(engine, { instructions, tools: [open], messages: [{ role: 'user', content: 'goodbye' }] });
    assert.deepEqual(JSON.parse(kept.calls[0]?.arguments ?? ''), { reason: 'the caller said goodbye' });
  });

  test("tool_choice 'none': says goodbye, never calls", async () => {
    const result = await runTurn(engine, { instructions, tools, toolChoice: 'none', messages: [{ role: 'user', content: 'bye bye' }] });
    assert.equal(result.text, 'Thank you for calling. Goodbye!');
    assert.deepEqual(result.calls, []);
    const human = await runTurn(engine, { instructions, tools, toolChoice: 'none', messages: [{ role: 'user', content: 'operator' }] });
    assert.match(human.text, /take a message/, 'without a callable transfer the agent offers a message instead of promising one');
  });

  test('only tools in request.tools are called', async () => {
    const onlyDtmf = tools.filter((t) => t.name === 'send_dtmf');
    const result = await runTurn(engine, { instructions, tools: onlyDtmf, messages: [{ role: 'user', content: 'goodbye' }] });
    assert.deepEqual(result.calls, []);
    const script = `${instructions}\n\`\`\`koe-script\nintents:\n  - name: refund\n    examples: [I want a refund]\n    replies: [Let me check.]\n    tool: issue_refund\n\`\`\``;
    const refund = await runTurn(engine, { instructions: script, tools, messages: [{ role: 'user', content: 'i want a refund' }] });
    assert.equal(refund.text, 'Let me check.');
    assert.deepEqual(refund.calls, [], 'issue_refund is not offered');
  });

  test('a forced function is called, with a fitting preface, whatever was said', async () => {
    const hangUp = await runTurn(engine, {
      instructions,
      tools,
      toolChoice: { type: 'function', name: 'hang_up' },
      messages: [{ role: 'user', content: 'hello' }],
    });
    assert.equal(hangUp.text, 'Thank you for calling. Goodbye!');
    assert.deepEqual(hangUp.calls.map((c) => c.name), ['hang_up']);

    const dtmf = await runTurn(engine, {
      instructions,
      tools,
      toolChoice: { type: 'function', name: 'send_dtmf' },
      messages: [{ role: 'user', content: 'my extension is two zero four' }],
    });
    assert.deepEqual(dtmf.calls.map((c) => [c.name, JSON.parse(c.arguments)]), [['send_dtmf', { digits: '204' }]]);

    const lookup = await runTurn(engine, {
      instructions,
      tools: [...tools, lookupTool],
      toolChoice: { type: 'function', name: 'lookup_booking' },
      messages: [{ role: 'user', content: 'booking reference alpha seven' }],
    });
    assert.deepEqual(lookup.calls.map((c) => [c.name, JSON.parse(c.arguments)]), [['lookup_booking', { reference: 'booking reference alpha seven' }]]);
  });

  test("a forced function that is not offered is a bad_request; 'required' calls something", async () => {
    await assert.rejects(
      runTurn(engine, { instructions, tools, toolChoice: { type: 'function', name: 'nope' }, messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => err instanceof DialogueError && err.code === 'bad_request' && /"nope"/.test(err.message),
    );
    const planned = await runTurn(engine, { instructions, tools, toolChoice: 'required', messages: [{ role: 'user', content: 'bye' }] });
    assert.deepEqual(planned.calls.map((c) => c.name), ['hang_up']);
    const unplanned = await runTurn(engine, { instructions, tools: [lookupTool], toolChoice: 'required', messages: [{ role: 'user', content: 'hello' }] });
    assert.deepEqual(unplanned.calls.map((c) => c.name), ['lookup_booking']);
  });

  test('press keys: send_dtmf with the digits heard, the homophones read as digits next to real ones', async () => {
    const result = await runTurn(engine, { instructions, tools, messages: [{ role: 'user', content: 'can you press for five star' }] });
    assert.equal(result.text, 'Sure.');
    assert.deepEqual(result.calls.map((c) => [c.name, JSON.parse(c.arguments)]), [['send_dtmf', { digits: '45*' }]]);
    const ask = new Conversation(engine, { instructions, tools });
    assert.equal((await ask.say('press the key for me')).text, 'Which keys should I press?');
    const pressed = await ask.say('one');
    assert.deepEqual(pressed.calls.map((c) => JSON.parse(c.arguments)), [{ digits: '1' }]);
  });
});

describe('after a tool result', () => {
  test('a failed transfer: apologise and offer a message; yes takes the message', async () => {
    const conversation = new Conversation(engine, { instructions, tools });
    const transfer = await conversation.say('i need to talk to a real person');
    const callId = transfer.calls[0]?.callId ?? '';
    const failed = await conversation.toolResult(callId, { error: 'the transfer failed: busy. Apologise and offer to take a message.' });
    assert.equal(failed.text, "I'm sorry, I couldn't put you through just now. Would you like to leave a message instead?");
    assert.deepEqual(failed.calls, []);
    assert.equal((await conversation.say('yes please')).text, 'Sure. May I have your name, please?');
  });

  test('send_dtmf done: brief; hang_up and transfer done: nothing more to say', async () => {
    const conversation = new Conversation(engine, { instructions, tools });
    const press = await conversation.say('press one');
    const done = await conversation.toolResult(press.calls[0]?.callId ?? '', { ok: true, pressed: '1' });
    assert.equal(done.text, 'Done.');
    const bye = await conversation.say('goodbye');
    const after = await conversation.toolResult(bye.calls[0]?.callId ?? '', { ok: true, note: 'The call ends after your goodbye.' });
    assert.equal(after.text, '');
    assert.deepEqual(after.events.map((e) => e.type), ['done']);
  });

  test('an HTTP tool: the script says what to do with its result or error', async () => {
    const script = [
      instructions,
      '```koe-script',
      'intents:',
      '  - name: booking_status',
      '    examples: [what is the status of my booking, can you check my booking]',
      '    slots: [reference]',
      '    replies: [Let me look that up.]',
      '    tool:',
      '      name: lookup_booking',
      '      arguments:',
      '        reference: "{reference}"',
      '    onResult: ["Your booking {result.reference} is on {result.when}. Anything else?"]',
      '    onError: ["Sorry, I could not find booking {reference}."]',
      '    onNo: goodbye',
      'slots:',
      '  reference:',
      '    type: digits',
      '    prompt: What is your booking number?',
      '```',
    ].join('\n');
    const conversation = new Conversation(engine, { instructions: script, tools: [...tools, lookupTool] });
    assert.equal((await conversation.say('can you check my booking')).text, 'What is your booking number?');
    const lookup = await conversation.say('four two seven one');
    assert.equal(lookup.text, 'Let me look that up.');
    assert.deepEqual(lookup.calls.map((c) => [c.name, JSON.parse(c.arguments)]), [['lookup_booking', { reference: '4271' }]]);
    const found = await conversation.toolResult(lookup.calls[0]?.callId ?? '', { reference: '4271', when: 'Friday at 10 am' });
    assert.equal(found.text, 'Your booking 4271 is on Friday at 10 am. Anything else?');
    const bye = await conversation.say('no');
    assert.deepEqual(bye.calls.map((c) => c.name), ['hang_up']);

    const failing = new Conversation(engine, { instructions: script, tools: [...tools, lookupTool] });
    await failing.say('can you check my booking');
    const again = await failing.say('nine nine');
    const error = await failing.toolResult(again.calls[0]?.callId ?? '', { error: 'the lookup_booking service answered HTTP 404' });
    assert.equal(error.text, 'Sorry, I could not find booking 9 9.');
  });

  test('an HTTP tool without onResult: its "say" field is spoken, else a short "done"', async () => {
    const messages: DialogueMessage[] = [
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'One moment.', toolCalls: [{ callId: 'call_AAAAAAAAAAAAAAAA', name: 'lookup_booking', arguments: '{}' }] },
      { role: 'tool', toolCallId: 'call_AAAAAAAAAAAAAAAA', content: '{"say":"You are booked for Friday."}' },
    ];
    const said = await runTurn(engine, { instructions, tools: [...tools, lookupTool], messages });
    assert.equal(said.text, 'You are booked for Friday.');
    const plain = await runTurn(engine, {
      instructions,
      tools: [...tools, lookupTool],
      messages: [...messages.slice(0, 2), { role: 'tool', toolCallId: 'call_AAAAAAAAAAAAAAAA', content: 'ok' }],
    });
    assert.equal(plain.text, 'Done. Is there anything else I can help you with?');
  });
});
