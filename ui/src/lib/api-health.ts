// The shapes of the Rust structs that more than one feature's commands answer with or take
// (posyandu day, home visit, growth chart and immunisation card, due lists and reports),
// one for one with field-core (domain/services.rs, worklists.rs, health/card.rs,
// health/facts.rs, health/report.rs), health-rules (advice.rs, kms.rs, immunisation.rs,
// report.rs, growth/mod.rs) and src-tauri views.rs. Each is defined here once; the
// commands stay in their feature's file (api-child, api-due, api-posyandu, api-visit).
import type { Label } from './api';

// ---- results in words (health-rules advice.rs) --------------------------------------------

/** health-rules `advice::Level`: how much a finding matters (for its colour). */
export type Level = 'urgent' | 'act' | 'watch' | 'ok';

/** health-rules `advice::Finding`: a result in words with what to do next. */
export interface Finding {
  label: Label;
  level: Level;
  action: Label | null;
  /** Values for the texts, e.g. `z` → "-2.31", `gain_g` → "150", `indicator` → "wfa". */
  params: Record<string, string>;
}

// ---- KMS (health-rules kms.rs) ------------------------------------------------------------

/** health-rules `YearMonth` (serialised as an object). */
export interface YearMonth {
  year: number;
  month: number;
}

/** health-rules `kms::KmsResult`. */
export type KmsResult = 'N' | 'T' | 'O' | 'B';

/** health-rules `kms::MonthResult`: the KMS result of one month's weighing. */
export interface MonthResult {
  month: YearMonth;
  date: string;
  weight_g: number;
  /** Completed months at this weighing. */
  age_months: number;
  result: KmsResult;
  /** Gain since last month's weighing (N and T only). */
  gain_g: number | null;
  /** KBM applied (N and T only). */
  kbm_g: number | null;
  /** T this month and T last month. */
  two_t: boolean;
  /** Below the red line; null when no z-score was given. */
  bgm: boolean | null;
  /** Above the orange line; null when no z-score was given. */
  above_orange: boolean | null;
}

/** health-rules `growth::Position`: how length/height was measured. */
export type Position = 'lying' | 'standing';

// ---- growth results per weighing (records growth.rs, health-rules growth/assess.rs) --------

/** health-rules `growth::Indicator`. */
export type Indicator =
  | 'weight_for_age'
  | 'length_height_for_age'
  | 'weight_for_length'
  | 'weight_for_height'
  | 'bmi_for_age'
  | 'head_circumference_for_age'
  | 'arm_circumference_for_age';

/** health-rules `growth::IndicatorResult`: one indicator's z-score and category. */
export interface IndicatorResult {
  /** Rounded to 2 decimals; null only for weight-for-length/height with oedema. */
  z: number | null;
  /** Permenkes 2/2020 category in words (serialised as its label). */
  category: Label | null;
  /** WHO plausibility flag: probably a measuring or recording error. */
  flagged: boolean;
  reference: 'who2006' | 'who2007';
}

/** health-rules `growth::Assessment`: every z-score of one day's measurements. */
export interface Assessment {
  sex: 'male' | 'female';
  age_days: number;
  /** Days / 30.4375 (WHO's months, with decimals). */
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
  /** Measured indicators that could not be computed. */
  skipped: { indicator: Indicator; key: string; reason: string; reason_id: string }[];
}

/** records `GrowthPoint`: the growth result of one measurement day (typed, not JSON). */
export interface GrowthPoint {
  date: string;
  /** Completed months (the workspace's one rule). */
  age_months: number;
  weight_kg: number | null;
  length_height_cm: number | null;
  /** null when health-rules could not assess (see `error_key`). */
  assessment: Assessment | null;
  /** The month's KMS result for an under-five's weighing. */
  kms: MonthResult | null;
  error_key: string | null;
}

// ---- due tasks (health-rules tasks.rs, records tasks.rs) ----------------------------------

/** health-rules `tasks::Priority`, most pressing first (Rust ranks by it). */
export type Priority = 'urgent' | 'high' | 'normal';

// ---- services given in a visit (field-core domain/services.rs) ---------------------------

/** The measurement types of the schema (sync-protocol schema.rs MEASUREMENT_RANGES). */
export type MeasurementType =
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
export type MeasurementUnit = 'kg' | 'cm' | 'mmHg' | 'mg/dL' | 'g/dL' | 'C';

/** field-core `MeasurementInput` (`kind` is serialised as `type`). */
export interface MeasurementInput {
  type: MeasurementType;
  value: number;
  unit: MeasurementUnit;
  /** Length or height only. */
  position?: Position | null;
  /** Who measured (name), when not the logged-in user. */
  measured_by?: string | null;
  /** Bilateral pitting oedema seen at this weighing (a weight only). */
  oedema?: boolean | null;
}

