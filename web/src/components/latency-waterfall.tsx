// Per-turn timing on the call's timeline: each turn a bar from startedAtMs to endedAtMs, and for agent
// replies to speech the latency (caller stopped → first agent audio) as a highlighted segment before it.
import { useLayoutEffect, useRef, useState } from 'react';
import type { RefObject } from 'react';
import { useI18n } from '../i18n/i18n.js';
import type { TurnItem } from '../live/call-state.js';

const LABEL_WIDTH = 132;
const ROW_HEIGHT = 28;
const BAR_HEIGHT = 14;
const AXIS_HEIGHT = 26;
const RIGHT_PAD = 16;
const MIN_WIDTH = 520;
const NICE_STEPS_MS = [100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000];

export function tickStepMs(spanMs: number, maxTicks: number): number {
  for (const step of NICE_STEPS_MS) if (spanMs / step <= maxTicks) return step;
  return NICE_STEPS_MS[NICE_STEPS_MS.length - 1] as number;
}

export function latencyStats(turns: readonly TurnItem[]): { count: number; medianMs: number; maxMs: number; meanMs: number } | null {
  const values = turns.flatMap((t) => (t.kind === 'assistant' && t.latencyMs !== null ? [t.latencyMs] : [])).sort((a, b) => a - b);
  if (values.length === 0) return null;
  const mid = Math.floor(values.length / 2);
  const medianMs = values.length % 2 ? (values[mid] as number) : ((values[mid - 1] as number) + (values[mid] as number)) / 2;
  return { count: values.length, medianMs, maxMs: values[values.length - 1] as number, meanMs: values.reduce((a, b) => a + b, 0) / values.length };
}

