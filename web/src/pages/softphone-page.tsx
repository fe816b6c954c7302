// Call an agent from the browser: the microphone stands in for the caller's phone, the page for Twilio.
import { useEffect, useMemo, useRef, useState } from 'react';
import { templateVariables } from '../agents/agent-form.js';
import type { AgentList } from '../api/types.js';
import { LiveCallView } from '../components/live-call-view.js';
import { EmptyState, ErrorMessage, Loading } from '../components/status.js';
import { useApi } from '../components/use-api.js';
import { useI18n } from '../i18n/i18n.js';
import type { MessageKey } from '../i18n/i18n.js';
import { useLiveCallBySid } from '../live/live-context.js';
import { Link } from '../router.js';
import { useServerInfo } from '../server-info.js';
import { initialSnapshot, SoftphoneCall } from '../softphone/softphone-call.js';
import type { SoftphoneSnapshot, SoftphoneStatus } from '../softphone/softphone-call.js';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];
const BUSY: ReadonlySet<SoftphoneStatus> = new Set(['microphone', 'dialing', 'connecting', 'in-call']);

const STATUS_KEYS: Record<SoftphoneStatus, MessageKey> = {
  idle: 'softphone.status.idle',
  microphone: 'softphone.status.microphone',
  dialing: 'softphone.status.dialing',
  connecting: 'softphone.status.connecting',
  'in-call': 'softphone.status.inCall',
  ended: 'softphone.status.ended',
  failed: 'softphone.status.failed',
};

function FailureMessage({ snapshot }: { snapshot: SoftphoneSnapshot }) {
  const { t } = useI18n();
  const failure = snapshot.failure;
  if (!failure) return null;
  if (failure.kind === 'api') return <ErrorMessage error={failure.error} testId="softphone-error" />;
  const text =
    failure.kind === 'mic'
      ? { headline: t(`softphone.mic.${failure.micKind}`), detail: failure.message }
      : { headline: t('softphone.socketClosed'), detail: `${failure.code}${failure.reason ? ` ${failure.reason}` : ''}` };
  return (
    <div className="alert alert-error" role="alert" data-testid="softphone-error" data-kind={failure.kind === 'mic' ? `mic-${failure.micKind}` : 'socket'}>
      <div>
        <strong>{text.headline}</strong>
        {failure.kind === 'mic' ? <div className="alert-detail">{t(`softphone.micHelp.${failure.micKind}`)}</div> : null}
        {text.detail ? <div className="alert-detail mono small">{text.detail}</div> : null}
      </div>
    </div>
  );
}

