// One Realtime session, as the server side of one socket (realtime.md §b): frames in through
// `receive`, every client event validated (`parseClientFrame`) and answered with the documented
// events or the live service's `error`, every server event out through `send` in the client's shape.
// Speech detection, transcription and the content of responses come from the brain, which drives
// the session through `SessionControl`. No timers, no sockets: the transport owns both.

import {
  newRealtimeId,
  parseClientFrame,
  type ConversationItemCreateEvent,
  type ConversationItemTruncateEvent,
  type RealtimeClientEvent,
  type RealtimeItem,
  type RealtimeShape,
  type ResponseCreateParams,
  type ServerSession,
  type SessionUpdateEvent,
  type UserMessageItem,
} from '../../realtime/index.js';
import type { ResponseHandle, ResponseRequest, SessionBrain, SessionControl } from './contract.js';
import { Conversation } from './conversation.js';
import { protocolErrors, type ProtocolError } from './errors.js';
import { InputBuffer } from './input-buffer.js';
import { ProtocolResponse, type ResponseHost } from './response.js';
import {
  applySessionUpdate,
  createsResponseOnTurnEnd,
  defaultSession,
  inputFormatOf,
  interruptsResponse,
  outputFormatOf,
} from './session-config.js';
import { inputAudioTokensOf, rateLimitsAfter, textTokensOf, transcriptionUsage } from './usage.js';
import { WireWriter, type AnyServerEventDraft, type ServerEventDraft, type WireSend } from './wire.js';

/** The part of a pino logger the session uses. */
export interface ProtocolLog {
  warn(obj: object, msg: string): void;
}

export interface ProtocolSessionOptions {
  /** `beta` when the client sent `OpenAI-Beta: realtime=v1`. */
  shape: RealtimeShape;
  /** The connection's `?model=` (or `DEFAULT_MODEL[shape]`). */
  model: string;
  /** `transcription` for a `?intent=transcription` connection. Default `realtime`. */
  sessionType?: 'realtime' | 'transcription';
  /** Sends one text frame. Called from the constructor on (`session.created`), never after `close()`. */
  send: WireSend;
  /** Makes the session's brain; called once, from the constructor, before any event is sent. */
  brain: (control: SessionControl) => SessionBrain;
  log?: ProtocolLog;
}

/** WebSocket frame payloads as `ws` and others hand them over. */
export type FrameData = string | Uint8Array | ArrayBuffer | readonly Uint8Array[];

/** Input transcription in flight: what its usage is reported from. */
interface PendingTranscription {
  model: string | undefined;
  audioMs: number;
}

/** The client event that caused an error (for `error.event_id`), if any. */
type ErrorSource = { event_id?: string } | null;

function frameText(data: FrameData): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data as Uint8Array[]).toString('utf8');
  const bytes = data as Uint8Array;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** Beta sessions carry a `temperature` the GA session has no place for; it is read from the raw frame. */
function betaTemperatureOf(text: string): number | undefined {
  try {
    const json = JSON.parse(text) as { session?: { temperature?: unknown } };
    return typeof json.session?.temperature === 'number' ? json.session.temperature : undefined;
  } catch {
    return undefined;
  }
}

export class ProtocolSession implements SessionControl {
  readonly shape: RealtimeShape;
  readonly #wire: WireWriter;
  readonly #log: ProtocolLog | undefined;
  readonly #brain: SessionBrain;
  readonly #conversation = new Conversation();
  readonly #input = new InputBuffer();
  readonly #responseHost: ResponseHost;
  readonly #transcriptions = new Map<string, PendingTranscription>();
  #config: ServerSession;
  /** The user item of the speech in progress (between speech_started and its end). */
  #speechItemId: string | undefined;
  #active: ProtocolResponse | undefined;
  #responseCount = 0;
  #assistantAudioProduced = false;
  #closed = false;

