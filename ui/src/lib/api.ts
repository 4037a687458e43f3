// The contract between the UI and the Tauri shell (src-tauri/src/commands.rs): this file
// and, for the field work, api-posyandu.ts, api-child.ts, api-visit.ts and api-due.ts (Rust's
// shared health types in api-health.ts). Every command name and shape has exactly one Rust
// counterpart; keep them in step.
// The UI asks, Rust decides: no health or sync rule is computed in TypeScript.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { GrowthPoint, Priority } from './api-health';

/** A refused command. `key` is a translation key (ui/src/i18n/*.json); `id`/`en` are
 *  ready sentences from Rust for keys the UI does not know; `field` names the form field
 *  at fault (sync-protocol body field name) so the form can mark it and keep its values. */
export interface AppError {
  key: string;
  id: string;
  en: string;
  field?: string | null;
  /** Extra values, e.g. `{ wait_seconds: 30 }` after wrong PINs. */
  params?: Record<string, string | number>;
}

export type Locale = 'id' | 'en';
export type Role = 'kader' | 'bidan' | 'perawat' | 'puskesmas_admin' | 'dinas_admin';

export interface LocalUser {
  user_id: string;
  username: string;
  display_name: string;
  role: string;
}

export interface AppInfo {
  /** A database exists on this tablet (enrolled once). */
  enrolled: boolean;
  users: LocalUser[];
  /** The unlocked user, if any. */
  unlocked: LocalUser | null;
  settings: Settings;
  server_url: string | null;
  device_name: string | null;
  app_version: string;
  /** A server URL given at start (`--server` / JANGKAU_SERVER), to prefill first run. */
  suggested_server: string | null;
}

export interface Settings {
  locale: Locale;
  /** Lock after this many minutes without a touch (1–60). */
  idle_lock_minutes: number;
}

export interface EnrolInput {
  server_url: string;
  code: string;
  username: string;
  /** The user's server password. */
  password: string;
  /** The tablet PIN (≥ 6 digits, not trivial). */
  pin: string;
  device_name: string;
}

export interface Label { key: string; id: string; en: string }

export interface Revoked { at_ms: number; message: string }
/** Before a revoked tablet's keys are erased: when, why, and changes never sent. */
export interface RevocationNotice { at_ms: number; message: string; unsent: number }
/** What erasing a revoked tablet's keys did. */
export interface Erased { revoked: Revoked; unsent: number; users: number }

export interface SyncStatus {
  running: boolean;
  /** Changes waiting to go. */
  waiting: number;
  /** Changes the server refused (kept with their reasons). */
  rejected: number;
  open_conflicts: number;
  last_success_ms: number | null;
  last_attempt_ms: number | null;
  /** The last failed run: translation key and sentence (Indonesian/English). */
  last_error: AppError | null;
  revoked: Revoked | null;
  /** The session ended: the user must give the password to sync again. */
  login_required: boolean;
  online: boolean;
  /** The zone of the kader's dates and times (the store's setting; 480 = WITA). */
  utc_offset_minutes?: number;
  /** Titip: bundles of other tablets carried until the next sync, and for how many tablets. */
  titip_carrying?: number;
  titip_tablets?: number;
}

/** Event `sync://progress` (field-core SyncEvent). */
export interface SyncProgress {
  phase: 'status' | 'logging_in' | 'pushing' | 'pulling' | 'retrying' | 'up_to_date' | 'done' | 'failed';
  waiting: number;
  sent: number;
  received: number;
  attempt?: number;
  delay_ms?: number;
  key?: string;
}

export interface RejectedChange {
  record: string;
  kind: string;
  reason: AppError;
}

export interface PersonSummary {
  id: string;
  posyandu: string | null;
  household: string | null;
  name: string;
  sex: 'male' | 'female' | null;
  birth_date: string | null;
  birth_date_estimated: boolean;
  nik: string | null;
  mother: string | null;
  status: 'active' | 'moved' | 'died' | string;
  age_months: number | null;
  life_stage: string | null;
  values: Record<string, unknown>;
}

/** records `DueTask`: health-rules' task with the form that does it (serialised flat). */
export interface Task {
  kind: string;
  priority: Priority;
  due: string; // YYYY-MM-DD
  reason: Label;
  params: Record<string, string>;
  /** The form that does it (field-core `DueForm`, chosen by Rust). */
  form: 'posyandu_measurement' | 'immunisation' | 'home_visit' | 'anc' | 'referral' | 'correct_record';
}

