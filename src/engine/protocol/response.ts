// One response, from `response.created` to `response.done` (realtime.md §b.4–b.6), behind the
// `ResponseHandle` a brain writes through. The handle keeps the documented order whatever the brain
// does: one open item at a time, every delta inside its part, the open item closed (completed, or
// incomplete on cancel and failure) before `response.done`, nothing after it.

import {
  audioBytesPerMs,
  newRealtimeId,
  type AssistantMessageItem,
  type FunctionCallItem,
  type RealtimeItem,
  type RealtimeResponse,
  type ResponseStatusDetails,
  type ResponseUsage,
} from '../../realtime/index.js';
import type {
  FunctionCallWriter,
  MessageWriter,
  ResponseFailure,
  ResponseHandle,
  ResponseRequest,
  ResponseUsageCounts,
} from './contract.js';
import type { Conversation } from './conversation.js';
import { outputAudioTokensOf, responseUsage } from './usage.js';
import type { ServerEventDraft } from './wire.js';

/** What a response needs from its session. */
export interface ResponseHost {
  readonly conversation: Conversation;
  emit(event: ServerEventDraft): void;
  /** `ms` of assistant audio were produced for `itemId`: truncation is checked against it, and the voice is fixed. */
  assistantAudio(itemId: string, ms: number): void;
  /** The session's part of the usage, at the end of the response. */
  inputUsage(): Pick<ResponseUsageCounts, 'inputTextTokens' | 'inputAudioTokens'>;
  /** The response fails with `failure` (for the log: the wire carries only its type and code). */
  failing(response: ProtocolResponse, failure: ResponseFailure): void;
  /** The response is over; `response.done` goes out next. */
  ending(response: ProtocolResponse): void;
  /** `response.done` went out. */
  ended(response: ProtocolResponse): void;
}

export type CancelReason = 'client_cancelled' | 'turn_detected';

interface OpenMessage {
  kind: 'message';
  /** `output_index`, set when the item opens. */
  index: number;
  item: AssistantMessageItem;
  modality: 'audio' | 'text';
  text: string;
}
interface OpenFunctionCall {
  kind: 'function_call';
  index: number;
  item: FunctionCallItem;
  callId: string;
  args: string;
}
type OpenItem = OpenMessage | OpenFunctionCall;

const clone = <T>(value: T): T => structuredClone(value);

export class ProtocolResponse implements ResponseHandle {
  readonly id = newRealtimeId('resp');
  readonly request: ResponseRequest;
  readonly #host: ResponseHost;
  readonly #abort = new AbortController();
  #done = false;
  #open: OpenItem | undefined;
  #outputCount = 0;
  /** Closed items, as `response.done.output` repeats them. */
  readonly #output: RealtimeItem[] = [];
  #textDeltas = 0;
  #audioMs = 0;

  constructor(request: ResponseRequest, host: ResponseHost) {
    this.request = request;
    this.#host = host;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Out of band: its items stay out of the conversation. */
  get outOfBand(): boolean {
    return this.request.conversation === 'none';
  }

  /** `response.created`; the session calls it once, before handing the response to the brain. */
  announce(): void {
    this.#host.emit({ type: 'response.created', response: this.#object('in_progress', null, null) });
  }

  beginMessage(options: { modality?: 'audio' | 'text' } = {}): MessageWriter {
    const audioAllowed = this.request.outputModalities.includes('audio');
    const modality = options.modality === 'text' || !audioAllowed ? 'text' : 'audio';
    const item: AssistantMessageItem = { id: newRealtimeId('item'), type: 'message', status: 'in_progress', role: 'assistant', content: [] };
    const open: OpenMessage = { kind: 'message', index: -1, item, modality, text: '' };
    const writer: MessageWriter = {
      itemId: item.id as string,
      modality,
      audio: (bytes) => this.#audio(open, bytes),
      text: (delta) => this.#text(open, delta),
      end: () => this.#end(open),
    };
    if (!this.#openItem(open)) return writer;
    this.#host.emit({
      ...this.#contentRef(open),
      type: 'response.content_part.added',
      part: modality === 'audio' ? { type: 'audio', transcript: '' } : { type: 'text', text: '' },
    });
    // The item holds its part from now on (empty until it completes).
    item.content = [modality === 'audio' ? { type: 'output_audio', transcript: '' } : { type: 'output_text', text: '' }];
    return writer;
  }

