// The fake must follow realtime.md exactly, since every bridge test trusts it. These tests speak
// raw WebSocket to it and check sequences against the spec text, not against Koe's own code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import {
  silenceAudio,
  startFakeRealtimeServer,
  toneAudio,
  type FakeRealtimeServer,
  type FakeRealtimeServerOptions,
} from '../../fakes/fake-realtime-server.js';

type Json = Record<string, unknown> & { type: string };

interface RawClient {
  ws: WebSocket;
  events: Json[];
  send(event: object): void;
  sendText(text: string): void;
  waitFor(predicate: (events: Json[]) => boolean, timeoutMs?: number): Promise<void>;
  next(type: string, timeoutMs?: number): Promise<Json>;
  close(): Promise<void>;
}

async function rawClient(url: string, headers: Record<string, string> = {}): Promise<RawClient> {
  const ws = new WebSocket(url, { headers });
  const events: Json[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    events.push(JSON.parse(data.toString()) as Json);
    for (const wake of [...waiters]) wake();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let cursor = 0;
  const client: RawClient = {
    ws,
    events,
    send: (event) => ws.send(JSON.stringify(event)),
    sendText: (text) => ws.send(text),
    waitFor(predicate, timeoutMs = 3000) {
      if (predicate(events)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          if (!predicate(events)) return;
          waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`timed out; got ${events.map((e) => e.type).join(', ')}`));
        }, timeoutMs);
        waiters.add(wake);
      });
    },
    /** The next event of `type` after the previous `next` call's match. */
    async next(type, timeoutMs = 3000) {
      let found: Json | undefined;
      await client.waitFor((all) => {
        const index = all.findIndex((event, i) => i >= cursor && event.type === type);
        if (index < 0) return false;
        found = all[index];
        cursor = index + 1;
        return true;
      }, timeoutMs);
      return found as Json;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close();
      }),
  };
  return client;
}

/** Event types in order, runs of the same delta type collapsed to one `type*`. */
function shapeOf(events: Json[]): string[] {
  const out: string[] = [];
  for (const event of events) {
    const name = event.type.endsWith('.delta') ? `${event.type}*` : event.type;
    if (name.endsWith('*') && out[out.length - 1] === name) continue;
    out.push(name);
  }
  return out;
}

/** Without interleaving noise: transcript and audio deltas are allowed to interleave. */
function withoutDeltas(events: Json[]): string[] {
  return events.filter((event) => !event.type.endsWith('.delta')).map((event) => event.type);
}

const ID = (prefix: string): RegExp => new RegExp(`^${prefix}_[A-Za-z0-9]{21}$`);

const MULAW_SESSION = {
  type: 'realtime',
  audio: {
    input: {
      format: { type: 'audio/pcmu' },
      transcription: { model: 'gpt-4o-transcribe' },
      turn_detection: { type: 'server_vad', silence_duration_ms: 200, prefix_padding_ms: 300 },
    },
    output: { format: { type: 'audio/pcmu' }, voice: 'marin' },
  },
};
const MULAW_BETA_SESSION = {
  input_audio_format: 'g711_ulaw',
  output_audio_format: 'g711_ulaw',
  voice: 'marin',
  input_audio_transcription: { model: 'gpt-4o-transcribe' },
  turn_detection: { type: 'server_vad', silence_duration_ms: 200, prefix_padding_ms: 300 },
};

/** 400 ms silence, 500 ms tone, 600 ms silence, in Twilio-sized 20 ms appends. */
function sendTurn(client: RawClient): void {
  const audio = Buffer.concat([silenceAudio('audio/pcmu', 400), toneAudio('audio/pcmu', 500), silenceAudio('audio/pcmu', 600)]);
  for (let offset = 0; offset < audio.length; offset += 160) {
    client.send({ type: 'input_audio_buffer.append', audio: audio.subarray(offset, offset + 160).toString('base64') });
  }
}

