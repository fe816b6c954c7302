// The typed events one call emits. Storage, the live dashboard and metrics subscribe to these and
// never reach into call internals. Offsets (`atMs`) are milliseconds since the call's media stream started.

export type CallDirection = 'inbound' | 'outbound';
export type AgentState = 'connecting' | 'listening' | 'thinking' | 'speaking' | 'ending' | 'ended';

export type CallEndReason =
  | 'caller_hung_up' // Twilio `stop`
  | 'stream_closed' // the media socket closed without `stop`
  | 'agent_hung_up' // the hang_up tool
  | 'transferred'
  | 'model_failed' // model unreachable or dropped beyond retry: apology played
  | 'setup_failed' // bad agent template or session refused: apology played
  | 'max_duration'
  | 'replaced' // Twilio opened a newer stream for the same call
  | 'server_shutdown'
  // Outbound calls: never answered (status callbacks), or answered by a machine.
  | 'busy'
  | 'no_answer'
  | 'dial_failed'
  | 'canceled'
  | 'answering_machine' // machine detected; the agent hung up without a message
  | 'voicemail_left'; // machine detected; the agent's voicemail message was played, then hung up

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  inputAudioTokens: number;
  outputAudioTokens: number;
  inputTextTokens: number;
  outputTextTokens: number;
  cachedTokens: number;
}

export interface CallInfo {
  callId: string;
  callSid: string;
  streamSid: string;
  accountSid: string;
  agentId: string;
  /** The stored agent version the call used; null when agents are not stored. */
  agentVersion: number | null;
  direction: CallDirection;
  from: string | undefined;
  to: string | undefined;
  model: { url: string; model: string; shape: 'ga' | 'beta' };
  /** Whether both sides are being recorded to `<recordingsDir>/<callId>.wav`. */
  recording: boolean;
}

interface Base {
  callId: string;
  callSid: string;
  /** Milliseconds since the media stream started. */
  atMs: number;
  /** Wall-clock time, ISO 8601. */
  at: string;
}

export type CallEventBody =
  | { type: 'call.started'; call: CallInfo; variables: Record<string, string> }
  | { type: 'agent.state'; state: AgentState }
  | { type: 'transcript.partial'; role: 'user' | 'assistant'; itemId: string; text: string }
  | {
      type: 'turn.user';
      itemId: string;
      /** Null when the speech could not be transcribed. */
      text: string | null;
      startedAtMs: number;
      endedAtMs: number;
      source: 'speech' | 'dtmf';
    }
  | {
      type: 'turn.assistant';
      itemId: string;
      responseId: string;
      /** Everything the model generated for this turn. */
      text: string;
      /** What the caller heard: equal to text unless interrupted (estimated from heard audio ms). */
      heardText: string;
      interrupted: boolean;
      audioMs: number;
      heardMs: number;
      startedAtMs: number;
      endedAtMs: number;
      /** Caller speech end → first agent audio sent; null for turns not answering speech (greeting, tools). */
      latencyMs: number | null;
      greeting: boolean;
    }
  | { type: 'barge_in'; itemId: string; heardMs: number; sentMs: number; truncated: boolean }
  | { type: 'tool.called'; toolCallId: string; name: string; arguments: unknown }
  | { type: 'tool.result'; toolCallId: string; name: string; ok: boolean; output: string; durationMs: number }
  | { type: 'dtmf.received'; digits: string }
  | { type: 'dtmf.sent'; digits: string }
  | { type: 'model.usage'; responseId: string; usage: TokenUsage }
  | { type: 'model.error'; code: string | null; message: string; fatal: boolean }
  | { type: 'model.reconnected'; attempt: number }
  | { type: 'call.error'; message: string }
  | { type: 'call.ended'; reason: CallEndReason; durationMs: number; usage: TokenUsage };

export type CallEvent = Base & CallEventBody;
export type CallEventType = CallEvent['type'];
export type CallEventListener = (event: CallEvent) => void;

export function emptyUsage(): TokenUsage {
  return { inputTokens: 0, outputTokens: 0, inputAudioTokens: 0, outputAudioTokens: 0, inputTextTokens: 0, outputTextTokens: 0, cachedTokens: 0 };
}

/** Sum of two usages (a call's total over its responses). */
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    inputAudioTokens: a.inputAudioTokens + b.inputAudioTokens,
    outputAudioTokens: a.outputAudioTokens + b.outputAudioTokens,
    inputTextTokens: a.inputTextTokens + b.inputTextTokens,
    outputTextTokens: a.outputTextTokens + b.outputTextTokens,
    cachedTokens: a.cachedTokens + b.cachedTokens,
  };
}
