// Environment (+ an optional .env file) → one validated, frozen Config.
// Every bad value is reported at boot with the variable's name, all at once.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
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
  STT_BASE_URL: urlWithProtocols(['https:', 'http:']),
  STT_MODEL: z.preprocess(emptyToUndefined, z.string().default('whisper-1')),
  STT_API_KEY: optionalString,
  STT_LANGUAGE: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[A-Za-z]{2,3}$/, 'must be an ISO-639-1 language code such as en, de or ja')
      .transform((v) => v.toLowerCase())
      .optional(),
  ),
  STT_TIMEOUT_MS: intInRange(1_000, 600_000, 15_000),
  TTS_BASE_URL: urlWithProtocols(['https:', 'http:']),
  TTS_MODEL: z.preprocess(emptyToUndefined, z.string().default('tts-1')),
  TTS_API_KEY: optionalString,
  TTS_VOICE: optionalString,
  TTS_FORMAT: z.preprocess(
    (v) => (typeof v === 'string' ? emptyToUndefined(v.trim().toLowerCase()) : v),
    z.enum(['pcm', 'wav'], { error: 'must be pcm or wav (Koe decodes no compressed audio)' }).default('pcm'),
  ),
  TTS_SAMPLE_RATE_HZ: intInRange(8_000, 48_000, 24_000),
  TTS_TIMEOUT_MS: intInRange(1_000, 600_000, 15_000),
  DATABASE_URL: urlWithProtocols(['postgres:', 'postgresql:']),
  KOE_DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('data')),
  KOE_ADMIN_PASSWORD: z.preprocess(emptyToUndefined, z.string().min(8, 'must be at least 8 characters').optional()),
  KOE_SESSION_TTL_MS: intInRange(60_000, 30 * 86_400_000, 7 * 86_400_000),
  KOE_RECORD_CALLS: boolFlag(false),
  KOE_RECORDINGS_DIR: optionalString,
  KOE_STORE_QUEUE_LIMIT: intInRange(100, 1_000_000, 10_000),
  TWILIO_CALLER_ID: z.preprocess(emptyToUndefined, z.string().regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 number like +15551234567').optional()),
  KOE_DEFAULT_COUNTRY: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166 country code such as US, GB or JP')
      .transform((v) => v.toUpperCase())
      .optional(),
  ),
  KOE_CAMPAIGN_DISPATCH: boolFlag(true),
  KOE_CAMPAIGN_LEASE_MS: intInRange(1_000, 3_600_000, 30_000),
});

