// `koe call`: places an outbound call through a running Koe (POST /api/calls) and, with --wait, follows it
// (GET /api/calls/:id every second) until it ends, then prints the transcript.
import type { CallDetail, CallRecord, PlaceCallRequest, PlaceCallResponse, TurnRecord } from '../server/api/api-types.js';
import type { CliIo } from './api-client.js';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  KoeApiClient,
  KoeApiError,
  parseCommandLine,
  println,
  processIo,
  reportFailure,
  resolveConnection,
  sleep,
  UsageError,
} from './api-client.js';
import { TERMINAL_TWILIO_STATUSES } from '../store/outbound-call-store.js';

const COMMAND = 'koe call';

export const CALL_HELP = `Usage: koe call <to> --agent ID [--from E164] [--var NAME=VALUE]... [--amd] [--record] [--country CC] [--wait]

Places an outbound call through a running Koe (Twilio must be configured there) and prints the call's id,
status and dashboard page.

  <to>              the number to call: E.164 (+819012345678), or national with --country
  --agent ID        the agent that talks
  --from E164       caller ID (default: the agent's first phone number, else TWILIO_CALLER_ID)
  --var NAME=VALUE  a template variable for this call; repeat for more
  --amd             detect answering machines (default: the agent's answeringMachine setting)
  --record          record the call (both sides, as heard) even when KOE_RECORD_CALLS is off
  --country CC      ISO country (JP, US …) for numbers written without + (default: KOE_DEFAULT_COUNTRY)
  --wait            follow the call until it ends (status changes, then the transcript); exits 1 if the
                    call could not be placed or was abandoned
${CONNECTION_HELP}

Exit codes: 0 placed (or, with --wait, ended), 1 refused by Koe or Twilio, 2 a mistake in the command line.`;

export async function callCommand(argv: string[], io: CliIo = processIo()): Promise<number> {
  try {
    return await placeCall(argv, io);
  } catch (err) {
    return reportFailure(err, io);
  }
}

export interface CallArguments {
  request: PlaceCallRequest;
  wait: boolean;
  url: string | undefined;
  password: string | undefined;
}

