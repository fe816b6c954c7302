// Environment (+ an optional .env file) → one validated, frozen Config.
// Every bad value is reported at boot with the variable's name, all at once.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

const OPENAI_REALTIME_URL = 'wss://api.openai.com/v1/realtime';

const emptyToUndefined = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const intInRange = (min: number, max: number, fallback: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).max(max).default(fallback));
const boolFlag = (fallback: boolean) =>
  z.preprocess(
    emptyToUndefined,
    z
      .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => ['1', 'true', 'yes', 'on'].includes(v)),
  );
const urlWithProtocols = (protocols: string[]) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`)
      .optional(),
  );

const envSchema = z.object({
  PORT: intInRange(0, 65535, 5050),
  HOST: z.preprocess(emptyToUndefined, z.string().default('0.0.0.0')),
  PUBLIC_URL: urlWithProtocols(['https:', 'http:']),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  OPENAI_API_KEY: optionalString,
  REALTIME_URL: urlWithProtocols(['wss:', 'ws:']),
  REALTIME_MODEL: z.preprocess(emptyToUndefined, z.string().default('gpt-realtime')),
  REALTIME_API_SHAPE: z.preprocess(emptyToUndefined, z.enum(['ga', 'beta']).default('ga')),
  REALTIME_CONNECT_TIMEOUT_MS: intInRange(100, 60_000, 5_000),
  TRANSCRIPTION_MODEL: z.preprocess(emptyToUndefined, z.string().default('gpt-4o-mini-transcribe')),
  TWILIO_ACCOUNT_SID: optionalString,
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_API_BASE_URL: urlWithProtocols(['https:', 'http:']),
  KOE_AGENTS_FILE: z.preprocess(emptyToUndefined, z.string().default('agents.yaml')),
  KOE_DEFAULT_AGENT: optionalString,
  KOE_STREAM_SECRET: optionalString,
  STREAM_TOKEN_TTL_MS: intInRange(5_000, 3_600_000, 120_000),
  MAX_CALL_DURATION_MS: intInRange(10_000, 86_400_000, 4 * 3_600_000),
  TOOL_TIMEOUT_MS: intInRange(100, 120_000, 8_000),
  KOE_TRUST_PROXY: boolFlag(false),
  KOE_ENGINE_KEY: optionalString,
  ENGINE_STT_DECODERS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(16).optional()),
  ENGINE_TTS_WORKERS: intInRange(1, 16, 1),
  LLM_BASE_URL: urlWithProtocols(['https:', 'http:']),
  LLM_MODEL: optionalString,
  LLM_API_KEY: optionalString,
  LLM_TIMEOUT_MS: intInRange(1_000, 600_000, 30_000),
  LLM_TEMPERATURE: z.preprocess(emptyToUndefined, z.coerce.number().min(0).max(2).optional()),
  LLM_GGUF: optionalString,
  LLM_CONTEXT_SIZE: z.preprocess(emptyToUndefined, z.coerce.number().int().min(256).max(131_072).optional()),
  LLM_THREADS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(256).optional()),
  LLM_MAX_TOKENS: intInRange(16, 32_768, 512),
});

export type RealtimeShape = 'ga' | 'beta';

export interface Config {
  readonly port: number;
  readonly host: string;
  /** The public base URL Twilio reaches Koe at, e.g. https://koe.example.com (no trailing slash). */
  readonly publicUrl: string | undefined;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly realtime: {
    /** Undefined means the built-in engine on this server (set once the server knows its port). */
    readonly url: string | undefined;
    readonly apiKey: string | undefined;
    readonly model: string;
    readonly shape: RealtimeShape;
    readonly connectTimeoutMs: number;
    readonly transcriptionModel: string;
  };
  readonly twilio: {
    readonly accountSid: string | undefined;
    readonly authToken: string | undefined;
    readonly apiBaseUrl: string | undefined;
  };
  readonly agentsFile: string;
  readonly defaultAgentId: string | undefined;
  readonly streamSecret: string;
  /** True when KOE_STREAM_SECRET was not set: tokens only verify on the process that minted them. */
  readonly streamSecretIsEphemeral: boolean;
  readonly streamTokenTtlMs: number;
  readonly maxCallDurationMs: number;
  readonly toolTimeoutMs: number;
  readonly trustProxy: boolean;
  readonly engine: {
    /** Bearer token required on /v1/realtime; without it only loopback clients may connect. */
    readonly apiKey: string | undefined;
    readonly sttDecoders: number | undefined;
    readonly ttsWorkers: number;
  };
  /** The engine's dialogue step: a GGUF file, else an OpenAI-compatible endpoint, else the embedded engine. */
  readonly llm:
    | { readonly kind: 'embedded' }
    | {
        readonly kind: 'chat-completions';
        readonly baseUrl: string;
        readonly model: string;
        readonly apiKey: string | undefined;
        readonly timeoutMs: number;
        readonly temperature: number | undefined;
      }
    | {
        readonly kind: 'gguf';
        readonly modelPath: string;
        readonly contextSize: number | undefined;
        readonly threads: number | undefined;
        readonly maxTokens: number;
        readonly temperature: number | undefined;
      };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Builds the configuration from an environment map; throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (Boolean(e.TWILIO_ACCOUNT_SID) !== Boolean(e.TWILIO_AUTH_TOKEN) && e.TWILIO_ACCOUNT_SID) {
    problems.push('TWILIO_AUTH_TOKEN: required when TWILIO_ACCOUNT_SID is set');
  }
  if (e.TWILIO_ACCOUNT_SID && !/^AC[0-9a-fA-F]{32}$/.test(e.TWILIO_ACCOUNT_SID)) {
    problems.push('TWILIO_ACCOUNT_SID: must look like AC followed by 32 hex characters');
  }
  if (e.LLM_BASE_URL && !e.LLM_MODEL && !e.LLM_GGUF) {
    problems.push('LLM_MODEL: required with LLM_BASE_URL (the model name the endpoint serves)');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const llm: Config['llm'] = e.LLM_GGUF
    ? { kind: 'gguf', modelPath: e.LLM_GGUF, contextSize: e.LLM_CONTEXT_SIZE, threads: e.LLM_THREADS, maxTokens: e.LLM_MAX_TOKENS, temperature: e.LLM_TEMPERATURE }
    : e.LLM_BASE_URL
      ? { kind: 'chat-completions', baseUrl: e.LLM_BASE_URL, model: e.LLM_MODEL as string, apiKey: e.LLM_API_KEY, timeoutMs: e.LLM_TIMEOUT_MS, temperature: e.LLM_TEMPERATURE }
      : { kind: 'embedded' };
  const realtimeUrl = e.REALTIME_URL ?? (e.OPENAI_API_KEY ? OPENAI_REALTIME_URL : undefined);
  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    logLevel: e.LOG_LEVEL,
    realtime: {
      url: realtimeUrl,
      apiKey: e.OPENAI_API_KEY,
      model: e.REALTIME_MODEL,
      shape: e.REALTIME_API_SHAPE,
      connectTimeoutMs: e.REALTIME_CONNECT_TIMEOUT_MS,
      transcriptionModel: e.TRANSCRIPTION_MODEL,
    },
    twilio: {
      accountSid: e.TWILIO_ACCOUNT_SID,
      authToken: e.TWILIO_AUTH_TOKEN,
      apiBaseUrl: e.TWILIO_API_BASE_URL,
    },
    agentsFile: e.KOE_AGENTS_FILE,
    defaultAgentId: e.KOE_DEFAULT_AGENT,
    streamSecret: e.KOE_STREAM_SECRET ?? randomBytes(32).toString('base64url'),
    streamSecretIsEphemeral: e.KOE_STREAM_SECRET === undefined,
    streamTokenTtlMs: e.STREAM_TOKEN_TTL_MS,
    maxCallDurationMs: e.MAX_CALL_DURATION_MS,
    toolTimeoutMs: e.TOOL_TIMEOUT_MS,
    trustProxy: e.KOE_TRUST_PROXY,
    engine: { apiKey: e.KOE_ENGINE_KEY, sttDecoders: e.ENGINE_STT_DECODERS, ttsWorkers: e.ENGINE_TTS_WORKERS },
    llm,
  };
  return deepFreeze(config);
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child as object);
  }
  return Object.freeze(value);
}
