// Which template variables an agent still needs for a call, asked of POST /api/agents/preview (the server
// knows the built-in variables and fills the agent's defaults): the place-call form and the campaign form
// use it to prefill variable rows and to warn about CSV files that lack a column.
import { useEffect, useState } from 'react';
import { apiRequest } from '../api/api-client.js';
import type { AgentRecord, PreviewAgentRequest, PreviewAgentResponse } from '../api/types.js';

const DEBOUNCE_MS = 250;

export interface MissingVariables {
  /** The agent these names were computed for. */
  agentId: string;
  /** Variables without a value once `provided` are given (in the order the templates use them). */
  missing: string[];
}

/**
 * `provided` names count as having a value (a CSV column, a variable row); null until the first answer for
 * this agent, and kept (stale) while the next one is on its way. Errors leave it null: the server checks again.
 */
export function useMissingVariables(agent: AgentRecord | null, provided: readonly string[]): MissingVariables | null {
  const [result, setResult] = useState<MissingVariables | null>(null);
  const providedKey = JSON.stringify([...new Set(provided)].sort());
  const agentKey = agent ? `${agent.id}@${agent.version}` : '';

  useEffect(() => {
    if (!agent) return;
    const controller = new AbortController();
    const names = JSON.parse(providedKey) as string[];
    const body: PreviewAgentRequest = {
      // Only the templates and variables matter: fields that cannot change them are neutralised (as the editor's preview does).
      definition: { ...agent.definition, phoneNumbers: [], tools: [] },
      variables: Object.fromEntries(names.map((name) => [name, 'x'])),
    };
    const timer = setTimeout(() => {
      apiRequest<PreviewAgentResponse>('/api/agents/preview', { method: 'POST', body, signal: controller.signal }).then(
        (preview) => setResult({ agentId: agent.id, missing: preview.missing }),
        () => {
          if (!controller.signal.aborted) setResult(null);
        },
      );
    }, DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
    // agentKey stands for `agent`, which is a new object on every reload of the agent list.
  }, [agentKey, providedKey]);

  return result && agent && result.agentId === agent.id ? result : null;
}
