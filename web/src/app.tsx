// The shell: providers, header (navigation, live connection, language, logout) and the routes.
import { useEffect } from 'react';
import type { ReactNode } from 'react';
import { AuthProvider, safeNext, useAuth } from './auth.js';
import { ConnectionIndicator } from './components/connection-indicator.js';
import { ErrorMessage, Loading } from './components/status.js';
import { I18nProvider, LANGUAGES, useI18n } from './i18n/i18n.js';
import type { Language, MessageKey } from './i18n/i18n.js';
import { LiveProvider } from './live/live-context.js';
import { AgentEditorPage } from './pages/agent-editor-page.js';
import { AgentsPage } from './pages/agents-page.js';
import { CallDetailPage } from './pages/call-detail-page.js';
import { CallsPage } from './pages/calls-page.js';
import { CampaignDetailPage } from './pages/campaign-detail-page.js';
import { CampaignNewPage } from './pages/campaign-new-page.js';
import { CampaignsPage } from './pages/campaigns-page.js';
import { LivePage } from './pages/live-page.js';
import { LoginPage } from './pages/login-page.js';
import { SoftphonePage } from './pages/softphone-page.js';
import { Link, matchPath, navigate, usePathname } from './router.js';
import { ServerInfoProvider, useServerInfo } from './server-info.js';

export function App() {
  return (
    <I18nProvider>
      <AuthProvider>
        <SignedInProviders>
          <Shell />
        </SignedInProviders>
      </AuthProvider>
    </I18nProvider>
  );
}

function SignedInProviders({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const signedIn = status === 'signed-in';
  return (
    <ServerInfoProvider enabled={signedIn}>
      <LiveProvider enabled={signedIn}>{children}</LiveProvider>
    </ServerInfoProvider>
  );
}

const NAV: ReadonlyArray<{ to: string; label: MessageKey; testId: string; active: (path: string) => boolean }> = [
  { to: '/', label: 'nav.live', testId: 'nav-live', active: (p) => p === '/' },
  { to: '/calls', label: 'nav.calls', testId: 'nav-calls', active: (p) => p.startsWith('/calls') },
  { to: '/campaigns', label: 'nav.campaigns', testId: 'nav-campaigns', active: (p) => p.startsWith('/campaigns') },
  { to: '/agents', label: 'nav.agents', testId: 'nav-agents', active: (p) => p.startsWith('/agents') },
  { to: '/softphone', label: 'nav.softphone', testId: 'nav-softphone', active: (p) => p.startsWith('/softphone') },
];

function LanguageSwitch() {
  const { language, setLanguage, t } = useI18n();
  return (
    <label className="language-switch">
      <span className="visually-hidden">{t('header.language')}</span>
      <select data-testid="language-switch" value={language} onChange={(e) => setLanguage(e.target.value as Language)} aria-label={t('header.language')}>
        {LANGUAGES.map((l) => (
          <option key={l.code} value={l.code} lang={l.code}>
            {l.label}
          </option>
        ))}
      </select>
    </label>
  );
}

function Header({ signedIn }: { signedIn: boolean }) {
  const { t } = useI18n();
  const { signOut } = useAuth();
  const path = usePathname();
  return (
    <header className="app-header">
      <div className="header-inner">
        <Link to="/" className="brand" aria-label={t('app.title')}>
          <svg className="brand-mark" viewBox="0 0 32 32" aria-hidden="true">
            <rect width="32" height="32" rx="8" />
            <path d="M9 20c2-1 3-3 3-6m4 9c3-2 4-5 4-9m4 11c3-3 4-7 4-11" />
          </svg>
          <span className="brand-name">Koe</span>
        </Link>
        {signedIn ? (
          <nav className="main-nav" aria-label={t('header.navigation')}>
            {NAV.map((item) => {
              const active = item.active(path);
              return (
                <Link key={item.to} to={item.to} data-testid={item.testId} aria-current={active ? 'page' : undefined} className={active ? 'active' : undefined}>
                  {t(item.label)}
                </Link>
              );
            })}
          </nav>
        ) : (
          <span className="spacer" />
        )}
        <div className="header-tools">
          {signedIn ? <ConnectionIndicator /> : null}
          <LanguageSwitch />
          {signedIn ? (
            <button type="button" className="button button-ghost button-small" data-testid="logout" onClick={() => void signOut()}>
              {t('header.logout')}
            </button>
          ) : null}
        </div>
      </div>
    </header>
  );
}

function Routes() {
  const path = usePathname();
  const { t } = useI18n();
  let params: Record<string, string> | null;
  if (path === '/' || path === '') return <LivePage />;
  if (path === '/calls' || path === '/calls/') return <CallsPage />;
  if ((params = matchPath('/calls/:id', path))) return <CallDetailPage key={params.id} id={params.id as string} />;
  if (path === '/campaigns' || path === '/campaigns/') return <CampaignsPage />;
  if (path === '/campaigns/new') return <CampaignNewPage />;
  if ((params = matchPath('/campaigns/:id', path))) return <CampaignDetailPage key={params.id} id={params.id as string} />;
  if (path === '/agents' || path === '/agents/') return <AgentsPage />;
  if (path === '/agents/new') return <AgentEditorPage key="new" id={null} />;
  if ((params = matchPath('/agents/:id', path))) return <AgentEditorPage key={params.id} id={params.id as string} />;
  if (path === '/softphone') return <SoftphonePage />;
  return (
    <div className="page" data-testid="not-found">
      <h1>{t('notFound.title')}</h1>
      <p>
        <Link to="/">{t('notFound.home')}</Link>
      </p>
    </div>
  );
}

function Footer() {
  const { data } = useServerInfo();
  const { t } = useI18n();
  if (!data) return null;
  return (
    <footer className="app-footer muted small" data-testid="server-info">
      Koe {data.version} · {t('footer.backend')} {data.backend} · {data.model} · {t('footer.database')} {data.database} · {t('footer.process')}{' '}
      <span className="mono">{data.processId}</span>
    </footer>
  );
}

function RedirectAfterLogin() {
  useEffect(() => navigate(safeNext(new URLSearchParams(window.location.search).get('next')), { replace: true }), []);
  return <Loading />;
}

function Shell() {
  const { status, error, recheck } = useAuth();
  const path = usePathname();
  const { t } = useI18n();
  const onLogin = path.startsWith('/login');
  let body: ReactNode;
  if (status === 'checking') body = <Loading />;
  else if (status === 'unreachable')
    body = (
      <div className="page narrow">
        <ErrorMessage error={error} onRetry={recheck} testId="server-unreachable" />
      </div>
    );
  else if (onLogin) body = status === 'signed-in' ? <RedirectAfterLogin /> : <LoginPage />;
  else if (status === 'signed-out') body = <LoginPage />;
  else body = <Routes />;
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        {t('header.skip')}
      </a>
      <Header signedIn={status === 'signed-in'} />
      <main id="main" className="app-main">
        {body}
      </main>
      {status === 'signed-in' ? <Footer /> : null}
    </div>
  );
}
