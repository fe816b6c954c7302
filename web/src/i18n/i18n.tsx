// Every UI string goes through t(); dates, numbers and durations through Intl in the chosen language.
// The language comes from localStorage, else navigator.languages, else English.
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { en } from './en.js';
import type { MessageKey } from './en.js';
import { ja } from './ja.js';

export type Language = 'en' | 'ja';
export const LANGUAGES: ReadonlyArray<{ code: Language; label: string }> = [
  { code: 'en', label: 'English' },
  { code: 'ja', label: '日本語' },
];
const DICTIONARIES: Record<Language, Record<MessageKey, string>> = { en, ja };
const STORAGE_KEY = 'koe.language';

export type TranslationVars = Record<string, string | number>;
export type Translate = (key: MessageKey, vars?: TranslationVars) => string;

function isLanguage(value: unknown): value is Language {
  return value === 'en' || value === 'ja';
}

export function detectLanguage(): Language {
  try {
    const stored = window.localStorage.getItem(STORAGE_KEY);
    if (isLanguage(stored)) return stored;
  } catch {
    // Storage may be blocked; fall through to the browser's preference.
  }
  for (const tag of navigator.languages ?? [navigator.language]) {
    const primary = tag.toLowerCase().split('-')[0];
    if (isLanguage(primary)) return primary;
  }
  return 'en';
}

export function translate(language: Language, key: MessageKey, vars?: TranslationVars): string {
  const template = DICTIONARIES[language][key] ?? en[key];
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

interface DurationFormatLike {
  format(duration: Record<string, number>): string;
}
type DurationFormatConstructor = new (locale: string, options: { style: 'narrow' | 'short' | 'long' }) => DurationFormatLike;

export class Formatters {
  readonly #dateTime: Intl.DateTimeFormat;
  readonly #time: Intl.DateTimeFormat;
  readonly #integer: Intl.NumberFormat;
  readonly #decimal: Intl.NumberFormat;
  readonly #ms: Intl.NumberFormat;
  readonly #seconds: Intl.NumberFormat;
  readonly #usd: Intl.NumberFormat;
  readonly #duration: DurationFormatLike | null;
  readonly #units: Record<'hour' | 'minute' | 'second', Intl.NumberFormat>;
  readonly #list: Intl.ListFormat;
  readonly #and: Intl.ListFormat;
  readonly #weekday: Intl.DateTimeFormat;

  constructor(readonly language: Language) {
    this.#dateTime = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'medium' });
    this.#time = new Intl.DateTimeFormat(language, { timeStyle: 'medium' });
    this.#integer = new Intl.NumberFormat(language, { maximumFractionDigits: 0 });
    this.#decimal = new Intl.NumberFormat(language, { maximumFractionDigits: 2 });
    this.#ms = new Intl.NumberFormat(language, { style: 'unit', unit: 'millisecond', unitDisplay: 'narrow', maximumFractionDigits: 0 });
    this.#seconds = new Intl.NumberFormat(language, { style: 'unit', unit: 'second', unitDisplay: 'narrow', maximumFractionDigits: 1 });
    this.#usd = new Intl.NumberFormat(language, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4 });
    const DurationFormat = (Intl as unknown as { DurationFormat?: DurationFormatConstructor }).DurationFormat;
    this.#duration = DurationFormat ? new DurationFormat(language, { style: 'narrow' }) : null;
    const unit = (u: 'hour' | 'minute' | 'second') => new Intl.NumberFormat(language, { style: 'unit', unit: u, unitDisplay: 'narrow' });
    this.#units = { hour: unit('hour'), minute: unit('minute'), second: unit('second') };
    this.#list = new Intl.ListFormat(language, { style: 'narrow', type: 'unit' });
    this.#and = new Intl.ListFormat(language, { style: 'long', type: 'conjunction' });
    this.#weekday = new Intl.DateTimeFormat(language, { weekday: 'short', timeZone: 'UTC' });
  }

  dateTime(iso: string | null | undefined): string {
    if (!iso) return '—';
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : this.#dateTime.format(date);
  }

  time(iso: string | null | undefined): string {
    if (!iso) return '—';
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : this.#time.format(date);
  }

  integer(n: number | null | undefined): string {
    return n === null || n === undefined ? '—' : this.#integer.format(n);
  }

  decimal(n: number | null | undefined): string {
    return n === null || n === undefined ? '—' : this.#decimal.format(n);
  }

  ms(n: number | null | undefined): string {
    return n === null || n === undefined ? '—' : this.#ms.format(n);
  }

  /** Milliseconds shown as seconds (chart axes): 1.5 s. */
  seconds(ms: number | null | undefined): string {
    return ms === null || ms === undefined ? '—' : this.#seconds.format(ms / 1000);
  }

  usd(n: number | null | undefined): string {
    return n === null || n === undefined ? '—' : this.#usd.format(n);
  }

  /** 1 h 2 min 3 s style, whole seconds (ms below one second). */
  duration(ms: number | null | undefined): string {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
    if (ms < 1000) return this.ms(ms);
    const total = Math.round(ms / 1000);
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const seconds = total % 60;
    if (this.#duration) {
      const parts: Record<string, number> = {};
      if (hours) parts.hours = hours;
      if (hours || minutes) parts.minutes = minutes;
      parts.seconds = seconds;
      return this.#duration.format(parts);
    }
    const pieces: string[] = [];
    if (hours) pieces.push(this.#units.hour.format(hours));
    if (hours || minutes) pieces.push(this.#units.minute.format(minutes));
    pieces.push(this.#units.second.format(seconds));
    return this.#list.format(pieces);
  }

  /** "a, b and c" in the language. */
  list(items: readonly string[]): string {
    return this.#and.format(items);
  }

  /** A short weekday name for an ISO weekday (1 = Monday … 7 = Sunday). */
  weekday(isoDay: number): string {
    // 2024-01-01 was a Monday.
    return this.#weekday.format(new Date(Date.UTC(2024, 0, isoDay)));
  }

  /** A running clock, m:ss or h:mm:ss. */
  clock(ms: number): string {
    const total = Math.max(0, Math.floor(ms / 1000));
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const seconds = total % 60;
    const two = (n: number) => String(n).padStart(2, '0');
    return hours ? `${hours}:${two(minutes)}:${two(seconds)}` : `${minutes}:${two(seconds)}`;
  }
}

interface I18nValue {
  language: Language;
  setLanguage: (language: Language) => void;
  t: Translate;
  fmt: Formatters;
}

const I18nContext = createContext<I18nValue | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [language, setLanguageState] = useState<Language>(detectLanguage);
  const setLanguage = useCallback((next: Language) => {
    setLanguageState(next);
    try {
      window.localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Not remembered; still switched for this page.
    }
  }, []);
  useEffect(() => {
    document.documentElement.lang = language;
    document.title = translate(language, 'app.title');
  }, [language]);
  const value = useMemo<I18nValue>(
    () => ({ language, setLanguage, t: (key, vars) => translate(language, key, vars), fmt: new Formatters(language) }),
    [language, setLanguage],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18nValue {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n needs an <I18nProvider>');
  return value;
}

export type { MessageKey };
