// Due lists and reports: the Tauri commands of src-tauri/src/core/reports.rs and their
// shapes (field-core/src/health/due.rs, field-core/src/health/report.rs,
// health-rules/src/report.rs; `Counts`, `Ratios`, `PosyanduOptions` and the others shared
// with the posyandu day are in api-health.ts). Rust sorts the due list and computes every
// count and ratio.
import { invoke } from '@tauri-apps/api/core';
import type { Label, PersonSummary } from './api';
import type { Counts, PosyanduOptions, Priority, Ratios, ReportChildProblem, YearMonth } from './api-health';

/** field-core `DueGroup` (snake_case). */
export type DueGroup =
  | 'vaccines'
  | 'anc'
  | 'growth'
  | 'newborn_postpartum'
  | 'missed_posyandu'
  | 'tb'
  | 'danger_signs'
  | 'check_data';

/** Every group, in Rust's order (`DueGroup::ALL`). */
export const DUE_GROUPS: readonly DueGroup[] = [
  'vaccines',
  'anc',
  'growth',
  'newborn_postpartum',
  'missed_posyandu',
  'tb',
  'danger_signs',
  'check_data',
];

/** field-core `DueForm`: the form a due entry opens. */
export type DueForm = 'posyandu_measurement' | 'immunisation' | 'home_visit' | 'anc' | 'referral' | 'correct_record';

export type { Priority };

/** field-core `DueFilter`. */
export interface DueFilter {
  posyandu?: string | null;
  dusun?: string | null;
  rt?: string | null;
  groups: DueGroup[];
  on_posyandu_day: boolean;
}

/** field-core `DueEntry`. */
export interface DueEntry {
  person: PersonSummary;
  household_head: string | null;
  dusun: string | null;
  rt: string | null;
  group: DueGroup;
  /** health-rules `TaskKind` (snake_case). */
  kind: string;
  priority: Priority;
  /** YYYY-MM-DD. */
  due: string;
  /** Days past `due` (0 when not late). */
  days_late: number;
  reason: Label;
  params: Record<string, string>;
  form: DueForm;
}

/** field-core `Skdn`. */
export interface Skdn {
  posyandu: string;
  month: YearMonth;
  counts: Counts;
  ratios: Ratios;
  problems: ReportChildProblem[];
}

export type AgeBand = '0-5' | '6-11' | '12-23' | '24-59';

/** health-rules `ReportRow`: a band (null = all ages) and a sex (null = both). */
export interface ReportRow {
  band: AgeBand | null;
  sex: 'male' | 'female' | null;
  counts: Counts;
  ratios: Ratios;
}

/** health-rules `MonthlyReport`. */
export interface MonthlyReport {
  posyandu_id: string;
  month: YearMonth;
  kbm_table_id: string;
  red_line_id: string;
  vitamin_a_month: boolean;
  rows: ReportRow[];
  problems: { index: number; key: string; params: Record<string, string> }[];
}

/** field-core `MonthActivity`. */
export interface MonthActivity {
  sessions: string[];
  posyandu_visits: number;
  home_visits: number;
  /** Doses given, by dose id. */
  immunisations: Record<string, number>;
  immunisations_unmatched: number;
  pregnant_women: number;
  pregnant_kek: number;
  anc_contacts: number;
  referrals_made: number;
  births: number;
  deaths: number;
}

/** field-core `PosyanduReport`. */
export interface PosyanduReport {
  report: MonthlyReport;
  activity: MonthActivity;
  problems: ReportChildProblem[];
}

/** src-tauri `ExportedCsv`. */
export interface ExportedCsv {
  path: string;
  file_name: string;
  csv: string;
}

/** src-tauri `ExportedFile`: a printable report in the exports folder. */
export interface ExportedFile {
  path: string;
  file_name: string;
  bytes: number;
}

export const dueApi = {
  posyanduOptions: () => invoke<PosyanduOptions>('posyandu_options'),
  dueList: (filter: DueFilter) => invoke<DueEntry[]>('due_list', { filter }),
  /** `month` is `YYYY-MM`. */
  skdn: (posyandu: string, month: string) => invoke<Skdn>('skdn', { posyandu, month }),
  monthlyReport: (posyandu: string, month: string) => invoke<PosyanduReport>('monthly_report', { posyandu, month }),
  exportReportCsv: (posyandu: string, month: string) => invoke<ExportedCsv>('export_report_csv', { posyandu, month }),
  exportReportPdf: (posyandu: string, month: string) => invoke<ExportedFile>('export_report_pdf', { posyandu, month }),
  /** "Simpan ke…": a copy of an exported file at `dest` (from the save dialog); where it went. */
  saveExportAs: (fileName: string, dest: string) => invoke<string>('save_export_as', { fileName, dest }),
};