  constructor(opts: ProtocolSessionOptions) {
    this.shape = opts.shape;
    this.#wire = new WireWriter(opts.shape, opts.send);
    this.#log = opts.log;
    this.#config = defaultSession(opts.sessionType ?? 'realtime', opts.model);
    this.#responseHost = {
      conversation: this.#conversation,
      emit: (event) => this.#emit(event),
      assistantAudio: (itemId, ms) => {
        this.#assistantAudioProduced = true;
        this.#conversation.addAudioMs(itemId, ms);
      },
      inputUsage: () => ({
        inputTextTokens: textTokensOf(this.#config.type === 'realtime' ? (this.#config.instructions ?? '') : ''),
        inputAudioTokens: inputAudioTokensOf(this.#input.clockMs),
      }),
      failing: (response, failure) => this.#log?.warn({ responseId: response.id, failure }, 'response failed'),
      ending: (response) => {
        if (this.#active === response) this.#active = undefined;
      },
      ended: () => {
        if (this.shape === 'ga') this.#emitRateLimits();
      },
    };
    this.#brain = opts.brain(this);
    this.#emit({ type: 'session.created', session: structuredClone(this.#config) });
  }

  // ── state ──

  get id(): string {
    return this.#config.id ?? '';
  }
  get closed(): boolean {
    return this.#closed;
  }
  /** The effective session (GA shape). The core's own object: read, never write. */
  get config(): ServerSession {
    return this.#config;
  }
  /** The conversation's items (the live objects). */
  get items(): readonly RealtimeItem[] {
    return this.#conversation.items;
  }
  get inputAudioMs(): number {
    return this.#input.clockMs;
  }
  get speaking(): boolean {
    return this.#speechItemId !== undefined;
  }
  get activeResponse(): ResponseHandle | undefined {
    return this.#active;
  }

  // ── the transport side ──

  /** One frame from the client. Returns the event it carried (GA shape) when it was valid. */
  receive(data: FrameData, isBinary = false): RealtimeClientEvent | undefined {
    if (this.#closed) return undefined;
    if (isBinary) {
      this.#error(null, protocolErrors.binaryFrame());
      return undefined;
    }
    const text = frameText(data);
    const parsed = parseClientFrame(text, this.shape);
    if (!parsed.ok) {
      this.#emit({ type: 'error', error: { ...parsed.error } });
      return undefined;
    }
    this.#dispatch(parsed.event, text);
    return parsed.event;
  }

  /** Sends any GA server event (translated for beta clients); `event_id` is added when missing. */
  emitEvent(event: AnyServerEventDraft): void {
    if (!this.#closed) this.#wire.write(event);
  }

  /** The socket closed: the active response and the brain stop; nothing is sent any more. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const active = this.#active;
    this.#active = undefined;
    active?.abandon();
    try {
      this.#brain.close();
    } catch (err) {
      this.#log?.warn({ err }, 'session brain failed to close');
    }
  }

  // ── the brain side (SessionControl) ──

  speechStarted(audioStartMs: number): string {
    if (this.#closed) return '';
    if (this.#speechItemId !== undefined) return this.#speechItemId;
    const itemId = newRealtimeId('item');
    this.#speechItemId = itemId;
    this.#emit({ type: 'input_audio_buffer.speech_started', audio_start_ms: Math.max(0, Math.round(audioStartMs)), item_id: itemId });
    if (this.#active && interruptsResponse(this.#config)) this.#active.cancel('turn_detected');
    return itemId;
  }

  speechStopped(audioEndMs: number): void {
    const itemId = this.#speechItemId;
    if (this.#closed || itemId === undefined) return;
    this.#speechItemId = undefined;
    this.#emit({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: Math.round(audioEndMs), item_id: itemId });
    this.#commit(itemId);
    this.#respondToTurn();
  }

  timeoutTriggered(audioStartMs: number, audioEndMs: number): void {
    if (this.#closed || this.#speechItemId !== undefined) return;
    const itemId = newRealtimeId('item');
    this.#emit({
      type: 'input_audio_buffer.timeout_triggered',
      audio_start_ms: Math.round(audioStartMs),
      audio_end_ms: Math.round(audioEndMs),
      item_id: itemId,
    });
    this.#commit(itemId);
    this.#respondToTurn();
  }

  transcriptionDelta(itemId: string, delta: string): void {
    this.#emit({ type: 'conversation.item.input_audio_transcription.delta', item_id: itemId, content_index: 0, delta });
  }

  transcriptionCompleted(itemId: string, transcript: string, usage?: { audioMs: number }): void {
    if (this.#closed) return;
    const pending = this.#transcriptions.get(itemId);
    this.#transcriptions.delete(itemId);
    const item = this.#conversation.find(itemId);
    const content = item?.type === 'message' && item.role === 'user' ? item.content[0] : undefined;
    if (content?.type === 'input_audio') content.transcript = transcript;
    this.#emit({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: itemId,
      content_index: 0,
      transcript,
      usage: transcriptionUsage(pending?.model, usage?.audioMs ?? pending?.audioMs ?? 0, transcript),
    });
  }

  transcriptionFailed(itemId: string, error: { code: string; message: string }): void {
    if (this.#closed) return;
    this.#transcriptions.delete(itemId);
    this.#emit({
      type: 'conversation.item.input_audio_transcription.failed',
      item_id: itemId,
      content_index: 0,
      error: { type: 'server_error', code: error.code, message: error.message, param: null },
    });
  }

  // ── client events ──

  #dispatch(event: RealtimeClientEvent, text: string): void {
    switch (event.type) {
      case 'session.update':
        return this.#onSessionUpdate(event, text);
      case 'input_audio_buffer.append':
        return this.#onAppend(event, event.audio);
      case 'input_audio_buffer.commit': {
        const error = this.#input.commitError(inputFormatOf(this.#config));
        if (error) return this.#error(event, error);
        const itemId = this.#speechItemId ?? newRealtimeId('item');
        this.#speechItemId = undefined;
        return this.#commit(itemId, event);
      }
      case 'input_audio_buffer.clear':
        this.#input.clear();
        this.#speechItemId = undefined;
        this.#callBrain(event, () => this.#brain.onInputCleared());
        return this.#emit({ type: 'input_audio_buffer.cleared' });
      case 'output_audio_buffer.clear':
        return this.#error(event, protocolErrors.outputAudioBufferClear());
      case 'conversation.item.create':
        return this.#onItemCreate(event);
      case 'conversation.item.retrieve': {
        const item = this.#conversation.find(event.item_id);
        if (!item) return this.#error(event, protocolErrors.itemNotFound(event.item_id));
        return this.#emit({ type: 'conversation.item.retrieved', item: structuredClone(item) });
      }
      case 'conversation.item.delete':
        if (!this.#conversation.delete(event.item_id)) return this.#error(event, protocolErrors.itemNotFound(event.item_id));
        return this.#emit({ type: 'conversation.item.deleted', item_id: event.item_id });
      case 'conversation.item.truncate':
        return this.#onTruncate(event);
      case 'response.create':
        if (this.#config.type !== 'realtime') return this.#error(event, protocolErrors.responsesInTranscriptionSession());
        if (this.#active) return this.#error(event, protocolErrors.responseAlreadyActive(this.#active.id));
        return this.#startResponse('client', event.response, event);
      case 'response.cancel': {
        const active = this.#active;
        if (!active || (event.response_id !== undefined && event.response_id !== active.id)) {
          return this.#error(event, protocolErrors.cancelNotActive());
        }
        return active.cancel('client_cancelled');
      }
      default:
        return ((unhandled: never) => unhandled)(event);
    }
  }

  #onSessionUpdate(event: SessionUpdateEvent, text: string): void {
    const result = applySessionUpdate(this.#config, event.session, { assistantAudioProduced: this.#assistantAudioProduced });
    if (!result.ok) return this.#error(event, result.error);
    if (this.shape === 'beta') {
      const temperature = betaTemperatureOf(text);
      if (temperature !== undefined) this.#wire.betaTemperature = temperature;
    }
    this.#config = result.session;
    this.#emit({ type: 'session.updated', session: structuredClone(this.#config) });
    this.#callBrain(event, () => this.#brain.onSessionUpdated(this.#config));
  }

  #onAppend(event: RealtimeClientEvent, base64: string): void {
    const bytes = InputBuffer.decode(base64);
    if (!bytes) return this.#error(event, protocolErrors.invalidAudio());
    if (bytes.length === 0) return;
    const format = inputFormatOf(this.#config);
    const startMs = this.#input.append(bytes, format);
    this.#callBrain(event, () => this.#brain.onInputAudio(bytes, format, startMs));
  }

  /** committed → user item added + done (beta: created) → the brain transcribes. */
  #commit(itemId: string, source: ErrorSource = null): void {
    const format = inputFormatOf(this.#config);
    const taken = this.#input.take(format);
    const previous = this.#conversation.lastItemId;
    this.#emit({ type: 'input_audio_buffer.committed', previous_item_id: previous, item_id: itemId });
    const item: UserMessageItem = {
      id: itemId,
      type: 'message',
      status: 'completed',
      role: 'user',
      content: [{ type: 'input_audio', transcript: null }],
    };
    this.#conversation.append(item);
    this.#emit({ type: 'conversation.item.added', previous_item_id: previous, item: structuredClone(item) });
    this.#emit({ type: 'conversation.item.done', previous_item_id: previous, item: structuredClone(item) });
    const transcription = this.#config.audio?.input?.transcription ?? null;
    if (transcription) this.#transcriptions.set(itemId, { model: transcription.model, audioMs: taken.audioMs });
    this.#callBrain(source, () =>
      this.#brain.onCommitted({ itemId, format, ...taken, transcription: transcription ? structuredClone(transcription) : null }),
    );
  }

  /** After a VAD turn (or an idle timeout): a response, unless turned off or one is running. */
  #respondToTurn(): void {
    if (!this.#closed && !this.#active && createsResponseOnTurnEnd(this.#config)) this.#startResponse('vad', undefined, null);
  }

  #onItemCreate(event: ConversationItemCreateEvent): void {
    const result = this.#conversation.create(event.item, event.previous_item_id);
    if (!result.ok) return this.#error(event, result.error);
    const { item, previousItemId } = result;
    this.#emit({ type: 'conversation.item.added', previous_item_id: previousItemId, item: structuredClone(item) });
    this.#emit({ type: 'conversation.item.done', previous_item_id: previousItemId, item: structuredClone(item) });
  }

  #onTruncate(event: ConversationItemTruncateEvent): void {
    const { item_id, content_index, audio_end_ms } = event;
    const result = this.#conversation.truncate(item_id, content_index, audio_end_ms, (item) =>
      this.#callBrain(event, () => this.#brain.onTruncate?.(item, audio_end_ms)),
    );
    if (!result.ok) return this.#error(event, result.error);
    this.#emit({ type: 'conversation.item.truncated', item_id, content_index, audio_end_ms });
  }

