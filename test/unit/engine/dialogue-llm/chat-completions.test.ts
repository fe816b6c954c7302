import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createChatCompletionsDialogue, MISSING_TOOL_RESULT, type ChatCompletionsDialogueOptions } from '../../../../src/engine/dialogue/chat-completions/index.js';
import { readServerSentEvents } from '../../../../src/engine/dialogue/chat-completions/server-sent-events.js';
import type { DialogueEngine, DialogueEvent, DialogueRequest } from '../../../../src/engine/dialogue/dialogue.js';
import { DialogueError } from '../../../../src/engine/dialogue/dialogue.js';
import { chunk, errorJson, FakeChatServer, send, startStream, streamText, usageChunk, type Script } from './fake-chat-server.js';
import { collect, withTimeout } from './iterate.js';

function request(overrides: Partial<DialogueRequest> = {}): DialogueRequest {
  return {
    instructions: 'You are Koe, a phone agent.',
    messages: [{ role: 'user', content: 'Hello?' }],
    tools: [],
    toolChoice: 'auto',
    signal: new AbortController().signal,
    ...overrides,
  };
}

const weather = { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
const hangUp = { name: 'hang_up', description: 'End the call', parameters: { type: 'object', properties: {} } };

function isDialogueError(code: DialogueError['code'], retryable: boolean, message?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof DialogueError, `expected a DialogueError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.retryable, retryable, error.message);
    if (message) assert.match(error.message, message);
    return true;
  };
}

describe('chat-completions dialogue', () => {
  let server: FakeChatServer;
  const engines: DialogueEngine[] = [];
  const engine = (options: Partial<ChatCompletionsDialogueOptions> = {}) => {
    const created = createChatCompletionsDialogue({ baseUrl: server.baseUrl, model: 'gpt-test', ...options });
    engines.push(created);
    return created;
  };

  before(async () => {
    server = await FakeChatServer.start();
  });
  beforeEach(() => server.reset());
  after(async () => {
    await Promise.all(engines.map((e) => e.close()));
    await server.close();
  });

  test('streams text deltas as they arrive and reports the usage chunk', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    server.next(async ({ res }) => {
      startStream(res);
      send(res, chunk({ role: 'assistant', content: '', refusal: null }));
      send(res, chunk({ content: 'Hi' }));
      // The rest only comes once the client has seen the first delta: proof that nothing is buffered.
      await released;
      send(res, chunk({ content: ', how can' }));
      send(res, chunk({ content: ' I help?' }));
      send(res, chunk({}, 'stop'));
      send(res, usageChunk(42, 7));
      send(res, '[DONE]');
      res.end();
    });
    const dialogue = engine({ apiKey: 'sk-test-secret', temperature: 0.3, extraHeaders: { 'x-tenant': 'koe' } });
    assert.equal(dialogue.name, 'chat-completions:gpt-test');
    const events: DialogueEvent[] = [];
    for await (const event of dialogue.respond(request({ maxOutputTokens: 120 }))) {
      events.push(event);
      if (events.length === 1) release();
    }
    assert.deepEqual(events, [
      { type: 'text.delta', delta: 'Hi' },
      { type: 'text.delta', delta: ', how can' },
      { type: 'text.delta', delta: ' I help?' },
      { type: 'done', usage: { inputTokens: 42, outputTokens: 7 } },
    ]);

    const [sent] = server.received;
    assert.ok(sent);
    assert.equal(sent.method, 'POST');
    assert.equal(sent.path, '/v1/chat/completions');
    assert.equal(sent.headers.authorization, 'Bearer sk-test-secret');
    assert.equal(sent.headers['content-type'], 'application/json');
    assert.equal(sent.headers['x-tenant'], 'koe');
    assert.deepEqual(sent.body, {
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'You are Koe, a phone agent.' },
        { role: 'user', content: 'Hello?' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.3,
      max_tokens: 120,
    });
  });

  test('assembles tool calls from fragments, two in parallel, and emits each once complete', async () => {
    server.next(({ res }) => {
      startStream(res);
      send(res, chunk({ role: 'assistant', content: null, refusal: null }));
      send(res, chunk({ tool_calls: [{ index: 0, id: 'call_A1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }));
      send(res, chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }));
      send(res, chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty": "Os' } }] }));
      send(res, chunk({ tool_calls: [{ index: 0, function: { arguments: 'lo"}' } }] }));
      send(res, chunk({ tool_calls: [{ index: 1, id: 'call_B2', type: 'function', function: { name: 'get_weather', arguments: '' } }] }));
      send(res, chunk({ tool_calls: [{ index: 1, function: { arguments: '{"city": "Kyōto"}' } }] }));
      send(res, chunk({}, 'tool_calls'));
      send(res, usageChunk(80, 31));
      send(res, '[DONE]');
      res.end();
    });
    const events = await collect(engine().respond(request({ tools: [weather], messages: [{ role: 'user', content: 'Weather in Oslo and Kyoto?' }] })));
    assert.deepEqual(events, [
      { type: 'function_call', call: { callId: 'call_A1', name: 'get_weather', arguments: '{"city": "Oslo"}' } },
      { type: 'function_call', call: { callId: 'call_B2', name: 'get_weather', arguments: '{"city": "Kyōto"}' } },
      { type: 'done', usage: { inputTokens: 80, outputTokens: 31 } },
    ]);
    const body = server.received[0]?.body;
    assert.deepEqual(body?.tools, [{ type: 'function', function: weather }]);
    assert.equal(body?.tool_choice, 'auto');
  });

  test('maps the conversation: tool calls, their results right after them, placeholders and orphans', async () => {
    server.always(streamText(['OK.']));
    await collect(
      engine().respond(
        request({
          instructions: 'Be brief.',
          tools: [weather, hangUp],
          messages: [
            { role: 'user', content: 'Weather in Oslo?' },
            { role: 'assistant', content: '', toolCalls: [{ callId: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
            // The caller spoke again before the tool answered; the result still goes right after its call.
            { role: 'user', content: 'Hurry up.' },
            { role: 'tool', toolCallId: 'call_1', content: '{"temp_c":4}' },
            { role: 'assistant', content: 'It is 4 degrees.' },
            { role: 'tool', toolCallId: 'call_unknown', content: 'orphan' },
            { role: 'assistant', content: 'Goodbye!', toolCalls: [{ callId: 'call_2', name: 'hang_up', arguments: '' }] },
          ],
        }),
      ),
    );
    assert.deepEqual(server.received[0]?.body.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c":4}' },
      { role: 'user', content: 'Hurry up.' },
      { role: 'assistant', content: 'It is 4 degrees.' },
      // Ollama refuses arguments that are not a JSON object, and every API refuses an unanswered call.
      { role: 'assistant', content: 'Goodbye!', tool_calls: [{ id: 'call_2', type: 'function', function: { name: 'hang_up', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_2', content: MISSING_TOOL_RESULT },
    ]);
  });

  test('maps every tool choice, and sends no tools field when there are none', async () => {
    server.always(streamText(['OK.']));
    const dialogue = engine();
    for (const toolChoice of ['auto', 'none', 'required', { type: 'function', name: 'hang_up' }] as const) {
      await collect(dialogue.respond(request({ tools: [weather, hangUp], toolChoice })));
    }
    await collect(dialogue.respond(request({ tools: [], toolChoice: 'required' })));
    const sent = server.received.map((r) => ({ tools: (r.body.tools as { function: { name: string } }[] | undefined)?.map((t) => t.function.name), choice: r.body.tool_choice }));
    assert.deepEqual(sent, [
      { tools: ['get_weather', 'hang_up'], choice: 'auto' },
      { tools: ['get_weather', 'hang_up'], choice: 'none' },
      { tools: ['get_weather', 'hang_up'], choice: 'required' },
      // Only the named tool is offered, so servers that ignore the object form cannot pick another.
      { tools: ['hang_up'], choice: { type: 'function', function: { name: 'hang_up' } } },
      { tools: undefined, choice: undefined },
    ]);
    // Each stream was read to its end, so kept-alive connections carried the requests (a new one each time would cost a TLS handshake per turn).
    assert.ok(new Set(server.received.map((r) => r.connection)).size <= 2, 'connections are reused');
  });

  test('estimates usage when the server ignores stream_options', async () => {
    server.next(streamText(['Sure', ', one moment.'], null));
    const events = await collect(engine().respond(request()));
    const done = events.at(-1);
    assert.equal(done?.type, 'done');
    assert.ok(done.type === 'done' && done.usage.inputTokens > 0 && done.usage.outputTokens > 0, JSON.stringify(done));
  });

  test('reads Ollama-style whole tool calls, calls without index, comments, CRLF and a stream without [DONE]', async () => {
    server.next(
      // Ollama: the whole call in one chunk, content "", finish_reason on a later chunk.
      ({ res }) => {
        startStream(res);
        send(res, chunk({ role: 'assistant', content: '', tool_calls: [{ id: 'call_o1', index: 0, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] }));
        send(res, chunk({ role: 'assistant', content: '' }, 'tool_calls'));
        send(res, '[DONE]');
        res.end();
      },
      // No index at all (Gemini's compatibility layer), CRLF lines, a keep-alive comment, no [DONE] (ik_llama.cpp).
      ({ res }) => {
        startStream(res);
        res.write(': keep-alive\r\n\r\n');
        res.write(`data: ${JSON.stringify(chunk({ role: 'assistant', tool_calls: [{ id: 'g1', type: 'function', function: { name: 'get_weather', arguments: { city: 'Oslo' } } }] }))}\r\n\r\n`);
        res.write(`data: ${JSON.stringify(chunk({ tool_calls: [{ id: 'g2', type: 'function', function: { name: 'hang_up', arguments: '{}' } }] }))}\r\n\r\n`);
        res.write(`data: ${JSON.stringify(chunk({}, 'stop'))}\r\n\r\n`);
        res.end();
      },
      // A multi-byte character split between two writes, and text on the finishing chunk (Ollama).
      ({ res }) => {
        startStream(res);
        const bytes = Buffer.from(`data: ${JSON.stringify(chunk({ content: 'こんにちは' }))}\n\n`);
        const cut = bytes.indexOf(Buffer.from('に')) + 1;
        res.write(bytes.subarray(0, cut));
        setImmediate(() => {
          res.write(bytes.subarray(cut));
          send(res, chunk({ content: '!' }, 'stop'));
          send(res, '[DONE]');
          res.end();
        });
      },
    );
    const dialogue = engine();
    const calls = (events: DialogueEvent[]) => events.flatMap((e) => (e.type === 'function_call' ? [e.call] : []));
    assert.deepEqual(calls(await collect(dialogue.respond(request({ tools: [weather] })))), [{ callId: 'call_o1', name: 'get_weather', arguments: '{"city":"Oslo"}' }]);
    assert.deepEqual(calls(await collect(dialogue.respond(request({ tools: [weather, hangUp] })))), [
      { callId: 'g1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      { callId: 'g2', name: 'hang_up', arguments: '{}' },
    ]);
    const text = (await collect(dialogue.respond(request()))).flatMap((e) => (e.type === 'text.delta' ? [e.delta] : []));
    assert.deepEqual(text, ['こんにちは', '!']);
  });

  test('reads a whole JSON completion from a server that does not stream', async () => {
    server.next(({ res }) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'call_x', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] },
              finish_reason: 'tool_calls',
            },
          ],
          usage: { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29 },
        }),
      );
    });
    assert.deepEqual(await collect(engine().respond(request({ tools: [weather] }))), [
      { type: 'text.delta', delta: 'Checking.' },
      { type: 'function_call', call: { callId: 'call_x', name: 'get_weather', arguments: '{"city":"Rome"}' } },
      { type: 'done', usage: { inputTokens: 20, outputTokens: 9 } },
    ]);
  });

  test('classifies HTTP errors with the server’s own message', async () => {
    server.next(
      ({ res }) => errorJson(res, 400, "Invalid value for 'tool_choice': bogus.", 'invalid_request_error', 'invalid_value'),
      ({ res }) => errorJson(res, 401, 'Incorrect API key provided: sk-te***ret.', 'invalid_request_error', 'invalid_api_key'),
      ({ res }) => errorJson(res, 403, 'Project does not have access to model gpt-test.', 'invalid_request_error', 'model_not_found'),
      ({ res }) => errorJson(res, 429, 'Rate limit reached for requests.', 'requests', 'rate_limit_exceeded', { 'retry-after': '2' }),
      ({ res }) => errorJson(res, 429, 'You exceeded your current quota.', 'insufficient_quota', 'insufficient_quota'),
      ({ res }) => errorJson(res, 500, 'The server had an error while processing your request.', 'server_error', null),
      ({ res }) => errorJson(res, 503, 'The engine is currently overloaded.', 'server_error', null),
      // Ollama: an unknown model is a 404.
      ({ res }) => errorJson(res, 404, 'model "llama9" not found, try pulling it first', 'api_error', null),
    );
    const dialogue = engine();
    const expectations = [
      isDialogueError('bad_request', false, /HTTP 400: Invalid value for 'tool_choice': bogus\./),
      isDialogueError('unavailable', false, /HTTP 401: Incorrect API key/),
      isDialogueError('unavailable', false, /HTTP 403/),
      isDialogueError('rate_limited', true, /Rate limit reached.*retry after 2 s/),
      isDialogueError('unavailable', false, /quota/),
      isDialogueError('internal', true, /HTTP 500: The server had an error/),
      isDialogueError('unavailable', true, /HTTP 503: The engine is currently overloaded/),
      isDialogueError('unavailable', false, /model "llama9" not found/),
    ];
    for (const expectation of expectations) await assert.rejects(collect(dialogue.respond(request())), expectation);
  });

  test('a refused optional field is dropped or swapped once and remembered', async () => {
    server.next(
      ({ res }) => errorJson(res, 400, "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", 'invalid_request_error', 'unsupported_parameter'),
      ({ res }) => errorJson(res, 400, 'Unrecognized request argument supplied: stream_options', 'invalid_request_error', null),
      streamText(['One.'], null),
      streamText(['Two.'], null),
    );
    const dialogue = engine({ temperature: 0.5 });
    await collect(dialogue.respond(request({ maxOutputTokens: 50 })));
    await collect(dialogue.respond(request({ maxOutputTokens: 60 })));
    const bodies = server.received.map((r) => r.body);
    assert.equal(bodies.length, 4);
    assert.deepEqual(
      bodies.map((b) => [b.max_tokens, b.max_completion_tokens, b.stream_options !== undefined]),
      [
        [50, undefined, true],
        [undefined, 50, true],
        [undefined, 50, false],
        // The second reply starts with what the server accepted.
        [undefined, 60, false],
      ],
    );
    // A 400 about something else is not retried.
    server.next(({ res }) => errorJson(res, 400, "'messages' must contain the word 'json'", 'invalid_request_error', null));
    await assert.rejects(collect(dialogue.respond(request())), isDialogueError('bad_request', false));
    assert.equal(server.received.length, 5);
  });

  test('chat templates that refuse a system role or want alternating roles get the conversation reshaped', async () => {
    // vLLM's own error shape, with what Gemma's and Mistral's templates raise.
    const vllmError = (message: string): Script => ({ res }) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'error', message, type: 'BadRequestError', param: null, code: 400 }));
    };
    server.next(
      vllmError('System role not supported'),
      vllmError('Conversation roles must alternate user/assistant/user/assistant/...'),
      streamText(['Hi.']),
      streamText(['Again.']),
    );
    const dialogue = engine();
    const conversation = request({
      instructions: 'Be brief.',
      messages: [
        // The agent greets first on a phone call.
        { role: 'assistant', content: 'Hello, Koe here.' },
        { role: 'user', content: 'Hi.' },
        { role: 'user', content: 'Are you there?' },
        { role: 'assistant', content: 'Yes.' },
        { role: 'assistant', content: '', toolCalls: [{ callId: 'c1', name: 'hang_up', arguments: '{}' }] },
        { role: 'tool', toolCallId: 'c1', content: 'ok' },
      ],
    });
    await collect(dialogue.respond(conversation));
    const bodies = server.received.map((r) => r.body.messages);
    assert.equal(bodies.length, 3);
    assert.equal((bodies[0] as { role: string }[])[0]?.role, 'system');
    assert.deepEqual(bodies[2], [
      { role: 'user', content: 'Be brief.\n\n(The call has connected.)' },
      { role: 'assistant', content: 'Hello, Koe here.' },
      { role: 'user', content: 'Hi.\nAre you there?' },
      { role: 'assistant', content: 'Yes.', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'hang_up', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'ok' },
    ]);
    // Remembered: the next reply is shaped right the first time.
    await collect(dialogue.respond(conversation));
    assert.equal(server.received.length, 4);
    assert.deepEqual(server.received[3]?.body.messages, bodies[2]);
  });

  test('an error sent inside the stream rejects the reply', async () => {
    server.next(
      ({ res }) => {
        startStream(res);
        send(res, chunk({ content: 'Hel' }));
        send(res, { error: { code: 500, message: 'llama_decode failed', type: 'server_error' } });
        res.end();
      },
      ({ res }) => {
        // Older llama.cpp servers use a non-standard `error:` field.
        startStream(res);
        res.write(`error: ${JSON.stringify({ code: 400, message: 'the request exceeds the available context size', type: 'invalid_request_error' })}\n\n`);
        res.end();
      },
    );
    const dialogue = engine();
    const seen: DialogueEvent[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of dialogue.respond(request())) seen.push(event);
      })(),
      isDialogueError('internal', true, /llama_decode failed/),
    );
    assert.deepEqual(seen, [{ type: 'text.delta', delta: 'Hel' }]);
    await assert.rejects(collect(dialogue.respond(request())), isDialogueError('bad_request', false, /context size/));
  });

  test('a stream cut before the reply finished is a retryable failure', async () => {
    server.next(({ res }) => {
      startStream(res);
      send(res, chunk({ content: 'Let me' }));
      setImmediate(() => res.destroy());
    });
    await assert.rejects(collect(engine().respond(request())), isDialogueError('unavailable', true));
  });

  test('an unreachable server is a retryable failure naming the endpoint', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const dialogue = engine({ baseUrl: `http://user:pw@127.0.0.1:${port}/v1/` });
    await assert.rejects(collect(dialogue.respond(request())), (error: unknown) => {
      isDialogueError('unavailable', true, /cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions \(ECONNREFUSED\)/)(error);
      assert.doesNotMatch((error as Error).message, /pw/);
      return true;
    });
  });

  test('credentials in the base URL become a Basic authorization header', async () => {
    server.next(streamText(['Hi.']));
    await collect(engine({ baseUrl: server.baseUrl.replace('http://', 'http://koe:s%40cret@') }).respond(request()));
    assert.equal(server.received[0]?.headers.authorization, `Basic ${Buffer.from('koe:s@cret').toString('base64')}`);
  });

  test('a server that stalls before the first token times out and the request is closed', async () => {
    let gone: Promise<void> | undefined;
    server.next((exchange) => {
      gone = exchange.clientGone;
      startStream(exchange.res);
      // A role chunk is not a token.
      send(exchange.res, chunk({ role: 'assistant', content: '' }));
    });
    const startedAt = performance.now();
    await assert.rejects(collect(engine({ timeoutMs: 250 }).respond(request())), isDialogueError('timeout', true, /sent nothing for 250 ms/));
    assert.ok(performance.now() - startedAt < 5_000);
    assert.ok(gone);
    await withTimeout(gone, 2_000, 'the stalled request to be closed');
  });

  test('a server that stalls mid-stream times out too', async () => {
    server.next(({ res }) => {
      startStream(res);
      send(res, chunk({ content: 'Well' }));
    });
    const seen: DialogueEvent[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of engine({ timeoutMs: 250 }).respond(request())) seen.push(event);
      })(),
      isDialogueError('timeout', true),
    );
    assert.deepEqual(seen, [{ type: 'text.delta', delta: 'Well' }]);
  });

  test('abort mid-stream ends the reply without done and closes the request', async () => {
    let gone: Promise<void> | undefined;
    server.next((exchange) => {
      gone = exchange.clientGone;
      startStream(exchange.res);
      send(exchange.res, chunk({ content: 'I will now talk' }));
      // …and never finish.
    });
    const controller = new AbortController();
    const seen: DialogueEvent[] = [];
    for await (const event of engine().respond(request({ signal: controller.signal }))) {
      seen.push(event);
      controller.abort();
    }
    assert.deepEqual(seen, [{ type: 'text.delta', delta: 'I will now talk' }]);
    assert.ok(gone);
    await withTimeout(gone, 2_000, 'the aborted request to be closed');
  });

  test('abort before the server answers ends the reply at once', async () => {
    let gone: Promise<void> | undefined;
    let arrived!: () => void;
    const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
    server.next((exchange) => {
      gone = exchange.clientGone;
      arrived();
    });
    const controller = new AbortController();
    const reply = collect(engine().respond(request({ signal: controller.signal })));
    await withTimeout(requestArrived, 2_000, 'the request to arrive');
    controller.abort();
    assert.deepEqual(await withTimeout(reply, 2_000, 'the reply to end'), []);
    assert.ok(gone);
    await withTimeout(gone, 2_000, 'the aborted request to be closed');
    // An already aborted signal sends nothing.
    const count = server.received.length;
    assert.deepEqual(await collect(engine().respond(request({ signal: AbortSignal.abort() }))), []);
    assert.equal(server.received.length, count);
  });

  test('close() ends replies in flight and refuses new ones', async () => {
    server.next(({ res }) => {
      startStream(res);
      send(res, chunk({ content: 'Hold on' }));
    });
    const dialogue = engine();
    const seen: DialogueEvent[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of dialogue.respond(request())) {
          seen.push(event);
          await dialogue.close();
        }
      })(),
      isDialogueError('unavailable', false, /closed/),
    );
    await dialogue.close();
    await assert.rejects(collect(dialogue.respond(request())), isDialogueError('unavailable', false, /closed/));
  });

  test('speaks a koe_say line verbatim without calling the model', async () => {
    const events = await collect(engine().respond(request({ metadata: { koe_say: 'Thanks for calling Koe.' } })));
    assert.deepEqual(events, [
      { type: 'text.delta', delta: 'Thanks for calling Koe.' },
      { type: 'done', usage: { inputTokens: 0, outputTokens: 6 } },
    ]);
    assert.equal(server.received.length, 0);
  });

  test('misuse throws at once', () => {
    assert.throws(() => createChatCompletionsDialogue({ baseUrl: 'localhost:11434', model: 'x' }), /baseUrl/);
    assert.throws(() => createChatCompletionsDialogue({ baseUrl: 'http://127.0.0.1/v1', model: ' ' }), /model/);
    assert.throws(() => createChatCompletionsDialogue({ baseUrl: 'http://127.0.0.1/v1', model: 'x', timeoutMs: 0 }), /timeoutMs/);
  });
});

describe('server-sent events decoder', () => {
  test('yields the same events however the bytes are split', async () => {
    const text = ': comment\r\ndata: {"a":1}\r\n\r\nevent: ping\ndata: one\ndata: two\n\ndata:  spaced\r\rerror: {"code":500}\n\ndata: [DONE]\n\ndata: tail';
    const bytes = new TextEncoder().encode(text);
    const expected = [
      { event: 'message', data: '{"a":1}' },
      { event: 'ping', data: 'one\ntwo' },
      { event: 'message', data: ' spaced' },
      { event: 'error', data: '{"code":500}' },
      { event: 'message', data: '[DONE]' },
      { event: 'message', data: 'tail' },
    ];
    for (let cut = 0; cut <= bytes.length; cut++) {
      const parts = [bytes.subarray(0, cut), bytes.subarray(cut)];
      const events = await collect(readServerSentEvents(toStream(parts)));
      assert.deepEqual(events, expected, `split at byte ${cut}`);
    }
    // One byte at a time.
    assert.deepEqual(await collect(readServerSentEvents(toStream([...bytes].map((b) => Uint8Array.of(b))))), expected);
  });
});

async function* toStream(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part;
}
