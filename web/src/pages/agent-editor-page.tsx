// Create or edit an agent. Saves a new version with expectedVersion (409 → a clear conflict with a way
// out), shows validation problems next to their fields, and previews the rendered templates.
import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import {
  buildDefinition,
  emptyForm,
  formFromDefinition,
  groupProblems,
  parseServerProblem,
  templateVariables,
  TOOL_TEMPLATES,
} from '../agents/agent-form.js';
import type { AgentForm, Eagerness, FormField, Problem, TurnType } from '../agents/agent-form.js';
import { ApiRequestError, apiRequest } from '../api/api-client.js';
import type { AgentDetailResponse, AgentInput, AgentRecord, PreviewAgentResponse } from '../api/types.js';
import { describeError, EmptyState, ErrorMessage, Loading } from '../components/status.js';
import { useI18n } from '../i18n/i18n.js';
import { Link, navigate } from '../router.js';
import { useServerInfo } from '../server-info.js';

const LANGUAGE_SUGGESTIONS = ['en-US', 'en-GB', 'en-AU', 'ja-JP', 'es-ES', 'es-MX', 'fr-FR', 'de-DE', 'it-IT', 'pt-BR', 'ko-KR', 'zh-CN'];
const PREVIEW_DEBOUNCE_MS = 500;

function timeZones(): string[] {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
}

function ProblemText({ problems, id }: { problems: Problem[] | undefined; id?: string }) {
  if (!problems || problems.length === 0) return null;
  return (
    <ul className="field-problems" id={id} role="alert">
      {problems.map((p, i) => (
        <li key={i} className="field-error" data-testid="field-problem" data-path={p.path}>
          {p.path.includes('.') || p.path.includes('[') ? <span className="mono">{p.path}: </span> : null}
          {p.message}
        </li>
      ))}
    </ul>
  );
}

function Field({ label, hint, problems, children, wide }: { label: string; hint?: ReactNode; problems?: Problem[]; children: (id: string, describedBy: string | undefined) => ReactNode; wide?: boolean }) {
  const id = useId();
  const problemId = `${id}-problems`;
  const invalid = Boolean(problems && problems.length > 0);
  return (
    <div className={`field${wide ? ' field-wide' : ''}${invalid ? ' invalid' : ''}`}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      {children(id, invalid ? problemId : undefined)}
      {hint ? <div className="field-hint">{hint}</div> : null}
      <ProblemText problems={problems} id={problemId} />
    </div>
  );
}

interface SavedNotice {
  version: number;
}

type Conflict = { kind: 'stale'; latest: AgentRecord | null } | { kind: 'exists'; id: string };

function recordFromSaveResponse(response: unknown): AgentRecord | null {
  if (typeof response !== 'object' || response === null) return null;
  const maybe = response as Partial<AgentDetailResponse> & Partial<AgentRecord>;
  if (maybe.agent && typeof maybe.agent.version === 'number') return maybe.agent;
  if (typeof maybe.version === 'number' && typeof maybe.id === 'string' && maybe.definition) return maybe as AgentRecord;
  return null;
}

