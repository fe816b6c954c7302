// AudioWorklet for the dashboard softphone: turns microphone audio into 20 ms frames of 8 kHz mono
// (160 float samples) and posts each frame to the main thread, which encodes it as μ-law for the
// Twilio Media Streams `media` message. The softphone runs its AudioContext at 8 kHz, so this is
// normally a pass-through; at any other rate it decimates with a box filter.

const TARGET_RATE_HZ = 8000;
const FRAME_SAMPLES = 160;

class KoeFrameCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = sampleRate / TARGET_RATE_HZ;
    this.frame = new Float32Array(FRAME_SAMPLES);
    this.filled = 0;
    this.phase = 0;
    this.sum = 0;
    this.count = 0;
  }

  emit(value) {
    this.frame[this.filled++] = value;
    if (this.filled === FRAME_SAMPLES) {
      const full = this.frame;
      this.port.postMessage(full, [full.buffer]);
      this.frame = new Float32Array(FRAME_SAMPLES);
      this.filled = 0;
    }
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true;
    const length = channels[0].length;
    for (let i = 0; i < length; i++) {
      let sample = 0;
      for (let c = 0; c < channels.length; c++) sample += channels[c][i];
      sample /= channels.length;
      this.sum += sample;
      this.count += 1;
      this.phase += 1;
      while (this.phase >= this.ratio) {
        this.emit(this.sum / this.count);
        this.phase -= this.ratio;
        if (this.phase >= this.ratio) continue;
        this.sum = 0;
        this.count = 0;
      }
    }
    return true;
  }
}

registerProcessor('koe-frame-capture', KoeFrameCapture);
