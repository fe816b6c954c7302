// Pretty-printed JSON (strings holding JSON are parsed first), folded when long.
import { useState } from 'react';
import { useI18n } from '../i18n/i18n.js';

const FOLD_CHARS = 600;

export function prettyJson(value: unknown): string {
  if (typeof value === 'string') {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  if (value === undefined) return '';
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

export function JsonBlock({ value, className }: { value: unknown; className?: string }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const text = prettyJson(value);
  const long = text.length > FOLD_CHARS;
  return (
    <div className={`json-block${className ? ` ${className}` : ''}`}>
      <pre>{long && !open ? `${text.slice(0, FOLD_CHARS)}…` : text || '—'}</pre>
      {long ? (
        <button type="button" className="link-button" onClick={() => setOpen(!open)}>
          {open ? t('common.showLess') : t('common.showMore')}
        </button>
      ) : null}
    </div>
  );
}
