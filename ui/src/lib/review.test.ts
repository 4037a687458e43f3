import { describe, expect, it } from 'vitest';
import {
  canCorrect,
  correctedValue,
  defaultChoices,
  defaultKept,
  effectText,
  factCounts,
  fieldLabel,
  inputKind,
  mergeIds,
  pairValueText,
  problemLine,
  tabletText,
  takeFields,
  valueText,
  whoText,
} from './review';
import type { PairComparison, PairField } from './api-review';
import type { GrowthPoint } from './api-health';

const f = (field: string, first: unknown, second: unknown): PairField => ({ field, first, second, same: first === second });

describe('conflict values in words', () => {
  it('words dates, sexes, yes/no, empty values and deletions', () => {
    expect(valueText('birth_date', '2024-03-05')).toBe('05/03/2024');
    expect(valueText('sex', 'female')).toBe('Perempuan');
    expect(valueText('has_kms', true)).toBe('Ya');
    expect(valueText('nik', null)).toBe('(kosong)');
    expect(valueText('_deleted', false)).toBe('Data tetap ada');
    expect(valueText('_deleted', null)).toBe('(kosong)');
    expect(valueText('name', 'Maria Fiktif')).toBe('Maria Fiktif');
    expect(fieldLabel('birth_date')).toBe('Tanggal lahir');
    expect(fieldLabel('_deleted')).toBe('Penghapusan data');
  });

  it('names who and which tablet, known or not', () => {
    expect(whoText('Kader Mawar', 'u1')).toBe('Kader Mawar');
    expect(whoText(null, '019aab0c-1e20-7000-8000-00000000a001')).toBe('pengguna 0000a001');
    expect(tabletText(true, 'x')).toBe('tablet ini');
    expect(tabletText(false, '019aaa00-0000-7000-8000-00000000d001')).toBe('tablet 00d001');
  });

  it('turns a typed correction into the value to write', () => {
    expect(correctedValue('birth_date', ' 2024-03-05 ')).toBe('2024-03-05');
    expect(correctedValue('has_kms', 'true')).toBe(true);
    expect(correctedValue('has_kms', 'false')).toBe(false);
    expect(correctedValue('name', '   ')).toBeNull();
    expect(inputKind('birth_date')).toBe('date');
    expect(inputKind('sex')).toBe('sex');
    expect(inputKind('jkn')).toBe('bool');
    expect(inputKind('name')).toBe('text');
    expect(canCorrect({ field: '_deleted' })).toBe(false);
    expect(canCorrect({ field: 'birth_date' })).toBe(true);
  });

  it('says what a clinical value changes, from Rust results only', () => {
    const g = {
      date: '2025-11-22',
      age_months: 20,
      weight_kg: 9,
      length_height_cm: null,
      assessment: { wfa: { z: -2.3, category: { key: 'k', id: 'Berat badan kurang', en: 'Underweight' }, flagged: false, reference: 'who2006' } },
      kms: { month: { year: 2025, month: 11 }, date: '2025-11-22', weight_g: 9000, age_months: 20, result: 'T', gain_g: 0, kbm_g: 300, two_t: true, bgm: false, above_orange: false },
      error_key: null,
    } as unknown as GrowthPoint;
    const text = effectText({ growth: g, hpl: null }, true);
    expect(text).toContain('22/11/2025');
    expect(text).toContain('KMS 2T');
    expect(text).toContain('Berat badan kurang');
    expect(effectText({ growth: null, hpl: null }, true)).toBe('Tidak ada hasil pertumbuhan dengan nilai ini.');
    expect(effectText({ growth: null, hpl: '2026-03-01' }, true)).toBe('HPL (hari perkiraan lahir): 01/03/2026');
    expect(effectText({ growth: null, hpl: null }, false)).toBe('');
  });

  it('words a data problem with its reason', () => {
    const reason = { key: 'tasks.check_data', id: 'Periksa data', en: 'Check the data' };
    expect(problemLine({ reason, params: {} })).toBe('Periksa data');
    expect(problemLine({ reason, params: { problem: 'no.such.key' } })).toMatch(/^Periksa data: /);
  });
});

describe('merge choices', () => {
  const fields = [
    f('name', 'Yosef Fiktif', 'Yosep Fiktif'),
    f('birth_date', '2024-01-05', '2024-01-05'),
    f('nik', null, '5304011501240001'),
    f('phone', '0812', null),
  ];

  it('keeps the record with the longer history by default', () => {
    expect(defaultKept({ first: 3, second: 5 })).toBe('second');
    expect(defaultKept({ first: 5, second: 5 })).toBe('first');
  });

  it('keeps the survivor\'s values, filling what it lacks from the other', () => {
    const c = defaultChoices(fields, 'first');
    expect(c).toEqual({ name: 'first', nik: 'second', phone: 'first' });
    expect(takeFields(c, 'first')).toEqual(['nik']);
    const d = defaultChoices(fields, 'second');
    expect(d).toEqual({ name: 'second', nik: 'second', phone: 'first' });
    expect(takeFields(d, 'second')).toEqual(['phone']);
    expect(takeFields({ ...c, name: 'second' }, 'first')).toEqual(['name', 'nik']);
  });

  it('names the survivor and the merged record', () => {
    const side = (id: string) => ({ timeline: { person: { id } }, household: null, visits: 0 });
    const cmp = { first: side('a'), second: side('b'), fields } as unknown as PairComparison;
    expect(mergeIds(cmp, 'first')).toEqual({ kept: 'a', merged: 'b' });
    expect(mergeIds(cmp, 'second')).toEqual({ kept: 'b', merged: 'a' });
  });

  it('counts live facts by kind', () => {
    expect(
      factCounts([
        { kind: 'measurement', superseded_by: null },
        { kind: 'measurement', superseded_by: 'x' },
        { kind: 'visit', superseded_by: null },
      ]),
    ).toEqual({ measurement: 1, visit: 1 });
  });
});

describe('Tinjauan routes', async () => {
  const { parseHash, toHash } = await import('./router.svelte');
  it('reaches the queue and a pair by address', () => {
    expect(parseHash('#/tinjauan')).toEqual({ name: 'review' });
    expect(parseHash('#/tinjauan/ganda/a1/b2')).toEqual({ name: 'review_pair', first: 'a1', second: 'b2' });
    expect(parseHash('#/tinjauan/ganda/a1')).toEqual({ name: 'review' });
    expect(toHash({ name: 'review_pair', first: 'a1', second: 'b2' })).toBe('#/tinjauan/ganda/a1/b2');
    expect(toHash({ name: 'review' })).toBe('#/tinjauan');
  });
});

describe('values in a comparison', () => {
  it('names a household by its head and a mother as recorded', () => {
    const side = (id: string, head: string) => ({ timeline: {}, household: { id, posyandu: null, head_name: head, dusun: null, rt: null, members: [] }, visits: 0 });
    const cmp = { first: side('h1', 'Yohanes Bria'), second: side('h2', 'Maria Hale') } as unknown as PairComparison;
    expect(pairValueText(cmp, 'household', 'h2')).toBe('Keluarga Maria Hale');
    expect(pairValueText(cmp, 'household', 'h9')).toBe('h9');
    expect(pairValueText(cmp, 'mother', 'p7')).toBe('tercatat');
    expect(pairValueText(cmp, 'mother', null)).toBe('(kosong)');
    expect(pairValueText(cmp, 'birth_date', '2024-05-10')).toBe('10/05/2024');
  });
});