/** field-core `PersonTasks`: typed in Rust (records `DueTask`, health-rules `DataProblem`). */
export interface PersonTasks {
  person: PersonSummary;
  tasks: Task[];
  problems: { key: string; label: Label; params: Record<string, string> }[];
}

export interface Home {
  user: LocalUser;
  posyandu: { code: string; name: string } | null;
  today: string; // YYYY-MM-DD in the device's zone
  sync: SyncStatus;
  /** The first page of the persons with something due, the most urgent first (the rest:
   *  `api.homeTasks`). */
  tasks: PersonTasks[];
  /** The whole list's counts: persons, and their tasks and data problems together. */
  due: { persons: number; tasks: number };
  /** What waits in Tinjauan (Beranda's badge). */
  review: import('./api-review').ReviewCounts;
}

/** A later page of Beranda's due list (`home_tasks`). */
export interface HomeTasks {
  tasks: PersonTasks[];
  /** Where the next page starts (`persons` when there is none). */
  next: number;
  /** Persons in the whole list. */
  persons: number;
}

export interface HouseholdInput {
  posyandu: string;
  kk_number?: string | null;
  head_name: string;
  address?: string | null;
  dusun?: string | null;
  rt?: string | null;
  rw?: string | null;
  phone?: string | null;
}

export interface PersonInput {
  name: string;
  sex: 'male' | 'female' | '';
  birth_date: string; // YYYY-MM-DD
  birth_date_estimated?: boolean | null;
  nik?: string | null;
  relation?: 'head' | 'spouse' | 'child' | 'parent' | 'grandchild' | 'other' | null;
  phone?: string | null;
  jkn_number?: string | null;
  /** An existing person's id: the mother (add_member, check_duplicates). */
  mother?: string | null;
  /** register_household only: index of this member's mother among `members` (listed before). */
  mother_member?: number | null;
  /** A newborn's birth weight (kg), length (cm) and time of birth (HH:MM, local): body
   *  schema 2, asked where a newborn is registered. */
  birth_weight?: number | null;
  birth_length?: number | null;
  birth_time?: string | null;
}

export interface DuplicateWarning {
  member: number;
  existing: string;
  existing_name: string;
  reason: 'same_nik' | 'same_name_birth_date_mother';
}

export interface Registered {
  household: string;
  persons: string[];
  duplicates: DuplicateWarning[];
  warnings: AppError[];
}

export interface HouseholdRow {
  id: string;
  head_name: string;
  dusun: string | null;
  rt: string | null;
  members: number;
  /** Member names matching the query (for "found by member"). */
  matched_members: string[];
}

export interface HouseholdView {
  id: string;
  values: Record<string, unknown>;
  deleted: boolean;
  members: PersonSummary[];
}

export interface TimelineEntry {
  id: string;
  kind: string;
  date: string;
  body: Record<string, unknown>;
  supersedes: string | null;
  superseded_by: string | null;
}

export interface Profile {
  person: PersonSummary;
  household: { id: string; head_name: string } | null;
  entries: TimelineEntry[];
  tasks: Task[];
  /** Growth results per weighing (records `GrowthPoint`: typed assessment and KMS). */
  growth?: GrowthPoint[];
  /** Pregnancy episodes with their current values (`id`, `hpht`, `status`, ...), oldest first. */
  pregnancies?: Record<string, unknown>[];
  /** The person's referrals with their current values (`id`, `reason`, `status`, ...). */
  referrals?: Record<string, unknown>[];
}

export interface Place { code: string; level: string; name: string; parent: string | null }

const call = <T>(cmd: string, args?: Record<string, unknown>) => invoke<T>(cmd, args);

