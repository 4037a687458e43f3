// How the sync state reads to a kader: one state, its colour, and its words.
import type { SyncProgress, SyncStatus } from './api';

export type Tone = 'ok' | 'waiting' | 'busy' | 'offline' | 'danger';

export interface ChipState {
  tone: Tone;
  /** Translation key and its values. */
  key: string;
  params: Record<string, string | number>;
}

/** Failures that only mean the server was out of reach. */
const UNREACHABLE = new Set(['sync.error.network']);

/** The last run only failed to reach the server. */
export function unreachable(s: SyncStatus | null): boolean {
  return !!s?.last_error && UNREACHABLE.has(s.last_error.key);
}

export function chipState(
  s: SyncStatus | null,
  progress: SyncProgress | null,
  starting: boolean,
): ChipState {
  if (!s) return { tone: 'waiting', key: 'sync.chip.unknown', params: {} };
  const n = s.waiting;
  if (s.revoked) return { tone: 'danger', key: 'sync.chip.revoked', params: {} };
  if (s.running || starting) {
    const sent = progress?.sent ?? 0;
    return progress?.phase === 'pushing' && progress.waiting + sent > 0
      ? { tone: 'busy', key: 'sync.chip.sending', params: { sent, total: sent + progress.waiting } }
      : { tone: 'busy', key: 'sync.chip.running', params: {} };
  }
  if (s.login_required) return { tone: 'danger', key: 'sync.chip.login', params: { n } };
  if (!s.online) return { tone: 'offline', key: n > 0 ? 'sync.chip.offline_waiting' : 'sync.chip.offline', params: { n } };
  // The server could not be reached (no signal, server down): nothing is wrong on the
  // tablet, the next run tries again. Calm, and the count says what is waiting.
  if (s.last_error && UNREACHABLE.has(s.last_error.key)) {
    return { tone: 'offline', key: n > 0 ? 'sync.chip.unreachable_waiting' : 'sync.chip.unreachable', params: { n } };
  }
  if (s.last_error) return { tone: 'danger', key: 'sync.chip.failed', params: { n } };
  if (n > 0) return { tone: 'waiting', key: 'sync.chip.waiting', params: { n } };
  return { tone: 'ok', key: 'sync.chip.ok', params: {} };
}

/** The words for a progress phase. */
export function phaseKey(p: SyncProgress): string {
  return `sync.phase.${p.phase}`;
}
