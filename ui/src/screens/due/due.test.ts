import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import DueList from './DueList.svelte';
import Reports from './Reports.svelte';
import Home from '../Home.svelte';
import { home, installFake } from '../../test/fake';
import { router } from '../../lib/router.svelte';
import { resetDueFilter } from '../../lib/due-filter.svelte';
import { setLocale } from '../../lib/i18n';
import type { PersonSummary, PersonTasks } from '../../lib/api';
import type { DueEntry, PosyanduReport, ReportRow, Skdn } from '../../lib/api-due';
import type { Counts, PosyanduOptions } from '../../lib/api-health';

const person = (over: Partial<PersonSummary> = {}): PersonSummary => ({
  id: 'a0f5c2de-0000-4000-8000-000000000001',
  posyandu: '53.04.05.2001.P01',
  household: 'b1c2d3e4-0000-4000-8000-000000000001',
  name: 'Petrus Fiktif Bria',
  sex: 'male',
  birth_date: '2025-05-10',
  birth_date_estimated: false,
  nik: null,
  mother: null,
  status: 'active',
  age_months: 6,
  life_stage: 'balita',
  values: { relation: 'child' },
  ...over,
});

const maria = person({ id: 'a0f5c2de-0000-4000-8000-000000000002', name: 'Maria Fiktif Seran', sex: 'female', birth_date: '1994-08-03', age_months: 375, life_stage: 'adult' });
const yakobus = person({ id: 'a0f5c2de-0000-4000-8000-000000000003', household: null, name: 'Yakobus Fiktif', birth_date: '2024-01-02', age_months: 22 });

const entry = (over: Partial<DueEntry>): DueEntry => ({
  person: person(),
  household_head: 'Yohanes Fiktif Bria',
  dusun: 'Dusun 1 Naitimu',
  rt: '003',
  group: 'vaccines',
  kind: 'vaccine_overdue',
  priority: 'high',
  due: '2025-09-10',
  days_late: 73,
  reason: { key: 'tasks.vaccine_overdue', id: 'Imunisasi terlambat: berikan imunisasi kejar', en: 'Vaccine overdue: give as catch-up' },
  params: { vaccine: 'DPT-HB-Hib 1', dose_id: 'DPT-HB-Hib1' },
  form: 'immunisation',
  ...over,
});

const ENTRIES: DueEntry[] = [
  entry({
    person: maria,
    group: 'anc',
    kind: 'anc_missed',
    priority: 'high',
    due: '2025-11-01',
    days_late: 21,
    reason: { key: 'tasks.anc_missed', id: 'Pemeriksaan kehamilan (ANC) terlewat: kunjungan rumah', en: 'Antenatal contact (ANC) missed: home visit' },
    params: { contact: 'K2', by_doctor: 'false' },
    form: 'anc',
  }),
  entry({}),
  entry({ params: { vaccine: 'PCV 1', dose_id: 'PCV1' }, due: '2025-09-10' }),
  entry({
    person: yakobus,
    household_head: null,
    dusun: 'Dusun 2 Fatubesi',
    rt: '1',
    group: 'missed_posyandu',
    kind: 'missed_posyandu',
    priority: 'normal',
    due: '2025-11-25',
    days_late: 0,
    reason: { key: 'tasks.missed_posyandu', id: 'Tidak datang ke posyandu: kunjungan rumah', en: 'Missed the posyandu: home visit' },
    params: { last_attended: '2025-09-15' },
    form: 'home_visit',
  }),
];

const OPTIONS = (over: Partial<PosyanduOptions> = {}): PosyanduOptions => ({
  today: '2025-11-22',
  posyandu: [{ code: '53.04.05.2001.P01', name: 'Posyandu Mawar' }],
  sessions: [],
  ...over,
});

const households = () => [
  { id: 'b1c2d3e4-0000-4000-8000-000000000001', head_name: 'Yohanes Fiktif Bria', dusun: 'Dusun 1 Naitimu', rt: '003', members: 3, matched_members: [] },
  { id: 'b1c2d3e4-0000-4000-8000-000000000009', head_name: 'Agustinus Fiktif', dusun: 'Dusun 3 Lakmaras', rt: '007', members: 4, matched_members: [] },
];

beforeEach(() => resetDueFilter());

