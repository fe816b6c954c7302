/**
 * Scores fixed-size frames of 16 kHz audio with a speech probability. Stateful (a recurrent model
 * carries context from frame to frame), so each audio stream needs its own scorer.
 */
export interface FrameScorer {
  readonly sampleRateHz: number;
  /** Samples per `score` call. */
  readonly frameSamples: number;
  /**
   * How far the scores trail the audio: the score returned for a frame describes audio that ended about
   * this long before that frame's end. The VAD stream shifts its event times back by this much.
   */
  readonly delayMs: number;
  /** Probability in [0, 1] that the frame is speech. `frame` holds exactly `frameSamples` samples in [-1, 1]. */
  score(frame: Float32Array): number;
  /** Forget all context (new audio stream). */
  reset(): void;
  /** Releases the model. Idempotent; `score` afterwards throws. */
  close(): void;
}

export type FrameScorerFactory = () => FrameScorer;
