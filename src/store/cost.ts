// What a call's model usage cost, estimated from token counts and list prices, and which backend served it.
import type { TokenUsage } from '../call/call-events.js';

/** USD per 1 million tokens. */
export interface ModelPrices {
  textInput: number;
  textCachedInput: number;
  textOutput: number;
  audioInput: number;
  audioCachedInput: number;
  audioOutput: number;
}

/**
 * OpenAI's list prices for its Realtime models (developers.openai.com/api/docs/models/<model>, checked
 * when this table was written). Dated snapshots (`gpt-realtime-2025-08-28`) use their model's prices.
 */
export const REALTIME_PRICES_USD_PER_1M: Readonly<Record<string, ModelPrices>> = {
  'gpt-realtime': { textInput: 4, textCachedInput: 0.4, textOutput: 16, audioInput: 32, audioCachedInput: 0.4, audioOutput: 64 },
  'gpt-realtime-1.5': { textInput: 4, textCachedInput: 0.4, textOutput: 16, audioInput: 32, audioCachedInput: 0.4, audioOutput: 64 },
  'gpt-realtime-mini': { textInput: 0.6, textCachedInput: 0.06, textOutput: 2.4, audioInput: 10, audioCachedInput: 0.3, audioOutput: 20 },
  'gpt-4o-realtime-preview': { textInput: 5, textCachedInput: 2.5, textOutput: 20, audioInput: 40, audioCachedInput: 2.5, audioOutput: 80 },
  'gpt-4o-mini-realtime-preview': { textInput: 0.6, textCachedInput: 0.3, textOutput: 2.4, audioInput: 10, audioCachedInput: 0.3, audioOutput: 20 },
};

/** Koe's built-in engine: runs locally, costs nothing per token. */
export const ENGINE_BACKEND = 'engine';
export const OPENAI_BACKEND = 'openai';

const SNAPSHOT_SUFFIX = /-\d{4}-\d{2}-\d{2}$/;

export function pricesFor(model: string): ModelPrices | undefined {
  return REALTIME_PRICES_USD_PER_1M[model] ?? REALTIME_PRICES_USD_PER_1M[model.replace(SNAPSHOT_SUFFIX, '')];
}

/**
 * Estimated USD for `usage`: 0 on the built-in engine, null for a model without known prices.
 * Usage reports cached input tokens without saying how many were text or audio, so they are split in
 * proportion to the input's text/audio mix.
 */
export function estimateCostUsd(backend: string, model: string, usage: TokenUsage): number | null {
  if (backend === ENGINE_BACKEND) return 0;
  const prices = pricesFor(model);
  if (!prices) return null;
  const inputText = Math.max(0, usage.inputTextTokens);
  const inputAudio = Math.max(0, usage.inputAudioTokens);
  const inputTotal = inputText + inputAudio;
  const cached = Math.min(Math.max(0, usage.cachedTokens), inputTotal);
  const cachedText = inputTotal > 0 ? (cached * inputText) / inputTotal : 0;
  const cachedAudio = cached - cachedText;
  // tokens × USD per million tokens = millionths of a dollar
  const microUsd =
    (inputText - cachedText) * prices.textInput +
    cachedText * prices.textCachedInput +
    (inputAudio - cachedAudio) * prices.audioInput +
    cachedAudio * prices.audioCachedInput +
    Math.max(0, usage.outputTextTokens) * prices.textOutput +
    Math.max(0, usage.outputAudioTokens) * prices.audioOutput;
  // Micro-dollar precision: enough for sums over many calls, without float noise in the records.
  return Math.round(microUsd) / 1_000_000;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * The backend named by a Realtime URL: `openai` for api.openai.com, `engine` for Koe's built-in engine
 * (its /v1/realtime on this machine), otherwise the URL's host.
 */
export function backendName(realtimeUrl: string): string {
  let url: URL;
  try {
    url = new URL(realtimeUrl);
  } catch {
    return 'unknown';
  }
  if (url.hostname === 'api.openai.com') return OPENAI_BACKEND;
  if (LOOPBACK_HOSTS.has(url.hostname) && url.pathname.replace(/\/+$/, '').endsWith('/v1/realtime')) return ENGINE_BACKEND;
  return url.host;
}
