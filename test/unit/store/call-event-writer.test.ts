import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CallEvent, TokenUsage } from '../../../src/call/call-events.js';
import { createMetrics } from '../../../src/metrics/metrics.js';
import {
  DatabaseCallEventWriter,
  estimateCostUsd,
  MAX_EVENTS_PER_CALL,
  type CallDetail,
  type CallEventRecord,
  type KoeStore,
} from '../../../src/store/index.js';
import { testDatabases } from '../../support/databases.js';
import { CallScript, callInfo, capturingLog, FaultyDatabase, metricValue, quietLog, storeForSuite, T0_MS, usage } from './store-fixtures.js';

/** Polls `check` until it holds; fails with `what` after `timeoutMs`. */
async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function sumUsage(...parts: TokenUsage[]): TokenUsage {
  const total = usage({});
  for (const p of parts) for (const key of Object.keys(total) as (keyof TokenUsage)[]) total[key] += p[key];
  return total;
}

/** A whole call, as CallSession emits it, including what must not be stored. */
function syntheticCall(script = new CallScript(callInfo({ recording: true }))) {
  const s = script;
  const u1 = usage({ inputTextTokens: 500, outputTextTokens: 20, outputAudioTokens: 100 });
  const u2 = usage({ inputTextTokens: 600, inputAudioTokens: 200, cachedTokens: 400, outputTextTokens: 30, outputAudioTokens: 150 });
  const total = sumUsage(u1, u2);
  const events: CallEvent[] = [
    s.started(),
    s.event(10, { type: 'agent.state', state: 'speaking' }),
    s.event(500, { type: 'transcript.partial', role: 'assistant', itemId: 'item_a3100', text: 'Hello' }),
    s.assistant(3100, 'Hello, thanks for calling Koe.', { greeting: true }),
    s.event(3101, { type: 'model.usage', responseId: 'resp_3100', usage: u1 }),
    s.event(3200, { type: 'agent.state', state: 'listening' }),
    s.event(4000, { type: 'transcript.partial', role: 'user', itemId: 'item_u4500.7', text: 'I would' }),
    s.user(4500.7, 'I would like a refund for order 1234'),
    s.event(5000, { type: 'tool.called', toolCallId: 'call_1', name: 'lookup_order', arguments: { orderId: '1234' } }),
    s.event(5120, { type: 'tool.result', toolCallId: 'call_1', name: 'lookup_order', ok: true, output: '{"status":"shipped"}', durationMs: 120 }),
    s.assistant(9000, 'Your order shipped yesterday and should arrive tomorrow.', { heardText: 'Your order shipped yesterday', latencyMs: 640 }),
    s.event(9001, { type: 'barge_in', itemId: 'item_a9000', heardMs: 1500, sentMs: 2500, truncated: true }),
    s.event(9100, { type: 'model.usage', responseId: 'resp_9000', usage: u2 }),
    s.event(9500.4, { type: 'dtmf.received', digits: '1#' }),
    s.user(11000, '1#', 'dtmf'),
    s.ended(12000, total, 'agent_hung_up'),
  ];
  return { script: s, events, total };
}

function expectedEvents(events: readonly CallEvent[]): CallEventRecord[] {
  return events
    .filter((e) => e.type !== 'transcript.partial' && e.type !== 'agent.state')
    .map((e, i) => {
      const { type, callId, callSid: _callSid, atMs, at, ...data } = e;
      return { callId, seq: i + 1, type, atMs: Math.round(atMs), at, data: JSON.parse(JSON.stringify(data)) as Record<string, unknown> };
    });
}

