import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import PosyanduStart from './PosyanduStart.svelte';
import PosyanduDay from './PosyanduDay.svelte';
import Attendance from './Attendance.svelte';
import PosyanduSummary from './PosyanduSummary.svelte';
import { appError, installFake, type Fake, type Handler } from '../../test/fake';
import { router } from '../../lib/router.svelte';
import { setFlash } from '../../lib/drafts.svelte';
import { setLocale } from '../../lib/i18n';
import type { AttendanceInput } from '../../lib/api-posyandu';
import type { MeasurementInput } from '../../lib/api-health';
import {
  CHILD,
  GRANDPA,
  MOTHER,
  POSYANDU,
  SESSION,
  TODDLER,
  card,
  checkImplausible,
  checkKek,
  checkT,
  day,
  options,
  sessionRef,
  summary,
} from './fixtures';

async function type(testid: string, value: string) {
  await fireEvent.input(screen.getByTestId(testid), { target: { value } });
}
const value = (testid: string) => (screen.getByTestId(testid) as HTMLInputElement).value;
const text = (testid: string) => screen.getByTestId(testid).textContent?.replace(/\s+/g, ' ').trim() ?? '';

function fake(handlers: Record<string, Handler> = {}): Fake {
  return installFake({
    posyandu_options: () => options(),
    posyandu_day: () => day(),
    immunisation_card: () => card(),
    assess_measurement: () => checkT(),
    record_attendance: () => ({ visit: 'v-1', saved: { measurements: ['m-1'], immunisations: [], supplements: [], screenings: [], referral: null } }),
    session_summary: () => summary(),
    ...handlers,
  });
}

describe('PosyanduStart', () => {
  it("preselects the kader's posyandu and today, and opens the day in the chosen order", async () => {
    const f = fake({ open_posyandu_session: (a) => sessionRef({ date: a.date as string, service_order: a.order as 'counselling_first' }) });
    render(PosyanduStart);
    expect((await screen.findByTestId('start-posyandu-name')).textContent).toContain('Posyandu Mawar');
    await waitFor(() => expect(value('start-date')).toBe('22/11/2025'));
    expect(screen.getByTestId('start-order-services_first').getAttribute('aria-checked')).toBe('true');
    await fireEvent.click(screen.getByTestId('start-order-counselling_first'));
    await fireEvent.click(screen.getByTestId('start-open'));
    await waitFor(() => expect(f.called('open_posyandu_session')).toEqual([{ posyandu: POSYANDU, date: '2025-11-22', order: 'counselling_first' }]));
    await waitFor(() => expect(router.route).toEqual({ name: 'posyandu_day', session: SESSION }));
  });

  it('lets a bidan choose among the posyandu of her area, and resumes a recent day', async () => {
    fake({ posyandu_options: () => options({ posyandu: [{ code: 'P02', name: 'Posyandu Anggrek' }, { code: POSYANDU, name: 'Posyandu Mawar' }] }) });
    render(PosyanduStart);
    const first = await screen.findByTestId('start-posyandu-P02');
    expect(first.getAttribute('aria-checked')).toBe('true');
    const recent = screen.getByTestId('start-session-0193a8c0-0000-7000-8000-00000000aaaa');
    expect(recent.textContent).toContain('18/10/2025');
    expect(recent.textContent).toContain('Penyuluhan dulu, lalu pelayanan');
    await fireEvent.click(recent);
    expect(router.route).toEqual({ name: 'posyandu_day', session: '0193a8c0-0000-7000-8000-00000000aaaa' });
  });

  it('keeps the date and says why when Rust refuses it', async () => {
    fake({
      open_posyandu_session: () => {
        throw appError('validation.date_in_future', 'date', { today: '2025-11-22' });
      },
    });
    render(PosyanduStart);
    await waitFor(() => expect(value('start-date')).toBe('22/11/2025'));
    await type('start-date', '01/12/2025');
    await fireEvent.click(screen.getByTestId('start-open'));
    expect((await screen.findByTestId('start-date-error')).textContent).toBe('Tanggal tidak boleh setelah hari ini (22/11/2025).');
    expect(value('start-date')).toBe('01/12/2025');
  });
});