describe('due list', () => {
  it('shows each entry in Rust’s order with who, where, why, how urgent and by when', async () => {
    installFake({ posyandu_options: () => OPTIONS(), due_list: () => ENTRIES, search_households: households });
    render(DueList);
    const rows = await screen.findAllByTestId('due-row');
    expect(rows.map((r) => r.dataset.person)).toEqual([maria.id, person().id, person().id, yakobus.id]);
    const first = within(rows[1]);
    expect(first.getByTestId('due-row-name').textContent).toBe('Petrus Fiktif Bria');
    expect(first.getByTestId('due-row-age').textContent).toBe('6 bulan');
    expect(first.getByTestId('due-row-place').textContent?.trim()).toBe('KK: Yohanes Fiktif Bria · Dusun 1 Naitimu · RT 003');
    expect(first.getByTestId('due-row-reason').textContent?.replace(/\s+/g, ' ').trim()).toBe('Imunisasi terlambat: berikan imunisasi kejar: DPT-HB-Hib 1');
    expect(first.getByTestId('due-row-priority').textContent).toBe('Penting');
    expect(rows[1].className).toContain('prio-high');
    expect(first.getByTestId('due-row-due').textContent).toBe('10/09/2025');
    // Beyond 60 days, months (issue 16: "887 hari terlambat").
    expect(first.getByTestId('due-row-late').textContent).toBe('2 bulan terlambat');
    // Not late: no "terlambat", the last attendance from the params.
    expect(within(rows[3]).queryByTestId('due-row-late')).toBeNull();
    expect(rows[3].textContent).toContain('terakhir datang 15/09/2025');
    expect(screen.getByTestId('due-count').textContent).toContain('4 tugas');
    setLocale('en');
    await waitFor(() => expect(within(rows[1]).getByTestId('due-row-late').textContent).toBe('2 months late'));
    expect(within(rows[1]).getByTestId('due-row-reason').textContent).toContain('Vaccine overdue');
  });

  it('narrows by kind of work with chips that count', async () => {
    installFake({ posyandu_options: () => OPTIONS(), due_list: () => ENTRIES, search_households: households });
    render(DueList);
    await screen.findAllByTestId('due-row');
    expect(screen.getByTestId('due-group-all-count').textContent).toBe('4');
    expect(screen.getByTestId('due-group-vaccines-count').textContent).toBe('2');
    expect(screen.getByTestId('due-group-anc-count').textContent).toBe('1');
    expect(screen.getByTestId('due-group-tb-count').textContent).toBe('0');
    await fireEvent.click(screen.getByTestId('due-group-vaccines'));
    expect(screen.getAllByTestId('due-row').map((r) => r.dataset.kind)).toEqual(['vaccine_overdue', 'vaccine_overdue']);
    expect(screen.getByTestId('due-group-vaccines').getAttribute('aria-pressed')).toBe('true');
    await fireEvent.click(screen.getByTestId('due-group-missed_posyandu'));
    expect(screen.getAllByTestId('due-row')).toHaveLength(3);
    await fireEvent.click(screen.getByTestId('due-group-all'));
    expect(screen.getAllByTestId('due-row')).toHaveLength(4);
  });

  it('asks Rust for one dusun and RT (choices from the entries and households), one posyandu', async () => {
    const fake = installFake({
      posyandu_options: () => OPTIONS({ posyandu: [{ code: '53.04.05.2001.P01', name: 'Posyandu Mawar' }, { code: '53.04.05.2001.P02', name: 'Posyandu Melati' }] }),
      due_list: (a) => {
        const f = a.filter as { dusun: string | null };
        return f.dusun ? ENTRIES.filter((e) => e.dusun === f.dusun) : ENTRIES;
      },
      search_households: households,
    });
    render(DueList);
    await screen.findAllByTestId('due-row');
    expect(fake.called('due_list')[0]).toEqual({ filter: { posyandu: null, dusun: null, rt: null, groups: [], on_posyandu_day: false } });
    const dusun = screen.getByTestId('due-dusun') as HTMLSelectElement;
    await waitFor(() => expect([...dusun.options].map((o) => o.value)).toEqual(['', 'Dusun 1 Naitimu', 'Dusun 2 Fatubesi', 'Dusun 3 Lakmaras']));
    await fireEvent.change(dusun, { target: { value: 'Dusun 1 Naitimu' } });
    await waitFor(() => expect(screen.getAllByTestId('due-row')).toHaveLength(3));
    expect(fake.called('due_list').at(-1)).toEqual({ filter: { posyandu: null, dusun: 'Dusun 1 Naitimu', rt: null, groups: [], on_posyandu_day: false } });
    // The other dusun stay on offer after narrowing.
    expect(dusun.options).toHaveLength(4);
    const rtList = document.getElementById('due-rt-list')!;
    expect([...rtList.querySelectorAll('option')].map((o) => o.value)).toEqual(['003']);
    await fireEvent.input(screen.getByTestId('due-rt'), { target: { value: '3' } });
    await waitFor(() => expect(fake.called('due_list').at(-1)).toEqual({ filter: { posyandu: null, dusun: 'Dusun 1 Naitimu', rt: '3', groups: [], on_posyandu_day: false } }), { timeout: 2000 });
    await fireEvent.change(screen.getByTestId('due-posyandu'), { target: { value: '53.04.05.2001.P02' } });
    await waitFor(() => expect((fake.called('due_list').at(-1)?.filter as { posyandu: string }).posyandu).toBe('53.04.05.2001.P02'));
  });

  it('shows no posyandu choice for a kader of one posyandu', async () => {
    installFake({ posyandu_options: () => OPTIONS(), due_list: () => [], search_households: () => [] });
    render(DueList);
    await screen.findByTestId('due-empty');
    expect(screen.queryByTestId('due-posyandu')).toBeNull();
  });

  it('opens the form each entry names', async () => {
    installFake({ posyandu_options: () => OPTIONS(), due_list: () => ENTRIES, search_households: households });
    render(DueList);
    const rows = await screen.findAllByTestId('due-row');
    await fireEvent.click(rows[1]);
    expect(router.route).toEqual({ name: 'immunisation', id: person().id });
    await fireEvent.click(rows[0]);
    expect(router.route).toEqual({ name: 'home_visit', household: maria.household, person: maria.id });
    // No household: the profile.
    await fireEvent.click(rows[3]);
    expect(router.route).toEqual({ name: 'profile', id: yakobus.id });
  });

  it('on a posyandu day asks for the day’s forms and opens the measurement at today’s session', async () => {
    const today = { id: 'c0ffee00-0000-4000-8000-000000000001', posyandu: '53.04.05.2001.P01', posyandu_name: 'Posyandu Mawar', date: '2025-11-22', service_order: null };
    const fake = installFake({
      posyandu_options: () => OPTIONS({ sessions: [today] }),
      due_list: (a) => ((a.filter as { on_posyandu_day: boolean }).on_posyandu_day ? [{ ...ENTRIES[3], person: person(), form: 'posyandu_measurement' }] : ENTRIES),
      search_households: households,
    });
    render(DueList);
    const row = await screen.findByTestId('due-row');
    expect(fake.called('due_list')[0]).toEqual({ filter: { posyandu: null, dusun: null, rt: null, groups: [], on_posyandu_day: true } });
    expect((screen.getByTestId('due-on-day') as HTMLInputElement).checked).toBe(true);
    await fireEvent.click(row);
    expect(router.route).toEqual({ name: 'attendance', session: today.id, person: person().id });
  });
});

