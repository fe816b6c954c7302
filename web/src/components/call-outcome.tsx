import type { CallEndReason, CallRecord } from '../api/types.js';
import { useI18n } from '../i18n/i18n.js';

const FAILED: ReadonlySet<CallEndReason> = new Set(['model_failed', 'setup_failed', 'server_shutdown', 'dial_failed']);
/** Outbound calls nobody (or only a machine) answered. */
const UNANSWERED: ReadonlySet<CallEndReason> = new Set(['busy', 'no_answer', 'answering_machine', 'voicemail_left']);

/** Dialing, live, abandoned, or why the call ended. */
export function CallOutcome({ call }: { call: Pick<CallRecord, 'status' | 'endReason'> }) {
  const { t } = useI18n();
  if (call.status === 'dialing') return <span className="pill pill-running pill-pulse" data-testid="call-outcome" data-outcome="dialing">{t('status.dialing')}</span>;
  if (call.status === 'active') return <span className="pill pill-live" data-testid="call-outcome" data-outcome="active">{t('status.active')}</span>;
  if (call.status === 'abandoned') return <span className="pill pill-warn" data-testid="call-outcome" data-outcome="abandoned">{t('status.abandoned')}</span>;
  const reason = call.endReason;
  const tone = reason && FAILED.has(reason) ? ' pill-failed' : reason && UNANSWERED.has(reason) ? ' pill-warn' : '';
  return (
    <span className={`pill${tone}`} data-testid="call-outcome" data-outcome={reason ?? 'ended'}>
      {reason ? t(`endReason.${reason}`) : t('status.ended')}
    </span>
  );
}

/** Twilio's AMD verdict (human, machine_start, machine_end_beep, fax, unknown …) in words, the raw value beside it. */
export function AnsweredBy({ value }: { value: string }) {
  const { t } = useI18n();
  const kind = value === 'human' ? 'human' : value.startsWith('machine') ? 'machine' : value === 'fax' ? 'fax' : value === 'unknown' ? 'unknown' : null;
  return (
    <span data-testid="answered-by" data-answered-by={value}>
      {kind ? t(`answeredBy.${kind}`) : value}
      {kind && kind !== 'human' && kind !== 'fax' && kind !== 'unknown' ? <span className="mono muted small"> ({value})</span> : null}
    </span>
  );
}

/** A call's Twilio SID, or null: outbound calls have none until Twilio accepts them (and never when it refused). */
export function callSidOf(call: { callSid: string | null }): string | null {
  return call.callSid || null;
}
