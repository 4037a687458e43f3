import { describe, expect, it } from 'vitest';
import type { PersonSummary, Task } from './api';
import {
  buildVisit,
  choosePanel,
  fieldFromRust,
  householdFacts,
  householdUpdate,
  newPanelDraft,
  parseDecimal,
  PANELS,
  PREGNANCY_DANGER_SIGNS,
  type VisitForm,
} from './visit';
import { dictionaries } from './i18n';

const person = (over: Partial<PersonSummary> = {}): PersonSummary => ({
  id: 'p1',
  posyandu: '53.04.05.2001.P01',
  household: 'h1',
  name: 'Maria Fiktif',
  sex: 'female',
  birth_date: '1995-03-14',
  birth_date_estimated: false,
  nik: null,
  mother: null,
  status: 'active',
  age_months: 368,
  life_stage: 'adult',
  values: {},
  ...over,
});

const task = (kind: string): Task => ({ kind, priority: 'high', due: '2025-12-01', reason: { key: `tasks.${kind}`, id: kind, en: kind }, params: {}, form: 'home_visit' });

describe('choosing the panel of a member', () => {
  it('follows the age when nothing else is known', () => {
    expect(choosePanel(person({ sex: 'male', age_months: 0, life_stage: 'balita' }))).toBe('newborn');
    expect(choosePanel(person({ sex: 'male', age_months: 21, life_stage: 'balita' }))).toBe('under_five');
    expect(choosePanel(person({ sex: 'male', age_months: 59, life_stage: 'balita' }))).toBe('under_five');
    expect(choosePanel(person({ sex: 'female', age_months: 200, life_stage: 'school_adolescent' }))).toBe('adult');
    expect(choosePanel(person({ sex: 'male', age_months: 500, life_stage: 'adult' }))).toBe('adult');
    expect(choosePanel(person({ sex: 'female', age_months: 800, life_stage: 'lansia' }))).toBe('lansia');
  });

  it("takes the pregnancy, nifas, newborn or TB panel from the person's due tasks (Rust's)", () => {
    const woman = person();
    expect(choosePanel(woman, { tasks: [task('anc_due')] })).toBe('pregnancy');
    expect(choosePanel(woman, { tasks: [task('danger_sign_refer')] })).toBe('pregnancy');
    expect(choosePanel(woman, { tasks: [task('postpartum_visit')] })).toBe('postpartum');
    expect(choosePanel(person({ sex: 'male', age_months: 0 }), { tasks: [task('newborn_visit_missed')] })).toBe('newborn');
    expect(choosePanel(person({ sex: 'male' }), { tasks: [task('tb_missed_doses')] })).toBe('tb');
    // A vaccine task says nothing about the panel: the age decides.
    expect(choosePanel(person({ sex: 'male', age_months: 10, life_stage: 'balita' }), { tasks: [task('vaccine_due')] })).toBe('under_five');
  });

  it('takes an ongoing pregnancy, or a delivery in the last 42 days, from the profile', () => {
    const woman = person();
    expect(choosePanel(woman, { tasks: [], pregnancies: [{ id: 'g1', status: 'ongoing', hpht: '2025-06-01' }] }, '2025-12-01')).toBe('pregnancy');
    const delivered = [{ id: 'g1', status: 'delivered', hpht: '2025-01-01', delivery_date: '2025-11-10' }];
    expect(choosePanel(woman, { tasks: [], pregnancies: delivered }, '2025-12-01')).toBe('postpartum');
    expect(choosePanel(woman, { tasks: [], pregnancies: delivered }, '2026-01-15')).toBe('adult');
    // Pregnancies of a man are not read.
    expect(choosePanel(person({ sex: 'male' }), { tasks: [], pregnancies: [{ status: 'ongoing' }] })).toBe('adult');
  });

  it('asks for each life stage what the home visit records', () => {
    expect(PANELS.pregnancy.measures.map((m) => m.key)).toEqual(['weight', 'muac', 'bp_systolic', 'bp_diastolic']);
    expect(PANELS.pregnancy.signs).toEqual([...PREGNANCY_DANGER_SIGNS]);
    expect(PANELS.under_five.measures.map((m) => m.key)).toEqual(['weight', 'length_height', 'muac']);
    expect(PANELS.newborn.measures.map((m) => m.key)).toEqual(['weight', 'temperature']);
    expect(PANELS.lansia.measures.map((m) => `${m.key} ${m.unit}`)).toEqual(['weight kg', 'bp_systolic mmHg', 'bp_diastolic mmHg', 'blood_sugar mg/dL']);
    // Every word the panels show is in both languages.
    for (const spec of Object.values(PANELS)) {
      for (const s of spec.signs) expect(dictionaries.en[`visit.sign.${s}`], s).toBeTruthy();
      for (const x of spec.topics) expect(dictionaries.en[`visit.topic.${x}`], x).toBeTruthy();
    }
  });
});