export const api = {
  appInfo: () => call<AppInfo>('app_info'),
  enrol: (input: EnrolInput) => call<LocalUser>('enrol', { input }),
  unlock: (username: string, pin: string) => call<LocalUser>('unlock', { username, pin }),
  lock: () => call<void>('lock'),
  revocationNotice: () => call<RevocationNotice | null>('revocation_notice'),
  eraseRevoked: () => call<Erased>('erase_revoked'),
  /** Adds another user of a shared tablet (server login with their password, new PIN). */
  addUser: (username: string, password: string, pin: string) =>
    call<LocalUser>('add_user', { username, password, pin }),
  saveSettings: (settings: Settings) => call<Settings>('save_settings', { settings }),
  /** A touch on the screen (pointerdown/keydown, at most every ~10 s): the idle lock counts
   *  from the last one. Other commands count as touches too, except appInfo, syncStatus and
   *  setOnline (which the UI calls by itself). */
  touch: () => call<void>('touch'),
  /** The webview reports connectivity (navigator.onLine, online/offline events). */
  setOnline: (online: boolean) => call<void>('set_online', { online }),

  home: () => call<Home>('home'),
  /** Beranda's "Tampilkan lagi": persons `offset..offset + limit` of the list `home` made. */
  homeTasks: (offset: number, limit: number) => call<HomeTasks>('home_tasks', { offset, limit }),
  /** Today in the device's zone from the store's corrected clock (`YYYY-MM-DD`). */
  today: () => call<string>('today'),
  syncStatus: () => call<SyncStatus>('sync_status'),
  /** Starts a run in the background (no-op if one is running); progress as events. */
  syncNow: (password?: string) => call<void>('sync_now', { password: password ?? null }),
  rejectedChanges: () => call<RejectedChange[]>('rejected_changes'),

  places: () => call<Place[]>('places'),
  searchHouseholds: (query: string, dusun?: string | null, rt?: string | null) =>
    call<HouseholdRow[]>('search_households', { query, dusun: dusun ?? null, rt: rt ?? null }),
  household: (id: string) => call<HouseholdView>('household', { id }),
  /** Likely duplicates of one person before saving (search-before-register). */
  checkDuplicates: (person: PersonInput) => call<DuplicateWarning[]>('check_duplicates', { person }),
  /** Validates and saves a household with its members in one transaction. On a refused
   *  field the error names it (`field` = `members.<i>.<field>` or `<household field>`). */
  registerHousehold: (household: HouseholdInput, members: PersonInput[]) =>
    call<Registered>('register_household', { household, members }),
  addMember: (household: string, person: PersonInput) =>
    call<Registered>('add_member', { household, person }),
  profile: (id: string) => call<Profile>('profile', { id }),
  markStatus: (id: string, status: 'moved' | 'died', date: string) =>
    call<void>('mark_status', { id, status, date }),
  /** Starts a pregnancy of a woman of 10–55 years; returns its record id. */
  pregnancyView: (person: string) => invoke<PregnancyView | null>('pregnancy_view', { person }),
  startPregnancy: (person: string, input: { hpht: string | null; gravida: number | null; para: number | null }) =>
    call<string>('start_pregnancy', { person, input }),
};

export const onSyncProgress = (f: (p: SyncProgress) => void): Promise<UnlistenFn> =>
  listen<SyncProgress>('sync://progress', (e) => f(e.payload));
/** Emitted when a run ends (success or failure) with the new status. */
export const onSyncFinished = (f: (s: SyncStatus) => void): Promise<UnlistenFn> =>
  listen<SyncStatus>('sync://finished', (e) => f(e.payload));
/** Emitted after any command that wrote to the store: the waiting count is current. */
export const onSyncStatus = (f: (s: SyncStatus) => void): Promise<UnlistenFn> =>
  listen<SyncStatus>('sync://status', (e) => f(e.payload));
/** Emitted by the shell when it locked itself (idle time passed). */
export const onLocked = (f: () => void): Promise<UnlistenFn> => listen('app://locked', () => f());

export const isAppError = (e: unknown): e is AppError =>
  typeof e === 'object' && e !== null && 'key' in e && 'id' in e && 'en' in e;

/** field-core `PregnancyView`: the ongoing pregnancy as the bidan reads it. */
export interface AncContact {
  k: number;
  trimester: 'First' | 'Second' | 'Third';
  doctor: boolean;
  state: { state: 'done'; date: string } | { state: 'not_yet_due'; from: string; by: string } | { state: 'due'; by: string } | { state: 'missed'; trimester_ended: string };
}
export interface PregnancyView {
  hpht: string;
  hpl: string;
  weeks: number;
  days: number;
  trimester: 'First' | 'Second' | 'Third';
  past_hpl: boolean;
  contacts: AncContact[];
  done: number;
  minimum: number;
  trimesters: { trimester: 'First' | 'Second' | 'Third'; required: number; done: number; from: string; by: string; state: { state: 'upcoming' | 'running' | 'met' } | { state: 'short'; missing: number } }[];
  schedule: string;
  lila: { date: string; value: number } | null;
  kek: boolean | null;
  hb: { date: string; value: number } | null;
  anaemia: boolean | null;
  anaemia_source: string;
}
