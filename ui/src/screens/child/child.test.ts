import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import GrowthChart from './GrowthChart.svelte';
import ImmunisationCard from './ImmunisationCard.svelte';
import { appError, installFake } from '../../test/fake';
import { setLocale } from '../../lib/i18n';
import { router } from '../../lib/router.svelte';
import { BIRTH, growthChart, immunisationCard, MONTHS } from './fixtures';
import { doseAge, groupDoses, wholeMonths } from './card';
import { findingDetail, kmsCode, pointTone, problemText } from './growth';
import type { CardDose } from '../../lib/api-health';

// jsdom has no layout (and no ResizeObserver, which bind:clientWidth uses): the chart is
// drawn at its default width here.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
} as unknown as typeof ResizeObserver;

const text = (id: string) => screen.getByTestId(id).textContent?.replace(/\s+/g, ' ').trim() ?? '';

describe('growth chart', () => {
  it('asks Rust for the child’s chart and draws the weight-for-age curves, bands, KMS lines and 12 points', async () => {
    const fake = installFake({ growth_chart: () => growthChart() });
    render(GrowthChart, { id: 'p-child' });
    const svg = await screen.findByTestId('growth-svg');
    expect(fake.called('growth_chart')).toEqual([{ person: 'p-child' }]);
    expect(svg.getAttribute('data-indicator')).toBe('weight_for_age');
    // 12 months old: birth to 15 months, with the first year marked.
    expect(svg.getAttribute('data-months')).toBe('15');
    expect(screen.getByTestId('growth-year-1').textContent).toBe('1 th');
    for (const sd of [-3, -2, -1, 0, 1, 2, 3]) expect(screen.getByTestId(`growth-curve-${sd}`).getAttribute('d')).toMatch(/^M/);
    for (let b = 0; b < 8; b++) expect(screen.getByTestId(`growth-band-${b}`).getAttribute('class')).toMatch(/zone-(red|orange|yellow|green)/);
    expect(screen.getByTestId('growth-line-red_line').getAttribute('d')).toMatch(/^M/);
    expect(screen.getByTestId('growth-line-orange_line').getAttribute('d')).toMatch(/^M/);
    expect(screen.getByTestId('growth-child-line').getAttribute('d')!.match(/[ML]/g)).toHaveLength(12);
    const points = svg.querySelectorAll('[data-testid^="growth-point-"]');
    expect(points).toHaveLength(12);
    // Coloured by the KMS result: B blue, N green, T orange, 2T red.
    const tone = (i: number) => screen.getByTestId(`growth-point-${i}`).getAttribute('data-tone');
    expect([tone(0), tone(1), tone(8), tone(9), tone(11)]).toEqual(['info', 'ok', 'watch', 'act', 'ok']);
    expect(screen.getByTestId('growth-point-9').getAttribute('data-kms')).toBe('2T');
    expect(screen.getByTestId('growth-point-9').querySelector('rect')).not.toBeNull();
    expect(screen.getByTestId('growth-point-9').querySelector('title')!.textContent).toBe('12/09/2025: 8,6 kg · 2T · Berat badan normal');
    expect(text('growth-chart-title')).toBe('Berat badan menurut umur (BB/U)');
  });

  it('says the latest result in words, with the next action', async () => {
    installFake({ growth_chart: () => growthChart() });
    render(GrowthChart, { id: 'p-child' });
    await screen.findByTestId('growth-latest-facts');
    // The age the z-scores used, to the day (issue 16).
    expect(text('growth-latest-facts')).toBe('12/11/2025 · umur 12 bulan 2 hari · BB 9,2 kg · PB/TB 74,5 cm · KMS: N');
    expect(text('growth-next-action')).toBe('Langkah berikutnya: Pertahankan pola makan sesuai umur; timbang lagi bulan depan');
    expect(text('growth-finding-0')).toBe('Baik N: berat badan naik Naik 300 g (KBM 200 g) Pertahankan pola makan sesuai umur; timbang lagi bulan depan');
    expect(text('growth-finding-1')).toBe('Baik BB/U: Berat badan normal z-skor -0,55');
    expect(text('growth-finding-2')).toContain('PB/U atau TB/U: Normal');
  });

  it('lists the weighings newest first with date, age, weight, KMS result and category', async () => {
    installFake({ growth_chart: () => growthChart() });
    render(GrowthChart, { id: 'p-child' });
    await screen.findByTestId('growth-table');
    const rows = screen.getAllByRole('row').slice(1);
    expect(rows).toHaveLength(12);
    expect(rows[0].getAttribute('data-testid')).toBe('growth-row-11');
    const cells = (i: number) => [...screen.getByTestId(`growth-row-${i}`).querySelectorAll('td')].map((c) => c.textContent?.trim());
    expect(cells(11)).toEqual(['12/11/2025', '1 tahun', '9,2', 'N', 'Berat badan normal']);
    expect(cells(9)).toEqual(['12/09/2025', '10 bulan', '8,6', '2T', 'Berat badan normal']);
    expect(cells(0)).toEqual(['12/12/2024', '1 bulan', '4,6', 'B', 'Berat badan normal']);
  });

  it('switches to length/height-for-age and marks the value WHO flags', async () => {
    installFake({ growth_chart: () => growthChart() });
    render(GrowthChart, { id: 'p-child' });
    await fireEvent.click(await screen.findByTestId('growth-tab-lhfa'));
    expect(screen.getByTestId('growth-tab-lhfa').getAttribute('aria-selected')).toBe('true');
    expect(screen.getByTestId('growth-svg').getAttribute('data-indicator')).toBe('length_height_for_age');
    expect(text('growth-chart-title')).toBe('Panjang/tinggi badan menurut umur (PB/U, TB/U)');
    expect(screen.queryByTestId('growth-line-red_line')).toBeNull();
    expect(screen.getByTestId('growth-point-9').getAttribute('data-flagged')).toBe('true');
    expect(screen.getByTestId('growth-point-9').querySelector('.flag-ring')).not.toBeNull();
    expect(screen.getByTestId('growth-point-9').getAttribute('data-tone')).toBe('watch');
    expect(text('growth-row-flag-9')).toBe('Tidak wajar: periksa ulang');
    const head = [...screen.getByTestId('growth-table').querySelectorAll('th')].map((h) => h.textContent);
    expect(head).toEqual(['Tanggal', 'Umur', 'PB/TB (cm)', 'Kategori']);
  });

  it('shows the records Rust could not use', async () => {
    installFake({
      growth_chart: () =>
        growthChart({
          problems: [
            { fact: 'f1', key: 'growth.measure_before_birth', params: { date: '2024-11-01', birth: '2024-11-10' } },
            { fact: null, key: 'kms.something_new', params: { date: '2025-01-01' } },
          ],
        }),
    });
    render(GrowthChart, { id: 'p-child' });
    await screen.findByTestId('growth-problems');
    expect(text('growth-problems')).toContain('2 catatan tidak bisa dipakai');
    expect(text('growth-problems-0')).toBe('Pengukuran tanggal 01/11/2024 sebelum tanggal lahir: tidak dipakai.');
    // A key the files do not know: the generic text, never Rust's English sentence.
    expect(text('growth-problems-1')).toBe('Ada data yang perlu diperiksa.');
  });

  it('says when there is nothing to draw yet', async () => {
    const g = growthChart({ latest: null, next_action: null, kms: [] });
    g.wfa.points = [];
    installFake({ growth_chart: () => g });
    render(GrowthChart, { id: 'p-child' });
    expect((await screen.findByTestId('growth-no-data')).textContent).toBe('Belum ada penimbangan atau pengukuran.');
    expect(screen.getByTestId('growth-table-empty').textContent).toBe('Belum ada penimbangan.');
    expect(screen.getByTestId('growth-svg').getAttribute('data-months')).toBe('15');
  });

  it('speaks English', async () => {
    setLocale('en');
    installFake({ growth_chart: () => growthChart() });
    render(GrowthChart, { id: 'p-child' });
    await screen.findByTestId('growth-latest-facts');
    // (The age is the shared formatAge's.)
    expect(text('growth-latest-facts')).toBe('12/11/2025 · age 12 months 2 days · Weight 9.2 kg · Length/height 74.5 cm · KMS: N');
    expect(text('growth-next-action')).toBe('Next step: Keep feeding as for the age; weigh again next month');
    expect(text('growth-chart-title')).toBe('Weight-for-age');
    expect(screen.getByTestId('growth-year-1').textContent).toBe('1 yr');
  });

  it('shows why the chart could not be made, and goes back to the profile', async () => {
    installFake({
      growth_chart: () => {
        throw appError('validation.required', 'birth_date');
      },
    });
    render(GrowthChart, { id: 'p-child' });
    expect((await screen.findByTestId('growth-error')).getAttribute('data-key')).toBe('validation.required');
    await fireEvent.click(screen.getByTestId('growth-back'));
    expect(router.route).toEqual({ name: 'profile', id: 'p-child' });
  });
});