async function withServer(
  opts: FakeRealtimeServerOptions,
  body: (server: FakeRealtimeServer) => Promise<void>,
): Promise<void> {
  const server = await startFakeRealtimeServer(opts);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

describe('fake realtime server: session', () => {
  let server: FakeRealtimeServer;
  before(async () => {
    server = await startFakeRealtimeServer();
  });
  after(() => server.close());

  test('session.created comes first, with the documented GA defaults', async () => {
    const client = await rawClient(`${server.url}?model=gpt-realtime`);
    const created = await client.next('session.created');
    assert.equal(client.events[0], created);
    assert.match(String(created.event_id), ID('event'));
    const session = created.session as Record<string, unknown>;
    assert.match(String(session.id), ID('sess'));
    assert.deepEqual({ ...session, id: 'x', expires_at: 0 }, {
      type: 'realtime',
      object: 'realtime.session',
      id: 'x',
      model: 'gpt-realtime',
      output_modalities: ['audio'],
      instructions: session.instructions,
      tools: [],
      tool_choice: 'auto',
      max_output_tokens: 'inf',
      tracing: null,
      truncation: 'auto',
      prompt: null,
      expires_at: 0,
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: 24000 },
          transcription: null,
          noise_reduction: null,
          turn_detection: {
            type: 'server_vad',
            threshold: 0.5,
            prefix_padding_ms: 300,
            silence_duration_ms: 200,
            idle_timeout_ms: null,
            create_response: true,
            interrupt_response: true,
          },
        },
        output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy', speed: 1 },
      },
      include: null,
    });
    await client.close();
  });

  test('session.update → session.updated with the full effective session', async () => {
    const client = await rawClient(server.url);
    await client.next('session.created');
    client.send({ type: 'session.update', event_id: 'mine', session: { ...MULAW_SESSION, instructions: 'Be brief.' } });
    const updated = await client.next('session.updated');
    const session = updated.session as { instructions: string; audio: { input: Record<string, unknown>; output: Record<string, unknown> } };
    assert.equal(session.instructions, 'Be brief.');
    assert.deepEqual(session.audio.input.format, { type: 'audio/pcmu' });
    assert.deepEqual(session.audio.output, { format: { type: 'audio/pcmu' }, voice: 'marin', speed: 1 });
    // Fields not sent keep their values; turn detection gets its defaults filled in.
    assert.deepEqual(session.audio.input.turn_detection, {
      type: 'server_vad',
      threshold: 0.5,
      prefix_padding_ms: 300,
      silence_duration_ms: 200,
      idle_timeout_ms: null,
      create_response: true,
      interrupt_response: true,
    });
    assert.equal(updated.event_id === 'mine', false, "the client's event_id is not echoed in session.updated");
    await client.close();
  });

  test('GA session.update without session.type → missing_required_parameter, session unchanged', async () => {
    const client = await rawClient(server.url);
    await client.next('session.created');
    client.send({ type: 'session.update', event_id: 'evt_1', session: { instructions: 'x' } });
    const error = await client.next('error');
    assert.deepEqual(error.error, {
      type: 'invalid_request_error',
      code: 'missing_required_parameter',
      message: "Missing required parameter: 'session.type'.",
      param: 'session.type',
      event_id: 'evt_1',
    });
    assert.equal(client.events.some((event) => event.type === 'session.updated'), false);
    await client.close();
  });

  test('unknown events and bad JSON get an error; the connection stays open', async () => {
    const client = await rawClient(server.url);
    await client.next('session.created');
    client.send({ type: 'ping', event_id: 'p1' });
    const unknown = await client.next('error');
    assert.equal((unknown.error as Json).code, 'invalid_value');
    assert.equal((unknown.error as Json).param, 'type');
    assert.equal((unknown.error as Json).event_id, 'p1');
    client.sendText('{not json');
    const bad = await client.next('error');
    assert.equal((bad.error as Json).code, 'invalid_json');
    client.send({ type: 'input_audio_buffer.clear' });
    await client.next('input_audio_buffer.cleared');
    assert.equal(client.ws.readyState, WebSocket.OPEN);
    await client.close();
  });

  test('commit with too little audio → input_audio_buffer_commit_empty', async () => {
    const client = await rawClient(server.url);
    await client.next('session.created');
    client.send({ type: 'input_audio_buffer.commit', event_id: 'c1' });
    const error = await client.next('error');
    assert.equal((error.error as Json).code, 'input_audio_buffer_commit_empty');
    assert.equal((error.error as Json).event_id, 'c1');
    await client.close();
  });

  test('manual turns: commit → committed + item added + done, and no response', async () => {
    const client = await rawClient(server.url);
    await client.next('session.created');
    client.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { format: { type: 'audio/pcmu' }, turn_detection: null } } } });
    await client.next('session.updated');
    client.send({ type: 'input_audio_buffer.append', audio: toneAudio('audio/pcmu', 300).toString('base64') });
    client.send({ type: 'input_audio_buffer.commit' });
    const committed = await client.next('input_audio_buffer.committed');
    const added = await client.next('conversation.item.added');
    const done = await client.next('conversation.item.done');
    assert.equal(committed.previous_item_id, null);
    assert.equal((added.item as Json).id, committed.item_id);
    assert.deepEqual(done.item, added.item);
    client.send({ type: 'input_audio_buffer.clear' });
    await client.next('input_audio_buffer.cleared');
    assert.equal(client.events.some((event) => event.type.startsWith('response.')), false);
    await client.close();
  });

  test('a server of many sessions counts its connections and records what each received', async () => {
    const a = await rawClient(server.url);
    const b = await rawClient(server.url);
    await server.waitFor(() => server.connections >= 2);
    const sessionB = server.sessions[server.sessions.length - 1];
    assert.ok(sessionB);
    b.send({ type: 'response.cancel', event_id: 'x1' });
    await sessionB.waitForReceived('response.cancel');
    await sessionB.waitForSent('error');
    await a.close();
    await b.close();
  });
});

