// The GA `session.update` a call sends for its agent: μ-law 8 kHz both ways (passed through, never
// transcoded), the agent's voice and rendered instructions, turn detection, input transcription, tools.
import type { Agent, TurnDetectionConfig } from '../agents/index.js';
import type { RealtimeSessionConfig, TurnDetection } from '../realtime/index.js';
import type { FunctionToolDefinition } from './tools/tool-definitions.js';

export type SessionUpdatePayload = RealtimeSessionConfig;

export function turnDetectionPayload(
  config: TurnDetectionConfig,
  overrides: { interruptResponse?: boolean } = {},
): TurnDetection | null {
  switch (config.type) {
    case 'manual':
      return null;
    case 'server_vad': {
      const payload: TurnDetection = {
        type: 'server_vad',
        threshold: config.threshold,
        prefix_padding_ms: config.prefixPaddingMs,
        silence_duration_ms: config.silenceDurationMs,
        create_response: config.createResponse,
        interrupt_response: overrides.interruptResponse ?? config.interruptResponse,
      };
      if (config.idleTimeoutMs !== null) payload.idle_timeout_ms = config.idleTimeoutMs;
      return payload;
    }
    case 'semantic_vad':
      return {
        type: 'semantic_vad',
        eagerness: config.eagerness,
        create_response: config.createResponse,
        interrupt_response: overrides.interruptResponse ?? config.interruptResponse,
      };
  }
}

/** ISO-639-1 code for transcription from a locale such as "ja-JP". */
export function transcriptionLanguage(agent: Pick<Agent, 'language' | 'transcription'>): string | undefined {
  if (agent.transcription?.language) return agent.transcription.language;
  const primary = agent.language.split(/[-_]/)[0]?.toLowerCase();
  return primary && /^[a-z]{2}$/.test(primary) ? primary : undefined;
}

export function buildSessionPayload(opts: {
  agent: Agent;
  instructions: string;
  tools: FunctionToolDefinition[];
  defaultTranscriptionModel: string;
  /** While a greeting must not be cut, the server is told not to cancel it on caller speech. */
  protectGreeting: boolean;
}): SessionUpdatePayload {
  const { agent } = opts;
  const transcription =
    agent.transcription === null
      ? null
      : {
          model: agent.transcription.model ?? opts.defaultTranscriptionModel,
          ...(transcriptionLanguage(agent) ? { language: transcriptionLanguage(agent) as string } : {}),
          ...(agent.transcription.prompt ? { prompt: agent.transcription.prompt } : {}),
        };
  return {
    type: 'realtime',
    output_modalities: ['audio'],
    instructions: opts.instructions,
    audio: {
      input: {
        format: { type: 'audio/pcmu' },
        transcription,
        turn_detection: turnDetectionPayload(agent.turnDetection, opts.protectGreeting ? { interruptResponse: false } : {}),
      },
      output: { format: { type: 'audio/pcmu' }, voice: agent.voice },
    },
    tools: opts.tools,
    tool_choice: 'auto',
  };
}
