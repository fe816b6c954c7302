// Realtime voice names → the voices a synthesizer has. For the embedded one, OpenAI's names are kept
// working so a client written for OpenAI runs unchanged; the embedded Flite voices can also be named
// directly.
import type { Voice } from '../realtime/index.js';

export const EMBEDDED_VOICES = ['slt', 'rms', 'awb', 'kal16'] as const;
export type EmbeddedVoice = (typeof EMBEDDED_VOICES)[number];

const OPENAI_TO_EMBEDDED: Record<string, EmbeddedVoice> = {
  alloy: 'slt',
  coral: 'slt',
  sage: 'slt',
  shimmer: 'slt',
  marin: 'slt',
  ballad: 'awb',
  verse: 'awb',
  ash: 'rms',
  echo: 'rms',
  cedar: 'rms',
};

export function embeddedVoiceFor(voice: Voice): EmbeddedVoice {
  const name = (typeof voice === 'string' ? voice : voice.id).toLowerCase();
  if ((EMBEDDED_VOICES as readonly string[]).includes(name)) return name as EmbeddedVoice;
  return OPENAI_TO_EMBEDDED[name] ?? 'slt';
}

/**
 * Realtime voice names → an OpenAI-compatible speech service's voices: the name is passed through (OpenAI's
 * names are the same on both APIs), unless `override` names the one voice to use whatever the session asks
 * (a service whose voices have other names: Kokoro's `af_heart`, Piper's `en_US-amy-medium`).
 */
export function passThroughVoiceFor(override?: string): (voice: Voice) => string {
  if (override) return () => override;
  return (voice) => (typeof voice === 'string' ? voice : voice.id);
}
