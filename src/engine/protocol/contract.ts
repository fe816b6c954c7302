// The contract between the Realtime protocol core (one WebSocket session of the OpenAI Realtime API,
// served by Koe: parsing, validation and errors, session configuration, the conversation, the input
// buffer, response lifecycles, event order, GA⇄beta) and a "brain" that supplies what needs intelligence:
// speech detection, transcription and the content of responses.
//
// Koe's engine plugs in real VAD/STT/dialogue/TTS; the test fake of OpenAI's service plugs in an energy
// detector and scripted replies. Both get the same protocol behaviour from the core.
import type {
  AudioFormat,
  InputAudioTranscription,
  RealtimeItem,
  ResponseCreateParams,
  ResponseUsage,
  ServerSession,
  ToolChoice,
  RealtimeTool,
} from '../../realtime/index.js';

/** Something a response can fail with (`response.done` status `failed`). */
export interface ResponseFailure {
  type: 'server_error' | 'invalid_request_error';
  code: string;
  /** Logged; the wire's `status_details.error` carries only `type` and `code`. */
  message?: string;
}

/** What a response was asked for, resolved against the session (request overrides win). */
export interface ResponseRequest {
  instructions: string;
  tools: RealtimeTool[];
  toolChoice: ToolChoice;
  outputModalities: ReadonlyArray<'text' | 'audio'>;
  outputFormat: AudioFormat;
  /** A built-in voice name, or the id of a custom voice. */
  voice: string;
  speed: number;
  maxOutputTokens: number | 'inf';
  metadata: Record<string, unknown> | null;
  /** `auto` (the default conversation) or `none` (out of band: items are not added to the conversation). */
  conversation: string;
  /** What the response sees: the conversation, or the request's `input` items (item references resolved). */
  items: readonly RealtimeItem[];
  /** `vad` when the server's turn detection (or its idle timeout) created it, `client` for `response.create`. */
  trigger: 'vad' | 'client';
  /** The client's `response.create.response` as sent (GA shape), for fields not summarised above. */
  params: ResponseCreateParams | undefined;
}

/** Writes one assistant message of a response. Every method is a no-op once the item is closed. */
export interface MessageWriter {
  readonly itemId: string;
  /** `audio`: audio bytes plus their transcript. `text`: text only. */
  readonly modality: 'audio' | 'text';
  /** Audio in the response's output format (raw frames, no header). Counted for truncation. Ignored in text messages. */
  audio(bytes: Buffer): void;
  /** Transcript of the audio (audio messages) — or the text itself (text messages). */
  text(delta: string): void;
  /** Closes the item: the *.done events, content_part.done, output_item.done, conversation.item.done. */
  end(): void;
}

/** Writes one function call item of a response, its arguments streamed. A no-op once the item is closed. */
export interface FunctionCallWriter {
  readonly itemId: string;
  readonly callId: string;
  /** A piece of the JSON arguments (`response.function_call_arguments.delta`). */
  arguments(delta: string): void;
  /** `function_call_arguments.done`, output_item.done, conversation.item.done. */
  end(): void;
}

/**
 * One response in flight, handed to the brain. Every method is a no-op once the response is over.
 * At most one output item is open at a time: opening the next one, or finishing, closes the open one
 * as `completed`; a cancel, a failure or the session closing closes it as `incomplete`.
 */
export interface ResponseHandle {
  readonly id: string;
  readonly request: ResponseRequest;
  /** Aborted when the response is cancelled (client or turn detected), fails in the core, or the session closes. */
  readonly signal: AbortSignal;
  /** True once `response.done` was sent (or the session closed). */
  readonly done: boolean;
  /**
   * Opens the next output item: an assistant message, in the response's modality by default. A `text`
   * message inside an audio response is allowed; an `audio` message in a text-only response becomes text.
   */
  beginMessage(options?: { modality?: 'audio' | 'text' }): MessageWriter;
  /** Opens a function call item (`arguments:""` until its deltas come). */
  beginFunctionCall(call: { name: string; callId?: string }): FunctionCallWriter;
  /** A whole function call item at once: added, one arguments delta, done. */
  functionCall(call: { name: string; arguments: string; callId?: string }): void;
  /** `response.done` with status `completed`; the open item is closed first. Counts given override the core's estimates. */
  finish(usage?: Partial<ResponseUsageCounts>): void;
  /** `response.done` with status `failed`; the open item is closed as incomplete. */
  fail(failure: ResponseFailure): void;
}

