// Realistic answers of the posyandu commands for the screen tests, shaped exactly like the
// Rust structs (src-tauri views.rs, field-core, health-rules).
import type { Label, PersonSummary } from '../../lib/api';
import type { MeasurementCheck, PosyanduDay, RosterRow, SessionSummary } from '../../lib/api-posyandu';
import type { CardDose, ImmunisationCard, PosyanduOptions, SessionRef } from '../../lib/api-health';

/** A Rust `Label`. */
const L = (key: string, id: string, en: string): Label => ({ key, id, en });

export const SESSION = '0193a8c0-5d2e-7b4a-9c1e-3f5a6b7c8d90';
export const POSYANDU = '53.04.05.2001.P01';

export const sessionRef = (over: Partial<SessionRef> = {}): SessionRef => ({
  id: SESSION,
  posyandu: POSYANDU,
  posyandu_name: 'Posyandu Mawar',
  date: '2025-11-22',
  service_order: 'services_first',
  ...over,
});

export const options = (over: Partial<PosyanduOptions> = {}): PosyanduOptions => ({
  today: '2025-11-22',
  posyandu: [{ code: POSYANDU, name: 'Posyandu Mawar' }],
  sessions: [sessionRef({ id: '0193a8c0-0000-7000-8000-00000000aaaa', date: '2025-10-18', service_order: 'counselling_first' })],
  ...over,
});

export const person = (over: Partial<PersonSummary> = {}): PersonSummary => ({
  id: '0193a8c0-1111-7000-8000-000000000001',
  posyandu: POSYANDU,
  household: '0193a8c0-2222-7000-8000-000000000001',
  name: 'Petrus Fiktif Bria',
  sex: 'male',
  birth_date: '2024-11-02',
  birth_date_estimated: false,
  nik: null,
  mother: '0193a8c0-1111-7000-8000-000000000002',
  status: 'active',
  age_months: 12,
  life_stage: 'balita',
  values: { relation: 'child' },
  ...over,
});

export const CHILD = person();
export const MOTHER = person({
  id: '0193a8c0-1111-7000-8000-000000000002',
  name: 'Maria Fiktif Seran',
  sex: 'female',
  birth_date: '1996-08-03',
  mother: null,
  age_months: 351,
  life_stage: 'adult',
  values: { relation: 'spouse' },
});
export const GRANDPA = person({
  id: '0193a8c0-1111-7000-8000-000000000003',
  name: 'Yosef Fiktif Bria',
  birth_date: '1958-01-20',
  mother: null,
  age_months: 814,
  life_stage: 'lansia',
  values: { relation: 'parent' },
});
export const TODDLER = person({ id: '0193a8c0-1111-7000-8000-000000000004', name: 'Ana Fiktif Tefa', sex: 'female', birth_date: '2023-05-10', age_months: 30, household: null });

const monthly = L('posyandu.reason.monthly_weighing', 'Penimbangan bulanan', 'Monthly weighing');
const overdue = L('tasks.vaccine_overdue', 'Imunisasi terlambat: berikan imunisasi kejar', 'Vaccine overdue: give as catch-up');

export const rosterRow = (over: Partial<RosterRow> = {}): RosterRow => ({
  person: CHILD,
  household_head: 'Yohanes Fiktif Bria',
  pregnant: false,
  visit: null,
  expected: true,
  reasons: [overdue, monthly],
  ...over,
});

export const day = (over: Partial<PosyanduDay> = {}): PosyanduDay => ({
  session: sessionRef(),
  today: '2025-11-22',
  roster: [
    rosterRow(),
    rosterRow({ person: MOTHER, pregnant: true, reasons: [L('posyandu.reason.pregnancy_check', 'Ibu hamil: timbang, LiLA, tekanan darah', 'Pregnant: weight, LiLA, blood pressure')] }),
    rosterRow({ person: TODDLER, household_head: null, visit: '0193a8c0-3333-7000-8000-000000000001', reasons: [monthly] }),
    rosterRow({ person: GRANDPA, expected: false, reasons: [] }),
  ],
  ...over,
});

/** A 12-month-old weighed 9,1 kg after 9,0 kg last month: T, and 2T after last month's T. */
export const checkT = (over: Partial<MeasurementCheck> = {}): MeasurementCheck => ({
  age_days: 385,
  age_months: 12,
  confirm: [],
  findings: [
    { label: L('kms.result.t', 'T: berat badan tidak naik', 'T: weight did not go up enough'), level: 'watch', action: null, params: { gain_g: '100', kbm_g: '200', weight_g: '9100' } },
    {
      label: L('kms.finding.two_t', '2T: dua kali berturut-turut tidak naik', '2T: no weight gain twice in a row'),
      level: 'act',
      action: L('action.growth.refer', 'Lapor bidan dalam 2 hari untuk dirujuk ke puskesmas', 'Report to the bidan within 2 days for referral to the puskesmas'),
      params: {},
    },
    {
      label: L('growth.wfa.normal', 'Berat badan normal', 'Normal weight'),
      level: 'ok',
      action: null,
      params: { indicator: 'wfa', z: '-1.12' },
    },
  ],
  next_action: L('action.growth.refer', 'Lapor bidan dalam 2 hari untuk dirujuk ke puskesmas', 'Report to the bidan within 2 days for referral to the puskesmas'),
  growth: {
    sex: 'male',
    age_days: 385,
    age_months: 12.65,
    length_height_cm: null,
    bmi: null,
    wfa: { z: -1.12, category: L('growth.wfa.normal', 'Berat badan normal', 'Normal weight'), flagged: false, reference: 'who2006' },
    lhfa: null,
    wfl: null,
    wfh: null,
    bfa: null,
    hcfa: null,
    acfa: null,
    skipped: [],
  },
  kms: { month: { year: 2025, month: 11 }, date: '2025-11-22', weight_g: 9100, age_months: 12, result: 'T', gain_g: 100, kbm_g: 200, two_t: true, bgm: false, above_orange: false },
  problems: [],
  ...over,
});