describe('numbers as typed', () => {
  it('accepts a decimal comma or point, nothing else', () => {
    expect(parseDecimal('22,5')).toBe(22.5);
    expect(parseDecimal(' 22.5 ')).toBe(22.5);
    expect(parseDecimal('120')).toBe(120);
    expect(parseDecimal(',5')).toBe(0.5);
    expect(parseDecimal('22,5,1')).toBeNull();
    expect(parseDecimal('abc')).toBeNull();
    expect(parseDecimal('-3')).toBeNull();
    expect(parseDecimal('')).toBeNull();
  });
});

describe('household facts', () => {
  it('sends only what changed, or nothing', () => {
    const before = householdFacts({ latrine: true, water_source: 'well', head_name: 'X' });
    expect(before).toEqual({ latrine: 'yes', water_source: 'well', jkn: '' });
    expect(householdUpdate(before, { ...before })).toBeNull();
    expect(householdUpdate(before, { latrine: 'no', water_source: 'well', jkn: 'yes' })).toEqual({ latrine: false, jkn: true });
    expect(householdUpdate(before, { ...before, water_source: 'piped' })).toEqual({ water_source: 'piped' });
    expect(householdFacts({ water_source: 'lake' }).water_source).toBe('');
  });
});

function form(over: Partial<VisitForm> = {}): VisitForm {
  const facts = { latrine: 'yes', water_source: 'well', jkn: '' } as const;
  return { household: 'h1', date: '2025-12-01', visited: [], panels: {}, factsBefore: { ...facts }, facts: { ...facts }, acknowledged: false, ...over };
}

