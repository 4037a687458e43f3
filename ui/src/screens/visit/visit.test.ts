import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import HomeVisit from './HomeVisit.svelte';
import Referrals from './Referrals.svelte';
import ReferralDetail from './ReferralDetail.svelte';
import HouseholdDetail from '../HouseholdDetail.svelte';
import { appError, installFake, kader, status } from '../../test/fake';
import { session } from '../../lib/session.svelte';
import { router } from '../../lib/router.svelte';
import { setLocale } from '../../lib/i18n';
import { isoDateIn } from '../../lib/format';
import { referralFilter } from '../../lib/visit-referrals.svelte';
import type { HouseholdView, PersonSummary, Task } from '../../lib/api';
import type { HomeVisitInput, ReferralView, VisitProfile } from '../../lib/api-visit';
import type { ReferralRow } from '../../lib/api-health';

const P = '53.04.05.2001.P01';
const person = (over: Partial<PersonSummary>): PersonSummary => ({
  id: 'p',
  posyandu: P,
  household: 'h1',
  name: '',
  sex: 'female',
  birth_date: null,
  birth_date_estimated: false,
  nik: null,
  mother: null,
  status: 'active',
  age_months: null,
  life_stage: null,
  values: {},
  ...over,
});

const yohanes = person({ id: 'p-yohanes', name: 'Yohanes Fiktif Bria', sex: 'male', birth_date: '1980-05-12', age_months: 546, life_stage: 'adult', values: { relation: 'head' } });
const maria = person({ id: 'p-maria', name: 'Maria Fiktif Seran', birth_date: '1995-08-03', age_months: 363, life_stage: 'adult', values: { relation: 'spouse' } });
const petrus = person({ id: 'p-petrus', name: 'Petrus Fiktif Bria', sex: 'male', birth_date: '2024-02-14', age_months: 21, life_stage: 'balita', mother: 'p-maria', values: { relation: 'child' } });
const oma = person({ id: 'p-oma', name: 'Oma Fiktif', birth_date: '1950-01-01', age_months: 910, life_stage: 'lansia', status: 'died', values: { relation: 'parent' } });

const householdView = (): HouseholdView => ({
  id: 'h1',
  deleted: false,
  values: { posyandu: P, head_name: 'Yohanes Fiktif Bria', dusun: 'Dusun 1 Naitimu', rt: '03', latrine: true, water_source: 'well' },
  members: [yohanes, maria, petrus, oma],
});

const ancTask: Task = {
  kind: 'anc_due',
  priority: 'high',
  due: '2025-12-10',
  reason: { key: 'tasks.anc_due', id: 'Pemeriksaan kehamilan berikutnya', en: 'Next ANC contact' },
  params: { contact: 'K2' },
  form: 'anc',
};
const vaccineTask: Task = {
  kind: 'vaccine_due',
  priority: 'high',
  due: '2025-12-01',
  reason: { key: 'tasks.vaccine_due', id: 'Imunisasi jatuh tempo', en: 'Vaccine due' },
  params: { vaccine: 'DPT-HB-Hib 4', dose_id: 'dpt_hb_hib_4' },
  form: 'immunisation',
};
const profileOf = (p: PersonSummary, tasks: Task[] = []): VisitProfile => ({
  person: p,
  household: { id: 'h1', head_name: 'Yohanes Fiktif Bria' },
  entries: [],
  tasks,
  growth: [],
});

const saved = (input: HomeVisitInput) => ({
  panels: input.panels.map((p, i) => ({
    person: p.person,
    visit: `v-${i}`,
    saved: {
      measurements: p.measurements.map((_, j) => `m-${i}-${j}`),
      immunisations: [],
      supplements: [],
      screenings: p.screenings.map((_, j) => `s-${i}-${j}`),
      referral: p.referral ? 'r-1' : null,
    },
  })),
});

