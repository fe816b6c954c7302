// One Twilio Media Streams WebSocket: checks the per-call stream token on `start`, builds the call's agent
// and variables, and feeds a CallSession. Malformed messages are counted and logged, never fatal.
import type { AgentRegistry } from '../agents/index.js';
import { callVariables, renderTemplate, TemplateError } from '../agents/index.js';
import type { Logger } from '../log/logger.js';
import type { KoeMetrics } from '../metrics/metrics.js';
import type { CallControl } from '../twilio/index.js';
import {
  decodeTwilioMessage,
  encodeClearMessage,
  encodeMarkMessage,
  encodeMediaMessage,
  STREAM_TOKEN_PARAMETER,
  verifyStreamToken,
} from '../twilio/index.js';
import type { CallDirection, CallEventListener } from './call-events.js';
import { CallRecording, recordedTwilioSink } from './call-recording.js';
import { CallSession } from './call-session.js';
import { CALL_ID_PARAMETER, RECORD_PARAMETER, VARIABLE_PARAMETER_PREFIX } from './stream-parameter-names.js';
import type { TwilioMediaSink } from './call-session.js';
import type { ModelConnector } from './model-link.js';

/** The parts of a `ws` WebSocket the handler uses. */
export interface MediaSocket {
  /** `ws` keeps its TCP socket here; used only to batch writes. */
  readonly _socket?: { cork(): void; uncork(): void } | null;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): this;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

const OPEN = 1;
export { CALL_ID_PARAMETER, maxVariableChars, RECORD_PARAMETER, VARIABLE_PARAMETER_PREFIX } from './stream-parameter-names.js';
const START_TIMEOUT_MS = 10_000;
const MAX_LOGGED_BAD_MESSAGES = 5;

export interface CallServices {
  agents: AgentRegistry;
  streamSecret: string;
  connectModel: (signal: AbortSignal) => ReturnType<ModelConnector>;
  modelDescription: { url: string; model: string; shape: 'ga' | 'beta' };
  callControl: CallControl | undefined;
  apologyClip: Uint8Array;
  settings: {
    handshakeTimeoutMs: number;
    transcriptionModel: string;
    toolTimeoutMs: number;
    maxCallDurationMs: number;
  };
  log: Logger;
  metrics: KoeMetrics;
  onEvent: CallEventListener;
  /** Live calls by callSid: a newer stream for the same call replaces the older one. */
  activeCalls: Map<string, CallSession>;
  newCallId: () => string;
  /**
   * Recordings go to `<dir>/<callId>.wav`: of every call with `all` (KOE_RECORD_CALLS), else of calls whose
   * stream parameters ask for it (an outbound call placed with `record`).
   */
  recording?: { dir: string; all: boolean };
}

export function handleTwilioStream(socket: MediaSocket, services: CallServices): void {
  let session: CallSession | undefined;
  let recording: CallRecording | undefined;
  let streamSid: string | undefined;
  let log = services.log.child({ component: 'twilio-stream' });
  let badMessages = 0;
  const startTimer = setTimeout(() => {
    log.warn('no start message within 10 s; closing the stream');
    services.metrics.rejectedStreams.inc({ reason: 'no_start' });
    socket.close(1008, 'start expected');
  }, START_TIMEOUT_MS);

  const countBad = (kind: string, detail: string): void => {
    badMessages += 1;
    services.metrics.badInput.inc({ source: 'twilio', kind });
    if (badMessages <= MAX_LOGGED_BAD_MESSAGES) log.warn({ kind, detail }, 'dropped a malformed message from Twilio');
    else if (badMessages === MAX_LOGGED_BAD_MESSAGES + 1) log.warn('more malformed messages from Twilio; counting them in koe_bad_input_total only');
  };

  socket.on('message', (data, isBinary) => {
    if (isBinary) {
      countBad('binary_frame', 'Twilio sends text frames only');
      return;
    }
    const raw = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const decoded = decodeTwilioMessage(raw);
    if (!decoded.ok) {
      countBad(decoded.error.kind, decoded.error.detail);
      return;
    }
    const message = decoded.message;
    switch (message.event) {
      case 'connected':
        return;
      case 'start': {
        if (session) {
          countBad('duplicate_start', 'a second start on one stream');
          return;
        }
        clearTimeout(startTimer);
        streamSid = message.start.streamSid;
        log = services.log.child({ callSid: message.start.callSid, streamSid });
        ({ session, recording } = startSession(socket, services, message.start, log) ?? {});
        if (!session) socket.close(1008, 'stream not authorised');
        return;
      }
      case 'media':
        if (!session) return countBad('media_before_start', 'media before an accepted start');
        if (message.streamSid !== streamSid) return countBad('wrong_stream', 'media for another stream');
        recording?.onCallerAudio(message.media.payload);
        session.onCallerAudio(message.media.payload);
        return;
      case 'mark':
        session?.onMark(message.mark.name);
        return;
      case 'dtmf':
        session?.onDtmf(message.dtmf.digit);
        return;
      case 'stop':
        session?.onTwilioEnded('stop');
        socket.close(1000, 'stopped');
        return;
    }
  });

  socket.on('close', () => {
    clearTimeout(startTimer);
    session?.onTwilioEnded('closed');
    void recording?.close();
  });
  socket.on('error', (err) => log.warn({ err: err.message }, 'media socket error'));
}