const counts = (over: Partial<Counts> = {}): Counts => ({ s: 0, k: 0, d: 0, n: 0, t: 0, o: 0, b: 0, absent: 0, two_t: 0, bgm: 0, vitamin_a: 0, asi_eksklusif: 0, ...over });
const ratiosOf = (c: Counts) => {
  const r = (a: number, b: number) => (b > 0 ? a / b : null);
  return { k_s: r(c.k, c.s), d_s: r(c.d, c.s), d_k: r(c.d, c.k), n_d: r(c.n, c.d), n_s: r(c.n, c.s), n_d_prime: r(c.n, c.d - c.o - c.b) };
};
// Three children: a boy of 6-11 months weighed (N), a girl of 12-23 weighed first time (B),
// a boy of 24-59 not weighed.
const CELLS: Record<string, Counts> = {
  '6-11:male': counts({ s: 1, k: 1, d: 1, n: 1 }),
  '12-23:female': counts({ s: 1, k: 1, d: 1, b: 1 }),
  '24-59:male': counts({ s: 1, k: 1, absent: 1 }),
};
const sum = (cs: Counts[]) => cs.reduce((a, c) => counts(Object.fromEntries(Object.keys(a).map((k) => [k, a[k as keyof Counts] + c[k as keyof Counts]]))), counts());
function rows(): ReportRow[] {
  const out: ReportRow[] = [];
  const cell = (band: string, sex: string) => CELLS[`${band}:${sex}`] ?? counts();
  for (const band of ['0-5', '6-11', '12-23', '24-59'] as const) {
    const m = cell(band, 'male');
    const f = cell(band, 'female');
    out.push({ band, sex: 'male', counts: m, ratios: ratiosOf(m) });
    out.push({ band, sex: 'female', counts: f, ratios: ratiosOf(f) });
    out.push({ band, sex: null, counts: sum([m, f]), ratios: ratiosOf(sum([m, f])) });
  }
  const males = sum(['0-5', '6-11', '12-23', '24-59'].map((b) => cell(b, 'male')));
  const females = sum(['0-5', '6-11', '12-23', '24-59'].map((b) => cell(b, 'female')));
  out.push({ band: null, sex: 'male', counts: males, ratios: ratiosOf(males) });
  out.push({ band: null, sex: 'female', counts: females, ratios: ratiosOf(females) });
  const all = sum([males, females]);
  out.push({ band: null, sex: null, counts: all, ratios: ratiosOf(all) });
  return out;
}
const TOTAL = counts({ s: 3, k: 3, d: 2, n: 1, b: 1, absent: 1 });
const skdn = (month: { year: number; month: number }): Skdn => ({ posyandu: '53.04.05.2001.P01', month, counts: TOTAL, ratios: ratiosOf(TOTAL), problems: [] });
const report = (month: { year: number; month: number }): PosyanduReport => ({
  report: { posyandu_id: '53.04.05.2001.P01', month, kbm_table_id: 'kbm-buku-kia-2020', red_line_id: 'kms-2010-wfa-3sd', vitamin_a_month: false, rows: rows(), problems: [{ index: 3, key: 'kms.implausible_weight', params: { date: '2026-08-01', weight_g: '95000' } }] },
  activity: {
    sessions: ['2025-11-22'],
    posyandu_visits: 2,
    home_visits: 1,
    immunisations: { 'DPT-HB-Hib1': 1, PCV1: 1 },
    immunisations_unmatched: 0,
    pregnant_women: 2,
    pregnant_kek: 1,
    anc_contacts: 1,
    referrals_made: 0,
    births: 1,
    deaths: 0,
  },
  problems: [{ person: 'a0f5c2de-0000-4000-8000-000000000007', name: 'Anak Fiktif Salah', key: 'kms.implausible_weight', params: { date: '2026-08-01', weight_g: '95000' } }],
});
const CSV = "posyandu,bulan,umur_bulan,jenis_kelamin,S,K,D,N,T,O,B,tidak_hadir,2T,BGM,vitamin_A,ASI_eksklusif,K/S_%,D/S_%,D/K_%,N/D_%,N/S_%,N/D'_%\n53.04.05.2001.P01,2025-11,0-59,L+P,3,3,2,1,0,0,1,1,0,0,0,0,100.0,66.7,66.7,50.0,33.3,100.0\n";

