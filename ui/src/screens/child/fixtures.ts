// Test data shaped exactly like Rust's growth_chart and immunisation_card answers: the WHO
// boys' curves at the chart's default ages (from health-rules/data/who/*.tsv), a boy with a
// year of monthly weighings, and his immunisation card. Used by the tests only.
import curves from './who-boys.fixture.json';
import type { Band, ChartPoint, CurvePoint, GrowthChart, ReferenceLine } from '../../lib/api-child';
import type { CardDose, Finding, ImmunisationCard, KmsResult, MonthResult } from '../../lib/api-health';

const L = (key: string, id: string, en: string) => ({ key, id, en });

export const BIRTH = '2024-11-10';

const days = (from: string, to: string) => Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000);

const CAT = {
  wfa_normal: L('growth.wfa.normal', 'Berat badan normal', 'Normal weight'),
  wfa_under: L('growth.wfa.underweight', 'Berat badan kurang', 'Underweight'),
  lhfa_normal: L('growth.lhfa.normal', 'Normal', 'Normal'),
  lhfa_stunted: L('growth.lhfa.stunted', 'Pendek', 'Stunted'),
  lhfa_tall: L('growth.lhfa.tall', 'Tinggi', 'Tall'),
};

const WFA_BANDS: Band[] = [
  { from_z: null, to_z: -3, category: L('growth.wfa.severely_underweight', 'Berat badan sangat kurang', 'Severely underweight'), level: 'act' },
  { from_z: -3, to_z: -2, category: CAT.wfa_under, level: 'act' },
  { from_z: -2, to_z: 1, category: CAT.wfa_normal, level: 'ok' },
  { from_z: 1, to_z: null, category: L('growth.wfa.risk_of_overweight', 'Risiko berat badan lebih', 'Risk of overweight'), level: 'watch' },
];
const LHFA_BANDS: Band[] = [
  { from_z: null, to_z: -3, category: L('growth.lhfa.severely_stunted', 'Sangat pendek', 'Severely stunted'), level: 'act' },
  { from_z: -3, to_z: -2, category: CAT.lhfa_stunted, level: 'act' },
  { from_z: -2, to_z: 3, category: CAT.lhfa_normal, level: 'ok' },
  { from_z: 3, to_z: null, category: CAT.lhfa_tall, level: 'watch' },
];

const wfaCurves = curves.wfa as CurvePoint[];
const lhfaCurves = curves.lhfa as CurvePoint[];

function kmsLine(kind: string, k: number, label: ReturnType<typeof L>, table: string, z: number): ReferenceLine {
  return { kind, label, table_id: table, z, points: wfaCurves.map((c) => ({ age_days: c.age_days, age_months: c.age_months, value: c.sd[k] })) };
}

export const LINES: ReferenceLine[] = [
  kmsLine('red_line', 0, L('chart.line.red', 'Garis merah (BGM di bawahnya)', 'Red line (BGM below it)'), 'red-line-kms-2010', -3),
  kmsLine('orange_line', 4, L('chart.line.orange', 'Garis oranye', 'Orange line'), 'orange-line-buku-kia-2020', 1),
];

/** A year of monthly weighings: B, then N, two T in a row (2T) at 9 and 10 months, N again. */
const WEIGHINGS: { date: string; kg: number; cm: number; result: KmsResult; gain: number | null; kbm: number | null; two_t?: boolean; z: number; hz: number }[] = [
  { date: '2024-12-12', kg: 4.6, cm: 55.0, result: 'B', gain: null, kbm: null, z: 0.1, hz: 0.0 },
  { date: '2025-01-12', kg: 5.6, cm: 58.5, result: 'N', gain: 1000, kbm: 900, z: 0.2, hz: 0.1 },
  { date: '2025-02-12', kg: 6.4, cm: 61.5, result: 'N', gain: 800, kbm: 800, z: 0.15, hz: 0.2 },
  { date: '2025-03-12', kg: 7.0, cm: 64.0, result: 'N', gain: 600, kbm: 600, z: 0.1, hz: 0.1 },
  { date: '2025-04-12', kg: 7.5, cm: 66.0, result: 'N', gain: 500, kbm: 500, z: 0.05, hz: 0.0 },
  { date: '2025-05-12', kg: 7.9, cm: 67.5, result: 'N', gain: 400, kbm: 400, z: -0.05, hz: -0.1 },
  { date: '2025-06-12', kg: 8.2, cm: 69.0, result: 'N', gain: 300, kbm: 300, z: -0.1, hz: -0.1 },
  { date: '2025-07-12', kg: 8.5, cm: 70.2, result: 'N', gain: 300, kbm: 300, z: -0.15, hz: -0.2 },
  { date: '2025-08-12', kg: 8.6, cm: 71.3, result: 'T', gain: 100, kbm: 300, z: -0.4, hz: -0.3 },
  { date: '2025-09-12', kg: 8.6, cm: 82.0, result: 'T', gain: 0, kbm: 300, two_t: true, z: -0.7, hz: 6.3 },
  { date: '2025-10-12', kg: 8.9, cm: 73.4, result: 'N', gain: 300, kbm: 300, z: -0.6, hz: -0.4 },
  { date: '2025-11-12', kg: 9.2, cm: 74.5, result: 'N', gain: 300, kbm: 200, z: -0.55, hz: -0.35 },
];