function expectedDetail(store: KoeStore, script: CallScript, events: readonly CallEvent[], total: TokenUsage): CallDetail {
  const callId = script.callId;
  const info = script.info;
  return {
    call: {
      id: callId,
      callSid: info.callSid,
      streamSid: info.streamSid,
      direction: 'inbound',
      from: '+15551234567',
      to: '+15557654321',
      agentId: 'receptionist',
      agentVersion: 3,
      backend: 'openai',
      model: 'gpt-realtime',
      apiShape: 'ga',
      status: 'ended',
      endReason: 'agent_hung_up',
      startedAt: new Date(T0_MS).toISOString(),
      endedAt: new Date(T0_MS + 12_000).toISOString(),
      durationMs: 12_000,
      usage: total,
      // text in 1100 (338.46 cached), audio in 200 (61.54 cached), text out 50, audio out 250 at gpt-realtime prices
      costUsd: 0.024437,
      hasRecording: true,
      variables: { customerName: 'Aiko' },
      twilioStatus: null,
      processId: store.processId,
      turnCount: 4,
      dialedAt: null,
      answeredBy: null,
      error: null,
      campaignId: null,
      contactId: null,
      attempt: null,
    },
    turns: [
      { callId, seq: 1, role: 'assistant', itemId: 'item_a3100', text: 'Hello, thanks for calling Koe.', heardText: 'Hello, thanks for calling Koe.', interrupted: false, source: 'greeting', startedAtMs: 100, endedAtMs: 3100, latencyMs: null, audioMs: 3000, heardMs: 3000 },
      { callId, seq: 2, role: 'user', itemId: 'item_u4500.7', text: 'I would like a refund for order 1234', heardText: null, interrupted: false, source: 'speech', startedAtMs: 3001, endedAtMs: 4501, latencyMs: null, audioMs: null, heardMs: null },
      { callId, seq: 3, role: 'assistant', itemId: 'item_a9000', text: 'Your order shipped yesterday and should arrive tomorrow.', heardText: 'Your order shipped yesterday', interrupted: true, source: 'reply', startedAtMs: 6000, endedAtMs: 9000, latencyMs: 640, audioMs: 3000, heardMs: 1500 },
      { callId, seq: 4, role: 'user', itemId: 'item_u11000', text: '1#', heardText: null, interrupted: false, source: 'dtmf', startedAtMs: 9500, endedAtMs: 11000, latencyMs: null, audioMs: null, heardMs: null },
    ],
    toolCalls: [
      { callId, toolCallId: 'call_1', name: 'lookup_order', arguments: { orderId: '1234' }, ok: true, output: '{"status":"shipped"}', durationMs: 120, calledAtMs: 5000 },
    ],
    events: expectedEvents(events),
  };
}

function writerOn(store: KoeStore, db: FaultyDatabase, options: { queueLimit?: number; log?: ReturnType<typeof capturingLog>['log'] } = {}) {
  const metrics = createMetrics();
  const writer = new DatabaseCallEventWriter({
    db,
    log: options.log ?? quietLog,
    metrics,
    processId: store.processId,
    queueLimit: options.queueLimit,
    retryFirstMs: 5,
    retryMaxMs: 40,
  });
  return { writer, metrics };
}