describe('PosyanduDay', () => {
  it('lists who is expected with the reasons, the others for walk-ins, and a done mark', async () => {
    fake();
    setFlash('posyandu.saved', { name: 'Ana Fiktif Tefa' });
    render(PosyanduDay, { session: SESSION });
    const expected = await screen.findByTestId('day-expected');
    const names = within(expected).getAllByTestId('roster-name').map((e) => e.textContent);
    expect(names).toEqual([CHILD.name, MOTHER.name, TODDLER.name]);
    expect(text(`roster-${CHILD.id}`)).toContain('Imunisasi terlambat: berikan imunisasi kejar');
    expect(text(`roster-${CHILD.id}`)).toContain('Penimbangan bulanan');
    expect(text(`roster-${MOTHER.id}`)).toContain('Ibu hamil');
    expect(within(screen.getByTestId('day-others')).getAllByTestId('roster-name').map((e) => e.textContent)).toEqual([GRANDPA.name]);
    expect(screen.getByTestId(`roster-done-${TODDLER.id}`)).toBeTruthy();
    expect(screen.queryByTestId(`roster-done-${CHILD.id}`)).toBeNull();
    expect(text('day-counts')).toBe('Sudah dicatat: 1 orang · yang diharapkan: 1 dari 3');
    expect(text('flash')).toBe('Tersimpan: Ana Fiktif Tefa.');
    expect(text('day-title')).toBe('Posyandu Mawar');
  });

  it('filters the roster by the name typed', async () => {
    fake();
    render(PosyanduDay, { session: SESSION });
    await screen.findByTestId('day-expected');
    await type('day-search', 'yosef');
    expect(screen.queryByTestId('day-expected')).toBeNull();
    expect(text('day-expected-empty')).toBe('Tidak ada nama yang cocok.');
    expect(within(screen.getByTestId('day-others')).getAllByTestId('roster-name').map((e) => e.textContent)).toEqual([GRANDPA.name]);
    // The household head's name finds the family's members too.
    await type('day-search', 'yohanes');
    expect(within(screen.getByTestId('day-expected')).getAllByTestId('roster-name').map((e) => e.textContent)).toEqual([CHILD.name, MOTHER.name]);
  });

  it('opens a person, the register form for a walk-in, and the summary', async () => {
    fake();
    render(PosyanduDay, { session: SESSION });
    await fireEvent.click(await screen.findByTestId(`roster-${MOTHER.id}`));
    expect(router.route).toEqual({ name: 'attendance', session: SESSION, person: MOTHER.id });
    await fireEvent.click(screen.getByTestId('day-register'));
    expect(router.route).toEqual({ name: 'register' });
    await fireEvent.click(screen.getByTestId('day-close'));
    expect(router.route).toEqual({ name: 'posyandu_summary', session: SESSION });
  });
});