export function SoftphonePage() {
  const { t, fmt } = useI18n();
  const agents = useApi<AgentList>('/api/agents');
  const info = useServerInfo();
  const [agentId, setAgentId] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [snapshot, setSnapshot] = useState<SoftphoneSnapshot>(initialSnapshot);
  const callRef = useRef<SoftphoneCall | null>(null);
  const liveCall = useLiveCallBySid(snapshot.callSid);

  useEffect(() => {
    if (!agentId && agents.data) setAgentId(agents.data.defaultAgentId || agents.data.agents[0]?.id || '');
  }, [agents.data, agentId]);

  // Leaving the page hangs up.
  useEffect(() => () => callRef.current?.hangUp(), []);

  const agent = agents.data?.agents.find((a) => a.id === agentId) ?? null;
  const builtins = info.data?.builtinVariables ?? {};
  const variableNames = useMemo(() => {
    if (!agent) return [];
    const d = agent.definition;
    const used = [...templateVariables(d.instructions), ...templateVariables(d.greeting ?? '')];
    return [...new Set([...used, ...Object.keys(d.variables ?? {})])].filter((name) => !(name in builtins));
  }, [agent, builtins]);

  const busy = BUSY.has(snapshot.status);
  const inCall = snapshot.status === 'in-call';

  const call = () => {
    if (!agentId || busy) return;
    const softphone = new SoftphoneCall(setSnapshot);
    callRef.current = softphone;
    const variables = Object.fromEntries(Object.entries(values).filter(([name, v]) => v !== '' && variableNames.includes(name)));
    void softphone.start(agentId, variables);
  };
  const hangUp = () => callRef.current?.hangUp();

  if (agents.error && !agents.data) return <div className="page"><ErrorMessage error={agents.error} onRetry={agents.reload} /></div>;
  if (!agents.data) return <Loading />;
  if (agents.data.agents.length === 0)
    return (
      <div className="page">
        <EmptyState testId="softphone-no-agents" title={t('softphone.noAgents')}>
          <Link to="/agents/new">{t('agents.new')}</Link>
        </EmptyState>
      </div>
    );

  const p = snapshot.playout;
  return (
    <div className="page page-wide softphone-page" data-testid="softphone-page">
      <div className="page-head">
        <h1>{t('softphone.title')}</h1>
      </div>
      <p className="muted">{t('softphone.intro')}</p>
      <div className="split">
        <aside className="split-side">
          <section className="card phone">
            <label className="field">
              <span className="field-label">{t('softphone.agent')}</span>
              <select value={agentId} onChange={(e) => setAgentId(e.target.value)} disabled={busy} data-testid="softphone-agent">
                {agents.data.agents.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.definition.name} ({a.id})
                  </option>
                ))}
              </select>
            </label>
            {variableNames.length > 0 ? (
              <fieldset className="phone-vars" disabled={busy}>
                <legend className="field-label">{t('softphone.variables')}</legend>
                {variableNames.map((name) => (
                  <label key={name} className="field field-compact">
                    <span className="field-label mono">{name}</span>
                    <input
                      value={values[name] ?? ''}
                      placeholder={agent?.definition.variables?.[name] ?? t('preview.noValue')}
                      onChange={(e) => setValues({ ...values, [name]: e.target.value })}
                      data-testid={`softphone-var-${name}`}
                    />
                  </label>
                ))}
              </fieldset>
            ) : null}

            <div className={`phone-status status-${snapshot.status}`} data-testid="softphone-status" data-state={snapshot.status} role="status">
              <span className="state-dot" aria-hidden="true" />
              {t(STATUS_KEYS[snapshot.status])}
              {snapshot.status === 'ended' && snapshot.endedBy ? ` · ${t(snapshot.endedBy === 'me' ? 'softphone.endedByMe' : 'softphone.endedByAgent')}` : ''}
            </div>

            <div className="phone-buttons">
              {busy ? (
                <button type="button" className="button button-danger button-large" onClick={hangUp} data-testid="softphone-hangup">
                  {t('softphone.hangUp')}
                </button>
              ) : (
                <button type="button" className="button button-call button-large" onClick={call} disabled={!agentId} data-testid="softphone-call">
                  {t('softphone.call')}
                </button>
              )}
              <button
                type="button"
                className={`button${snapshot.muted ? ' button-warn' : ''}`}
                aria-pressed={snapshot.muted}
                disabled={!inCall}
                onClick={() => callRef.current?.setMuted(!snapshot.muted)}
                data-testid="softphone-mute"
              >
                {snapshot.muted ? t('softphone.unmute') : t('softphone.mute')}
              </button>
            </div>

            <div className="meter" aria-label={t('softphone.level')} role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(snapshot.level * 100)} data-testid="softphone-level">
              <div className="meter-fill" style={{ width: `${Math.round(snapshot.level * 100)}%` }} />
            </div>

            <FailureMessage snapshot={snapshot} />

            <div className="keypad" aria-label={t('softphone.keypad')}>
              {KEYS.map((key) => (
                <button key={key} type="button" className="button key" disabled={!inCall} onClick={() => callRef.current?.pressKey(key)} data-testid={`softphone-key-${key === '*' ? 'star' : key === '#' ? 'hash' : key}`}>
                  {key}
                </button>
              ))}
            </div>

            <dl
              className="phone-stats small muted"
              data-testid="softphone-stats"
              data-frames-sent={snapshot.framesSent}
              data-media-received={p.chunks}
              data-marks-received={p.marksReceived}
              data-marks-echoed={p.marksEchoed}
              data-clears={p.clears}
              data-violations={snapshot.protocolViolations}
            >
              <div>
                <dt>{t('softphone.stats.sent')}</dt>
                <dd className="num">{fmt.integer(snapshot.framesSent)}</dd>
              </div>
              <div>
                <dt>{t('softphone.stats.received')}</dt>
                <dd className="num">{fmt.integer(p.chunks)}</dd>
              </div>
              <div>
                <dt>{t('softphone.stats.marks')}</dt>
                <dd className="num">
                  {fmt.integer(p.marksEchoed)} / {fmt.integer(p.marksReceived)}
                </dd>
              </div>
              <div>
                <dt>{t('softphone.stats.clears')}</dt>
                <dd className="num">{fmt.integer(p.clears)}</dd>
              </div>
              {snapshot.callSid ? (
                <div>
                  <dt>{t('detail.callSid')}</dt>
                  <dd className="mono" data-testid="softphone-call-sid">
                    {snapshot.callSid}
                  </dd>
                </div>
              ) : null}
            </dl>
          </section>
        </aside>
        <div className="split-main" data-testid="softphone-transcript">
          {liveCall ? (
            <LiveCallView call={liveCall} />
          ) : (
            <EmptyState
              testId="softphone-transcript-empty"
              title={snapshot.callSid ? t('softphone.waitingForCall') : t('softphone.noCall')}
              hint={snapshot.callSid ? undefined : t('softphone.noCallHint')}
            />
          )}
        </div>
      </div>
    </div>
  );
}