describe('growth helpers', () => {
  const g = growthChart();

  it('writes the KMS result as the card does', () => {
    expect(kmsCode(MONTHS[9])).toBe('2T');
    expect(kmsCode({ ...MONTHS[5], bgm: true })).toBe('N · BGM');
    expect(kmsCode({ ...MONTHS[5], result: 'T', above_orange: true })).toBe('T · di atas garis oranye');
    expect(kmsCode(undefined, 'O')).toBe('O');
    expect(kmsCode(undefined)).toBe('');
  });

  it('colours a weighing by the KMS result unless its category is more pressing', () => {
    const p = g.wfa.points[5];
    expect(pointTone(g.wfa, p, MONTHS[5])).toBe('ok');
    expect(pointTone(g.wfa, { ...p, category: g.wfa.bands[1].category }, MONTHS[5])).toBe('act');
    expect(pointTone(g.wfa, p, { ...MONTHS[5], bgm: true })).toBe('act');
    expect(pointTone(g.lhfa, g.lhfa.points[0])).toBe('ok');
  });

  it('puts a finding’s values in words', () => {
    expect(findingDetail({ label: MONTHS[0] as never, level: 'act', action: null, params: { gain_g: '-150', kbm_g: '300' } })).toBe('Turun 150 g');
    expect(findingDetail({ label: MONTHS[0] as never, level: 'act', action: null, params: { gain_g: '0', kbm_g: '200' } })).toBe('Berat sama dengan bulan lalu (KBM 200 g)');
    expect(findingDetail({ label: MONTHS[0] as never, level: 'watch', action: null, params: { last_weighed: '2025-08-12' } })).toBe('Terakhir ditimbang 12/08/2025');
  });

  it('names the dose of a refused immunisation', () => {
    expect(problemText({ fact: null, key: 'immunisation.given_in_future', params: { dose: 'BCG', date: '2026-01-02' } })).toBe(
      'Imunisasi BCG tanggal 02/01/2026 setelah hari ini: periksa tanggalnya.',
    );
  });
});