for (const backend of testDatabases()) {
  describe(`call event writer on ${backend.name}`, () => {
    const opened = storeForSuite(backend);

    test('a whole call becomes exactly the expected record: turns, heard text, tools, usage, cost, bounded events', async () => {
      const { store, metrics } = opened();
      const { script, events, total } = syntheticCall();
      for (const event of events) store.writer.write(event);
      await store.writer.flush();
      assert.equal(store.writer.queuedWrites, 0);
      const detail = await store.calls.get(script.callId);
      assert.deepEqual(detail, expectedDetail(store, script, events, total));
      assert.equal(detail?.call.costUsd, estimateCostUsd('openai', 'gpt-realtime', total));
      assert.ok(!detail?.events.some((e) => e.type === 'transcript.partial' || e.type === 'agent.state'));
      assert.ok((await metricValue(metrics, 'koe_store_writes_total', { outcome: 'written' })) >= 20);
      assert.equal(await metricValue(metrics, 'koe_store_queue_depth'), 0);
    });

    test('a call in progress is readable as it goes: active, its finished turns, running usage and cost', async () => {
      const { store } = opened();
      const s = new CallScript(callInfo({ model: { url: 'ws://127.0.0.1:5050/v1/realtime', model: 'koe', shape: 'ga' } }));
      store.writer.write(s.started());
      store.writer.write(s.user(2000, 'hello?'));
      store.writer.write(s.event(2500, { type: 'model.usage', responseId: 'r1', usage: usage({ outputAudioTokens: 40 }) }));
      await store.writer.flush();
      const detail = await store.calls.get(s.callId);
      assert.equal(detail?.call.status, 'active');
      assert.equal(detail?.call.backend, 'engine');
      assert.equal(detail?.call.costUsd, 0, 'the built-in engine costs nothing');
      assert.deepEqual(detail?.call.usage, usage({ outputAudioTokens: 40 }));
      assert.deepEqual(detail?.turns.map((t) => t.text), ['hello?']);
      assert.equal(detail?.call.endedAt, null);
    });

    test('interleaved calls keep their own order and numbering', async () => {
      const { store } = opened();
      const a = new CallScript();
      const b = new CallScript();
      store.writer.write(a.started());
      store.writer.write(b.started());
      for (let i = 1; i <= 5; i++) {
        store.writer.write(a.user(i * 1000, `a${i}`));
        store.writer.write(b.user(i * 1000, `b${i}`));
        store.writer.write(b.assistant(i * 1000 + 500, `b${i} reply`));
      }
      store.writer.write(b.ended(9000, usage({})));
      store.writer.write(a.ended(9000, usage({})));
      await store.writer.flush();
      const [da, db] = await Promise.all([store.calls.get(a.callId), store.calls.get(b.callId)]);
      assert.deepEqual(da?.turns.map((t) => [t.seq, t.text]), [1, 2, 3, 4, 5].map((i) => [i, `a${i}`]));
      assert.deepEqual(db?.turns.map((t) => t.text), [1, 2, 3, 4, 5].flatMap((i) => [`b${i}`, `b${i} reply`]));
      assert.deepEqual(db?.turns.map((t) => t.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.equal(da?.call.status, 'ended');
      assert.equal(db?.call.turnCount, 10);
      assert.equal(db?.events.at(-1)?.type, 'call.ended');
    });

    test('a batch retried after its COMMIT answer was lost writes nothing twice', async () => {
      const { store } = opened();
      const faulty = new FaultyDatabase(store.db);
      const { writer, metrics } = writerOn(store, faulty);
      faulty.failAfterCommit = true;
      const { script, events, total } = syntheticCall();
      for (const event of events) writer.write(event);
      await writer.flush();
      assert.ok(faulty.transactions >= 2, 'the batch was written twice');
      assert.ok((await metricValue(metrics, 'koe_store_writes_total', { outcome: 'retried' })) > 0);
      assert.deepEqual(await store.calls.get(script.callId), expectedDetail(store, script, events, total));
    });

    test('a batch that fails halfway is rolled back and written again whole', async () => {
      const { store } = opened();
      const faulty = new FaultyDatabase(store.db);
      const { writer } = writerOn(store, faulty);
      faulty.failAtQuery = 7;
      const { script, events, total } = syntheticCall();
      for (const event of events) writer.write(event);
      await writer.flush();
      assert.equal(faulty.failures, 1);
      assert.deepEqual(await store.calls.get(script.callId), expectedDetail(store, script, events, total));
    });

    test('while the database is down calls go on: writes queue, are retried with backoff, and land when it is back', async () => {
      const { store } = opened();
      const faulty = new FaultyDatabase(store.db);
      const { log, lines } = capturingLog();
      const { writer, metrics } = writerOn(store, faulty, { log });
      faulty.down = true;
      const { script, events, total } = syntheticCall();
      for (const event of events) writer.write(event); // returns at once: nothing here waits on the database
      assert.ok(writer.queuedWrites > 0);
      await waitUntil('three attempts failed', () => faulty.failures >= 3);
      assert.equal(await store.calls.get(script.callId), undefined);
      assert.ok((await metricValue(metrics, 'koe_store_queue_depth')) > 0);
      assert.ok(lines.some((l) => l.level === 40 && /call events stay queued and are retried/.test(String(l.msg))), 'the outage is logged once');
      faulty.down = false;
      await writer.flush();
      assert.deepEqual(await store.calls.get(script.callId), expectedDetail(store, script, events, total));
      assert.ok(lines.some((l) => /database writes recovered/.test(String(l.msg))));
      assert.equal(lines.filter((l) => /stay queued and are retried/.test(String(l.msg))).length, 1, 'no log line per retry');
    });

    test('a full queue sheds the oldest events first and keeps turns and call rows', async () => {
      const { store } = opened();
      const faulty = new FaultyDatabase(store.db);
      const { log, lines } = capturingLog();
      const { writer, metrics } = writerOn(store, faulty, { queueLimit: 14, log });
      faulty.down = true;
      const s = new CallScript();
      writer.write(s.started()); // 2 operations: the call row, its event
      for (let i = 1; i <= 5; i++) writer.write(s.user(i * 1000, `turn ${i}`)); // 10: five turns, five events
      for (let i = 1; i <= 6; i++) writer.write(s.event(6000 + i, { type: 'dtmf.received', digits: String(i) })); // sheds the oldest events
      writer.write(s.ended(9000, usage({})));
      assert.equal(writer.queuedWrites, 14);
      const dropped = await metricValue(metrics, 'koe_store_dropped_writes_total', { kind: 'event' });
      assert.ok(dropped >= 6, `${dropped} events dropped`);
      for (const kind of ['turn', 'call', 'tool', 'usage']) assert.equal(await metricValue(metrics, 'koe_store_dropped_writes_total', { kind }), 0, kind);
      assert.ok(lines.some((l) => /call-event writes dropped/.test(String(l.msg))), 'the drops are logged');

      faulty.down = false;
      await writer.flush();
      const detail = await store.calls.get(s.callId);
      assert.deepEqual(detail?.turns.map((t) => t.text), ['turn 1', 'turn 2', 'turn 3', 'turn 4', 'turn 5']);
      assert.equal(detail?.call.status, 'ended');
      const types = detail?.events.map((e) => e.type) ?? [];
      assert.ok(!types.includes('call.started'), 'the oldest event went first');
      assert.equal(types.at(-1), 'call.ended', 'the newest are kept');
    });

    test('when only turns and call rows are queued, turns go before call rows', async () => {
      const { store } = opened();
      const faulty = new FaultyDatabase(store.db);
      const { writer, metrics } = writerOn(store, faulty, { queueLimit: 3 });
      faulty.down = true;
      const s = new CallScript();
      writer.write(s.started()); // call row + event
      writer.write(s.user(1000, 'first')); // turn + event: sheds both events... then
      writer.write(s.user(2000, 'second')); // turn: sheds the event; its own event is shed or refused
      writer.write(s.ended(3000, usage({}))); // call row update: sheds the oldest turn
      assert.ok((await metricValue(metrics, 'koe_store_dropped_writes_total', { kind: 'turn' })) >= 1);
      assert.equal(await metricValue(metrics, 'koe_store_dropped_writes_total', { kind: 'call' }), 0);
      faulty.down = false;
      await writer.flush();
      const detail = await store.calls.get(s.callId);
      assert.equal(detail?.call.status, 'ended');
      assert.deepEqual(detail?.turns.map((t) => [t.seq, t.text]), [[2, 'second']], 'numbering stays stable when a turn is shed');
    });

    test('events are bounded per call; the end is always kept, with how many were left out', async () => {
      const { store } = opened();
      const s = new CallScript();
      store.writer.write(s.started());
      for (let i = 0; i < 600; i++) store.writer.write(s.event(100 + i, { type: 'dtmf.received', digits: String(i % 10) }));
      store.writer.write(s.user(800, 'still stored'));
      store.writer.write(s.ended(900, usage({})));
      await store.writer.flush();
      const detail = await store.calls.get(s.callId);
      assert.ok(detail && detail.events.length <= MAX_EVENTS_PER_CALL);
      assert.equal(detail?.events.length, 491);
      const last = detail?.events.at(-1);
      assert.equal(last?.type, 'call.ended');
      assert.equal(last?.data.eventsOmitted, 600 - 489 + 1);
      assert.deepEqual(detail?.turns.map((t) => t.text), ['still stored'], 'turns are never capped');
    });

    test('an operation the database refuses is dropped alone; the rest of its batch is written', async () => {
      const { store } = opened();
      const { log, lines } = capturingLog();
      const { writer, metrics } = writerOn(store, new FaultyDatabase(store.db), { log });
      const s = new CallScript();
      writer.write(s.started());
      writer.write({ ...s.event(100, { type: 'dtmf.received', digits: '5' }), at: 'not a time' });
      writer.write(s.user(1000, 'kept'));
      writer.write({ ...s.user(2000, 'also kept'), text: 'nul\u0000 bytes are stripped' } as CallEvent);
      await writer.flush();
      const detail = await store.calls.get(s.callId);
      assert.deepEqual(detail?.turns.map((t) => t.text), ['kept', 'nul bytes are stripped']);
      assert.deepEqual(detail?.events.map((e) => e.type), ['call.started', 'turn.user', 'turn.user']);
      assert.equal(await metricValue(metrics, 'koe_store_writes_total', { outcome: 'rejected' }), 1);
      assert.ok(lines.some((l) => l.level === 50 && /refused a call-event write/.test(String(l.msg))));
    });

    test('events arriving after the end still get the next numbers; a result without its call is kept', async () => {
      const { store } = opened();
      const s = new CallScript();
      store.writer.write(s.started());
      store.writer.write(s.ended(1000, usage({})));
      store.writer.write(s.event(1100, { type: 'tool.result', toolCallId: 't9', name: 'hang_up', ok: true, output: 'bye', durationMs: 300 }));
      await store.writer.flush();
      const detail = await store.calls.get(s.callId);
      assert.deepEqual(detail?.events.map((e) => [e.seq, e.type]), [
        [1, 'call.started'],
        [2, 'call.ended'],
        [3, 'tool.result'],
      ]);
      assert.deepEqual(detail?.toolCalls, [
        { callId: s.callId, toolCallId: 't9', name: 'hang_up', arguments: null, ok: true, output: 'bye', durationMs: 300, calledAtMs: 800 },
      ]);
    });

    test('writes for a call whose row never made it are ignored, not retried forever', async () => {
      const { store } = opened();
      const s = new CallScript();
      store.writer.write(s.user(1000, 'orphan'));
      store.writer.write(s.event(1100, { type: 'dtmf.received', digits: '1' }));
      await store.writer.flush();
      assert.equal(await store.calls.get(s.callId), undefined);
      assert.equal(store.writer.queuedWrites, 0);
    });

    test('close writes what is queued; later writes are dropped and counted', async () => {
      const { store } = opened();
      const faulty = new FaultyDatabase(store.db);
      const { writer, metrics } = writerOn(store, faulty);
      const s = new CallScript();
      writer.write(s.started());
      writer.write(s.user(1000, 'before close'));
      await writer.close(5_000);
      assert.deepEqual((await store.calls.get(s.callId))?.turns.map((t) => t.text), ['before close']);
      writer.write(s.user(2000, 'after close'));
      assert.equal(writer.queuedWrites, 0);
      assert.ok((await metricValue(metrics, 'koe_store_dropped_writes_total', { kind: 'closed' })) >= 1);
    });

    test('close gives up on a database that stays down, counting what is lost', async () => {
      const { store } = opened();
      const faulty = new FaultyDatabase(store.db);
      const { writer, metrics } = writerOn(store, faulty);
      faulty.down = true;
      const s = new CallScript();
      writer.write(s.started());
      writer.write(s.user(1000, 'lost'));
      await writer.close(100);
      assert.equal(await metricValue(metrics, 'koe_store_dropped_writes_total', { kind: 'shutdown' }), 4);
      assert.equal(writer.queuedWrites, 0);
    });
  });
}
