// Where every tagged frame was, and when (performance.now() of the generator process, which runs both
// the fake Twilio side and the echo model, so the two ends share one clock).
import { checkTaggedFrame, FRAME_BYTES } from './frame-tag.js';

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

class CallFrames {
  /** Sent by fake Twilio (media message written to the socket). */
  readonly sentAt: Float64Array;
  /** How late the send was against the call's 20 ms grid: the generator's own health. */
  readonly sendLateMs: Float64Array;
  /** Received by the echo model in an input_audio_buffer.append. */
  readonly modelAt: Float64Array;
  /** The echo model wrote it back as a response.output_audio.delta. */
  readonly echoedAt: Float64Array;
  /** Received back by fake Twilio in a media message. */
  readonly backAt: Float64Array;
  /** Arrived at the model in a multi-frame append: Koe held it until the model session was ready. */
  readonly heldAtSetup: Uint8Array;
  framesSent = 0;
  backCount = 0;
  startSentAt = Number.NaN;
  firstAppendAt = Number.NaN;

  constructor(capacity: number) {
    this.sentAt = new Float64Array(capacity).fill(Number.NaN);
    this.sendLateMs = new Float64Array(capacity).fill(Number.NaN);
    this.modelAt = new Float64Array(capacity).fill(Number.NaN);
    this.echoedAt = new Float64Array(capacity).fill(Number.NaN);
    this.backAt = new Float64Array(capacity).fill(Number.NaN);
    this.heldAtSetup = new Uint8Array(capacity);
  }
}

export interface LedgerCounters {
  /** Frames whose tag was readable but whose bytes differed, on the way to the model. */
  alteredToModel: number;
  alteredToTwilio: number;
  unrecognisedToModel: number;
  unrecognisedToTwilio: number;
  /** Frames seen twice at the same end. */
  duplicatesAtModel: number;
  duplicatesAtTwilio: number;
  /** Frames that came back on another call's stream. */
  misroutedToTwilio: number;
  /** Payloads whose length was not a whole number of frames. */
  partialPayloads: number;
}

export class FrameLedger {
  readonly #calls: CallFrames[] = [];
  readonly #capacity: number;
  readonly counters: LedgerCounters = {
    alteredToModel: 0,
    alteredToTwilio: 0,
    unrecognisedToModel: 0,
    unrecognisedToTwilio: 0,
    duplicatesAtModel: 0,
    duplicatesAtTwilio: 0,
    misroutedToTwilio: 0,
    partialPayloads: 0,
  };

  constructor(calls: number, framesPerCall: number) {
    this.#capacity = framesPerCall;
    for (let i = 0; i < calls; i += 1) this.#calls.push(new CallFrames(framesPerCall));
  }

  get calls(): number {
    return this.#calls.length;
  }

  get framesPerCall(): number {
    return this.#capacity;
  }

