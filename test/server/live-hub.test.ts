// The live hub on its own: snapshots (bounded, partial transcripts coalesced), fan-out, and the trip across
// processes over a LISTEN/NOTIFY bus (an in-memory one here; the real PostgreSQL one is in live.test.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CallEvent, CallEventBody } from '../../src/call/call-events.js';
import { CallEventHub } from '../../src/call/call-event-hub.js';
import { emptyUsage } from '../../src/call/call-events.js';
import type { LiveEnvelope } from '../../src/live/live-hub.js';
import { encodeEventNotification, encodeHeartbeats, LiveHub, MAX_NOTIFY_PAYLOAD_BYTES, TRUNCATION_MARK } from '../../src/live/live-hub.js';
import { createLogger } from '../../src/log/logger.js';

const log = createLogger({ level: 'silent' });

/** PostgreSQL's LISTEN/NOTIFY in memory: every listener (ours included) gets every payload, in order, later. */
class FakeNotifyBus {
  readonly listeners = new Set<(payload: string) => void>();
  readonly sent: string[] = [];
  failNext = 0;

  db() {
    return {
      listen: async (_channel: string, onPayload: (payload: string) => void) => {
        this.listeners.add(onPayload);
        return async () => {
          this.listeners.delete(onPayload);
        };
      },
      notify: async (_channel: string, payload: string) => {
        if (this.failNext > 0) {
          this.failNext -= 1;
          throw new Error('connection lost');
        }
        assert.ok(Buffer.byteLength(payload) < MAX_NOTIFY_PAYLOAD_BYTES, `payload of ${Buffer.byteLength(payload)} bytes`);
        this.sent.push(payload);
        await new Promise((done) => setImmediate(done));
        for (const listener of this.listeners) listener(payload);
      },
    };
  }
}

function event(callId: string, body: CallEventBody, atMs = 0): CallEvent {
  return { callId, callSid: `CA${callId}`, atMs, at: new Date(1_700_000_000_000 + atMs).toISOString(), ...body } as CallEvent;
}

function started(callId: string): CallEvent {
  return event(callId, {
    type: 'call.started',
    call: {
      callId,
      callSid: `CA${callId}`,
      streamSid: `MZ${callId}`,
      accountSid: 'AC1',
      agentId: 'tester',
      agentVersion: 1,
      direction: 'inbound',
      from: '+15550001111',
      to: undefined,
      model: { url: 'ws://x', model: 'm', shape: 'ga' },
      recording: false,
    },
    variables: {},
  });
}

function partial(callId: string, itemId: string, text: string): CallEvent {
  return event(callId, { type: 'transcript.partial', role: 'assistant', itemId, text });
}

function ended(callId: string): CallEvent {
  return event(callId, { type: 'call.ended', reason: 'caller_hung_up', durationMs: 1000, usage: emptyUsage() });
}

function collect(hub: LiveHub): LiveEnvelope[] {
  const seen: LiveEnvelope[] = [];
  hub.subscribe((envelope) => seen.push(envelope));
  return seen;
}

async function until(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((done) => setTimeout(done, 5));
  }
}

