import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { mulawToPcm16, parseWav, pcm16FromBytesLE, pcm16ToMulaw } from '../../../src/audio/index.js';
import { CallRecording, recordedTwilioSink } from '../../../src/call/call-recording.js';
import type { TwilioMediaSink } from '../../../src/call/call-session.js';
import { createLogger } from '../../../src/log/logger.js';
import { sine } from '../audio/signals.js';

const FRAME = 160;
const CALLER_TONE = pcm16ToMulaw(sine(440, 8000, 16000, 9000));
const AGENT_TONE = pcm16ToMulaw(sine(1000, 8000, 8000, 12000));

interface LogLine {
  level: number;
  msg: string;
}

function capturingLog(): { log: ReturnType<typeof createLogger>; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) } });
  return { log, lines };
}

/** The file's samples split into the caller (left) and agent (right) channels. */
function readChannels(path: string): { left: Int16Array; right: Int16Array } {
  const wav = parseWav(readFileSync(path));
  assert.equal(wav.sampleRateHz, 8000);
  assert.equal(wav.channels, 2);
  assert.equal(wav.encoding, 'pcm16');
  const interleaved = pcm16FromBytesLE(Uint8Array.from(wav.data));
  const left = new Int16Array(interleaved.length / 2);
  const right = new Int16Array(interleaved.length / 2);
  for (let i = 0; i < left.length; i++) {
    left[i] = interleaved[2 * i]!;
    right[i] = interleaved[2 * i + 1]!;
  }
  return { left, right };
}

/** `frames` caller frames of 20 ms, taken from the caller tone starting at frame `from`. */
function sendCallerFrames(recording: CallRecording, frames: number, from = 0): void {
  for (let f = from; f < from + frames; f++) recording.onCallerAudio(CALLER_TONE.subarray(f * FRAME, (f + 1) * FRAME));
}