function visitFake(record: (input: HomeVisitInput) => unknown = saved) {
  return installFake({
    household: () => householdView(),
    profile: (a) => {
      if (a.id === 'p-maria') return profileOf(maria, [ancTask]);
      if (a.id === 'p-petrus') return profileOf(petrus, [vaccineTask]);
      return profileOf(yohanes);
    },
    record_home_visit: (a) => record(a.input as HomeVisitInput),
  });
}

const input = (testid: string) => screen.getByTestId(testid) as HTMLInputElement;
async function type(testid: string, value: string) {
  await fireEvent.input(screen.getByTestId(testid), { target: { value } });
}
const panelKind = (pid: string) => screen.getByTestId(`visit-panel-${pid}`).getAttribute('data-kind');

describe('home visit', () => {
  it('pre-ticks the member of the route and picks the panel from their due tasks', async () => {
    const fake = visitFake();
    render(HomeVisit, { household: 'h1', person: 'p-maria' });
    await waitFor(() => expect(panelKind('p-maria')).toBe('pregnancy'));
    expect(input('visit-member-p-maria').checked).toBe(true);
    expect(input('visit-member-p-yohanes').checked).toBe(false);
    // A member who died cannot be visited.
    expect(input('visit-member-p-oma').disabled).toBe(true);
    expect(fake.called('profile')).toEqual([{ id: 'p-maria' }]);
    // Rust's words for what is due, and the reminder to go for ANC.
    expect(screen.getByTestId('visit-tasks-p-maria').textContent).toContain('Pemeriksaan kehamilan berikutnya');
    expect(screen.getByTestId('visit-remind-p-maria').textContent).toContain('ANC');
    expect(screen.getByTestId('visit-m-p-maria-muac')).toBeTruthy();
    expect(screen.getByTestId('visit-sign-p-maria-bleeding')).toBeTruthy();
    // The visit date is today by default, the household facts as recorded.
    expect(input('visit-date').value).toBe(isoDateIn(Date.now()).split('-').reverse().join('/'));
    expect(screen.getByTestId('visit-hh-latrine-yes').getAttribute('aria-checked')).toBe('true');
    expect(screen.getByTestId('visit-hh-water-well').getAttribute('aria-checked')).toBe('true');

    await fireEvent.click(screen.getByTestId('visit-member-p-petrus'));
    await waitFor(() => expect(screen.getByTestId('visit-tasks-p-petrus').textContent).toContain('DPT-HB-Hib 4'));
    expect(panelKind('p-petrus')).toBe('under_five');
    expect(screen.getByTestId('visit-position-p-petrus-lying').getAttribute('aria-checked')).toBe('true');
    expect(screen.getByTestId('visit-m-p-petrus-length_height')).toBeTruthy();
  });

  it("shows a member's three most urgent tasks, the rest on request", async () => {
    const many = ['BCG', 'Polio 1', 'DPT-HB-Hib 1', 'PCV 1', 'Rotavirus 1'].map((v) => ({ ...vaccineTask, params: { vaccine: v, dose_id: v } }));
    installFake({ household: () => householdView(), profile: () => profileOf(petrus, many) });
    render(HomeVisit, { household: 'h1', person: 'p-petrus' });
    const list = await screen.findByTestId('visit-tasks-p-petrus');
    expect(within(list).getAllByTestId('task-item')).toHaveLength(3);
    await fireEvent.click(screen.getByTestId('visit-tasks-more-p-petrus'));
    expect(within(list).getAllByTestId('task-item').map((e) => e.textContent)).toHaveLength(5);
    expect(list.textContent).toContain('Rotavirus 1');
  });

  it('sends one panel per member visited with decimal commas, signs, education, referral and the changed facts', async () => {
    const fake = visitFake();
    render(HomeVisit, { household: 'h1', person: 'p-maria' });
    await waitFor(() => expect(panelKind('p-maria')).toBe('pregnancy'));
    await type('visit-date', '01/12/2025');
    await type('visit-m-p-maria-muac', '22,5');
    await type('visit-m-p-maria-bp_systolic', '150');
    await type('visit-m-p-maria-bp_diastolic', '95');
    await fireEvent.click(screen.getByTestId('visit-sign-p-maria-bleeding'));
    await type('visit-findings-p-maria', 'Pusing sejak kemarin');
    await fireEvent.click(screen.getByTestId('visit-topic-p-maria-anc'));
    await type('visit-follow-up-p-maria', '08/12/2025');
    await fireEvent.click(screen.getByTestId('visit-reminded-p-maria'));
    await fireEvent.click(screen.getByTestId('visit-refer-p-maria'));
    await type('visit-referral-p-maria-reason', 'Perdarahan dan tekanan darah tinggi');
    await fireEvent.click(screen.getByTestId('visit-referral-p-maria-dest-puskesmas'));
    await type('visit-referral-p-maria-name', 'Puskesmas Halilulik');
    await fireEvent.click(screen.getByTestId('visit-member-p-petrus'));
    await waitFor(() => expect(screen.getByTestId('visit-tasks-p-petrus')).toBeTruthy());
    await type('visit-m-p-petrus-weight', '9,4');
    await fireEvent.click(screen.getByTestId('visit-hh-water-piped'));
    await fireEvent.click(screen.getByTestId('visit-hh-jkn-yes'));
    await fireEvent.click(screen.getByTestId('visit-ack'));
    await fireEvent.click(screen.getByTestId('visit-save'));

    await waitFor(() => expect(fake.called('record_home_visit')).toHaveLength(1));
    const sent = fake.called('record_home_visit')[0].input as HomeVisitInput;
    expect(sent).toMatchObject({ household: 'h1', date: '2025-12-01', household_update: { water_source: 'piped', jkn: true }, family_acknowledged: true });
    expect(sent.panels).toHaveLength(2);
    expect(sent.panels[0]).toEqual({
      person: 'p-maria',
      measurements: [
        { type: 'muac', value: 22.5, unit: 'cm' },
        { type: 'bp_systolic', value: 150, unit: 'mmHg' },
        { type: 'bp_diastolic', value: 95, unit: 'mmHg' },
      ],
      immunisations: [],
      supplements: [],
      screenings: [{ instrument: 'danger_signs', answers: { bleeding: true } }],
      findings: 'Tanda: Perdarahan; Pusing sejak kemarin',
      education: 'Topik: Periksa kehamilan (ANC) sesuai jadwal',
      follow_up_date: '2025-12-08',
      reminded_to_facility: true,
      reported_to_health_worker: null,
      referral: { reason: 'Perdarahan dan tekanan darah tinggi', destination: 'puskesmas', destination_name: 'Puskesmas Halilulik' },
    });
    expect(sent.panels[1]).toMatchObject({ person: 'p-petrus', measurements: [{ type: 'weight', value: 9.4, unit: 'kg' }], referral: null });

    // What was saved, and the way to the referral.
    const done = await screen.findByTestId('visit-saved');
    expect(screen.getByTestId('visit-saved-lead').textContent).toBe('2 anggota dikunjungi pada 01/12/2025.');
    expect(screen.getByTestId('visit-saved-panel-p-maria').textContent).toContain('3 pengukuran · 1 skrining');
    expect(screen.getByTestId('visit-saved-referral-p-maria').textContent).toContain('Rujukan dibuat ke Puskesmas (Puskesmas Halilulik)');
    expect(screen.getByTestId('visit-saved-panel-p-petrus').textContent).toContain('1 pengukuran');
    expect(within(done).queryByTestId('visit-referral-link-p-petrus')).toBeNull();
    expect(screen.getByTestId('visit-saved-household')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('visit-referral-link-p-maria'));
    expect(router.route).toEqual({ name: 'referral', id: 'r-1' });
  });

  it('sends no household update when the facts did not change', async () => {
    const fake = visitFake();
    render(HomeVisit, { household: 'h1' });
    await fireEvent.click(await screen.findByTestId('visit-member-p-yohanes'));
    await waitFor(() => expect(panelKind('p-yohanes')).toBe('adult'));
    await type('visit-m-p-yohanes-blood_sugar', '210');
    await fireEvent.click(screen.getByTestId('visit-save'));
    await waitFor(() => expect(fake.called('record_home_visit')).toHaveLength(1));
    const sent = fake.called('record_home_visit')[0].input as HomeVisitInput;
    expect(sent.household_update).toBeNull();
    expect(sent.family_acknowledged).toBeNull();
    expect(sent.panels[0].measurements).toEqual([{ type: 'blood_sugar', value: 210, unit: 'mg/dL' }]);
  });

  it("names the field in Rust's sentence with the form's label (single panel, field without its path)", async () => {
    visitFake(() => {
      // As field-core sends a schema refusal: the body field and its params.
      throw { key: 'validation.out_of_range', id: 'x', en: 'x', field: 'value', params: { min: '5', max: '60' } };
    });
    render(HomeVisit, { household: 'h1', person: 'p-petrus' });
    await waitFor(() => expect(screen.getByTestId('visit-tasks-p-petrus')).toBeTruthy());
    await type('visit-m-p-petrus-muac', '3');
    await fireEvent.click(screen.getByTestId('visit-save'));
    expect((await screen.findByTestId('visit-m-p-petrus-muac-error')).textContent).toBe('LiLA harus antara 5 dan 60.');
    setLocale('en');
    await waitFor(() => expect(screen.getByTestId('visit-m-p-petrus-muac-error').textContent).toBe('LiLA (arm circumference) must be between 5 and 60.'));
    expect(input('visit-m-p-petrus-muac').value).toBe('3');
  });

  it('keeps everything typed when Rust refuses a value, and says why at the field', async () => {
    const fake = visitFake(() => {
      throw appError('validation.implausible_for_age', 'panels.1.measurements.0.value', { type: 'weight', value: '94', unit: 'kg', age_months: '21' });
    });
    render(HomeVisit, { household: 'h1', person: 'p-maria' });
    await waitFor(() => expect(panelKind('p-maria')).toBe('pregnancy'));
    await type('visit-m-p-maria-muac', '22,5');
    await fireEvent.click(screen.getByTestId('visit-refer-p-maria'));
    await type('visit-referral-p-maria-reason', 'LiLA kecil');
    await fireEvent.click(screen.getByTestId('visit-referral-p-maria-dest-pustu'));
    await fireEvent.click(screen.getByTestId('visit-member-p-petrus'));
    await type('visit-m-p-petrus-weight', '94');
    await fireEvent.click(screen.getByTestId('visit-save'));

    const err = await screen.findByTestId('visit-m-p-petrus-weight-error');
    expect(err.textContent).toBe('Berat badan 94 kg tidak masuk akal untuk umur 21 bulan. Periksa lagi.');
    expect(screen.getByTestId('visit-error').textContent).toContain('Periksa isian "Berat badan" milik Petrus Fiktif Bria');
    expect(input('visit-m-p-petrus-weight').value).toBe('94');
    expect(input('visit-m-p-maria-muac').value).toBe('22,5');
    expect((screen.getByTestId('visit-referral-p-maria-reason') as HTMLTextAreaElement).value).toBe('LiLA kecil');
    expect(screen.getByTestId('visit-referral-p-maria-dest-pustu').getAttribute('aria-checked')).toBe('true');
    expect(screen.queryByTestId('visit-saved')).toBeNull();
    expect(fake.called('record_home_visit')).toHaveLength(1);
  });

  it('refuses a number it cannot read before sending, and a referral without a reason', async () => {
    const fake = visitFake();
    render(HomeVisit, { household: 'h1', person: 'p-petrus' });
    await waitFor(() => expect(screen.getByTestId('visit-tasks-p-petrus')).toBeTruthy());
    await type('visit-m-p-petrus-muac', '12,5,1');
    await fireEvent.click(screen.getByTestId('visit-refer-p-petrus'));
    await fireEvent.click(screen.getByTestId('visit-referral-p-petrus-dest-hospital'));
    await fireEvent.click(screen.getByTestId('visit-save'));
    expect((await screen.findByTestId('visit-m-p-petrus-muac-error')).textContent).toBe('Tulis angka, misalnya 22,5.');
    expect(screen.getByTestId('visit-referral-p-petrus-reason-error').textContent).toBe('Alasan rujukan wajib diisi.');
    expect(fake.called('record_home_visit')).toHaveLength(0);
    setLocale('en');
    await waitFor(() => expect(screen.getByTestId('visit-m-p-petrus-muac-error').textContent).toBe('Type a number, e.g. 22.5.'));
    expect(screen.getByTestId('visit-referral-p-petrus-reason-error').textContent).toBe('Reason for the referral is required.');
  });

  it('lets the kader switch the panel, and keeps it when the profile arrives', async () => {
    let answer: (p: VisitProfile) => void = () => {};
    const fake = installFake({
      household: () => householdView(),
      profile: () => new Promise<VisitProfile>((r) => (answer = r)),
      record_home_visit: (a) => saved(a.input as HomeVisitInput),
    });
    render(HomeVisit, { household: 'h1', person: 'p-yohanes' });
    await waitFor(() => expect(panelKind('p-yohanes')).toBe('adult'));
    await fireEvent.click(screen.getByTestId('visit-kind-p-yohanes-tb'));
    expect(panelKind('p-yohanes')).toBe('tb');
    answer(profileOf(yohanes, []));
    await waitFor(() => expect(screen.queryByText(/Memuat data/)).toBeNull());
    expect(panelKind('p-yohanes')).toBe('tb');
    await type('visit-tb-missed-p-yohanes', '3');
    await fireEvent.click(screen.getByTestId('visit-tb-picked-p-yohanes-yes'));
    await fireEvent.click(screen.getByTestId('visit-save'));
    await waitFor(() => expect(fake.called('record_home_visit')).toHaveLength(1));
    const panel = (fake.called('record_home_visit')[0].input as HomeVisitInput).panels[0];
    expect(panel.screenings).toEqual([{ instrument: 'tb', answers: { treatment_check: true, missed_doses: 3, medicine_picked_up: true } }]);
    expect(panel.findings).toBe('Dosis obat terlewat: 3; Obat sudah diambil: Ya');
  });

  it('is opened from the household with its button', async () => {
    installFake({ household: () => householdView() });
    render(HouseholdDetail, { id: 'h1' });
    await fireEvent.click(await screen.findByTestId('household-home-visit'));
    expect(router.route).toEqual({ name: 'home_visit', household: 'h1' });
  });
});

