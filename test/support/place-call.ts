// Places a phone call into a running Koe the way Twilio does (src/simulate/place-call.ts): the voice
// webhook (a form POST from loopback, so no signature is needed), the TwiML's <Stream url> and
// <Parameter>s, then Twilio's side of the media stream with those parameters as `start.customParameters`.
// The caller takes turns like a person on the phone: it keeps the line open with silence, waits for the
// agent to finish talking (audio stopped arriving and nothing is left to play), then speaks.
import { performance } from 'node:perf_hooks';
import { placeInboundCall } from '../../src/simulate/place-call.js';
import type { SimulatedTwilioCall } from '../../src/simulate/simulated-twilio-call.js';

/** The agent is done talking when no audio arrived for this long and nothing is left to play. */
const AGENT_QUIET_MS = 900;

export interface PlaceCallOptions {
  from?: string;
  to?: string;
  callSid?: string;
  /** Keep what the caller received (default false: long and load runs). */
  recordAudio?: boolean;
}

export class PhoneCaller {
  #lastMediaAt = -Infinity;

  private constructor(
    readonly callSid: string,
    readonly parameters: Record<string, string>,
    readonly stream: SimulatedTwilioCall,
  ) {
    stream.on('media', () => (this.#lastMediaAt = performance.now()));
  }

  /** The call as Twilio would place it: webhook → TwiML → media stream (`connected`, `start`). */
  static async place(baseUrl: string, opts: PlaceCallOptions = {}): Promise<PhoneCaller> {
    const { callSid, call, parameters } = await placeInboundCall({
      baseUrl,
      ...(opts.from ? { from: opts.from } : {}),
      ...(opts.to ? { to: opts.to } : {}),
      ...(opts.callSid ? { callSid: opts.callSid } : {}),
      stream: { recordAudio: opts.recordAudio ?? false, connectTimeoutMs: 10_000 },
    });
    return new PhoneCaller(callSid, parameters, call);
  }

  /** No agent audio for a while and nothing left to play. */
  get agentQuiet(): boolean {
    return this.stream.stats.bytesBuffered === 0 && performance.now() - this.#lastMediaAt > AGENT_QUIET_MS;
  }

  /** Keeps the line open with real-time silence until `done()`; throws after `timeoutMs` naming `what`. */
  async holdLine(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (!done()) {
      if (this.stream.closed) throw new Error(`the call ended while the caller waited for ${what}`);
      if (performance.now() >= end) throw new Error(`the caller waited ${timeoutMs} ms for ${what} in vain`);
      await this.stream.sendSilence(100, { pace: 'realtime' });
    }
  }

  /** Waits (holding the line) until the agent has spoken and gone quiet: the greeting. */
  async waitForGreeting(timeoutMs = 20_000): Promise<void> {
    await this.holdLine(() => this.stream.stats.bytesReceived > 0 && this.agentQuiet, timeoutMs, 'the greeting');
  }

  /** Says an utterance (μ-law, real time), then holds the line until the agent answered and went quiet. */
  async say(mulaw: Buffer, timeoutMs = 30_000): Promise<void> {
    await this.stream.sendAudio(mulaw, { pace: 'realtime' });
    const before = this.stream.stats.bytesReceived;
    await this.holdLine(() => this.stream.stats.bytesReceived > before && this.agentQuiet, timeoutMs, 'the agent to answer');
  }

  /** Twilio's `stop` and socket close: the caller hung up. */
  async hangUp(): Promise<void> {
    if (!this.stream.closed) await this.stream.stop();
  }
}