describe('fake realtime server: a VAD turn and an audio response', () => {
  const respond: FakeRealtimeServerOptions['respond'] = () => [{ type: 'audio', transcript: 'Sure, I can help.', audioMs: 300 }];

  test('GA: the documented order, from speech_started to rate_limits.updated', async () => {
    await withServer({ respond, transcripts: ['I need help'], generationSpeed: 50 }, async (server) => {
      const client = await rawClient(server.url);
      await client.next('session.created');
      client.send({ type: 'session.update', session: MULAW_SESSION });
      await client.next('session.updated');
      sendTurn(client);
      await client.next('rate_limits.updated');
      const turn = client.events.slice(client.events.findIndex((event) => event.type === 'input_audio_buffer.speech_started'));
      assert.deepEqual(withoutDeltas(turn), [
        'input_audio_buffer.speech_started',
        'input_audio_buffer.speech_stopped',
        'input_audio_buffer.committed',
        'conversation.item.added',
        'conversation.item.done',
        'conversation.item.input_audio_transcription.completed',
        'response.created',
        'response.output_item.added',
        'conversation.item.added',
        'response.content_part.added',
        'response.output_audio.done',
        'response.output_audio_transcript.done',
        'response.content_part.done',
        'response.output_item.done',
        'conversation.item.done',
        'response.done',
        'rate_limits.updated',
      ]);
      // Input transcription deltas come before their completed event; output deltas inside the part.
      const kinds = shapeOf(turn);
      assert.ok(
        kinds.indexOf('conversation.item.input_audio_transcription.delta*') <
          kinds.indexOf('conversation.item.input_audio_transcription.completed'),
      );

      const [started, stopped, committed, added] = turn as [Json, Json, Json, Json];
      assert.equal(started.audio_start_ms, 400 - 300, 'audio_start_ms includes the prefix padding');
      assert.equal(stopped.audio_end_ms, 400 + 500 + 200, 'audio_end_ms includes the silence duration');
      assert.match(String(started.item_id), ID('item'));
      for (const event of [stopped, committed]) assert.equal(event.item_id, started.item_id);
      assert.deepEqual(added.item, {
        id: started.item_id,
        type: 'message',
        status: 'completed',
        role: 'user',
        content: [{ type: 'input_audio', transcript: null }],
      });
      const completed = turn.find((event) => event.type === 'conversation.item.input_audio_transcription.completed') as Json;
      assert.equal(completed.transcript, 'I need help');
      assert.equal((completed.usage as Json).type, 'tokens');

      const created = turn.find((event) => event.type === 'response.created') as Json;
      const response = created.response as Json;
      assert.match(String(response.id), ID('resp'));
      assert.equal(response.status, 'in_progress');
      assert.equal(response.status_details, null);
      assert.equal(response.usage, null);
      assert.deepEqual(response.output, []);
      assert.deepEqual(response.audio, { output: { format: { type: 'audio/pcmu' }, voice: 'marin' } });

      const itemAdded = turn.filter((event) => event.type === 'conversation.item.added')[1] as Json;
      assert.equal(itemAdded.previous_item_id, started.item_id);
      assert.deepEqual(itemAdded.item, {
        id: (itemAdded.item as Json).id,
        type: 'message',
        status: 'in_progress',
        role: 'assistant',
        content: [],
      });
      const partAdded = turn.find((event) => event.type === 'response.content_part.added') as Json;
      assert.deepEqual(partAdded.part, { type: 'audio', transcript: '' });

      const audio = turn.filter((event) => event.type === 'response.output_audio.delta');
      const bytes = audio.reduce((sum, event) => sum + Buffer.from(String(event.delta), 'base64').length, 0);
      assert.equal(bytes, 300 * 8, 'μ-law, 8 bytes per ms');
      const transcript = turn
        .filter((event) => event.type === 'response.output_audio_transcript.delta')
        .map((event) => event.delta)
        .join('');
      assert.equal(transcript, 'Sure, I can help.');
      // Every delta falls between its part's added and done.
      const partStart = turn.indexOf(partAdded);
      const partEnd = turn.findIndex((event) => event.type === 'response.content_part.done');
      for (const delta of turn.filter((event) => event.type.startsWith('response.output_audio'))) {
        const at = turn.indexOf(delta);
        assert.ok(at > partStart && (delta.type.endsWith('.done') || at < partEnd));
      }

      const outputDone = turn.find((event) => event.type === 'response.output_item.done') as Json;
      assert.deepEqual((outputDone.item as Json).content, [{ type: 'output_audio', transcript: 'Sure, I can help.' }]);
      const done = turn.find((event) => event.type === 'response.done') as Json;
      const final = done.response as Json;
      assert.equal(final.status, 'completed');
      assert.deepEqual(final.output, [outputDone.item]);
      assert.ok(((final.usage as Json).total_tokens as number) > 0);
      await client.close();
    });
  });

  test('beta: one conversation.item.created per item, beta names, rate_limits after response.created', async () => {
    await withServer({ respond, transcripts: ['I need help'], generationSpeed: 50 }, async (server) => {
      const client = await rawClient(server.url, { 'OpenAI-Beta': 'realtime=v1' });
      const created = await client.next('session.created');
      assert.deepEqual(
        Object.keys(created.session as Json).sort(),
        [
          'client_secret',
          'expires_at',
          'id',
          'include',
          'input_audio_format',
          'input_audio_noise_reduction',
          'input_audio_transcription',
          'instructions',
          'max_response_output_tokens',
          'modalities',
          'model',
          'object',
          'output_audio_format',
          'prompt',
          'speed',
          'temperature',
          'tool_choice',
          'tools',
          'tracing',
          'truncation',
          'turn_detection',
          'voice',
        ],
      );
      const session = created.session as Json;
      assert.equal(session.model, 'gpt-4o-realtime-preview');
      assert.deepEqual(session.modalities, ['audio', 'text']);
      assert.equal(session.input_audio_format, 'pcm16');
      assert.equal(session.temperature, 0.8);

      client.send({ type: 'session.update', session: MULAW_BETA_SESSION });
      const updated = await client.next('session.updated');
      assert.equal((updated.session as Json).input_audio_format, 'g711_ulaw');
      assert.equal((updated.session as Json).voice, 'marin');
      sendTurn(client);
      await client.next('response.done');
      const turn = client.events.slice(client.events.findIndex((event) => event.type === 'input_audio_buffer.speech_started'));
      assert.deepEqual(withoutDeltas(turn), [
        'input_audio_buffer.speech_started',
        'input_audio_buffer.speech_stopped',
        'input_audio_buffer.committed',
        'conversation.item.created',
        'conversation.item.input_audio_transcription.completed',
        'response.created',
        'rate_limits.updated',
        'response.output_item.added',
        'conversation.item.created',
        'response.content_part.added',
        'response.audio.done',
        'response.audio_transcript.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.done',
      ]);
      const deltaTypes = new Set(turn.filter((event) => event.type.endsWith('.delta')).map((event) => event.type));
      assert.deepEqual([...deltaTypes].sort(), [
        'conversation.item.input_audio_transcription.delta',
        'response.audio.delta',
        'response.audio_transcript.delta',
      ]);
      const userItem = turn.find((event) => event.type === 'conversation.item.created') as Json;
      assert.deepEqual(userItem.item, {
        id: turn[0]?.item_id,
        object: 'realtime.item',
        type: 'message',
        status: 'completed',
        role: 'user',
        content: [{ type: 'input_audio', transcript: null }],
      });
      const outputDone = turn.find((event) => event.type === 'response.output_item.done') as Json;
      assert.deepEqual((outputDone.item as Json).content, [{ type: 'audio', transcript: 'Sure, I can help.' }]);
      assert.equal((outputDone.item as Json).object, 'realtime.item');
      const response = (turn.find((event) => event.type === 'response.done') as Json).response as Json;
      assert.deepEqual(response.modalities, ['audio', 'text']);
      assert.equal(response.voice, 'marin');
      assert.equal(response.output_audio_format, 'g711_ulaw');
      assert.equal(response.temperature, 0.8);
      assert.equal('output_modalities' in response, false);
      await client.close();
    });
  });

  test('text responses and function calls stream with their own events', async () => {
    await withServer(
      {
        respond: () => [
          { type: 'text', text: 'Checking the weather.' },
          { type: 'function_call', name: 'get_weather', arguments: { city: 'Tokyo' } },
        ],
        generationSpeed: Infinity,
      },
      async (server) => {
        const client = await rawClient(server.url);
        await client.next('session.created');
        client.send({ type: 'response.create', response: { output_modalities: ['text'] } });
        await client.next('response.done');
        const responseEvents = client.events.slice(1, client.events.findIndex((event) => event.type === 'response.done') + 1);
        assert.deepEqual(shapeOf(responseEvents), [
          'response.created',
          'response.output_item.added',
          'conversation.item.added',
          'response.content_part.added',
          'response.output_text.delta*',
          'response.output_text.done',
          'response.content_part.done',
          'response.output_item.done',
          'conversation.item.done',
          'response.output_item.added',
          'conversation.item.added',
          'response.function_call_arguments.delta*',
          'response.function_call_arguments.done',
          'response.output_item.done',
          'conversation.item.done',
          'response.done',
        ]);
        const fnAdded = client.events.filter((event) => event.type === 'response.output_item.added')[1] as Json;
        const fnItem = fnAdded.item as Json;
        assert.equal(fnAdded.output_index, 1);
        assert.equal(fnItem.arguments, '');
        assert.equal(fnItem.status, 'in_progress');
        assert.match(String(fnItem.call_id), /^call_[A-Za-z0-9]{16}$/);
        const argsDone = client.events.find((event) => event.type === 'response.function_call_arguments.done') as Json;
        assert.deepEqual(
          { name: argsDone.name, arguments: argsDone.arguments, call_id: argsDone.call_id, output_index: argsDone.output_index },
          { name: 'get_weather', arguments: '{"city":"Tokyo"}', call_id: fnItem.call_id, output_index: 1 },
        );
        const textDone = client.events.find((event) => event.type === 'response.output_text.done') as Json;
        assert.equal(textDone.text, 'Checking the weather.');

        client.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: fnItem.call_id, output: '{"c":21}' } });
        const outputAdded = await client.next('conversation.item.added');
        assert.equal((outputAdded.item as Json).type, 'function_call_output');
        assert.equal(outputAdded.previous_item_id, fnItem.id);
        await client.close();
      },
    );
  });
});

