// One phone call: wires a Twilio media stream to a realtime model connection.
//
// Caller audio goes to the model untouched (μ-law both ways). Model audio goes to Twilio in whole-frame
// chunks, each followed by a mark, so the PlaybackTracker always knows what the caller heard. Barge-in
// clears Twilio's buffer and truncates the reply at the last acknowledged mark. The greeting, tools,
// DTMF, transcripts and the call's end are handled here; storage and dashboards only see CallEvents.
import type { Agent } from '../agents/index.js';
import { generateDtmfMulaw } from '../audio/index.js';
import type { Logger } from '../log/logger.js';
import type { KoeMetrics } from '../metrics/metrics.js';
import type { FunctionCallItem, RealtimeClientEvent, RealtimeServerEvent } from '../realtime/index.js';
import { isKnownServerEvent } from '../realtime/index.js';
import type { CallControl } from '../twilio/index.js';
import { transferTwiml } from '../twilio/index.js';
import type { AgentState, CallEndReason, CallEvent, CallEventBody, CallEventListener, CallInfo, TokenUsage } from './call-events.js';
import { emptyUsage } from './call-events.js';
import { estimateHeardText } from './heard-text.js';
import { ModelLink } from './model-link.js';
import type { ModelConnector, ModelSetupError } from './model-link.js';
import { OutboundChunker } from './outbound-chunker.js';
import type { OutboundChunk } from './outbound-chunker.js';
import { PlaybackTracker } from './playback-tracker.js';
import { buildSessionPayload, turnDetectionPayload } from './session-config.js';
import { toolDefinitions } from './tools/tool-definitions.js';
import { ToolRunner } from './tools/tool-runner.js';
import type { ToolOutcome, TransferTarget } from './tools/tool-runner.js';

/** The Twilio side of the call as the session needs it: outbound messages and closing the stream. */
export interface TwilioMediaSink {
  sendMedia(mulaw: Uint8Array): void;
  sendMark(name: string): void;
  sendClear(): void;
  close(): void;
}

export interface CallSessionOptions {
  info: CallInfo;
  agent: Agent;
  variables: Record<string, string>;
  /** Rendered instructions and greeting (templates filled before the session starts). */
  instructions: string;
  greeting: string | undefined;
  twilio: TwilioMediaSink;
  connectModel: ModelConnector;
  callControl: CallControl | undefined;
  apologyClip: Uint8Array;
  settings: {
    handshakeTimeoutMs: number;
    transcriptionModel: string;
    toolTimeoutMs: number;
    maxCallDurationMs: number;
    /** Upper bound on waiting for a goodbye or transfer announcement to be heard. */
    afterSpeechTimeoutMs?: number;
    maxBufferedAudioMs?: number;
  };
  log: Logger;
  metrics: KoeMetrics;
  onEvent: CallEventListener;
  fetchImpl?: typeof fetch;
  /** Set when the call cannot start (e.g. a template variable is missing): the caller hears the apology. */
  setupError?: string;
}

interface AssistantItem {
  itemId: string;
  /** From a model session that was lost: it still plays out, but the new session cannot truncate it. */
  stale: boolean;
  responseId: string;
  text: string;
  startedAtMs: number;
  latencyMs: number | null;
  greeting: boolean;
  audioDone: boolean;
  interrupted: boolean;
  finalized: boolean;
}

interface ActiveResponse {
  id: string;
  greeting: boolean;
  hadAudio: boolean;
  /** When the caller's speech that this response answers ended (performance.now()), for latency. */
  answersSpeechEndedAt: number | undefined;
  toolRuns: Array<Promise<{ callId: string; outcome: ToolOutcome }>>;
}

type AfterSpeech = { kind: 'hang_up'; reason: string | undefined; endReason?: CallEndReason } | { kind: 'transfer'; target: TransferTarget; resolve: () => void; reject: (err: Error) => void };

const DEFAULT_AFTER_SPEECH_TIMEOUT_MS = 20_000;
const USER_SPEECH_MAX_BUFFER_MS = 30_000;

