// Commands of the posyandu day (ILP's five steps). Shapes follow the Rust structs:
// src-tauri/src/views.rs (`PosyanduOptions`, `PosyanduDay`, `RosterRow`), field-core
// worklists.rs (`SessionRef`), domain/services.rs (`AttendanceInput`, `Attendance`),
// health/report.rs (`SessionSummary`), health/card.rs (`ImmunisationCard`), and
// health-rules checks/mod.rs, advice.rs, growth/assess.rs, kms.rs, report.rs.
// Rust decides every health rule; these are only the shapes and the calls.
import { invoke } from '@tauri-apps/api/core';
import type { Label, PersonSummary } from './api';

export type ServiceOrder = 'services_first' | 'counselling_first';

/** field-core `SessionRef`: one posyandu day. */
export interface SessionRef {
  id: string;
  /** The posyandu's code. */
  posyandu: string;
  posyandu_name: string;
  date: string;
  service_order: ServiceOrder | null;
}

export interface PosyanduOptions {
  today: string;
  /** The posyandu of the user's area, by name. */
  posyandu: { code: string; name: string }[];
  /** Sessions of the last 60 days, newest first. */
  sessions: SessionRef[];
}

export interface RosterRow {
  person: PersonSummary;
  household_head: string | null;
  pregnant: boolean;
  /** The visit recorded at this session, when the person was seen. */
  visit: string | null;
  expected: boolean;
  /** Why expected today (the due tasks for the posyandu day). */
  reasons: Label[];
}

export interface PosyanduDay {
  session: SessionRef;
  today: string;
  roster: RosterRow[];
}

export type MeasureType =
  | 'weight'
  | 'length_height'
  | 'head'
  | 'muac'
  | 'bp_systolic'
  | 'bp_diastolic'
  | 'blood_sugar'
  | 'waist'
  | 'hb'
  | 'temperature';
export type Unit = 'kg' | 'cm' | 'mmHg' | 'mg/dL' | 'g/dL' | 'C';
export type Position = 'lying' | 'standing';

/** field-core `MeasurementInput` (`kind` is serialised as `type`). */
export interface MeasurementInput {
  type: MeasureType;
  value: number;
  unit: Unit;
  position?: Position | null;
}

/** health-rules advice.rs `Level`. */
export type Level = 'urgent' | 'act' | 'watch' | 'ok';

/** health-rules advice.rs `Finding`: a result in words with what to do next. */
export interface Finding {
  label: Label;
  level: Level;
  action: Label | null;
  params: Record<string, string>;
}

/** health-rules checks `Confirm`: a value that deserves a second look. */
export interface Confirm {
  field: string;
  label: Label;
  params: Record<string, string>;
}

export interface CheckProblem {
  key: string;
  message: string;
}

/** growth/assess.rs `IndicatorResult` (`category` is a Permenkes category as its Label). */
export interface IndicatorResult {
  z: number | null;
  category: Label | null;
  flagged: boolean;
  reference: 'who2006' | 'who2007';
}

export type IndicatorCode = 'wfa' | 'lhfa' | 'wfl' | 'wfh' | 'bfa' | 'hcfa' | 'acfa';

/** growth/assess.rs `Assessment`. */
export interface Assessment {
  sex: 'male' | 'female';
  age_days: number;
  age_months: number;
  length_height_cm: number | null;
  bmi: number | null;
  wfa: IndicatorResult | null;
  lhfa: IndicatorResult | null;
  wfl: IndicatorResult | null;
  wfh: IndicatorResult | null;
  bfa: IndicatorResult | null;
  hcfa: IndicatorResult | null;
  acfa: IndicatorResult | null;
  skipped: { indicator: string; key: string; reason: string; reason_id: string }[];
}

export type KmsResult = 'N' | 'T' | 'O' | 'B';

/** kms.rs `MonthResult`: this month's KMS result. */
export interface MonthResult {
  month: { year: number; month: number };
  date: string;
  weight_g: number;
  age_months: number;
  result: KmsResult;
  gain_g: number | null;
  kbm_g: number | null;
  two_t: boolean;
  bgm: boolean | null;
  above_orange: boolean | null;
}

/** checks/mod.rs `MeasurementCheck`. */
export interface MeasurementCheck {
  age_days: number;
  age_months: number;
  /** Non-empty: ask "Yakin?" before saving. */
  confirm: Confirm[];
  /** Most pressing first. */
  findings: Finding[];
  next_action: Label | null;
  growth: Assessment | null;
  kms: MonthResult | null;
  problems: CheckProblem[];
}

export interface ImmunisationInput {
  vaccine: string;
  batch?: string | null;
  catch_up?: boolean | null;
}

