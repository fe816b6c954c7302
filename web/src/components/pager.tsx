// Previous / next over a paged list, the page in the URL (`?page=`, left out for page 1). Its test ids are
// `<testId>-pager`, `-range`, `-prev` and `-next`.
import { useI18n } from '../i18n/i18n.js';
import { setSearchParams } from '../router.js';

/** `page` is the page asked for in the URL; `list` is the page the API answered. */
export function Pager({ testId, page, list }: { testId: string; page: number; list: { page: number; pageSize: number; total: number; items: readonly unknown[] } }) {
  const { t, fmt } = useI18n();
  const { total } = list;
  const totalPages = Math.max(1, Math.ceil(total / list.pageSize));
  const first = total > 0 ? (list.page - 1) * list.pageSize + 1 : 0;
  const last = Math.min(total, (list.page - 1) * list.pageSize + list.items.length);
  const goTo = (target: number): void => setSearchParams({ page: target > 1 ? String(target) : undefined }, { push: true });
  return (
    <nav className="pager" aria-label={t('calls.pages')} data-testid={`${testId}-pager`}>
      <span className="muted num" data-testid={`${testId}-range`}>
        {t('calls.range', { first: fmt.integer(first), last: fmt.integer(last), total: fmt.integer(total) })}
      </span>
      <button type="button" className="button button-small" disabled={page <= 1} onClick={() => goTo(page - 1)} data-testid={`${testId}-prev`}>
        {t('calls.prev')}
      </button>
      <span className="num">{t('calls.pageOf', { page: fmt.integer(page), pages: fmt.integer(totalPages) })}</span>
      <button type="button" className="button button-small" disabled={page >= totalPages} onClick={() => goTo(page + 1)} data-testid={`${testId}-next`}>
        {t('calls.next')}
      </button>
    </nav>
  );
}