export const MONTHS: MonthResult[] = WEIGHINGS.map((w, i) => ({
  month: { year: Number(w.date.slice(0, 4)), month: Number(w.date.slice(5, 7)) },
  date: w.date,
  weight_g: Math.round(w.kg * 1000),
  age_months: i + 1,
  result: w.result,
  gain_g: w.gain,
  kbm_g: w.kbm,
  two_t: w.two_t ?? false,
  bgm: false,
  above_orange: false,
}));

const point = (date: string, value: number, z: number, category: ReturnType<typeof L>, i: number, kms: KmsResult | null, flagged = false): ChartPoint => {
  const age = days(BIRTH, date);
  return { date, fact: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, age_days: age, age_months: age / 30.4375, value, plotted: value, z, category, flagged, error_key: null, kms };
};

const finding = (label: ReturnType<typeof L>, level: Finding['level'], action: ReturnType<typeof L> | null, params: Record<string, string> = {}): Finding => ({ label, level, action, params });

export const KEEP_GOING = L('action.growth.keep_going', 'Pertahankan pola makan sesuai umur; timbang lagi bulan depan', 'Keep feeding as for the age; weigh again next month');
export const REFER = L('action.growth.refer', 'Lapor bidan dalam 2 hari untuk dirujuk ke puskesmas', 'Report to the bidan within 2 days for referral to the puskesmas');

export function growthChart(over: Partial<GrowthChart> = {}): GrowthChart {
  const wfaPoints = WEIGHINGS.map((w, i) => point(w.date, w.kg, w.z, CAT.wfa_normal, i, w.result));
  const lhfaPoints = WEIGHINGS.map((w, i) => point(w.date, w.cm, w.hz, w.hz > 3 ? CAT.lhfa_tall : CAT.lhfa_normal, 100 + i, null, w.hz > 6));
  const last = MONTHS[MONTHS.length - 1];
  return {
    person: 'p-child',
    name: 'Petrus Fiktif Bria',
    sex: 'male',
    birth_date: BIRTH,
    age_months: 12,
    kbm_table: 'kbm-buku-kia-v1',
    wfa: {
      indicator: 'weight_for_age',
      label: L('growth.indicator.wfa', 'Berat badan menurut umur (BB/U)', 'Weight-for-age'),
      sex: 'male',
      unit: 'kg',
      sd_levels: [-3, -2, -1, 0, 1, 2, 3],
      curves: wfaCurves,
      bands: WFA_BANDS,
      lines: LINES,
      points: wfaPoints,
    },
    lhfa: {
      indicator: 'length_height_for_age',
      label: L('growth.indicator.lhfa', 'Panjang/tinggi badan menurut umur (PB/U, TB/U)', 'Length/height-for-age'),
      sex: 'male',
      unit: 'cm',
      sd_levels: [-3, -2, -1, 0, 1, 2, 3],
      curves: lhfaCurves,
      bands: LHFA_BANDS,
      lines: [],
      points: lhfaPoints,
    },
    kms: MONTHS,
    latest: {
      date: last.date,
      age_months: 12,
      weight_kg: 9.2,
      length_height_cm: 74.5,
      kms: last,
      findings: [
        finding(L('kms.result.n', 'N: berat badan naik', 'N: weight went up'), 'ok', KEEP_GOING, { gain_g: '300', kbm_g: '200', weight_g: '9200' }),
        finding(CAT.wfa_normal, 'ok', null, { indicator: 'wfa', z: '-0.55' }),
        finding(CAT.lhfa_normal, 'ok', null, { indicator: 'lhfa', z: '-0.35' }),
        finding(L('growth.wfl.normal', 'Gizi baik', 'Normal'), 'ok', null, { indicator: 'wfl', z: '-0.40' }),
      ],
      current: true,
    },
    next_action: finding(L('kms.result.n', 'N: berat badan naik', 'N: weight went up'), 'ok', KEEP_GOING, { gain_g: '300', kbm_g: '200', weight_g: '9200' }),
    problems: [],
    ...over,
  };
}