function reportFake() {
  const month = (m: string) => ({ year: Number(m.slice(0, 4)), month: Number(m.slice(5, 7)) });
  return installFake({
    posyandu_options: () => OPTIONS({ posyandu: [{ code: '53.04.05.2001.P01', name: 'Posyandu Mawar' }, { code: '53.04.05.2001.P02', name: 'Posyandu Melati' }] }),
    skdn: (a) => skdn(month(a.month as string)),
    monthly_report: (a) => report(month(a.month as string)),
    export_report_csv: (a) => ({
      path: `/home/kader/.local/share/jangkau/exports/laporan-posyandu-53-04-05-2001-P01-${a.month}.csv`,
      file_name: `laporan-posyandu-53-04-05-2001-P01-${a.month}.csv`,
      csv: CSV,
    }),
    export_report_pdf: (a) => ({
      path: `/home/kader/.local/share/jangkau/exports/laporan-Posyandu-Mawar-${a.month}.pdf`,
      file_name: `laporan-Posyandu-Mawar-${a.month}.pdf`,
      bytes: 412_300,
    }),
  });
}

describe('reports', () => {
  it('shows the SKDN of this month with the ratios as percentages', async () => {
    const fake = reportFake();
    render(Reports);
    expect((await screen.findByTestId('skdn-d')).textContent).toBe('2');
    expect(fake.called('skdn')[0]).toEqual({ posyandu: '53.04.05.2001.P01', month: '2025-11' });
    expect(fake.called('monthly_report')[0]).toEqual({ posyandu: '53.04.05.2001.P01', month: '2025-11' });
    const letters = ['s', 'k', 'd', 'n', 't', 'o', 'b'].map((k) => screen.getByTestId(`skdn-${k}`).textContent);
    expect(letters).toEqual(['3', '3', '2', '1', '0', '0', '1']);
    expect(screen.getByTestId('ratio-k_s').textContent).toBe('100,0%');
    expect(screen.getByTestId('ratio-d_s').textContent).toBe('66,7%');
    expect(screen.getByTestId('ratio-n_d').textContent).toBe('50,0%');
    expect(screen.getByTestId('report-heading').textContent).toBe('Posyandu Mawar · November 2025');
  });

  it('shows the F1 table by age band and sex, the month’s activity and the records to check', async () => {
    reportFake();
    render(Reports);
    await screen.findByTestId('f1-table');
    expect(screen.getByTestId('f1-6-11-male-n').textContent).toBe('1');
    expect(screen.getByTestId('f1-12-23-female-b').textContent).toBe('1');
    expect(screen.getByTestId('f1-24-59-male-absent').textContent).toBe('1');
    expect(screen.getByTestId('f1-all-both-d').textContent).toBe('2');
    expect(screen.getByTestId('f1-all-both').textContent).toContain('66,7%');
    expect(screen.getAllByRole('row')).toHaveLength(16);
    expect(screen.getByTestId('act-session-dates').textContent).toBe('22/11/2025');
    expect(screen.getByTestId('act-posyandu_visits').textContent).toBe('2');
    expect(screen.getByTestId('act-pregnant_kek').textContent).toBe('1');
    expect(screen.getByTestId('act-dose-DPT-HB-Hib1').textContent).toBe('1');
    expect(screen.getByTestId('act-births').textContent).toBe('1');
    const problem = screen.getByTestId('report-problem');
    expect(problem.textContent).toContain('Anak Fiktif Salah');
    expect(problem.textContent).toContain('Ada berat badan yang tidak mungkin.');
    await fireEvent.click(problem);
    expect(router.route).toEqual({ name: 'profile', id: 'a0f5c2de-0000-4000-8000-000000000007' });
  });

  it('reads another posyandu and an earlier month', async () => {
    const fake = reportFake();
    render(Reports);
    await screen.findByTestId('skdn-d');
    const month = screen.getByTestId('report-month') as HTMLSelectElement;
    expect(month.value).toBe('2025-11');
    expect([...month.options].slice(0, 3).map((o) => o.textContent)).toEqual(['November 2025', 'Oktober 2025', 'September 2025']);
    await fireEvent.change(month, { target: { value: '2025-10' } });
    await waitFor(() => expect(fake.called('skdn').at(-1)).toEqual({ posyandu: '53.04.05.2001.P01', month: '2025-10' }));
    await fireEvent.change(screen.getByTestId('report-posyandu'), { target: { value: '53.04.05.2001.P02' } });
    await waitFor(() => expect(fake.called('monthly_report').at(-1)).toEqual({ posyandu: '53.04.05.2001.P02', month: '2025-10' }));
    await waitFor(() => expect(screen.getByTestId('report-heading').textContent).toBe('Posyandu Melati · Oktober 2025'));
  });

  it('exports the CSV and shows where it was written, with its text to copy', async () => {
    const fake = reportFake();
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    render(Reports);
    await fireEvent.click(await screen.findByTestId('report-export'));
    expect(fake.called('export_report_csv')).toEqual([{ posyandu: '53.04.05.2001.P01', month: '2025-11' }]);
    expect((await screen.findByTestId('report-csv-file')).textContent).toBe('File laporan-posyandu-53-04-05-2001-P01-2025-11.csv tersimpan.');
    expect(screen.getByTestId('report-csv-path').textContent).toBe('/home/kader/.local/share/jangkau/exports/laporan-posyandu-53-04-05-2001-P01-2025-11.csv');
    // The path is there on request (under "Di mana file ini?"), not as the message itself.
    expect(screen.getByTestId('report-csv-path').closest('details')?.open).toBe(false);
    expect((screen.getByTestId('report-csv-text') as HTMLTextAreaElement).value).toBe(CSV);
    await fireEvent.click(screen.getByTestId('report-csv-copy'));
    expect(writeText).toHaveBeenCalledWith(CSV);
    expect((await screen.findByTestId('report-csv-copied')).textContent).toBe('Teks CSV sudah disalin.');
    Object.defineProperty(navigator, 'clipboard', { value: undefined, configurable: true });
    await fireEvent.click(screen.getByTestId('report-csv-copy'));
    expect(await screen.findByTestId('report-csv-select')).toBeTruthy();
  });

  it('makes the PDF to print and names its file', async () => {
    const fake = reportFake();
    render(Reports);
    await fireEvent.click(await screen.findByTestId('report-export-pdf'));
    expect(fake.called('export_report_pdf')).toEqual([{ posyandu: '53.04.05.2001.P01', month: '2025-11' }]);
    expect((await screen.findByTestId('report-pdf-file')).textContent).toBe('PDF laporan-Posyandu-Mawar-2025-11.pdf tersimpan (403 KB).');
  });

  it('says why an export was refused', async () => {
    installFake({
      posyandu_options: () => OPTIONS(),
      skdn: () => skdn({ year: 2025, month: 11 }),
      monthly_report: () => report({ year: 2025, month: 11 }),
      export_report_csv: () => {
        throw { key: 'app.data_dir', id: 'x', en: 'x', field: null };
      },
    });
    render(Reports);
    expect((await screen.findByTestId('report-posyandu-name')).textContent).toBe('Posyandu Mawar');
    await fireEvent.click(await screen.findByTestId('report-export'));
    expect((await screen.findByTestId('report-export-error')).textContent).toContain('Folder data aplikasi tidak dapat ditulis.');
  });
});

