// Who is signed in: asks GET /api/auth/session once, flips to signed-out on any 401, and keeps the
// page the user wanted so login can return there. The session itself is an HttpOnly cookie.
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { apiRequest, onUnauthorized } from './api/api-client.js';
import type { SessionStatus } from './api/types.js';
import { navigate } from './router.js';

export type AuthStatus = 'checking' | 'signed-in' | 'signed-out' | 'unreachable';

interface AuthValue {
  status: AuthStatus;
  error: unknown;
  recheck: () => void;
  signIn: (password: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const AuthContext = createContext<AuthValue | null>(null);

function loginPath(): string {
  const here = `${window.location.pathname}${window.location.search}`;
  return here.startsWith('/login') || here === '/' ? '/login' : `/login?next=${encodeURIComponent(here)}`;
}

/** Only same-origin dashboard paths are followed after login. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/';
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<AuthStatus>('checking');
  const [error, setError] = useState<unknown>(null);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let cancelled = false;
    setStatus('checking');
    apiRequest<SessionStatus>('/api/auth/session', { ignoreUnauthorized: true }).then(
      (session) => {
        if (cancelled) return;
        setStatus(session.authenticated ? 'signed-in' : 'signed-out');
        if (!session.authenticated && !window.location.pathname.startsWith('/login')) navigate(loginPath(), { replace: true });
      },
      (err: unknown) => {
        if (cancelled) return;
        setError(err);
        setStatus('unreachable');
      },
    );
    return () => {
      cancelled = true;
    };
  }, [generation]);

  useEffect(
    () =>
      onUnauthorized(() => {
        setStatus('signed-out');
        if (!window.location.pathname.startsWith('/login')) navigate(loginPath(), { replace: true });
      }),
    [],
  );

  const signIn = useCallback(async (password: string) => {
    await apiRequest<unknown>('/api/auth/login', { method: 'POST', body: { password }, ignoreUnauthorized: true });
    setStatus('signed-in');
    navigate(safeNext(new URLSearchParams(window.location.search).get('next')), { replace: true });
  }, []);

  const signOut = useCallback(async () => {
    try {
      await apiRequest<unknown>('/api/auth/logout', { method: 'POST', ignoreUnauthorized: true });
    } finally {
      setStatus('signed-out');
      navigate('/login', { replace: true });
    }
  }, []);

  const recheck = useCallback(() => setGeneration((g) => g + 1), []);
  const value = useMemo(() => ({ status, error, recheck, signIn, signOut }), [status, error, recheck, signIn, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth needs an <AuthProvider>');
  return value;
}
