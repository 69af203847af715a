import { useCallback, useEffect, useState } from 'react';
import { api, asProblem, SignInRequired, type Me } from './api/client';
import { completeSignIn, currentSession, signIn, signOut } from './auth';
import { ProblemBanner } from './components';
import { ROLE_LABEL, isSchool, orgText } from './format';
import { Link, match, navigate, usePath } from './router';
import { Home } from './pages/Home';
import { ReferralPage } from './pages/Referral';
import { OutcomePage } from './pages/Outcome';
import { CasePage } from './pages/Case';
import { AuditPage } from './pages/Audit';
import { ProfilePage } from './pages/Profile';
import { DashboardPage, dashboardOf } from './pages/Dashboard';

function SignInPage({ error }: { error?: string }) {
  useEffect(() => {
    document.title = 'Sign in - Attendance Service Portal';
  }, []);
  return (
    <>
      <h1 tabIndex={-1}>Sign in to the Attendance Service Portal</h1>
      {error && <ProblemBanner problem={{ type: 'about:blank', title: 'You are not signed in', status: 401, detail: error }} />}
      <p>School staff, providers and Ministry of Education staff use the portal to work with ākonga who need support to return to school.</p>
      <p>Sign in with your Education Sector Logon.</p>
      <button type="button" className="button" onClick={() => void signIn(location.pathname === '/auth/callback' ? '/' : location.pathname)}>
        Sign in
      </button>
    </>
  );
}

function NotFound() {
  return (
    <>
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        Check the address, or go to your <Link href="/">home page</Link>.
      </p>
    </>
  );
}

export function App() {
  const path = usePath();
  const [me, setMe] = useState<Me | null>(null);
  const [authError, setAuthError] = useState<string | undefined>();
  const [loading, setLoading] = useState(true);

  const loadMe = useCallback(async () => {
    setLoading(true);
    try {
      if (location.pathname === '/auth/callback') {
        const to = await completeSignIn(location.search);
        navigate(to, null, true);
      }
      if (!currentSession()) {
        setMe(null);
        return;
      }
      const { data, error, response } = await (await api()).GET('/me');
      if (error || !data) throw asProblem(error, response.status);
      setMe(data);
    } catch (e) {
      if (e instanceof SignInRequired) signOut();
      setAuthError(e instanceof Error ? e.message : (asProblem(e).detail ?? 'Sign in again.'));
      setMe(null);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void loadMe();
  }, [loadMe]);

  // after a change to the caller's own settings: read /me again, without the loading screen
  const refreshMe = useCallback(async () => {
    const { data } = await (await api()).GET('/me');
    if (data) setMe(data);
  }, []);

  useEffect(() => {
    const ended = () => {
      setMe(null);
      setAuthError('Your session has ended. Sign in again to continue.');
    };
    window.addEventListener('portal:signed-out', ended);
    return () => window.removeEventListener('portal:signed-out', ended);
  }, []);

  // move focus to the new page's heading so screen reader users hear where they are
  useEffect(() => {
    const t = setTimeout(() => (document.querySelector('main h1') as HTMLElement | null)?.focus({ preventScroll: true }), 0);
    return () => clearTimeout(t);
  }, [path]);

  let page;
  if (loading) page = <p role="status">Loading…</p>;
  else if (!me) page = <SignInPage error={authError} />;
  else {
    let m;
    if (path === '/' || path === '') page = <Home me={me} />;
    else if (path === '/requests/new') page = <ReferralPage me={me} />;
    else if ((m = match('/requests/:id/outcome', path))) page = <OutcomePage me={me} id={m.id} />;
    else if ((m = match('/requests/:id', path))) page = <ReferralPage me={me} id={m.id} key={m.id} />;
    else if (path === '/dashboard') page = <DashboardPage me={me} />;
    else if (path === '/profile') page = <ProfilePage me={me} onSaved={() => void refreshMe()} />;
    else if ((m = match('/cases/:id/audit', path))) page = <AuditPage me={me} id={m.id} />;
    else if ((m = match('/cases/:id', path))) page = <CasePage me={me} id={m.id} key={m.id} />;
    else page = <NotFound />;
  }

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className="site-header">
        <div className="wrap header-row">
          <Link href="/" className="service-name">
            Attendance Service Portal
          </Link>
          {me && (
            <div className="who">
              <span>
                {me.displayName ?? me.userId} · {ROLE_LABEL[me.role]} · {orgText(me)}
              </span>
              <button
                type="button"
                className="link-button"
                onClick={() => {
                  signOut();
                  setMe(null);
                  navigate('/');
                }}
              >
                Sign out
              </button>
            </div>
          )}
        </div>
        {me && (
          <nav aria-label="Main" className="wrap nav">
            <Link href="/" aria-current={path === '/' ? 'page' : undefined}>
              Home
            </Link>
            {isSchool(me) && me.can.makeRequests && (
              <Link href="/requests/new" aria-current={path === '/requests/new' ? 'page' : undefined}>
                Start a CA request
              </Link>
            )}
            {dashboardOf(me) && (
              <Link href="/dashboard" aria-current={path === '/dashboard' ? 'page' : undefined}>
                Dashboard
              </Link>
            )}
            {me.can.chooseEmailDigest && (
              <Link href="/profile" aria-current={path === '/profile' ? 'page' : undefined}>
                Email updates
              </Link>
            )}
          </nav>
        )}
      </header>
      <main id="main" className="wrap" tabIndex={-1}>
        {page}
      </main>
      <footer className="site-footer">
        <div className="wrap">
          <p>Attendance Services · Ministry of Education | Te Tāhuhu o te Mātauranga. Information here is private: use it only to support the ākonga.</p>
        </div>
      </footer>
    </>
  );
}