describe('live hub (one process)', () => {
  test('snapshot keeps running calls, coalesces partial transcripts to the latest per item, forgets ended calls', async () => {
    const events = new CallEventHub(log);
    const live = new LiveHub({ events, processId: 'p1', log });
    await live.start();
    const seen = collect(live);
    events.publish(started('a'));
    events.publish(partial('a', 'item1', 'Hel'));
    events.publish(partial('a', 'item1', 'Hello th'));
    events.publish(partial('a', 'item2', 'Hi'));
    events.publish(partial('a', 'item1', 'Hello there'));
    events.publish(started('b'));

    const snapshot = live.snapshot();
    assert.deepEqual(snapshot.map((c) => c.processId), ['p1', 'p1']);
    const a = snapshot[0]?.events ?? [];
    assert.deepEqual(
      a.map((e) => (e.type === 'transcript.partial' ? `${e.itemId}:${e.text}` : e.type)),
      ['call.started', 'item2:Hi', 'item1:Hello there'],
    );
    // Subscribers get every event as it happened, partials included.
    assert.equal(seen.length, 6);

    events.publish(ended('a'));
    assert.deepEqual(live.snapshot().map((c) => c.events[0]?.callId), ['b']);
    assert.equal(seen.at(-1)?.event.type, 'call.ended');
    await live.close();
  });

  test('a long call keeps call.started and its latest events within the bound', async () => {
    const events = new CallEventHub(log);
    const live = new LiveHub({ events, processId: 'p1', log, maxEventsPerCall: 10 });
    await live.start();
    events.publish(started('a'));
    for (let i = 0; i < 50; i += 1) events.publish(event('a', { type: 'dtmf.received', digits: String(i % 10) }, i));
    const [call] = live.snapshot();
    assert.equal(call?.events.length, 10);
    assert.equal(call?.events[0]?.type, 'call.started');
    assert.deepEqual(call?.events.slice(1).map((e) => e.atMs), [41, 42, 43, 44, 45, 46, 47, 48, 49]);
    await live.close();
  });

  test('a throwing subscriber does not stop the others', async () => {
    const events = new CallEventHub(log);
    const live = new LiveHub({ events, processId: 'p1', log });
    await live.start();
    live.subscribe(() => {
      throw new Error('boom');
    });
    const seen = collect(live);
    events.publish(started('a'));
    assert.equal(seen.length, 1);
    await live.close();
  });
});

describe('live hub across processes', () => {
  test('events of one process reach the other in order; own notifications are ignored; ended calls leave snapshots', async () => {
    const bus = new FakeNotifyBus();
    const eventsA = new CallEventHub(log);
    const eventsB = new CallEventHub(log);
    const a = new LiveHub({ events: eventsA, processId: 'A', log, db: bus.db() });
    const b = new LiveHub({ events: eventsB, processId: 'B', log, db: bus.db() });
    await a.start();
    await b.start();
    const seenA = collect(a);
    const seenB = collect(b);

    eventsA.publish(started('x'));
    for (let i = 0; i < 20; i += 1) eventsA.publish(event('x', { type: 'dtmf.received', digits: String(i % 10) }, i + 1));
    await until(() => seenB.length === 21);
    assert.deepEqual(seenB.map((e) => e.processId), Array(21).fill('A'));
    assert.deepEqual(seenB.slice(1).map((e) => e.event.atMs), Array.from({ length: 20 }, (_, i) => i + 1));
    // A heard its own notifications on the bus and did not count them twice.
    assert.equal(seenA.length, 21);
    assert.deepEqual(b.snapshot().map((c) => [c.processId, c.events.length]), [['A', 21]]);

    eventsA.publish(ended('x'));
    await until(() => seenB.length === 22);
    assert.deepEqual(b.snapshot(), []);
    await a.close();
    await b.close();
  });

  test('partial transcripts waiting to be sent are coalesced; a failed NOTIFY is counted and the rest still go', async () => {
    const bus = new FakeNotifyBus();
    const events = new CallEventHub(log);
    const a = new LiveHub({ events, processId: 'A', log, db: bus.db() });
    await a.start();
    bus.failNext = 1;
    events.publish(started('x')); // sent at once (and fails)
    for (const text of ['H', 'He', 'Hel', 'Hell', 'Hello']) events.publish(partial('x', 'item1', text));
    events.publish(partial('x', 'item2', 'Other'));
    await a.close();
    const sent = bus.sent.map((p) => JSON.parse(p) as { event: CallEvent });
    assert.deepEqual(
      sent.map(({ event: e }) => (e.type === 'transcript.partial' ? e.text : e.type)),
      ['Hello', 'Other'],
    );
    assert.equal(a.stats.failedNotifications, 1);
  });

  test('a remote call not heard of for the stale time leaves snapshots; heartbeats keep a quiet call', async () => {
    let nowMs = 1_000_000;
    const bus = new FakeNotifyBus();
    const eventsA = new CallEventHub(log);
    const a = new LiveHub({ events: eventsA, processId: 'A', log, db: bus.db(), heartbeatMs: 60_000, nowMs: () => nowMs });
    const b = new LiveHub({ events: new CallEventHub(log), processId: 'B', log, db: bus.db(), staleRemoteMs: 30_000, nowMs: () => nowMs });
    await a.start();
    await b.start();
    const seenB = collect(b);
    eventsA.publish(started('quiet'));
    eventsA.publish(started('orphan'));
    await until(() => seenB.length === 2);

    nowMs += 25_000;
    // Only "quiet" is still running on A: its heartbeat refreshes it; "orphan" (its end was lost) is not named.
    for (const payload of encodeHeartbeats('A', ['quiet'])) await bus.db().notify('koe_live', payload);
    nowMs += 25_000;
    assert.deepEqual(b.snapshot().map((c) => c.events[0]?.callId), ['quiet']);
    nowMs += 31_000;
    assert.deepEqual(b.snapshot(), []);
    await a.close();
    await b.close();
  });

  test('garbage on the channel is ignored', async () => {
    const bus = new FakeNotifyBus();
    const b = new LiveHub({ events: new CallEventHub(log), processId: 'B', log, db: bus.db() });
    await b.start();
    const seen = collect(b);
    for (const listener of bus.listeners) {
      listener('not json');
      listener('{"processId":"A"}');
      listener('{"processId":"A","event":{"type":"call.started"}}');
    }
    assert.deepEqual(seen, []);
    assert.deepEqual(b.snapshot(), []);
    await b.close();
  });
});

