import { afterEach, describe, expect, it } from 'vitest';
import { setLocale } from './i18n';
import { problemText } from './problems';

describe('a problem health-rules reports', () => {
  afterEach(() => setLocale('id'));

  it('is worded from its key and values, dates and decimals the language’s way', () => {
    expect(problemText({ key: 'pregnancy.implausible_hb', params: { value: '25.5' } })).toBe(
      'Hb 25,5 g/dL tidak mungkin (kisaran 3–20 g/dL): periksa angkanya.',
    );
    expect(problemText({ key: 'kms.weighing_before_birth', params: { date: '2026-04-01', birth: '2026-05-01' } })).toBe(
      'Penimbangan tanggal 01/04/2026 sebelum tanggal lahir (01/05/2026): periksa kedua tanggal.',
    );
    setLocale('en');
    expect(problemText({ key: 'pregnancy.implausible_hb', params: { value: '25.5' } })).toBe(
      'Hb 25.5 g/dL is not possible (range 3–20 g/dL): check the number.',
    );
  });

  it('names a dose by its vaccine and prefers the screen’s own wording', () => {
    const p = { key: 'immunisation.given_before_birth', params: { dose: 'MR1', date: '2024-10-01' } };
    expect(problemText(p)).toMatch(/^Imunisasi Campak-Rubela.* tanggal 01\/10\/2024 sebelum tanggal lahir/);
    expect(problemText(p, 'child.problem')).toMatch(/: tidak dipakai\.$/);
  });

  it('falls back to the generic text for an unknown key or a missing value', () => {
    expect(problemText({ key: 'kms.something_new', params: {} })).toBe('Ada data yang perlu diperiksa.');
    expect(problemText({ key: 'pregnancy.implausible_hb', params: {} })).toBe('Ada data yang perlu diperiksa.');
  });
});
