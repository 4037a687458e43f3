import { describe, expect, it } from 'vitest';
import {
  bandPaths,
  chartHeight,
  curvePaths,
  frame,
  linePath,
  monthTicks,
  monthsShown,
  niceStep,
  pathOf,
  scale,
  segments,
  valueRange,
  valueTicks,
  visibleCurves,
  yearTicks,
  ZONES,
} from './chart';
import { growthChart } from '../screens/child/fixtures';

const g = growthChart();

/** The numbers of a path string, in pairs. */
const coords = (d: string): [number, number][] => {
  const n = (d.match(/-?\d+(\.\d+)?/g) ?? []).map(Number);
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < n.length; i += 2) out.push([n[i], n[i + 1]]);
  return out;
};

describe('the age range shown', () => {
  it('is at least the first year', () => {
    expect(monthsShown(0)).toBe(12);
    expect(monthsShown(null)).toBe(12);
    expect(monthsShown(7)).toBe(12);
  });

  it('goes a little past the child’s age, in whole quarters', () => {
    expect(monthsShown(12)).toBe(15);
    expect(monthsShown(13)).toBe(15);
    expect(monthsShown(22)).toBe(24);
    expect(monthsShown(34)).toBe(36);
  });

  it('stops at five years', () => {
    expect(monthsShown(58)).toBe(60);
    expect(monthsShown(70)).toBe(60);
  });

  it('reaches the latest point when the age is unknown or older data is shown', () => {
    expect(monthsShown(null, [3.1, 16.2])).toBe(21);
    expect(monthsShown(80, [40])).toBe(60);
  });
});

describe('the value range', () => {
  it('covers the −3 to +3 SD curves of the ages shown, in whole steps', () => {
    const r = valueRange(g.wfa.curves, 15, []);
    // Boys' weight-for-age: −3 SD at birth 2.08 kg, +3 SD at 15 months 14.3 kg.
    expect(r).toEqual({ min: 2, max: 15, step: 1 });
    const l = valueRange(g.lhfa.curves, 15, []);
    expect(l.step).toBe(5);
    expect(l.min).toBe(40);
    expect(l.max).toBe(90);
  });

  it('widens for the child’s values but not for a typing error', () => {
    expect(valueRange(g.wfa.curves, 15, [15.4]).max).toBe(16);
    expect(valueRange(g.wfa.curves, 15, [85]).max).toBe(15);
    expect(valueRange(g.wfa.curves, 15, [0.2]).min).toBe(2);
  });

  it('uses fewer grid lines for five years', () => {
    const r = valueRange(g.wfa.curves, 60, []);
    expect(r.step).toBe(2);
    expect((r.max - r.min) / r.step).toBeLessThanOrEqual(14);
  });

  it('picks round steps', () => {
    expect(niceStep(6)).toBe(0.5);
    expect(niceStep(12)).toBe(1);
    expect(niceStep(27)).toBe(2);
    expect(niceStep(45)).toBe(5);
    expect(niceStep(70)).toBe(5);
    expect(niceStep(150)).toBe(20);
  });
});

describe('the scale', () => {
  const f = frame(1000, 600);
  const s = scale(f, 15, { min: 2, max: 14, step: 1 });

  it('maps birth to the left edge and the last month to the right', () => {
    expect(s.x(0)).toBe(f.left);
    expect(s.x(15)).toBe(1000 - f.right);
  });

  it('maps the range to the plot height, larger values higher, clamped to the plot', () => {
    expect(s.y(2)).toBe(600 - f.bottom);
    expect(s.y(14)).toBe(f.top);
    expect(s.y(8)).toBeCloseTo((f.top + 600 - f.bottom) / 2, 6);
    expect(s.y(40)).toBe(f.top);
    expect(s.y(-5)).toBe(600 - f.bottom);
  });
});

