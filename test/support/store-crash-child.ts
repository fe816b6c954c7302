// A process that takes one synthetic call through the store in real time, for the crash test to kill.
// Usage: node --import tsx store-crash-child.ts '<json options>'
// Prints one JSON line per step on stdout:
//   {"ready":true}                    the call row is written
//   {"turn":n,"handedAtMs":…}         turn n was just handed to the writer (write() returned)
//   {"durable":n,"afterMs":…}         turn n's transaction committed, afterMs after it was handed over
import { createLogger } from '../../src/log/logger.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { openStore } from '../../src/store/index.js';
import type { CallEvent, CallInfo } from '../../src/call/call-events.js';

interface ChildOptions {
  dataDir?: string;
  databaseUrl?: string;
  recordingsDir: string;
  processId: string;
  callId: string;
  turnIntervalMs: number;
  turns: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const say = (line: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

const store = await openStore({
  databaseUrl: options.databaseUrl,
  dataDir: options.dataDir ?? 'memory://',
  recordingsDir: options.recordingsDir,
  processId: options.processId,
  log: createLogger({ level: 'warn', destination: process.stderr }),
  metrics: createMetrics(),
  // Short heartbeats so the parent can watch the PostgreSQL rule act within a second or two.
  abandonAfterMs: 1_000,
});

const startedAtMs = Date.now();
const info: CallInfo = {
  callId: options.callId,
  callSid: `CA${options.callId}`,
  streamSid: `MZ${options.callId}`,
  accountSid: 'AC0',
  agentId: 'crash-test',
  agentVersion: null,
  direction: 'inbound',
  from: '+15550000001',
  to: '+15550000002',
  model: { url: 'ws://127.0.0.1:5050/v1/realtime', model: 'koe', shape: 'ga' },
  recording: false,
};
const event = (body: Record<string, unknown>): CallEvent => {
  const atMs = Date.now() - startedAtMs;
  return { callId: info.callId, callSid: info.callSid, atMs, at: new Date().toISOString(), ...body } as CallEvent;
};

store.writer.write(event({ type: 'call.started', call: info, variables: {} }));
await store.writer.flush();
say({ ready: true });

for (let n = 1; n <= options.turns; n++) {
  await new Promise((resolve) => setTimeout(resolve, options.turnIntervalMs));
  const atMs = Date.now() - startedAtMs;
  // Partial transcripts and states stream in while a turn is in progress; only the finished turn is stored.
  store.writer.write(event({ type: 'transcript.partial', role: 'user', itemId: `item_${n}`, text: 'partial' }));
  const turn =
    n % 2 === 1
      ? { type: 'turn.user', itemId: `item_${n}`, text: `caller turn ${n}`, startedAtMs: atMs - 50, endedAtMs: atMs, source: 'speech' }
      : {
          type: 'turn.assistant',
          itemId: `item_${n}`,
          responseId: `resp_${n}`,
          text: `agent turn ${n}`,
          heardText: `agent turn ${n}`,
          interrupted: false,
          audioMs: 50,
          heardMs: 50,
          startedAtMs: atMs - 50,
          endedAtMs: atMs,
          latencyMs: 300,
          greeting: false,
        };
  const handedAtMs = performance.now();
  store.writer.write(event(turn));
  say({ turn: n, handedAtMs });
  // Not awaited by the call; here only to report how soon the turn was committed.
  store.writer.flush().then(
    () => say({ durable: n, afterMs: performance.now() - handedAtMs }),
    () => undefined,
  );
}
await store.close();
say({ done: true });
