// Loading, empty and error states, the same everywhere.
import type { ReactNode } from 'react';
import { ApiRequestError } from '../api/api-client.js';
import { useI18n } from '../i18n/i18n.js';
import type { MessageKey, Translate } from '../i18n/i18n.js';

export function Loading({ label }: { label?: string }) {
  const { t } = useI18n();
  return (
    <div className="loading" role="status" data-testid="loading">
      <span className="spinner" aria-hidden="true" />
      {label ?? t('common.loading')}
    </div>
  );
}

export function EmptyState({ title, hint, testId, children }: { title: string; hint?: string; testId?: string; children?: ReactNode }) {
  return (
    <div className="empty-state" data-testid={testId ?? 'empty-state'}>
      <p className="empty-title">{title}</p>
      {hint ? <p className="empty-hint">{hint}</p> : null}
      {children}
    </div>
  );
}

const STATUS_HEADLINES: Record<number, MessageKey> = {
  0: 'error.network',
  400: 'error.badRequest',
  401: 'error.unauthorized',
  403: 'error.forbidden',
  404: 'error.notFound',
  409: 'error.conflict',
  429: 'error.tooMany',
  503: 'error.unavailable',
};

/** A translated headline for an error and the server's own message as detail. */
export function describeError(error: unknown, t: Translate): { headline: string; detail: string | null } {
  if (error instanceof ApiRequestError) {
    const key = STATUS_HEADLINES[error.status] ?? 'error.server';
    return { headline: t(key), detail: error.status === 0 ? null : error.message };
  }
  return { headline: t('error.unexpected'), detail: error instanceof Error ? error.message : String(error) };
}

export function ErrorMessage({ error, onRetry, testId }: { error: unknown; onRetry?: () => void; testId?: string }) {
  const { t } = useI18n();
  const { headline, detail } = describeError(error, t);
  return (
    <div className="alert alert-error" role="alert" data-testid={testId ?? 'error'}>
      <div>
        <strong>{headline}</strong>
        {detail ? <div className="alert-detail">{detail}</div> : null}
        {error instanceof ApiRequestError && error.problems.length > 0 ? (
          <ul className="alert-detail field-problems" data-testid="error-problems">
            {error.problems.map((problem, i) => (
              <li key={i}>{problem}</li>
            ))}
          </ul>
        ) : null}
      </div>
      {onRetry ? (
        <button type="button" className="button button-small" onClick={onRetry}>
          {t('common.retry')}
        </button>
      ) : null}
    </div>
  );
}
