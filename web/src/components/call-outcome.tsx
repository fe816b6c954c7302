import type { CallRecord } from '../api/types.js';
import { useI18n } from '../i18n/i18n.js';

/** Live, abandoned, or why the call ended. */
export function CallOutcome({ call }: { call: Pick<CallRecord, 'status' | 'endReason'> }) {
  const { t } = useI18n();
  if (call.status === 'active') return <span className="pill pill-live" data-testid="call-outcome" data-outcome="active">{t('status.active')}</span>;
  if (call.status === 'abandoned') return <span className="pill pill-warn" data-testid="call-outcome" data-outcome="abandoned">{t('status.abandoned')}</span>;
  const reason = call.endReason;
  const tone = reason === 'model_failed' || reason === 'setup_failed' || reason === 'server_shutdown' ? ' pill-failed' : '';
  return (
    <span className={`pill${tone}`} data-testid="call-outcome" data-outcome={reason ?? 'ended'}>
      {reason ? t(`endReason.${reason}`) : t('status.ended')}
    </span>
  );
}
