// A new campaign: name, agent, caller ID, the contacts (a CSV file read here in the browser, or pasted),
// pace, calling hours, retries and answering-machine detection. POST /api/campaigns takes the CSV as text
// inside the JSON; the campaign's page then shows what the import accepted and refused.
import { useEffect, useMemo, useState } from 'react';
import type { ChangeEvent } from 'react';
import { ApiRequestError, apiRequest } from '../api/api-client.js';
import type { AgentList, CampaignRecord, RetryableOutcome } from '../api/types.js';
import { useMissingVariables } from '../agents/use-missing-variables.js';
import {
  agentDefaults,
  buildCampaignRequest,
  csvOutline,
  emptyCampaignForm,
  groupCampaignProblems,
  parseCampaignProblem,
  RETRYABLE_OUTCOMES,
  WEEKDAYS,
} from '../campaigns/campaign-form.js';
import type { CampaignField, CampaignForm, CampaignProblem, CsvSource } from '../campaigns/campaign-form.js';
import { FieldProblems, FormField } from '../components/form-field.js';
import { EmptyState, ErrorMessage, Loading } from '../components/status.js';
import { useApi } from '../components/use-api.js';
import { useI18n } from '../i18n/i18n.js';
import { Link, navigate } from '../router.js';

/** Campaign outcomes a retry can follow, as the contact outcome words. */
const RETRY_LABEL: Record<RetryableOutcome, 'contactOutcome.busy' | 'contactOutcome.no-answer' | 'contactOutcome.failed' | 'contactOutcome.voicemail'> = {
  busy: 'contactOutcome.busy',
  'no-answer': 'contactOutcome.no-answer',
  failed: 'contactOutcome.failed',
  voicemail: 'contactOutcome.voicemail',
};

function timeZones(): string[] {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
}

/** UTF-8 when the bytes are valid UTF-8, else Shift_JIS (what Excel in Japan saves as "CSV"). */
async function readCsvFile(file: File): Promise<string> {
  const bytes = await file.arrayBuffer();
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('shift_jis').decode(bytes);
  }
}