describe('notification payloads', () => {
  test('a small event goes whole', () => {
    const payload = encodeEventNotification('A', started('a'));
    assert.ok(payload);
    assert.deepEqual(JSON.parse(payload), JSON.parse(JSON.stringify({ processId: 'A', event: started('a') })));
  });

  test('long text is shortened and marked to stay under the NOTIFY limit, multi-byte text included', () => {
    const text = 'こんにちは、'.repeat(3_000); // 18,000 characters, 54,000 bytes
    const turn = event('a', {
      type: 'turn.assistant',
      itemId: 'i',
      responseId: 'r',
      text,
      heardText: text,
      interrupted: false,
      audioMs: 1,
      heardMs: 1,
      startedAtMs: 0,
      endedAtMs: 1,
      latencyMs: null,
      greeting: false,
    });
    const payload = encodeEventNotification('A', turn);
    assert.ok(payload);
    assert.ok(Buffer.byteLength(payload) < MAX_NOTIFY_PAYLOAD_BYTES);
    const decoded = JSON.parse(payload) as { truncated: boolean; event: Extract<CallEvent, { type: 'turn.assistant' }> };
    assert.equal(decoded.truncated, true);
    assert.ok(decoded.event.text.endsWith(TRUNCATION_MARK));
    assert.ok(text.startsWith(decoded.event.text.slice(0, -TRUNCATION_MARK.length)));
    assert.equal(decoded.event.itemId, 'i');
    assert.equal(decoded.event.type, 'turn.assistant');
  });

  test('huge tool arguments (many fields) are cut to fit too', () => {
    const args = Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`field${i}`, 'x'.repeat(40)]));
    const payload = encodeEventNotification('A', event('a', { type: 'tool.called', toolCallId: 't', name: 'lookup', arguments: args }));
    assert.ok(payload && Buffer.byteLength(payload) < MAX_NOTIFY_PAYLOAD_BYTES);
  });

  test('heartbeats for many calls are split under the limit', () => {
    const ids = Array.from({ length: 1_000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const payloads = encodeHeartbeats('A', ids);
    assert.ok(payloads.length > 1);
    for (const p of payloads) assert.ok(Buffer.byteLength(p) < MAX_NOTIFY_PAYLOAD_BYTES);
    assert.deepEqual(payloads.flatMap((p) => (JSON.parse(p) as { alive: string[] }).alive), ids);
  });
});
