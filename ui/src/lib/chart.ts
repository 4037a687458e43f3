// Geometry of the growth chart (KMS): which ages and values are shown, the scales, and the
// SVG path strings of the WHO curves, the coloured bands between them and the KMS lines.
// Only drawing: every curve, z-score and result comes from Rust (growth_chart).
import type { Chart, CurvePoint, LinePoint, ReferenceLine } from './api-child';

/** The chart shows at least the first year and never more than five years. */
export const MIN_MONTHS = 12;
export const MAX_MONTHS = 60;
/** Room after the latest age so the newest point is not on the edge. */
const AHEAD_MONTHS = 2;
/** Ages on the x axis are rounded up to whole quarters. */
const ROUND_MONTHS = 3;
/** A curve point at `age_months` (days / 30.4375) counts as inside a whole-month range up to this far past it. */
const EDGE = 0.05;

/** The last month shown: a little past the child's age (and the latest point), at least
 *  12 and at most 60 months. */
export function monthsShown(ageMonths: number | null | undefined, pointAges: number[] = []): number {
  const latest = Math.max(ageMonths ?? 0, ...pointAges.filter((a) => Number.isFinite(a)), 0);
  const wanted = Math.ceil((latest + AHEAD_MONTHS) / ROUND_MONTHS) * ROUND_MONTHS;
  return Math.min(MAX_MONTHS, Math.max(MIN_MONTHS, wanted));
}

const STEPS = [0.5, 1, 2, 5, 10, 20, 50, 100];

/** The smallest round step that keeps `span` within `maxTicks` grid lines. */
export function niceStep(span: number, maxTicks = 14): number {
  for (const s of STEPS) if (span / s <= maxTicks) return s;
  return STEPS[STEPS.length - 1];
}

export interface ValueRange {
  min: number;
  max: number;
  step: number;
}

/** The curve points up to `toMonth` (the ones drawn). */
export function visibleCurves(curves: CurvePoint[], toMonth: number): CurvePoint[] {
  return curves.filter((c) => c.age_months <= toMonth + EDGE);
}

/** The y range: the −3 to +3 SD curves of the ages shown and the child's values, widened
 *  to whole steps. A value far off the curves (a typing error) does not squash the chart:
 *  it is drawn at the edge. */
export function valueRange(curves: CurvePoint[], toMonth: number, values: number[] = []): ValueRange {
  const shown = visibleCurves(curves, toMonth);
  if (shown.length === 0) return { min: 0, max: 1, step: 0.5 };
  const low = Math.min(...shown.map((c) => c.sd[0]));
  const high = Math.max(...shown.map((c) => c.sd[c.sd.length - 1]));
  const ok = values.filter((v) => Number.isFinite(v) && v >= low * 0.6 && v <= high * 1.35);
  const lo = Math.min(low, ...ok);
  const hi = Math.max(high, ...ok);
  const step = niceStep(hi - lo);
  return { min: Math.floor(lo / step) * step, max: Math.ceil(hi / step) * step, step };
}

