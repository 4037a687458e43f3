import { describe, expect, it } from 'vitest';
import { bandGroups, barWidth, doseList, monthName, monthOf, percent, recentMonths, ymText } from './report';
import { setLocale } from './i18n';
import type { ReportRow } from './api-due';

const zero = { s: 0, k: 0, d: 0, n: 0, t: 0, o: 0, b: 0, absent: 0, two_t: 0, bgm: 0, vitamin_a: 0, asi_eksklusif: 0 };
const ratios = { k_s: null, d_s: null, d_k: null, n_d: null, n_s: null, n_d_prime: null };

describe('report presentation', () => {
  it('offers this month and the eleven before, across the new year', () => {
    expect(monthOf('2026-02-03')).toBe('2026-02');
    const m = recentMonths('2026-02-03');
    expect(m).toHaveLength(12);
    expect(m.slice(0, 3)).toEqual(['2026-02', '2026-01', '2025-12']);
    expect(m[11]).toBe('2025-03');
    expect(ymText({ year: 2025, month: 3 })).toBe('2025-03');
  });

  it('names the month in the user’s language', () => {
    expect(monthName('2025-08')).toBe('Agustus 2025');
    setLocale('en');
    expect(monthName('2025-08')).toBe('August 2025');
  });

  it('shows ratios as percentages with one decimal, a dash when there is none', () => {
    expect(percent(2 / 3)).toBe('66,7%');
    expect(percent(1)).toBe('100,0%');
    expect(percent(null)).toBe('–');
    setLocale('en');
    expect(percent(0.5)).toBe('50.0%');
    expect(barWidth(0.25)).toBe(25);
    expect(barWidth(null)).toBe(0);
    expect(barWidth(1.5)).toBe(100);
  });

  it('puts the rows in table order: bands, then all ages; male, female, both', () => {
    const row = (band: ReportRow['band'], sex: ReportRow['sex']): ReportRow => ({ band, sex, counts: zero, ratios });
    // Shuffled on purpose.
    const rows = [row(null, null), row('6-11', 'female'), row('0-5', null), row('0-5', 'male'), row('6-11', 'male'), row('0-5', 'female')];
    const g = bandGroups(rows);
    expect(g.map((x) => x.band)).toEqual(['0-5', '6-11', null]);
    expect(g[0].rows.map((r) => r.sex)).toEqual(['male', 'female', null]);
    expect(g[1].rows.map((r) => r.sex)).toEqual(['male', 'female']);
  });

  it('lists the doses given', () => {
    expect(doseList({ BCG: 2, HB0: 0, 'DPT-HB-Hib1': 1 })).toEqual([
      { dose: 'BCG', n: 2 },
      { dose: 'DPT-HB-Hib1', n: 1 },
    ]);
  });
});
