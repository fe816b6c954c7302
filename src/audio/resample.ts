// Band-limited sample-rate conversion by a rational factor up/down with a polyphase FIR.
//
// The prototype is one Kaiser-windowed sinc at the virtual rate fromHz·up. Its cutoff sits in the
// middle of a transition band from 40 % to 50 % of the lower of the two rates (3.2–4 kHz when 8 kHz
// is involved), so everything a phone line carries passes flat and nothing folds back below the new
// Nyquist; the stopband is 80 dB down. Each output sample needs only one phase of that filter:
// 52 multiplies from 8 to 24 kHz, 156 from 24 to 8 kHz.
//
// The filter is centred (zero delay): output sample n is the input at time n·fromHz/toHz. Streaming
// therefore holds back the last few milliseconds until the samples after them have arrived, and
// `flush()` releases them as if silence followed. One-shot resampling is a push and a flush, so the
// concatenated streaming output equals it exactly, whatever the chunk sizes.

const STOPBAND_ATTENUATION_DB = 80;
const PASSBAND_EDGE_FRACTION = 0.4;
const STOPBAND_EDGE_FRACTION = 0.5;
/** A guard against pathological ratios like 44100→44101, whose filter would not fit in memory. */
const MAX_FILTER_COEFFICIENTS = 1_000_000;
/** Filters are shared by every stream of the same rate pair; a process meets only a few pairs. */
const MAX_CACHED_FILTERS = 32;

interface PolyphaseFilter {
  readonly up: number;
  readonly down: number;
  /** Coefficients per phase: input samples that contribute to one output sample. */
  readonly taps: number;
  /** How many input samples before the one at or just before an output's instant it reads. */
  readonly past: number;
  /** How many input samples after that one it reads: the lookahead (latency) of the filter. */
  readonly future: number;
  /** `up` phases of `taps` coefficients each, ordered by ascending input index. */
  readonly coefficients: Float64Array;
}

const filterCache = new Map<string, PolyphaseFilter>();

