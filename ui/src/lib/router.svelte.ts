// A small hash router: the route is state, screens are chosen in App.svelte.
export type Route =
  | { name: 'home' }
  | { name: 'households' }
  | { name: 'register' }
  | { name: 'household'; id: string }
  | { name: 'add_member'; id: string }
  | { name: 'profile'; id: string }
  | { name: 'settings' }
  | { name: 'sync' }
  // Posyandu day: pick the posyandu and open today's session; the roster; one person's
  // five steps; the closing summary with the day's SKDN.
  | { name: 'posyandu' }
  | { name: 'posyandu_day'; session: string }
  | { name: 'attendance'; session: string; person: string }
  | { name: 'posyandu_summary'; session: string }
  // A child's growth chart (KMS) and immunisation card.
  | { name: 'growth'; id: string }
  | { name: 'immunisation'; id: string }
  // Kunjungan rumah of a household (optionally opened for one member); referrals.
  | { name: 'home_visit'; household: string; person?: string }
  | { name: 'referrals' }
  | { name: 'referral'; id: string }
  // Due lists and reports.
  | { name: 'due' }
  | { name: 'reports' }
  // Tinjauan: the review queue, and a likely-duplicate pair side by side.
  | { name: 'review' }
  | { name: 'review_pair'; first: string; second: string };

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
      if (okId(b) && parts.length === 2) return { name: 'profile', id: b };
      if (okId(b) && c === 'grafik' && parts.length === 3) return { name: 'growth', id: b };
      if (okId(b) && c === 'imunisasi' && parts.length === 3) return { name: 'immunisation', id: b };
      return { name: 'home' };
    case 'posyandu':
      if (parts.length === 1) return { name: 'posyandu' };
      if (okId(b) && parts.length === 2) return { name: 'posyandu_day', session: b };
      if (okId(b) && c === 'ringkasan' && parts.length === 3) return { name: 'posyandu_summary', session: b };
      if (okId(b) && okId(c) && parts.length === 3) return { name: 'attendance', session: b, person: c };
      return { name: 'posyandu' };
    case 'kunjungan':
      if (okId(b) && parts.length === 2) return { name: 'home_visit', household: b };
      if (okId(b) && okId(c) && parts.length === 3) return { name: 'home_visit', household: b, person: c };
      return { name: 'households' };
    case 'rujukan':
      if (okId(b) && parts.length === 2) return { name: 'referral', id: b };
      return { name: 'referrals' };
    case 'jadwal':
      return { name: 'due' };
    case 'laporan':
      return { name: 'reports' };
    case 'tinjauan':
      if (b === 'ganda' && okId(c) && okId(parts[3]) && parts.length === 4)
        return { name: 'review_pair', first: c, second: parts[3] };
      return { name: 'review' };
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
    case 'posyandu':
      return '#/posyandu';
    case 'posyandu_day':
      return `#/posyandu/${encodeURIComponent(r.session)}`;
    case 'attendance':
      return `#/posyandu/${encodeURIComponent(r.session)}/${encodeURIComponent(r.person)}`;
    case 'posyandu_summary':
      return `#/posyandu/${encodeURIComponent(r.session)}/ringkasan`;
    case 'growth':
      return `#/orang/${encodeURIComponent(r.id)}/grafik`;
    case 'immunisation':
      return `#/orang/${encodeURIComponent(r.id)}/imunisasi`;
    case 'home_visit':
      return r.person
        ? `#/kunjungan/${encodeURIComponent(r.household)}/${encodeURIComponent(r.person)}`
        : `#/kunjungan/${encodeURIComponent(r.household)}`;
    case 'referrals':
      return '#/rujukan';
    case 'referral':
      return `#/rujukan/${encodeURIComponent(r.id)}`;
    case 'due':
      return '#/jadwal';
    case 'reports':
      return '#/laporan';
    case 'review':
      return '#/tinjauan';
    case 'review_pair':
      return `#/tinjauan/ganda/${encodeURIComponent(r.first)}/${encodeURIComponent(r.second)}`;
  }
}

export type Section = 'home' | 'posyandu' | 'households' | 'due' | 'referrals' | 'reports' | 'settings';

/** Which nav tab a route belongs to. */
export function section(r: Route): Section {
  switch (r.name) {
    case 'households':
    case 'register':
    case 'household':
    case 'add_member':
    case 'profile':
    case 'growth':
    case 'immunisation':
    case 'home_visit':
      return 'households';
    case 'posyandu':
    case 'posyandu_day':
    case 'attendance':
    case 'posyandu_summary':
      return 'posyandu';
    case 'referrals':
    case 'referral':
      return 'referrals';
    case 'due':
      return 'due';
    case 'reports':
      return 'reports';
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
