export type { FrameScorer, FrameScorerFactory } from './frame-scorer.js';
export { SileroScorer, sileroModelPath, sileroVadStream, type SileroScorerOptions, type SileroVadStreamOptions } from './silero-scorer.js';
export { TELEPHONY_TONES, ToneDetector, ToneGatedScorer, type ToneGateOptions } from './tone-gate.js';
export {
  VadStateMachine,
  defaultVadOptions,
  resolveVadOptions,
  type VadEvent,
  type VadFrame,
  type VadOptions,
  type VadState,
} from './vad-state-machine.js';
export { VadStream, type VadStreamOptions } from './vad-stream.js';