const row = (over: Partial<ReferralRow>): ReferralRow => ({
  id: 'r-1',
  person: 'p-maria',
  person_name: 'Maria Fiktif Seran',
  household: 'h1',
  posyandu: P,
  reason: 'Perdarahan dan tekanan darah tinggi',
  destination: 'puskesmas',
  destination_name: 'Puskesmas Halilulik',
  status: 'made',
  outcome: null,
  made_on: '2025-12-01',
  updated_on: '2025-12-01',
  ...over,
});
const ROWS = [
  row({ id: 'r-2', person: 'p-petrus', person_name: 'Petrus Fiktif Bria', reason: 'Gizi buruk (BGM)', destination: 'pustu', destination_name: null, status: 'received', made_on: '2025-11-28', updated_on: '2025-11-30' }),
  row({}),
  row({ id: 'r-3', person_name: 'Oma Fiktif', reason: 'Tekanan darah 190/110', destination: 'hospital', destination_name: null, status: 'done', outcome: 'Dirawat 3 hari', made_on: '2025-11-01', updated_on: '2025-11-05' }),
];

describe('referrals', () => {
  it('lists the area referrals with their status in words, filtered by status', async () => {
    referralFilter.status = 'all';
    const fake = installFake({ referrals: (a) => ROWS.filter((r) => a.status === null || r.status === a.status) });
    render(Referrals);
    await screen.findByTestId('referral-row-r-1');
    expect(fake.called('referrals')).toEqual([{ status: null }]);
    expect(screen.getByTestId('referral-row-status-r-1').textContent).toBe('Dibuat');
    expect(screen.getByTestId('referral-row-status-r-2').textContent).toBe('Diterima');
    expect(screen.getByTestId('referral-row-status-r-3').textContent).toBe('Selesai');
    const r2 = screen.getByTestId('referral-row-r-2').textContent?.replace(/\s+/g, ' ');
    expect(r2).toContain('Petrus Fiktif Bria');
    expect(r2).toContain('Gizi buruk (BGM)');
    expect(r2).toContain('Pustu · dibuat 28/11/2025 · diperbarui 30/11/2025');
    expect(screen.getByTestId('referral-row-r-1').textContent).toContain('Puskesmas (Puskesmas Halilulik)');

    await fireEvent.click(screen.getByTestId('referrals-filter-received'));
    await waitFor(() => expect(screen.queryByTestId('referral-row-r-1')).toBeNull());
    expect(fake.called('referrals').at(-1)).toEqual({ status: 'received' });
    expect(screen.getByTestId('referral-row-r-2')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('referrals-filter-done'));
    await waitFor(() => expect(screen.getByTestId('referral-row-r-3')).toBeTruthy());
    expect(fake.called('referrals').at(-1)).toEqual({ status: 'done' });

    setLocale('en');
    await waitFor(() => expect(screen.getByTestId('referral-row-status-r-3').textContent).toBe('Done'));
    await fireEvent.click(screen.getByTestId('referral-row-r-3'));
    expect(router.route).toEqual({ name: 'referral', id: 'r-3' });
    referralFilter.status = 'all';
  });

  it('says when no referral has the status chosen', async () => {
    referralFilter.status = 'made';
    installFake({ referrals: () => [] });
    render(Referrals);
    expect((await screen.findByTestId('referrals-empty')).textContent).toContain('Tidak ada rujukan berstatus "Dibuat".');
    referralFilter.status = 'all';
  });
});

