// Tests drive calls with the same Twilio-side simulator `koe simulate` uses (src/simulate), which keeps
// its own wire parsing so a bug in src/twilio cannot hide behind it.
export {
  SimulatedTwilioCall as FakeTwilioCall,
  type SimulatedTwilioCallOptions as FakeTwilioCallOptions,
  type SimulatedTwilioCallStats as FakeTwilioCallStats,
  type SimulatedTwilioCallEvents as FakeTwilioCallEvents,
  randomSid as fakeSid,
  FRAME_BYTES,
  FRAME_MS,
  BYTES_PER_MS,
} from '../../src/simulate/simulated-twilio-call.js';