  beginFunctionCall(call: { name: string; callId?: string }): FunctionCallWriter {
    const callId = call.callId ?? newRealtimeId('call');
    const item: FunctionCallItem = {
      id: newRealtimeId('item'),
      type: 'function_call',
      status: 'in_progress',
      call_id: callId,
      name: call.name,
      arguments: '',
    };
    const open: OpenFunctionCall = { kind: 'function_call', index: -1, item, callId, args: '' };
    this.#openItem(open);
    return {
      itemId: item.id as string,
      callId,
      arguments: (delta) => this.#arguments(open, delta),
      end: () => this.#end(open),
    };
  }

  functionCall(call: { name: string; arguments: string; callId?: string }): void {
    const writer = this.beginFunctionCall(call);
    writer.arguments(call.arguments);
    writer.end();
  }

  finish(usage?: Partial<ResponseUsageCounts>): void {
    if (this.#done) return;
    if (this.#open) this.#close(this.#open, 'completed');
    this.#finalize('completed', null, usage);
  }

  fail(failure: ResponseFailure): void {
    if (this.#done) return;
    this.#host.failing(this, failure);
    if (this.#open) this.#close(this.#open, 'incomplete');
    this.#finalize('failed', { type: 'failed', error: { type: failure.type, code: failure.code } });
  }

  /** `response.cancel`, or a barge-in: the open item closes incomplete, then `response.done` cancelled. */
  cancel(reason: CancelReason): void {
    if (this.#done) return;
    if (this.#open) this.#close(this.#open, 'incomplete');
    this.#finalize('cancelled', { type: 'cancelled', reason });
    this.#abort.abort(new Error(`response ${reason}`));
  }

  /** The brain broke while starting it: fails it and stops whatever the brain began. */
  failInCore(failure: ResponseFailure): void {
    this.fail(failure);
    this.#abort.abort(new Error('response failed'));
  }

  /** The session closed: nothing more is sent; the brain's work is stopped. */
  abandon(): void {
    this.#done = true;
    this.#open = undefined;
    this.#abort.abort(new Error('session closed'));
  }

  // ── items ──

  #isOpen(open: OpenItem): boolean {
    return !this.#done && this.#open === open;
  }

  #end(open: OpenItem): void {
    if (this.#isOpen(open)) this.#close(open, 'completed');
  }

  /** output_item.added, and conversation.item.added unless out of band. False when the response is over. */
  #openItem(open: OpenItem): boolean {
    if (this.#done) return false;
    if (this.#open) this.#close(this.#open, 'completed');
    open.index = this.#outputCount++;
    this.#open = open;
    this.#host.emit({ type: 'response.output_item.added', response_id: this.id, output_index: open.index, item: clone(open.item) });
    if (!this.outOfBand) {
      const previous = this.#host.conversation.append(open.item);
      this.#host.emit({ type: 'conversation.item.added', previous_item_id: previous, item: clone(open.item) });
    }
    return true;
  }

  #contentRef(open: OpenItem): { response_id: string; item_id: string; output_index: number; content_index: number } {
    return { response_id: this.id, item_id: open.item.id as string, output_index: open.index, content_index: 0 };
  }

  #audio(open: OpenMessage, bytes: Buffer): void {
    if (!this.#isOpen(open) || open.modality !== 'audio' || bytes.length === 0) return;
    const ms = bytes.length / audioBytesPerMs(this.request.outputFormat);
    this.#audioMs += ms;
    this.#host.assistantAudio(open.item.id as string, ms);
    this.#host.emit({ ...this.#contentRef(open), type: 'response.output_audio.delta', delta: bytes.toString('base64') });
  }

  #text(open: OpenMessage, delta: string): void {
    if (!this.#isOpen(open) || delta === '') return;
    open.text += delta;
    this.#textDeltas++;
    const type = open.modality === 'audio' ? 'response.output_audio_transcript.delta' : 'response.output_text.delta';
    this.#host.emit({ ...this.#contentRef(open), type, delta });
  }

  #arguments(open: OpenFunctionCall, delta: string): void {
    if (!this.#isOpen(open) || delta === '') return;
    open.args += delta;
    this.#host.emit({
      type: 'response.function_call_arguments.delta',
      response_id: this.id,
      item_id: open.item.id as string,
      output_index: open.index,
      call_id: open.callId,
      delta,
    });
  }

  /** The closing group of one item: *.done, content_part.done, output_item.done, conversation.item.done. */
  #close(open: OpenItem, status: 'completed' | 'incomplete'): void {
    const { item } = open;
    if (open.kind === 'function_call') {
      this.#host.emit({
        type: 'response.function_call_arguments.done',
        response_id: this.id,
        item_id: item.id as string,
        output_index: open.index,
        call_id: open.callId,
        name: open.item.name,
        arguments: open.args,
      });
      open.item.arguments = open.args;
    } else {
      const ref = this.#contentRef(open);
      const { text } = open;
      if (open.modality === 'audio') {
        this.#host.emit({ ...ref, type: 'response.output_audio.done' });
        this.#host.emit({ ...ref, type: 'response.output_audio_transcript.done', transcript: text });
        this.#host.emit({ ...ref, type: 'response.content_part.done', part: { type: 'audio', transcript: text } });
        open.item.content = [{ type: 'output_audio', transcript: text }];
      } else {
        this.#host.emit({ ...ref, type: 'response.output_text.done', text });
        this.#host.emit({ ...ref, type: 'response.content_part.done', part: { type: 'text', text } });
        open.item.content = [{ type: 'output_text', text }];
      }
    }
    item.status = status;
    this.#output.push(clone(item));
    this.#open = undefined;
    this.#host.emit({ type: 'response.output_item.done', response_id: this.id, output_index: open.index, item: clone(item) });
    if (!this.outOfBand) {
      const previous = this.#host.conversation.previousIdOf(item.id as string);
      this.#host.emit({ type: 'conversation.item.done', previous_item_id: previous, item: clone(item) });
    }
  }

