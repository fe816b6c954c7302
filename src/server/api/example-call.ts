// The made-up call the dashboard's template preview is filled with.
import type { Agent, CallFacts } from '../../agents/index.js';

export const EXAMPLE_CALL_SID = `CA${'0'.repeat(32)}`;

export function exampleCallFacts(agent: Pick<Agent, 'phoneNumbers'>, now = new Date()): CallFacts {
  return {
    callSid: EXAMPLE_CALL_SID,
    direction: 'inbound',
    callerNumber: '+15550100001',
    calledNumber: agent.phoneNumbers[0] ?? '+15550100002',
    now,
  };
}
