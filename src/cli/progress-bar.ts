// One line of campaign progress for a terminal: a bar of the contacts done, the share and count, the calls in
// flight and the outcomes so far. Pure: `koe campaign status --watch` decides where and how often to print it.
import type { ContactOutcome } from '../store/records.js';

/** Outcomes in the order they are listed (the most telling first). */
export const OUTCOME_ORDER: readonly ContactOutcome[] = ['answered', 'voicemail', 'busy', 'no-answer', 'failed', 'canceled'];

export interface ProgressInput {
  /** Contacts finished (any outcome). */
  done: number;
  /** Contacts being dialed or on a call now. */
  inFlight: number;
  total: number;
  /** Cells in the bar. */
  width: number;
  /** Done contacts by outcome; outcomes with 0 (or absent) are left out of the line. */
  outcomes: Partial<Record<ContactOutcome, number>>;
  /** `#` and `-` instead of block characters, for terminals that cannot show them. */
  ascii?: boolean;
}

/** `[██████░░░░] 60% 120/200 · 3 calling · answered 90 busy 12 no-answer 18` */
export function renderProgress(input: ProgressInput): string {
  const total = Math.max(0, Math.floor(input.total));
  const done = Math.min(Math.max(0, Math.floor(input.done)), total);
  const width = Math.max(1, Math.floor(input.width));
  const fraction = total === 0 ? 0 : done / total;
  // Floor both: the bar is full and the share 100% only when every contact is done.
  const filled = Math.floor(fraction * width);
  const percent = Math.floor(fraction * 100);
  const [full, empty] = input.ascii ? ['#', '-'] : ['█', '░'];
  const parts = [`[${full.repeat(filled)}${empty.repeat(width - filled)}] ${percent}% ${done}/${total}`];
  if (input.inFlight > 0) parts.push(`${input.inFlight} calling`);
  const outcomes = OUTCOME_ORDER.filter((o) => (input.outcomes[o] ?? 0) > 0).map((o) => `${o} ${input.outcomes[o] ?? 0}`);
  if (outcomes.length > 0) parts.push(outcomes.join(' '));
  return parts.join(' · ');
}

/** Whether the environment's locale says the terminal shows UTF-8 (block characters); Windows terminals do. */
export function terminalShowsUtf8(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): boolean {
  if (platform === 'win32') return true;
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  if (locale === '') return true;
  return /utf-?8/i.test(locale);
}