function startSession(
  socket: MediaSocket,
  services: CallServices,
  start: { accountSid: string; streamSid: string; callSid: string; customParameters: Record<string, string> },
  log: Logger,
): { session: CallSession; recording: CallRecording | undefined } | undefined {
  const { [STREAM_TOKEN_PARAMETER]: token, ...parameters } = start.customParameters;
  const verdict = verifyStreamToken({ secret: services.streamSecret, token: token ?? '', callSid: start.callSid, parameters });
  if (!verdict.ok) {
    services.metrics.rejectedStreams.inc({ reason: verdict.reason });
    log.warn({ reason: verdict.reason }, 'refused a media stream: bad stream token');
    return undefined;
  }
  const agent = services.agents.get(verdict.claims.agentId);
  if (!agent) {
    services.metrics.rejectedStreams.inc({ reason: 'unknown_agent' });
    log.error({ agentId: verdict.claims.agentId }, 'refused a media stream: its agent no longer exists');
    return undefined;
  }
  const direction: CallDirection = parameters.direction === 'outbound' ? 'outbound' : 'inbound';
  const given: Record<string, string> = {};
  for (const [name, value] of Object.entries(parameters)) {
    if (name.startsWith(VARIABLE_PARAMETER_PREFIX)) given[name.slice(VARIABLE_PARAMETER_PREFIX.length)] = value;
  }
  const variables = callVariables(
    agent,
    { callSid: start.callSid, direction, callerNumber: parameters.callerNumber, calledNumber: parameters.calledNumber },
    given,
  );
  let instructions = '';
  let greeting: string | undefined;
  let setupError: string | undefined;
  try {
    instructions = renderTemplate(agent.instructions, variables, `agent "${agent.id}" instructions`);
    greeting = agent.greeting === undefined ? undefined : renderTemplate(agent.greeting, variables, `agent "${agent.id}" greeting`);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    setupError = err.message;
    log.error({ missing: err.missing }, `cannot start the call: ${err.message}`);
  }

  const cork = corkingTicks(socket);
  const sink: TwilioMediaSink = {
    sendMedia: (audio) => {
      if (socket.readyState !== OPEN) return;
      cork();
      socket.send(encodeMediaMessage(start.streamSid, audio));
    },
    sendMark: (name) => socket.readyState === OPEN && socket.send(encodeMarkMessage(start.streamSid, name)),
    sendClear: () => socket.readyState === OPEN && socket.send(encodeClearMessage(start.streamSid)),
    close: () => socket.readyState === OPEN && socket.close(1000, 'call ended'),
  };
  // The token covers the parameters, so a callId here is one Koe put in its own TwiML.
  const callId = parameters[CALL_ID_PARAMETER] ?? services.newCallId();
  const record = services.recording !== undefined && (services.recording.all || parameters[RECORD_PARAMETER] === 'true');
  const recording = record && services.recording ? CallRecording.tryOpen({ dir: services.recording.dir, callId, log }) : undefined;
  const previous = services.activeCalls.get(start.callSid);
  if (previous) {
    log.warn('Twilio opened a new stream for a call already connected; the new stream replaces the old one');
    previous.end('replaced');
  }
  const session = new CallSession({
    info: {
      callId,
      callSid: start.callSid,
      streamSid: start.streamSid,
      accountSid: start.accountSid,
      agentId: agent.id,
      agentVersion: services.agents.versionOf(agent.id),
      direction,
      from: parameters.callerNumber,
      to: parameters.calledNumber,
      model: services.modelDescription,
      recording: recording !== undefined,
    },
    agent,
    variables,
    instructions,
    greeting,
    twilio: recording ? recordedTwilioSink(sink, recording) : sink,
    connectModel: services.connectModel,
    callControl: services.callControl,
    apologyClip: services.apologyClip,
    settings: services.settings,
    log,
    metrics: services.metrics,
    onEvent: (event) => {
      if (event.type === 'call.ended' && services.activeCalls.get(start.callSid) === session) {
        services.activeCalls.delete(start.callSid);
      }
      if (event.type === 'call.ended') void recording?.close();
      services.onEvent(event);
    },
    ...(setupError ? { setupError } : {}),
  });
  services.activeCalls.set(start.callSid, session);
  session.start();
  return { session, recording };
}

/**
 * Every outbound chunk is a media message and its mark: two frames, and without corking two write
 * syscalls, the largest cost of a busy bridge (half of its CPU at 300 calls). Corking the TCP socket
 * until the next tick sends all frames written in one turn of the event loop in one write.
 */
function corkingTicks(socket: MediaSocket): () => void {
  let corked = false;
  return () => {
    const tcp = socket._socket;
    if (corked || !tcp) return;
    corked = true;
    tcp.cork();
    process.nextTick(() => {
      corked = false;
      tcp.uncork();
    });
  };
}
