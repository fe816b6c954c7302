// One call: summary, recording, transcript, latency waterfall, tool calls, usage and cost, events.
// While the call is active the transcript, state, tools and events follow WS /api/live. An outbound call
// being dialed has no live feed yet: its record is fetched again until it is answered or ends.
import { useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { ApiRequestError } from '../api/api-client.js';
import type { CallDetail, CampaignRecord, TokenUsage } from '../api/types.js';
import { eventRowsFromDetail, eventRowsFromLive, timelineFromDetail, toolRows } from '../calls/stored-timeline.js';
import type { EventRow, ToolCallRow } from '../calls/stored-timeline.js';
import { AgentStateBadge } from '../components/agent-state-badge.js';
import { AnsweredBy, CallOutcome, callSidOf } from '../components/call-outcome.js';
import { JsonBlock } from '../components/json-block.js';
import { LatencyWaterfall } from '../components/latency-waterfall.js';
import { CallParties, callElapsedMs } from '../components/live-call-view.js';
import { EmptyState, ErrorMessage, Loading } from '../components/status.js';
import { Transcript } from '../components/transcript.js';
import { useApi } from '../components/use-api.js';
import { useNow } from '../components/use-now.js';
import { usePoll } from '../components/use-poll.js';
import { useI18n } from '../i18n/i18n.js';
import type { MessageKey } from '../i18n/i18n.js';
import { turnsOf } from '../live/call-state.js';
import { useLiveCall } from '../live/live-context.js';
import { Link } from '../router.js';

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

function Fact({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div className="fact" data-testid={testId}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** How often a call that is dialing (or active without live events here) is fetched again. */
const DIALING_POLL_MS = 1500;

const USAGE_FIELDS: ReadonlyArray<{ key: keyof TokenUsage; label: MessageKey }> = [
  { key: 'inputTokens', label: 'usage.inputTokens' },
  { key: 'outputTokens', label: 'usage.outputTokens' },
  { key: 'inputAudioTokens', label: 'usage.inputAudioTokens' },
  { key: 'outputAudioTokens', label: 'usage.outputAudioTokens' },
  { key: 'inputTextTokens', label: 'usage.inputTextTokens' },
  { key: 'outputTextTokens', label: 'usage.outputTextTokens' },
  { key: 'cachedTokens', label: 'usage.cachedTokens' },
];

function UsageTable({ usage, costUsd, live }: { usage: TokenUsage | null; costUsd: number | null; live: boolean }) {
  const { t, fmt } = useI18n();
  return (
    <div className="usage">
      <div className="usage-cost" data-testid="call-cost">
        <span className="label">{t('usage.cost')}</span>
        <span className="big num">{live && costUsd === null ? t('usage.costPending') : fmt.usd(costUsd)}</span>
        {costUsd === null && !live ? <span className="muted small">{t('usage.costUnknown')}</span> : null}
      </div>
      {usage ? (
        <table className="table table-compact" data-testid="call-usage">
          <tbody>
            {USAGE_FIELDS.map((field) => (
              <tr key={field.key}>
                <th scope="row">{t(field.label)}</th>
                <td className="right num">{fmt.integer(usage[field.key])}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">{t('usage.none')}</p>
      )}
    </div>
  );
}

function ToolTable({ rows }: { rows: ToolCallRow[] }) {
  const { t, fmt } = useI18n();
  if (rows.length === 0) return <p className="muted">{t('detail.noTools')}</p>;
  return (
    <div className="table-wrap">
      <table className="table" data-testid="tool-calls-table">
        <thead>
          <tr>
            <th>{t('detail.tool.at')}</th>
            <th>{t('detail.tool.name')}</th>
            <th>{t('tool.arguments')}</th>
            <th>{t('tool.result')}</th>
            <th className="right">{t('detail.tool.duration')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.toolCallId} data-testid="tool-call-row" data-tool-name={row.name}>
              <td className="num">{fmt.clock(row.calledAtMs)}</td>
              <td>
                <span className="mono">{row.name}</span>{' '}
                <span className={`pill ${row.ok === false ? 'pill-failed' : row.ok ? 'pill-ok' : ''}`}>
                  {row.ok === null ? t('tool.noResult') : row.ok ? t('tool.ok') : t('tool.failed')}
                </span>
              </td>
              <td>
                <JsonBlock value={row.arguments} />
              </td>
              <td>
                <JsonBlock value={row.output} />
              </td>
              <td className="right num">{fmt.ms(row.durationMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function EventsTable({ rows }: { rows: EventRow[] }) {
  const { t, fmt } = useI18n();
  const [filter, setFilter] = useState('');
  const types = useMemo(() => [...new Set(rows.map((r) => r.type))].sort(), [rows]);
  const shown = filter ? rows.filter((r) => r.type === filter) : rows;
  if (rows.length === 0) return <p className="muted">{t('detail.noEvents')}</p>;
  return (
    <>
      <label className="field field-inline">
        <span className="field-label">{t('detail.events.type')}</span>
        <select value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="events-filter">
          <option value="">{t('calls.any')}</option>
          {types.map((type) => (
            <option key={type} value={type}>
              {type}
            </option>
          ))}
        </select>
      </label>
      <div className="table-wrap events-wrap">
        <table className="table table-compact" data-testid="events-table">
          <thead>
            <tr>
              <th className="right">#</th>
              <th>{t('detail.events.at')}</th>
              <th>{t('detail.events.type')}</th>
              <th>{t('detail.events.data')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => (
              <tr key={row.key} data-testid="event-row" data-type={row.type}>
                <td className="right num muted">{row.seq}</td>
                <td className="num" title={fmt.dateTime(row.at)}>
                  {fmt.clock(row.atMs)}.{String(Math.floor(row.atMs % 1000)).padStart(3, '0')}
                </td>
                <td className="mono">{row.type}</td>
                <td className="event-data mono">{Object.keys(row.data).length ? JSON.stringify(row.data) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** The campaign that placed the call, by name once known. */
function CampaignLink({ id }: { id: string }) {
  const campaign = useApi<CampaignRecord>(`/api/campaigns/${encodeURIComponent(id)}`);
  return (
    <Link to={`/campaigns/${encodeURIComponent(id)}`} data-testid="call-campaign-link">
      {campaign.data?.name ?? id}
    </Link>
  );
}

export function CallDetailPage({ id }: { id: string }) {
  const { t, fmt } = useI18n();
  const detail = useApi<CallDetail>(`/api/calls/${encodeURIComponent(id)}`);
  const live = useLiveCall(id);
  const data = detail.data;
  const isActive = data?.call.status === 'active' || (live !== null && live.ended === null);
  const following = live !== null && (data === null || data.call.status === 'active' || data.call.status === 'dialing');
  const now = useNow(1000, isActive);

  // Dialing: nothing arrives over the live feed until Twilio opens the media stream, so ask for the record
  // again until it is active (then the live feed takes over) or ended (busy, no answer, failed …).
  const stored = data?.call.status;
  usePoll(stored === 'dialing' || (stored === 'active' && live === null), DIALING_POLL_MS, detail.refresh, detail.data ?? detail.error);

  // When the live call ends, fetch the final record (duration, cost, usage, recording).
  // The record is finalized just after call.ended, so ask again (a few times) until it says so.
  const liveEnded = live?.ended !== null && live?.ended !== undefined;
  const storedActive = data?.call.status === 'active' || data?.call.status === 'dialing';
  const { reload } = detail;
  const [finalizeTries, setFinalizeTries] = useState(0);
  useEffect(() => {
    if (!liveEnded || !storedActive || finalizeTries >= 6) return;
    const timer = setTimeout(() => {
      setFinalizeTries((n) => n + 1);
      reload();
    }, 400 * (finalizeTries + 1));
    return () => clearTimeout(timer);
  }, [liveEnded, storedActive, finalizeTries, reload, data]);

  const storedItems = useMemo(() => (data ? timelineFromDetail(data) : []), [data]);
  const items = following && live ? live.items : storedItems;
  const turns = useMemo(() => turnsOf(items), [items]);
  const tools = useMemo(() => toolRows(items), [items]);
  const events = useMemo(() => (following && live ? eventRowsFromLive(live) : data ? eventRowsFromDetail(data) : []), [following, live, data]);

  if (detail.error && !data) {
    if (detail.error instanceof ApiRequestError && detail.error.status === 404) {
      return (
        <div className="page">
          <EmptyState testId="call-not-found" title={t('detail.notFound')}>
            <Link to="/calls">{t('detail.back')}</Link>
          </EmptyState>
        </div>
      );
    }
    return (
      <div className="page">
        <ErrorMessage error={detail.error} onRetry={detail.reload} />
      </div>
    );
  }
  if (!data) return <Loading />;

  const call = data.call;
  const callSid = callSidOf(call);
  const dialing = call.status === 'dialing' && !(following && live);
  const durationMs = call.durationMs ?? (live ? callElapsedMs(live, now) : null);
  const totalMs = durationMs ?? Math.max(0, ...turns.map((turn) => turn.endedAtMs));
  const usage = following && live ? live.usage : call.usage;

  return (
    <div className="page page-wide call-detail" data-testid="call-detail" data-call-id={call.id} data-call-sid={callSid ?? ''} data-status={call.status}>
      <nav className="breadcrumbs">
        <Link to="/calls">{t('nav.calls')}</Link> <span aria-hidden="true">/</span> <span className="mono">{callSid ?? call.id}</span>
      </nav>
      <div className="page-head">
        <h1>
          <CallParties from={call.from} to={call.to} />
        </h1>
        <div className="head-badges">
          {following && live ? <AgentStateBadge state={live.agentState} /> : null}
          <CallOutcome call={following && live?.ended === null ? { status: 'active', endReason: null } : call} />
        </div>
      </div>
      {detail.error ? <ErrorMessage error={detail.error} onRetry={detail.reload} /> : null}
      {dialing ? (
        <div className="alert alert-warn" role="status" data-testid="call-dialing">
          <div>
            <strong>{t('detail.dialing', { to: call.to ?? t('call.unknownNumber') })}</strong>
            <div className="alert-detail">{t('detail.dialingHint')}</div>
          </div>
          <span className="spinner" aria-hidden="true" />
        </div>
      ) : null}
      {call.error ? (
        <div className="alert alert-error" role="alert" data-testid="call-dial-error">
          <div>
            <strong>{t('detail.dialError')}</strong>
            <div className="alert-detail">{call.error}</div>
          </div>
        </div>
      ) : null}

      <section className="card">
        <dl className="facts">
          {call.dialedAt ? (
            <Fact label={t('detail.dialed')} testId="call-dialed-at">
              {fmt.dateTime(call.dialedAt)}
            </Fact>
          ) : null}
          {call.status !== 'dialing' || !call.dialedAt ? <Fact label={t('detail.started')}>{fmt.dateTime(call.startedAt)}</Fact> : null}
          <Fact label={t('detail.duration')} testId="call-duration">
            <span className="num">{durationMs === null ? '—' : isActive ? fmt.clock(durationMs) : fmt.duration(durationMs)}</span>
          </Fact>
          <Fact label={t('detail.agent')}>
            <Link to={`/agents/${encodeURIComponent(call.agentId)}`}>{call.agentId}</Link>
            {call.agentVersion !== null ? <span className="muted"> {t('detail.version', { version: call.agentVersion })}</span> : null}
          </Fact>
          <Fact label={t('detail.direction')}>{t(`direction.${call.direction}`)}</Fact>
          <Fact label={t('detail.model')}>
            <span className="mono">
              {call.backend} · {call.model} · {call.apiShape}
            </span>
          </Fact>
          <Fact label={t('detail.turns')}>
            <span className="num">{fmt.integer(following ? turns.length : call.turnCount)}</span>
          </Fact>
          <Fact label={t('detail.callSid')}>
            <span className="mono small">{callSid ?? '—'}</span>
          </Fact>
          {call.twilioStatus ? (
            <Fact label={t('detail.twilioStatus')} testId="call-twilio-status">
              <span className="mono">{call.twilioStatus}</span>
            </Fact>
          ) : null}
          {call.answeredBy ? (
            <Fact label={t('detail.answeredBy')} testId="call-answered-by">
              <AnsweredBy value={call.answeredBy} />
            </Fact>
          ) : null}
          {call.campaignId ? (
            <Fact label={t('detail.campaign')} testId="call-campaign">
              <CampaignLink id={call.campaignId} />
              {call.attempt !== null ? (
                <span className="muted" data-testid="call-attempt" data-attempt={call.attempt}>
                  {' '}
                  {t('detail.attempt', { attempt: call.attempt })}
                </span>
              ) : null}
            </Fact>
          ) : null}
          <Fact label={t('detail.process')}>
            <span className="mono small">{call.processId}</span>
          </Fact>
        </dl>
        {call.hasRecording ? (
          <div className="recording">
            <span className="label">{t('detail.recording')}</span>
            <audio controls preload="none" src={`/api/calls/${encodeURIComponent(call.id)}/recording`} data-testid="call-recording">
              {t('detail.noAudioSupport')}
            </audio>
          </div>
        ) : null}
        {Object.keys(call.variables).length > 0 ? (
          <details className="variables">
            <summary>{t('detail.variables', { count: Object.keys(call.variables).length })}</summary>
            <dl className="facts facts-compact" data-testid="call-variables">
              {Object.entries(call.variables).map(([name, value]) => (
                <Fact key={name} label={name}>
                  {value}
                </Fact>
              ))}
            </dl>
          </details>
        ) : null}
      </section>

      <div className="detail-grid">
        <Section title={t('detail.transcript')} testId="call-transcript" aside={following ? <span className="pill pill-live">{t('detail.followingLive')}</span> : null}>
          <div className="scroll-panel transcript-panel">
            <Transcript items={items} live={following && live?.ended === null} emptyText={isActive || call.status === 'dialing' ? t('transcript.waiting') : t('transcript.empty')} />
          </div>
        </Section>
        <div className="detail-side">
          <Section title={t('detail.usage')} testId="call-usage-section">
            <UsageTable usage={usage} costUsd={call.costUsd} live={isActive || call.status === 'dialing'} />
          </Section>
        </div>
      </div>

      <Section title={t('detail.latency')} testId="call-latency">
        <LatencyWaterfall turns={turns} totalMs={totalMs} />
      </Section>

      <Section title={t('detail.tools')} testId="call-tools">
        <ToolTable rows={tools} />
      </Section>

      <Section title={t('detail.events')} testId="call-events">
        <EventsTable rows={events} />
      </Section>
    </div>
  );
}