describe('the record_home_visit payload', () => {
  it('turns each panel into measurements, screenings, findings, education and a referral', () => {
    const mother = newPanelDraft('pregnancy', 368);
    Object.assign(mother.measures, { muac: '22,5', bp_systolic: '150', bp_diastolic: '95', weight: '' });
    mother.signs = ['high_fever', 'bleeding'];
    mother.findings = 'Pusing sejak kemarin';
    mother.topics = ['ttd', 'anc'];
    mother.education = 'Minum TTD setiap malam';
    mother.followUp = '2025-12-08';
    mother.reminded = true;
    mother.reported = true;
    mother.refer = true;
    mother.referral = { reason: ' Tekanan darah tinggi dan perdarahan ', destination: 'puskesmas', name: '' };
    const child = newPanelDraft('under_five', 21);
    Object.assign(child.measures, { weight: '9,4', length_height: '80.5', muac: '' });
    const built = buildVisit(form({ visited: ['p-mother', 'p-child'], panels: { 'p-mother': mother, 'p-child': child }, acknowledged: true }));
    expect(built.errors).toEqual({});
    expect(built.input).toEqual({
      household: 'h1',
      date: '2025-12-01',
      household_update: null,
      family_acknowledged: true,
      panels: [
        {
          person: 'p-mother',
          measurements: [
            { type: 'muac', value: 22.5, unit: 'cm' },
            { type: 'bp_systolic', value: 150, unit: 'mmHg' },
            { type: 'bp_diastolic', value: 95, unit: 'mmHg' },
          ],
          immunisations: [],
          supplements: [],
          // Health-rules' danger signs, so Rust's due list sees them.
          screenings: [{ instrument: 'danger_signs', answers: { bleeding: true, high_fever: true } }],
          findings: 'Tanda: Perdarahan, Demam tinggi; Pusing sejak kemarin',
          education: 'Topik: Periksa kehamilan (ANC) sesuai jadwal, Minum tablet tambah darah (TTD). Minum TTD setiap malam',
          follow_up_date: '2025-12-08',
          reminded_to_facility: true,
          reported_to_health_worker: '2025-12-01',
          referral: { reason: 'Tekanan darah tinggi dan perdarahan', destination: 'puskesmas', destination_name: null },
        },
        {
          person: 'p-child',
          measurements: [
            { type: 'weight', value: 9.4, unit: 'kg' },
            { type: 'length_height', value: 80.5, unit: 'cm', position: 'lying' },
          ],
          immunisations: [],
          supplements: [],
          screenings: [],
          findings: null,
          education: null,
          follow_up_date: null,
          reminded_to_facility: null,
          reported_to_health_worker: null,
          referral: null,
        },
      ],
    });
    expect(built.sent).toEqual({ persons: ['p-mother', 'p-child'], measures: [['muac', 'bp_systolic', 'bp_diastolic'], ['weight', 'length_height']], screenings: [['signs'], []] });
  });

  it('sends only the fields of the chosen panel (values typed for another stay in the draft)', () => {
    const d = newPanelDraft('pregnancy', 368);
    d.measures.muac = '24';
    d.measures.blood_sugar = '180';
    d.signs = ['bleeding'];
    d.kind = 'lansia';
    const built = buildVisit(form({ visited: ['p1'], panels: { p1: d } }));
    expect(built.input?.panels[0].measurements).toEqual([{ type: 'blood_sugar', value: 180, unit: 'mg/dL' }]);
    expect(built.input?.panels[0].screenings).toEqual([]);
    expect(built.input?.panels[0].findings).toBeNull();
    expect(d.measures.muac).toBe('24');
  });

  it('records TB treatment adherence as findings and a tb screening', () => {
    const d = newPanelDraft('tb', 400);
    d.tb = { missed: '2', pickedUp: 'no', nextPickup: '2025-12-05' };
    const p = buildVisit(form({ visited: ['p1'], panels: { p1: d } })).input!.panels[0];
    expect(p.screenings).toEqual([{ instrument: 'tb', answers: { treatment_check: true, missed_doses: 2, medicine_picked_up: false, next_pickup: '2025-12-05' } }]);
    expect(p.findings).toBe('Dosis obat terlewat: 2; Obat sudah diambil: Tidak; Jadwal ambil obat berikutnya: 05/12/2025');
  });

  it('refuses before sending what is not a number, a referral without reason or destination, no member', () => {
    const d = newPanelDraft('under_five', 30);
    d.measures.weight = '9,4kg';
    d.refer = true;
    const built = buildVisit(form({ visited: ['p1'], panels: { p1: d }, date: '' }));
    expect(built.input).toBeNull();
    expect(Object.keys(built.errors).sort()).toEqual(['date', 'p1.destination', 'p1.m.weight', 'p1.reason']);
    expect(built.errors['p1.m.weight'].key).toBe('visit.error.number');
    expect(buildVisit(form()).errors.members.key).toBe('visit.error.no_members');
  });

  it('sends the household facts that changed', () => {
    const built = buildVisit(form({ visited: ['p1'], panels: { p1: newPanelDraft('adult') }, facts: { latrine: 'yes', water_source: 'piped', jkn: 'yes' } }));
    expect(built.input?.household_update).toEqual({ water_source: 'piped', jkn: true });
  });
});

describe("Rust's field on the form", () => {
  const sent = { persons: ['p-mother', 'p-child'], measures: [['muac', 'bp_systolic'], ['weight']] as never, screenings: [['signs'], []] as never };
  it('names the measurement, referral field or household fact refused', () => {
    expect(fieldFromRust('panels.0.measurements.1.value', sent)).toBe('p-mother.m.bp_systolic');
    expect(fieldFromRust('panels.1.measurements.0.unit', sent)).toBe('p-child.m.weight');
    expect(fieldFromRust('panels.0.referral.reason', sent)).toBe('p-mother.reason');
    expect(fieldFromRust('panels.1.follow_up_date', sent)).toBe('p-child.follow_up');
    expect(fieldFromRust('panels.0.screenings.0.answers', sent)).toBe('p-mother.signs');
    expect(fieldFromRust('panels.1.person', sent)).toBe('p-child');
    expect(fieldFromRust('household_update.water_source', sent)).toBe('hh.water_source');
    expect(fieldFromRust('date', sent)).toBe('date');
    expect(fieldFromRust('panels', sent)).toBe('members');
    // Without the panel's index only a single panel can be meant.
    expect(fieldFromRust('value', sent)).toBeNull();
    expect(fieldFromRust('value', { persons: ['p1'], measures: [['muac']], screenings: [[]] })).toBe('p1.m.muac');
    expect(fieldFromRust(null, sent)).toBeNull();
  });
});
