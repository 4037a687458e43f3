// Issue 16's small field fixes, in the words a kader reads.
import { beforeEach, describe, expect, it } from 'vitest';
import { relationWord, setLocale, t } from './i18n';
import { lateText } from './tasks';
import { entryDetail, entryTitle } from './timeline';
import { percent } from './posyandu';
import { percent as reportPercent } from './report';
import { exactAge } from '../screens/child/growth';
import type { TimelineEntry } from './api';

const entry = (kind: string, body: Record<string, unknown>): TimelineEntry => ({ id: 'x', kind, date: '2026-11-01', body, supersedes: null, superseded_by: null });

describe('field fixes', () => {
  beforeEach(() => setLocale('id'));

  it('says months or years beyond 60 days late', () => {
    expect(lateText(5, t)).toBe('5 hari terlambat');
    expect(lateText(60, t)).toBe('60 hari terlambat');
    expect(lateText(73, t)).toBe('2 bulan terlambat');
    expect(lateText(887, t)).toBe('2 tahun terlambat');
    setLocale('en');
    expect(lateText(400, t)).toBe('13 months late');
  });

  it('names a spouse by sex', () => {
    expect(relationWord('spouse', 'female')).toBe('Istri');
    expect(relationWord('spouse', 'male')).toBe('Suami');
    expect(relationWord('spouse', null)).toBe('Istri / Suami');
    expect(relationWord('child', 'female')).toBe('Anak');
  });

  it('shows the history with decimal commas, vaccine names and the kind of contact', () => {
    expect(entryDetail(entry('measurement', { type: 'weight', value: 9.2, unit: 'kg' }))).toBe('Berat badan: 9,2 kg');
    expect(entryDetail(entry('measurement', { type: 'muac', value: 22.5, unit: 'cm' }))).toBe('LiLA: 22,5 cm');
    expect(entryDetail(entry('immunisation', { vaccine: 'MR1' }))).toBe('Campak-Rubela (MR) 1');
    expect(entryDetail(entry('immunisation', { vaccine: 'DPT-HB-Hib 2' }))).toBe('DPT-HB-Hib 2');
    expect(entryTitle(entry('visit', { type: 'posyandu' }))).toBe('Posyandu');
    expect(entryTitle(entry('visit', { type: 'home' }))).toBe('Kunjungan rumah');
    setLocale('en');
    expect(entryDetail(entry('measurement', { type: 'weight', value: 9.2, unit: 'kg' }))).toBe('Weight: 9.2 kg');
    expect(entryTitle(entry('visit', { type: 'home' }))).toBe('Home visit');
  });

  it('one percentage format on the summary and in Laporan', () => {
    expect(percent(0.5, 'id')).toBe('50,0%');
    expect(reportPercent(0.5)).toBe('50,0%');
    expect(percent(1, 'id')).toBe(reportPercent(1));
    expect(percent(5 / 7, 'id')).toBe(reportPercent(5 / 7));
  });

  it('gives the exact age in months and days', () => {
    expect(exactAge('2026-01-01', '2026-03-31')).toEqual({ months: 2, days: 30 });
    expect(exactAge('2026-01-31', '2026-04-29')).toEqual({ months: 2, days: 29 });
    expect(exactAge('2026-02-10', '2026-02-10')).toEqual({ months: 0, days: 0 });
    expect(exactAge('2026-02-10', '2026-02-09')).toBeNull();
    expect(t('child.latest.exact_age', { months: 2, days: 29 })).toBe('umur 2 bulan 29 hari');
  });
});
