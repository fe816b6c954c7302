// Agents: who answers which numbers, with their current version.
import type { AgentList } from '../api/types.js';
import { EmptyState, ErrorMessage, Loading } from '../components/status.js';
import { useApi } from '../components/use-api.js';
import { useI18n } from '../i18n/i18n.js';
import { Link, navigate } from '../router.js';

export function AgentsPage() {
  const { t, fmt } = useI18n();
  const agents = useApi<AgentList>('/api/agents');
  const data = agents.data;
  return (
    <div className="page page-wide" data-testid="agents-page">
      <div className="page-head">
        <h1>{t('agents.title')}</h1>
        <Link to="/agents/new" className="button button-primary" data-testid="agent-new">
          {t('agents.new')}
        </Link>
      </div>
      <p className="muted">{t('agents.intro')}</p>
      {agents.error ? <ErrorMessage error={agents.error} onRetry={agents.reload} /> : null}
      {!data && agents.loading ? <Loading /> : null}
      {data && data.agents.length === 0 ? <EmptyState testId="agents-empty" title={t('agents.empty')} hint={t('agents.emptyHint')} /> : null}
      {data && data.agents.length > 0 ? (
        <div className="table-wrap">
          <table className="table" data-testid="agents-table">
            <thead>
              <tr>
                <th>{t('agents.col.name')}</th>
                <th>{t('agents.col.id')}</th>
                <th>{t('agents.col.language')}</th>
                <th>{t('agents.col.voice')}</th>
                <th>{t('agents.col.numbers')}</th>
                <th>{t('agents.col.tools')}</th>
                <th className="right">{t('agents.col.version')}</th>
                <th>{t('agents.col.updated')}</th>
              </tr>
            </thead>
            <tbody>
              {data.agents.map((agent) => {
                const d = agent.definition;
                const tools = (d.tools ?? []).map((tool) => (typeof tool === 'string' ? tool : tool.type === 'http' ? tool.name : tool.type));
                return (
                  <tr key={agent.id} className="clickable" data-testid={`agent-row-${agent.id}`} onClick={() => navigate(`/agents/${encodeURIComponent(agent.id)}`)}>
                    <td>
                      <Link to={`/agents/${encodeURIComponent(agent.id)}`} className="row-link" onClick={(e) => e.stopPropagation()}>
                        {d.name}
                      </Link>{' '}
                      {agent.id === data.defaultAgentId ? (
                        <span className="pill" data-testid="agent-default">
                          {t('agents.default')}
                        </span>
                      ) : null}
                    </td>
                    <td className="mono">{agent.id}</td>
                    <td>{d.language ?? 'en-US'}</td>
                    <td>{d.voice ?? 'alloy'}</td>
                    <td className="num">{(d.phoneNumbers ?? []).join(', ') || <span className="muted">—</span>}</td>
                    <td className="mono small">{tools.join(', ') || <span className="muted">—</span>}</td>
                    <td className="right num">v{agent.version}</td>
                    <td>
                      {fmt.dateTime(agent.updatedAt)} <span className="muted small">({t(`agents.source.${agent.source}`)})</span>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
