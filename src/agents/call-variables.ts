// The values a call's templates are filled with: the agent's defaults, then what Koe knows about
// the call, then variables given for this call (outbound API, campaign rows), later ones winning.
import type { Agent } from './agent.js';

export interface CallFacts {
  callSid: string;
  direction: 'inbound' | 'outbound';
  callerNumber?: string | undefined;
  calledNumber?: string | undefined;
  now?: Date;
}

// Building an Intl.DateTimeFormat costs ~0.2 ms; a burst of calls would block the event loop that
// streams every other call's audio, so formatters are kept per locale, zone and fields.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: string, timeZone: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}|${JSON.stringify(opts)}`;
  let cached = formatters.get(key);
  if (!cached) {
    cached = new Intl.DateTimeFormat(locale, { timeZone, ...opts });
    if (formatters.size > 256) formatters.clear();
    formatters.set(key, cached);
  }
  return cached;
}

export function builtinCallVariables(agent: Pick<Agent, 'timezone' | 'language'>, facts: CallFacts): Record<string, string> {
  const now = facts.now ?? new Date();
  const zone = agent.timezone;
  const part = (opts: Intl.DateTimeFormatOptions, locale = 'en-CA'): string => formatter(locale, zone, opts).format(now);
  const vars: Record<string, string> = {
    callSid: facts.callSid,
    direction: facts.direction,
    // en-CA formats dates as YYYY-MM-DD; the weekday follows the agent's language.
    date: part({ year: 'numeric', month: '2-digit', day: '2-digit' }),
    time: part({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
    weekday: part({ weekday: 'long' }, agent.language),
    timezone: zone,
  };
  if (facts.callerNumber) vars.callerNumber = facts.callerNumber;
  if (facts.calledNumber) vars.calledNumber = facts.calledNumber;
  return vars;
}

export function callVariables(
  agent: Pick<Agent, 'timezone' | 'language' | 'variables'>,
  facts: CallFacts,
  given: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return { ...agent.variables, ...builtinCallVariables(agent, facts), ...given };
}
