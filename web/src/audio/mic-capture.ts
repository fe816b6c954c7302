// The microphone as 20 ms frames of 8 kHz mono: getUserMedia with the browser's echo cancellation,
// noise suppression and gain control, into an AudioWorklet (public/softphone-capture-worklet.js).

export const CAPTURE_WORKLET_URL = '/softphone-capture-worklet.js';
export const FRAME_SAMPLES = 160;

export type MicErrorKind = 'denied' | 'missing' | 'busy' | 'insecure' | 'audio';

export class MicError extends Error {
  constructor(
    readonly kind: MicErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'MicError';
  }
}

function micErrorFrom(err: unknown): MicError {
  const name = err instanceof DOMException || err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return new MicError('denied', message);
    case 'NotFoundError':
    case 'OverconstrainedError':
    case 'DevicesNotFoundError':
      return new MicError('missing', message);
    case 'NotReadableError':
    case 'AbortError':
    case 'TrackStartError':
      return new MicError('busy', message);
    default:
      return new MicError('audio', message);
  }
}

/**
 * An AudioContext at 8 kHz (Chromium and Firefox support it), created synchronously so it can be made
 * inside the click that starts the call and resumed there (autoplay rules).
 */
export function createPhoneAudioContext(): AudioContext {
  try {
    return new AudioContext({ sampleRate: 8000, latencyHint: 'interactive' });
  } catch {
    return new AudioContext({ latencyHint: 'interactive' });
  }
}

export class MicCapture {
  readonly #stream: MediaStream;
  readonly #source: MediaStreamAudioSourceNode;
  readonly #node: AudioWorkletNode;
  readonly #sink: GainNode;
  #closed = false;

  private constructor(stream: MediaStream, source: MediaStreamAudioSourceNode, node: AudioWorkletNode, sink: GainNode) {
    this.#stream = stream;
    this.#source = source;
    this.#node = node;
    this.#sink = sink;
  }

  /** Asks for the microphone (the permission prompt appears here) and starts delivering frames. */
  static async open(ctx: AudioContext, onFrame: (frame: Float32Array) => void): Promise<MicCapture> {
    if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
      throw new MicError('insecure', 'getUserMedia is only available on https:// or http://localhost pages');
    }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
        video: false,
      });
    } catch (err) {
      throw micErrorFrom(err);
    }
    try {
      await ctx.audioWorklet.addModule(CAPTURE_WORKLET_URL);
      const source = ctx.createMediaStreamSource(stream);
      const node = new AudioWorkletNode(ctx, 'koe-frame-capture', { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1] });
      // The worklet outputs nothing audible; routing it to the destination through a muted gain keeps
      // the graph pulling it in every browser.
      const sink = ctx.createGain();
      sink.gain.value = 0;
      node.port.onmessage = (event: MessageEvent<Float32Array>) => onFrame(event.data);
      source.connect(node);
      node.connect(sink);
      sink.connect(ctx.destination);
      return new MicCapture(stream, source, node, sink);
    } catch (err) {
      for (const track of stream.getTracks()) track.stop();
      throw new MicError('audio', err instanceof Error ? err.message : String(err));
    }
  }

  get label(): string {
    return this.#stream.getAudioTracks()[0]?.label ?? '';
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#node.port.onmessage = null;
    this.#source.disconnect();
    this.#node.disconnect();
    this.#sink.disconnect();
    for (const track of this.#stream.getTracks()) track.stop();
  }
}
