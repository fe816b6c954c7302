// A call's conversation as it happened: caller and agent bubbles, text still being spoken, what an
// interrupted agent turn said versus what the caller heard, barge-ins, tool calls and other moments inline.
import { useLayoutEffect, useMemo, useRef } from 'react';
import type { ReactNode } from 'react';
import { useI18n } from '../i18n/i18n.js';
import type { MessageKey } from '../i18n/i18n.js';
import { orderedTimeline } from '../live/call-state.js';
import type { TimelineItem } from '../live/call-state.js';
import { JsonBlock } from './json-block.js';

/** The heard prefix and the unheard rest of an interrupted turn (null rest when heardText is not a prefix). */
export function splitHeard(text: string, heardText: string): { heard: string; unheard: string | null } {
  if (text.startsWith(heardText)) return { heard: heardText, unheard: text.slice(heardText.length) };
  return { heard: heardText, unheard: null };
}

function Offset({ atMs }: { atMs: number }) {
  const { fmt } = useI18n();
  return <span className="turn-time num">{fmt.clock(atMs)}</span>;
}

function AssistantText({ item }: { item: Extract<TimelineItem, { kind: 'assistant' }> }) {
  const { t } = useI18n();
  if (!item.interrupted) return <span className="turn-text">{item.text}</span>;
  const { heard, unheard } = splitHeard(item.text, item.heardText);
  return (
    <>
      <span className="turn-text">
        <span className="heard" data-testid="turn-heard">
          {heard}
        </span>
        {unheard ? (
          <span className="unheard" data-testid="turn-unheard" title={t('transcript.unheardHint')}>
            {unheard}
          </span>
        ) : null}
      </span>
      {unheard === null && item.text !== item.heardText ? (
        <span className="turn-generated">
          <span className="label">{t('transcript.generated')}</span> <span className="unheard">{item.text}</span>
        </span>
      ) : null}
    </>
  );
}

function ToolCall({ item, live }: { item: Extract<TimelineItem, { kind: 'tool' }>; live: boolean }) {
  const { t, fmt } = useI18n();
  const status = item.result === null ? (live ? 'running' : 'unknown') : item.result.ok === false ? 'failed' : 'ok';
  const statusKey: Record<string, MessageKey> = { running: 'tool.running', unknown: 'tool.noResult', failed: 'tool.failed', ok: 'tool.ok' };
  return (
    <li className={`timeline-card tool-call tool-${status}`} data-testid="tool-call" data-tool-name={item.name} data-status={status}>
      <div className="card-head">
        <span className="tool-icon" aria-hidden="true">
          ƒ
        </span>
        <strong className="mono">{item.name}</strong>
        <span className={`pill pill-${status}`}>{t(statusKey[status] as MessageKey)}</span>
        {item.result?.durationMs !== null && item.result?.durationMs !== undefined ? <span className="num muted">{fmt.ms(item.result.durationMs)}</span> : null}
        <Offset atMs={item.atMs} />
      </div>
      <div className="tool-body">
        <div>
          <div className="label">{t('tool.arguments')}</div>
          <JsonBlock value={item.arguments} />
        </div>
        {item.result?.output !== null && item.result?.output !== undefined ? (
          <div>
            <div className="label">{t('tool.result')}</div>
            <JsonBlock value={item.result.output} />
          </div>
        ) : null}
      </div>
    </li>
  );
}

function Note({ testId, tone, children, atMs }: { testId: string; tone?: 'warn' | 'error'; children: ReactNode; atMs: number }) {
  return (
    <li className={`timeline-note${tone ? ` note-${tone}` : ''}`} data-testid={testId}>
      <span className="note-line" aria-hidden="true" />
      <span className="note-text">{children}</span>
      <Offset atMs={atMs} />
      <span className="note-line" aria-hidden="true" />
    </li>
  );
}