export class CallSession {
  readonly info: CallInfo;
  readonly #opts: CallSessionOptions;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  readonly #startedAt = performance.now();
  readonly #playback = new PlaybackTracker();
  readonly #chunker = new OutboundChunker({ maxChunkMs: 100 });
  readonly #link: ModelLink;
  readonly #tools: ToolRunner;
  readonly #items = new Map<string, AssistantItem>();
  readonly #userSpeech = new Map<string, { startedAtMs: number; endedAtMs: number | undefined; partial: string }>();
  readonly #usage: TokenUsage = emptyUsage();
  #state: AgentState = 'connecting';
  #ended = false;
  #endingReason: CallEndReason | undefined;
  #active: ActiveResponse | undefined;
  #queuedResponse: Record<string, unknown> | undefined;
  /** A response.create was sent and its response.created has not arrived yet. */
  #responseRequested = false;
  #greetingProtected: boolean;
  #greetingSent = false;
  /** Set between asking for the greeting and its response.created (for servers that do not echo metadata). */
  #awaitingGreeting = false;
  #leavingVoicemail = false;
  #lastSpeechEndedAt: number | undefined;
  #afterSpeech: AfterSpeech | undefined;
  /** Responses whose tool results are still being gathered and sent back. */
  #toolCompletionsPending = 0;
  #afterSpeechTimer: NodeJS.Timeout | undefined;
  #dtmfDigits = '';
  #dtmfTimer: NodeJS.Timeout | undefined;
  #maxDurationTimer: NodeJS.Timeout | undefined;
  /** Conversation so far, to re-seed a replacement model session after a drop. */
  readonly #history: Array<{ role: 'user' | 'assistant'; text: string }> = [];