/** The command line → the request; throws UsageError. `undefined` for --help. */
export function parseCallArguments(argv: string[]): CallArguments | undefined {
  const { values, positionals } = parseCommandLine(COMMAND, argv, {
    allowPositionals: true,
    options: {
      agent: { type: 'string' },
      from: { type: 'string' },
      var: { type: 'string', multiple: true },
      amd: { type: 'boolean' },
      record: { type: 'boolean' },
      country: { type: 'string' },
      wait: { type: 'boolean' },
      ...CONNECTION_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const [to, ...extra] = positionals;
  if (!to) throw new UsageError('the number to call is missing: koe call <to> --agent ID', COMMAND);
  if (extra.length > 0) throw new UsageError(`one number per call; unexpected: ${extra.join(' ')}`, COMMAND);
  if (!values.agent) throw new UsageError('--agent is required (the id of the agent that talks)', COMMAND);
  const request: PlaceCallRequest = { to, agentId: values.agent };
  if (values.from !== undefined) request.from = values.from;
  if (values.var) request.variables = parseVariables(values.var, COMMAND);
  if (values.amd) request.machineDetection = true;
  if (values.record) request.record = true;
  if (values.country !== undefined) request.defaultCountry = parseCountry(values.country, COMMAND);
  return { request, wait: values.wait === true, url: values.url, password: values.password };
}

/** `name=value` pairs (the value may hold `=`; a later name wins). */
export function parseVariables(pairs: string[], command: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? '' : pair.slice(0, eq).trim();
    if (name === '') throw new UsageError(`--var "${pair}" must be NAME=VALUE`, command);
    variables[name] = pair.slice(eq + 1);
  }
  return variables;
}

/** Two letters, upper-cased. */
export function parseCountry(value: string, command: string): string {
  if (!/^[A-Za-z]{2}$/.test(value.trim())) throw new UsageError(`--country "${value}" must be a two-letter ISO country code such as JP or US`, command);
  return value.trim().toUpperCase();
}

async function placeCall(argv: string[], io: CliIo): Promise<number> {
  const args = parseCallArguments(argv);
  if (!args) {
    println(io.stdout, CALL_HELP);
    return 0;
  }
  const client = await KoeApiClient.login(await resolveConnection(args, io));
  const { call } = await client.post<PlaceCallResponse>('/api/calls', args.request);
  println(io.stdout, `call       ${call.id}`);
  println(io.stdout, `status     ${call.status}`);
  println(io.stdout, `to         ${call.to ?? args.request.to}`);
  if (call.from) println(io.stdout, `from       ${call.from}`);
  println(io.stdout, `agent      ${call.agentId}`);
  println(io.stdout, `dashboard  ${client.url}/calls/${encodeURIComponent(call.id)}`);
  if (!args.wait) return 0;

  println(io.stdout);
  const detail = await followCall(client, call.id, io);
  println(io.stdout);
  printTranscript(detail.turns, io);
  return detail.call.status === 'abandoned' || detail.call.endReason === 'dial_failed' ? 1 : 0;
}

const FINAL_STATUS_WAIT_MS = 5_000;

/** Polls the call, printing each change of its state, until it has ended; returns its final detail. */
export async function followCall(client: KoeApiClient, id: string, io: CliIo): Promise<CallDetail> {
  const startedMs = performance.now();
  const elapsed = (): string => `${((performance.now() - startedMs) / 1000).toFixed(1).padStart(6)}s`;
  let last = '';
  let notFoundPolls = 0;
  let endedAtMs: number | undefined;
  for (;;) {
    let detail: CallDetail | undefined;
    try {
      detail = await client.get<CallDetail>(`/api/calls/${encodeURIComponent(id)}`);
    } catch (err) {
      // A call placed a moment ago may not be readable yet on another process's database connection.
      if (!(err instanceof KoeApiError && err.status === 404 && ++notFoundPolls < 5)) throw err;
    }
    if (detail) {
      const line = describeCallState(detail.call);
      if (line !== last) println(io.stdout, `${elapsed()}  ${line}`);
      last = line;
      if (detail.call.status === 'ended' || detail.call.status === 'abandoned') {
        // The media stream often ends a moment before Twilio's final status callback arrives: wait a little
        // for it, so the last line says how the call ended on Twilio's side too.
        endedAtMs ??= performance.now();
        if (TERMINAL_TWILIO_STATUSES.has(detail.call.twilioStatus ?? '') || performance.now() - endedAtMs >= FINAL_STATUS_WAIT_MS) return detail;
      }
    }
    await sleep(io.pollIntervalMs ?? 1000);
  }
}

/** `dialing (twilio: ringing)`, `ended: agent hung up (twilio: completed, answered by human) after 34.9 s` */
export function describeCallState(call: CallRecord): string {
  const details: string[] = [];
  if (call.twilioStatus) details.push(`twilio: ${call.twilioStatus}`);
  if (call.answeredBy) details.push(`answered by ${call.answeredBy.replace(/_/g, ' ')}`);
  let line = call.status === 'ended' && call.endReason ? `ended: ${call.endReason.replace(/_/g, ' ')}` : call.status;
  if (details.length > 0) line += ` (${details.join(', ')})`;
  if ((call.status === 'ended' || call.status === 'abandoned') && call.durationMs !== null) line += ` after ${(call.durationMs / 1000).toFixed(1)} s`;
  if (call.error) line += ` — ${call.error}`;
  return line;
}

function printTranscript(turns: TurnRecord[], io: CliIo): void {
  if (turns.length === 0) {
    println(io.stdout, 'Transcript: (nothing was said)');
    return;
  }
  println(io.stdout, 'Transcript:');
  for (const turn of turns) {
    if (turn.role === 'user') {
      println(io.stdout, `  caller: ${turn.text ?? '(not understood)'}${turn.source === 'dtmf' ? '  [keypad]' : ''}`);
    } else {
      const said = turn.heardText ?? turn.text ?? '';
      println(io.stdout, `  agent:  ${said || '(nothing heard)'}${turn.interrupted ? '  [interrupted]' : ''}`);
    }
  }
}