/** 82 kg typed for a 12-month-old: WHO flags it. */
export const checkImplausible = (): MeasurementCheck =>
  checkT({
    confirm: [
      {
        field: 'weight',
        label: L('checks.confirm.implausible_z', 'Nilai ini sangat tidak biasa untuk umur anak: ukur ulang dan periksa angka yang diketik', "This value is very unusual for the child's age: measure again and check the number typed"),
        params: { indicator: 'wfa', z: '31.20' },
      },
    ],
  });

/** A pregnant woman with LiLA 22 cm. */
export const checkKek = (): MeasurementCheck => ({
  age_days: 10700,
  age_months: 351,
  confirm: [],
  findings: [
    {
      label: L('checks.lila.kek', 'KEK: LiLA kurang dari 23,5 cm (kurang energi kronis)', 'KEK: MUAC below 23.5 cm (chronic energy deficiency)'),
      level: 'act',
      action: L('action.lila.kek_pregnant', 'Lapor bidan: ibu hamil KEK perlu PMT ibu hamil dan pemeriksaan kehamilan', 'Report to the bidan: a pregnant woman with KEK needs supplementary food and an antenatal check'),
      params: { muac_cm: '22.0' },
    },
    { label: L('checks.bp.high', 'Tekanan darah tinggi', 'High blood pressure'), level: 'urgent', action: null, params: { systolic: '150', diastolic: '95' } },
  ],
  next_action: L('action.lila.kek_pregnant', 'Lapor bidan: ibu hamil KEK perlu PMT ibu hamil dan pemeriksaan kehamilan', 'Report to the bidan: a pregnant woman with KEK needs supplementary food and an antenatal check'),
  growth: null,
  kms: null,
  problems: [],
});

const dose = (dose_id: string, name: string, status: CardDose['status'], state: CardDose['state'], labelId: string): CardDose => ({
  dose_id,
  series: dose_id.replace(/\d+$/, ''),
  name,
  due_age: null,
  status,
  label: L(`immunisation.state.${status}`, labelId, labelId),
  state,
  given: null,
  also_recorded: [],
});

export const card = (): ImmunisationCard => ({
  person: CHILD.id,
  name: CHILD.name,
  birth_date: CHILD.birth_date!,
  on: '2025-11-22',
  schedule_id: 'imunisasi-nasional-2024-v1',
  je_area: false,
  doses: [
    dose('HB0', 'Hepatitis B 0 (< 24 jam)', 'no_longer_allowed', { state: 'no_longer_allowed', last_day: '2024-11-09' }, 'Tidak boleh diberikan lagi'),
    dose('BCG', 'BCG', 'given', { state: 'given', date: '2024-12-02', timing: 'on_time' }, 'Sudah diberikan'),
    dose('OPV4', 'Polio tetes (OPV) 4', 'overdue', { state: 'overdue', due_date: '2025-03-02', allowed_until: '2029-11-01' }, 'Terlambat: berikan imunisasi kejar'),
    dose('MR1', 'Campak-Rubela (MR) 1', 'due', { state: 'due', due_date: '2025-08-02', on_time_until: '2025-12-01' }, 'Jatuh tempo'),
    dose('PCV3', 'PCV 3', 'upcoming', { state: 'not_yet_due', due_date: '2025-12-02' }, 'Belum waktunya'),
  ],
  unmatched: [],
  problems: [],
});

export const summary = (over: Partial<SessionSummary> = {}): SessionSummary => ({
  session: SESSION,
  posyandu: POSYANDU,
  date: '2025-11-22',
  skdn: { s: 6, k: 6, d: 5, n: 1, t: 2, o: 1, b: 1, absent: 1, two_t: 1, bgm: 1, vitamin_a: 0, asi_eksklusif: 0 },
  ratios: { k_s: 1, d_s: 5 / 6, d_k: 5 / 6, n_d: 0.2, n_s: 1 / 6, n_d_prime: 1 / 3 },
  attended: { total: 7, balita: 5, school_adolescent: 0, adult: 2, lansia: 0, pregnant: 1 },
  immunisations: 2,
  vitamin_a: 1,
  supplements: { vitamin_a_red: 1, pmt: 2, ttd: 0 },
  referrals: 1,
  not_yet_weighed: [TODDLER],
  problems: [],
  ...over,
});
