// The reports screen's presentation: which months to offer, ratios as percentages, the
// report's rows in table order. Every count and ratio comes from Rust (health-rules).
import { locale, t } from './i18n';
import type { AgeBand, ReportRow } from './api-due';
import type { Counts, Ratios, YearMonth } from './api-health';

/** `2025-11-22` → `2025-11`. */
export function monthOf(isoDate: string): string {
  return isoDate.slice(0, 7);
}

/** `{year: 2025, month: 3}` → `2025-03`. */
export function ymText(ym: YearMonth): string {
  return `${ym.year}-${String(ym.month).padStart(2, '0')}`;
}

/** This month and the `count - 1` before it, newest first (`YYYY-MM`). */
export function recentMonths(today: string, count = 12): string[] {
  let y = Number(today.slice(0, 4));
  let m = Number(today.slice(5, 7));
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    m -= 1;
    if (m === 0) {
      m = 12;
      y -= 1;
    }
  }
  return out;
}

/** `2025-11` → `November 2025` / `November 2025` in the user's language. */
export function monthName(month: string): string {
  const m = Number(month.slice(5, 7));
  return t('report.month_year', { month: t(`report.month.${m}`), year: month.slice(0, 4) });
}

/** A ratio (0–1) as a percentage with one decimal (`66,7%` in Indonesian); `–` when there
 *  is none (the denominator was 0). */
export function percent(r: number | null | undefined): string {
  if (r === null || r === undefined || !Number.isFinite(r)) return '–';
  const text = (r * 100).toFixed(1);
  return `${locale.current === 'id' ? text.replace('.', ',') : text}%`;
}

/** Bar length in percent of the track, 0–100. */
export function barWidth(r: number | null | undefined): number {
  if (r === null || r === undefined || !Number.isFinite(r)) return 0;
  return Math.max(0, Math.min(100, r * 100));
}

/** The SKDN ratios shown, in the order posyandu books use. */
export const RATIOS: { key: keyof Ratios; name: string }[] = [
  { key: 'k_s', name: 'K/S' },
  { key: 'd_s', name: 'D/S' },
  { key: 'd_k', name: 'D/K' },
  { key: 'n_d', name: 'N/D' },
  { key: 'n_s', name: 'N/S' },
  { key: 'n_d_prime', name: "N/D'" },
];

/** The SKDN letters shown, in order. */
export const SKDN_LETTERS: (keyof Counts)[] = ['s', 'k', 'd', 'n', 't', 'o', 'b'];

/** The columns of the F1 table after band and sex. */
export const F1_COLUMNS: { key: keyof Counts; name: string }[] = [
  { key: 's', name: 'S' },
  { key: 'k', name: 'K' },
  { key: 'd', name: 'D' },
  { key: 'n', name: 'N' },
  { key: 't', name: 'T' },
  { key: 'o', name: 'O' },
  { key: 'b', name: 'B' },
  { key: 'absent', name: 'absent' },
  { key: 'two_t', name: '2T' },
  { key: 'bgm', name: 'BGM' },
  { key: 'vitamin_a', name: 'vitamin_a' },
  { key: 'asi_eksklusif', name: 'asi_eksklusif' },
];

export interface BandGroup {
  band: AgeBand | null;
  rows: ReportRow[];
}

const BAND_ORDER: (AgeBand | null)[] = ['0-5', '6-11', '12-23', '24-59', null];
const SEX_ORDER = ['male', 'female', null] as const;

/** The report's rows by band (0–5 … 24–59, then all ages), each male, female, both. */
export function bandGroups(rows: ReportRow[]): BandGroup[] {
  return BAND_ORDER.map((band) => ({
    band,
    rows: SEX_ORDER.map((sex) => rows.find((r) => r.band === band && r.sex === sex)).filter((r): r is ReportRow => !!r),
  })).filter((g) => g.rows.length > 0);
}

/** Doses given in the month, by dose id, in the order Rust sent (the schedule's ids). */
export function doseList(immunisations: Record<string, number>): { dose: string; n: number }[] {
  return Object.entries(immunisations)
    .filter(([, n]) => n > 0)
    .map(([dose, n]) => ({ dose, n }));
}