describe('paths', () => {
  const s = scale(frame(1000, 600), 15, valueRange(g.wfa.curves, 15));

  it('writes M then L with one decimal', () => {
    expect(pathOf([])).toBe('');
    expect(pathOf([[1.234, 2], [3, 4.56]])).toBe('M1.2 2 L3 4.6');
  });

  it('draws the seven SD curves up to the last month, the median through the median values', () => {
    const paths = curvePaths(g.wfa, s);
    expect(paths.map((p) => p.sd)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    const shown = visibleCurves(g.wfa.curves, 15);
    expect(shown.at(-1)!.age_days).toBe(457); // 15 months
    const median = coords(paths[3].d);
    expect(median).toHaveLength(shown.length);
    expect(median[0][0]).toBe(s.x0);
    expect(median[0][1]).toBeCloseTo(s.y(shown[0].sd[3]), 1);
    // Each curve lies above the one below it.
    const at = (k: number) => coords(paths[k].d)[5][1];
    for (let k = 1; k < 7; k++) expect(at(k)).toBeLessThan(at(k - 1));
  });

  it('breaks length/height-for-age at 24 months (lying to standing)', () => {
    const runs = segments(g.lhfa.curves, 36);
    expect(runs).toHaveLength(2);
    expect(runs[0].at(-1)!.age_days).toBe(730);
    expect(runs[1][0].age_days).toBe(731);
    const s36 = scale(frame(1000, 600), 36, valueRange(g.lhfa.curves, 36));
    expect(curvePaths(g.lhfa, s36)[3].d.match(/M/g)).toHaveLength(2);
    expect(segments(g.lhfa.curves, 15)).toHaveLength(1);
  });

  it('fills eight bands, KMS colours from red to green and back, each closed', () => {
    const bands = bandPaths(g.wfa, s);
    expect(bands.map((b) => b.zone)).toEqual(ZONES);
    expect(ZONES).toEqual(['red', 'orange', 'yellow', 'green', 'green', 'yellow', 'orange', 'red']);
    for (const b of bands) expect(b.d).toMatch(/^M.* Z$/);
    // Below −3 SD reaches down to the bottom of the plot; above +3 SD up to its top.
    expect(coords(bands[0].d).some(([, y]) => y === s.y1)).toBe(true);
    expect(coords(bands[7].d).some(([, y]) => y === s.y0)).toBe(true);
    // The band between −1 and 0 SD runs along those two curves.
    const paths = curvePaths(g.wfa, s);
    const band3 = coords(bands[3].d);
    const n = visibleCurves(g.wfa.curves, 15).length;
    expect(band3).toHaveLength(2 * n);
    expect(band3.slice(0, n)).toEqual(coords(paths[3].d));
    expect(band3.slice(n).reverse()).toEqual(coords(paths[2].d));
  });

  it('draws the KMS lines where Rust put them, up to the last month', () => {
    const red = g.wfa.lines.find((l) => l.kind === 'red_line')!;
    const d = coords(linePath(red, s));
    expect(d).toHaveLength(visibleCurves(g.wfa.curves, 15).length);
    expect(d[0][1]).toBeCloseTo(s.y(red.points[0].value), 1);
  });
});

describe('ticks', () => {
  it('has a grid line every month and labels as often as they fit', () => {
    const wide = monthTicks(scale(frame(1000, 600), 15, { min: 2, max: 14, step: 1 }));
    expect(wide).toHaveLength(16);
    expect(wide.every((t) => t.label)).toBe(true);
    const five = monthTicks(scale(frame(700, 600), 60, { min: 2, max: 30, step: 2 }));
    expect(five).toHaveLength(61);
    // 596 units for 60 months: a label every 6 months keeps them 36 apart.
    expect(five.filter((t) => t.label).map((t) => t.value)).toEqual([0, 6, 12, 18, 24, 30, 36, 42, 48, 54, 60]);
  });

  it('marks every completed year', () => {
    expect(yearTicks(scale(frame(1000, 600), 15, { min: 2, max: 14, step: 1 })).map((t) => t.value)).toEqual([1]);
    expect(yearTicks(scale(frame(1000, 600), 60, { min: 2, max: 30, step: 2 })).map((t) => t.value)).toEqual([1, 2, 3, 4, 5]);
  });

  it('labels the value axis at every step', () => {
    const ticks = valueTicks(scale(frame(1000, 600), 15, { min: 2, max: 14, step: 1 }));
    expect(ticks.map((t) => t.value)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect(valueTicks(scale(frame(1000, 600), 15, { min: 7, max: 9, step: 0.5 })).map((t) => t.value)).toEqual([7, 7.5, 8, 8.5, 9]);
  });

  it('is taller in portrait than in landscape, within bounds', () => {
    expect(chartHeight(1000, false)).toBe(500);
    expect(chartHeight(700, true)).toBe(595);
    expect(chartHeight(300, false)).toBe(340);
    expect(chartHeight(2000, true)).toBe(680);
  });
});
