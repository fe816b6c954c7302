// `koe simulate`: a phone call without a phone. Koe runs in this process with the current configuration
// (by default the built-in engine); a simulated Twilio media stream calls an agent, plays the caller's
// recording utterance by utterance with real-time pacing and turn-taking, and the conversation is printed
// from the call's events as it happens.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAgentsFile } from '../agents/index.js';
import { encodeWav } from '../audio/index.js';
import { findPackageRoot } from '../audio/apology-clip.js';
import type { CallEvent } from '../call/call-events.js';
import { loadConfig, loadDotEnv } from '../config/index.js';
import { createLogger } from '../log/logger.js';
import { buildServer } from '../server/app.js';
import { callerUtterances } from '../simulate/caller-audio.js';
import { placeInboundCall } from '../simulate/place-call.js';
import { randomSid, SimulatedTwilioCall } from '../simulate/simulated-twilio-call.js';
import { mintStreamToken, STREAM_TOKEN_PARAMETER } from '../twilio/index.js';

const HELP = `Usage: koe simulate [--wav FILE]... [--agent ID] [--url URL] [--out FILE] [--max-seconds N]

Calls an agent through the same Twilio media-stream path a phone call takes, playing each WAV as the
caller (split into utterances at pauses; the caller waits for the agent to finish before speaking),
and prints the conversation. Without --wav, a bundled recording asks for the opening hours and says
goodbye.

  --wav FILE        caller audio (WAV: PCM16, μ-law or A-law, any rate); repeat for more turns
  --agent ID        agent from the agents file (default: the default agent)
  --url URL         call a Koe that is already running (e.g. http://127.0.0.1:5050) through its
                    voice webhook, so the call shows on its dashboard; signed with TWILIO_AUTH_TOKEN
                    if set. The agent is the one routed to --to (default: the running Koe's default)
  --to NUMBER       the called number for --url (picks the agent routed to it)
  --out FILE        write what the caller heard to a WAV file
  --max-seconds N   give up after N seconds (default 120)`;

/** The agent is done talking when nothing new arrived for this long and nothing is left to play. */
const AGENT_QUIET_MS = 900;

export async function simulateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      wav: { type: 'string', multiple: true },
      agent: { type: 'string' },
      url: { type: 'string' },
      to: { type: 'string' },
      out: { type: 'string' },
      'max-seconds': { type: 'string', default: '120' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  loadDotEnv();
  const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env, PORT: '0', HOST: '127.0.0.1' });
  const log = createLogger({ level: config.logLevel });
  const agents = loadAgentsFile(resolve(config.agentsFile), config.defaultAgentId);
  const agent = values.agent ? agents.get(values.agent) : agents.defaultAgent;
  if (!agent) throw new Error(`no agent "${values.agent}" in ${config.agentsFile}; agents: ${agents.list().map((a) => a.id).join(', ')}`);
  const wavs = values.wav?.length ? values.wav : [resolve(findPackageRoot(import.meta.dirname), 'samples/caller-opening-hours.wav')];
  const utterances = wavs.flatMap((path) => callerUtterances(readFileSync(path)));
  if (utterances.length === 0) throw new Error('the caller audio holds no speech');
  const deadline = performance.now() + Number(values['max-seconds']) * 1000;
  if (values.url) return simulateAgainstRunningKoe({ baseUrl: values.url, to: values.to, utterances, deadline, out: values.out });

  const server = await buildServer({ config, log, agents });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  try {
    if (!config.realtime.url) {
      process.stdout.write('Loading the built-in engine… ');
      const engine = await server.engine();
      console.log(`ready (dialogue: ${engine.dialogueName}).`);
    }
    let assistantTurns = 0;
    let ended: Extract<CallEvent, { type: 'call.ended' }> | undefined;
    server.hub.subscribe((event) => {
      printEvent(event);
      if (event.type === 'turn.assistant') assistantTurns += 1;
      if (event.type === 'call.ended') ended = event;
    });

    const address = server.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const callSid = randomSid('CA');
    const parameters = { direction: 'inbound', callerNumber: '+15550100100', calledNumber: agent.phoneNumbers[0] ?? '+15550100199' };
    const token = mintStreamToken({ secret: config.streamSecret, callSid, agentId: agent.id, parameters, ttlMs: config.streamTokenTtlMs });
    console.log(`Calling agent "${agent.id}" (${agent.name}) with ${utterances.length} caller utterance(s).\n`);
    const call = await SimulatedTwilioCall.connect({
      url: `ws://127.0.0.1:${port}/twilio/stream`,
      callSid,
      customParameters: { ...parameters, [STREAM_TOKEN_PARAMETER]: token },
    });

    let lastAgentAudioAt = performance.now();
    call.on('media', () => (lastAgentAudioAt = performance.now()));
    const agentQuiet = (): boolean => call.stats.bytesBuffered === 0 && performance.now() - lastAgentAudioAt > AGENT_QUIET_MS;
    /** Keeps the line open with silence, as a phone line does, until `done()` or the time runs out. */
    const holdLine = async (done: () => boolean, maxMs: number): Promise<void> => {
      const until = Math.min(deadline, performance.now() + maxMs);
      while (!call.closed && !ended && !done() && performance.now() < until) await call.sendSilence(100, { pace: 'realtime' }).catch(() => 0);
    };

    // A caller waits for the greeting before talking.
    await holdLine(() => (agent.greeting ? assistantTurns > 0 : true) && agentQuiet(), agent.greeting ? 15_000 : 600);
    for (const utterance of utterances) {
      if (call.closed || ended) break;
      const before = assistantTurns;
      await call.sendAudio(utterance, { pace: 'realtime' }).catch(() => 0);
      await holdLine(() => assistantTurns > before && agentQuiet(), 30_000);
    }
    // The agent may hang up after the caller's goodbye.
    await holdLine(() => false, 8_000);
    if (!ended) await call.stop().catch(() => undefined);
    for (let i = 0; i < 50 && !ended; i += 1) await new Promise((r) => setTimeout(r, 20));

    if (values.out) {
      writeFileSync(values.out, encodeWav({ sampleRateHz: 8000, encoding: 'mulaw', data: call.playedAudio() }));
      console.log(`\nWhat the caller heard: ${values.out}`);
    }
    await call.close().catch(() => undefined);
    return ended ? 0 : 1;
  } finally {
    await server.app.close();
  }
}

