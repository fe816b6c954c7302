// Runs the model's function calls. Built-in tools act on the call through a ToolHost; HTTP tools POST the
// arguments as JSON to the agent's URL. Whatever happens, the model gets an output string back.
import type { AgentTool, HttpToolConfig, TransferToolConfig } from '../../agents/index.js';
import type { Logger } from '../../log/logger.js';
import { DTMF_DIGITS_PATTERN } from './tool-definitions.js';

export interface TransferTarget {
  number: string;
  callerId: string | undefined;
  announce: string | undefined;
  timeoutSec: number;
}

/** What a tool may do to the call it runs in. */
export interface ToolHost {
  readonly callSid: string;
  /** Ends the call once the reply in progress has been heard (a goodbye is asked for if there was none). */
  hangUpAfterSpeech(reason: string | undefined): void;
  /** Plays DTMF tones into the call after any audio already queued. */
  playDtmf(digits: string): void;
  /** Redirects the live call to the target once the reply in progress has been heard. */
  transferAfterSpeech(target: TransferTarget): Promise<void>;
}

export interface ToolOutcome {
  ok: boolean;
  /** The function_call_output sent back to the model. */
  output: string;
  /** False when the call is ending and the model should not be asked for another reply. */
  continueConversation: boolean;
}

const MAX_HTTP_OUTPUT_CHARS = 16_384;
const dtmfPattern = new RegExp(DTMF_DIGITS_PATTERN);

export class ToolRunner {
  readonly #tools = new Map<string, AgentTool>();

  constructor(
    tools: readonly AgentTool[],
    private readonly host: ToolHost,
    private readonly opts: { defaultTimeoutMs: number; log: Logger; fetchImpl?: typeof fetch },
  ) {
    for (const tool of tools) this.#tools.set(tool.type === 'http' ? tool.name : tool.type, tool);
  }

  async run(name: string, rawArguments: string, signal: AbortSignal): Promise<ToolOutcome> {
    const tool = this.#tools.get(name);
    if (!tool) return failure(`unknown tool "${name}"`);
    let args: Record<string, unknown>;
    try {
      const parsed: unknown = rawArguments.trim() === '' ? {} : JSON.parse(rawArguments);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      args = parsed as Record<string, unknown>;
    } catch {
      return failure(`the arguments for ${name} are not a JSON object`);
    }
    switch (tool.type) {
      case 'hang_up':
        this.host.hangUpAfterSpeech(typeof args.reason === 'string' ? args.reason : undefined);
        return { ok: true, output: JSON.stringify({ ok: true, note: 'The call ends after your goodbye.' }), continueConversation: false };
      case 'send_dtmf': {
        const digits = typeof args.digits === 'string' ? args.digits : '';
        if (!dtmfPattern.test(digits)) return failure('digits must be 1-32 of 0-9, *, #, A-D or w');
        this.host.playDtmf(digits);
        return { ok: true, output: JSON.stringify({ ok: true, pressed: digits }), continueConversation: true };
      }
      case 'transfer':
        return this.#transfer(tool, args);
      case 'http':
        return this.#callHttp(tool, args, signal);
    }
  }

  async #transfer(tool: TransferToolConfig, args: Record<string, unknown>): Promise<ToolOutcome> {
    let number = tool.number;
    if (tool.destinations) {
      const key = typeof args.destination === 'string' ? args.destination : '';
      number = tool.destinations[key];
      if (!number) return failure(`unknown destination "${key}"; choose one of ${Object.keys(tool.destinations).join(', ')}`);
    }
    try {
      await this.host.transferAfterSpeech({
        number: number as string,
        callerId: tool.callerId,
        announce: tool.announce,
        timeoutSec: tool.timeoutSec,
      });
      return { ok: true, output: JSON.stringify({ ok: true, note: 'The caller is being transferred.' }), continueConversation: false };
    } catch (err) {
      return failure(`the transfer failed: ${(err as Error).message}. Apologise and offer to take a message.`);
    }
  }

  async #callHttp(tool: HttpToolConfig, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutcome> {
    const timeoutMs = tool.timeoutMs ?? this.opts.defaultTimeoutMs;
    const fetchImpl = this.opts.fetchImpl ?? fetch;
    try {
      const response = await fetchImpl(tool.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-koe-call-sid': this.host.callSid, ...tool.headers },
        body: JSON.stringify(args),
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      });
      const body = (await response.text()).slice(0, MAX_HTTP_OUTPUT_CHARS);
      if (!response.ok) {
        this.opts.log.warn({ tool: tool.name, status: response.status }, 'HTTP tool answered with an error status');
        return failure(`the ${tool.name} service answered HTTP ${response.status}`, body);
      }
      return { ok: true, output: body === '' ? JSON.stringify({ ok: true }) : body, continueConversation: true };
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      this.opts.log.warn({ tool: tool.name, err: (err as Error).message }, timedOut ? 'HTTP tool timed out' : 'HTTP tool failed');
      return failure(timedOut ? `the ${tool.name} service did not answer within ${timeoutMs} ms` : `the ${tool.name} service could not be reached`);
    }
  }
}

function failure(message: string, body?: string): ToolOutcome {
  return {
    ok: false,
    output: JSON.stringify(body === undefined ? { error: message } : { error: message, body }),
    continueConversation: true,
  };
}
