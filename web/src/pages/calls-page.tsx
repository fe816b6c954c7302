// Call history: free-text search, filters and pages, all kept in the URL so back/forward and links work.
// "Place a call" opens the outbound-call form.
import { useEffect, useRef, useState } from 'react';
import { queryString } from '../api/api-client.js';
import type { AgentList, CallList } from '../api/types.js';
import { CallOutcome, callSidOf } from '../components/call-outcome.js';
import { CallParties } from '../components/live-call-view.js';
import { PlaceCallDialog } from '../components/place-call-dialog.js';
import { Pager } from '../components/pager.js';
import { EmptyState, ErrorMessage, Loading } from '../components/status.js';
import { useApi } from '../components/use-api.js';
import { useI18n } from '../i18n/i18n.js';
import { useLive } from '../live/live-context.js';
import { Link, navigate, setSearchParams, useSearchParams } from '../router.js';

const PAGE_SIZE = 25;
const SEARCH_DEBOUNCE_MS = 300;

export function CallsPage() {
  const { t, fmt } = useI18n();
  const params = useSearchParams();
  const q = params.get('q') ?? '';
  const agentId = params.get('agentId') ?? '';
  const direction = params.get('direction') ?? '';
  const status = params.get('status') ?? '';
  const page = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
  const filtered = Boolean(q || agentId || direction || status);

  const [placing, setPlacing] = useState(false);
  const [search, setSearch] = useState(q);
  useEffect(() => setSearch(q), [q]);
  useEffect(() => {
    if (search === q) return;
    const timer = setTimeout(() => setSearchParams({ q: search.trim() || undefined, page: undefined }), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [search, q]);

  const agents = useApi<AgentList>('/api/agents');
  const calls = useApi<CallList>(
    `/api/calls${queryString({ q: q || undefined, agentId: agentId || undefined, direction: direction || undefined, status: status || undefined, page, pageSize: PAGE_SIZE })}`,
  );
  const data = calls.data;

  // Calls starting or ending elsewhere change this list: reload when the live feed says so.
  const { calls: liveCalls } = useLive();
  const liveKey = [...liveCalls.values()].map((c) => `${c.callId}:${c.ended ? 'ended' : 'active'}`).join(',');
  const seenLiveKey = useRef(liveKey);
  const { reload } = calls;
  useEffect(() => {
    if (seenLiveKey.current === liveKey) return;
    seenLiveKey.current = liveKey;
    const timer = setTimeout(reload, 500);
    return () => clearTimeout(timer);
  }, [liveKey, reload]);

  const setFilter = (name: string, value: string) => setSearchParams({ [name]: value || undefined, page: undefined }, { push: true });

  return (
    <div className="page page-wide" data-testid="calls-page">
      <div className="page-head">
        <h1>{t('calls.title')}</h1>
        <button type="button" className="button button-primary" disabled={!agents.data || agents.data.agents.length === 0} onClick={() => setPlacing(true)} data-testid="place-call-open">
          {t('placeCall.open')}
        </button>
      </div>
      {placing && agents.data ? <PlaceCallDialog agents={agents.data} onClose={() => setPlacing(false)} /> : null}
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()} data-testid="calls-filters">
        <label className="field field-grow">
          <span className="field-label">{t('calls.search')}</span>
          <input type="search" value={search} placeholder={t('calls.searchPlaceholder')} onChange={(e) => setSearch(e.target.value)} data-testid="calls-search" />
        </label>
        <label className="field">
          <span className="field-label">{t('calls.agent')}</span>
          <select value={agentId} onChange={(e) => setFilter('agentId', e.target.value)} data-testid="calls-filter-agent">
            <option value="">{t('calls.any')}</option>
            {agents.data?.agents.map((a) => (
              <option key={a.id} value={a.id}>
                {a.definition.name} ({a.id})
              </option>
            ))}
            {agentId && agents.data && !agents.data.agents.some((a) => a.id === agentId) ? <option value={agentId}>{agentId}</option> : null}
          </select>
        </label>
        <label className="field">
          <span className="field-label">{t('calls.direction')}</span>
          <select value={direction} onChange={(e) => setFilter('direction', e.target.value)} data-testid="calls-filter-direction">
            <option value="">{t('calls.any')}</option>
            <option value="inbound">{t('direction.inbound')}</option>
            <option value="outbound">{t('direction.outbound')}</option>
          </select>
        </label>
        <label className="field">
          <span className="field-label">{t('calls.status')}</span>
          <select value={status} onChange={(e) => setFilter('status', e.target.value)} data-testid="calls-filter-status">
            <option value="">{t('calls.any')}</option>
            <option value="dialing">{t('status.dialing')}</option>
            <option value="active">{t('status.active')}</option>
            <option value="ended">{t('status.ended')}</option>
            <option value="abandoned">{t('status.abandoned')}</option>
          </select>
        </label>
        {filtered ? (
          <button type="button" className="button button-ghost" onClick={() => navigate('/calls')} data-testid="calls-clear-filters">
            {t('calls.clearFilters')}
          </button>
        ) : null}
      </form>

      {calls.error ? <ErrorMessage error={calls.error} onRetry={calls.reload} /> : null}
      {!data && calls.loading ? <Loading /> : null}
      {data && data.items.length === 0 ? (
        <EmptyState testId="calls-empty" title={filtered ? t('calls.noMatches') : t('calls.empty')} hint={filtered ? t('calls.noMatchesHint') : t('calls.emptyHint')} />
      ) : null}
      {data && data.items.length > 0 ? (
        <>
          <div className={`table-wrap${calls.loading ? ' is-loading' : ''}`}>
            <table className="table" data-testid="calls-table">
              <thead>
                <tr>
                  <th>{t('calls.col.date')}</th>
                  <th>{t('calls.col.number')}</th>
                  <th>{t('calls.col.agent')}</th>
                  <th>{t('calls.col.direction')}</th>
                  <th>{t('calls.col.outcome')}</th>
                  <th className="right">{t('calls.col.duration')}</th>
                  <th className="right">{t('calls.col.turns')}</th>
                  <th className="right">{t('calls.col.cost')}</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((call) => (
                  <tr key={call.id} className="clickable" data-testid={`call-row-${callSidOf(call) ?? call.id}`} data-call-id={call.id} onClick={() => navigate(`/calls/${encodeURIComponent(call.id)}`)}>
                    <td className="nowrap">
                      <Link to={`/calls/${encodeURIComponent(call.id)}`} onClick={(e) => e.stopPropagation()} className="row-link">
                        {fmt.dateTime(call.startedAt)}
                      </Link>
                    </td>
                    <td>
                      <CallParties from={call.from} to={call.to} />
                    </td>
                    <td>{call.agentId}</td>
                    <td>{t(`direction.${call.direction}`)}</td>
                    <td>
                      <CallOutcome call={call} />
                    </td>
                    <td className="right num">{call.durationMs === null ? '—' : fmt.duration(call.durationMs)}</td>
                    <td className="right num">{fmt.integer(call.turnCount)}</td>
                    <td className="right num">{fmt.usd(call.costUsd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager testId="calls" page={page} list={data} />
        </>
      ) : null}
    </div>
  );
}
