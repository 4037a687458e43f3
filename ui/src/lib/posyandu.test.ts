import { describe, expect, it } from 'vitest';
import {
  defaultPosition,
  doneLast,
  emptyCounselling,
  emptyServices,
  emptyValues,
  errorTarget,
  filterRoster,
  findingDetails,
  formKind,
  formatNumber,
  measureFields,
  offerDoses,
  offeredSupplements,
  parseDecimal,
  percent,
  stepOrder,
  toAttendanceInput,
  toImmunisations,
  toMeasurements,
  toSupplements,
} from './posyandu';
import type { RosterRow } from './api-posyandu';
import type { CardDose, ImmunisationCard } from './api-health';
import type { PersonSummary } from './api';
import { personSummary } from '../test/fake';

const person = (over: Partial<PersonSummary> = {}): PersonSummary =>
  personSummary({ posyandu: '53.04.05.2001.P01', household: 'h1', name: 'Petrus Fiktif Bria', ...over });
const row = (over: Partial<RosterRow> = {}): RosterRow => ({
  person: person(),
  household_head: 'Yohanes Fiktif Bria',
  pregnant: false,
  visit: null,
  expected: true,
  reasons: [],
  ...over,
});

describe('numbers typed by a kader', () => {
  it('reads the Indonesian decimal comma and the point', () => {
    expect(parseDecimal('8,2')).toBe(8.2);
    expect(parseDecimal(' 8.25 ')).toBe(8.25);
    expect(parseDecimal('120')).toBe(120);
    expect(parseDecimal('8,')).toBe(8);
  });

  it('refuses what is not one plain number', () => {
    for (const bad of ['', 'abc', '8,2,1', '8.2.1', '-3', '1e3', '8 kg', ',5']) expect(parseDecimal(bad), bad).toBeNull();
  });

  it('shows numbers with the decimal style of the language', () => {
    expect(formatNumber(8.2, 'id')).toBe('8,2');
    expect(formatNumber('-2.31', 'id')).toBe('-2,31');
    expect(formatNumber(8.2, 'en')).toBe('8.2');
  });

  it('shows Rust ratios as percentages, a dash when there is no denominator', () => {
    expect(percent(0.2, 'id')).toBe('20,0%');
    expect(percent(5 / 6, 'id')).toBe('83,3%');
    expect(percent(5 / 6, 'en')).toBe('83.3%');
    expect(percent(1, 'en')).toBe('100.0%');
    expect(percent(null, 'id')).toBe('–');
  });
});

describe('fields by life stage', () => {
  it('gives a balita weight, length/height, head and LiLA', () => {
    expect(formKind(row())).toBe('balita');
    expect(measureFields('balita', person())).toEqual(['weight', 'length_height', 'head', 'muac']);
  });

  it('gives a pregnant woman weight, LiLA, blood pressure and Hb', () => {
    const r = row({ pregnant: true, person: person({ sex: 'female', age_months: 300, life_stage: 'adult' }) });
    expect(formKind(r)).toBe('pregnant');
    expect(measureFields('pregnant', r.person)).toEqual(['weight', 'muac', 'bp_systolic', 'bp_diastolic', 'hb']);
  });

  it('gives adults and lansia weight, height, waist, blood pressure and blood sugar', () => {
    const man = person({ life_stage: 'lansia', age_months: 800, sex: 'male' });
    expect(formKind(row({ person: man }))).toBe('adult');
    expect(measureFields('adult', man)).toEqual(['weight', 'length_height', 'waist', 'bp_systolic', 'bp_diastolic', 'blood_sugar']);
    // A woman also gets LiLA (KEK risk of women of child-bearing age).
    expect(measureFields('adult', person({ life_stage: 'adult', sex: 'female', age_months: 400 }))).toContain('muac');
  });

  it('asks school children for blood pressure and sugar only from 15 years', () => {
    expect(measureFields('school', person({ life_stage: 'school_adolescent', age_months: 120 }))).toEqual(['weight', 'length_height', 'hb']);
    expect(measureFields('school', person({ life_stage: 'school_adolescent', age_months: 190 }))).toContain('blood_sugar');
  });

  it('starts the position at lying under 24 months and standing from 24 months', () => {
    expect(defaultPosition(23)).toBe('lying');
    expect(defaultPosition(24)).toBe('standing');
    expect(defaultPosition(null)).toBe('standing');
  });
});

