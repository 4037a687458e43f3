// What the whole app shares: who is unlocked, the settings, and the sync state that the
// header chip and the Beranda panel show. Everything comes from Rust through `api`.
import {
  api,
  onLocked,
  onSyncFinished,
  onSyncProgress,
  onSyncStatus,
  type AppError,
  type AppInfo,
  type LocalUser,
  type Settings,
  type SyncProgress,
  type SyncStatus,
} from './api';
import { toAppError } from './forms';
import { setLocale } from './i18n';
import { setStoreZone } from './format';
import { navigate } from './router.svelte';
import { drafts } from './drafts.svelte';
import { resetDueFilter } from './due-filter.svelte';
import { referralFilter } from './visit-referrals.svelte';

export type Phase = 'loading' | 'firstrun' | 'locked' | 'unlocked' | 'failed';

export const session = $state<{
  phase: Phase;
  info: AppInfo | null;
  user: LocalUser | null;
  settings: Settings;
  error: AppError | null;
}>({
  phase: 'loading',
  info: null,
  user: null,
  settings: { locale: 'id', idle_lock_minutes: 5 },
  error: null,
});

export const sync = $state<{
  status: SyncStatus | null;
  progress: SyncProgress | null;
  /** A run was started from this screen and has not finished. */
  starting: boolean;
}>({ status: null, progress: null, starting: false });

/** A status from Rust: the chip and panel show it, times follow the store's zone. */
export function setSyncStatus(s: SyncStatus): void {
  setStoreZone(s.utc_offset_minutes);
  sync.status = s;
}

export function applyInfo(info: AppInfo): void {
  session.info = info;
  session.settings = info.settings;
  setLocale(info.settings.locale);
  session.user = info.unlocked;
  session.phase = !info.enrolled ? 'firstrun' : info.unlocked ? 'unlocked' : 'locked';
}

export async function loadApp(): Promise<void> {
  try {
    applyInfo(await api.appInfo());
    session.error = null;
    if (session.phase === 'unlocked') void refreshSync();
  } catch (e) {
    session.error = toAppError(e);
    session.phase = 'failed';
  }
}

/** The screens of the user who locked, kept (hidden, in memory only) behind the lock
 *  screen: their forms keep what was typed. `generation` changes when they are dropped, so
 *  the screens are built anew for the next user. */
export const held = $state<{ userId: string | null; generation: number }>({ userId: null, generation: 0 });

/** Drops the held screens and every draft: the next user starts from their own Beranda. */
export function dropHeld(): void {
  held.userId = null;
  held.generation += 1;
  drafts.register = null;
  drafts.addMember = {};
  // A shared tablet: the next user starts from their own area, not the last one's filters.
  resetDueFilter();
  referralFilter.status = 'all';
}

export function unlocked(user: LocalUser): void {
  const same = held.userId === user.user_id;
  if (!same) dropHeld();
  held.userId = null;
  session.user = user;
  session.phase = 'unlocked';
  // The same user comes back to the screen and the form they left; anyone else to Beranda.
  if (!same) navigate({ name: 'home' }, true);
  void refreshSync();
}

/** The app is locked (by the user, the idle timer or the shell): the screen and its form
 *  stay in memory for the same user only. */
export function markLocked(): void {
  if (session.phase !== 'unlocked') return;
  held.userId = session.user?.user_id ?? null;
  session.user = null;
  session.phase = 'locked';
  sync.progress = null;
  // The users list may have changed (a user added); the lock screen shows it.
  void api.appInfo().then(applyInfo, () => {});
}

export async function lockNow(): Promise<void> {
  try {
    await api.lock();
  } finally {
    markLocked();
  }
}

export async function refreshSync(): Promise<void> {
  if (session.phase !== 'unlocked') return;
  try {
    setSyncStatus(await api.syncStatus());
  } catch {
    // The chip keeps its last state; the next event or refresh corrects it.
  }
}

export async function saveSettings(next: Settings): Promise<Settings> {
  const saved = await api.saveSettings(next);
  session.settings = saved;
  setLocale(saved.locale);
  return saved;
}

/** Listens to the shell's events and the network state; returns the function that stops. */
export function startEvents(): () => void {
  const stops: Array<() => void> = [];
  const later = (p: Promise<() => void>) => {
    p.then((u) => stops.push(u)).catch(() => {});
  };
  later(
    onSyncProgress((p) => {
      sync.progress = p;
      if (sync.status) {
        sync.status = { ...sync.status, running: !['done', 'failed', 'up_to_date'].includes(p.phase) };
      }
    }),
  );
  later(
    onSyncFinished((s) => {
      setSyncStatus(s);
      sync.starting = false;
      sync.progress = null;
    }),
  );
  later(
    onSyncStatus((s) => {
      // A save changed what is waiting; a run in progress keeps its own running flag.
      setSyncStatus(sync.status ? { ...s, running: sync.status.running || s.running } : s);
    }),
  );
  later(onLocked(() => markLocked()));
  const report = () => {
    void api.setOnline(navigator.onLine).catch(() => {});
    if (sync.status) sync.status = { ...sync.status, online: navigator.onLine };
  };
  window.addEventListener('online', report);
  window.addEventListener('offline', report);
  report();
  stops.push(() => {
    window.removeEventListener('online', report);
    window.removeEventListener('offline', report);
  });
  return () => stops.forEach((s) => s());
}

export async function startSync(password?: string): Promise<void> {
  sync.starting = true;
  sync.progress = null;
  try {
    await api.syncNow(password);
    if (sync.status) sync.status = { ...sync.status, running: true };
  } catch (e) {
    sync.starting = false;
    throw e;
  }
}

/** The share of a run done, 0–1, for the progress bar; null when unknown. */
export function progressFraction(p: SyncProgress | null): number | null {
  if (!p) return null;
  switch (p.phase) {
    case 'status':
    case 'logging_in':
      return 0.05;
    case 'pushing': {
      const total = p.sent + p.waiting;
      return total > 0 ? 0.05 + 0.6 * (p.sent / total) : 0.4;
    }
    case 'pulling':
      // The number of pages is not known ahead: approach the end as records arrive.
      return 0.65 + 0.3 * (p.received / (p.received + 200));
    case 'retrying':
      return null;
    case 'done':
    case 'up_to_date':
      return 1;
    case 'failed':
      return null;
  }
  return null;
}