  // ── responses ──

  #startResponse(trigger: 'vad' | 'client', params: ResponseCreateParams | undefined, source: ErrorSource): void {
    const config = this.#config;
    if (config.type !== 'realtime' || this.#closed) return;
    let items: RealtimeItem[];
    if (params?.input !== undefined) {
      const resolved = this.#conversation.resolveInput(params.input);
      if (!resolved.ok) return this.#error(source, resolved.error);
      items = resolved.items;
    } else {
      items = structuredClone(this.#conversation.items);
    }
    const voice = params?.audio?.output?.voice ?? config.audio?.output?.voice ?? 'alloy';
    const request: ResponseRequest = {
      instructions: params?.instructions ?? config.instructions ?? '',
      tools: structuredClone(params?.tools ?? config.tools ?? []),
      toolChoice: structuredClone(params?.tool_choice ?? config.tool_choice ?? 'auto'),
      outputModalities: [...(params?.output_modalities ?? config.output_modalities ?? ['audio'])],
      outputFormat: structuredClone(params?.audio?.output?.format ?? outputFormatOf(config)),
      voice: typeof voice === 'string' ? voice : voice.id,
      speed: config.audio?.output?.speed ?? 1,
      maxOutputTokens: params?.max_output_tokens ?? config.max_output_tokens ?? 'inf',
      metadata: params?.metadata ?? null,
      conversation: params?.conversation ?? 'auto',
      items,
      trigger,
      params: params ? structuredClone(params) : undefined,
    };
    const response = new ProtocolResponse(request, this.#responseHost);
    this.#responseCount++;
    this.#active = response;
    response.announce();
    if (this.shape === 'beta') this.#emitRateLimits();
    this.#callBrain(source, () => this.#brain.onResponse(response), () =>
      response.failInCore({ type: 'server_error', code: 'server_error' }),
    );
  }

  #emitRateLimits(): void {
    this.#emit({ type: 'rate_limits.updated', rate_limits: rateLimitsAfter(this.#responseCount) });
  }

  // ── out ──

  #emit(event: ServerEventDraft): void {
    if (!this.#closed) this.#wire.write(event);
  }

  #error(source: ErrorSource, error: ProtocolError): void {
    this.#emit({ type: 'error', error: { ...error, event_id: source?.event_id ?? null } });
  }

  /**
   * Runs a brain callback. What it throws is Koe's bug, not the client's: it is logged and answered
   * with a `server_error` (or `onFailure`), and the session goes on.
   */
  #callBrain<T>(source: ErrorSource, callback: () => T, onFailure?: () => void): T | undefined {
    try {
      return callback();
    } catch (err) {
      this.#log?.warn({ err }, 'session brain failed');
      if (onFailure) onFailure();
      else this.#error(source, protocolErrors.serverError());
      return undefined;
    }
  }
}