function printEvent(event: CallEvent): void {
  const at = `${(event.atMs / 1000).toFixed(1).padStart(5)}s`;
  switch (event.type) {
    case 'call.started':
      console.log(`${at}  call started — agent ${event.call.agentId}, model ${event.call.model.model} at ${event.call.model.url}`);
      break;
    case 'turn.user':
      console.log(`${at}  caller: ${event.text ?? '(not understood)'}${event.source === 'dtmf' ? '  [keypad]' : ''}`);
      break;
    case 'turn.assistant': {
      const latency = event.latencyMs === null ? '' : `  [${event.latencyMs} ms after the caller stopped]`;
      const cut = event.interrupted ? `  [interrupted; generated: "${event.text}"]` : '';
      console.log(`${at}  agent:  ${event.heardText || '(nothing heard)'}${latency}${cut}`);
      break;
    }
    case 'barge_in':
      console.log(`${at}         ↳ caller barged in after ${event.heardMs} ms of the reply`);
      break;
    case 'tool.called':
      console.log(`${at}         ↳ tool ${event.name}(${JSON.stringify(event.arguments)})`);
      break;
    case 'dtmf.sent':
      console.log(`${at}         ↳ pressed ${event.digits}`);
      break;
    case 'call.error':
    case 'model.error':
      console.log(`${at}  error: ${event.message}`);
      break;
    case 'call.ended':
      console.log(`${at}  call ended: ${event.reason.replace(/_/g, ' ')} (${(event.durationMs / 1000).toFixed(1)} s)`);
      break;
    default:
      break;
  }
}

/**
 * The same caller against a Koe running elsewhere. Its call events stay in that process (watch them on
 * its dashboard), so turn-taking here follows the agent's audio: the caller speaks once the agent has
 * said something and gone quiet.
 */
async function simulateAgainstRunningKoe(opts: {
  baseUrl: string;
  to: string | undefined;
  utterances: Buffer[];
  deadline: number;
  out: string | undefined;
}): Promise<number> {
  const authToken = process.env.TWILIO_AUTH_TOKEN?.trim() || undefined;
  const { call, callSid } = await placeInboundCall({
    baseUrl: opts.baseUrl,
    ...(opts.to ? { to: opts.to } : {}),
    ...(authToken ? { authToken } : {}),
  });
  const started = performance.now();
  const at = (): string => `${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s`;
  console.log(`Call ${callSid} placed at ${opts.baseUrl}; follow it live at ${opts.baseUrl.replace(/\/$/, '')}/calls\n`);
  let agentBytes = 0;
  let lastAgentAudioAt = performance.now();
  call.on('media', (audio) => {
    agentBytes += audio.length;
    lastAgentAudioAt = performance.now();
  });
  const agentQuiet = (): boolean => call.stats.bytesBuffered === 0 && performance.now() - lastAgentAudioAt > AGENT_QUIET_MS;
  const holdLine = async (done: () => boolean, maxMs: number): Promise<void> => {
    const until = Math.min(opts.deadline, performance.now() + maxMs);
    while (!call.closed && !done() && performance.now() < until) await call.sendSilence(100, { pace: 'realtime' }).catch(() => 0);
  };
  await holdLine(() => agentBytes > 0 && agentQuiet(), 15_000);
  if (agentBytes > 0) console.log(`${at()}  agent:  (${(agentBytes / 8000).toFixed(1)} s of speech)`);
  for (const [index, utterance] of opts.utterances.entries()) {
    if (call.closed) break;
    const before = agentBytes;
    console.log(`${at()}  caller: utterance ${index + 1} of ${opts.utterances.length} (${(utterance.length / 8000).toFixed(1)} s)`);
    await call.sendAudio(utterance, { pace: 'realtime' }).catch(() => 0);
    await holdLine(() => agentBytes > before && agentQuiet(), 30_000);
    if (agentBytes > before) console.log(`${at()}  agent:  (${((agentBytes - before) / 8000).toFixed(1)} s of speech)`);
  }
  await holdLine(() => false, 8_000);
  const hungUpByAgent = call.closed;
  if (!call.closed) await call.stop().catch(() => undefined);
  console.log(`${at()}  call ended${hungUpByAgent ? ' by the agent' : ''}`);
  if (opts.out) {
    writeFileSync(opts.out, encodeWav({ sampleRateHz: 8000, encoding: 'mulaw', data: call.playedAudio() }));
    console.log(`\nWhat the caller heard: ${opts.out}`);
  }
  await call.close().catch(() => undefined);
  return agentBytes > 0 ? 0 : 1;
}
