// Active calls from WS /api/live, and the selected call's transcript as it happens.
import { AgentStateBadge } from '../components/agent-state-badge.js';
import { CallParties, callElapsedMs, LiveCallView } from '../components/live-call-view.js';
import { EmptyState } from '../components/status.js';
import { useNow } from '../components/use-now.js';
import { useI18n } from '../i18n/i18n.js';
import type { CallState, TimelineItem } from '../live/call-state.js';
import { orderedTimeline } from '../live/call-state.js';
import { useLive } from '../live/live-context.js';
import { Link, setSearchParams, useSearchParams } from '../router.js';

function lastLine(items: readonly TimelineItem[]): { role: 'user' | 'assistant'; text: string } | null {
  const ordered = orderedTimeline(items);
  for (let i = ordered.length - 1; i >= 0; i--) {
    const item = ordered[i] as TimelineItem;
    if (item.kind === 'partial' && item.text) return { role: item.role, text: item.text };
    if (item.kind === 'user' && item.text) return { role: 'user', text: item.text };
    if (item.kind === 'assistant') return { role: 'assistant', text: item.interrupted ? item.heardText : item.text };
  }
  return null;
}

function LiveCallRow({ call, selected, now }: { call: CallState; selected: boolean; now: number }) {
  const { t, fmt } = useI18n();
  const line = lastLine(call.items);
  return (
    <li>
      <button
        type="button"
        className={`live-row${selected ? ' selected' : ''}${call.ended ? ' ended' : ''}`}
        data-testid={`live-call-${call.callSid}`}
        data-call-id={call.callId}
        aria-pressed={selected}
        onClick={() => setSearchParams({ call: call.callSid })}
      >
        <div className="live-row-top">
          <CallParties from={call.info?.from} to={call.info?.to} />
          <span className="num muted">{fmt.clock(callElapsedMs(call, now))}</span>
        </div>
        <div className="live-row-mid">
          <span className="muted">{call.info ? `${call.info.agentId} · ${t(`direction.${call.info.direction}`)}` : call.callSid}</span>
          <AgentStateBadge state={call.agentState} testId="live-call-state" />
        </div>
        {line ? (
          <div className={`live-row-line line-${line.role}`}>
            <span className="speaker">{line.role === 'user' ? t('transcript.caller') : t('transcript.agent')}:</span> {line.text}
          </div>
        ) : null}
      </button>
    </li>
  );
}

export function LivePage() {
  const { t } = useI18n();
  const { calls, connection } = useLive();
  const params = useSearchParams();
  const all = [...calls.values()];
  const active = all.filter((c) => !c.ended).sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
  const ended = all.filter((c) => c.ended).reverse();
  const now = useNow(1000, active.length > 0);
  const wanted = params.get('call');
  const selected = (wanted ? all.find((c) => c.callSid === wanted) : undefined) ?? active[0] ?? null;

  const head = (
    <div className="page-head">
      <h1>{t('live.title')}</h1>
      <span className="muted" data-testid="live-count">
        {t('live.count', { count: active.length })}
      </span>
    </div>
  );
  if (all.length === 0) {
    return (
      <div className="page page-wide live-page" data-testid="live-page">
        {head}
        <EmptyState
          testId="live-empty"
          title={connection.status === 'open' ? t('live.empty') : t('live.emptyOffline')}
          hint={connection.status === 'open' ? t('live.emptyHint') : undefined}
        >
          <Link to="/softphone" className="button button-small">
            {t('live.openSoftphone')}
          </Link>
        </EmptyState>
      </div>
    );
  }
  return (
    <div className="page page-wide live-page" data-testid="live-page">
      {head}
      <div className="split">
        <aside className="split-side">
          {active.length === 0 ? (
            <EmptyState
              testId="live-empty"
              title={connection.status === 'open' ? t('live.empty') : t('live.emptyOffline')}
              hint={connection.status === 'open' ? t('live.emptyHint') : undefined}
            />
          ) : (
            <ul className="live-list" data-testid="live-calls">
              {active.map((call) => (
                <LiveCallRow key={call.callId} call={call} selected={selected?.callId === call.callId} now={now} />
              ))}
            </ul>
          )}
          {ended.length > 0 ? (
            <>
              <h2 className="section-title">{t('live.recentlyEnded')}</h2>
              <ul className="live-list" data-testid="live-ended-calls">
                {ended.map((call) => (
                  <LiveCallRow key={call.callId} call={call} selected={selected?.callId === call.callId} now={now} />
                ))}
              </ul>
            </>
          ) : null}
        </aside>
        <div className="split-main">
          {selected ? <LiveCallView key={selected.callId} call={selected} /> : <EmptyState title={t('live.noSelection')} hint={t('live.noSelectionHint')} testId="live-no-selection" />}
        </div>
      </div>
    </div>
  );
}