function useWidth<T extends HTMLElement>(): [RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(MIN_WIDTH);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () => setWidth(Math.max(MIN_WIDTH, Math.floor(element.clientWidth)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

export function LatencyWaterfall({ turns, totalMs }: { turns: readonly TurnItem[]; totalMs: number }) {
  const { t, fmt } = useI18n();
  const [ref, width] = useWidth<HTMLDivElement>();
  const stats = latencyStats(turns);
  if (turns.length === 0) {
    return (
      <div className="waterfall" ref={ref}>
        <p className="muted" data-testid="latency-waterfall-empty">
          {t('waterfall.empty')}
        </p>
      </div>
    );
  }
  const earliest = Math.min(0, ...turns.map((turn) => (turn.kind === 'assistant' && turn.latencyMs !== null ? turn.startedAtMs - turn.latencyMs : turn.startedAtMs)));
  const latest = Math.max(totalMs, ...turns.map((turn) => turn.endedAtMs), 1);
  const span = latest - earliest;
  const plotWidth = width - LABEL_WIDTH - RIGHT_PAD;
  const x = (ms: number) => LABEL_WIDTH + ((ms - earliest) / span) * plotWidth;
  const height = AXIS_HEIGHT + turns.length * ROW_HEIGHT + 8;
  const step = tickStepMs(span, Math.max(2, Math.floor(plotWidth / 90)));
  const ticks: number[] = [];
  for (let ms = Math.ceil(earliest / step) * step; ms <= latest; ms += step) ticks.push(ms);
  const tickLabel = (ms: number) => (step < 1000 ? fmt.ms(ms) : step < 60_000 ? fmt.seconds(ms) : fmt.duration(ms));

  return (
    <div className="waterfall" ref={ref}>
      {stats ? (
        <p className="waterfall-stats" data-testid="latency-stats">
          {t('waterfall.stats', { count: stats.count, median: fmt.ms(stats.medianMs), mean: fmt.ms(stats.meanMs), max: fmt.ms(stats.maxMs) })}
        </p>
      ) : null}
      <svg
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={t('waterfall.label', { count: turns.length })}
        data-testid="latency-waterfall"
        className="waterfall-svg"
      >
        <g className="wf-axis">
          {ticks.map((ms) => (
            <g key={ms}>
              <line x1={x(ms)} x2={x(ms)} y1={AXIS_HEIGHT - 6} y2={height - 4} className="wf-grid" />
              <text x={x(ms)} y={AXIS_HEIGHT - 10} textAnchor="middle" className="wf-tick num">
                {tickLabel(ms)}
              </text>
            </g>
          ))}
        </g>
        {turns.map((turn, index) => {
          const y = AXIS_HEIGHT + index * ROW_HEIGHT;
          const barY = y + (ROW_HEIGHT - BAR_HEIGHT) / 2;
          const x1 = x(turn.startedAtMs);
          const x2 = Math.max(x1 + 2, x(turn.endedAtMs));
          const latencyMs = turn.kind === 'assistant' ? turn.latencyMs : null;
          const lx = latencyMs !== null ? x(turn.startedAtMs - latencyMs) : null;
          const role = turn.kind === 'user' ? t('transcript.caller') : t('transcript.agent');
          const durationMs = turn.endedAtMs - turn.startedAtMs;
          const labelText = `${latencyMs !== null ? `${fmt.ms(latencyMs)} · ` : ''}${fmt.ms(durationMs)}`;
          const labelRight = x2 + 6 + labelText.length * 6.5 < width;
          const heardX =
            turn.kind === 'assistant' && turn.interrupted && turn.heardMs !== null && turn.audioMs
              ? x1 + (x2 - x1) * Math.min(1, turn.heardMs / turn.audioMs)
              : null;
          const text = turn.kind === 'assistant' ? (turn.interrupted ? turn.heardText : turn.text) : (turn.text ?? '');
          return (
            <g key={turn.key} className={`wf-row wf-${turn.kind}`} data-testid="waterfall-row" data-role={turn.kind} data-latency-ms={latencyMs ?? undefined}>
              <title>
                {`${role} ${fmt.clock(turn.startedAtMs)}–${fmt.clock(turn.endedAtMs)} (${fmt.ms(durationMs)})${latencyMs !== null ? `, ${t('waterfall.latency')} ${fmt.ms(latencyMs)}` : ''}\n${text}`}
              </title>
              {index % 2 === 0 ? <rect x={0} y={y} width={width} height={ROW_HEIGHT} className="wf-stripe" /> : null}
              <text x={8} y={y + ROW_HEIGHT / 2 + 4} className="wf-label">
                <tspan className="num">{`#${index + 1} `}</tspan>
                {role}
                {turn.kind === 'assistant' && turn.greeting ? ` · ${t('transcript.greeting')}` : ''}
              </text>
              {lx !== null ? <rect x={lx} y={barY + 2} width={Math.max(1, x1 - lx)} height={BAR_HEIGHT - 4} rx={2} className="wf-latency" /> : null}
              <rect x={x1} y={barY} width={x2 - x1} height={BAR_HEIGHT} rx={3} className="wf-bar" />
              {heardX !== null ? <rect x={heardX} y={barY} width={Math.max(0, x2 - heardX)} height={BAR_HEIGHT} rx={3} className="wf-unheard" /> : null}
              <text x={labelRight ? x2 + 6 : (lx ?? x1) - 6} y={y + ROW_HEIGHT / 2 + 4} textAnchor={labelRight ? 'start' : 'end'} className="wf-value num">
                {latencyMs !== null ? <tspan className="wf-latency-text">{fmt.ms(latencyMs)}</tspan> : null}
                {latencyMs !== null ? ' · ' : ''}
                {fmt.ms(durationMs)}
              </text>
            </g>
          );
        })}
      </svg>
      <p className="waterfall-legend small muted">
        <span className="legend-swatch wf-swatch-user" /> {t('transcript.caller')} <span className="legend-swatch wf-swatch-assistant" /> {t('transcript.agent')}{' '}
        <span className="legend-swatch wf-swatch-latency" /> {t('waterfall.latencyLegend')} <span className="legend-swatch wf-swatch-unheard" /> {t('waterfall.unheardLegend')}
      </p>
    </div>
  );
}
