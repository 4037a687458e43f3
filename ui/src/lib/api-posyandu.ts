// Commands of the posyandu day (ILP's five steps). Shapes follow the Rust structs:
// src-tauri/src/views.rs (`PosyanduDay`, `RosterRow`), field-core domain/services.rs
// (`AttendanceInput`, `Attendance`), health/report.rs (`SessionSummary`), and health-rules
// checks/mod.rs, growth/assess.rs; those shared with other features (`PosyanduOptions`,
// `SessionRef`, `MeasurementInput`, `Finding`, `MonthResult`, `Counts`, `ImmunisationCard`,
// …) are in api-health.ts. Rust decides every health rule; these are only the shapes and
// the calls.
import { invoke } from '@tauri-apps/api/core';
import type { Label, PersonSummary } from './api';
import type {
  Assessment,
  Counts,
  Finding,
  ImmunisationCard,
  ImmunisationInput,
  IndicatorResult,
  MeasurementInput,
  MonthResult,
  PosyanduOptions,
  Ratios,
  ReferralInput,
  ReportChildProblem,
  ServiceOrder,
  ServicesSaved,
  SessionRef,
  SupplementInput,
} from './api-health';

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

/** health-rules checks `Confirm`: a value that deserves a second look. */
export interface Confirm {
  field: string;
  label: Label;
  params: Record<string, string>;
}

/** health-rules `CheckProblem`: a part of the check that could not be done (key + values). */
export interface CheckProblem {
  key: string;
  params: Record<string, string>;
}

export type IndicatorCode = 'wfa' | 'lhfa' | 'wfl' | 'wfh' | 'bfa' | 'hcfa' | 'acfa';

/** Declared once in api-health.ts (the records and health-rules types). */
export type { Assessment, IndicatorResult };

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

/** field-core `Attendance`. */
export interface Attendance {
  visit: string;
  saved: ServicesSaved;
}

export interface AttendanceCounts {
  total: number;
  balita: number;
  school_adolescent: number;
  adult: number;
  lansia: number;
  pregnant: number;
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
  /** The card on the posyandu day's date (`on`), so a resumed day offers that day's doses. */
  immunisationCard: (person: string, on: string | null = null) => call<ImmunisationCard>('immunisation_card', { person, on }),
};