describe('fake realtime server: cancel, barge-in, truncate', () => {
  const longAudio: FakeRealtimeServerOptions['respond'] = () => [
    { type: 'audio', transcript: 'one two three four five six seven eight nine ten', audioMs: 5000 },
  ];

  test('response.cancel closes the open item as incomplete, then response.done cancelled/client_cancelled', async () => {
    await withServer({ respond: longAudio, generationSpeed: 5 }, async (server) => {
      const client = await rawClient(server.url);
      await client.next('session.created');
      client.send({ type: 'response.create' });
      await client.next('response.output_audio.delta');
      client.send({ type: 'response.create', event_id: 'second' });
      const busy = await client.next('error');
      assert.equal((busy.error as Json).code, 'conversation_already_has_active_response');
      assert.equal((busy.error as Json).event_id, 'second');
      client.send({ type: 'response.cancel', event_id: 'stop' });
      const done = await client.next('response.done');
      const tail = withoutDeltas(client.events.slice(client.events.findIndex((event) => event.type === 'error') + 1));
      assert.deepEqual(tail.slice(0, tail.indexOf('response.done') + 1), [
        'response.output_audio.done',
        'response.output_audio_transcript.done',
        'response.content_part.done',
        'response.output_item.done',
        'conversation.item.done',
        'response.done',
      ]);
      const response = done.response as Json;
      assert.equal(response.status, 'cancelled');
      assert.deepEqual(response.status_details, { type: 'cancelled', reason: 'client_cancelled' });
      const items = response.output as Json[];
      assert.equal(items.length, 1);
      assert.equal(items[0]?.status, 'incomplete');
      const transcriptDone = client.events.find((event) => event.type === 'response.output_audio_transcript.done') as Json;
      assert.notEqual(transcriptDone.transcript, 'one two three four five six seven eight nine ten');

      client.send({ type: 'response.cancel', event_id: 'again' });
      const error = await client.next('error');
      assert.deepEqual(error.error, {
        type: 'invalid_request_error',
        code: 'response_cancel_not_active',
        message: 'Cancellation failed: no active response found',
        param: null,
        event_id: 'again',
      });
      await client.close();
    });
  });

  test('barge-in: speech while a response is producing cancels it with reason turn_detected', async () => {
    await withServer({ respond: longAudio, generationSpeed: 5 }, async (server) => {
      const client = await rawClient(server.url);
      await client.next('session.created');
      client.send({ type: 'session.update', session: MULAW_SESSION });
      await client.next('session.updated');
      client.send({ type: 'response.create' });
      await client.next('response.output_audio.delta');
      client.send({ type: 'input_audio_buffer.append', audio: toneAudio('audio/pcmu', 100).toString('base64') });
      await client.next('input_audio_buffer.speech_started');
      const done = await client.next('response.done');
      assert.deepEqual((done.response as Json).status_details, { type: 'cancelled', reason: 'turn_detected' });
      const order = withoutDeltas(client.events);
      const started = order.indexOf('input_audio_buffer.speech_started');
      assert.deepEqual(order.slice(started, started + 7), [
        'input_audio_buffer.speech_started',
        'response.output_audio.done',
        'response.output_audio_transcript.done',
        'response.content_part.done',
        'response.output_item.done',
        'conversation.item.done',
        'response.done',
      ]);
      await client.close();
    });
  });

  test('truncate: unknown item, user item, too long → errors; within the audio → truncated', async () => {
    await withServer({ respond: () => [{ type: 'audio', transcript: 'Hello there', audioMs: 1000 }], generationSpeed: Infinity }, async (server) => {
      const client = await rawClient(server.url);
      await client.next('session.created');
      client.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] } });
      const user = await client.next('conversation.item.added');
      client.send({ type: 'response.create' });
      const outputDone = await client.next('response.output_item.done');
      await client.next('response.done');
      const assistantId = String((outputDone.item as Json).id);

      const truncate = (item_id: string, audio_end_ms: number, event_id: string): void =>
        client.send({ type: 'conversation.item.truncate', item_id, content_index: 0, audio_end_ms, event_id });

      truncate('item_doesNotExist00000000', 100, 't1');
      let error = (await client.next('error')).error as Json;
      assert.deepEqual([error.code, error.param, error.event_id], ['item_truncate_invalid_item_id', 'item_id', 't1']);

      truncate(String((user.item as Json).id), 100, 't2');
      error = (await client.next('error')).error as Json;
      assert.deepEqual([error.code, error.message], ['unsupported_content_type', 'Only model output audio messages can be truncated']);

      truncate(assistantId, 1500, 't3');
      error = (await client.next('error')).error as Json;
      assert.deepEqual([error.code, error.param, error.message], [
        'invalid_value',
        'audio_end_ms',
        'Audio content of 1000ms is already shorter than 1500ms',
      ]);

      truncate(assistantId, 400, 't4');
      const truncated = await client.next('conversation.item.truncated');
      assert.deepEqual({ ...truncated, event_id: 'x' }, {
        type: 'conversation.item.truncated',
        event_id: 'x',
        item_id: assistantId,
        content_index: 0,
        audio_end_ms: 400,
      });
      // The transcript is deleted so unheard text does not stay in context.
      client.send({ type: 'conversation.item.retrieve', item_id: assistantId });
      const retrieved = await client.next('conversation.item.retrieved');
      assert.deepEqual((retrieved.item as Json).content, [{ type: 'output_audio', transcript: '' }]);
      // Truncating again past the new end fails.
      truncate(assistantId, 500, 't5');
      error = (await client.next('error')).error as Json;
      assert.equal(error.code, 'invalid_value');
      await client.close();
    });
  });
});

