// Real-time factors of the engine's speech stages, measured in this process directly on the stages:
// processing time / audio duration. STT is PocketsphinxRecognizer.transcribe (one decoder, worker round
// trip included) on phone-band caller utterances; TTS is FliteSynthesizer.synthesize (one worker) on the
// kind of sentences the agent says. Input decoding + Silero VAD, which run on the event loop for every
// 20 ms append, are timed per frame as well.
import { performance } from 'node:perf_hooks';
import { decodeWhole, InputDecoder } from '../src/engine/pipeline/audio-formats.js';
import { PocketsphinxRecognizer } from '../src/engine/stt/index.js';
import { FliteSynthesizer } from '../src/engine/tts/index.js';
import { SileroScorer, sileroVadStream } from '../src/engine/vad/index.js';
import { wordErrors } from '../test/unit/engine/speech-fixtures.js';
import type { PhoneUtterance, SpeechMaker } from './engine-speech.js';
import { FRAME_BYTES, lineNoiseMulaw, MULAW_SILENCE, PHONE_RATE_HZ } from './engine-speech.js';
import { percentile } from './engine-stats.js';

/** What the agent says: sentences of the embedded dialogue's kind and length. */
export const AGENT_SENTENCES: readonly string[] = [
  "We're open Monday to Friday, 9 am to 6 pm.",
  'Is there anything else I can help you with?',
  'This is the receptionist of Sakura Dental Clinic.',
  "I'm an automated assistant, but I can take a message and have someone call you back.",
  'Could you tell me your name, please?',
  'Thank you for calling Sakura Dental Clinic. How can I help you today?',
];

const STAGE_RATE_HZ = 16_000;

export interface RtfSample {
  label: string;
  audioMs: number;
  /** Wall time of the call, worker round trip and queueing included. */
  processingMs: number;
  rtf: number;
  /** STT only: time inside the decoder (the worker's own measure). */
  decodeMs?: number;
  text?: string;
}

export interface RtfSummary {
  count: number;
  audioMs: number;
  rtfP50: number;
  rtfP95: number;
  rtfMax: number;
  processingMsP50: number;
  processingMsMax: number;
}

export interface StageResults {
  stt: RtfSummary & { samples: RtfSample[]; wordErrorPercent: number; decodeRtfP50: number };
  /**
   * The same utterances behind `leadMs` of digital silence or of line noise: what the recogniser gets when a
   * turn is committed with all the audio since the previous one. `ratioP50`: decode time ÷ the short version's.
   */
  sttWithLead: Array<RtfSummary & { label: string; leadMs: number; noiseDbfs: number | null; samples: RtfSample[]; ratioP50: number }>;
  tts: RtfSummary & { samples: RtfSample[]; voice: string };
  vad: { frames: number; usPerFrameP50: number; usPerFrameP95: number; usPerFrameMax: number; corePercentPerSession: number };
  /** Creating a session's Silero detector (on the event loop, at its first audio) and what it holds. */
  vadDetector: { created: number; msP50: number; msMax: number; rssMbEach: number };
  /** decodeWhole of a committed μ-law buffer (→ 16 kHz PCM16) on the event loop, by buffer length. */
  commitDecode: Array<{ bufferSeconds: number; ms: number }>;
}

function summarize(samples: RtfSample[]): RtfSummary {
  const rtfs = samples.map((s) => s.rtf);
  const processing = samples.map((s) => s.processingMs);
  return {
    count: samples.length,
    audioMs: samples.reduce((n, s) => n + s.audioMs, 0),
    rtfP50: percentile(rtfs, 50),
    rtfP95: percentile(rtfs, 95),
    rtfMax: Math.max(...rtfs),
    processingMsP50: percentile(processing, 50),
    processingMsMax: Math.max(...processing),
  };
}

function silenceMulaw(ms: number): Buffer {
  return Buffer.alloc(Math.round((ms * PHONE_RATE_HZ) / 1000), MULAW_SILENCE);
}