describe('measurements for Rust', () => {
  it('sends what was typed with its unit, and the position with the length', () => {
    const v = { ...emptyValues(), weight: '8,2', length_height: '72,5', head: '', muac: '13' };
    expect(toMeasurements(v, ['weight', 'length_height', 'head', 'muac'], 'lying')).toEqual({
      measurements: [
        { type: 'weight', value: 8.2, unit: 'kg' },
        { type: 'length_height', value: 72.5, unit: 'cm', position: 'lying' },
        { type: 'muac', value: 13, unit: 'cm' },
      ],
      bad: [],
    });
  });

  it('names the fields that are not numbers and ignores fields not on the form', () => {
    const v = { ...emptyValues(), weight: '8..2', bp_systolic: '120', waist: '80' };
    const r = toMeasurements(v, ['weight', 'bp_systolic', 'bp_diastolic'], 'standing');
    expect(r.bad).toEqual(['weight']);
    expect(r.measurements).toEqual([{ type: 'bp_systolic', value: 120, unit: 'mmHg' }]);
  });
});

describe('which field a refusal names', () => {
  const sent = [
    { type: 'weight' as const, value: 45, unit: 'kg' as const },
    { type: 'length_height' as const, value: 70, unit: 'cm' as const, position: 'lying' as const },
  ];
  const err = (field: string | null, params?: Record<string, string>) => ({ key: 'k', id: '', en: '', field, params });

  it('follows a path into the measurements', () => {
    expect(errorTarget(err('measurements.1.value'), sent)).toBe('length_height');
    expect(errorTarget(err('measurements.1.position'), sent)).toBe('position');
    expect(errorTarget(err('immunisations.0.vaccine'), sent)).toBe('immunisations');
  });

  it('finds the measurement of a body field by its type', () => {
    expect(errorTarget(err('value', { type: 'weight' }), sent)).toBe('weight');
    expect(errorTarget(err('value'), sent)).toBeNull();
    expect(errorTarget(err('value'), [sent[0]])).toBe('weight');
    // Rust's sentence without params names the measurement.
    const plain = { key: 'validation.implausible_for_age', id: 'length_height 20 cm tidak masuk akal untuk umur 14 bln/months. Periksa lagi.', en: 'A length_height of 20 cm is implausible at age 14 bln/months. Check again.', field: 'value' };
    expect(errorTarget(plain, sent)).toBe('length_height');
  });

  it('maps the other fields of the form', () => {
    expect(errorTarget(err('follow_up_date'), sent)).toBe('follow_up_date');
    expect(errorTarget(err('referral.reason'), sent)).toBe('referral_reason');
    expect(errorTarget(err('destination'), sent)).toBe('referral_destination');
    expect(errorTarget(err('quantity'), sent)).toBe('supplements');
    expect(errorTarget(err(null), sent)).toBeNull();
    expect(errorTarget(err('session'), sent)).toBeNull();
  });
});

describe('the roster search', () => {
  const rows = [
    row({ person: person({ id: 'a', name: 'Petrus Fiktif Bria' }) }),
    row({ person: person({ id: 'b', name: 'Maria Seran' }), household_head: 'Yosef Seran' }),
    row({ person: person({ id: 'c', name: 'Angélica Tefa' }), household_head: null }),
  ];

  it('keeps the rows whose name or household head holds every word, any case or accent', () => {
    expect(filterRoster(rows, 'petrus').map((r) => r.person.id)).toEqual(['a']);
    expect(filterRoster(rows, 'SERAN').map((r) => r.person.id)).toEqual(['b']);
    expect(filterRoster(rows, 'yosef maria').map((r) => r.person.id)).toEqual(['b']);
    expect(filterRoster(rows, 'angelica').map((r) => r.person.id)).toEqual(['c']);
    expect(filterRoster(rows, '  ')).toHaveLength(3);
    expect(filterRoster(rows, 'xyz')).toEqual([]);
  });

  it('moves those already recorded to the end, keeping Rust\'s order otherwise', () => {
    const done = [row({ person: person({ id: 'a' }), visit: 'v1' }), row({ person: person({ id: 'b' }) }), row({ person: person({ id: 'c' }), visit: 'v2' }), row({ person: person({ id: 'd' }) })];
    expect(doneLast(done).map((r) => r.person.id)).toEqual(['b', 'd', 'a', 'c']);
  });
});