/** field-core `ImmunisationInput`. */
export interface ImmunisationInput {
  vaccine: string;
  /** The vial's lot number. */
  batch?: string | null;
  /** The vaccine's KFA product code; Rust fills it from the vaccine when it is known. */
  kfa_code?: string | null;
  /** The vial's expiry date (YYYY-MM-DD), not before the dose's day. */
  expiry?: string | null;
  catch_up?: boolean | null;
  /** The Buku KIA's day of a copied dose (YYYY-MM-DD); otherwise the visit's day. */
  date?: string | null;
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

/** field-core `SupplementInput`. */
export interface SupplementInput {
  supplement: SupplementKind;
  quantity?: number | null;
}

/** field-core `ServicesSaved`: the ids of what was saved. */
export interface ServicesSaved {
  measurements: string[];
  immunisations: string[];
  supplements: string[];
  screenings: string[];
  referral: string | null;
}

// ---- referrals (field-core domain/services.rs, worklists.rs) -----------------------------

export type Destination = 'pustu' | 'puskesmas' | 'hospital';

/** field-core `ReferralInput`: a referral the health worker makes (status starts at `made`). */
export interface ReferralInput {
  reason: string;
  destination: Destination;
  destination_name?: string | null;
}

export type ReferralStatus = 'made' | 'received' | 'done';

/** field-core `ReferralRow`: a referral as lists show it (the `referrals` command). */
export interface ReferralRow {
  id: string;
  person: string;
  person_name: string;
  household: string | null;
  posyandu: string;
  reason: string;
  destination: Destination;
  destination_name: string | null;
  status: ReferralStatus;
  outcome: string | null;
  /** Date of the `made` event. */
  made_on: string | null;
  /** Date of the latest event. */
  updated_on: string | null;
}

// ---- the immunisation card (field-core health/card.rs, health-rules immunisation.rs) -----

/** field-core `HealthProblem`: a record that could not be used, and why: a key of the
 *  translation files and its values (ISO dates, dot decimals). */
export interface HealthProblem {
  fact: string | null;
  key: string;
  params: Record<string, string>;
}

/** field-core `CardStatus`: the state of a dose in one word, for the card's colour. */
export type CardStatus = 'given' | 'due' | 'overdue' | 'upcoming' | 'no_longer_allowed' | 'not_applicable';

/** health-rules `immunisation::Timing`: how a given dose relates to its window. */
export type Timing = 'on_time' | 'kejar' | 'too_early' | 'after_cutoff';

/** health-rules `immunisation::DoseState` (`#[serde(tag = "state")]`). */
export type DoseState =
  | { state: 'given'; date: string; timing: Timing }
  | { state: 'not_yet_due'; due_date: string }
  | { state: 'due'; due_date: string; on_time_until: string }
  | { state: 'overdue'; due_date: string; allowed_until: string | null }
  | { state: 'no_longer_allowed'; last_day: string }
  | { state: 'not_applicable' };

/** health-rules `immunisation::Offset`: an age or interval (months first, then days). */
export interface Offset {
  months: number;
  days: number;
}

/** field-core `CardRecord`: a recorded immunisation fact. */
export interface CardRecord {
  fact: string;
  /** As recorded, e.g. `DPT-HB-Hib 1`. */
  vaccine: string;
  date: string;
}

/** field-core `CardDose`: one dose on the card. */
export interface CardDose {
  dose_id: string;
  series: string;
  /** As printed in the Buku KIA. */
  name: string;
  /** The age at which the schedule recommends it (the card groups doses by it); null when
   *  the schedule gives none, and then the card groups by the dates of the state. */
  due_age: Offset | null;
  status: CardStatus;
  label: Label;
  state: DoseState;
  /** The record that counts (the earliest). */
  given: CardRecord | null;
  /** The same dose recorded again. */
  also_recorded: CardRecord[];
}

/** field-core `ImmunisationCard`: the card of one child on one day. */
export interface ImmunisationCard {
  person: string;
  name: string;
  birth_date: string;
  /** The day the states are for. */
  on: string;
  schedule_id: string;
  je_area: boolean;
  /** Every dose of the schedule, in schedule order. */
  doses: CardDose[];
  /** Recorded vaccines that name no dose of the schedule. */
  unmatched: CardRecord[];
  problems: HealthProblem[];
}

// ---- SKDN (health-rules report.rs, field-core health/report.rs) --------------------------

/** health-rules `Counts`: the counts of one report cell. */
export interface Counts {
  s: number;
  k: number;
  d: number;
  n: number;
  t: number;
  o: number;
  b: number;
  /** K − D. */
  absent: number;
  two_t: number;
  bgm: number;
  vitamin_a: number;
  asi_eksklusif: number;
}

/** health-rules `Ratios`: fractions 0–1, null when the denominator is 0. */
export interface Ratios {
  k_s: number | null;
  d_s: number | null;
  d_k: number | null;
  n_d: number | null;
  n_s: number | null;
  /** N / D′ with D′ = D − O − B. */
  n_d_prime: number | null;
}

/** field-core `ReportChildProblem`: a child a report could not fully count. */
export interface ReportChildProblem {
  person: string;
  name: string;
  key: string;
  params: Record<string, string>;
}

// ---- posyandu days (field-core worklists.rs, src-tauri views.rs) -------------------------

/** ILP steps 4 and 5 in the session's order. */
export type ServiceOrder = 'services_first' | 'counselling_first';

/** field-core `SessionRef`: one posyandu day. */
export interface SessionRef {
  id: string;
  /** The posyandu's code. */
  posyandu: string;
  /** Its name when the tablet knows it, else the code. */
  posyandu_name: string;
  date: string;
  service_order: ServiceOrder | null;
}

/** src-tauri `PosyanduOptions`: the posyandu start screen. */
export interface PosyanduOptions {
  /** `YYYY-MM-DD` in the device's zone. */
  today: string;
  /** The posyandu of the user's area, by name. */
  posyandu: { code: string; name: string }[];
  /** Sessions of the last 60 days, newest first. */
  sessions: SessionRef[];
}
