// "Place a call": POST /api/calls from a modal form (agent, number, caller ID, variables, AMD), then the
// new call's page, which follows it from `dialing` on. The variable rows start with the names the agent's
// templates still need (POST /api/agents/preview says which).
import { useEffect, useId, useRef, useState } from 'react';
import { ApiRequestError, apiRequest } from '../api/api-client.js';
import type { AgentList, PlaceCallRequest, PlaceCallResponse } from '../api/types.js';
import { useMissingVariables } from '../agents/use-missing-variables.js';
import { useI18n } from '../i18n/i18n.js';
import type { Translate } from '../i18n/i18n.js';
import { navigate } from '../router.js';
import { FieldProblems, FormField } from './form-field.js';
import { describeError } from './status.js';

interface VariableRow {
  name: string;
  value: string;
}

const COUNTRY_RE = /^[A-Za-z]{2}$/;

function PlaceCallError({ error }: { error: unknown }) {
  const { t } = useI18n();
  const described = describeError(error, t);
  const api = error instanceof ApiRequestError ? error : null;
  const headline = api?.code === 'twilio_not_configured' ? t('placeCall.notConfigured') : api?.code === 'twilio_error' ? t('placeCall.twilioError') : described.headline;
  return (
    <div className="alert alert-error" role="alert" data-testid="place-call-error" data-code={api?.code ?? ''} data-status={api?.status ?? ''}>
      <div>
        <strong>{headline}</strong>
        {described.detail ? <div className="alert-detail">{described.detail}</div> : null}
        {api && api.problems.length > 0 ? (
          <ul className="alert-detail field-problems" data-testid="error-problems">
            {api.problems.map((problem, i) => (
              <li key={i}>{problem}</li>
            ))}
          </ul>
        ) : null}
      </div>
    </div>
  );
}

function checkForm(to: string, country: string, rows: VariableRow[], needed: ReadonlySet<string>, t: Translate): Map<string, string[]> {
  const problems = new Map<string, string[]>();
  const add = (path: string, message: string) => problems.set(path, [...(problems.get(path) ?? []), message]);
  if (to.trim() === '') add('to', t('problem.required'));
  if (country.trim() !== '' && !COUNTRY_RE.test(country.trim())) add('defaultCountry', t('problem.country'));
  rows.forEach((row, i) => {
    const name = row.name.trim();
    if (name === '' && row.value === '') return;
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) add(`variables[${i}]`, t('problem.variableName'));
    else if (rows.findIndex((r) => r.name.trim() === name) !== i) add(`variables[${i}]`, t('problem.duplicateVariable', { name }));
    else if (needed.has(name) && row.value.trim() === '') add(`variables[${i}]`, t('problem.missingValue'));
  });
  return problems;
}