describe('a referral', () => {
  function referralFake(initial: ReferralRow['status'] = 'made') {
    const state: ReferralView = {
      referral: row({ status: initial }),
      events: [{ id: 'e-1', status: 'made', date: '2025-12-01', note: null }],
    };
    const fake = installFake({
      sync_status: () => status(),
      referral: () => structuredClone(state),
      advance_referral: (a) => {
        const order = ['made', 'received', 'done'];
        if (order.indexOf(a.status as string) < order.indexOf(state.referral.status)) {
          // As field-core sends it: the sentences, no params.
          throw { ...appError('validation.referral_backwards', 'status'), id: `Status rujukan tidak bisa mundur (sekarang: ${state.referral.status}).` };
        }
        state.referral.status = a.status as ReferralRow['status'];
        state.referral.updated_on = a.date as string;
        if (a.outcome) state.referral.outcome = a.outcome as string;
        state.events.push({ id: `e-${state.events.length + 1}`, status: a.status as ReferralRow['status'], date: a.date as string, note: (a.outcome as string) ?? null });
        return state.referral;
      },
    });
    return { fake, state };
  }

  const bidan = { user_id: 'u-bidan', username: 'bidan.naitimu', display_name: 'Bidan Naitimu', role: 'bidan' };
  beforeEach(() => {
    session.user = bidan;
  });
  afterEach(() => {
    session.user = null;
  });

  it('shows the referral and its history oldest first, and moves it to received with a date and an outcome', async () => {
    const { fake } = referralFake();
    render(ReferralDetail, { id: 'r-1' });
    expect((await screen.findByTestId('referral-person')).textContent).toBe('Maria Fiktif Seran');
    expect(screen.getByTestId('referral-status').textContent).toBe('Dibuat');
    expect(screen.getByTestId('referral-destination').textContent).toBe('Puskesmas (Puskesmas Halilulik)');
    await fireEvent.click(screen.getByTestId('referral-to-received'));
    expect(input('referral-move-date').value).toBe(isoDateIn(Date.now()).split('-').reverse().join('/'));
    await type('referral-move-date', '02/12/2025');
    await type('referral-move-outcome', 'Diterima bidan Pustu Naitimu');
    await fireEvent.click(screen.getByTestId('referral-move-confirm'));
    await waitFor(() => expect(fake.called('advance_referral')).toEqual([{ id: 'r-1', status: 'received', date: '2025-12-02', outcome: 'Diterima bidan Pustu Naitimu' }]));
    await waitFor(() => expect(screen.getByTestId('referral-status').textContent).toBe('Diterima'));
    expect(screen.getByTestId('referral-saved').textContent).toContain('Status rujukan sekarang: Diterima.');
    const events = screen.getAllByTestId(/^referral-event-\d+$/).map((e) => e.textContent?.replace(/\s+/g, ' ').trim());
    expect(events).toEqual(['01/12/2025 Dibuat', '02/12/2025 Diterima Diterima bidan Pustu Naitimu']);
  });

  it('shows why Rust refuses going back, in words', async () => {
    const { fake } = referralFake('done');
    render(ReferralDetail, { id: 'r-1' });
    await screen.findByTestId('referral-person');
    await fireEvent.click(screen.getByTestId('referral-to-received'));
    await type('referral-move-outcome', 'salah tekan');
    await fireEvent.click(screen.getByTestId('referral-move-confirm'));
    expect((await screen.findByTestId('referral-move-error')).textContent).toContain('Status rujukan tidak bisa mundur (sekarang: Selesai).');
    expect(fake.called('advance_referral')).toHaveLength(1);
    expect(screen.getByTestId('referral-status').textContent).toBe('Selesai');
    expect((screen.getByTestId('referral-move-outcome') as HTMLTextAreaElement).value).toBe('salah tekan');
  });

  it('offers a kader (or an admin) no status change: the bidan records it, the status arrives by sync', async () => {
    for (const user of [kader, { ...kader, role: 'puskesmas_admin' }]) {
      const { fake } = referralFake();
      session.user = user;
      const { unmount } = render(ReferralDetail, { id: 'r-1' });
      expect((await screen.findByTestId('referral-kader-note')).textContent).toContain('Bidan atau perawat di pustu');
      expect(screen.queryByTestId('referral-to-received')).toBeNull();
      expect(fake.called('advance_referral')).toHaveLength(0);
      unmount();
    }
  });

  it('reloads on "Muat ulang" and after a sync, when the pustu moved it elsewhere', async () => {
    const { fake, state } = referralFake();
    render(ReferralDetail, { id: 'r-1' });
    await screen.findByTestId('referral-person');
    state.referral.status = 'received';
    state.events.push({ id: 'e-2', status: 'received', date: '2025-12-02', note: 'Diterima di pustu' });
    await fireEvent.click(screen.getByTestId('referral-refresh'));
    await waitFor(() => expect(screen.getByTestId('referral-status').textContent).toBe('Diterima'));
    expect(await screen.findByTestId('referral-refreshed')).toBeTruthy();
    state.referral.status = 'done';
    await fake.emit('sync://finished', status());
    await waitFor(() => expect(screen.getByTestId('referral-status').textContent).toBe('Selesai'));
    expect(fake.called('referral').length).toBeGreaterThanOrEqual(3);
  });
});