export interface ResponseUsageCounts {
  inputTextTokens: number;
  inputAudioTokens: number;
  outputTextTokens: number;
  outputAudioTokens: number;
}

export interface CommittedAudio {
  itemId: string;
  /** The committed audio in the session's input format. */
  audio: Buffer;
  format: AudioFormat;
  /** Duration of `audio`. */
  audioMs: number;
  /** Position of the audio on the session's input clock, ms. */
  audioStartMs: number;
  audioEndMs: number;
  /** The session's input transcription settings at commit; null when transcription is off. */
  transcription: InputAudioTranscription | null;
}

/**
 * The intelligence behind one session. All callbacks are synchronous (long work runs in the
 * background) and may call back into `SessionControl`. The core catches what a callback throws,
 * logs it and answers the client with a `server_error`.
 */
export interface SessionBrain {
  /** Audio appended to the input buffer, in the input format, starting at `startMs` on the input clock. */
  onInputAudio(audio: Buffer, format: AudioFormat, startMs: number): void;
  /** The input buffer was cleared by the client; any speech in progress is forgotten. */
  onInputCleared(): void;
  /** A user audio item was committed. Transcribe it when `committed.transcription` is set. */
  onCommitted(committed: CommittedAudio): void;
  /** A response was created (`response.created` is sent already); produce its output through the handle. */
  onResponse(response: ResponseHandle): void;
  /**
   * An assistant audio item was truncated at `audioEndMs`. Return what remains of its transcript (the words
   * spoken by then), or undefined to clear it as OpenAI's service does.
   */
  onTruncate?(item: RealtimeItem, audioEndMs: number): string | undefined;
  /** The session configuration changed (after `session.updated` was sent). */
  onSessionUpdated(session: ServerSession): void;
  /** The socket closed: release everything. */
  close(): void;
}

/**
 * What the core offers the brain for what it detects or produces outside responses. Every method is a
 * no-op once the session is closed. `config` and `items` are the core's own objects: read, never write.
 */
export interface SessionControl {
  readonly config: ServerSession;
  readonly items: readonly RealtimeItem[];
  /** Milliseconds of input audio appended so far (the input clock). */
  readonly inputAudioMs: number;
  /** Between `speech_started` and the end of that turn (speech_stopped, a commit or a clear). */
  readonly speaking: boolean;
  readonly activeResponse: ResponseHandle | undefined;
  /**
   * Server VAD heard speech start. `audioStartMs` is the wire's `audio_start_ms`: on the input clock, with the
   * session's `prefix_padding_ms` already taken off. Cancels an active response when `interrupt_response` is
   * on. Returns the user item's id (the current one when speech is already in progress).
   */
  speechStarted(audioStartMs: number): string;
  /**
   * Server VAD heard speech end (`audioEndMs` includes the silence duration): commits the buffer, and creates
   * a response when `create_response` is on and none is active. Ignored when no speech is in progress.
   */
  speechStopped(audioEndMs: number): void;
  /**
   * `idle_timeout_ms` passed with no speech: the (silent) buffer is committed as a user item and a response
   * is created as after speech. Ignored while speech is in progress.
   */
  timeoutTriggered(audioStartMs: number, audioEndMs: number): void;
  transcriptionDelta(itemId: string, delta: string): void;
  /**
   * Stores the transcript in the item and reports it with its usage, billed (by the session's transcription
   * model) for `usage.audioMs`, or else for the committed audio's length.
   */
  transcriptionCompleted(itemId: string, transcript: string, usage?: { audioMs: number }): void;
  transcriptionFailed(itemId: string, error: { code: string; message: string }): void;
}

export type { ResponseUsage };
