// A tiny history router: the location as an external store, <Link> that pushes instead of reloading,
// and path patterns with `:params`. The server answers index.html for every dashboard path.
import { useSyncExternalStore } from 'react';
import type { AnchorHTMLAttributes, MouseEvent, ReactNode } from 'react';

const CHANGE = 'koe:navigate';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

const currentPath = (): string => window.location.pathname;
const currentSearch = (): string => window.location.search;

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  const target = new URL(to, window.location.href);
  const here = window.location;
  if (target.pathname === here.pathname && target.search === here.search && target.hash === here.hash) return;
  if (opts.replace) window.history.replaceState(null, '', target);
  else window.history.pushState(null, '', target);
  window.dispatchEvent(new Event(CHANGE));
  if (!opts.replace && target.pathname !== here.pathname) window.scrollTo(0, 0);
}

export function usePathname(): string {
  return useSyncExternalStore(subscribe, currentPath);
}

export function useSearchParams(): URLSearchParams {
  const search = useSyncExternalStore(subscribe, currentSearch);
  return new URLSearchParams(search);
}

/** Replaces the given query parameters (empty or undefined removes one) without adding a history entry. */
export function setSearchParams(changes: Record<string, string | undefined>, opts: { push?: boolean } = {}): void {
  const params = new URLSearchParams(window.location.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === '') params.delete(key);
    else params.set(key, value);
  }
  const text = params.toString();
  navigate(`${window.location.pathname}${text ? `?${text}` : ''}`, { replace: !opts.push });
}

/** Matches `/calls/:id` against a path; params are URI-decoded. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const h = have[i] as string;
    if (w.startsWith(':')) {
      try {
        params[w.slice(1)] = decodeURIComponent(h);
      } catch {
        return null;
      }
    } else if (w !== h) return null;
  }
  return params;
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string; children?: ReactNode };

export function Link({ to, onClick, children, ...rest }: LinkProps) {
  const handle = (event: MouseEvent<HTMLAnchorElement>): void => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    if (rest.target && rest.target !== '_self') return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={handle} {...rest}>
      {children}
    </a>
  );
}
