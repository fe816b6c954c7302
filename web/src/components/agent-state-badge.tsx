import type { AgentState } from '../api/types.js';
import { useI18n } from '../i18n/i18n.js';

export function AgentStateBadge({ state, testId = 'agent-state' }: { state: AgentState; testId?: string }) {
  const { t } = useI18n();
  return (
    <span className={`state-badge state-${state}`} data-testid={testId} data-state={state}>
      <span className="state-dot" aria-hidden="true" />
      {t(`agentState.${state}`)}
    </span>
  );
}
