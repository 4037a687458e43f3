// A stand-in for the Tauri shell in component tests: answers `invoke` by command name and
// records every call. Only UI logic is tested with it; the real shell is tested end to end.
import { mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import type { AppError, AppInfo, Home, PersonSummary, SyncStatus } from '../lib/api';

export type Handler = (args: Record<string, unknown>) => unknown;

export interface Fake {
  calls: { cmd: string; args: Record<string, unknown> }[];
  called(cmd: string): Record<string, unknown>[];
  emit(event: string, payload: unknown): Promise<void>;
}

export const status = (over: Partial<SyncStatus> = {}): SyncStatus => ({
  running: false,
  waiting: 0,
  rejected: 0,
  open_conflicts: 0,
  last_success_ms: null,
  last_attempt_ms: null,
  last_error: null,
  revoked: null,
  login_required: false,
  online: true,
  ...over,
});

export const kader = { user_id: 'u1', username: 'kader.mawar', display_name: 'Kader Mawar', role: 'kader' };

export const info = (over: Partial<AppInfo> = {}): AppInfo => ({
  enrolled: true,
  users: [kader],
  unlocked: null,
  settings: { locale: 'id', idle_lock_minutes: 5 },
  server_url: 'http://127.0.0.1:8080',
  device_name: 'Tablet Mawar',
  app_version: '0.1.0',
  suggested_server: null,
  ...over,
});

/** A person as the shell sends one: a boy of 21 months, active, in no household. */
export const personSummary = (over: Partial<PersonSummary> = {}): PersonSummary => ({
  id: 'p1',
  posyandu: 'P01',
  household: null,
  name: 'Petrus Fiktif',
  sex: 'male',
  birth_date: '2024-02-14',
  birth_date_estimated: false,
  nik: null,
  mother: null,
  status: 'active',
  age_months: 21,
  life_stage: 'balita',
  values: {},
  ...over,
});

export const home = (over: Partial<Home> = {}): Home => ({
  user: kader,
  posyandu: { code: '53.04.05.2001.P01', name: 'Posyandu Mawar' },
  today: '2025-11-22',
  sync: status(),
  tasks: [],
  due: { persons: 0, tasks: 0 },
  review: { conflicts: 0, duplicates: 0, problems: 0, total: 0, supervisor: false },
  ...over,
});

export const appError = (key: string, field: string | null = null, params?: AppError['params']): AppError => ({
  key,
  id: `ID:${key}`,
  en: `EN:${key}`,
  field,
  params,
});

export function installFake(handlers: Record<string, Handler>): Fake {
  const calls: Fake['calls'] = [];
  const defaults: Record<string, Handler> = {
    app_info: () => info(),
    set_online: () => null,
    sync_status: () => status(),
    home: () => home(),
    places: () => [],
    lock: () => null,
    touch: () => null,
    today: () => new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Makassar' }),
  };
  mockIPC(
    (cmd, payload) => {
      const args = (payload ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args });
      const h = handlers[cmd] ?? defaults[cmd];
      if (!h) throw new Error(`fake shell: no handler for ${cmd}`);
      return h(args);
    },
    { shouldMockEvents: true },
  );
  return {
    calls,
    called: (cmd) => calls.filter((c) => c.cmd === cmd).map((c) => c.args),
    emit: (event, payload) => emit(event, payload),
  };
}