describe('services', () => {
  const dose = (dose_id: string, status: CardDose['status']): CardDose => ({
    dose_id,
    series: dose_id,
    name: dose_id,
    due_age: null,
    status,
    label: { key: `immunisation.state.${status}`, id: status, en: status },
    state: { state: 'not_applicable' },
    given: null,
    also_recorded: [],
  });
  const card = (doses: CardDose[]): ImmunisationCard => ({ person: 'p1', name: 'x', birth_date: '2025-01-01', on: '2025-11-22', schedule_id: 's', je_area: false, doses, unmatched: [], problems: [] });

  it('offers the due and overdue doses; past the age limit they are only listed', () => {
    const c = card([dose('HB0', 'no_longer_allowed'), dose('BCG', 'given'), dose('OPV2', 'overdue'), dose('PCV1', 'due'), dose('MR1', 'upcoming')]);
    const { offer, closed } = offerDoses(c);
    expect(offer.map((d) => d.dose_id)).toEqual(['OPV2', 'PCV1']);
    expect(closed.map((d) => d.dose_id)).toEqual(['HB0']);
    const draft = { ...emptyServices(), doses: { OPV2: true, PCV1: true, MR1: true } };
    expect(toImmunisations(draft, offer)).toEqual([
      { vaccine: 'OPV2', catch_up: true },
      { vaccine: 'PCV1', catch_up: false },
    ]);
    expect(offerDoses(null)).toEqual({ offer: [], closed: [] });
  });

  it('sends the supplements offered to the life stage and ticked', () => {
    const balita = offeredSupplements('balita', 'male');
    expect(balita).toEqual({ vitaminA: true, ttd: false, deworming: true, pmt: true });
    const draft = { ...emptyServices(), vitaminA: 'vitamin_a_red' as const, ttd: true, ttdQuantity: '30', deworming: true };
    expect(toSupplements(draft, balita).supplements).toEqual([{ supplement: 'vitamin_a_red' }, { supplement: 'deworming' }]);
    const pregnant = offeredSupplements('pregnant', 'female');
    expect(toSupplements({ ...draft, pmt: true }, pregnant)).toEqual({ supplements: [{ supplement: 'ttd', quantity: 30 }, { supplement: 'pmt' }], bad: false });
    expect(toSupplements({ ...draft, ttdQuantity: '3,5' }, pregnant).bad).toBe(true);
    expect(offeredSupplements('adult', 'male').ttd).toBe(false);
  });
});

describe('the attendance for Rust', () => {
  it('sends empty notes as null and the referral only when asked for', () => {
    const c = { ...emptyCounselling(), counselling: ' ASI eksklusif ', followUp: '2025-12-20' };
    expect(toAttendanceInput('s1', 'p1', [], [], [], c)).toEqual({
      session: 's1',
      person: 'p1',
      measurements: [],
      immunisations: [],
      supplements: [],
      screenings: [],
      counselling: 'ASI eksklusif',
      findings: null,
      follow_up_date: '2025-12-20',
      referral: null,
    });
    const r = toAttendanceInput('s1', 'p1', [], [], [], { ...c, refer: true, reason: 'BGM', destination: 'puskesmas' });
    expect(r.referral).toEqual({ reason: 'BGM', destination: 'puskesmas', destination_name: null });
  });

  it('puts steps 4 and 5 in the order the session set', () => {
    expect(stepOrder('counselling_first')).toEqual(['counselling', 'services']);
    expect(stepOrder('services_first')).toEqual(['services', 'counselling']);
    expect(stepOrder(null)).toEqual(['services', 'counselling']);
  });
});

describe('finding details', () => {
  it('shows the values Rust gave, in the decimal style of the language', () => {
    const f = { label: { key: 'growth.wfa.underweight', id: '', en: '' }, level: 'act' as const, action: null, params: { indicator: 'wfa', z: '-2.31' } };
    expect(findingDetails(f, 'id', (c) => c.toUpperCase())).toEqual([{ key: 'posyandu.detail.z', params: { indicator: 'WFA', z: '-2,31' } }]);
    const t = { label: { key: 'kms.result.t', id: '', en: '' }, level: 'act' as const, action: null, params: { gain_g: '100', kbm_g: '200', weight_g: '9100' } };
    expect(findingDetails(t, 'id')).toEqual([{ key: 'posyandu.detail.gain_kbm', params: { gain: '+100', kbm: '200' } }]);
    const loss = { ...t, params: { gain_g: '-50' } };
    expect(findingDetails(loss, 'en')).toEqual([{ key: 'posyandu.detail.gain', params: { gain: '-50' } }]);
  });
});