export type SupplementKind =
  | 'vitamin_a_blue'
  | 'vitamin_a_red'
  | 'vitamin_a'
  | 'iron'
  | 'ttd'
  | 'deworming'
  | 'pmt'
  | 'ors_zinc';

export interface SupplementInput {
  supplement: SupplementKind;
  quantity?: number | null;
}

export type Destination = 'pustu' | 'puskesmas' | 'hospital';

export interface ReferralInput {
  reason: string;
  destination: Destination;
  destination_name?: string | null;
}

/** field-core `AttendanceInput` (its `Services` flattened in). */
export interface AttendanceInput {
  session: string;
  person: string;
  measurements: MeasurementInput[];
  immunisations: ImmunisationInput[];
  supplements: SupplementInput[];
  screenings: never[];
  counselling?: string | null;
  findings?: string | null;
  follow_up_date?: string | null;
  referral?: ReferralInput | null;
}

export interface Attendance {
  visit: string;
  saved: {
    measurements: string[];
    immunisations: string[];
    supplements: string[];
    screenings: string[];
    referral: string | null;
  };
}

/** health-rules report.rs `Counts`. */
export interface Counts {
  s: number;
  k: number;
  d: number;
  n: number;
  t: number;
  o: number;
  b: number;
  absent: number;
  two_t: number;
  bgm: number;
  vitamin_a: number;
  asi_eksklusif: number;
}

/** health-rules report.rs `Ratios`: fractions, null when the denominator is zero. */
export interface Ratios {
  k_s: number | null;
  d_s: number | null;
  d_k: number | null;
  n_d: number | null;
  n_s: number | null;
  n_d_prime: number | null;
}

export interface AttendanceCounts {
  total: number;
  balita: number;
  school_adolescent: number;
  adult: number;
  lansia: number;
  pregnant: number;
}

export interface ReportChildProblem {
  person: string;
  name: string;
  key: string;
  message: string;
}

/** field-core health/report.rs `SessionSummary`. */
export interface SessionSummary {
  session: string;
  posyandu: string;
  date: string;
  skdn: Counts;
  ratios: Ratios;
  attended: AttendanceCounts;
  immunisations: number;
  vitamin_a: number;
  /** By kind (`vitamin_a_blue`, `pmt`, …). */
  supplements: Record<string, number>;
  referrals: number;
  not_yet_weighed: PersonSummary[];
  problems: ReportChildProblem[];
}

/** field-core health/card.rs `CardStatus`. */
export type CardStatus = 'given' | 'due' | 'overdue' | 'upcoming' | 'no_longer_allowed' | 'not_applicable';

/** health-rules immunisation.rs `DoseState` (tagged by `state`). */
export type DoseState =
  | { state: 'given'; date: string; timing: 'on_time' | 'kejar' | 'too_early' | 'after_cutoff' }
  | { state: 'not_yet_due'; due_date: string }
  | { state: 'due'; due_date: string; on_time_until: string }
  | { state: 'overdue'; due_date: string; allowed_until: string | null }
  | { state: 'no_longer_allowed'; last_day: string }
  | { state: 'not_applicable' };

export interface CardRecord {
  fact: string;
  vaccine: string;
  date: string;
}

export interface CardDose {
  dose_id: string;
  series: string;
  /** As printed in the Buku KIA. */
  name: string;
  status: CardStatus;
  label: Label;
  state: DoseState;
  given: CardRecord | null;
  also_recorded: CardRecord[];
}

export interface ImmunisationCard {
  person: string;
  name: string;
  birth_date: string;
  on: string;
  schedule_id: string;
  je_area: boolean;
  doses: CardDose[];
  unmatched: CardRecord[];
  problems: { fact: string | null; key: string; message: string }[];
}

const call = <T>(cmd: string, args?: Record<string, unknown>) => invoke<T>(cmd, args);

export const posyanduApi = {
  options: () => call<PosyanduOptions>('posyandu_options'),
  /** Returns the session already open for that posyandu and date, if there is one. */
  open: (posyandu: string, date: string, order: ServiceOrder | null) =>
    call<SessionRef>('open_posyandu_session', { posyandu, date, order }),
  day: (session: string) => call<PosyanduDay>('posyandu_day', { session }),
  /** Judges the values before saving; nothing is written. */
  assess: (person: string, date: string, measurements: MeasurementInput[]) =>
    call<MeasurementCheck>('assess_measurement', { person, date, measurements }),
  record: (input: AttendanceInput) => call<Attendance>('record_attendance', { input }),
  summary: (session: string) => call<SessionSummary>('session_summary', { session }),
  immunisationCard: (person: string) => call<ImmunisationCard>('immunisation_card', { person }),
};
