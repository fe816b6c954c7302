// One call as it happens: who, which agent, what the agent is doing, and the transcript streaming in.
import type { ReactNode } from 'react';
import { useI18n } from '../i18n/i18n.js';
import type { CallState } from '../live/call-state.js';
import { Link } from '../router.js';
import { AgentStateBadge } from './agent-state-badge.js';
import { Transcript } from './transcript.js';
import { useNow } from './use-now.js';

export function callElapsedMs(call: CallState, now: number): number {
  if (call.ended?.durationMs !== null && call.ended?.durationMs !== undefined) return call.ended.durationMs;
  if (call.ended) return call.lastAtMs;
  return Math.max(call.lastAtMs, now - Date.parse(call.startedAt));
}

export function CallParties({ from, to }: { from: string | null | undefined; to: string | null | undefined }) {
  const { t } = useI18n();
  return (
    <span className="parties num">
      <span>{from || t('call.unknownNumber')}</span>
      {to ? (
        <>
          <span className="arrow" aria-hidden="true">
            →
          </span>
          <span>{to}</span>
        </>
      ) : null}
    </span>
  );
}

export function LiveCallView({ call, showDetailsLink = true, actions }: { call: CallState; showDetailsLink?: boolean; actions?: ReactNode }) {
  const { t, fmt } = useI18n();
  const live = call.ended === null;
  const now = useNow(1000, live);
  return (
    <section className="call-view" data-testid="live-call-view" data-call-sid={call.callSid} data-call-id={call.callId}>
      <header className="call-view-head">
        <div className="call-view-title">
          <CallParties from={call.info?.from} to={call.info?.to} />
          <div className="meta-line">
            {call.info ? (
              <>
                <Link to={`/agents/${encodeURIComponent(call.info.agentId)}`}>{call.info.agentId}</Link>
                <span>·</span>
                <span>{t(`direction.${call.info.direction}`)}</span>
                <span>·</span>
              </>
            ) : null}
            <span>{fmt.time(call.startedAt)}</span>
            <span>·</span>
            <span className="num" data-testid="call-clock">
              {fmt.clock(callElapsedMs(call, now))}
            </span>
            <span className="mono muted small">{call.callSid}</span>
          </div>
        </div>
        <div className="call-view-actions">
          <AgentStateBadge state={call.agentState} />
          {actions}
          {showDetailsLink ? (
            <Link className="button button-small" to={`/calls/${encodeURIComponent(call.callId)}`} data-testid="call-details-link">
              {t('live.details')}
            </Link>
          ) : null}
        </div>
      </header>
      <div className="scroll-panel transcript-panel">
        <Transcript items={call.items} live={live} emptyText={t('transcript.waiting')} />
      </div>
    </section>
  );
}