describe('immunisation card', () => {
  it('groups every dose by the age it is due, in schedule order, each with its status', async () => {
    const fake = installFake({ immunisation_card: () => immunisationCard() });
    render(ImmunisationCard, { id: 'p-child' });
    await screen.findByTestId('card-group-0');
    expect(fake.called('immunisation_card')).toEqual([{ person: 'p-child', on: null }]);
    const groups = [...document.querySelectorAll('[data-testid^="card-group-"]')].map((g) => ({
      title: g.querySelector('h2')!.textContent,
      doses: [...g.querySelectorAll('[data-status]')].map((d) => d.getAttribute('data-testid')!.replace('card-dose-', '')),
    }));
    expect(groups.map((g) => g.title)).toEqual([
      'Saat lahir (0 bulan)',
      'Umur 1 bulan',
      'Umur 2 bulan',
      'Umur 3 bulan',
      'Umur 4 bulan',
      'Umur 11 bulan',
      'Umur 1 tahun',
      'Umur 1 tahun 4 bulan',
      'Umur 1 tahun 6 bulan',
      'Tidak bisa diberikan lagi / tidak untuk wilayah ini',
    ]);
    expect(groups[2].doses).toEqual(['OPV2', 'DPT-HB-Hib1', 'PCV1', 'RV1']);
    expect(groups[3].doses).toEqual(['OPV3', 'DPT-HB-Hib2', 'PCV2']);
    expect(groups.at(-1)!.doses).toEqual(['RV2', 'RV3', 'JE']);
    expect(groups.flatMap((g) => g.doses)).toHaveLength(21);
  });

  it('shows each state as a word with its dates', async () => {
    installFake({ immunisation_card: () => immunisationCard() });
    render(ImmunisationCard, { id: 'p-child' });
    await screen.findByTestId('card-dose-HB0');
    const status = (d: string) => screen.getByTestId(`card-dose-${d}`).getAttribute('data-status');
    expect(status('HB0')).toBe('given');
    expect(text('card-dose-HB0-status')).toBe('Sudah diberikan');
    expect(text('card-dose-HB0-dates')).toBe('Diberikan 10/11/2024');
    expect(text('card-dose-MR1-status')).toBe('Sudah diberikan (imunisasi kejar)');
    expect(status('OPV3')).toBe('overdue');
    expect(text('card-dose-OPV3-status')).toBe('Terlambat: berikan imunisasi kejar');
    expect(text('card-dose-OPV3-dates')).toBe('Jadwal 10/02/2025');
    expect(text('card-dose-DPT-HB-Hib2-dates')).toBe('Jadwal 10/02/2025; imunisasi kejar boleh sampai 09/12/2025');
    expect(text('card-dose-PCV3-status')).toBe('Sudah waktunya diberikan');
    expect(text('card-dose-PCV3-dates')).toBe('Jadwal 10/11/2025, tepat waktu sampai 09/12/2025');
    expect(text('card-dose-MR2-status')).toBe('Belum waktunya');
    expect(text('card-dose-MR2-dates')).toBe('Jadwal 10/05/2026');
    expect(text('card-dose-RV2-status')).toBe('Tidak boleh diberikan lagi (lewat batas umur)');
    expect(text('card-dose-RV2-dates')).toBe('Batas terakhir 08/06/2025');
    expect(text('card-dose-JE-status')).toBe('Tidak untuk wilayah ini');
    expect(screen.queryByTestId('card-dose-JE-dates')).toBeNull();
    expect(text('card-dose-DPT-HB-Hib1-again')).toBe('Juga dicatat: 12/02/2025 (DPT-HB-Hib 1)');
    expect(text('card-unmatched-f-polio')).toBe('Polio 12/02/2025');
    expect([...screen.getByTestId('card-summary').querySelectorAll('li')].map((li) => li.textContent)).toEqual([
      '6 terlambat (kejar)',
      '1 sudah waktunya',
      '8 sudah diberikan',
      '3 belum waktunya',
    ]);
    expect(text('card-child')).toBe('Petrus Fiktif Bria · Lahir 10/11/2024 · Keadaan per 22/11/2025');
  });

  it('groups by the schedule’s age when Rust sends it', async () => {
    const card = immunisationCard();
    const ages: Record<string, number> = { HB0: 0, BCG: 1, OPV1: 1, OPV2: 2, OPV3: 3, OPV4: 4, 'DPT-HB-Hib1': 2, 'DPT-HB-Hib2': 3, 'DPT-HB-Hib3': 4, 'DPT-HB-Hib4': 18, PCV1: 2, PCV2: 3, PCV3: 12, RV1: 2, RV2: 3, RV3: 4, IPV1: 4, IPV2: 9, MR1: 9, JE: 10, MR2: 18 };
    card.doses = card.doses.map((d) => ({ ...d, due_age: { months: ages[d.dose_id], days: 0 } }));
    installFake({ immunisation_card: () => card });
    render(ImmunisationCard, { id: 'p-child' });
    await screen.findByTestId('card-group-9');
    const ids = (m: number) => [...screen.getByTestId(`card-group-${m}`).querySelectorAll('[data-status]')].map((d) => d.getAttribute('data-testid'));
    expect(ids(4)).toEqual(['card-dose-OPV4', 'card-dose-DPT-HB-Hib3', 'card-dose-RV3', 'card-dose-IPV1']);
    expect(ids(9)).toEqual(['card-dose-IPV2', 'card-dose-MR1']);
    expect(ids(10)).toEqual(['card-dose-JE']);
    expect(screen.queryByTestId('card-group-other')).toBeNull();
  });

  it('shows the records set aside, and English', async () => {
    setLocale('en');
    installFake({
      immunisation_card: () =>
        immunisationCard({ problems: [{ fact: 'f9', key: 'immunisation.given_before_birth', params: { dose: 'BCG', date: '2024-10-01' } }] }),
    });
    render(ImmunisationCard, { id: 'p-child' });
    expect(await screen.findByTestId('card-problems-0')).toHaveProperty('textContent', 'Immunisation BCG of 01/10/2024 is before the birth date: not used.');
    expect(text('card-dose-PCV3-dates')).toBe('Due 10/11/2025, on time until 09/12/2025');
    expect(text('card-dose-OPV3-status')).toBe('Overdue: give as catch-up');
    expect(screen.getByTestId('card-group-0').querySelector('h2')!.textContent).toBe('At birth (0 months)');
  });

  it('opens the growth chart', async () => {
    installFake({ immunisation_card: () => immunisationCard() });
    render(ImmunisationCard, { id: 'p-child' });
    await fireEvent.click(await screen.findByTestId('card-open-growth'));
    await waitFor(() => expect(router.route).toEqual({ name: 'growth', id: 'p-child' }));
  });
});

