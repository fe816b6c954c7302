// Token accounting as the protocol reports it: `response.done.usage`, the usage of an input
// transcription, and `rate_limits.updated` (realtime.md §b.4, §b.9). Koe's engine does not meter
// tokens, so the core estimates them at the service's rates unless the brain knows better.

import type { RateLimit, ResponseUsage, TranscriptionUsage } from '../../realtime/index.js';
import type { ResponseUsageCounts } from './contract.js';

/** About four characters per text token. */
export function textTokensOf(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Input audio: 10 tokens a second. */
export function inputAudioTokensOf(audioMs: number): number {
  return Math.ceil(audioMs / 100);
}

/** Output audio: 20 tokens a second. */
export function outputAudioTokensOf(audioMs: number): number {
  return Math.ceil(audioMs / 50);
}

export function responseUsage(counts: ResponseUsageCounts): ResponseUsage {
  const input = counts.inputTextTokens + counts.inputAudioTokens;
  const output = counts.outputTextTokens + counts.outputAudioTokens;
  return {
    total_tokens: input + output,
    input_tokens: input,
    output_tokens: output,
    input_token_details: {
      text_tokens: counts.inputTextTokens,
      audio_tokens: counts.inputAudioTokens,
      image_tokens: 0,
      cached_tokens: 0,
      cached_tokens_details: { text_tokens: 0, audio_tokens: 0, image_tokens: 0 },
    },
    output_token_details: { text_tokens: counts.outputTextTokens, audio_tokens: counts.outputAudioTokens },
  };
}

/** `whisper-1` bills by duration, the newer transcription models by tokens. */
export function transcriptionUsage(model: string | undefined, audioMs: number, transcript: string): TranscriptionUsage {
  if (model === 'whisper-1') return { type: 'duration', seconds: Math.round(audioMs) / 1000 };
  const audioTokens = inputAudioTokensOf(audioMs);
  const textTokens = textTokensOf(transcript);
  return {
    type: 'tokens',
    total_tokens: audioTokens + textTokens,
    input_tokens: audioTokens,
    input_token_details: { text_tokens: 0, audio_tokens: audioTokens },
    output_tokens: textTokens,
  };
}

const TOKENS_PER_MINUTE = 40000;
const TOKENS_RESERVED_PER_RESPONSE = 500;

/** Once per response; the tokens left shrink with the responses created so far. */
export function rateLimitsAfter(responseCount: number): RateLimit[] {
  const remaining = Math.max(0, TOKENS_PER_MINUTE - TOKENS_RESERVED_PER_RESPONSE * responseCount);
  return [{ name: 'tokens', limit: TOKENS_PER_MINUTE, remaining, reset_seconds: 2.265 }];
}
