import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** Where the producer serves the dashboard; every page has an address below it, so a reload works. */
const BASE_PATH = '/ui';
const NAVIGATED = 'conveyor:navigate';

export type Route =
  | { page: 'overview' }
  | { page: 'queues' }
  | { page: 'workers' }
  | { page: 'jobs'; query: URLSearchParams }
  | { page: 'job'; id: string }
  | { page: 'dead-letters' }
  | { page: 'key'; next: string }
  | { page: 'not-found'; path: string };

/** The path below BASE_PATH, with its query: `/jobs?status=failed`. */
export function currentPath(): string {
  const path = location.pathname.startsWith(BASE_PATH)
    ? location.pathname.slice(BASE_PATH.length)
    : location.pathname;
  return `${path === '' ? '/' : path}${location.search}`;
}

function routeOf(pathname: string, search: string): Route {
  const path = (pathname.startsWith(BASE_PATH) ? pathname.slice(BASE_PATH.length) : pathname).replace(
    /\/+$/,
    '',
  );
  const query = new URLSearchParams(search);
  if (path === '') return { page: 'overview' };
  if (path === '/queues') return { page: 'queues' };
  if (path === '/workers') return { page: 'workers' };
  if (path === '/jobs') return { page: 'jobs', query };
  if (path === '/dead-letters') return { page: 'dead-letters' };
  if (path === '/key') return { page: 'key', next: query.get('next') ?? '/' };
  const job = /^\/jobs\/([^/]+)$/.exec(path);
  if (job?.[1] !== undefined) return { page: 'job', id: decodeURIComponent(job[1]) };
  return { page: 'not-found', path };
}

/** Goes to a path below BASE_PATH without reloading the page. */
export function navigate(path: string, { replace = false } = {}): void {
  const url = `${BASE_PATH}${path}`;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.dispatchEvent(new Event(NAVIGATED));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(location.pathname, location.search));
  useEffect(() => {
    const update = () => setRoute(routeOf(location.pathname, location.search));
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATED, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATED, update);
    };
  }, []);
  return route;
}

type LinkProps = Omit<JSX.HTMLAttributes<HTMLAnchorElement>, 'href'> & {
  to: string;
  children: ComponentChildren;
};

/** An ordinary link (open in a new tab, copy the address) that navigates in place on a plain click. */
export function Link({ to, children, ...rest }: LinkProps) {
  const onClick = (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a {...rest} href={`${BASE_PATH}${to}`} onClick={onClick}>
      {children}
    </a>
  );
}