describe('fake realtime server: test controls', () => {
  test("vad 'manual': audio alone triggers nothing; speechStarted()/speechStopped() run the turn", async () => {
    await withServer(
      { vad: 'manual', generationSpeed: Infinity, respond: () => [{ type: 'text', text: 'ok' }] },
      async (server) => {
        const client = await rawClient(server.url);
        await client.next('session.created');
        const session = await server.waitForSession(0);
        client.send({ type: 'input_audio_buffer.append', audio: toneAudio('audio/pcm', 300).toString('base64') });
        await session.waitForReceived('input_audio_buffer.append');
        assert.equal(Math.round(session.inputAudioMs), 300);
        assert.equal(client.events.length, 1);
        session.speechStarted();
        const started = await client.next('input_audio_buffer.speech_started');
        assert.equal(started.audio_start_ms, 0);
        session.speechStopped();
        const stopped = await client.next('input_audio_buffer.speech_stopped');
        assert.equal(stopped.audio_end_ms, 300);
        assert.equal(stopped.item_id, started.item_id);
        await client.next('input_audio_buffer.committed');
        await client.next('response.done');
        assert.equal(session.items.length, 2);
        await client.close();
      },
    );
  });

  test('a null transcript gives input_audio_transcription.failed', async () => {
    await withServer({ vad: 'manual', transcripts: [null], respond: () => [] }, async (server) => {
      const client = await rawClient(server.url);
      await client.next('session.created');
      client.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { transcription: { model: 'whisper-1' } } } } });
      await client.next('session.updated');
      (await server.waitForSession(0)).speechStopped();
      const failed = await client.next('conversation.item.input_audio_transcription.failed');
      assert.equal(failed.content_index, 0);
      assert.equal((failed.error as Json).type, 'server_error');
      await client.close();
    });
  });

  test('respond() sees the response.create instructions, metadata and conversation', async () => {
    const seen: unknown[] = [];
    await withServer(
      {
        generationSpeed: Infinity,
        respond: (ctx) => {
          seen.push([ctx.trigger, ctx.instructions, ctx.metadata, ctx.conversation, ctx.index]);
          return [{ type: 'audio', transcript: 'Hi', audioMs: 100 }];
        },
      },
      async (server) => {
        const client = await rawClient(server.url);
        await client.next('session.created');
        client.send({
          type: 'response.create',
          response: { instructions: 'Greet', metadata: { koe_purpose: 'greeting' }, conversation: 'none' },
        });
        const done = await client.next('response.done');
        assert.deepEqual(seen, [['client', 'Greet', { koe_purpose: 'greeting' }, 'none', 0]]);
        assert.deepEqual((done.response as Json).metadata, { koe_purpose: 'greeting' });
        // Out of band: no conversation items.
        assert.equal(client.events.some((event) => event.type === 'conversation.item.added'), false);
        assert.equal((await server.waitForSession(0)).items.length, 0);
        await client.close();
      },
    );
  });
});