export function PlaceCallDialog({ agents, onClose }: { agents: AgentList; onClose: () => void }) {
  const { t } = useI18n();
  const titleId = useId();
  const ref = useRef<HTMLDialogElement>(null);
  const [agentId, setAgentId] = useState(() => agents.defaultAgentId || agents.agents[0]?.id || '');
  const agent = agents.agents.find((a) => a.id === agentId) ?? null;
  const [to, setTo] = useState('');
  const [from, setFrom] = useState('');
  const [country, setCountry] = useState('');
  const [machineDetection, setMachineDetection] = useState(() => agent?.definition.answeringMachine?.detect ?? false);
  const [record, setRecord] = useState(false);
  const [rows, setRows] = useState<VariableRow[]>([]);
  const [showProblems, setShowProblems] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const missing = useMissingVariables(agent, []);
  const needed = new Set(missing?.missing ?? []);

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);

  // The agent's needed names become rows (values typed so far are kept; empty rows it does not need go).
  useEffect(() => {
    if (!missing) return;
    setRows((current) => {
      const names = new Set(current.map((r) => r.name.trim()));
      const kept = current.filter((r) => r.value !== '' || missing.missing.includes(r.name.trim()));
      return [...kept, ...missing.missing.filter((name) => !names.has(name)).map((name) => ({ name, value: '' }))];
    });
  }, [missing]);

  const problems = checkForm(to, country, rows, needed, t);
  const shown = showProblems ? problems : new Map<string, string[]>();

  const changeAgent = (id: string) => {
    setAgentId(id);
    setMachineDetection(agents.agents.find((a) => a.id === id)?.definition.answeringMachine?.detect ?? false);
  };
  const setRow = (index: number, change: Partial<VariableRow>) => setRows(rows.map((row, i) => (i === index ? { ...row, ...change } : row)));

  const submit = async () => {
    setShowProblems(true);
    setError(null);
    if (problems.size > 0 || !agentId) return;
    const body: PlaceCallRequest = {
      to: to.trim(),
      agentId,
      machineDetection,
      ...(record ? { record } : {}),
      variables: Object.fromEntries(rows.filter((r) => r.name.trim() !== '').map((r) => [r.name.trim(), r.value])),
    };
    if (from.trim() !== '') body.from = from.trim();
    if (country.trim() !== '') body.defaultCountry = country.trim().toUpperCase();
    setSubmitting(true);
    try {
      const { call } = await apiRequest<PlaceCallResponse>('/api/calls', { method: 'POST', body });
      onClose();
      navigate(`/calls/${encodeURIComponent(call.id)}`);
    } catch (err) {
      setError(err);
      setSubmitting(false);
    }
  };

  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      data-testid="place-call-dialog"
      onCancel={(e) => {
        e.preventDefault();
        if (!submitting) onClose();
      }}
    >
      <form
        className="dialog-form"
        noValidate
        data-testid="place-call-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="dialog-head">
          <h2 id={titleId}>{t('placeCall.title')}</h2>
          <button type="button" className="button button-ghost button-small" onClick={onClose} disabled={submitting} aria-label={t('common.close')}>
            ✕
          </button>
        </div>
        <div className="dialog-body">
          <p className="muted small">{t('placeCall.intro')}</p>
          {error ? <PlaceCallError error={error} /> : null}
          <div className="form-grid">
            <FormField label={t('placeCall.agent')} path="agentId">
              {(id) => (
                <select id={id} value={agentId} onChange={(e) => changeAgent(e.target.value)} data-testid="place-call-agent">
                  {agents.agents.map((a) => (
                    <option key={a.id} value={a.id}>
                      {a.definition.name} ({a.id})
                    </option>
                  ))}
                </select>
              )}
            </FormField>
            <FormField label={t('placeCall.to')} path="to" problems={shown.get('to')} hint={t('placeCall.toHint')}>
              {(id, described) => (
                <input id={id} type="tel" className="num" autoComplete="off" value={to} onChange={(e) => setTo(e.target.value)} aria-describedby={described} aria-invalid={described ? true : undefined} data-testid="place-call-to" />
              )}
            </FormField>
            <FormField label={t('placeCall.from')} path="from" hint={t('placeCall.fromHint')}>
              {(id) => <input id={id} type="tel" className="num" autoComplete="off" value={from} placeholder={agent?.definition.phoneNumbers?.[0] ?? ''} onChange={(e) => setFrom(e.target.value)} data-testid="place-call-from" />}
            </FormField>
            <FormField label={t('placeCall.country')} path="defaultCountry" problems={shown.get('defaultCountry')} hint={t('placeCall.countryHint')}>
              {(id, described) => (
                <input id={id} className="mono" maxLength={2} autoComplete="off" value={country} placeholder="JP" onChange={(e) => setCountry(e.target.value.toUpperCase())} aria-describedby={described} data-testid="place-call-country" />
              )}
            </FormField>
          </div>
          <label className="check">
            <input type="checkbox" checked={machineDetection} onChange={(e) => setMachineDetection(e.target.checked)} data-testid="place-call-amd" />
            {t('placeCall.amd')}
          </label>
          <p className="field-hint">{t('placeCall.amdHint')}</p>
          <label className="check">
            <input type="checkbox" checked={record} onChange={(e) => setRecord(e.target.checked)} data-testid="place-call-record" />
            {t('placeCall.record')}
          </label>

          <fieldset className="plain-fieldset" data-testid="place-call-variables">
            <legend className="field-label">{t('placeCall.variables')}</legend>
            <p className="field-hint">{missing === null && agent ? t('placeCall.checking') : t('placeCall.variablesHint')}</p>
            {rows.length > 0 ? (
              <table className="kv-table">
                <tbody>
                  {rows.map((row, index) => (
                    <tr key={index}>
                      <td>
                        <input
                          className="mono"
                          value={row.name}
                          placeholder={t('editor.variableName')}
                          aria-label={t('editor.variableName')}
                          onChange={(e) => setRow(index, { name: e.target.value })}
                          data-testid={`place-call-var-name-${index}`}
                        />
                      </td>
                      <td>
                        <input
                          value={row.value}
                          placeholder={needed.has(row.name.trim()) ? t('placeCall.needed') : t('placeCall.variableValue')}
                          aria-label={`${row.name || t('editor.variableName')}: ${t('placeCall.variableValue')}`}
                          aria-invalid={shown.has(`variables[${index}]`) ? true : undefined}
                          onChange={(e) => setRow(index, { value: e.target.value })}
                          data-testid={`place-call-var-value-${index}`}
                          data-name={row.name.trim()}
                        />
                        <FieldProblems path={`variables[${index}]`} problems={shown.get(`variables[${index}]`)} />
                      </td>
                      <td>
                        {needed.has(row.name.trim()) ? <span className="pill pill-warn">{t('placeCall.needed')}</span> : null}
                        <button type="button" className="button button-ghost button-small" onClick={() => setRows(rows.filter((_, i) => i !== index))} aria-label={t('editor.variableRemove')} data-testid={`place-call-var-remove-${index}`}>
                          ✕
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
            <button type="button" className="button button-small" onClick={() => setRows([...rows, { name: '', value: '' }])} data-testid="place-call-var-add">
              {t('editor.variableAdd')}
            </button>
          </fieldset>
        </div>
        <div className="dialog-actions">
          <button type="button" className="button button-ghost" onClick={onClose} disabled={submitting} data-testid="place-call-cancel">
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button-call" disabled={submitting || !agentId} data-testid="place-call-submit">
            {submitting ? t('placeCall.placing') : t('placeCall.submit')}
          </button>
        </div>
      </form>
    </dialog>
  );
}