export function CampaignNewPage() {
  const { t, fmt } = useI18n();
  const agents = useApi<AgentList>('/api/agents');
  const [form, setForm] = useState<CampaignForm>(emptyCampaignForm);
  const [csv, setCsv] = useState<CsvSource>({ text: '', fileName: null });
  const [fileError, setFileError] = useState<string | null>(null);
  const [showProblems, setShowProblems] = useState(false);
  const [serverProblems, setServerProblems] = useState<CampaignProblem[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const zones = useMemo(timeZones, []);

  const agent = agents.data?.agents.find((a) => a.id === form.agentId) ?? null;
  useEffect(() => {
    if (form.agentId || !agents.data) return;
    const first = agents.data.agents.find((a) => a.id === agents.data?.defaultAgentId) ?? agents.data.agents[0];
    if (first) setForm((f) => ({ ...f, agentId: first.id, ...agentDefaults(first) }));
  }, [agents.data, form.agentId]);

  const outline = useMemo(() => csvOutline(csv.text), [csv.text]);
  const missing = useMissingVariables(agent, outline?.columns ?? []);
  const built = useMemo(() => buildCampaignRequest(form, csv, t), [form, csv, t]);
  const problems = useMemo(() => groupCampaignProblems([...(showProblems ? built.problems : []), ...serverProblems]), [showProblems, built.problems, serverProblems]);
  const problemsOf = (field: CampaignField) => problems.byField.get(field);

  const update = <K extends keyof CampaignForm>(key: K, value: CampaignForm[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setServerProblems([]);
  };
  const changeAgent = (id: string) => {
    const next = agents.data?.agents.find((a) => a.id === id);
    setForm((f) => ({ ...f, agentId: id, ...(next ? agentDefaults(next) : {}) }));
    setServerProblems([]);
  };
  const toggle = <T,>(list: readonly T[], item: T, on: boolean): T[] => (on ? [...list.filter((x) => x !== item), item] : list.filter((x) => x !== item));

  const chooseFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file) return;
    setFileError(null);
    try {
      setCsv({ text: await readCsvFile(file), fileName: file.name });
      setServerProblems([]);
    } catch (err) {
      setFileError(t('problem.fileRead', { detail: err instanceof Error ? err.message : String(err) }));
    }
  };

  const submit = async () => {
    setShowProblems(true);
    setServerProblems([]);
    setError(null);
    if (built.problems.length > 0) {
      requestAnimationFrame(() => document.querySelector('.field.invalid, [data-testid="campaign-problems"]')?.scrollIntoView({ block: 'center', behavior: 'smooth' }));
      return;
    }
    setSubmitting(true);
    try {
      const campaign = await apiRequest<CampaignRecord>('/api/campaigns', { method: 'POST', body: built.request });
      navigate(`/campaigns/${encodeURIComponent(campaign.id)}?created=1`);
    } catch (err) {
      if (err instanceof ApiRequestError && err.status === 400 && err.problems.length > 0) {
        setServerProblems(err.problems.map(parseCampaignProblem));
        requestAnimationFrame(() => document.querySelector('.field.invalid, [data-testid="campaign-problems"]')?.scrollIntoView({ block: 'center', behavior: 'smooth' }));
      } else setError(err);
      setSubmitting(false);
    }
  };

  if (agents.error && !agents.data)
    return (
      <div className="page">
        <ErrorMessage error={agents.error} onRetry={agents.reload} />
      </div>
    );
  if (!agents.data) return <Loading />;
  if (agents.data.agents.length === 0)
    return (
      <div className="page">
        <EmptyState testId="campaign-no-agents" title={t('softphone.noAgents')}>
          <Link to="/agents/new">{t('agents.new')}</Link>
        </EmptyState>
      </div>
    );

  const columns = outline?.columns ?? [];
  const csvProblems = [...(problemsOf('csv') ?? []), ...(fileError ? [fileError] : [])];

  return (
    <div className="page campaign-new" data-testid="campaign-new-page">
      <nav className="breadcrumbs">
        <Link to="/campaigns">{t('nav.campaigns')}</Link> <span aria-hidden="true">/</span> <span>{t('campaignNew.title')}</span>
      </nav>
      <div className="page-head">
        <h1>{t('campaignNew.title')}</h1>
      </div>
      <form
        noValidate
        data-testid="campaign-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {problems.general.length > 0 ? (
          <div className="alert alert-error" role="alert" data-testid="campaign-problems">
            <div>
              <strong>{t('editor.problemsTitle')}</strong>
              <FieldProblems path="" problems={problems.general} />
            </div>
          </div>
        ) : null}
        {error ? <ErrorMessage error={error} testId="campaign-create-error" /> : null}

        <fieldset className="card form-section">
          <legend>{t('campaignNew.section.campaign')}</legend>
          <div className="form-grid">
            <FormField label={t('campaignNew.name')} path="name" problems={problemsOf('name')}>
              {(id, described) => <input id={id} value={form.name} onChange={(e) => update('name', e.target.value)} aria-describedby={described} aria-invalid={described ? true : undefined} data-testid="campaign-field-name" />}
            </FormField>
            <FormField label={t('campaignNew.agent')} path="agentId" problems={problemsOf('agentId')}>
              {(id) => (
                <select id={id} value={form.agentId} onChange={(e) => changeAgent(e.target.value)} data-testid="campaign-field-agent">
                  {agents.data?.agents.map((a) => (
                    <option key={a.id} value={a.id}>
                      {a.definition.name} ({a.id})
                    </option>
                  ))}
                </select>
              )}
            </FormField>
            <FormField label={t('placeCall.from')} path="from" problems={problemsOf('from')} hint={t('placeCall.fromHint')}>
              {(id, described) => (
                <input id={id} type="tel" className="num" value={form.from} placeholder={agent?.definition.phoneNumbers?.[0] ?? ''} onChange={(e) => update('from', e.target.value)} aria-describedby={described} data-testid="campaign-field-from" />
              )}
            </FormField>
          </div>
        </fieldset>

        <fieldset className="card form-section">
          <legend>{t('campaignNew.section.contacts')}</legend>
          <p className="field-hint">{t('campaignNew.csvHint')}</p>
          <div className={`field field-wide${csvProblems.length > 0 ? ' invalid' : ''}`}>
            <label className="field-label" htmlFor="campaign-csv-file">
              {t('campaignNew.file')}
            </label>
            <input id="campaign-csv-file" type="file" accept=".csv,.tsv,.txt,text/csv,text/plain" onChange={(e) => void chooseFile(e)} data-testid="campaign-field-file" />
          </div>
          {csv.fileName !== null ? (
            <div className="csv-summary" data-testid="campaign-csv-summary" data-rows={outline?.rows ?? 0}>
              <span className="mono">{t('campaignNew.fileLoaded', { name: csv.fileName, rows: fmt.integer(outline?.rows ?? 0) })}</span>
              <button type="button" className="button button-small button-ghost" onClick={() => setCsv({ text: '', fileName: null })} data-testid="campaign-csv-clear">
                {t('campaignNew.clearFile')}
              </button>
            </div>
          ) : (
            <div className="field field-wide">
              <label className="field-label" htmlFor="campaign-csv-text">
                {t('campaignNew.paste')}
              </label>
              <textarea
                id="campaign-csv-text"
                rows={6}
                className="mono code-input"
                spellCheck={false}
                placeholder={'phone,name\n+815012345678,Sato'}
                value={csv.text}
                onChange={(e) => {
                  setCsv({ text: e.target.value, fileName: null });
                  setServerProblems([]);
                }}
                data-testid="campaign-field-csv"
              />
              {outline ? (
                <div className="field-hint num" data-testid="campaign-csv-summary" data-rows={outline.rows}>
                  {t('campaignNew.pastedRows', { rows: fmt.integer(outline.rows) })}
                </div>
              ) : null}
            </div>
          )}
          <FieldProblems path="csv" problems={csvProblems} />
          {columns.length > 0 ? (
            <p className="small csv-columns" data-testid="campaign-csv-columns">
              <span className="muted">{t('campaignNew.columns')}</span>{' '}
              {columns.map((c, i) => (
                <span key={`${c}-${i}`} className="pill mono">
                  {c}
                </span>
              ))}
            </p>
          ) : null}
          {columns.length > 0 && missing && missing.missing.length > 0 ? (
            <div className="alert alert-warn" data-testid="campaign-csv-missing">
              <div>{t('campaignNew.missingColumns', { names: fmt.list(missing.missing.map((m) => `{{${m}}}`)) })}</div>
            </div>
          ) : null}
          <div className="form-grid">
            <FormField label={t('campaignNew.phoneColumn')} path="phoneColumn" problems={problemsOf('phoneColumn')} hint={t('campaignNew.phoneColumnHint')}>
              {(id, described) => (
                <>
                  <input id={id} className="mono" list="campaign-columns" value={form.phoneColumn} onChange={(e) => update('phoneColumn', e.target.value)} aria-describedby={described} data-testid="campaign-field-phone-column" />
                  <datalist id="campaign-columns">
                    {columns.map((c, i) => (
                      <option key={`${c}-${i}`} value={c} />
                    ))}
                  </datalist>
                </>
              )}
            </FormField>
            <FormField label={t('placeCall.country')} path="defaultCountry" problems={problemsOf('defaultCountry')} hint={t('placeCall.countryHint')}>
              {(id, described) => (
                <input id={id} className="mono" maxLength={2} value={form.defaultCountry} placeholder="JP" onChange={(e) => update('defaultCountry', e.target.value.toUpperCase())} aria-describedby={described} data-testid="campaign-field-country" />
              )}
            </FormField>
          </div>
        </fieldset>

        <fieldset className="card form-section">
          <legend>{t('campaignNew.section.pace')}</legend>
          <div className="form-grid">
            <FormField label={t('campaignNew.cps')} path="callsPerSecond" problems={problemsOf('callsPerSecond')} hint={t('campaignNew.cpsHint')}>
              {(id, described) => <input id={id} type="number" min={0.1} step={0.1} className="num" value={form.callsPerSecond} onChange={(e) => update('callsPerSecond', e.target.value)} aria-describedby={described} data-testid="campaign-field-cps" />}
            </FormField>
            <FormField label={t('campaignNew.maxConcurrent')} path="maxConcurrent" problems={problemsOf('maxConcurrent')}>
              {(id, described) => <input id={id} type="number" min={1} step={1} className="num" value={form.maxConcurrent} onChange={(e) => update('maxConcurrent', e.target.value)} aria-describedby={described} data-testid="campaign-field-max-concurrent" />}
            </FormField>
            <FormField label={t('campaignNew.windowStart')} path="window.start" problems={problemsOf('window.start')} hint={t('campaignNew.windowHint')}>
              {(id, described) => <input id={id} type="time" className="num" value={form.windowStart} onChange={(e) => update('windowStart', e.target.value)} aria-describedby={described} data-testid="campaign-field-window-start" />}
            </FormField>
            <FormField label={t('campaignNew.windowEnd')} path="window.end" problems={problemsOf('window.end')}>
              {(id, described) => <input id={id} type="time" className="num" value={form.windowEnd} onChange={(e) => update('windowEnd', e.target.value)} aria-describedby={described} data-testid="campaign-field-window-end" />}
            </FormField>
            <FormField label={t('campaignNew.timezone')} path="timezone" problems={problemsOf('timezone')} hint={t('campaignNew.timezoneHint')}>
              {(id, described) => (
                <>
                  <input id={id} list="campaign-zones" value={form.timezone} onChange={(e) => update('timezone', e.target.value)} aria-describedby={described} data-testid="campaign-field-timezone" />
                  <datalist id="campaign-zones">
                    {zones.map((z) => (
                      <option key={z} value={z} />
                    ))}
                  </datalist>
                </>
              )}
            </FormField>
          </div>
          <fieldset className={`plain-fieldset${problemsOf('window.days') ? ' invalid' : ''}`}>
            <legend className="field-label">{t('campaignNew.days')}</legend>
            <div className="checks weekday-checks">
              {WEEKDAYS.map((day) => (
                <label key={day} className="check">
                  <input type="checkbox" checked={form.days.includes(day)} onChange={(e) => update('days', toggle(form.days, day, e.target.checked))} data-testid={`campaign-field-day-${day}`} />
                  {fmt.weekday(day)}
                </label>
              ))}
            </div>
            <FieldProblems path="window.days" problems={problemsOf('window.days')} />
          </fieldset>
        </fieldset>

        <fieldset className="card form-section">
          <legend>{t('campaignNew.section.retry')}</legend>
          <div className="form-grid">
            <FormField label={t('campaignNew.maxAttempts')} path="retry.maxAttempts" problems={problemsOf('retry.maxAttempts')}>
              {(id, described) => <input id={id} type="number" min={1} max={20} step={1} className="num" value={form.maxAttempts} onChange={(e) => update('maxAttempts', e.target.value)} aria-describedby={described} data-testid="campaign-field-max-attempts" />}
            </FormField>
            <FormField label={t('campaignNew.retryDelay')} path="retry.delayMs" problems={problemsOf('retry.delayMs')}>
              {(id, described) => <input id={id} type="number" min={0} step={1} className="num" value={form.retryDelayMin} onChange={(e) => update('retryDelayMin', e.target.value)} aria-describedby={described} data-testid="campaign-field-retry-delay" />}
            </FormField>
            <FormField label={t('campaignNew.ringTimeout')} path="ringTimeoutSec" problems={problemsOf('ringTimeoutSec')}>
              {(id, described) => <input id={id} type="number" min={5} max={600} step={1} className="num" value={form.ringTimeoutSec} onChange={(e) => update('ringTimeoutSec', e.target.value)} aria-describedby={described} data-testid="campaign-field-ring-timeout" />}
            </FormField>
          </div>
          <fieldset className="plain-fieldset">
            <legend className="field-label">{t('campaignNew.retryOn')}</legend>
            <div className="checks">
              {RETRYABLE_OUTCOMES.map((outcome) => (
                <label key={outcome} className="check">
                  <input type="checkbox" checked={form.retryOn.includes(outcome)} onChange={(e) => update('retryOn', toggle(form.retryOn, outcome, e.target.checked))} data-testid={`campaign-field-retry-${outcome}`} />
                  {t(RETRY_LABEL[outcome])}
                </label>
              ))}
            </div>
            <FieldProblems path="retry.on" problems={problemsOf('retry.on')} />
          </fieldset>
          <label className="check">
            <input type="checkbox" checked={form.machineDetection} onChange={(e) => update('machineDetection', e.target.checked)} data-testid="campaign-field-amd" />
            {t('placeCall.amd')}
          </label>
          <p className="field-hint">{t('placeCall.amdHint')}</p>
        </fieldset>

        <div className="form-actions">
          <label className="check">
            <input type="checkbox" checked={form.start} onChange={(e) => update('start', e.target.checked)} data-testid="campaign-field-start" />
            {t('campaignNew.startNow')}
          </label>
          {form.start ? null : <span className="muted small">{t('campaignNew.startNowHint')}</span>}
          <span className="spacer" />
          <button type="submit" className="button button-primary" disabled={submitting} data-testid="campaign-submit">
            {submitting ? t('campaignNew.submitting') : t('campaignNew.submit')}
          </button>
        </div>
      </form>
    </div>
  );
}
