import { useState } from 'react';
import type { FormEvent } from 'react';
import { ApiRequestError } from '../api/api-client.js';
import { useAuth } from '../auth.js';
import { describeError } from '../components/status.js';
import { useI18n } from '../i18n/i18n.js';

export function LoginPage() {
  const { t } = useI18n();
  const { signIn } = useAuth();
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!password) {
      setError(t('login.empty'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn(password);
    } catch (err) {
      if (err instanceof ApiRequestError && err.status === 401) setError(t('login.wrong'));
      else if (err instanceof ApiRequestError && err.status === 429) setError(t('login.tooMany'));
      else {
        const { headline, detail } = describeError(err, t);
        setError(detail ? `${headline} ${detail}` : headline);
      }
      setBusy(false);
    }
  };

  return (
    <div className="login-page">
      <form className="card login-card" onSubmit={(e) => void submit(e)} data-testid="login-form" noValidate>
        <h1>{t('login.title')}</h1>
        <p className="muted">{t('login.intro')}</p>
        <label className="field">
          <span className="field-label">{t('login.password')}</span>
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            autoFocus
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="login-password"
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'login-error' : undefined}
          />
        </label>
        {error ? (
          <p className="field-error" id="login-error" role="alert" data-testid="login-error">
            {error}
          </p>
        ) : null}
        <button type="submit" className="button button-primary" disabled={busy} data-testid="login-submit">
          {busy ? t('login.signingIn') : t('login.submit')}
        </button>
      </form>
    </div>
  );
}
