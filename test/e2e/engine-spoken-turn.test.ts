// A spoken turn through Koe's engine with its real models: speech made by a different voice (Debian flite
// "awb"; Koe speaks "slt"), sent as phone audio over a real WebSocket, recognised, answered and spoken.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mulawToPcm16, pcm16ToMulaw, resamplePcm16 } from '../../src/audio/index.js';
import { AgentRegistry, defineAgent } from '../../src/agents/index.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log/logger.js';
import type { RealtimeServerEvent } from '../../src/realtime/index.js';
import { RealtimeConnection } from '../../src/realtime/index.js';
import type { KoeServer } from '../../src/server/app.js';
import { buildServer } from '../../src/server/app.js';
import { concat, flite, removeScratch, silence } from '../unit/engine/speech-fixtures.js';

const INSTRUCTIONS = 'You are the friendly receptionist of Sakura Dental Clinic, answering the phone. Opening hours: Monday to Friday, 9 am to 6 pm.';

describe('engine: a spoken turn with real models', () => {
  let koe: KoeServer;
  let url = '';
  before(async () => {
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: process.env.KOE_TEST_LOG ?? 'silent' });
    const log = createLogger({ level: config.logLevel });
    koe = await buildServer({ config, log, agents: new AgentRegistry([defineAgent({ id: 'a', name: 'A', instructions: 'x' })]) });
    await koe.app.listen({ port: 0, host: '127.0.0.1' });
    const address = koe.app.server.address();
    url = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1/realtime`;
  });
  after(async () => {
    await koe.app.close();
    removeScratch();
  });

  test('phone audio in μ-law: VAD, transcription, a relevant reply in audio with its transcript', async () => {
    const connection = await RealtimeConnection.connect({ url, shape: 'ga', model: 'koe', connectTimeoutMs: 30_000 });
    const events: RealtimeServerEvent[] = [];
    const waitFor = (type: string, timeoutMs = 20_000) =>
      new Promise<RealtimeServerEvent>((resolve, reject) => {
        const found = events.find((e) => e.type === type);
        if (found) return resolve(found);
        const timer = setTimeout(() => reject(new Error(`no ${type} in ${timeoutMs} ms; saw ${events.map((e) => e.type).join(', ')}`)), timeoutMs);
        connection.on('event', function listener(e) {
          if (e.type !== type) return;
          clearTimeout(timer);
          connection.off('event', listener);
          resolve(e);
        });
      });
    connection.on('event', (e) => events.push(e));
    try {
      await waitFor('session.created');
      connection.send({
        type: 'session.update',
        session: {
          type: 'realtime',
          instructions: INSTRUCTIONS,
          audio: {
            input: { format: { type: 'audio/pcmu' }, transcription: { model: 'koe-stt' }, turn_detection: { type: 'server_vad', silence_duration_ms: 600 } },
            output: { format: { type: 'audio/pcmu' }, voice: 'alloy' },
          },
        },
      });
      await waitFor('session.updated');
      const speech16k = concat(silence(300), flite('What are your opening hours?', 'awb'), silence(1200));
      const phone = pcm16ToMulaw(resamplePcm16(speech16k, 16_000, 8_000));
      for (let offset = 0; offset < phone.length; offset += 160) {
        connection.send({ type: 'input_audio_buffer.append', audio: Buffer.from(phone.subarray(offset, offset + 160)).toString('base64') });
      }
      const transcript = (await waitFor('conversation.item.input_audio_transcription.completed')) as { transcript: string };
      // pocketsphinx on phone audio gets most words right, not all ("opening voters" has been seen).
      assert.match(transcript.transcript, /what are your opening/);
      const done = (await waitFor('response.done', 30_000)) as unknown as { response: { status: string; output: Array<{ content?: Array<{ transcript?: string }> }> } };
      assert.equal(done.response.status, 'completed');
      const said = done.response.output[0]?.content?.[0]?.transcript ?? '';
      assert.match(said, /9|nine|monday|friday/i, `the reply should answer with the opening hours: "${said}"`);
      const audio = Buffer.concat(
        events.filter((e) => e.type === 'response.output_audio.delta').map((e) => Buffer.from((e as { delta: string }).delta, 'base64')),
      );
      assert.ok(audio.length > 8000 * 1, 'at least a second of μ-law audio');
      const pcm = mulawToPcm16(audio);
      assert.ok(pcm.some((s) => Math.abs(s) > 2000), 'audible');
    } finally {
      connection.close();
    }
  });
});