describe('Beranda', () => {
  const tasks: PersonTasks[] = [
    {
      person: person(),
      tasks: [
        { kind: 'vaccine_overdue', priority: 'high' as const, due: '2025-09-10', reason: ENTRIES[1].reason, params: { vaccine: 'DPT-HB-Hib 1', dose_id: 'DPT-HB-Hib1' }, form: 'immunisation' as const },
        { kind: 'growth_bgm_refer', priority: 'urgent' as const, due: '2025-11-22', reason: { key: 'tasks.growth_bgm_refer', id: 'Balita BGM', en: 'BGM' }, params: { finding: 'bgm' }, form: 'referral' as const },
      ],
      problems: [],
    },
    {
      person: yakobus,
      tasks: [{ kind: 'check_data', priority: 'high' as const, due: '2025-11-22', reason: { key: 'tasks.check_data', id: 'Periksa data', en: 'Check the data' }, params: {}, form: 'correct_record' as const }],
      problems: [],
    },
  ];

  it('opens the form of each task of today', async () => {
    installFake({ home: () => home({ tasks }) });
    render(Home);
    const lines = within(await screen.findByTestId(`task-lines-${person().id}`)).getAllByTestId('task-item');
    await fireEvent.click(lines[0]);
    expect(router.route).toEqual({ name: 'immunisation', id: person().id });
    await fireEvent.click(lines[1]);
    expect(router.route).toEqual({ name: 'home_visit', household: person().household, person: person().id });
    await fireEvent.click(within(screen.getByTestId(`task-lines-${yakobus.id}`)).getByTestId('task-item'));
    expect(router.route).toEqual({ name: 'profile', id: yakobus.id });
  });

  it('has quick buttons to the posyandu day, the due list and the reports', async () => {
    installFake({ home: () => home() });
    render(Home);
    await screen.findByTestId('tasks-empty');
    await fireEvent.click(screen.getByTestId('home-posyandu-today'));
    expect(router.route).toEqual({ name: 'posyandu' });
    await fireEvent.click(screen.getByTestId('home-due'));
    expect(router.route).toEqual({ name: 'due' });
    await fireEvent.click(screen.getByTestId('home-reports'));
    expect(router.route).toEqual({ name: 'reports' });
    expect(screen.getByTestId('home-reports').textContent).toContain('Laporan');
  });
});