describe('Attendance: fields by life stage', () => {
  it('asks a balita for weight, length lying (under 24 months), head and LiLA, and offers the due doses', async () => {
    fake();
    render(Attendance, { session: SESSION, person: CHILD.id });
    await screen.findByTestId('att-weight');
    for (const id of ['att-weight', 'att-length_height', 'att-head', 'att-muac']) expect(screen.getByTestId(id)).toBeTruthy();
    expect(screen.queryByTestId('att-bp')).toBeNull();
    expect(screen.getByTestId('att-position-lying').getAttribute('aria-checked')).toBe('true');
    expect(screen.getByText('Panjang badan (berbaring)')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('att-position-standing'));
    expect(screen.getByText('Tinggi badan (berdiri)')).toBeTruthy();
    // Doses due or overdue are offered; one past its age limit is only listed.
    await screen.findByTestId('att-dose-MR1');
    expect(screen.getByTestId('att-dose-OPV4')).toBeTruthy();
    expect(screen.queryByTestId('att-dose-PCV3')).toBeNull();
    expect(screen.queryByTestId('att-dose-HB0')).toBeNull();
    expect(text('att-dose-closed-HB0')).toContain('Tidak boleh diberikan lagi');
    expect(screen.getByTestId('att-vita-vitamin_a_red')).toBeTruthy();
    expect(screen.queryByTestId('att-sup-ttd')).toBeNull();
  });

  it('starts a child of 30 months standing', async () => {
    fake();
    render(Attendance, { session: SESSION, person: TODDLER.id });
    expect((await screen.findByTestId('att-position-standing')).getAttribute('aria-checked')).toBe('true');
    expect(screen.getByTestId('att-already')).toBeTruthy();
  });

  it('asks a pregnant woman for weight, LiLA, blood pressure and Hb, without vaccines', async () => {
    const f = fake();
    render(Attendance, { session: SESSION, person: MOTHER.id });
    await screen.findByTestId('att-weight');
    for (const id of ['att-muac', 'att-bp_systolic', 'att-bp_diastolic', 'att-hb']) expect(screen.getByTestId(id)).toBeTruthy();
    expect(screen.queryByTestId('att-length_height')).toBeNull();
    expect(screen.queryByTestId('att-position-lying')).toBeNull();
    expect(screen.getByTestId('att-pregnant')).toBeTruthy();
    expect(screen.getByTestId('att-sup-ttd')).toBeTruthy();
    expect(f.called('immunisation_card')).toEqual([]);
  });

  it('asks a lansia for weight, height, waist, blood pressure and blood sugar', async () => {
    fake();
    render(Attendance, { session: SESSION, person: GRANDPA.id });
    await screen.findByTestId('att-weight');
    for (const id of ['att-length_height', 'att-waist', 'att-bp_systolic', 'att-bp_diastolic', 'att-blood_sugar']) expect(screen.getByTestId(id)).toBeTruthy();
    expect(screen.queryByTestId('att-muac')).toBeNull();
    expect(screen.queryByTestId('att-position-lying')).toBeNull();
    expect(screen.getByText('Tinggi badan')).toBeTruthy();
  });
});

describe('Attendance: Periksa', () => {
  it('reads 9,1 as 9.1 kg and shows the KMS result, the findings and the next step at once', async () => {
    const f = fake();
    render(Attendance, { session: SESSION, person: CHILD.id });
    await screen.findByTestId('att-weight');
    await type('att-weight', '9,1');
    await fireEvent.click(screen.getByTestId('att-check'));
    const kms = await screen.findByTestId('check-kms');
    expect(f.called('assess_measurement')).toEqual([{ person: CHILD.id, date: '2025-11-22', measurements: [{ type: 'weight', value: 9.1, unit: 'kg' }] }]);
    expect(kms.dataset.result).toBe('T');
    expect(screen.getByTestId('check-kms-2t').textContent).toBe('2T');
    expect(screen.queryByTestId('check-kms-bgm')).toBeNull();
    expect(text('check-finding-0')).toContain('T: berat badan tidak naik');
    expect(text('check-finding-0')).toContain('Perubahan berat +100 g (kenaikan minimal 200 g)');
    expect(screen.getByTestId('check-finding-1').dataset.level).toBe('act');
    expect(text('check-finding-1')).toContain('Perlu tindakan');
    expect(text('check-finding-2')).toContain('BB/U: z = -1,12');
    expect([...screen.getByTestId('check-z-wfa').querySelectorAll('td')].map((td) => td.textContent?.trim())).toEqual(['BB/U', '-1,12', 'Berat badan normal']);
    expect(text('check-next')).toBe('Langkah berikutnya: Lapor bidan dalam 2 hari untuk dirujuk ke puskesmas');
    setLocale('en');
    await waitFor(() => expect(text('check-finding-1')).toContain('2T: no weight gain twice in a row'));
    expect(text('check-z-wfa')).toContain('-1.12');
  });

  it('shows KEK and high blood pressure for a pregnant woman', async () => {
    const f = fake({ assess_measurement: () => checkKek() });
    render(Attendance, { session: SESSION, person: MOTHER.id });
    await screen.findByTestId('att-muac');
    await type('att-muac', '22');
    await type('att-bp_systolic', '150');
    await type('att-bp_diastolic', '95');
    await fireEvent.click(screen.getByTestId('att-check'));
    await screen.findByTestId('check-finding-0');
    expect(text('check-finding-0')).toContain('KEK: LiLA kurang dari 23,5 cm');
    expect(text('check-finding-0')).toContain('LiLA 22,0 cm');
    expect(text('check-finding-1')).toContain('150/95 mmHg');
    expect(screen.queryByTestId('check-kms')).toBeNull();
    expect(f.called('assess_measurement')[0].measurements).toEqual([
      { type: 'muac', value: 22, unit: 'cm' },
      { type: 'bp_systolic', value: 150, unit: 'mmHg' },
      { type: 'bp_diastolic', value: 95, unit: 'mmHg' },
    ]);
  });

  it('marks a value that is not a number without asking Rust', async () => {
    const f = fake();
    render(Attendance, { session: SESSION, person: CHILD.id });
    await screen.findByTestId('att-weight');
    await type('att-weight', '9,1,2');
    await fireEvent.click(screen.getByTestId('att-check'));
    expect((await screen.findByTestId('att-weight-error')).textContent).toBe('Tulis angka saja, misalnya 8,2.');
    expect(f.called('assess_measurement')).toEqual([]);
    expect(value('att-weight')).toBe('9,1,2');
  });
});