export async function measureStages(
  speech: SpeechMaker,
  corpus: readonly PhoneUtterance[],
  opts: { utterances: number; sentenceRepeats: number; leadMs: number; noiseDbfs: number; log: (line: string) => void },
): Promise<StageResults> {
  const picked = corpus.slice(0, opts.utterances);
  // What server VAD commits for a lone utterance: the prefix padding, the speech, the silence window.
  const asTurn = (u: PhoneUtterance, leadMs: number, noiseDbfs?: number): Int16Array =>
    speech.phoneBand16k(
      noiseDbfs === undefined
        ? Buffer.concat([silenceMulaw(leadMs), u.mulaw, silenceMulaw(500)])
        : Buffer.concat([lineNoiseMulaw(leadMs, noiseDbfs, 3), u.mulaw, lineNoiseMulaw(500, noiseDbfs, 5)]),
    );
  const leads: Array<{ label: string; noiseDbfs: number | null; samples: RtfSample[] }> = [
    { label: `STT, same speech after ${opts.leadMs / 1000} s of digital silence`, noiseDbfs: null, samples: [] },
    { label: `STT, same speech after ${opts.leadMs / 1000} s of ${opts.noiseDbfs} dBFS line noise`, noiseDbfs: opts.noiseDbfs, samples: [] },
  ];

  opts.log(`  STT: pocketsphinx, 1 decoder, ${picked.length} phone-band utterances…`);
  const recognizer = await PocketsphinxRecognizer.create({ decoders: 1 });
  const stt: RtfSample[] = [];
  let errors = 0;
  let words = 0;
  try {
    const first = picked[0];
    if (first) await recognizer.transcribe(asTurn(first, 300)); // warm-up: first decode pages the model in
    for (const u of picked) {
      const pcm = asTurn(u, 300);
      const audioMs = (pcm.length * 1000) / STAGE_RATE_HZ;
      const t0 = performance.now();
      const result = await recognizer.transcribe(pcm);
      const processingMs = performance.now() - t0;
      stt.push({ label: `${u.voice}: ${u.text}`, audioMs, processingMs, rtf: processingMs / audioMs, decodeMs: result.decodeMs, text: result.text });
      const we = wordErrors(u.text.replace(/[^A-Za-z' ]/g, ' '), result.text);
      errors += we.errors;
      words += we.words;
    }
    for (const lead of leads) {
      for (const u of picked.slice(0, Math.min(4, picked.length))) {
        const pcm = asTurn(u, opts.leadMs, lead.noiseDbfs ?? undefined);
        const audioMs = (pcm.length * 1000) / STAGE_RATE_HZ;
        const t0 = performance.now();
        const result = await recognizer.transcribe(pcm);
        const processingMs = performance.now() - t0;
        lead.samples.push({ label: `${u.voice}: ${u.text}`, audioMs, processingMs, rtf: processingMs / audioMs, decodeMs: result.decodeMs, text: result.text });
      }
    }
  } finally {
    await recognizer.close();
  }

  opts.log(`  TTS: Flite slt, 1 worker, ${AGENT_SENTENCES.length} sentences × ${opts.sentenceRepeats}…`);
  const synthesizer = await FliteSynthesizer.create({ workers: 1 });
  const tts: RtfSample[] = [];
  try {
    await synthesizer.synthesize('Warming up.', { voice: 'slt' });
    for (let r = 0; r < opts.sentenceRepeats; r++) {
      for (const sentence of AGENT_SENTENCES) {
        const t0 = performance.now();
        const pcm = await synthesizer.synthesize(sentence, { voice: 'slt' });
        const processingMs = performance.now() - t0;
        const audioMs = (pcm.length * 1000) / synthesizer.sampleRateHz;
        tts.push({ label: sentence, audioMs, processingMs, rtf: processingMs / audioMs });
      }
    }
  } finally {
    await synthesizer.close();
  }

  opts.log('  VAD: detector creation, input decoding + Silero per 20 ms μ-law append, commit decoding…');
  const vadDetector = measureDetectorCreation(6);
  const vad = measureVadPerFrame(corpus);
  const commitDecode = [2, 10, 60, 300].map((bufferSeconds) => ({ bufferSeconds, ms: measureCommitDecode(bufferSeconds) }));

  const sttSummary = summarize(stt);
  const shortByLabel = new Map(stt.map((s) => [s.label, s.processingMs]));
  const ratio = (samples: RtfSample[]): number => percentile(samples.map((s) => s.processingMs / (shortByLabel.get(s.label) ?? Number.NaN)).filter(Number.isFinite), 50);
  return {
    stt: { ...sttSummary, samples: stt, wordErrorPercent: words > 0 ? (100 * errors) / words : Number.NaN, decodeRtfP50: percentile(stt.map((s) => (s.decodeMs ?? 0) / s.audioMs), 50) },
    sttWithLead: leads.map((lead) => ({ ...summarize(lead.samples), label: lead.label, leadMs: opts.leadMs, noiseDbfs: lead.noiseDbfs, samples: lead.samples, ratioP50: ratio(lead.samples) })),
    tts: { ...summarize(tts), samples: tts, voice: 'slt' },
    vad,
    vadDetector,
    commitDecode,
  };
}

/** New Silero detectors (none parked yet in this process): the time each takes and the RSS each adds. */
function measureDetectorCreation(count: number): StageResults['vadDetector'] {
  const scorers: SileroScorer[] = [];
  const times: number[] = [];
  const rssBefore = process.memoryUsage().rss;
  const frame = new Float32Array(512);
  try {
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      const scorer = new SileroScorer({ threshold: 0.5 });
      times.push(performance.now() - t0);
      for (let k = 0; k < 20; k++) scorer.score(frame);
      scorers.push(scorer);
    }
    return { created: count, msP50: percentile(times, 50), msMax: Math.max(...times), rssMbEach: (process.memoryUsage().rss - rssBefore) / count / (1024 * 1024) };
  } finally {
    for (const scorer of scorers) scorer.close();
  }
}

/** What SpeechBrain.onCommitted does first with a committed buffer of `seconds` of μ-law: best of three. */
function measureCommitDecode(seconds: number): number {
  const buffer = Buffer.alloc(PHONE_RATE_HZ * seconds, MULAW_SILENCE);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    decodeWhole(buffer, { type: 'audio/pcmu' }, STAGE_RATE_HZ);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** The event-loop work of one append in the engine's brain: μ-law → 16 kHz PCM16, then VAD framing and Silero. */
function measureVadPerFrame(corpus: readonly PhoneUtterance[]): StageResults['vad'] {
  const decoder = new InputDecoder(STAGE_RATE_HZ);
  const vad = sileroVadStream({ threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 500 });
  const format = { type: 'audio/pcmu' } as const;
  const audio = Buffer.concat(corpus.flatMap((u) => [u.mulaw, silenceMulaw(600)]));
  const times: number[] = [];
  try {
    // Two passes: the first warms the JIT and the detector up and is not counted.
    for (let pass = 0; pass < 2; pass++) {
      for (let offset = 0; offset + FRAME_BYTES <= audio.length; offset += FRAME_BYTES) {
        const frame = audio.subarray(offset, offset + FRAME_BYTES);
        const t0 = performance.now();
        vad.push(decoder.decode(frame, format));
        const us = (performance.now() - t0) * 1000;
        if (pass === 1) times.push(us);
      }
    }
  } finally {
    vad.close();
  }
  const mean = times.reduce((a, b) => a + b, 0) / Math.max(1, times.length);
  return {
    frames: times.length,
    usPerFrameP50: percentile(times, 50),
    usPerFrameP95: percentile(times, 95),
    usPerFrameMax: Math.max(...times),
    // 50 appends a second per session.
    corePercentPerSession: (mean * 50) / 10_000,
  };
}
