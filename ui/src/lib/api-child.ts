// A child's growth chart (KMS) and immunisation card: the commands and the chart's shapes,
// one for one with the Rust structs (field-core/src/health/chart.rs, health-rules'
// growth/chart.rs); the card, findings and KMS shapes shared with other features are in
// api-health.ts. Rust decides every result shown.
import { invoke } from '@tauri-apps/api/core';
import type { Label } from './api';
import type { ExportedFile } from './api-due';
import type {
  Finding,
  HealthProblem,
  ImmunisationCard,
  Indicator,
  KmsResult,
  Level,
  MonthResult,
  Position,
  ReferralRow,
  ReferralStatus,
} from './api-health';

/** Declared once in api-health.ts. */
export type { Indicator };

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

export const childApi = {
  growthChart: (person: string) => invoke<GrowthChart>('growth_chart', { person }),
  immunisationCard: (person: string) => invoke<ImmunisationCard>('immunisation_card', { person, on: null }),
  /** The KMS growth chart as a printable PDF in the exports folder. */
  exportGrowthChartPdf: (person: string) => invoke<ExportedFile>('export_growth_chart_pdf', { person }),
  /** The immunisation card (on `on`, or today) as a printable PDF in the exports folder. */
  exportImmunisationCardPdf: (person: string, on: string | null = null) =>
    invoke<ExportedFile>('export_immunisation_card_pdf', { person, on }),
  /** The area's referrals, newest first (the profile keeps one person's). */
  referrals: (status: ReferralStatus | null = null) => invoke<ReferralRow[]>('referrals', { status }),
};