describe('Attendance: "Yakin?"', () => {
  const byWeight = (a: Record<string, unknown>) => ((a.measurements as MeasurementInput[])[0].value > 50 ? checkImplausible() : checkT());

  it('asks before saving an unusual value; "Ukur ulang" goes back with the values kept', async () => {
    const f = fake({ assess_measurement: byWeight });
    render(Attendance, { session: SESSION, person: CHILD.id });
    await screen.findByTestId('att-weight');
    await type('att-weight', '82');
    await type('att-length_height', '75,5');
    await fireEvent.click(screen.getByTestId('att-check'));
    const box = await screen.findByTestId('att-confirm');
    expect(box.textContent).toContain('Yakin?');
    expect(text('att-confirm-item-0')).toBe('Berat badan: 82 Nilai ini sangat tidak biasa untuk umur anak: ukur ulang dan periksa angka yang diketik');
    expect((screen.getByTestId('att-save') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(screen.getByTestId('att-remeasure'));
    expect(screen.queryByTestId('att-confirm')).toBeNull();
    expect(value('att-weight')).toBe('82');
    expect(value('att-length_height')).toBe('75,5');
    await type('att-weight', '8,2');
    await fireEvent.click(screen.getByTestId('att-save'));
    await waitFor(() => expect(f.called('record_attendance')).toHaveLength(1));
    const input = f.called('record_attendance')[0].input as AttendanceInput;
    expect(input.measurements).toEqual([
      { type: 'weight', value: 8.2, unit: 'kg' },
      { type: 'length_height', value: 75.5, unit: 'cm', position: 'lying' },
    ]);
    await waitFor(() => expect(router.route).toEqual({ name: 'posyandu_day', session: SESSION }));
  });

  it('"Ya, simpan" saves the value as typed', async () => {
    const f = fake({ assess_measurement: byWeight });
    render(Attendance, { session: SESSION, person: CHILD.id });
    await screen.findByTestId('att-weight');
    await type('att-weight', '82');
    // Simpan without Periksa: the check runs first and asks.
    await fireEvent.click(screen.getByTestId('att-save'));
    await screen.findByTestId('att-confirm');
    expect(f.called('record_attendance')).toEqual([]);
    await fireEvent.click(screen.getByTestId('att-confirm-yes'));
    await waitFor(() => expect(f.called('record_attendance')).toHaveLength(1));
    expect((f.called('record_attendance')[0].input as AttendanceInput).measurements).toEqual([{ type: 'weight', value: 82, unit: 'kg' }]);
  });

  it('checks again when a value changes after the check', async () => {
    const f = fake();
    render(Attendance, { session: SESSION, person: CHILD.id });
    await screen.findByTestId('att-weight');
    await type('att-weight', '9,1');
    await fireEvent.click(screen.getByTestId('att-check'));
    await screen.findByTestId('check-result');
    await type('att-weight', '9,3');
    expect(screen.queryByTestId('check-result')).toBeNull();
    await fireEvent.click(screen.getByTestId('att-save'));
    await waitFor(() => expect(f.called('record_attendance')).toHaveLength(1));
    expect(f.called('assess_measurement').map((a) => (a.measurements as MeasurementInput[])[0].value)).toEqual([9.1, 9.3]);
  });
});

describe('Attendance: services, counselling and saving', () => {
  it('sends the doses, supplements, counselling, follow-up and referral, then goes back to the roster', async () => {
    const f = fake();
    render(Attendance, { session: SESSION, person: CHILD.id });
    await screen.findByTestId('att-weight');
    await type('att-weight', '9,1');
    await fireEvent.click(await screen.findByTestId('att-dose-OPV4'));
    await fireEvent.click(screen.getByTestId('att-dose-MR1'));
    await fireEvent.click(screen.getByTestId('att-vita-vitamin_a_red'));
    await fireEvent.click(screen.getByTestId('att-sup-pmt'));
    await type('att-counselling-notes', 'Makan 3 kali sehari dengan lauk');
    await type('att-follow-up', '06/12/2025');
    await fireEvent.click(screen.getByTestId('att-refer'));
    await type('att-referral-reason', '2T');
    await fireEvent.click(screen.getByTestId('att-referral-to-puskesmas'));
    await fireEvent.click(screen.getByTestId('att-save'));
    await waitFor(() => expect(f.called('record_attendance')).toHaveLength(1));
    expect(f.called('record_attendance')[0].input).toEqual({
      session: SESSION,
      person: CHILD.id,
      measurements: [{ type: 'weight', value: 9.1, unit: 'kg' }],
      immunisations: [
        { vaccine: 'OPV4', catch_up: true },
        { vaccine: 'MR1', catch_up: false },
      ],
      supplements: [{ supplement: 'vitamin_a_red' }, { supplement: 'pmt' }],
      screenings: [],
      counselling: 'Makan 3 kali sehari dengan lauk',
      findings: null,
      follow_up_date: '2025-12-06',
      referral: { reason: '2T', destination: 'puskesmas', destination_name: null },
    });
    await waitFor(() => expect(router.route).toEqual({ name: 'posyandu_day', session: SESSION }));
  });

  it('keeps everything typed when Rust refuses, and shows why at the field in the user language', async () => {
    const f = fake({
      record_attendance: () => {
        throw appError('validation.implausible_for_age', 'value', { type: 'weight', value: '45', unit: 'kg', age_months: '12' });
      },
    });
    render(Attendance, { session: SESSION, person: CHILD.id });
    await screen.findByTestId('att-weight');
    await type('att-weight', '45');
    await fireEvent.click(await screen.findByTestId('att-dose-MR1'));
    await type('att-counselling-notes', 'ASI dan MP-ASI');
    await fireEvent.click(screen.getByTestId('att-save'));
    const err = await screen.findByTestId('att-weight-error');
    expect(err.textContent).toBe('Berat badan 45 kg tidak masuk akal untuk umur 12 bulan. Periksa lagi.');
    expect(text('att-form-error')).toBe('Berat badan 45 kg tidak masuk akal untuk umur 12 bulan. Periksa lagi.');
    expect(screen.getByTestId('att-weight').getAttribute('aria-invalid')).toBe('true');
    expect(value('att-weight')).toBe('45');
    expect(value('att-counselling-notes')).toBe('ASI dan MP-ASI');
    expect((screen.getByTestId('att-dose-MR1') as HTMLInputElement).checked).toBe(true);
    expect(router.route).not.toEqual({ name: 'posyandu_day', session: SESSION });
    expect(f.called('record_attendance')).toHaveLength(1);
    setLocale('en');
    await waitFor(() => expect(screen.getByTestId('att-weight-error').textContent).toBe('Weight 45 kg is implausible at age 12 months. Check again.'));
  });

  it("words the measurement and the age itself from Rust's params (never Rust's sentence)", async () => {
    fake({
      record_attendance: () => {
        throw {
          key: 'validation.implausible_for_age',
          id: 'Rust sentence',
          en: 'Rust sentence',
          field: 'value',
          params: { type: 'weight', value: '45.5', unit: 'kg', age_months: '14' },
        };
      },
    });
    render(Attendance, { session: SESSION, person: CHILD.id });
    await screen.findByTestId('att-weight');
    await type('att-weight', '45');
    await type('att-length_height', '75');
    await fireEvent.click(screen.getByTestId('att-save'));
    expect((await screen.findByTestId('att-weight-error')).textContent).toBe('Berat badan 45,5 kg tidak masuk akal untuk umur 14 bulan. Periksa lagi.');
    expect(screen.queryByTestId('att-length_height-error')).toBeNull();
    setLocale('en');
    await waitFor(() => expect(screen.getByTestId('att-weight-error').textContent).toBe('Weight 45.5 kg is implausible at age 14 months. Check again.'));
  });

  it('shows a refused referral reason at its field', async () => {
    fake({
      record_attendance: () => {
        throw appError('validation.required', 'reason');
      },
    });
    render(Attendance, { session: SESSION, person: MOTHER.id });
    await fireEvent.click(await screen.findByTestId('att-refer'));
    await fireEvent.click(screen.getByTestId('att-save'));
    expect((await screen.findByTestId('att-referral-reason-error')).textContent).toBe('Alasan rujukan wajib diisi.');
  });

  it('puts counselling before services when the session says so', async () => {
    fake({ posyandu_day: () => day({ session: sessionRef({ service_order: 'counselling_first' }) }) });
    render(Attendance, { session: SESSION, person: CHILD.id });
    const services = await screen.findByTestId('att-services');
    const counselling = screen.getByTestId('att-counselling');
    expect(counselling.compareDocumentPosition(services) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(counselling.querySelector('legend')?.textContent).toContain('Langkah 4');
    expect(services.querySelector('legend')?.textContent).toContain('Langkah 5');
    expect(screen.getByTestId('posyandu-steps').textContent).toMatch(/Pencatatan.*Penyuluhan dan konseling.*Pelayanan kesehatan/);
  });
});

describe('PosyanduSummary', () => {
  it("shows the day's SKDN, ratios as percentages, and what was given", async () => {
    fake({ posyandu_options: () => options({ sessions: [sessionRef()] }) });
    render(PosyanduSummary, { session: SESSION });
    await screen.findByTestId('summary-skdn');
    const n = (k: string) => text(`skdn-${k}`);
    expect(['s', 'k', 'd', 'n', 't', 'o', 'b', 'two_t', 'bgm'].map(n)).toEqual(['6', '6', '5', '1', '2', '1', '1', '1', '1']);
    expect(text('ratio-k_s')).toBe('100,0%');
    expect(text('ratio-d_s')).toBe('83,3%');
    expect(text('ratio-n_d')).toBe('20,0%');
    expect(text('attended-balita')).toBe('5');
    expect(text('attended-adult')).toBe('2');
    expect(text('attended-pregnant')).toBe('1');
    expect(text('summary-immunisations')).toBe('2');
    expect(text('summary-supplement-pmt')).toBe('2');
    expect(screen.queryByTestId('summary-supplement-ttd')).toBeNull();
    expect(text('summary-referrals')).toBe('1');
    await waitFor(() => expect(text('summary-what')).toBe('Posyandu Mawar · 22/11/2025'));
    setLocale('en');
    await waitFor(() => expect(text('ratio-d_s')).toBe('83.3%'));
  });

  it('lists the under-fives not weighed this month, each opening their profile', async () => {
    fake();
    render(PosyanduSummary, { session: SESSION });
    const row = await screen.findByTestId(`unweighed-${TODDLER.id}`);
    expect(row.textContent).toContain('Ana Fiktif Tefa');
    expect(row.textContent).toContain('2 tahun 6 bulan');
    await fireEvent.click(row);
    expect(router.route).toEqual({ name: 'profile', id: TODDLER.id });
  });

  it('says so when every under-five was weighed', async () => {
    fake({ session_summary: () => summary({ not_yet_weighed: [] }) });
    render(PosyanduSummary, { session: SESSION });
    expect((await screen.findByTestId('summary-all-weighed')).textContent).toBe('Semua balita sudah ditimbang bulan ini.');
  });
});

beforeEach(() => {
  router.route = { name: 'home' };
});