describe('card helpers', () => {
  it('counts whole calendar months as the card does', () => {
    expect(wholeMonths('2024-01-31', '2024-02-29')).toBe(1);
    expect(wholeMonths('2024-01-31', '2024-02-28')).toBe(0);
    expect(wholeMonths('2023-01-31', '2023-02-28')).toBe(1);
    expect(wholeMonths(BIRTH, '2025-11-09')).toBe(11);
    expect(wholeMonths(BIRTH, '2025-11-10')).toBe(12);
    expect(wholeMonths(BIRTH, BIRTH)).toBe(0);
    expect(wholeMonths(BIRTH, '2024-11-09')).toBeNull();
  });

  it('files a dose under its state’s date until Rust sends the schedule age', () => {
    const d = immunisationCard().doses;
    const by = (id: string) => d.find((x) => x.dose_id === id) as CardDose;
    expect(doseAge(by('HB0'), BIRTH)).toBe(0);
    expect(doseAge(by('OPV3'), BIRTH)).toBe(3);
    expect(doseAge(by('JE'), BIRTH)).toBeNull();
    expect(doseAge({ ...by('JE'), due_age: { months: 10, days: 0 } }, BIRTH)).toBe(10);
    expect(groupDoses({ birth_date: BIRTH, doses: [by('JE'), by('HB0')] }).map((g) => g.months)).toEqual([0, null]);
  });
});

