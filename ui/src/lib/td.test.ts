import { beforeEach, describe, expect, it } from 'vitest';
import { setLocale } from './i18n';
import { emptyTd, tdEarlier, tdSourceText, tdStatusText, toTdImmunisations, type TdView } from './td';

const view = (over: Partial<TdView>): TdView => ({
  status: 0,
  last_dose: null,
  source: null,
  protection_years: null,
  next: { state: 'due', next: 1 },
  table: 'td-wus-permenkes-12-2017-v1',
  label: { key: 'td.state.due', id: '', en: '' },
  offer: 'Td T1',
  earlier_vaccine: null,
  records: [],
  source_text: '',
  ...over,
});

describe('Td status in words', () => {
  beforeEach(() => setLocale('id'));

  it('says the status and the next dose in each state, Indonesian then English', () => {
    // (Rust's answer, Indonesian, English)
    const rows: [TdView, string, string][] = [
      [view({}), 'Status imunisasi Td: T0 · dosis berikutnya T1 hari ini', 'Td immunisation status: T0 · next dose T1 today'],
      [
        view({ status: 2, next: { state: 'due', next: 3 }, offer: 'Td T3' }),
        'Status imunisasi Td: T2 · dosis berikutnya T3 hari ini',
        'Td immunisation status: T2 · next dose T3 today',
      ],
      [
        view({ status: 3, next: { state: 'not_yet_due', next: 4, earliest: '2027-12-06' }, offer: null }),
        'Status imunisasi Td: T3 · dosis berikutnya T4 mulai 06/12/2027',
        'Td immunisation status: T3 · next dose T4 from 06/12/2027',
      ],
      [
        view({ status: 5, next: { state: 'complete' }, offer: null }),
        'Status imunisasi Td: T5 · lengkap, terlindungi jangka panjang (tidak perlu Td lagi)',
        'Td immunisation status: T5 · complete, long protection (no more Td needed)',
      ],
    ];
    for (const [v, id, en] of rows) {
      setLocale('id');
      expect(tdStatusText(v)).toBe(id);
      setLocale('en');
      expect(tdStatusText(v)).toBe(en);
    }
  });

  it('says where the status comes from', () => {
    expect(tdSourceText(view({}))).toBe('');
    expect(tdSourceText(view({ status: 2, source: 'told' }))).toBe('menurut keterangan ibu');
    expect(tdSourceText(view({ status: 2, source: 'buku_kia', last_dose: '2026-05-01' }))).toBe('menurut Buku KIA, dosis terakhir 01/05/2026');
    expect(tdSourceText(view({ status: 3, source: 'given', last_dose: '2026-12-06' }))).toBe('dosis terakhir 06/12/2026');
  });
});

describe('Td on the posyandu form', () => {
  it('asks Rust about an earlier status only when it is complete', () => {
    expect(tdEarlier(emptyTd())).toBeNull();
    expect(tdEarlier({ ...emptyTd(), earlier: '2' })).toEqual({ status: 2, source: 'told' });
    expect(tdEarlier({ ...emptyTd(), earlier: '2', earlierSource: 'buku_kia' })).toBeNull();
    expect(tdEarlier({ ...emptyTd(), earlier: '2', earlierSource: 'buku_kia', earlierDate: '2026-05-01' })).toEqual({
      status: 2,
      source: 'buku_kia',
      date: '2026-05-01',
    });
  });

  it("saves the earlier status with the Buku KIA's day, and the offered dose only when ticked", () => {
    const d = { ...emptyTd(), earlier: '2' as const, earlierSource: 'buku_kia' as const, earlierDate: '2026-05-01' };
    const v = view({ status: 2, next: { state: 'due', next: 3 }, offer: 'Td T3', earlier_vaccine: 'Td T2 (Buku KIA)' });
    expect(toTdImmunisations(v, d)).toEqual([{ vaccine: 'Td T2 (Buku KIA)', date: '2026-05-01' }]);
    expect(toTdImmunisations(v, { ...d, give: true })).toEqual([{ vaccine: 'Td T2 (Buku KIA)', date: '2026-05-01' }, { vaccine: 'Td T3' }]);
    const told = view({ status: 2, next: { state: 'due', next: 3 }, offer: 'Td T3', earlier_vaccine: 'Td T2 (kata ibu)' });
    expect(toTdImmunisations(told, { ...emptyTd(), earlier: '2', give: true })).toEqual([{ vaccine: 'Td T2 (kata ibu)' }, { vaccine: 'Td T3' }]);
    // Not due: nothing to give even when the box was ticked before Rust's answer changed.
    const later = view({ status: 3, next: { state: 'not_yet_due', next: 4, earliest: '2027-12-06' }, offer: null });
    expect(toTdImmunisations(later, { ...emptyTd(), give: true })).toEqual([]);
    expect(toTdImmunisations(null, { ...emptyTd(), give: true })).toEqual([]);
  });
});
