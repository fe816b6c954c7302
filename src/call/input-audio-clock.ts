// Maps a position in the audio appended to the model (the ms the model reports in speech_started/stopped)
// back to the wall-clock time that audio arrived from Twilio, so latency can be measured from the moment
// the caller actually stopped speaking rather than from when the model noticed.

const SLOT_MS = 20;
const SLOTS = 8192; // ≈ 164 s of history, plenty for one turn

export class InputAudioClock {
  readonly #arrivals = new Float64Array(SLOTS);
  #appendedMs = 0;

  get appendedMs(): number {
    return this.#appendedMs;
  }

  /** Records `durationMs` of audio that arrived at `arrivedAtMs` (performance.now() clock). */
  record(durationMs: number, arrivedAtMs: number): void {
    const first = Math.floor(this.#appendedMs / SLOT_MS);
    this.#appendedMs += durationMs;
    const last = Math.floor((this.#appendedMs - 1) / SLOT_MS);
    for (let slot = first; slot <= last; slot += 1) this.#arrivals[slot % SLOTS] = arrivedAtMs;
  }

  /** When the audio at stream position `audioMs` arrived, or undefined if it is unknown or too old. */
  arrivalOf(audioMs: number): number | undefined {
    if (!Number.isFinite(audioMs) || audioMs < 0 || audioMs >= this.#appendedMs) return undefined;
    const slot = Math.floor(audioMs / SLOT_MS);
    if (this.#appendedMs / SLOT_MS - slot > SLOTS) return undefined;
    return this.#arrivals[slot % SLOTS];
  }

  reset(): void {
    this.#appendedMs = 0;
  }
}