  // ── the end ──

  #finalize(status: 'completed' | 'cancelled' | 'failed', details: ResponseStatusDetails | null, usage?: Partial<ResponseUsageCounts>): void {
    this.#done = true;
    this.#host.ending(this);
    this.#host.emit({ type: 'response.done', response: this.#object(status, details, this.#usage(usage)) });
    this.#host.ended(this);
  }

  #usage(override: Partial<ResponseUsageCounts> = {}): ResponseUsage {
    const counts: ResponseUsageCounts = {
      ...this.#host.inputUsage(),
      outputTextTokens: this.#textDeltas,
      outputAudioTokens: outputAudioTokensOf(this.#audioMs),
    };
    for (const key of Object.keys(counts) as (keyof ResponseUsageCounts)[]) {
      const value = override[key];
      if (value !== undefined) counts[key] = value;
    }
    return responseUsage(counts);
  }

  #object(status: RealtimeResponse['status'], details: ResponseStatusDetails | null, usage: ResponseUsage | null): RealtimeResponse {
    const { request } = this;
    const response: RealtimeResponse = {
      object: 'realtime.response',
      id: this.id,
      status,
      status_details: details,
      output: this.#output.map(clone),
      output_modalities: [...request.outputModalities],
      max_output_tokens: request.maxOutputTokens,
      audio: { output: { format: clone(request.outputFormat), voice: request.voice } },
      usage,
      metadata: request.metadata,
    };
    if (!this.outOfBand) response.conversation_id = this.#host.conversation.id;
    return response;
  }
}
