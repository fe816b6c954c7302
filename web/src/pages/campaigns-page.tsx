// Campaigns: each with its agent, status, progress and outcomes so far, newest first. Refreshed every
// few seconds while one of them is running.
import type { CampaignList } from '../api/types.js';
import { CampaignProgress, CampaignStatusPill, OutcomeCounts } from '../campaigns/campaign-view.js';
import { EmptyState, ErrorMessage, Loading } from '../components/status.js';
import { useApi } from '../components/use-api.js';
import { usePoll } from '../components/use-poll.js';
import { useI18n } from '../i18n/i18n.js';
import { Link, navigate } from '../router.js';

const POLL_MS = 2000;

export function CampaignsPage() {
  const { t, fmt } = useI18n();
  const campaigns = useApi<CampaignList>('/api/campaigns');
  const data = campaigns.data;
  const anyRunning = data?.campaigns.some((c) => c.status === 'running' || c.counts.inFlight > 0) ?? false;
  usePoll(anyRunning, POLL_MS, campaigns.refresh, campaigns.data ?? campaigns.error);

  return (
    <div className="page page-wide" data-testid="campaigns-page">
      <div className="page-head">
        <h1>{t('campaigns.title')}</h1>
        <Link to="/campaigns/new" className="button button-primary" data-testid="campaign-new">
          {t('campaigns.new')}
        </Link>
      </div>
      <p className="muted">{t('campaigns.intro')}</p>
      {campaigns.error ? <ErrorMessage error={campaigns.error} onRetry={campaigns.reload} /> : null}
      {!data && campaigns.loading ? <Loading /> : null}
      {data && data.campaigns.length === 0 ? (
        <EmptyState testId="campaigns-empty" title={t('campaigns.empty')} hint={t('campaigns.emptyHint')}>
          <Link to="/campaigns/new">{t('campaigns.new')}</Link>
        </EmptyState>
      ) : null}
      {data && data.campaigns.length > 0 ? (
        <div className="table-wrap">
          <table className="table" data-testid="campaigns-table">
            <thead>
              <tr>
                <th>{t('campaigns.col.name')}</th>
                <th>{t('campaigns.col.agent')}</th>
                <th>{t('campaigns.col.status')}</th>
                <th className="progress-col">{t('campaigns.col.progress')}</th>
                <th>{t('campaigns.col.outcomes')}</th>
                <th>{t('campaigns.col.created')}</th>
              </tr>
            </thead>
            <tbody>
              {data.campaigns.map((campaign) => {
                const href = `/campaigns/${encodeURIComponent(campaign.id)}`;
                return (
                  <tr key={campaign.id} className="clickable" data-testid={`campaign-row-${campaign.id}`} data-status={campaign.status} onClick={() => navigate(href)}>
                    <td>
                      <Link to={href} className="row-link" onClick={(e) => e.stopPropagation()}>
                        {campaign.name}
                      </Link>
                    </td>
                    <td>{campaign.agentId}</td>
                    <td>
                      <CampaignStatusPill status={campaign.status} />
                    </td>
                    <td className="progress-col">
                      <CampaignProgress counts={campaign.counts} compact />
                    </td>
                    <td>
                      <OutcomeCounts counts={campaign.counts} />
                    </td>
                    <td className="nowrap">{fmt.dateTime(campaign.createdAt)}</td>
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
