// A small hash router: the route is state, screens are chosen in App.svelte.
export type Route =
  | { name: 'home' }
  | { name: 'households' }
  | { name: 'register' }
  | { name: 'household'; id: string }
  | { name: 'add_member'; id: string }
  | { name: 'profile'; id: string }
  | { name: 'settings' }
  | { name: 'sync' };

export type RouteName = Route['name'];

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** `#/keluarga/<id>` → `{ name: 'household', id }`; anything unknown is home. */
export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/^\/+|\/+$/g, '');
  const parts = path === '' ? [] : path.split('/').map((p) => decodeURIComponent(p));
  const [a, b, c] = parts;
  const okId = (s: string | undefined): s is string => !!s && SEGMENT.test(s);
  switch (a) {
    case undefined:
    case 'beranda':
      return { name: 'home' };
    case 'keluarga':
      if (parts.length === 1) return { name: 'households' };
      if (b === 'baru' && parts.length === 2) return { name: 'register' };
      if (okId(b) && parts.length === 2) return { name: 'household', id: b };
      if (okId(b) && c === 'anggota-baru' && parts.length === 3) return { name: 'add_member', id: b };
      return { name: 'households' };
    case 'orang':
      return okId(b) && parts.length === 2 ? { name: 'profile', id: b } : { name: 'home' };
    case 'pengaturan':
      return { name: 'settings' };
    case 'sinkron':
      return { name: 'sync' };
    default:
      return { name: 'home' };
  }
}

export function toHash(r: Route): string {
  switch (r.name) {
    case 'home':
      return '#/';
    case 'households':
      return '#/keluarga';
    case 'register':
      return '#/keluarga/baru';
    case 'household':
      return `#/keluarga/${encodeURIComponent(r.id)}`;
    case 'add_member':
      return `#/keluarga/${encodeURIComponent(r.id)}/anggota-baru`;
    case 'profile':
      return `#/orang/${encodeURIComponent(r.id)}`;
    case 'settings':
      return '#/pengaturan';
    case 'sync':
      return '#/sinkron';
  }
}

/** Which nav tab a route belongs to. */
export function section(r: Route): 'home' | 'households' | 'settings' {
  switch (r.name) {
    case 'households':
    case 'register':
    case 'household':
    case 'add_member':
    case 'profile':
      return 'households';
    case 'settings':
      return 'settings';
    default:
      return 'home';
  }
}

export const router = $state<{ route: Route }>({
  route: typeof location === 'undefined' ? { name: 'home' } : parseHash(location.hash),
});

export function navigate(r: Route, replace = false): void {
  const hash = toHash(r);
  if (replace) history.replaceState(null, '', hash);
  else if (location.hash !== hash) location.hash = hash;
  router.route = r;
}

/** Follows the address bar (back button, links); returns the function that stops it. */
export function startRouter(): () => void {
  const onChange = () => {
    const next = parseHash(location.hash);
    // navigate() already set it: keep the same object so screens are not built twice.
    if (toHash(next) !== toHash(router.route)) router.route = next;
  };
  window.addEventListener('hashchange', onChange);
  onChange();
  return () => window.removeEventListener('hashchange', onChange);
}
