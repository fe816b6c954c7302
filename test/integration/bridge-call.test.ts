// The whole call path on real loopback sockets: Twilio webhook → TwiML → media stream → Koe → fake
// Realtime service, in the GA and the beta shape.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import type { ResponseContext } from '../fakes/fake-realtime-server.js';
import { Harness, silence, speechLike } from './harness.js';

const GREETING = 'Hello, this is Koe Test. How can I help?';

function greetThenGoodbye(ctx: ResponseContext) {
  if (ctx.index === 0) return [{ type: 'audio' as const, transcript: String(ctx.metadata?.koe_say ?? 'hello'), audioMs: 600 }];
  return [
    { type: 'audio' as const, transcript: 'Thanks for calling, goodbye!', audioMs: 500 },
    { type: 'function_call' as const, name: 'hang_up', arguments: { reason: 'caller said goodbye' } },
  ];
}

for (const shape of ['ga', 'beta'] as const) {
  describe(`a full call (${shape})`, () => {
    let h: Harness | undefined;
    afterEach(async () => h?.close());

    test('greeting heard whole, caller turn transcribed, reply heard, agent hangs up after the goodbye', async () => {
      h = await Harness.start({
        env: { REALTIME_API_SHAPE: shape },
        agents: [{ id: 'tester', name: 'T', instructions: 'You work for {{companyName}}.', variables: { companyName: 'Koe Test' }, greeting: GREETING, tools: ['hang_up'] }],
        realtime: { respond: greetThenGoodbye, transcripts: ['okay that is all goodbye'] },
      });
      const call = await h.call({ stream: { playbackRate: 4 } });

      const greeting = await h.waitForEvent('turn.assistant', (e) => e.greeting);
      assert.equal(greeting.text, GREETING);
      assert.equal(greeting.heardText, GREETING);
      assert.equal(greeting.interrupted, false);
      assert.equal(greeting.audioMs, 600);
      assert.equal(greeting.heardMs, 600);

      // What the model was told.
      const session = await h.realtime.waitForSession(0);
      const update = session.received.find((e) => e.type === 'session.update');
      assert.ok(update && update.type === 'session.update' && update.session.type === 'realtime');
      assert.deepEqual(update.session.audio?.input?.format, { type: 'audio/pcmu' });
      assert.deepEqual(update.session.audio?.output?.format, { type: 'audio/pcmu' });
      assert.equal(update.session.instructions, 'You work for Koe Test.');
      assert.deepEqual(update.session.tools?.map((t) => (t.type === 'function' ? t.name : t.type)), ['hang_up']);
      if (shape === 'beta') {
        const wire = session.receivedRaw.find((f) => (f.json as { type?: string }).type === 'session.update')?.json as { session: Record<string, unknown> };
        assert.equal(wire.session.input_audio_format, 'g711_ulaw');
        assert.equal(wire.session.output_audio_format, 'g711_ulaw');
      }

      await call.sendAudio(speechLike(700), { pace: 'fast' });
      await call.sendAudio(silence(900), { pace: 'fast' });
      const userTurn = await h.waitForEvent('turn.user');
      assert.equal(userTurn.text, 'okay that is all goodbye');
      assert.equal(userTurn.source, 'speech');

      const reply = await h.waitForEvent('turn.assistant', (e) => !e.greeting);
      assert.equal(reply.text, 'Thanks for calling, goodbye!');
      assert.equal(reply.interrupted, false);
      assert.equal(reply.heardMs, 500);
      assert.ok(reply.latencyMs !== null && reply.latencyMs >= 0, 'latency is measured from the end of the caller speech');

      const ended = await h.waitForEvent('call.ended');
      assert.equal(ended.reason, 'agent_hung_up');
      await call.waitForClose(3000);
      // The goodbye was played to its end before the line closed.
      assert.equal(call.stats.bytesDiscarded, 0);
      assert.equal(call.stats.bytesPlayed, (600 + 500) * 8);
      assert.equal(call.stats.clears, 0);
      assert.deepEqual(call.protocolViolations, []);
      const tool = await h.waitForEvent('tool.called');
      assert.equal(tool.name, 'hang_up');
      // No model session outlives the call.
      await h.realtime.waitFor(() => h?.realtime.connections === 0, 3000);
      assert.ok(ended.usage.outputTokens > 0, 'usage from response.done is summed');
    });
  });
}