function greatestCommonDivisor(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind, by its power series. */
function besselI0(x: number): number {
  const halfX = x / 2;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 64; k++) {
    term *= (halfX / k) * (halfX / k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function assertRate(name: string, hz: number): void {
  if (!Number.isSafeInteger(hz) || hz <= 0) {
    throw new RangeError(`${name} must be a positive integer number of hertz, got ${hz}`);
  }
}

function designFilter(fromHz: number, toHz: number): PolyphaseFilter {
  const key = `${fromHz}:${toHz}`;
  const cached = filterCache.get(key);
  if (cached) return cached;

  const divisor = greatestCommonDivisor(fromHz, toHz);
  const up = toHz / divisor;
  const down = fromHz / divisor;
  const virtualRateHz = fromHz * up;
  const lowerRateHz = Math.min(fromHz, toHz);
  const cutoffHz = ((PASSBAND_EDGE_FRACTION + STOPBAND_EDGE_FRACTION) / 2) * lowerRateHz;
  const transitionHz = (STOPBAND_EDGE_FRACTION - PASSBAND_EDGE_FRACTION) * lowerRateHz;

  // Kaiser's estimates for the window shape and the length that reach the attenuation.
  const beta = 0.1102 * (STOPBAND_ATTENUATION_DB - 8.7);
  const length = Math.ceil(
    (STOPBAND_ATTENUATION_DB - 7.95) / (2.285 * 2 * Math.PI * (transitionHz / virtualRateHz)),
  );
  const halfWidth = Math.ceil(length / 2);

  // Zero coefficients pad the past side to a multiple of 4 taps (padding the future would add latency).
  const future = -Math.ceil((-halfWidth - (up - 1)) / up);
  const taps = Math.ceil((Math.floor(halfWidth / up) + future + 1) / 4) * 4;
  const past = taps - 1 - future;
  if (taps * up > MAX_FILTER_COEFFICIENTS) {
    throw new RangeError(`resampling ${fromHz} Hz to ${toHz} Hz needs too large a filter (${taps * up} coefficients)`);
  }

  const normalizedCutoff = (2 * cutoffHz) / virtualRateHz;
  const windowNorm = besselI0(beta);
  const prototype = (offset: number): number => {
    if (Math.abs(offset) > halfWidth) return 0;
    const ratio = offset / halfWidth;
    const window = besselI0(beta * Math.sqrt(1 - ratio * ratio)) / windowNorm;
    const argument = Math.PI * normalizedCutoff * offset;
    const sinc = offset === 0 ? 1 : Math.sin(argument) / argument;
    return normalizedCutoff * sinc * window;
  };

  const coefficients = new Float64Array(up * taps);
  for (let phase = 0; phase < up; phase++) {
    let sum = 0;
    for (let t = 0; t < taps; t++) {
      const value = prototype(phase + (past - t) * up);
      coefficients[phase * taps + t] = value;
      sum += value;
    }
    // Unity DC gain in every phase: otherwise a DC offset would come out as a tone at fromHz.
    for (let t = 0; t < taps; t++) coefficients[phase * taps + t]! /= sum;
  }

  const filter: PolyphaseFilter = { up, down, taps, past, future, coefficients };
  if (filterCache.size >= MAX_CACHED_FILTERS) filterCache.clear();
  filterCache.set(key, filter);
  return filter;
}

function ceilDiv(numerator: number, denominator: number): number {
  return numerator <= 0 ? 0 : Math.floor((numerator + denominator - 1) / denominator);
}

/**
 * Resamples a stream chunk by chunk (e.g. 20 ms frames) with filter state carried across chunks,
 * so there are no clicks at chunk boundaries. Each `push` returns the output that is complete so
 * far; it lags the input by the filter's lookahead (about 3 ms at telephone rates), so the first
 * chunk's output is that much shorter. `flush` ends the stream: it returns the held-back tail and
 * resets the resampler for a new stream.
 */
export class StreamingResampler {
  readonly fromHz: number;
  readonly toHz: number;
  readonly #filter: PolyphaseFilter | null;
  #history = new Float64Array(0);
  /** Absolute input index of #history[0]; negative indices are the silence before the stream. */
  #historyStart = 0;
  #historyLength = 0;
  #inputCount = 0;
  #outputCount = 0;
  /** The next output's instant is input index #base + #phase / up. */
  #base = 0;
  #phase = 0;

  constructor(fromHz: number, toHz: number) {
    assertRate('fromHz', fromHz);
    assertRate('toHz', toHz);
    this.fromHz = fromHz;
    this.toHz = toHz;
    this.#filter = fromHz === toHz ? null : designFilter(fromHz, toHz);
    this.reset();
  }

  /** Input samples the output lags behind while streaming. */
  get latencyInputSamples(): number {
    return this.#filter?.future ?? 0;
  }

  push(chunk: Int16Array): Int16Array {
    const filter = this.#filter;
    if (!filter) return chunk.slice();
    this.#append(chunk, chunk.length);
    this.#inputCount += chunk.length;
    const ready = ceilDiv((this.#inputCount - filter.future) * filter.up, filter.down);
    return this.#emit(filter, ready);
  }

  flush(): Int16Array {
    const filter = this.#filter;
    if (!filter) return new Int16Array(0);
    const total = ceilDiv(this.#inputCount * filter.up, filter.down);
    this.#append(null, filter.future);
    const tail = this.#emit(filter, total);
    this.reset();
    return tail;
  }

  reset(): void {
    const past = this.#filter?.past ?? 0;
    this.#history = new Float64Array(Math.max(64, 2 * (this.#filter?.taps ?? 0)));
    this.#historyStart = -past;
    this.#historyLength = past;
    this.#inputCount = 0;
    this.#outputCount = 0;
    this.#base = 0;
    this.#phase = 0;
  }

  /** Appends `chunk`, or `count` zeros when `chunk` is null, after dropping history no longer read. */
  #append(chunk: Int16Array | null, count: number): void {
    const past = this.#filter?.past ?? 0;
    const drop = this.#base - past - this.#historyStart;
    if (drop > 0) {
      this.#history.copyWithin(0, drop, this.#historyLength);
      this.#historyStart += drop;
      this.#historyLength -= drop;
    }
    const needed = this.#historyLength + count;
    if (needed > this.#history.length) {
      const grown = new Float64Array(Math.max(needed, this.#history.length * 2));
      grown.set(this.#history.subarray(0, this.#historyLength));
      this.#history = grown;
    }
    if (chunk) {
      const history = this.#history;
      const offset = this.#historyLength;
      for (let i = 0; i < count; i++) history[offset + i] = chunk[i]!;
    } else {
      this.#history.fill(0, this.#historyLength, needed);
    }
    this.#historyLength = needed;
  }

  #emit(filter: PolyphaseFilter, endOutputCount: number): Int16Array {
    const count = Math.max(0, endOutputCount - this.#outputCount);
    const out = new Int16Array(count);
    const { up, down, taps, past, coefficients } = filter;
    const history = this.#history;
    let base = this.#base;
    let phase = this.#phase;
    let first = base - past - this.#historyStart;
    for (let n = 0; n < count; n++) {
      const offset = phase * taps;
      // Four partial sums let the CPU overlap the multiply-adds; taps is a multiple of 4.
      let acc0 = 0;
      let acc1 = 0;
      let acc2 = 0;
      let acc3 = 0;
      for (let t = 0; t < taps; t += 4) {
        const c = offset + t;
        const h = first + t;
        acc0 += coefficients[c]! * history[h]!;
        acc1 += coefficients[c + 1]! * history[h + 1]!;
        acc2 += coefficients[c + 2]! * history[h + 2]!;
        acc3 += coefficients[c + 3]! * history[h + 3]!;
      }
      const rounded = Math.round(acc0 + acc1 + (acc2 + acc3));
      out[n] = rounded > 32767 ? 32767 : rounded < -32768 ? -32768 : rounded;
      phase += down;
      if (phase >= up) {
        const step = Math.floor(phase / up);
        base += step;
        first += step;
        phase -= step * up;
      }
    }
    this.#base = base;
    this.#phase = phase;
    this.#outputCount += count;
    return out;
  }
}

/** Resamples a whole signal; the output has ceil(input.length · toHz / fromHz) samples. */
export function resamplePcm16(input: Int16Array, fromHz: number, toHz: number): Int16Array {
  const resampler = new StreamingResampler(fromHz, toHz);
  const head = resampler.push(input);
  const tail = resampler.flush();
  if (tail.length === 0) return head;
  const out = new Int16Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}
