// Small pieces the campaign list and the campaign page share: status pill, progress bar, outcome counts.
import type { CampaignCounts, CampaignStatus, ContactOutcome, ContactState } from '../api/types.js';
import { useI18n } from '../i18n/i18n.js';

export const CONTACT_OUTCOMES: readonly ContactOutcome[] = ['answered', 'voicemail', 'busy', 'no-answer', 'failed', 'canceled'];
export const CONTACT_STATES: readonly ContactState[] = ['pending', 'dialing', 'calling', 'done'];

const STATUS_TONE: Record<CampaignStatus, string> = {
  draft: '',
  running: ' pill-running pill-pulse',
  paused: ' pill-warn',
  completed: ' pill-ok',
  canceled: ' pill-failed',
};

export function CampaignStatusPill({ status }: { status: CampaignStatus }) {
  const { t } = useI18n();
  return (
    <span className={`pill${STATUS_TONE[status]}`} data-testid="campaign-status" data-status={status}>
      {t(`campaignStatus.${status}`)}
    </span>
  );
}

const OUTCOME_TONE: Record<ContactOutcome, string> = {
  answered: ' pill-ok',
  voicemail: '',
  busy: ' pill-warn',
  'no-answer': ' pill-warn',
  failed: ' pill-failed',
  canceled: '',
};

export function ContactOutcomePill({ outcome }: { outcome: ContactOutcome }) {
  const { t } = useI18n();
  return (
    <span className={`pill${OUTCOME_TONE[outcome]}`} data-testid="contact-outcome" data-outcome={outcome}>
      {t(`contactOutcome.${outcome}`)}
    </span>
  );
}

export function ContactStatePill({ state }: { state: ContactState }) {
  const { t } = useI18n();
  const tone = state === 'dialing' || state === 'calling' ? ' pill-running pill-pulse' : '';
  return (
    <span className={`pill${tone}`} data-testid="contact-state" data-state={state}>
      {t(`contactState.${state}`)}
    </span>
  );
}

/** done / total as a bar (in-flight contacts as a lighter segment after it) and in words. */
export function CampaignProgress({ counts, compact = false }: { counts: CampaignCounts; compact?: boolean }) {
  const { t, fmt } = useI18n();
  const total = Math.max(counts.total, 0);
  const donePct = total > 0 ? (counts.done / total) * 100 : 0;
  const flightPct = total > 0 ? (counts.inFlight / total) * 100 : 0;
  return (
    <div className={`progress${compact ? ' progress-compact' : ''}`} data-testid="campaign-progress" data-done={counts.done} data-total={counts.total} data-in-flight={counts.inFlight}>
      <div
        className="progress-track"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={counts.done}
        aria-valuetext={t('campaigns.progress', { done: fmt.integer(counts.done), total: fmt.integer(total) })}
      >
        <div className="progress-done" style={{ width: `${donePct}%` }} />
        <div className="progress-flight" style={{ width: `${flightPct}%` }} />
      </div>
      <div className="progress-text small">
        <span className="num">{t('campaigns.progress', { done: fmt.integer(counts.done), total: fmt.integer(total) })}</span>
        {counts.inFlight > 0 ? <span className="muted num"> · {t('campaigns.inFlight', { count: fmt.integer(counts.inFlight) })}</span> : null}
      </div>
    </div>
  );
}

/** Done contacts by outcome; `all` shows zeros too (the campaign page), otherwise only outcomes that happened. */
export function OutcomeCounts({ counts, all = false }: { counts: CampaignCounts; all?: boolean }) {
  const { t, fmt } = useI18n();
  const shown = CONTACT_OUTCOMES.filter((o) => all || counts.outcomes[o] > 0);
  if (shown.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="outcome-counts" data-testid="campaign-outcomes">
      {shown.map((outcome) => (
        <li key={outcome} className={`outcome-count outcome-${outcome}`} data-testid={`campaign-count-${outcome}`} data-count={counts.outcomes[outcome]}>
          <span className="outcome-label">{t(`contactOutcome.${outcome}`)}</span> <span className="num">{fmt.integer(counts.outcomes[outcome])}</span>
        </li>
      ))}
    </ul>
  );
}