describe('CallRecording', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'koe-recording-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('caller on the left, agent on the right, both sample-exact; the agent starts with the next caller frame', async () => {
    const { log } = capturingLog();
    const recording = CallRecording.open({ dir: join(dir, 'nested', 'recordings'), callId: 'call-1', log });
    assert.equal(recording.path, join(dir, 'nested', 'recordings', 'call-1.wav'));
    sendCallerFrames(recording, 2);
    recording.onAgentAudio(AGENT_TONE.subarray(0, 3 * FRAME));
    sendCallerFrames(recording, 5, 2);
    await recording.close();

    const { left, right } = readChannels(recording.path);
    assert.equal(left.length, 7 * FRAME);
    assert.deepEqual(left, mulawToPcm16(CALLER_TONE.subarray(0, 7 * FRAME)));
    const expectedRight = new Int16Array(7 * FRAME);
    expectedRight.set(mulawToPcm16(AGENT_TONE.subarray(0, 3 * FRAME)), 2 * FRAME);
    assert.deepEqual(right, expectedRight);
  });

  test('agent audio sent faster than real time is played at real time, in order, across chunks', async () => {
    const { log } = capturingLog();
    const recording = CallRecording.open({ dir, callId: 'burst', log });
    // 1 s of agent audio arrives in two bursts before 200 ms of call time have passed.
    recording.onAgentAudio(AGENT_TONE.subarray(0, 4000));
    sendCallerFrames(recording, 5);
    recording.onAgentAudio(AGENT_TONE.subarray(4000, 8000));
    sendCallerFrames(recording, 55, 5);
    assert.equal(recording.durationMs, 1200);
    await recording.close();

    const { left, right } = readChannels(recording.path);
    assert.equal(left.length, 60 * FRAME);
    const expectedRight = new Int16Array(60 * FRAME);
    expectedRight.set(mulawToPcm16(AGENT_TONE));
    assert.deepEqual(right, expectedRight, 'all of it played once, at one sample per caller sample, then silence');
  });

  test('clear drops what was not played yet; audio sent after it plays at once', async () => {
    const { log } = capturingLog();
    const recording = CallRecording.open({ dir, callId: 'barge-in', log });
    recording.onAgentAudio(AGENT_TONE.subarray(0, 8000));
    sendCallerFrames(recording, 10);
    recording.onClear();
    sendCallerFrames(recording, 3, 10);
    recording.onAgentAudio(AGENT_TONE.subarray(0, 2 * FRAME));
    sendCallerFrames(recording, 3, 13);
    await recording.close();

    const { right } = readChannels(recording.path);
    const expected = new Int16Array(16 * FRAME);
    expected.set(mulawToPcm16(AGENT_TONE.subarray(0, 10 * FRAME)));
    expected.set(mulawToPcm16(AGENT_TONE.subarray(0, 2 * FRAME)), 13 * FRAME);
    assert.deepEqual(right, expected);
  });

  test('agent audio still queued when the call ends was never heard and is not written', async () => {
    const { log } = capturingLog();
    const recording = CallRecording.open({ dir, callId: 'hang-up', log });
    recording.onAgentAudio(AGENT_TONE);
    sendCallerFrames(recording, 10);
    await recording.close();
    // Later calls are ignored: the file is final.
    sendCallerFrames(recording, 10);
    await recording.close();

    const { left, right } = readChannels(recording.path);
    assert.equal(left.length, 10 * FRAME);
    assert.deepEqual(right, mulawToPcm16(AGENT_TONE.subarray(0, 10 * FRAME)));
    assert.equal(recording.active, false);
  });

  test('the file is a valid WAV while the call goes on (sizes rewritten after each append) and after close', async () => {
    const { log } = capturingLog();
    const recording = CallRecording.open({ dir, callId: 'crash-safe', log, flushEveryMs: 500 });
    await recording.settled();
    assert.equal(readChannels(recording.path).left.length, 0, 'a valid, empty WAV from the start');

    sendCallerFrames(recording, 30);
    await recording.settled();
    // 500 ms were appended; the last 100 ms are still in memory.
    const midCall = readFileSync(recording.path);
    assert.equal(midCall.readUInt32LE(4), midCall.length - 8, 'RIFF size');
    const { left } = readChannels(recording.path);
    assert.equal(left.length, 25 * FRAME);
    assert.deepEqual(left, mulawToPcm16(CALLER_TONE.subarray(0, 25 * FRAME)));

    sendCallerFrames(recording, 5, 30);
    await recording.close();
    const final = readFileSync(recording.path);
    assert.equal(final.readUInt32LE(4), final.length - 8);
    assert.equal(final.length, 44 + 35 * FRAME * 4);
    assert.deepEqual(readChannels(recording.path).left, mulawToPcm16(CALLER_TONE.subarray(0, 35 * FRAME)));
  });

  test('a failing write is logged once and stops the recording; the Twilio side carries on', async () => {
    const { log, lines } = capturingLog();
    // Opens fine, then every write fails with ENOSPC, like a full disk.
    symlinkSync('/dev/full', join(dir, 'disk-full.wav'));
    const recording = CallRecording.open({ dir, callId: 'disk-full', log, flushEveryMs: 20 });
    const sent: string[] = [];
    const twilio: TwilioMediaSink = {
      sendMedia: (audio) => sent.push(`media:${audio.length}`),
      sendMark: (name) => sent.push(`mark:${name}`),
      sendClear: () => sent.push('clear'),
      close: () => sent.push('close'),
    };
    const sink = recordedTwilioSink(twilio, recording);
    await recording.settled();
    assert.equal(recording.active, false);
    for (let i = 0; i < 5; i++) {
      sink.sendMedia(AGENT_TONE.subarray(0, FRAME));
      sink.sendMark(`m${i}`);
      sendCallerFrames(recording, 3);
    }
    sink.sendClear();
    sink.close();
    await recording.close();
    assert.equal(sent.length, 12);
    assert.deepEqual(sent.slice(-3), ['mark:m4', 'clear', 'close']);
    const errors = lines.filter((l) => l.level >= 50);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.msg, /recording failed/);
  });

  test('a folder that cannot be created: tryOpen logs why and returns undefined', () => {
    const { log, lines } = capturingLog();
    writeFileSync(join(dir, 'a-file'), 'not a folder');
    assert.equal(CallRecording.tryOpen({ dir: join(dir, 'a-file', 'recordings'), callId: 'x', log }), undefined);
    assert.equal(lines.filter((l) => l.level >= 50).length, 1);
    assert.throws(() => CallRecording.open({ dir: join(dir, 'a-file'), callId: 'x', log }), { name: 'RecordingUnavailableError' });
  });
});