/** Variables that only mean something with their stage's base URL. */
const STT_SETTINGS = ['STT_MODEL', 'STT_API_KEY', 'STT_LANGUAGE', 'STT_TIMEOUT_MS'] as const;
const TTS_SETTINGS = ['TTS_MODEL', 'TTS_API_KEY', 'TTS_VOICE', 'TTS_FORMAT', 'TTS_SAMPLE_RATE_HZ', 'TTS_TIMEOUT_MS'] as const;

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
    /** Default caller ID for outbound calls when neither the request nor the agent's numbers give one. */
    readonly callerId: string | undefined;
  };
  readonly outbound: {
    /** ISO 3166 country for numbers written without +, in the API, the CLI and campaign CSVs. */
    readonly defaultCountry: string | undefined;
    /** Whether this process dials running campaigns (every process may; they share the work safely). */
    readonly dispatchCampaigns: boolean;
    /** How long a claimed contact stays with a process that stopped before Twilio confirmed the call. */
    readonly leaseMs: number;
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
  readonly store: {
    /** PostgreSQL when set; otherwise embedded PGlite in `<dataDir>/pglite`. */
    readonly databaseUrl: string | undefined;
    readonly dataDir: string;
    /** Ops the call-event writer holds while the database is slow or down before dropping the least valuable. */
    readonly queueLimit: number;
  };
  readonly dashboard: {
    /** Undefined: a random password is generated once and kept in `<dataDir>/admin-password` (mode 0600). */
    readonly adminPassword: string | undefined;
    readonly sessionTtlMs: number;
  };
  readonly recording: {
    readonly enabled: boolean;
    readonly dir: string;
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
  /** The engine's speech-to-text: pocketsphinx in-process, or an OpenAI-compatible `/audio/transcriptions` endpoint. */
  readonly stt:
    | { readonly kind: 'embedded' }
    | {
        readonly kind: 'http';
        readonly baseUrl: string;
        readonly model: string;
        readonly apiKey: string | undefined;
        /** ISO-639-1; used when the session names no transcription language. */
        readonly language: string | undefined;
        readonly timeoutMs: number;
      };
  /** The engine's text-to-speech: Flite in-process, or an OpenAI-compatible `/audio/speech` endpoint. */
  readonly tts:
    | { readonly kind: 'embedded' }
    | {
        readonly kind: 'http';
        readonly baseUrl: string;
        readonly model: string;
        readonly apiKey: string | undefined;
        /** Replaces the voice every session asks for; unset passes the session's voice name through. */
        readonly voice: string | undefined;
        readonly format: 'pcm' | 'wav';
        readonly sampleRateHz: number;
        readonly timeoutMs: number;
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
  for (const [baseUrl, names] of [
    ['STT_BASE_URL', STT_SETTINGS],
    ['TTS_BASE_URL', TTS_SETTINGS],
  ] as const) {
    if (e[baseUrl]) continue;
    for (const name of names) {
      if (typeof env[name] === 'string' && env[name].trim() !== '') {
        problems.push(`${name}: only used with ${baseUrl} (the OpenAI-compatible API root, e.g. https://api.openai.com/v1); set it or remove ${name}`);
      }
    }
  }
  // OPENAI_API_KEY is not borrowed: setting it also sends calls to OpenAI's Realtime service instead of the engine.
  if (isOpenAiHost(e.STT_BASE_URL) && !e.STT_API_KEY) problems.push('STT_API_KEY: required for api.openai.com');
  if (isOpenAiHost(e.TTS_BASE_URL) && !e.TTS_API_KEY) problems.push('TTS_API_KEY: required for api.openai.com');
  if (isOpenAiHost(e.TTS_BASE_URL) && e.TTS_FORMAT === 'pcm' && e.TTS_SAMPLE_RATE_HZ !== 24_000) {
    problems.push("TTS_SAMPLE_RATE_HZ: OpenAI's pcm is 24000 Hz; leave it unset, or use TTS_FORMAT=wav to convert");
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const llm: Config['llm'] = e.LLM_GGUF
    ? { kind: 'gguf', modelPath: e.LLM_GGUF, contextSize: e.LLM_CONTEXT_SIZE, threads: e.LLM_THREADS, maxTokens: e.LLM_MAX_TOKENS, temperature: e.LLM_TEMPERATURE }
    : e.LLM_BASE_URL
      ? { kind: 'chat-completions', baseUrl: e.LLM_BASE_URL, model: e.LLM_MODEL as string, apiKey: e.LLM_API_KEY, timeoutMs: e.LLM_TIMEOUT_MS, temperature: e.LLM_TEMPERATURE }
      : { kind: 'embedded' };
  const stt: Config['stt'] = e.STT_BASE_URL
    ? { kind: 'http', baseUrl: e.STT_BASE_URL, model: e.STT_MODEL, apiKey: e.STT_API_KEY, language: e.STT_LANGUAGE, timeoutMs: e.STT_TIMEOUT_MS }
    : { kind: 'embedded' };
  const tts: Config['tts'] = e.TTS_BASE_URL
    ? {
        kind: 'http',
        baseUrl: e.TTS_BASE_URL,
        model: e.TTS_MODEL,
        apiKey: e.TTS_API_KEY,
        voice: e.TTS_VOICE,
        format: e.TTS_FORMAT,
        sampleRateHz: e.TTS_SAMPLE_RATE_HZ,
        timeoutMs: e.TTS_TIMEOUT_MS,
      }
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
      callerId: e.TWILIO_CALLER_ID,
    },
    outbound: { defaultCountry: e.KOE_DEFAULT_COUNTRY, dispatchCampaigns: e.KOE_CAMPAIGN_DISPATCH, leaseMs: e.KOE_CAMPAIGN_LEASE_MS },
    agentsFile: e.KOE_AGENTS_FILE,
    defaultAgentId: e.KOE_DEFAULT_AGENT,
    streamSecret: e.KOE_STREAM_SECRET ?? randomBytes(32).toString('base64url'),
    streamSecretIsEphemeral: e.KOE_STREAM_SECRET === undefined,
    streamTokenTtlMs: e.STREAM_TOKEN_TTL_MS,
    maxCallDurationMs: e.MAX_CALL_DURATION_MS,
    toolTimeoutMs: e.TOOL_TIMEOUT_MS,
    trustProxy: e.KOE_TRUST_PROXY,
    engine: { apiKey: e.KOE_ENGINE_KEY, sttDecoders: e.ENGINE_STT_DECODERS, ttsWorkers: e.ENGINE_TTS_WORKERS },
    store: { databaseUrl: e.DATABASE_URL, dataDir: e.KOE_DATA_DIR, queueLimit: e.KOE_STORE_QUEUE_LIMIT },
    dashboard: { adminPassword: e.KOE_ADMIN_PASSWORD, sessionTtlMs: e.KOE_SESSION_TTL_MS },
    recording: { enabled: e.KOE_RECORD_CALLS, dir: e.KOE_RECORDINGS_DIR ?? join(e.KOE_DATA_DIR, 'recordings') },
    llm,
    stt,
    tts,
  };
  return deepFreeze(config);
}

/** OpenAI's own API, which refuses requests without a key. */
function isOpenAiHost(url: string | undefined): boolean {
  if (!url) return false;
  try {
    return new URL(url).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child as object);
  }
  return Object.freeze(value);
}