const dose = (dose_id: string, series: string, name: string, state: CardDose['state'], over: Partial<CardDose> = {}): CardDose => {
  const status: CardDose['status'] =
    state.state === 'given' ? 'given' : state.state === 'not_yet_due' ? 'upcoming' : state.state;
  const labels: Record<string, ReturnType<typeof L>> = {
    given: L('immunisation.state.given', 'Sudah diberikan', 'Given'),
    given_kejar: L('immunisation.state.given_kejar', 'Sudah diberikan (imunisasi kejar)', 'Given (catch-up)'),
    not_yet_due: L('immunisation.state.not_yet_due', 'Belum waktunya', 'Not yet due'),
    due: L('immunisation.state.due', 'Sudah waktunya diberikan', 'Due'),
    overdue: L('immunisation.state.overdue', 'Terlambat: berikan imunisasi kejar', 'Overdue: give as catch-up'),
    no_longer_allowed: L('immunisation.state.no_longer_allowed', 'Tidak boleh diberikan lagi (lewat batas umur)', 'No longer allowed (past the age limit)'),
    not_applicable: L('immunisation.state.not_applicable', 'Tidak untuk wilayah ini', 'Not for this area'),
  };
  const lk = state.state === 'given' && state.timing === 'kejar' ? 'given_kejar' : state.state;
  const given = state.state === 'given' ? { fact: `f-${dose_id}`, vaccine: name, date: state.date } : null;
  return { dose_id, series, name, due_age: null, status, label: labels[lk], state, given, also_recorded: [], ...over };
};

/** The card of the boy above on 2025-11-22 (12 months old). */
export function immunisationCard(over: Partial<ImmunisationCard> = {}): ImmunisationCard {
  return {
    person: 'p-child',
    name: 'Petrus Fiktif Bria',
    birth_date: BIRTH,
    on: '2025-11-22',
    schedule_id: 'imunisasi-nasional-2024-v1',
    je_area: false,
    doses: [
      dose('HB0', 'HB0', 'Hepatitis B 0 (< 24 jam)', { state: 'given', date: '2024-11-10', timing: 'on_time' }),
      dose('BCG', 'BCG', 'BCG', { state: 'given', date: '2024-12-12', timing: 'on_time' }),
      dose('OPV1', 'OPV', 'Polio tetes (OPV) 1', { state: 'given', date: '2024-12-12', timing: 'on_time' }),
      dose('OPV2', 'OPV', 'Polio tetes (OPV) 2', { state: 'given', date: '2025-01-12', timing: 'on_time' }),
      dose('OPV3', 'OPV', 'Polio tetes (OPV) 3', { state: 'overdue', due_date: '2025-02-10', allowed_until: null }),
      dose('OPV4', 'OPV', 'Polio tetes (OPV) 4', { state: 'overdue', due_date: '2025-03-10', allowed_until: null }),
      dose('DPT-HB-Hib1', 'DPT-HB-Hib', 'DPT-HB-Hib 1', { state: 'given', date: '2025-01-12', timing: 'on_time' }, {
        also_recorded: [{ fact: 'f-dpt1-again', vaccine: 'DPT-HB-Hib 1', date: '2025-02-12' }],
      }),
      dose('DPT-HB-Hib2', 'DPT-HB-Hib', 'DPT-HB-Hib 2', { state: 'overdue', due_date: '2025-02-10', allowed_until: '2025-12-09' }),
      dose('DPT-HB-Hib3', 'DPT-HB-Hib', 'DPT-HB-Hib 3', { state: 'overdue', due_date: '2025-03-10', allowed_until: '2025-12-09' }),
      dose('DPT-HB-Hib4', 'DPT-HB-Hib', 'DPT-HB-Hib 4 (lanjutan)', { state: 'not_yet_due', due_date: '2026-05-10' }),
      dose('PCV1', 'PCV', 'PCV 1', { state: 'given', date: '2025-01-12', timing: 'on_time' }),
      dose('PCV2', 'PCV', 'PCV 2', { state: 'overdue', due_date: '2025-02-10', allowed_until: null }),
      dose('PCV3', 'PCV', 'PCV 3 (lanjutan)', { state: 'due', due_date: '2025-11-10', on_time_until: '2025-12-09' }),
      dose('RV1', 'RV', 'Rotavirus 1', { state: 'given', date: '2025-01-12', timing: 'on_time' }),
      dose('RV2', 'RV', 'Rotavirus 2', { state: 'no_longer_allowed', last_day: '2025-06-08' }),
      dose('RV3', 'RV', 'Rotavirus 3', { state: 'no_longer_allowed', last_day: '2025-06-08' }),
      dose('IPV1', 'IPV', 'Polio suntik (IPV) 1', { state: 'overdue', due_date: '2025-03-10', allowed_until: '2029-10-09' }),
      dose('IPV2', 'IPV', 'Polio suntik (IPV) 2', { state: 'not_yet_due', due_date: '2026-03-22' }),
      dose('MR1', 'MR', 'Campak-Rubela (MR) 1', { state: 'given', date: '2025-10-12', timing: 'kejar' }),
      dose('JE', 'JE', 'Japanese Encephalitis (JE)', { state: 'not_applicable' }),
      dose('MR2', 'MR', 'Campak-Rubela (MR) 2 (lanjutan)', { state: 'not_yet_due', due_date: '2026-05-10' }),
    ],
    unmatched: [{ fact: 'f-polio', vaccine: 'Polio', date: '2025-02-12' }],
    problems: [],
    ...over,
  };
}