  #call(index: number): CallFrames | undefined {
    return this.#calls[index];
  }

  startSent(callIndex: number, at: number): void {
    const call = this.#call(callIndex);
    if (call) call.startSentAt = at;
  }

  frameSent(callIndex: number, frameNo: number, at: number, lateMs: number): void {
    const call = this.#call(callIndex);
    if (!call || frameNo >= this.#capacity) return;
    call.sentAt[frameNo] = at;
    call.sendLateMs[frameNo] = lateMs;
    call.framesSent += 1;
  }

  /** One `input_audio_buffer.append` as the echo model saw it (decoded μ-law). */
  appendAtModel(audio: Buffer, receivedAt: number, echoedAt: number): void {
    const frames = Math.floor(audio.length / FRAME_BYTES);
    if (audio.length % FRAME_BYTES !== 0) this.counters.partialPayloads += 1;
    for (let f = 0; f < frames; f += 1) {
      const check = checkTaggedFrame(audio, f * FRAME_BYTES);
      if (!check.ok && check.kind === 'unrecognised') {
        this.counters.unrecognisedToModel += 1;
        continue;
      }
      if (!check.ok) this.counters.alteredToModel += 1;
      const call = this.#call(check.callIndex);
      if (!call || check.frameNo >= this.#capacity) {
        this.counters.unrecognisedToModel += 1;
        continue;
      }
      if (!Number.isNaN(call.modelAt[check.frameNo])) {
        this.counters.duplicatesAtModel += 1;
        continue;
      }
      call.modelAt[check.frameNo] = receivedAt;
      call.echoedAt[check.frameNo] = echoedAt;
      if (frames > 1) call.heldAtSetup[check.frameNo] = 1;
      if (Number.isNaN(call.firstAppendAt)) call.firstAppendAt = receivedAt;
    }
  }

  /** One outbound `media` payload received by fake Twilio on call `callIndex`'s stream. */
  mediaAtTwilio(callIndex: number, audio: Buffer, receivedAt: number): void {
    const frames = Math.floor(audio.length / FRAME_BYTES);
    if (audio.length % FRAME_BYTES !== 0) this.counters.partialPayloads += 1;
    for (let f = 0; f < frames; f += 1) {
      const check = checkTaggedFrame(audio, f * FRAME_BYTES);
      if (!check.ok && check.kind === 'unrecognised') {
        this.counters.unrecognisedToTwilio += 1;
        continue;
      }
      if (!check.ok) this.counters.alteredToTwilio += 1;
      if (check.callIndex !== callIndex) {
        this.counters.misroutedToTwilio += 1;
        continue;
      }
      const call = this.#call(callIndex);
      if (!call || check.frameNo >= this.#capacity) {
        this.counters.unrecognisedToTwilio += 1;
        continue;
      }
      if (!Number.isNaN(call.backAt[check.frameNo])) {
        this.counters.duplicatesAtTwilio += 1;
        continue;
      }
      call.backAt[check.frameNo] = receivedAt;
      call.backCount += 1;
    }
  }

  /** Every frame this call sent has come back. */
  drained(callIndex: number): boolean {
    const call = this.#call(callIndex);
    return call !== undefined && call.backCount >= call.framesSent;
  }

  summarize(): LedgerSummary {
    const toModel: number[] = [];
    const toTwilio: number[] = [];
    const roundTrip: number[] = [];
    const sendLate: number[] = [];
    const setup: number[] = [];
    let sent = 0;
    let reachedModel = 0;
    let back = 0;
    let held = 0;
    for (const call of this.#calls) {
      if (!Number.isNaN(call.firstAppendAt) && !Number.isNaN(call.startSentAt)) setup.push(call.firstAppendAt - call.startSentAt);
      for (let f = 0; f < this.#capacity; f += 1) {
        const sentAt = call.sentAt[f] as number;
        if (Number.isNaN(sentAt)) continue;
        sent += 1;
        sendLate.push(call.sendLateMs[f] as number);
        const modelAt = call.modelAt[f] as number;
        const backAt = call.backAt[f] as number;
        if (!Number.isNaN(modelAt)) reachedModel += 1;
        if (!Number.isNaN(backAt)) back += 1;
        if (call.heldAtSetup[f] === 1) {
          held += 1;
          continue;
        }
        if (!Number.isNaN(modelAt)) toModel.push(modelAt - sentAt);
        if (!Number.isNaN(backAt)) {
          roundTrip.push(backAt - sentAt);
          const echoedAt = call.echoedAt[f] as number;
          if (!Number.isNaN(echoedAt)) toTwilio.push(backAt - echoedAt);
        }
      }
    }
    return {
      framesSent: sent,
      framesAtModel: reachedModel,
      framesBack: back,
      framesLost: sent - back,
      framesLostBeforeModel: sent - reachedModel,
      framesHeldAtSetup: held,
      counters: { ...this.counters },
      twilioToModelMs: summarizeLatency(toModel),
      modelToTwilioMs: summarizeLatency(toTwilio),
      roundTripMs: summarizeLatency(roundTrip),
      callSetupMs: summarizeLatency(setup),
      sendLatenessMs: summarizeLatency(sendLate),
    };
  }
}

export interface LedgerSummary {
  framesSent: number;
  framesAtModel: number;
  framesBack: number;
  /** Sent but never echoed back to fake Twilio. */
  framesLost: number;
  framesLostBeforeModel: number;
  /** Sent before the model session was ready and batched by Koe (left out of the latency figures). */
  framesHeldAtSetup: number;
  counters: LedgerCounters;
  twilioToModelMs: LatencySummary;
  modelToTwilioMs: LatencySummary;
  roundTripMs: LatencySummary;
  /** From `start` sent to the call's first append at the model. */
  callSetupMs: LatencySummary;
  /** How late fake Twilio sent frames against their 20 ms grid (generator health). */
  sendLatenessMs: LatencySummary;
}

export function summarizeLatency(values: number[]): LatencySummary {
  if (values.length === 0) return { count: 0, p50: Number.NaN, p95: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1] as number, mean: sum / sorted.length };
}
