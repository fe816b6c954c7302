// One campaign: status (and why Koe stopped it), start / pause / resume / cancel, progress and outcomes,
// settings, the CSV import report, and its contacts with every call placed to them. Refreshed every 2 s
// while it is running (or calls are still in flight), only while the tab is visible.
import { useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { ApiRequestError, apiRequest, queryString } from '../api/api-client.js';
import type { CampaignRecord, CampaignStatus, ContactAttempt, ContactList, ContactRecord, ImportReport } from '../api/types.js';
import { CampaignProgress, CampaignStatusPill, CONTACT_OUTCOMES, CONTACT_STATES, ContactOutcomePill, ContactStatePill, OutcomeCounts } from '../campaigns/campaign-view.js';
import { CallOutcome } from '../components/call-outcome.js';
import { Pager } from '../components/pager.js';
import { EmptyState, ErrorMessage, Loading } from '../components/status.js';
import { useApi } from '../components/use-api.js';
import { usePoll } from '../components/use-poll.js';
import { useI18n } from '../i18n/i18n.js';
import { Link, setSearchParams, useSearchParams } from '../router.js';

const POLL_MS = 2000;
const PAGE_SIZE = 50;
const SEARCH_DEBOUNCE_MS = 300;

type CampaignAction = 'start' | 'pause' | 'resume' | 'cancel';
const ACTIONS: readonly CampaignAction[] = ['start', 'pause', 'resume', 'cancel'];
/** What each status allows (the server answers 409 to anything else). */
const ALLOWED: Record<CampaignStatus, readonly CampaignAction[]> = {
  draft: ['start', 'cancel'],
  running: ['pause', 'cancel'],
  paused: ['resume', 'cancel'],
  completed: [],
  canceled: [],
};

function Fact({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div className="fact" data-testid={testId}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function CountFact({ label, testId, count }: { label: string; testId: string; count: number }) {
  const { fmt } = useI18n();
  return (
    <div className="fact" data-testid={testId} data-count={count}>
      <dt>{label}</dt>
      <dd className="num big-num">{fmt.integer(count)}</dd>
    </div>
  );
}

function Section({ title, testId, children, aside }: { title: string; testId: string; children: ReactNode; aside?: ReactNode }) {
  return (
    <section className="card section" data-testid={testId}>
      <div className="section-head">
        <h2>{title}</h2>
        {aside}
      </div>
      {children}
    </section>
  );
}

function Settings({ campaign }: { campaign: CampaignRecord }) {
  const { t, fmt } = useI18n();
  const w = campaign.window;
  const days = w.days.length === 7 ? t('campaign.everyDay') : fmt.list([...w.days].sort((a, b) => a - b).map((d) => fmt.weekday(d)));
  const r = campaign.retry;
  const retries =
    r.maxAttempts <= 1 || r.on.length === 0
      ? t('campaign.noRetry')
      : t('campaign.retryValue', { max: fmt.integer(r.maxAttempts), delay: fmt.duration(r.delayMs), outcomes: fmt.list(r.on.map((o) => t(`contactOutcome.${o}`))) });
  return (
    <dl className="facts" data-testid="campaign-settings">
      <Fact label={t('campaign.agent')}>
        <Link to={`/agents/${encodeURIComponent(campaign.agentId)}`}>{campaign.agentId}</Link>
      </Fact>
      <Fact label={t('campaign.from')}>
        <span className="num">{campaign.from}</span>
      </Fact>
      <Fact label={t('campaign.pace')} testId="campaign-pace">
        {t('campaign.paceValue', { cps: fmt.decimal(campaign.callsPerSecond), max: fmt.integer(campaign.maxConcurrent) })}
      </Fact>
      <Fact label={t('campaign.window')} testId="campaign-window">
        <span className="num">
          {w.start}–{w.end}
        </span>{' '}
        · {days}
      </Fact>
      <Fact label={t('campaign.timezone')}>{t('campaign.timezoneValue', { zone: campaign.timezone })}</Fact>
      <Fact label={t('campaign.retry')} testId="campaign-retry">
        {retries}
      </Fact>
      <Fact label={t('campaign.amd')}>{campaign.machineDetection ? t('common.on') : t('common.off')}</Fact>
      <Fact label={t('campaign.ringTimeout')}>{fmt.duration(campaign.ringTimeoutSec * 1000)}</Fact>
      <Fact label={t('campaign.createdAt')}>{fmt.dateTime(campaign.createdAt)}</Fact>
      {campaign.startedAt ? <Fact label={t('campaign.startedAt')}>{fmt.dateTime(campaign.startedAt)}</Fact> : null}
      {campaign.finishedAt ? <Fact label={t('campaign.finishedAt')}>{fmt.dateTime(campaign.finishedAt)}</Fact> : null}
    </dl>
  );
}

function ImportReportView({ report }: { report: ImportReport }) {
  const { t, fmt } = useI18n();
  return (
    <div data-testid="campaign-import-report" data-rows={report.rows} data-imported={report.imported} data-rejected={report.rejected}>
      <p className="import-summary" data-testid="import-summary">
        {t('import.summary', { rows: fmt.integer(report.rows), imported: fmt.integer(report.imported), rejected: fmt.integer(report.rejected) })}
      </p>
      <dl className="facts facts-compact">
        <Fact label={t('import.phoneColumn')}>
          <span className="mono">{report.phoneColumn || '—'}</span>
        </Fact>
        <Fact label={t('import.timezoneColumn')}>
          <span className="mono">{report.timezoneColumn ?? '—'}</span>
        </Fact>
        <Fact label={t('import.variables')} testId="import-variables">
          <span className="mono">{report.variables.length > 0 ? report.variables.join(', ') : t('common.none')}</span>
        </Fact>
      </dl>
      {report.rejected === 0 ? (
        <p className="ok-text small">{t('import.allImported')}</p>
      ) : (
        <>
          {report.rejections.length < report.rejected ? (
            <p className="muted small">{t('import.truncated', { shown: fmt.integer(report.rejections.length), total: fmt.integer(report.rejected) })}</p>
          ) : null}
          <div className="table-wrap rejections-wrap">
            <table className="table table-compact" data-testid="import-rejections">
              <thead>
                <tr>
                  <th className="right">{t('import.col.line')}</th>
                  <th>{t('import.col.value')}</th>
                  <th>{t('import.col.reason')}</th>
                </tr>
              </thead>
              <tbody>
                {report.rejections.map((r, i) => (
                  <tr key={`${r.line}-${i}`} data-testid="import-rejection" data-line={r.line}>
                    <td className="right num">{fmt.integer(r.line)}</td>
                    <td className="mono">{r.value}</td>
                    <td>{r.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}

function AttemptLink({ attempt }: { attempt: ContactAttempt }) {
  const { t, fmt } = useI18n();
  const details = [attempt.twilioStatus, attempt.answeredBy, attempt.error].filter((x): x is string => Boolean(x)).join(' · ');
  return (
    <li>
      <Link to={`/calls/${encodeURIComponent(attempt.callId)}`} data-testid="contact-attempt" data-call-id={attempt.callId} data-attempt={attempt.attempt} title={details || undefined}>
        {t('contacts.attempt', { attempt: attempt.attempt })}
      </Link>{' '}
      <CallOutcome call={attempt} />
      {attempt.durationMs !== null && attempt.durationMs > 0 ? <span className="muted small num"> {fmt.duration(attempt.durationMs)}</span> : null}
      {attempt.error ? <div className="field-error small">{attempt.error}</div> : null}
    </li>
  );
}

function ContactRow({ contact, maxAttempts }: { contact: ContactRecord; maxAttempts: number }) {
  const { t, fmt } = useI18n();
  const variables = Object.entries(contact.variables);
  return (
    <tr data-testid={`contact-row-${contact.id}`} data-phone={contact.phone} data-state={contact.state} data-outcome={contact.outcome ?? ''} data-attempts={contact.attempts}>
      <td className="right num muted">{fmt.integer(contact.line)}</td>
      <td className="num nowrap">{contact.phone}</td>
      <td>
        <ContactStatePill state={contact.state} />
        {contact.state === 'pending' && contact.nextAttemptAt ? <div className="muted small">{t('contacts.nextAt', { time: fmt.dateTime(contact.nextAttemptAt) })}</div> : null}
      </td>
      <td>{contact.outcome ? <ContactOutcomePill outcome={contact.outcome} /> : <span className="muted">—</span>}</td>
      <td className="right num">
        {fmt.integer(contact.attempts)} / {fmt.integer(maxAttempts)}
      </td>
      <td>
        {contact.calls.length > 0 ? (
          <ol className="attempts" data-testid="contact-attempts">
            {contact.calls.map((attempt) => (
              <AttemptLink key={attempt.callId} attempt={attempt} />
            ))}
          </ol>
        ) : (
          <span className="muted">—</span>
        )}
        {contact.lastError && contact.calls.every((c) => c.error !== contact.lastError) ? <div className="field-error small" data-testid="contact-error">{contact.lastError}</div> : null}
      </td>
      <td className="mono small contact-vars">{variables.length > 0 ? variables.map(([k, v]) => `${k}=${v}`).join(' · ') : <span className="muted">—</span>}</td>
    </tr>
  );
}

function Contacts({ campaign, poll }: { campaign: CampaignRecord; poll: boolean }) {
  const { t } = useI18n();
  const params = useSearchParams();
  const state = params.get('state') ?? '';
  const outcome = params.get('outcome') ?? '';
  const q = params.get('q') ?? '';
  const page = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
  const filtered = Boolean(state || outcome || q);

  const [search, setSearch] = useState(q);
  useEffect(() => setSearch(q), [q]);
  useEffect(() => {
    if (search === q) return;
    const timer = setTimeout(() => setSearchParams({ q: search.trim() || undefined, page: undefined }), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [search, q]);

  const contacts = useApi<ContactList>(
    `/api/campaigns/${encodeURIComponent(campaign.id)}/contacts${queryString({ state: state || undefined, outcome: outcome || undefined, q: q || undefined, page, pageSize: PAGE_SIZE })}`,
  );
  usePoll(poll, POLL_MS, contacts.refresh, contacts.data ?? contacts.error);
  // The campaign moved on (a contact finished, the status changed): the list did too, even after polling stops.
  const signature = `${campaign.status}:${campaign.counts.done}:${campaign.counts.inFlight}:${campaign.counts.attempts}`;
  const seen = useRef(signature);
  const { refresh } = contacts;
  useEffect(() => {
    if (seen.current === signature) return;
    seen.current = signature;
    refresh();
  }, [signature, refresh]);

  const data = contacts.data;
  const setFilter = (name: string, value: string) => setSearchParams({ [name]: value || undefined, page: undefined }, { push: true });

  return (
    <Section
      title={t('campaign.section.contacts')}
      testId="campaign-contacts"
      aside={
        <a className="button button-small" href={`/api/campaigns/${encodeURIComponent(campaign.id)}/export.csv`} download={`${campaign.id}.csv`} data-testid="campaign-export">
          {t('campaign.exportCsv')}
        </a>
      }
    >
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label className="field field-grow">
          <span className="field-label">{t('contacts.search')}</span>
          <input type="search" value={search} placeholder={t('contacts.searchPlaceholder')} onChange={(e) => setSearch(e.target.value)} data-testid="contacts-search" />
        </label>
        <label className="field">
          <span className="field-label">{t('contacts.state')}</span>
          <select value={state} onChange={(e) => setFilter('state', e.target.value)} data-testid="contacts-filter-state">
            <option value="">{t('calls.any')}</option>
            {CONTACT_STATES.map((s) => (
              <option key={s} value={s}>
                {t(`contactState.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">{t('contacts.outcome')}</span>
          <select value={outcome} onChange={(e) => setFilter('outcome', e.target.value)} data-testid="contacts-filter-outcome">
            <option value="">{t('calls.any')}</option>
            {CONTACT_OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {t(`contactOutcome.${o}`)}
              </option>
            ))}
          </select>
        </label>
        {filtered ? (
          <button type="button" className="button button-ghost" onClick={() => setSearchParams({ state: undefined, outcome: undefined, q: undefined, page: undefined }, { push: true })} data-testid="contacts-clear-filters">
            {t('calls.clearFilters')}
          </button>
        ) : null}
      </form>
      {contacts.error ? <ErrorMessage error={contacts.error} onRetry={contacts.reload} /> : null}
      {!data && contacts.loading ? <Loading /> : null}
      {data && data.items.length === 0 ? <EmptyState testId="contacts-empty" title={t('contacts.empty')} /> : null}
      {data && data.items.length > 0 ? (
        <>
          <div className={`table-wrap${contacts.loading ? ' is-loading' : ''}`}>
            <table className="table" data-testid="contacts-table">
              <thead>
                <tr>
                  <th className="right">{t('contacts.col.line')}</th>
                  <th>{t('contacts.col.phone')}</th>
                  <th>{t('contacts.col.state')}</th>
                  <th>{t('contacts.col.outcome')}</th>
                  <th className="right">{t('contacts.col.attempts')}</th>
                  <th>{t('contacts.col.calls')}</th>
                  <th>{t('contacts.col.variables')}</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((contact) => (
                  <ContactRow key={contact.id} contact={contact} maxAttempts={campaign.retry.maxAttempts} />
                ))}
              </tbody>
            </table>
          </div>
          <Pager testId="contacts" page={page} list={data} />
        </>
      ) : null}
    </Section>
  );
}

export function CampaignDetailPage({ id }: { id: string }) {
  const { t, fmt } = useI18n();
  const campaign = useApi<CampaignRecord>(`/api/campaigns/${encodeURIComponent(id)}`);
  const [justCreated] = useState(() => new URLSearchParams(window.location.search).get('created') === '1');
  const [acting, setActing] = useState<CampaignAction | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  // An action answers with the campaign: shown until the fetch that follows it (any older one is aborted) answers.
  const [acted, setActed] = useState<{ record: CampaignRecord; over: CampaignRecord | null } | null>(null);

  useEffect(() => {
    if (justCreated) setSearchParams({ created: undefined });
  }, [justCreated]);

  const latest = useRef(campaign.data);
  latest.current = campaign.data;
  const data = acted && acted.over === campaign.data ? acted.record : campaign.data;
  const active = data ? data.status === 'running' || data.counts.inFlight > 0 : false;
  usePoll(active, POLL_MS, campaign.refresh, campaign.data ?? campaign.error);

  const act = async (action: CampaignAction) => {
    if (!data) return;
    if (action === 'cancel' && !window.confirm(t('campaign.cancelConfirm', { name: data.name }))) return;
    setActing(action);
    setActionError(null);
    try {
      const record = await apiRequest<CampaignRecord>(`/api/campaigns/${encodeURIComponent(id)}/${action}`, { method: 'POST', body: {} });
      setActed({ record, over: latest.current });
    } catch (err) {
      setActionError(err);
    } finally {
      setActing(null);
      campaign.refresh();
    }
  };

  if (campaign.error && !data) {
    if (campaign.error instanceof ApiRequestError && campaign.error.status === 404)
      return (
        <div className="page">
          <EmptyState testId="campaign-not-found" title={t('campaign.notFound')}>
            <Link to="/campaigns">{t('campaign.back')}</Link>
          </EmptyState>
        </div>
      );
    return (
      <div className="page">
        <ErrorMessage error={campaign.error} onRetry={campaign.reload} />
      </div>
    );
  }
  if (!data) return <Loading />;

  const allowed = ALLOWED[data.status];
  const report = data.importReport;
  return (
    <div className="page page-wide campaign-detail" data-testid="campaign-detail" data-campaign-id={data.id} data-status={data.status}>
      <nav className="breadcrumbs">
        <Link to="/campaigns">{t('nav.campaigns')}</Link> <span aria-hidden="true">/</span> <span>{data.name}</span>
      </nav>
      <div className="page-head">
        <h1>{data.name}</h1>
        <div className="head-badges">
          {active ? <span className="muted small">{t('campaign.refreshing')}</span> : null}
          <CampaignStatusPill status={data.status} />
        </div>
      </div>
      {justCreated ? (
        <div className="alert alert-ok" role="status" data-testid="campaign-created">
          {t('campaign.created', { imported: fmt.integer(report.imported), rejected: fmt.integer(report.rejected) })}
        </div>
      ) : null}
      {data.statusReason ? (
        <div className="alert alert-warn" role="alert" data-testid="campaign-status-reason">
          <div>
            <strong>{t('campaign.stopped')}</strong> {data.statusReason}
          </div>
        </div>
      ) : null}
      {actionError ? <ErrorMessage error={actionError} testId="campaign-action-error" /> : null}
      {campaign.error ? <ErrorMessage error={campaign.error} onRetry={campaign.reload} /> : null}

      <div className="button-row campaign-actions" data-testid="campaign-actions">
        {ACTIONS.map((action) => (
          <button
            key={action}
            type="button"
            className={`button${action === 'cancel' ? ' button-danger' : action === 'start' || action === 'resume' ? ' button-primary' : ''}`}
            disabled={!allowed.includes(action) || acting !== null}
            onClick={() => void act(action)}
            data-testid={`campaign-${action}`}
          >
            {t(`campaign.${action}`)}
          </button>
        ))}
      </div>

      <Section title={t('campaign.section.progress')} testId="campaign-progress-section">
        <CampaignProgress counts={data.counts} />
        <dl className="facts counts-facts" data-testid="campaign-counts">
          <CountFact label={t('campaign.count.total')} testId="campaign-count-total" count={data.counts.total} />
          <CountFact label={t('campaign.count.pending')} testId="campaign-count-pending" count={data.counts.pending} />
          <CountFact label={t('campaign.count.inFlight')} testId="campaign-count-in-flight" count={data.counts.inFlight} />
          <CountFact label={t('campaign.count.done')} testId="campaign-count-done" count={data.counts.done} />
          <CountFact label={t('campaign.count.attempts')} testId="campaign-attempts" count={data.counts.attempts} />
        </dl>
        <OutcomeCounts counts={data.counts} all />
      </Section>

      <Section title={t('campaign.section.settings')} testId="campaign-settings-section">
        <Settings campaign={data} />
      </Section>

      <Section title={t('campaign.section.import')} testId="campaign-import-section">
        <ImportReportView report={report} />
      </Section>

      <Contacts campaign={data} poll={active} />
    </div>
  );
}