export function AgentEditorPage({ id }: { id: string | null }) {
  const { t, fmt } = useI18n();
  const isNew = id === null;
  const info = useServerInfo();
  const [loadError, setLoadError] = useState<unknown>(null);
  const [loaded, setLoaded] = useState<AgentDetailResponse | null>(null);
  const [form, setForm] = useState<AgentForm>(emptyForm);
  const [initialForm, setInitialForm] = useState<AgentForm>(emptyForm);
  const [showProblems, setShowProblems] = useState(false);
  const [serverProblems, setServerProblems] = useState<Problem[]>([]);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState<SavedNotice | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [samples, setSamples] = useState<Record<string, string>>({});
  const [deleting, setDeleting] = useState(false);

  const load = useCallback(async () => {
    if (id === null) return;
    setLoadError(null);
    try {
      const detail = await apiRequest<AgentDetailResponse>(`/api/agents/${encodeURIComponent(id)}`);
      const next = formFromDefinition(detail.agent.definition);
      setLoaded(detail);
      setForm(next);
      setInitialForm(next);
      setConflict(null);
      setServerProblems([]);
    } catch (err) {
      setLoadError(err);
    }
  }, [id]);

  useEffect(() => {
    void load();
  }, [load]);

  const base = loaded?.agent.definition ?? null;
  const built = useMemo(() => buildDefinition(form, base, t), [form, base, t]);
  const clientProblems = built.problems;
  const problems = useMemo(() => groupProblems([...(showProblems ? clientProblems : []), ...serverProblems]), [showProblems, clientProblems, serverProblems]);
  const fieldProblems = (field: FormField) => problems.byField.get(field);
  const dirty = JSON.stringify(form) !== JSON.stringify(initialForm);

  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const update = <K extends keyof AgentForm>(key: K, value: AgentForm[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setSaved(null);
  };

  const save = async (expectedVersion?: number) => {
    setShowProblems(true);
    setServerProblems([]);
    setSaveError(null);
    setSaved(null);
    if (clientProblems.length > 0) {
      requestAnimationFrame(() => document.querySelector('.field.invalid, [data-testid="agent-problems"]')?.scrollIntoView({ block: 'center', behavior: 'smooth' }));
      return;
    }
    setSaving(true);
    try {
      const body = isNew ? { definition: built.definition } : { definition: built.definition, expectedVersion: expectedVersion ?? loaded?.agent.version };
      const response = await apiRequest<unknown>(isNew ? '/api/agents' : `/api/agents/${encodeURIComponent(id)}`, { method: isNew ? 'POST' : 'PUT', body });
      const record = recordFromSaveResponse(response);
      setConflict(null);
      setShowProblems(false);
      if (isNew) {
        navigate(`/agents/${encodeURIComponent(built.definition.id)}?saved=1`, { replace: true });
        return;
      }
      await load();
      setSaved({ version: record?.version ?? (loaded?.agent.version ?? 0) + 1 });
    } catch (err) {
      if (err instanceof ApiRequestError && err.status === 409 && err.code === 'agent_conflict') {
        // Another agent already answers one of these numbers (or a similar cross-agent rule).
        setServerProblems(
          (err.problems.length > 0 ? err.problems : [err.message]).map((problem) => ({ path: /^\+\d/.test(problem) ? 'phoneNumbers' : '', message: problem })),
        );
      } else if (err instanceof ApiRequestError && err.status === 409) {
        if (isNew || err.code === 'agent_exists') setConflict({ kind: 'exists', id: built.definition.id });
        else {
          const latest = await apiRequest<AgentDetailResponse>(`/api/agents/${encodeURIComponent(id)}`).then(
            (detail): AgentRecord | null => detail.agent,
            () => null,
          );
          setConflict({ kind: 'stale', latest });
        }
      } else if (err instanceof ApiRequestError && err.status === 400 && err.problems.length > 0) {
        setServerProblems(err.problems.map(parseServerProblem));
        requestAnimationFrame(() => document.querySelector('.field.invalid, [data-testid="agent-problems"]')?.scrollIntoView({ block: 'center', behavior: 'smooth' }));
      } else setSaveError(err);
    } finally {
      setSaving(false);
    }
  };

  const remove = async () => {
    if (id === null || !window.confirm(t('editor.deleteConfirm', { id }))) return;
    setDeleting(true);
    setSaveError(null);
    try {
      await apiRequest<unknown>(`/api/agents/${encodeURIComponent(id)}`, { method: 'DELETE' });
      navigate('/agents');
    } catch (err) {
      setSaveError(err);
      setDeleting(false);
    }
  };

  useEffect(() => {
    // After creating, the page reloads under the new id; say so once.
    const params = new URLSearchParams(window.location.search);
    if (params.get('saved') === '1' && loaded) {
      setSaved({ version: loaded.agent.version });
      navigate(window.location.pathname, { replace: true });
    }
  }, [loaded]);

  if (!isNew && loadError) {
    if (loadError instanceof ApiRequestError && loadError.status === 404)
      return (
        <div className="page">
          <EmptyState testId="agent-not-found" title={t('editor.notFound', { id })}>
            <Link to="/agents">{t('editor.back')}</Link>
          </EmptyState>
        </div>
      );
    return (
      <div className="page">
        <ErrorMessage error={loadError} onRetry={() => void load()} />
      </div>
    );
  }
  if (!isNew && !loaded) return <Loading />;

  const voices = info.data?.voices ?? [];
  const voiceOptions = voices.includes(form.voice) || !form.voice ? voices : [form.voice, ...voices];
  const usedVariables = [...new Set([...templateVariables(form.instructions), ...templateVariables(form.greeting)])];
  const builtins = info.data?.builtinVariables ?? {};

  let parsedTools: unknown[] = [];
  try {
    const value: unknown = JSON.parse(form.toolsJson || '[]');
    if (Array.isArray(value)) parsedTools = value;
  } catch {
    parsedTools = [];
  }
  const addTool = (kind: keyof typeof TOOL_TEMPLATES) => {
    if (!built.toolsParsed) return;
    update('toolsJson', JSON.stringify([...parsedTools, TOOL_TEMPLATES[kind]], null, 2));
  };

  return (
    <div className="page page-wide agent-editor" data-testid="agent-editor" data-agent-id={id ?? ''} data-version={loaded?.agent.version ?? ''}>
      <nav className="breadcrumbs">
        <Link to="/agents">{t('nav.agents')}</Link> <span aria-hidden="true">/</span> <span>{isNew ? t('editor.newTitle') : (loaded?.agent.id ?? '')}</span>
      </nav>
      <div className="page-head">
        <h1>{isNew ? t('editor.newTitle') : t('editor.editTitle', { name: loaded?.agent.definition.name ?? '' })}</h1>
        <div className="head-badges">
          {loaded ? (
            <span className="pill num" data-testid="agent-version">
              {t('editor.version', { version: loaded.agent.version })}
            </span>
          ) : null}
          {dirty ? (
            <span className="pill pill-warn" data-testid="agent-dirty">
              {t('editor.unsaved')}
            </span>
          ) : null}
        </div>
      </div>
      <p className="muted">{t('editor.appliesNext')}</p>

      <form
        className="editor-layout"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
        noValidate
        data-testid="agent-form"
      >
        <div className="editor-main">
          {conflict?.kind === 'stale' ? (
            <div className="alert alert-warn" role="alert" data-testid="agent-conflict">
              <div>
                <strong>{t('editor.conflictTitle')}</strong>
                <div className="alert-detail">
                  {conflict.latest
                    ? t('editor.conflictDetail', { version: conflict.latest.version, mine: loaded?.agent.version ?? '?', when: fmt.dateTime(conflict.latest.updatedAt), source: conflict.latest.source })
                    : t('editor.conflictUnknown')}
                </div>
              </div>
              <div className="alert-actions">
                <button type="button" className="button button-small" onClick={() => void load()} data-testid="agent-conflict-reload">
                  {t('editor.conflictReload')}
                </button>
                {conflict.latest ? (
                  <button type="button" className="button button-small button-danger" onClick={() => void save(conflict.latest?.version)} data-testid="agent-conflict-overwrite">
                    {t('editor.conflictOverwrite', { version: conflict.latest.version })}
                  </button>
                ) : null}
              </div>
            </div>
          ) : null}
          {conflict?.kind === 'exists' ? (
            <div className="alert alert-warn" role="alert" data-testid="agent-conflict">
              <div>
                <strong>{t('editor.existsTitle', { id: conflict.id })}</strong>
                <div className="alert-detail">
                  <Link to={`/agents/${encodeURIComponent(conflict.id)}`}>{t('editor.existsOpen')}</Link>
                </div>
              </div>
            </div>
          ) : null}
          {problems.general.length > 0 ? (
            <div className="alert alert-error" role="alert" data-testid="agent-problems">
              <div>
                <strong>{t('editor.problemsTitle')}</strong>
                <ProblemText problems={problems.general} />
              </div>
            </div>
          ) : null}
          {saveError ? <ErrorMessage error={saveError} testId="agent-save-error" /> : null}
          {saved ? (
            <div className="alert alert-ok" role="status" data-testid="agent-saved">
              {t('editor.saved', { version: saved.version })}
            </div>
          ) : null}

          <fieldset className="card form-section">
            <legend>{t('editor.section.identity')}</legend>
            <div className="form-grid">
              <Field label={t('editor.id')} problems={fieldProblems('id')} hint={isNew ? t('editor.idHint') : undefined}>
                {(fid, described) => (
                  <input id={fid} value={form.id} readOnly={!isNew} onChange={(e) => update('id', e.target.value)} data-testid="agent-field-id" aria-describedby={described} aria-invalid={described ? true : undefined} className="mono" spellCheck={false} />
                )}
              </Field>
              <Field label={t('editor.name')} problems={fieldProblems('name')}>
                {(fid, described) => <input id={fid} value={form.name} onChange={(e) => update('name', e.target.value)} data-testid="agent-field-name" aria-describedby={described} aria-invalid={described ? true : undefined} />}
              </Field>
              <Field label={t('editor.language')} problems={fieldProblems('language')} hint={t('editor.languageHint')}>
                {(fid, described) => (
                  <>
                    <input id={fid} list="koe-languages" value={form.language} onChange={(e) => update('language', e.target.value)} data-testid="agent-field-language" aria-describedby={described} />
                    <datalist id="koe-languages">
                      {LANGUAGE_SUGGESTIONS.map((l) => (
                        <option key={l} value={l} />
                      ))}
                    </datalist>
                  </>
                )}
              </Field>
              <Field label={t('editor.voice')} problems={fieldProblems('voice')}>
                {(fid, described) =>
                  voiceOptions.length > 0 ? (
                    <select id={fid} value={form.voice} onChange={(e) => update('voice', e.target.value)} data-testid="agent-field-voice" aria-describedby={described}>
                      {voiceOptions.map((v) => (
                        <option key={v} value={v}>
                          {v}
                          {voices.includes(v) ? '' : ` (${t('editor.voiceUnknown')})`}
                        </option>
                      ))}
                    </select>
                  ) : (
                    <input id={fid} value={form.voice} onChange={(e) => update('voice', e.target.value)} data-testid="agent-field-voice" aria-describedby={described} />
                  )
                }
              </Field>
              <Field label={t('editor.timezone')} problems={fieldProblems('timezone')}>
                {(fid, described) => (
                  <>
                    <input id={fid} list="koe-timezones" value={form.timezone} onChange={(e) => update('timezone', e.target.value)} data-testid="agent-field-timezone" aria-describedby={described} />
                    <datalist id="koe-timezones">
                      {timeZones().map((z) => (
                        <option key={z} value={z} />
                      ))}
                    </datalist>
                  </>
                )}
              </Field>
              <Field label={t('editor.phoneNumbers')} problems={fieldProblems('phoneNumbers')} hint={t('editor.phoneNumbersHint')}>
                {(fid, described) => (
                  <textarea id={fid} rows={2} className="mono" value={form.phoneNumbers} onChange={(e) => update('phoneNumbers', e.target.value)} data-testid="agent-field-phone-numbers" aria-describedby={described} placeholder="+15551234567" />
                )}
              </Field>
            </div>
          </fieldset>

          <fieldset className="card form-section">
            <legend>{t('editor.section.prompt')}</legend>
            <Field label={t('editor.instructions')} problems={fieldProblems('instructions')} hint={t('editor.instructionsHint')} wide>
              {(fid, described) => (
                <textarea id={fid} rows={10} value={form.instructions} onChange={(e) => update('instructions', e.target.value)} data-testid="agent-field-instructions" aria-describedby={described} aria-invalid={described ? true : undefined} />
              )}
            </Field>
            <Field label={t('editor.greeting')} problems={fieldProblems('greeting')} hint={t('editor.greetingHint')} wide>
              {(fid, described) => <textarea id={fid} rows={2} value={form.greeting} onChange={(e) => update('greeting', e.target.value)} data-testid="agent-field-greeting" aria-describedby={described} />}
            </Field>
            <label className="check">
              <input type="checkbox" checked={form.greetingInterruptible} onChange={(e) => update('greetingInterruptible', e.target.checked)} data-testid="agent-field-greeting-interruptible" />
              {t('editor.greetingInterruptible')}
            </label>
            <div className="field field-wide">
              <span className="field-label">{t('editor.variables')}</span>
              <p className="field-hint">{t('editor.variablesHint')}</p>
              <table className="kv-table" data-testid="agent-field-variables">
                <tbody>
                  {form.variables.map((row, index) => (
                    <tr key={index}>
                      <td>
                        <input
                          aria-label={t('editor.variableName')}
                          className="mono"
                          placeholder={t('editor.variableName')}
                          value={row.name}
                          onChange={(e) => update('variables', form.variables.map((r, i) => (i === index ? { ...r, name: e.target.value } : r)))}
                          data-testid={`agent-variable-name-${index}`}
                        />
                      </td>
                      <td>
                        <input
                          aria-label={t('editor.variableDefault')}
                          placeholder={t('editor.variableDefault')}
                          value={row.value}
                          onChange={(e) => update('variables', form.variables.map((r, i) => (i === index ? { ...r, value: e.target.value } : r)))}
                          data-testid={`agent-variable-value-${index}`}
                        />
                      </td>
                      <td>
                        <button type="button" className="button button-ghost button-small" onClick={() => update('variables', form.variables.filter((_, i) => i !== index))} aria-label={t('editor.variableRemove')} data-testid={`agent-variable-remove-${index}`}>
                          ✕
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <button type="button" className="button button-small" onClick={() => update('variables', [...form.variables, { name: '', value: '' }])} data-testid="agent-variable-add">
                {t('editor.variableAdd')}
              </button>
              <ProblemText problems={fieldProblems('variables')} />
            </div>
          </fieldset>

          <fieldset className="card form-section">
            <legend>{t('editor.section.turns')}</legend>
            <div className="form-grid">
              <Field label={t('editor.turnDetection')} problems={fieldProblems('turnDetection')}>
                {(fid) => (
                  <select id={fid} value={form.turnType} onChange={(e) => update('turnType', e.target.value as TurnType)} data-testid="agent-field-turn-detection">
                    <option value="server_vad">{t('editor.turn.server_vad')}</option>
                    <option value="semantic_vad">{t('editor.turn.semantic_vad')}</option>
                    <option value="manual">{t('editor.turn.manual')}</option>
                  </select>
                )}
              </Field>
              {form.turnType === 'server_vad' ? (
                <>
                  <Field label={t('editor.threshold')} hint={t('editor.thresholdHint')}>
                    {(fid) => <input id={fid} type="number" step="0.05" min={0} max={1} className="num" value={form.threshold} onChange={(e) => update('threshold', e.target.value)} data-testid="agent-field-threshold" />}
                  </Field>
                  <Field label={t('editor.prefixPaddingMs')}>
                    {(fid) => <input id={fid} type="number" step={50} min={0} max={5000} className="num" value={form.prefixPaddingMs} onChange={(e) => update('prefixPaddingMs', e.target.value)} data-testid="agent-field-prefix-padding-ms" />}
                  </Field>
                  <Field label={t('editor.silenceDurationMs')}>
                    {(fid) => <input id={fid} type="number" step={50} min={0} max={10000} className="num" value={form.silenceDurationMs} onChange={(e) => update('silenceDurationMs', e.target.value)} data-testid="agent-field-silence-duration-ms" />}
                  </Field>
                  <Field label={t('editor.idleTimeoutMs')} hint={t('editor.idleTimeoutHint')}>
                    {(fid) => <input id={fid} type="number" step={1000} min={5000} max={30000} className="num" value={form.idleTimeoutMs} onChange={(e) => update('idleTimeoutMs', e.target.value)} data-testid="agent-field-idle-timeout-ms" />}
                  </Field>
                </>
              ) : null}
              {form.turnType === 'semantic_vad' ? (
                <Field label={t('editor.eagerness')}>
                  {(fid) => (
                    <select id={fid} value={form.eagerness} onChange={(e) => update('eagerness', e.target.value as Eagerness)} data-testid="agent-field-eagerness">
                      {(['auto', 'low', 'medium', 'high'] as const).map((level) => (
                        <option key={level} value={level}>
                          {t(`editor.eagerness.${level}`)}
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
              ) : null}
              <Field label={t('editor.dtmfDebounceMs')} problems={fieldProblems('dtmfDebounceMs')} hint={t('editor.dtmfDebounceHint')}>
                {(fid) => <input id={fid} type="number" step={100} min={0} max={10000} className="num" placeholder="1200" value={form.dtmfDebounceMs} onChange={(e) => update('dtmfDebounceMs', e.target.value)} data-testid="agent-field-dtmf-debounce-ms" />}
              </Field>
            </div>
            {form.turnType !== 'manual' ? (
              <div className="checks">
                <label className="check">
                  <input type="checkbox" checked={form.createResponse} onChange={(e) => update('createResponse', e.target.checked)} data-testid="agent-field-create-response" />
                  {t('editor.createResponse')}
                </label>
                <label className="check">
                  <input type="checkbox" checked={form.interruptResponse} onChange={(e) => update('interruptResponse', e.target.checked)} data-testid="agent-field-interrupt-response" />
                  {t('editor.interruptResponse')}
                </label>
              </div>
            ) : (
              <p className="field-hint">{t('editor.manualHint')}</p>
            )}
          </fieldset>

          <fieldset className="card form-section">
            <legend>{t('editor.section.tools')}</legend>
            <Field label={t('editor.tools')} problems={fieldProblems('tools')} hint={t('editor.toolsHint')} wide>
              {(fid, described) => (
                <textarea id={fid} rows={Math.min(24, Math.max(6, form.toolsJson.split('\n').length + 1))} className="mono code-input" spellCheck={false} value={form.toolsJson} onChange={(e) => update('toolsJson', e.target.value)} data-testid="agent-field-tools" aria-describedby={described} aria-invalid={described ? true : undefined} />
              )}
            </Field>
            <div className="button-row">
              <span className="muted small">{t('editor.addTool')}</span>
              {(['hang_up', 'send_dtmf', 'transfer', 'http'] as const).map((kind) => (
                <button key={kind} type="button" className="button button-small" disabled={!built.toolsParsed} onClick={() => addTool(kind)} data-testid={`agent-add-tool-${kind}`}>
                  + {kind}
                </button>
              ))}
            </div>
          </fieldset>

          <div className="form-actions">
            <button type="submit" className="button button-primary" disabled={saving} data-testid="agent-save">
              {saving ? t('editor.saving') : isNew ? t('editor.create') : t('editor.save')}
            </button>
            {dirty && !isNew ? (
              <button type="button" className="button button-ghost" onClick={() => { setForm(initialForm); setServerProblems([]); setShowProblems(false); }} data-testid="agent-revert">
                {t('editor.revert')}
              </button>
            ) : null}
            <span className="spacer" />
            {!isNew ? (
              <button type="button" className="button button-danger" onClick={() => void remove()} disabled={deleting} data-testid="agent-delete">
                {t('editor.delete')}
              </button>
            ) : null}
          </div>
        </div>

        <aside className="editor-side">
          <PreviewPanel definition={built.definition} usedVariables={usedVariables} defaults={form.variables} builtins={builtins} samples={samples} setSamples={setSamples} />
          {loaded && loaded.versions.length > 0 ? (
            <section className="card">
              <h2>{t('editor.versions')}</h2>
              <ol className="versions" data-testid="agent-versions">
                {[...loaded.versions]
                  .sort((a, b) => b.version - a.version)
                  .map((v) => (
                    <li key={v.version} className={v.version === loaded.agent.version ? 'current' : undefined}>
                      <span className="num">v{v.version}</span> <span className="muted small">{fmt.dateTime(v.createdAt)}</span>{' '}
                      <span className="pill">{t(`agents.source.${v.source}`)}</span>
                    </li>
                  ))}
              </ol>
            </section>
          ) : null}
        </aside>
      </form>
    </div>
  );
}

function PreviewPanel({
  definition,
  usedVariables,
  defaults,
  builtins,
  samples,
  setSamples,
}: {
  definition: AgentInput;
  usedVariables: string[];
  defaults: Array<{ name: string; value: string }>;
  builtins: Record<string, string>;
  samples: Record<string, string>;
  setSamples: (next: Record<string, string>) => void;
}) {
  const { t } = useI18n();
  const [preview, setPreview] = useState<PreviewAgentResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const request = useRef(0);
  const payload = JSON.stringify({
    // Only the templates and variables matter here: fields that cannot affect them are neutralised so a
    // half-filled form (no id yet, a bad phone number, unfinished tools) still previews.
    definition: { ...definition, id: 'preview', name: definition.name || 'preview', phoneNumbers: [], tools: [] },
    variables: Object.fromEntries(Object.entries(samples).filter(([, v]) => v !== '')),
  });

  const run = useCallback(async (body: string) => {
    const mine = ++request.current;
    setBusy(true);
    try {
      const result = await apiRequest<PreviewAgentResponse>('/api/agents/preview', { method: 'POST', body: JSON.parse(body) as unknown });
      if (mine !== request.current) return;
      setPreview(result);
      setError(null);
    } catch (err) {
      if (mine !== request.current) return;
      setError(err);
    } finally {
      if (mine === request.current) setBusy(false);
    }
  }, []);

  useEffect(() => {
    const timer = setTimeout(() => void run(payload), PREVIEW_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [payload, run]);

  const defaultOf = (name: string) => defaults.find((d) => d.name.trim() === name)?.value ?? builtins[name];
  const missing = new Set(preview?.missing ?? []);
  const errorInfo = error ? describeError(error, t) : null;

  return (
    <section className="card preview" data-testid="agent-preview" aria-busy={busy}>
      <div className="section-head">
        <h2>{t('preview.title')}</h2>
        <button type="button" className="button button-small" onClick={() => void run(payload)} data-testid="agent-preview-refresh">
          {t('preview.refresh')}
        </button>
      </div>
      <p className="muted small">{t('preview.intro')}</p>
      {usedVariables.length > 0 ? (
        <div className="preview-vars">
          {usedVariables.map((name) => (
            <label key={name} className={`field field-compact${missing.has(name) ? ' invalid' : ''}`}>
              <span className="field-label mono">{`{{${name}}}`}</span>
              <input value={samples[name] ?? ''} placeholder={defaultOf(name) ?? t('preview.noValue')} onChange={(e) => setSamples({ ...samples, [name]: e.target.value })} data-testid={`agent-preview-var-${name}`} />
            </label>
          ))}
        </div>
      ) : (
        <p className="muted small">{t('preview.noVariables')}</p>
      )}
      {errorInfo ? (
        <div className="alert alert-error" role="alert" data-testid="agent-preview-error">
          <div>
            <strong>{errorInfo.headline}</strong>
            {errorInfo.detail ? <div className="alert-detail">{errorInfo.detail}</div> : null}
            {error instanceof ApiRequestError && error.problems.length > 0 ? (
              <ul className="field-problems">
                {error.problems.map((p, i) => (
                  <li key={i}>{p}</li>
                ))}
              </ul>
            ) : null}
          </div>
        </div>
      ) : null}
      {preview ? (
        <>
          {preview.missing.length > 0 ? (
            <div className="alert alert-warn" data-testid="agent-preview-missing">
              <div>
                <strong>{t('preview.missing')}</strong> <span className="mono">{preview.missing.map((m) => `{{${m}}}`).join(', ')}</span>
                <div className="alert-detail">{t('preview.missingHint')}</div>
              </div>
            </div>
          ) : (
            <p className="ok-text small" data-testid="agent-preview-complete">
              {t('preview.complete')}
            </p>
          )}
          <div className="label">{t('editor.greeting')}</div>
          <pre className={`preview-text${preview.greeting === null ? ' muted' : ''}`} data-testid="agent-preview-greeting">
            {preview.greeting ?? (definition.greeting ? t('preview.unfilled') : t('preview.noGreeting'))}
          </pre>
          <div className="label">{t('editor.instructions')}</div>
          <pre className={`preview-text${preview.instructions === null ? ' muted' : ''}`} data-testid="agent-preview-instructions">
            {preview.instructions ?? t('preview.unfilled')}
          </pre>
        </>
      ) : null}
    </section>
  );
}
