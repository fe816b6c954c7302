// Call recording on the real path: webhook → media stream → Koe → fake model, recorded to a stereo WAV
// with the caller on the left and the agent, as played to the caller, on the right.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { mulawToPcm16, parseWav, pcm16FromBytesLE, pcm16ToMulaw } from '../../src/audio/index.js';
import { sine } from '../unit/audio/signals.js';
import { Harness } from './harness.js';

const GREETING_MS = 400;
const CALLER_MS = 1000;

/** Resolves once `path` holds a WAV of `frames` stereo frames (the recording is written asynchronously). */
async function waitForRecording(path: string, frames: number, timeoutMs = 3000): Promise<{ left: Int16Array; right: Int16Array }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let seen: string;
    try {
      const wav = parseWav(readFileSync(path));
      const samples = pcm16FromBytesLE(Uint8Array.from(wav.data));
      seen = `${samples.length / wav.channels} frames`;
      if (wav.channels === 2 && samples.length === frames * 2) {
        const left = new Int16Array(frames);
        const right = new Int16Array(frames);
        for (let i = 0; i < frames; i++) {
          left[i] = samples[2 * i]!;
          right[i] = samples[2 * i + 1]!;
        }
        return { left, right };
      }
    } catch (err) {
      seen = (err as Error).message;
    }
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${frames} frames in ${path}; saw ${seen}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('call recording', () => {
  let h: Harness | undefined;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'koe-recordings-'));
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  test("the greeting lands on the right channel as the caller heard it, the caller's audio on the left", async () => {
    h = await Harness.start({
      recordingDir: dir,
      agents: [{ id: 'tester', name: 'T', instructions: 'Test.', greeting: 'Hello there.' }],
      realtime: { vad: 'manual', respond: () => [{ type: 'audio', transcript: 'Hello there.', audioMs: GREETING_MS }] },
    });
    const call = await h.call();
    const started = await h.waitForEvent('call.started');
    assert.equal(started.call.recording, true);
    // The whole greeting reaches Twilio (faster than real time) before the caller's first frame.
    await call.waitForReceivedBytes(GREETING_MS * 8);
    assert.equal(call.receivedAudio().length, GREETING_MS * 8);
    const callerAudio = pcm16ToMulaw(sine(1000, 8000, CALLER_MS * 8, 8000));
    await call.sendAudio(callerAudio, { pace: 'fast' });
    await call.stop();
    await h.waitForEvent('call.ended');

    const { left, right } = await waitForRecording(join(dir, `${started.callId}.wav`), CALLER_MS * 8);
    assert.deepEqual(left, mulawToPcm16(callerAudio));
    const expectedRight = new Int16Array(CALLER_MS * 8);
    expectedRight.set(mulawToPcm16(call.receivedAudio()));
    assert.deepEqual(right, expectedRight, 'the greeting plays from the first caller frame, at real time, then silence');
  });

  test('a recordings folder that cannot be created: the call runs unrecorded', async () => {
    writeFileSync(join(dir, 'a-file'), '');
    h = await Harness.start({
      recordingDir: join(dir, 'a-file', 'recordings'),
      agents: [{ id: 'tester', name: 'T', instructions: 'Test.', greeting: 'Hello there.' }],
      realtime: { vad: 'manual', respond: () => [{ type: 'audio', transcript: 'Hello there.', audioMs: GREETING_MS }] },
    });
    const call = await h.call();
    const started = await h.waitForEvent('call.started');
    assert.equal(started.call.recording, false);
    await call.waitForReceivedBytes(GREETING_MS * 8);
    await h.waitForEvent('turn.assistant', (e) => e.greeting);
    await call.stop();
    await h.waitForEvent('call.ended');
  });
});