  constructor(opts: CallSessionOptions) {
    this.#opts = opts;
    this.info = opts.info;
    this.#log = opts.log;
    this.#greetingProtected = Boolean(opts.greeting) && !opts.agent.greetingInterruptible;
    const tools = toolDefinitions(opts.agent.tools);
    this.#tools = new ToolRunner(opts.agent.tools, this.#toolHost(), {
      defaultTimeoutMs: opts.settings.toolTimeoutMs,
      log: this.#log,
      ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
    });
    this.#link = new ModelLink({
      connect: opts.connectModel,
      sessionPayload: () =>
        buildSessionPayload({
          agent: opts.agent,
          instructions: opts.instructions,
          tools,
          defaultTranscriptionModel: opts.settings.transcriptionModel,
          protectGreeting: this.#greetingProtected,
        }),
      conversationSeed: () => this.#conversationSeed(),
      handshakeTimeoutMs: opts.settings.handshakeTimeoutMs,
      maxBufferedAudioMs: opts.settings.maxBufferedAudioMs ?? USER_SPEECH_MAX_BUFFER_MS,
      maxReconnects: 1,
      log: this.#log,
      metrics: opts.metrics,
      signal: this.#abort.signal,
    });
    this.#link.on('ready', ({ reconnect }) => this.#onModelReady(reconnect));
    this.#link.on('event', (event) => this.#onModelEvent(event));
    this.#link.on('failed', (err) => this.#onModelFailed(err));
  }

  get ended(): boolean {
    return this.#ended;
  }

  get agentState(): AgentState {
    return this.#state;
  }

  /** Starts the call: announces it and connects the model. */
  start(): void {
    this.#emit({ type: 'call.started', call: this.info, variables: this.#opts.variables });
    this.#opts.metrics.callsStarted.inc({ direction: this.info.direction });
    this.#opts.metrics.callsActive.inc();
    this.#maxDurationTimer = setTimeout(() => this.end('max_duration'), this.#opts.settings.maxCallDurationMs);
    if (this.#opts.setupError) {
      this.#emit({ type: 'call.error', message: this.#opts.setupError });
      this.#endWithApology('setup_failed');
      return;
    }
    this.#link.start();
  }

  // ── Twilio side ────────────────────────────────────────────────────────────

  onCallerAudio(mulaw: Buffer): void {
    // An answering machine's recording beep and silence must not start turns under the voicemail message.
    if (this.#ended || this.#leavingVoicemail) return;
    this.#link.appendAudio(mulaw, performance.now());
  }

  onMark(name: string): void {
    if (this.#ended) return;
    const ack = this.#playback.acknowledge(name);
    if (!ack) return;
    this.#finalizeHeardItems();
    if (!this.#playback.audible) {
      if (this.#state === 'speaking' && !this.#active) this.#setState('listening');
      this.#maybeRunAfterSpeech();
    }
  }

  /**
   * An answering machine took the call (asynchronous AMD, at the end of its greeting): stop what is
   * playing, say `message` in the agent's voice, and hang up once it was played.
   */
  leaveVoicemail(message: string): void {
    if (this.#ended || this.#leavingVoicemail) return;
    this.#leavingVoicemail = true;
    this.#log.info('answering machine: leaving the voicemail message');
    // Nothing the machine plays may cut the message.
    this.#greetingProtected = true;
    const active = this.#active;
    if (active || this.#playback.itemsInPlayback().length > 0) {
      this.#bargeIn();
      // With server VAD the service cancels on speech; nobody spoke here, so cancel explicitly.
      if (active && this.#serverCancelsOnSpeech()) this.#link.send({ type: 'response.cancel', response_id: active.id });
    }
    this.#queuedResponse = undefined;
    this.#requestResponse({
      instructions: `You reached an answering machine. Leave this message by saying exactly this, and nothing else: "${message}"`,
      metadata: { koe_purpose: 'voicemail', koe_say: message.slice(0, 512) },
      tool_choice: 'none',
    });
    // A voicemail message may run longer than a goodbye; the machine hangs up on its own after a while anyway.
    this.#scheduleAfterSpeech({ kind: 'hang_up', reason: 'voicemail left', endReason: 'voicemail_left' }, 60_000);
  }

  /** An answering machine took the call and the agent leaves no message. */
  hangUpOnMachine(): void {
    this.#log.info('answering machine: hanging up');
    this.end('answering_machine');
  }

  onDtmf(digit: string): void {
    if (this.#ended) return;
    this.#dtmfDigits += digit;
    clearTimeout(this.#dtmfTimer);
    if (digit === '#' || this.#opts.agent.dtmfDebounceMs === 0) this.#flushDtmf();
    else this.#dtmfTimer = setTimeout(() => this.#flushDtmf(), this.#opts.agent.dtmfDebounceMs);
  }

  /** Twilio sent `stop`, or the media socket closed. */
  onTwilioEnded(kind: 'stop' | 'closed'): void {
    const reason = this.#endingReason ?? (kind === 'stop' ? 'caller_hung_up' : 'stream_closed');
    this.end(reason, { twilioGone: true });
  }

  // ── Model side ─────────────────────────────────────────────────────────────

  #onModelReady(reconnect: boolean): void {
    if (this.#ended) return;
    if (reconnect) {
      // Items of the lost session still play out at Twilio, but the new session does not know them:
      // no more audio comes for them, and they can no longer be truncated.
      for (const item of this.#items.values()) {
        item.stale = true;
        item.audioDone = true;
      }
      this.#sendChunks(this.#chunker.flush());
      this.#finalizeHeardItems();
      this.#active = undefined;
      this.#responseRequested = false;
      this.#emit({ type: 'model.reconnected', attempt: 1 });
      this.#setState(this.#playback.audible ? 'speaking' : 'listening');
      if (this.#awaitingGreeting) this.#requestGreeting();
      this.#sendQueuedResponse();
      return;
    }
    this.#setState('listening');
    if (this.#opts.greeting && !this.#greetingSent) {
      this.#greetingSent = true;
      this.#awaitingGreeting = true;
      this.#requestGreeting();
    }
    this.#sendQueuedResponse();
  }

  #requestGreeting(): void {
    const greeting = this.#opts.greeting ?? '';
    this.#requestResponse({
      instructions: `Greet the caller now by saying exactly this, and nothing else: "${greeting}"`,
      metadata: { koe_purpose: 'greeting', koe_say: greeting.slice(0, 512) },
    });
  }

  #onModelFailed(err: ModelSetupError): void {
    if (this.#ended) return;
    this.#log.error({ err: err.message }, 'model unavailable; playing the apology and ending the call');
    this.#emit({ type: 'model.error', code: null, message: err.message, fatal: true });
    this.#endWithApology(err.retryable ? 'model_failed' : 'setup_failed');
  }

  #onModelEvent(event: RealtimeServerEvent): void {
    if (this.#ended || !isKnownServerEvent(event)) return;
    switch (event.type) {
      case 'input_audio_buffer.speech_started':
        this.#onSpeechStarted(event.item_id, event.audio_start_ms);
        break;
      case 'input_audio_buffer.speech_stopped':
        this.#onSpeechStopped(event.item_id, event.audio_end_ms);
        break;
      case 'conversation.item.input_audio_transcription.delta': {
        const speech = this.#userSpeech.get(event.item_id);
        if (speech) {
          speech.partial += event.delta;
          this.#emit({ type: 'transcript.partial', role: 'user', itemId: event.item_id, text: speech.partial });
        }
        break;
      }
      case 'conversation.item.input_audio_transcription.completed':
        this.#onUserTranscript(event.item_id, event.transcript);
        break;
      case 'conversation.item.input_audio_transcription.failed':
        this.#onUserTranscript(event.item_id, null);
        break;
      case 'response.created':
        this.#onResponseCreated(event.response.id, event.response.metadata);
        break;
      case 'response.output_item.added':
        if (event.item.type === 'message' && event.item.id && this.#active) this.#addAssistantItem(event.item.id, this.#active);
        break;
      case 'response.output_audio.delta':
        this.#onAudioDelta(event.item_id, event.delta);
        break;
      case 'response.output_audio_transcript.delta': {
        const item = this.#items.get(event.item_id);
        if (item && !item.interrupted) {
          item.text += event.delta;
          this.#emit({ type: 'transcript.partial', role: 'assistant', itemId: item.itemId, text: item.text });
        }
        break;
      }
      case 'response.output_audio_transcript.done': {
        const item = this.#items.get(event.item_id);
        if (item && !item.interrupted) item.text = event.transcript;
        break;
      }
      case 'response.output_audio.done':
        this.#onAudioDone(event.item_id);
        break;
      case 'response.output_item.done':
        if (event.item.type === 'function_call') this.#onFunctionCall(event.item);
        break;
      case 'response.done':
        this.#onResponseDone(event.response);
        break;
      case 'error':
        this.#onModelError(event.error);
        break;
      default:
        break;
    }
  }

  #onSpeechStarted(itemId: string, audioStartMs: number): void {
    this.#userSpeech.set(itemId, { startedAtMs: this.#offsetOfAudio(audioStartMs), endedAtMs: undefined, partial: '' });
    // Only a reply can be interrupted: DTMF tones or the apology keep playing when the far end talks.
    if (this.#playback.itemsInPlayback().length > 0 && !this.#greetingProtected) this.#bargeIn();
    if (!this.#playback.audible) this.#setState('listening');
  }

  #onSpeechStopped(itemId: string, audioEndMs: number): void {
    const silenceMs = this.#opts.agent.turnDetection.type === 'server_vad' ? this.#opts.agent.turnDetection.silenceDurationMs : 0;
    // audio_end_ms includes the silence the VAD waited for; the caller stopped talking before it.
    const spokenEndMs = Math.max(0, audioEndMs - silenceMs);
    const arrival = this.#link.clock.arrivalOf(spokenEndMs) ?? performance.now();
    this.#lastSpeechEndedAt = arrival;
    const speech = this.#userSpeech.get(itemId);
    if (speech) speech.endedAtMs = arrival - this.#startedAt;
    if (!this.#playback.audible) this.#setState('thinking');
  }

  #onUserTranscript(itemId: string, text: string | null): void {
    const speech = this.#userSpeech.get(itemId);
    const now = this.#nowMs();
    this.#userSpeech.delete(itemId);
    const cleaned = text === null ? null : text.trim();
    if (cleaned) this.#history.push({ role: 'user', text: cleaned });
    this.#emit({
      type: 'turn.user',
      itemId,
      text: cleaned === '' ? null : cleaned,
      startedAtMs: speech?.startedAtMs ?? now,
      endedAtMs: speech?.endedAtMs ?? now,
      source: 'speech',
    });
  }

  #onResponseCreated(responseId: string, metadata: unknown): void {
    this.#responseRequested = false;
    const greeting = (isRecord(metadata) && metadata.koe_purpose === 'greeting') || this.#awaitingGreeting;
    this.#awaitingGreeting = false;
    this.#active = {
      id: responseId,
      greeting,
      hadAudio: false,
      answersSpeechEndedAt: greeting ? undefined : this.#lastSpeechEndedAt,
      toolRuns: [],
    };
    this.#lastSpeechEndedAt = undefined;
  }

  #addAssistantItem(itemId: string, response: ActiveResponse): AssistantItem {
    let item = this.#items.get(itemId);
    if (!item) {
      item = {
        itemId,
        stale: false,
        responseId: response.id,
        text: '',
        startedAtMs: this.#nowMs(),
        latencyMs: null,
        greeting: response.greeting,
        audioDone: false,
        interrupted: false,
        finalized: false,
      };
      this.#items.set(itemId, item);
    }
    return item;
  }

  #onAudioDelta(itemId: string, base64: string): void {
    let item = this.#items.get(itemId);
    if (!item && this.#active) item = this.#addAssistantItem(itemId, this.#active);
    // Audio of a reply the caller interrupted is still in flight from the model: it must not play.
    if (!item || item.interrupted || item.finalized) return;
    const audio = Buffer.from(base64, 'base64');
    if (audio.length === 0) return;
    this.#playback.recordReceived(itemId, audio.length / 8);
    const response = this.#active;
    if (response && !response.hadAudio) {
      response.hadAudio = true;
      if (response.answersSpeechEndedAt !== undefined) {
        item.latencyMs = Math.round(performance.now() - response.answersSpeechEndedAt);
        this.#opts.metrics.turnLatencyMs.observe(item.latencyMs);
      }
    }
    this.#sendChunks(this.#chunker.push(itemId, audio));
    this.#setState('speaking');
  }

  #onAudioDone(itemId: string): void {
    const item = this.#items.get(itemId);
    if (!item || item.interrupted) return;
    item.audioDone = true;
    this.#sendChunks(this.#chunker.flush());
    this.#finalizeHeardItems();
  }

  #onFunctionCall(item: FunctionCallItem): void {
    const response = this.#active;
    const callId = item.call_id ?? item.id;
    if (!response || !callId) return;
    if (item.status !== undefined && item.status !== 'completed') return;
    let args: unknown = item.arguments;
    try {
      args = JSON.parse(item.arguments);
    } catch {
      // Passed on as text; the runner answers the model with a clear error.
    }
    this.#emit({ type: 'tool.called', toolCallId: callId, name: item.name, arguments: args });
    const started = performance.now();
    const run = this.#tools.run(item.name, item.arguments, this.#abort.signal).then((outcome) => {
      const durationMs = Math.round(performance.now() - started);
      this.#opts.metrics.toolCalls.inc({ tool: item.name, outcome: outcome.ok ? 'ok' : 'error' });
      this.#emit({ type: 'tool.result', toolCallId: callId, name: item.name, ok: outcome.ok, output: outcome.output, durationMs });
      return { callId, outcome };
    });
    response.toolRuns.push(run);
  }

  #onResponseDone(response: { id: string; status: string; usage?: unknown }): void {
    this.#addUsage(response.id, response.usage);
    const active = this.#active?.id === response.id ? this.#active : undefined;
    this.#active = undefined;
    // A greeting that produced no audio must not leave barge-in disabled for the whole call.
    if (active?.greeting && !active.hadAudio && this.#greetingProtected) this.#endGreetingProtection();
    // A reply that ended without audio (cancelled early, text only) is final now.
    for (const item of this.#items.values()) {
      if (item.responseId === response.id && !item.audioDone) {
        item.audioDone = true;
        this.#sendChunks(this.#chunker.flush());
      }
    }
    this.#finalizeHeardItems();
    if (active && active.toolRuns.length > 0) {
      this.#toolCompletionsPending += 1;
      this.#completeToolRuns(active)
        .catch((err: unknown) => this.#log.error({ err }, 'tool completion failed'))
        .finally(() => {
          this.#toolCompletionsPending -= 1;
          this.#maybeRunAfterSpeech();
        });
    } else {
      this.#sendQueuedResponse();
    }
    if (!this.#playback.audible && this.#state !== 'ending') this.#setState('listening');
    this.#maybeRunAfterSpeech();
  }

  async #completeToolRuns(response: ActiveResponse): Promise<void> {
    const results = await Promise.all(response.toolRuns);
    if (this.#ended) return;
    for (const { callId, outcome } of results) {
      this.#link.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output: outcome.output } });
    }
    const hangUpWithoutGoodbye = this.#afterSpeech?.kind === 'hang_up' && !response.hadAudio;
    if (hangUpWithoutGoodbye) {
      this.#requestResponse({ instructions: 'Say a short, warm goodbye to the caller now. Do not call any tool.', tool_choice: 'none' });
    } else if (results.some((r) => r.outcome.continueConversation) && !this.#afterSpeech) {
      this.#requestResponse({});
    } else {
      this.#sendQueuedResponse();
    }
  }

  #onModelError(error: { code?: string | null | undefined; message: string }): void {
    const code = error.code ?? null;
    this.#log.warn({ code, message: error.message }, 'model reported an error');
    this.#emit({ type: 'model.error', code, message: error.message, fatal: false });
    if (code === 'conversation_already_has_active_response') {
      // Our response.create raced one the server created itself; ask again once it is done.
      this.#responseRequested = false;
      this.#queuedResponse ??= {};
    }
  }

  // ── Playback, barge-in ─────────────────────────────────────────────────────

  #sendChunks(chunks: OutboundChunk[]): void {
    for (const chunk of chunks) {
      this.#opts.twilio.sendMedia(chunk.audio);
      this.#opts.twilio.sendMark(this.#playback.recordSent(chunk.itemId, chunk.durationMs));
    }
  }

  #bargeIn(): void {
    this.#opts.metrics.bargeIns.inc();
    // Stop what the caller hears first; bookkeeping after.
    this.#opts.twilio.sendClear();
    this.#chunker.reset();
    const cut = this.#playback.clear();
    const active = this.#active;
    if (active && !this.#serverCancelsOnSpeech()) {
      this.#link.send({ type: 'response.cancel', response_id: active.id });
    }
    for (const { itemId, heardMs, sentMs, receivedMs } of cut) {
      const item = this.#items.get(itemId);
      const audioEndMs = Math.floor(Math.min(heardMs, receivedMs));
      const truncated =
        item !== undefined &&
        !item.stale &&
        this.#link.send({ type: 'conversation.item.truncate', item_id: itemId, content_index: 0, audio_end_ms: audioEndMs });
      if (item) {
        item.interrupted = true;
        this.#finalizeItem(item);
      }
      this.#emit({ type: 'barge_in', itemId, heardMs: audioEndMs, sentMs, truncated });
    }
    this.#setState('listening');
  }

  /** With server VAD and interrupt_response on, the service cancels the response itself on speech. */
  #serverCancelsOnSpeech(): boolean {
    const td = this.#opts.agent.turnDetection;
    return td.type !== 'manual' && td.interruptResponse;
  }

  #finalizeHeardItems(): void {
    for (const item of this.#items.values()) {
      if (item.finalized || !item.audioDone) continue;
      const playback = this.#playback.item(item.itemId);
      if (!playback || playback.heardMs >= playback.sentMs) this.#finalizeItem(item);
    }
  }

  #finalizeItem(item: AssistantItem): void {
    if (item.finalized) return;
    item.finalized = true;
    const playback = this.#playback.item(item.itemId);
    const audioMs = Math.round(playback?.receivedMs ?? 0);
    const heardMs = Math.round(Math.min(playback?.heardMs ?? 0, audioMs));
    const interrupted = item.interrupted || heardMs < audioMs;
    const heardText = interrupted ? estimateHeardText(item.text, heardMs, audioMs) : item.text;
    if (heardText) this.#history.push({ role: 'assistant', text: heardText });
    this.#emit({
      type: 'turn.assistant',
      itemId: item.itemId,
      responseId: item.responseId,
      text: item.text,
      heardText,
      interrupted,
      audioMs,
      heardMs,
      startedAtMs: item.startedAtMs,
      endedAtMs: this.#nowMs(),
      latencyMs: item.latencyMs,
      greeting: item.greeting,
    });
    this.#items.delete(item.itemId);
    if (item.greeting && this.#greetingProtected) this.#endGreetingProtection();
  }

  #endGreetingProtection(): void {
    this.#greetingProtected = false;
    if (this.#ended) return;
    const turnDetection = turnDetectionPayload(this.#opts.agent.turnDetection);
    if (turnDetection === null) return;
    this.#link.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: turnDetection } } } });
  }

  // ── Responses, DTMF, tools ─────────────────────────────────────────────────

  #requestResponse(response: Record<string, unknown>): void {
    if (this.#active || !this.#link.ready) {
      this.#queuedResponse = { ...this.#queuedResponse, ...response };
      return;
    }
    this.#responseRequested = this.#link.send({ type: 'response.create', response } as RealtimeClientEvent);
  }

  #sendQueuedResponse(): void {
    const queued = this.#queuedResponse;
    if (!queued || this.#active) return;
    this.#queuedResponse = undefined;
    this.#requestResponse(queued);
  }

  #flushDtmf(): void {
    clearTimeout(this.#dtmfTimer);
    if (!this.#dtmfDigits || this.#ended) return;
    if (!this.#link.ready) {
      // Keys pressed while the model is (re)connecting are told once it is there.
      this.#dtmfTimer = setTimeout(() => this.#flushDtmf(), 200);
      return;
    }
    const digits = this.#dtmfDigits;
    this.#dtmfDigits = '';
    this.#emit({ type: 'dtmf.received', digits });
    const now = this.#nowMs();
    const text = `The caller pressed ${digits} on the phone keypad.`;
    this.#emit({ type: 'turn.user', itemId: `dtmf_${Math.round(now)}`, text: digits, startedAtMs: now, endedAtMs: now, source: 'dtmf' });
    this.#history.push({ role: 'user', text });
    this.#link.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
    this.#requestResponse({});
  }

  #toolHost(): ConstructorParameters<typeof ToolRunner>[1] {
    return {
      callSid: this.info.callSid,
      hangUpAfterSpeech: (reason) => {
        this.#scheduleAfterSpeech({ kind: 'hang_up', reason });
      },
      playDtmf: (digits) => {
        this.#sendChunks(this.#chunker.push(undefined, generateDtmfMulaw(digits)));
        this.#sendChunks(this.#chunker.flush());
        this.#emit({ type: 'dtmf.sent', digits });
      },
      transferAfterSpeech: (target) => {
        if (!this.#opts.callControl) {
          return Promise.reject(new Error('transfers need TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN'));
        }
        return new Promise<void>((resolve, reject) => this.#scheduleAfterSpeech({ kind: 'transfer', target, resolve, reject }));
      },
    };
  }

  #scheduleAfterSpeech(action: AfterSpeech, timeoutMs = this.#opts.settings.afterSpeechTimeoutMs ?? DEFAULT_AFTER_SPEECH_TIMEOUT_MS): void {
    if (this.#afterSpeech) {
      if (action.kind === 'transfer') action.reject(new Error('the call is already ending'));
      return;
    }
    this.#afterSpeech = action;
    this.#afterSpeechTimer = setTimeout(() => this.#runAfterSpeech(), timeoutMs);
  }

  /** Runs the pending hang-up or transfer once the model is done and the caller heard everything. */
  #maybeRunAfterSpeech(): void {
    const action = this.#afterSpeech;
    if (!action || this.#active || this.#responseRequested || this.#queuedResponse || this.#playback.audible) return;
    // A hang-up may still ask for a goodbye once the tool outputs are in; a transfer is itself such a tool run.
    if (action.kind === 'hang_up' && this.#toolCompletionsPending > 0) return;
    this.#runAfterSpeech();
  }

  #runAfterSpeech(): void {
    const action = this.#afterSpeech;
    if (!action || this.#ended) return;
    this.#afterSpeech = undefined;
    clearTimeout(this.#afterSpeechTimer);
    if (action.kind === 'hang_up') {
      this.#log.info({ reason: action.reason }, 'agent hung up');
      this.end(action.endReason ?? 'agent_hung_up');
      return;
    }
    const callControl = this.#opts.callControl as CallControl;
    const twiml = transferTwiml({
      number: action.target.number,
      timeoutSec: action.target.timeoutSec,
      ...(action.target.callerId ? { callerId: action.target.callerId } : {}),
      ...(action.target.announce ? { announce: { text: action.target.announce, language: this.#opts.agent.language } } : {}),
    });
    this.#endingReason = 'transferred';
    callControl.redirect(this.info.callSid, twiml).then(
      () => {
        this.#log.info({ to: action.target.number }, 'call transferred');
        action.resolve();
        // Twilio ends the stream after the redirect; end here too in case its stop is lost.
        setTimeout(() => this.end('transferred'), 5_000).unref();
      },
      (err: unknown) => {
        this.#endingReason = undefined;
        this.#log.warn({ err: (err as Error).message }, 'transfer failed');
        action.reject(err as Error);
      },
    );
  }

  // ── Endings ────────────────────────────────────────────────────────────────

  #endWithApology(reason: CallEndReason): void {
    if (this.#ended || this.#state === 'ending') return;
    this.#setState('ending');
    this.#link.close();
    this.#opts.twilio.sendClear();
    this.#playback.clear();
    this.#chunker.reset();
    this.#sendChunks(this.#chunker.push(undefined, this.#opts.apologyClip));
    this.#sendChunks(this.#chunker.flush());
    const clipMs = this.#opts.apologyClip.length / 8;
    const timer = setTimeout(() => this.end(reason), clipMs + 3_000);
    void this.#playback.whenDrained().then(() => {
      clearTimeout(timer);
      this.end(reason);
    });
  }

  /** Ends the call; idempotent. Hangs up the phone unless Twilio already ended it. */
  end(reason: CallEndReason, opts: { twilioGone?: boolean } = {}): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#maxDurationTimer);
    clearTimeout(this.#afterSpeechTimer);
    clearTimeout(this.#dtmfTimer);
    if (this.#afterSpeech?.kind === 'transfer') this.#afterSpeech.reject(new Error('the call ended'));
    this.#afterSpeech = undefined;
    for (const item of this.#items.values()) this.#finalizeItem(item);
    this.#abort.abort();
    this.#link.close();
    if (!opts.twilioGone) {
      const hangUpByRest = reason !== 'transferred' && reason !== 'replaced' && this.#opts.callControl;
      if (hangUpByRest) {
        this.#opts.callControl?.hangUp(this.info.callSid).catch((err: unknown) => {
          this.#log.warn({ err: (err as Error).message }, 'REST hang-up failed; closing the stream instead');
        });
      }
      this.#opts.twilio.close();
    }
    this.#setState('ended');
    this.#opts.metrics.callsActive.dec();
    this.#opts.metrics.callsEnded.inc({ reason });
    this.#log.info({ reason, durationMs: Math.round(this.#nowMs()) }, 'call ended');
    this.#emit({ type: 'call.ended', reason, durationMs: Math.round(this.#nowMs()), usage: { ...this.#usage } });
  }

  // ── Helpers ────────────────────────────────────────────────────────────────

  #conversationSeed(): RealtimeClientEvent[] {
    return this.#history.slice(-40).map((turn) =>
      turn.role === 'user'
        ? { type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: turn.text }] } }
        : { type: 'conversation.item.create', item: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: turn.text }] } },
    ) as RealtimeClientEvent[];
  }

  #addUsage(responseId: string, raw: unknown): void {
    if (!isRecord(raw)) return;
    const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
    const input = isRecord(raw.input_token_details) ? raw.input_token_details : {};
    const output = isRecord(raw.output_token_details) ? raw.output_token_details : {};
    const usage: TokenUsage = {
      inputTokens: num(raw.input_tokens),
      outputTokens: num(raw.output_tokens),
      inputAudioTokens: num(input.audio_tokens),
      inputTextTokens: num(input.text_tokens),
      cachedTokens: num(input.cached_tokens),
      outputAudioTokens: num(output.audio_tokens),
      outputTextTokens: num(output.text_tokens),
    };
    for (const key of Object.keys(usage) as Array<keyof TokenUsage>) this.#usage[key] += usage[key];
    this.#emit({ type: 'model.usage', responseId, usage });
  }

  #offsetOfAudio(audioMs: number): number {
    const arrival = this.#link.clock.arrivalOf(audioMs);
    return arrival === undefined ? this.#nowMs() : Math.max(0, arrival - this.#startedAt);
  }

  #nowMs(): number {
    return performance.now() - this.#startedAt;
  }

  #setState(state: AgentState): void {
    if (this.#state === state || this.#state === 'ended') return;
    if (this.#state === 'ending' && state !== 'ended') return;
    this.#state = state;
    this.#emit({ type: 'agent.state', state });
  }

  #emit(body: CallEventBody): void {
    const event = { callId: this.info.callId, callSid: this.info.callSid, atMs: Math.round(this.#nowMs()), at: new Date().toISOString(), ...body } as CallEvent;
    try {
      this.#opts.onEvent(event);
    } catch (err) {
      this.#log.error({ err, type: body.type }, 'a call event listener threw');
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
