// Fan-out of every call's events to observers (log, storage, live dashboard, metrics).
// An observer that throws is logged and cannot disturb the call or the other observers.
import type { Logger } from '../log/logger.js';
import type { CallEvent, CallEventListener } from './call-events.js';

export class CallEventHub {
  readonly #listeners = new Set<CallEventListener>();

  constructor(private readonly log: Logger) {}

  subscribe(listener: CallEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish = (event: CallEvent): void => {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.error({ err, type: event.type }, 'a call event observer threw');
      }
    }
  };
}

/** Logs the events an operator wants in the server log; transcripts only at debug. */
export function callLogObserver(log: Logger): CallEventListener {
  return (event) => {
    switch (event.type) {
      case 'call.started':
        log.info({ callSid: event.callSid, agentId: event.call.agentId, direction: event.call.direction }, 'call started');
        break;
      case 'turn.user':
        log.debug({ callSid: event.callSid, text: event.text, source: event.source }, 'caller turn');
        break;
      case 'turn.assistant':
        log.debug(
          { callSid: event.callSid, text: event.heardText, interrupted: event.interrupted, latencyMs: event.latencyMs },
          'agent turn',
        );
        break;
      case 'barge_in':
        log.info({ callSid: event.callSid, heardMs: event.heardMs, sentMs: event.sentMs }, 'caller barged in');
        break;
      case 'tool.result':
        log.info({ callSid: event.callSid, tool: event.name, ok: event.ok, durationMs: event.durationMs }, 'tool call');
        break;
      case 'call.error':
        log.error({ callSid: event.callSid, message: event.message }, 'call error');
        break;
      default:
        break;
    }
  };
}