export interface Frame {
  width: number;
  height: number;
  /** Room for the y labels, the x labels and the year row. */
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export function frame(width: number, height: number): Frame {
  return { width, height, left: 60, right: 44, top: 30, bottom: 62 };
}

export interface Scale {
  frame: Frame;
  toMonth: number;
  range: ValueRange;
  /** Plot area in SVG units. */
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  x(months: number): number;
  /** Clamped to the plot area. */
  y(value: number): number;
}

export function scale(f: Frame, toMonth: number, range: ValueRange): Scale {
  const x0 = f.left;
  const x1 = f.width - f.right;
  const y0 = f.top;
  const y1 = f.height - f.bottom;
  const span = range.max - range.min || 1;
  return {
    frame: f,
    toMonth,
    range,
    x0,
    x1,
    y0,
    y1,
    x: (m) => x0 + (m / toMonth) * (x1 - x0),
    y: (v) => Math.min(y1, Math.max(y0, y1 - ((v - range.min) / span) * (y1 - y0))),
  };
}

const r1 = (n: number) => Math.round(n * 10) / 10;

/** `M x y L x y …` through the points (empty for none). */
export function pathOf(points: [number, number][]): string {
  return points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${r1(x)} ${r1(y)}`).join(' ');
}

/** The visible curves in runs of the same position: length/height-for-age breaks at 24
 *  months, where the lying length ends and the standing height begins. */
export function segments(curves: CurvePoint[], toMonth: number): CurvePoint[][] {
  const out: CurvePoint[][] = [];
  for (const c of visibleCurves(curves, toMonth)) {
    const last = out[out.length - 1];
    if (last && last[last.length - 1].position === c.position) last.push(c);
    else out.push([c]);
  }
  return out;
}

/** The SD curve `k` (0 = −3 SD … 6 = +3 SD) of each segment. */
export function curvePaths(chart: Pick<Chart, 'curves' | 'sd_levels'>, s: Scale): { sd: number; d: string }[] {
  const runs = segments(chart.curves, s.toMonth);
  return chart.sd_levels.map((sd, k) => ({
    sd,
    d: runs.map((run) => pathOf(run.map((c) => [s.x(c.age_months), s.y(c.sd[k])]))).join(' '),
  }));
}

/** KMS-like colour of the band between two SD curves: green around the median, then
 *  yellow, orange, and red beyond −3 / +3 SD. */
export type Zone = 'green' | 'yellow' | 'orange' | 'red';
export const ZONES: Zone[] = ['red', 'orange', 'yellow', 'green', 'green', 'yellow', 'orange', 'red'];

export interface BandShape {
  /** 0 = below −3 SD, 1 = −3…−2, … 7 = above +3 SD. */
  index: number;
  zone: Zone;
  d: string;
}

/** The area between two edges (upper edge forward, lower edge back). */
function area(upper: [number, number][], lower: [number, number][]): string {
  if (upper.length === 0) return '';
  return `${pathOf([...upper, ...[...lower].reverse()])} Z`;
}

/** The eight bands: below −3 SD down to the plot's bottom, between each pair of curves,
 *  and above +3 SD up to the plot's top. */
export function bandPaths(chart: Pick<Chart, 'curves'>, s: Scale): BandShape[] {
  const runs = segments(chart.curves, s.toMonth);
  return ZONES.map((zone, index) => ({
    index,
    zone,
    d: runs
      .map((run) => {
        const edge = (k: number): [number, number][] =>
          run.map((c) => [s.x(c.age_months), k < 0 ? s.y1 : k > 6 ? s.y0 : s.y(c.sd[k])]);
        return area(edge(index), edge(index - 1));
      })
      .join(' '),
  }));
}

/** A KMS line up to the last month shown. */
export function linePath(line: Pick<ReferenceLine, 'points'>, s: Scale): string {
  return pathOf(
    line.points.filter((p: LinePoint) => p.age_months <= s.toMonth + EDGE).map((p) => [s.x(p.age_months), s.y(p.value)]),
  );
}

export interface Tick {
  value: number;
  at: number;
  label: boolean;
}

/** A grid line every month; labels as often as there is room (≥ 36 units apart). */
export function monthTicks(s: Scale, minGap = 36): Tick[] {
  const perMonth = (s.x1 - s.x0) / s.toMonth;
  const every = [1, 2, 3, 6, 12].find((k) => k * perMonth >= minGap) ?? 12;
  return Array.from({ length: s.toMonth + 1 }, (_, m) => ({ value: m, at: s.x(m), label: m % every === 0 }));
}

/** The completed years within the range (12, 24, …), for the year marks. */
export function yearTicks(s: Scale): Tick[] {
  const out: Tick[] = [];
  for (let m = 12; m <= s.toMonth; m += 12) out.push({ value: m / 12, at: s.x(m), label: true });
  return out;
}

/** A grid line every step of the value axis, each labelled. */
export function valueTicks(s: Scale): Tick[] {
  const { min, max, step } = s.range;
  const out: Tick[] = [];
  const n = Math.round((max - min) / step);
  for (let i = 0; i <= n; i++) {
    const v = Math.round((min + i * step) * 100) / 100;
    out.push({ value: v, at: s.y(v), label: true });
  }
  return out;
}

/** The SVG's height for a width: flatter in landscape, taller in portrait. */
export function chartHeight(width: number, portrait: boolean): number {
  const h = Math.round(width * (portrait ? 0.85 : 0.5));
  return Math.min(680, Math.max(340, h));
}