function Item({ item, live }: { item: TimelineItem; live: boolean }) {
  const { t, fmt } = useI18n();
  switch (item.kind) {
    case 'user':
      return (
        <li className="turn turn-user" data-testid="turn-user" data-item-id={item.itemId}>
          <div className="bubble">
            <div className="turn-head">
              <span className="speaker">{t('transcript.caller')}</span>
              {item.source === 'dtmf' ? <span className="pill">{t('transcript.keypad')}</span> : null}
              <Offset atMs={item.startedAtMs} />
            </div>
            {item.text === null ? <span className="turn-text muted">{t('transcript.untranscribed')}</span> : <span className="turn-text">{item.text}</span>}
          </div>
        </li>
      );
    case 'assistant':
      return (
        <li className="turn turn-assistant" data-testid="turn-assistant" data-item-id={item.itemId} data-interrupted={item.interrupted ? 'true' : 'false'}>
          <div className="bubble">
            <div className="turn-head">
              <span className="speaker">{t('transcript.agent')}</span>
              {item.greeting ? <span className="pill">{t('transcript.greeting')}</span> : null}
              {item.interrupted ? <span className="pill pill-warn">{t('transcript.interrupted')}</span> : null}
              {item.latencyMs !== null ? (
                <span className="pill pill-latency num" title={t('transcript.latencyHint')}>
                  {fmt.ms(item.latencyMs)}
                </span>
              ) : null}
              <Offset atMs={item.startedAtMs} />
            </div>
            <AssistantText item={item} />
          </div>
        </li>
      );
    case 'partial':
      return (
        <li className={`turn turn-${item.role} turn-partial${live ? ' is-live' : ''}`} data-testid="turn-partial" data-role={item.role} data-item-id={item.itemId}>
          <div className="bubble">
            <div className="turn-head">
              <span className="speaker">{item.role === 'user' ? t('transcript.caller') : t('transcript.agent')}</span>
              <span className="pill">{live ? t('transcript.speaking') : t('transcript.unfinished')}</span>
              <Offset atMs={item.atMs} />
            </div>
            <span className="turn-text">{item.text || '…'}</span>
            {live ? <span className="caret" aria-hidden="true" /> : null}
          </div>
        </li>
      );
    case 'barge_in':
      return (
        <Note testId="barge-in" tone="warn" atMs={item.atMs}>
          {t('transcript.bargeIn', { heard: fmt.ms(item.heardMs), sent: fmt.ms(item.sentMs) })}
        </Note>
      );
    case 'tool':
      return <ToolCall item={item} live={live} />;
    case 'dtmf':
      return (
        <Note testId={`dtmf-${item.direction}`} atMs={item.atMs}>
          {t(item.direction === 'received' ? 'transcript.dtmfReceived' : 'transcript.dtmfSent', { digits: item.digits })}
        </Note>
      );
    case 'error':
      return (
        <Note testId="call-error" tone="error" atMs={item.atMs}>
          {item.fatal ? t('transcript.fatalError') : t('transcript.error')}: {item.message}
          {item.code ? <span className="mono"> ({item.code})</span> : null}
        </Note>
      );
    case 'reconnected':
      return (
        <Note testId="model-reconnected" tone="warn" atMs={item.atMs}>
          {t('transcript.reconnected', { attempt: item.attempt })}
        </Note>
      );
    case 'ended':
      return (
        <Note testId="call-ended" atMs={item.atMs}>
          {t('transcript.ended')}
          {item.reason ? ` · ${t(`endReason.${item.reason}` as MessageKey)}` : ''}
          {item.durationMs !== null ? ` · ${fmt.duration(item.durationMs)}` : ''}
        </Note>
      );
  }
}

/** live: partials are being spoken now (cursor shown) and the view follows the newest line. */
export function Transcript({ items, live, emptyText }: { items: readonly TimelineItem[]; live: boolean; emptyText: string }) {
  const ordered = useMemo(() => orderedTimeline(items), [items]);
  const ref = useRef<HTMLOListElement>(null);
  const stick = useRef(true);

  useLayoutEffect(() => {
    const list = ref.current;
    const scroller = list?.closest('.scroll-panel');
    if (!live || !scroller || !stick.current) return;
    scroller.scrollTop = scroller.scrollHeight;
  }, [ordered, live]);

  const hasItems = ordered.length > 0;
  useLayoutEffect(() => {
    const scroller = ref.current?.closest('.scroll-panel');
    if (!scroller) return;
    const onScroll = () => {
      stick.current = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
    };
    scroller.addEventListener('scroll', onScroll, { passive: true });
    return () => scroller.removeEventListener('scroll', onScroll);
  }, [hasItems]);

  if (!hasItems) {
    return (
      <p className="muted transcript-empty" data-testid="transcript-empty">
        {emptyText}
      </p>
    );
  }
  return (
    <ol className="transcript" data-testid="transcript" aria-live={live ? 'polite' : 'off'} ref={ref}>
      {ordered.map((item) => (
        <Item key={item.key} item={item} live={live} />
      ))}
    </ol>
  );
}