describe('fake realtime server: upgrade handling and lifetime', () => {
  test('refuses a wrong API key with 401 and refuseNext with the status asked for', async () => {
    await withServer({ apiKey: 'sk-test' }, async (server) => {
      const status = (headers: Record<string, string>): Promise<number> =>
        new Promise((resolve, reject) => {
          const ws = new WebSocket(server.url, { headers });
          ws.on('unexpected-response', (_req, res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
            ws.terminate();
          });
          ws.on('open', () => {
            ws.terminate();
            resolve(101);
          });
          ws.on('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
        });
      assert.equal(await status({ Authorization: 'Bearer wrong' }), 401);
      assert.equal(await status({}), 401);
      server.refuseNext(1, 503);
      assert.equal(await status({ Authorization: 'Bearer sk-test' }), 503);
      assert.equal(await status({ Authorization: 'Bearer sk-test' }), 101);
    });
  });

  test('close() stops responses in flight and releases every socket and timer', async () => {
    const server = await startFakeRealtimeServer({ generationSpeed: 1, respond: () => [{ type: 'audio', transcript: 'long', audioMs: 60_000 }] });
    const client = await rawClient(server.url);
    await client.next('session.created');
    client.send({ type: 'response.create' });
    await client.next('response.output_audio.delta');
    const closed = new Promise<void>((resolve) => client.ws.once('close', () => resolve()));
    await server.close();
    await closed;
    assert.equal(server.connections, 0);
    assert.equal(server.openSockets, 0);
  });
});
