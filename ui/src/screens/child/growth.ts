// What the growth chart screen shows of Rust's results: the colour of a point, the KMS
// result as on the card (N, T, 2T, O, B, BGM), and a finding's values in words. Nothing
// here judges growth: the results, categories and levels all come from growth_chart.
import type { Band, ChartPoint, GrowthChart, IndicatorChart } from '../../lib/api-child';
import type { Finding, HealthProblem, Level, MonthResult } from '../../lib/api-health';
import { locale, t, tx } from '../../lib/i18n';
import { formatDate } from '../../lib/format';
import { problemText as problemTextOf } from '../../lib/problems';

/** A point's colour: the app's words for Rust's levels, plus `info` for "no judgement". */
export type Tone = Level | 'info';

const RANK: Record<Tone, number> = { urgent: 0, act: 1, watch: 2, ok: 3, info: 4 };

export const worst = (tones: Tone[]): Tone =>
  tones.reduce<Tone>((w, x) => (RANK[x] < RANK[w] ? x : w), 'info');

/** The KMS result of the month a weighing counts for (same date). */
export function monthOf(chart: Pick<GrowthChart, 'kms'>, date: string): MonthResult | undefined {
  return chart.kms.find((m) => m.date === date);
}

/** The KMS result as the card writes it: N, T, 2T, O or B, with BGM and "above the
 *  orange line" after it. Empty when the weighing does not count for a month. */
export function kmsCode(month: MonthResult | undefined, result: ChartPoint['kms'] = null): string {
  const r = month?.result ?? result;
  if (!r) return '';
  const parts = [month?.two_t ? '2T' : r];
  if (month?.bgm) parts.push('BGM');
  if (month?.above_orange) parts.push(t('child.kms.above_orange_short'));
  return parts.join(' · ');
}

/** How much a month's KMS result matters: 2T, BGM and above the orange line most, then T;
 *  N is fine; O and B say nothing about growth yet. */
export function kmsTone(month: MonthResult | undefined, result: ChartPoint['kms'] = null): Tone {
  const r = month?.result ?? result;
  if (!r) return 'info';
  if (month?.two_t || month?.bgm || month?.above_orange) return 'act';
  if (r === 'T') return 'watch';
  if (r === 'N') return 'ok';
  return 'info';
}

/** The level Rust gives a point's Permenkes category (from the chart's bands). */
export function categoryLevel(bands: Band[], point: Pick<ChartPoint, 'category'>): Level | null {
  if (!point.category) return null;
  return bands.find((b) => b.category.key === point.category!.key)?.level ?? null;
}

/** A point's colour. On BB/U the KMS result decides (N green, T orange, 2T / BGM / above
 *  the orange line red, O and B blue), unless the category is more pressing; on the other
 *  charts the category's level. */
export function pointTone(chart: IndicatorChart, point: ChartPoint, month?: MonthResult): Tone {
  const level = categoryLevel(chart.bands, point);
  if (chart.indicator !== 'weight_for_age') return level ?? 'info';
  const kms = kmsTone(month, point.kms);
  return level && RANK[level] < RANK.ok ? worst([kms, level]) : kms;
}

/** A number as the user's language writes it (`8,4` in Bahasa Indonesia). */
export function num(v: number, digits = 1): string {
  return v.toLocaleString(locale.current === 'en' ? 'en-GB' : 'id-ID', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** A finding's values in words: which index it is about, the z-score, the weight gain
 *  against the KBM, the last weighing. */
export function findingDetail(f: Finding): string {
  const p = f.params;
  const out: string[] = [];
  if (p.gain_g !== undefined) {
    const g = Number(p.gain_g);
    if (g < 0) out.push(t('child.finding.loss', { g: -g }));
    else if (g === 0 && p.kbm_g !== undefined) out.push(t('child.finding.same', { kbm: p.kbm_g }));
    else if (p.kbm_g !== undefined) out.push(t('child.finding.gain_kbm', { g, kbm: p.kbm_g }));
    else out.push(t('child.finding.gain', { g }));
  }
  if (p.z !== undefined) out.push(t('child.finding.z', { z: num(Number(p.z), 2) }));
  if (p.last_weighed !== undefined) out.push(t('child.finding.last_weighed', { date: formatDate(p.last_weighed) }));
  return out.join(' · ');
}

/** The index a finding is about (BB/U, PB/U-TB/U, BB/PB …), when it says. */
export function findingIndex(f: Finding): string {
  return f.params.indicator ? tx('child.index', f.params.indicator) : '';
}

/** A record Rust could not use, in the user's words: the child screen's wording of the key
 *  (`child.problem.*`) filled from the problem's values, else the key's own text. */
export function problemText(p: HealthProblem): string {
  return problemTextOf(p, 'child.problem');
}

/** The exact age the z-scores used, in completed months and days ("umur 2 bulan 29 hari"),
 *  from the birth date and the day measured (ISO dates). The WHO reference is read by day;
 *  saying so explains a result that differs from the printed table's monthly row. */
export function exactAge(birth: string, on: string): { months: number; days: number } | null {
  const b = new Date(`${birth}T00:00:00Z`);
  const d = new Date(`${on}T00:00:00Z`);
  if (Number.isNaN(b.getTime()) || Number.isNaN(d.getTime()) || d < b) return null;
  let months = (d.getUTCFullYear() - b.getUTCFullYear()) * 12 + (d.getUTCMonth() - b.getUTCMonth());
  const monthDay = (m: number) => {
    // Birth date + m months, the day clamped to the end of a shorter month.
    const y = b.getUTCFullYear() + Math.floor((b.getUTCMonth() + m) / 12);
    const mo = (b.getUTCMonth() + m) % 12;
    const last = new Date(Date.UTC(y, mo + 1, 0)).getUTCDate();
    return new Date(Date.UTC(y, mo, Math.min(b.getUTCDate(), last)));
  };
  if (monthDay(months) > d) months -= 1;
  const days = Math.round((d.getTime() - monthDay(months).getTime()) / 86_400_000);
  return { months, days };
}