describe('printable PDFs of the chart and the card', () => {
  const file = (name: string) => ({ path: `/data/exports/${name}`, file_name: name, bytes: 52_000 });

  it('makes the growth chart PDF for this child and names the file, its size and where it is', async () => {
    const fake = installFake({
      growth_chart: () => growthChart(),
      export_growth_chart_pdf: () => file('kms-Yosef-Bere-2025-11-20.pdf'),
    });
    render(GrowthChart, { id: 'p-child' });
    const make = await screen.findByTestId('growth-pdf-make');
    expect(make.textContent).toContain('Buat PDF untuk dicetak');
    expect(screen.queryByTestId('growth-pdf-made')).toBeNull();
    await fireEvent.click(make);
    expect((await screen.findByTestId('growth-pdf-file')).textContent).toBe('PDF kms-Yosef-Bere-2025-11-20.pdf tersimpan (51 KB).');
    expect(fake.called('export_growth_chart_pdf')).toEqual([{ person: 'p-child' }]);
    expect(text('growth-pdf-path')).toBe('/data/exports/kms-Yosef-Bere-2025-11-20.pdf');
  });

  it('makes the immunisation card PDF for the day the card shows', async () => {
    const c = immunisationCard();
    const fake = installFake({
      immunisation_card: () => c,
      export_immunisation_card_pdf: () => file('imunisasi-Yosef-Bere.pdf'),
    });
    render(ImmunisationCard, { id: 'p-child' });
    await fireEvent.click(await screen.findByTestId('card-pdf-make'));
    await screen.findByTestId('card-pdf-made');
    expect(fake.called('export_immunisation_card_pdf')).toEqual([{ person: 'p-child', on: c.on }]);
    expect(text('card-pdf-file')).toBe('PDF imunisasi-Yosef-Bere.pdf tersimpan (51 KB).');
  });

  it('“Simpan ke…” asks the save dialog where, and Rust copies the PDF there; cancelling copies nothing', async () => {
    let answer: string | null = null;
    const fake = installFake({
      growth_chart: () => growthChart(),
      export_growth_chart_pdf: () => file('kms-Yosef-Bere-2025-11-20.pdf'),
      'plugin:dialog|save': () => answer,
      save_export_as: (a) => a.dest,
    });
    render(GrowthChart, { id: 'p-child' });
    await fireEvent.click(await screen.findByTestId('growth-pdf-make'));
    const saveAs = await screen.findByTestId('growth-pdf-save-as');
    expect(saveAs.textContent).toBe('Simpan ke…');
    await fireEvent.click(saveAs);
    await waitFor(() => expect(fake.called('plugin:dialog|save')).toHaveLength(1));
    const asked = fake.called('plugin:dialog|save')[0].options as { defaultPath: string; filters: { extensions: string[] }[] };
    expect(asked.defaultPath).toBe('kms-Yosef-Bere-2025-11-20.pdf');
    expect(asked.filters[0].extensions).toEqual(['pdf']);
    expect(fake.called('save_export_as')).toEqual([]);
    answer = '/home/kader/Dokumen/kms-Yosef.pdf';
    await fireEvent.click(saveAs);
    expect((await screen.findByTestId('growth-pdf-saved-to')).textContent).toBe('Salinan tersimpan di /home/kader/Dokumen/kms-Yosef.pdf');
    expect(fake.called('save_export_as')).toEqual([{ fileName: 'kms-Yosef-Bere-2025-11-20.pdf', dest: '/home/kader/Dokumen/kms-Yosef.pdf' }]);
  });

  it('says why the PDF was not made, in the user’s words, and shows no file', async () => {
    installFake({
      growth_chart: () => growthChart(),
      export_growth_chart_pdf: () => {
        throw { key: 'app.data_dir', id: 'x', en: 'x', field: null, params: {} };
      },
    });
    render(GrowthChart, { id: 'p-child' });
    await fireEvent.click(await screen.findByTestId('growth-pdf-make'));
    expect((await screen.findByTestId('growth-pdf-error')).textContent).toContain('Folder data aplikasi tidak dapat ditulis.');
    expect(screen.queryByTestId('growth-pdf-made')).toBeNull();
    expect((screen.getByTestId('growth-pdf-make') as HTMLButtonElement).disabled).toBe(false);
  });
});
