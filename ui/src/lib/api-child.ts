// A child's growth chart (KMS) and immunisation card: the commands and their shapes, one
// for one with the Rust structs (field-core/src/health/chart.rs and card.rs, health-rules'
// growth/chart.rs, kms.rs, advice.rs, immunisation.rs). Rust decides every result shown.
import { invoke } from '@tauri-apps/api/core';
import type { Label } from './api';

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

/** health-rules `kms::KmsResult`. */
export type KmsResult = 'N' | 'T' | 'O' | 'B';

/** health-rules `kms::MonthResult`: the KMS result of one month's weighing. */
export interface MonthResult {
  month: { year: number; month: number };
  date: string;
  weight_g: number;
  /** Completed months at this weighing. */
  age_months: number;
  result: KmsResult;
  gain_g: number | null;
  kbm_g: number | null;
  two_t: boolean;
  bgm: boolean | null;
  above_orange: boolean | null;
}

export type Indicator =
  | 'weight_for_age'
  | 'length_height_for_age'
  | 'weight_for_length'
  | 'weight_for_height'
  | 'bmi_for_age'
  | 'head_circumference_for_age'
  | 'arm_circumference_for_age';

export type Position = 'lying' | 'standing';

/** health-rules `growth::chart::CurvePoint`: the curves at one age. */
export interface CurvePoint {
  age_days: number;
  /** `age_days / 30.4375`. */
  age_months: number;
  /** Length/height-for-age only: lying below 731 days, standing from 731. */
  position: Position | null;
  /** The measurement at −3, −2, −1, 0, +1, +2, +3 SD. */
  sd: number[];
}

/** A Permenkes 2/2020 category as a band between two z-scores. */
export interface Band {
  from_z: number | null;
  to_z: number | null;
  category: Label;
  level: Level;
}

export interface LinePoint {
  age_days: number;
  age_months: number;
  value: number;
}

/** A KMS line (red line: BGM below it; orange line). */
export interface ReferenceLine {
  kind: 'red_line' | 'orange_line' | string;
  label: Label;
  table_id: string;
  z: number;
  points: LinePoint[];
}

/** health-rules `growth::chart::Chart` (flattened into `IndicatorChart`). */
export interface Chart {
  indicator: Indicator;
  label: Label;
  sex: 'male' | 'female';
  unit: string;
  sd_levels: number[];
  curves: CurvePoint[];
  bands: Band[];
  lines: ReferenceLine[];
}

/** field-core `ChartPoint` with health-rules' `PlacedPoint` flattened in. */
export interface ChartPoint {
  date: string;
  fact: string;
  age_days: number;
  age_months: number;
  /** As measured. */
  value: number;
  /** Where to draw it (length/height after the position correction). */
  plotted: number;
  z: number | null;
  category: Label | null;
  /** WHO plausibility flag: probably a measuring or typing error. */
  flagged: boolean;
  error_key: string | null;
  /** Weight-for-age only: the KMS result of the month when this weighing counts for it. */
  kms: KmsResult | null;
}

export interface IndicatorChart extends Chart {
  points: ChartPoint[];
}

export interface LatestGrowth {
  date: string;
  age_months: number;
  weight_kg: number | null;
  length_height_cm: number | null;
  kms: MonthResult | null;
  findings: Finding[];
  /** Measured this month or last month. */
  current: boolean;
}

/** field-core `HealthProblem`: a record that could not be used, and why (English). */
export interface HealthProblem {
  fact: string | null;
  key: string;
  message: string;
}

export interface GrowthChart {
  person: string;
  name: string;
  sex: 'male' | 'female';
  birth_date: string;
  age_months: number | null;
  kbm_table: string;
  /** Weight-for-age (BB/U), with the KMS red and orange lines. */
  wfa: IndicatorChart;
  /** Length/height-for-age (PB/U, TB/U). */
  lhfa: IndicatorChart;
  /** KMS result of every month with a weighing, oldest first. */
  kms: MonthResult[];
  latest: LatestGrowth | null;
  next_action: Finding | null;
  problems: HealthProblem[];
}

/** field-core `CardStatus`. */
export type CardStatus = 'given' | 'due' | 'overdue' | 'upcoming' | 'no_longer_allowed' | 'not_applicable';

export type Timing = 'on_time' | 'kejar' | 'too_early' | 'after_cutoff';

/** health-rules `immunisation::DoseState` (`#[serde(tag = "state")]`). */
export type DoseState =
  | { state: 'given'; date: string; timing: Timing }
  | { state: 'not_yet_due'; due_date: string }
  | { state: 'due'; due_date: string; on_time_until: string }
  | { state: 'overdue'; due_date: string; allowed_until: string | null }
  | { state: 'no_longer_allowed'; last_day: string }
  | { state: 'not_applicable' };

export interface CardRecord {
  fact: string;
  /** As recorded, e.g. `DPT-HB-Hib 1`. */
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
  /** The schedule's age for the dose (`recommended` offset). Not sent by Rust yet: when it
   *  is, the card groups by it; until then by the dates of the state. */
  due_age?: { months: number; days: number } | null;
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
  problems: HealthProblem[];
}

/** field-core `ReferralRow` (the `referrals` command). */
export interface ReferralRow {
  id: string;
  person: string;
  person_name: string;
  household: string | null;
  posyandu: string;
  reason: string;
  destination: 'pustu' | 'puskesmas' | 'hospital' | string;
  destination_name: string | null;
  status: 'made' | 'received' | 'done' | string;
  outcome: string | null;
  made_on: string | null;
  updated_on: string | null;
}

export const childApi = {
  growthChart: (person: string) => invoke<GrowthChart>('growth_chart', { person }),
  immunisationCard: (person: string) => invoke<ImmunisationCard>('immunisation_card', { person }),
  /** The area's referrals, newest first (the profile keeps one person's). */
  referrals: (status: 'made' | 'received' | 'done' | null = null) => invoke<ReferralRow[]>('referrals', { status }),
};
