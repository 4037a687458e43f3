// The home visit form: which panel a member gets, what each panel asks, and the payload of
// `record_home_visit` built from what was typed. Nothing here judges a value: Rust decides
// whether a measurement is plausible, what it means and what is due.
import type { AppError, PersonSummary, Task } from './api';
import type {
  HomeVisitInput,
  HouseholdUpdate,
  MemberPanel,
  ScreeningInput,
  VisitProfile,
  WaterSource,
} from './api-visit';
import type { Destination, MeasurementInput, MeasurementType, MeasurementUnit } from './api-health';
import { WATER_SOURCES } from './api-visit';
import { dictionaries } from './i18n';
import { formatDate } from './format';

export type PanelKind = 'pregnancy' | 'postpartum' | 'newborn' | 'under_five' | 'adult' | 'lansia' | 'tb';
export const PANEL_KINDS: readonly PanelKind[] = ['pregnancy', 'postpartum', 'newborn', 'under_five', 'adult', 'lansia', 'tb'];

export interface MeasureSpec {
  /** The form's name for the field (a measurement type, or `length_height` with a position). */
  key: MeasurementType;
  unit: MeasurementUnit;
}

export interface PanelSpec {
  measures: MeasureSpec[];
  /** Signs the kader ticks (`visit.sign.<key>`). For a pregnancy these are health-rules'
   *  `DangerSign` names: they are also saved as a `danger_signs` screening. */
  signs: string[];
  /** Education topics (`visit.topic.<key>`). */
  topics: string[];
  /** A reminder shown in the panel (`visit.remind.<kind>`). */
  reminder: boolean;
}

const m = (key: MeasurementType, unit: MeasurementUnit): MeasureSpec => ({ key, unit });
const BP = [m('bp_systolic', 'mmHg'), m('bp_diastolic', 'mmHg')];

/** health-rules `pregnancy::DangerSign`, snake_case as serde writes them. */
export const PREGNANCY_DANGER_SIGNS = [
  'bleeding',
  'persistent_vomiting',
  'high_fever',
  'swelling_or_headache_with_seizures',
  'reduced_fetal_movement',
  'water_breaks_early',
  'palpitations_or_chest_pain',
  'long_cough',
  'recurrent_diarrhoea',
  'urinary_or_vaginal_complaint',
  'sleepless_anxious',
] as const;

export const PANELS: Record<PanelKind, PanelSpec> = {
  pregnancy: {
    measures: [m('weight', 'kg'), m('muac', 'cm'), ...BP],
    signs: [...PREGNANCY_DANGER_SIGNS],
    topics: ['anc', 'danger_signs', 'ttd', 'nutrition', 'birth_plan', 'kelas_ibu'],
    reminder: true,
  },
  postpartum: {
    measures: [...BP, m('temperature', 'C')],
    signs: ['pp_bleeding', 'pp_fever', 'pp_discharge', 'pp_breast', 'pp_headache_seizures', 'pp_swelling', 'pp_sad'],
    topics: ['kf', 'breastfeeding', 'pp_danger', 'family_planning', 'nutrition'],
    reminder: true,
  },
  newborn: {
    measures: [m('weight', 'kg'), m('temperature', 'C')],
    signs: ['nb_not_feeding', 'nb_seizures', 'nb_weak', 'nb_fast_breathing', 'nb_fever_cold', 'nb_cord', 'nb_jaundice', 'nb_diarrhoea', 'nb_vomiting'],
    topics: ['breastfeeding', 'cord_care', 'warmth', 'nb_danger', 'immunisation'],
    reminder: true,
  },
  under_five: {
    measures: [m('weight', 'kg'), m('length_height', 'cm'), m('muac', 'cm')],
    signs: ['u5_diarrhoea', 'u5_fever', 'u5_cough_breathing', 'u5_not_eating', 'u5_thin', 'u5_swelling'],
    topics: ['immunisation', 'child_feeding', 'posyandu_monthly', 'vitamin_a', 'hygiene'],
    reminder: true,
  },
  adult: {
    measures: [m('weight', 'kg'), m('waist', 'cm'), ...BP, m('blood_sugar', 'mg/dL')],
    signs: ['ad_headache', 'ad_chest_pain', 'ad_breathless', 'ad_cough_2w', 'ad_weight_loss'],
    topics: ['ptm_check', 'diet', 'activity', 'no_smoking', 'medicine'],
    reminder: false,
  },
  lansia: {
    measures: [m('weight', 'kg'), ...BP, m('blood_sugar', 'mg/dL')],
    signs: ['la_dizzy', 'la_falls', 'la_forgetful', 'la_not_eating', 'la_chest_pain', 'la_alone'],
    topics: ['ptm_check', 'medicine', 'activity', 'falls', 'diet'],
    reminder: false,
  },
  tb: {
    measures: [m('weight', 'kg')],
    signs: ['tb_cough', 'tb_fever', 'tb_weight_loss', 'tb_side_effects', 'tb_family_cough'],
    topics: ['tb_medicine', 'tb_pickup', 'cough_etiquette', 'tb_contacts', 'nutrition'],
    reminder: true,
  },
};

/** Tasks (health-rules `TaskKind`) that say which panel a visit is for. */
const TASK_PANELS: [RegExp, PanelKind][] = [
  [/^(anc_|danger_sign_|past_hpl$)/, 'pregnancy'],
  [/^postpartum_visit/, 'postpartum'],
  [/^newborn_visit/, 'newborn'],
  [/^tb_/, 'tb'],
];

/** Days from one ISO date to another (calendar arithmetic only, no health rule). */
function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/** The panel a member gets: what Rust says is due for them (their tasks), an ongoing or a
 *  recent pregnancy, then their age. The kader can switch it. */
export function choosePanel(
  person: Pick<PersonSummary, 'sex' | 'age_months' | 'life_stage'>,
  profile?: Pick<VisitProfile, 'tasks' | 'pregnancies'> | null,
  today?: string,
): PanelKind {
  const tasks: Pick<Task, 'kind'>[] = profile?.tasks ?? [];
  for (const [re, kind] of TASK_PANELS) if (tasks.some((t) => re.test(t.kind))) return kind;
  const pregnancies = profile?.pregnancies ?? [];
  if (person.sex === 'female') {
    if (pregnancies.some((p) => p.status === 'ongoing')) return 'pregnancy';
    const delivered = pregnancies
      .map((p) => (typeof p.delivery_date === 'string' ? p.delivery_date : ''))
      .filter(Boolean)
      .sort()
      .slice(-1)[0];
    // The nifas period is the 42 days after delivery.
    if (delivered && today && daysBetween(delivered, today) <= 42 && daysBetween(delivered, today) >= 0) return 'postpartum';
  }
  const age = person.age_months;
  if (age === 0) return 'newborn';
  if (person.life_stage === 'balita' || (age !== null && age < 60)) return 'under_five';
  if (person.life_stage === 'lansia') return 'lansia';
  return 'adult';
}

export type YesNo = '' | 'yes' | 'no';

const MEASUREMENT_TYPES: readonly MeasurementType[] = ['weight', 'length_height', 'head', 'muac', 'bp_systolic', 'bp_diastolic', 'blood_sugar', 'waist', 'hb', 'temperature'];

export interface ReferralDraft {
  reason: string;
  destination: Destination | '';
  name: string;
}

/** What the kader typed for one member; text stays text until saving. */
export interface PanelDraft {
  kind: PanelKind;
  /** The kader picked the panel: a profile arriving later does not change it. */
  kindChosen: boolean;
  measures: Record<MeasurementType, string>;
  position: '' | 'lying' | 'standing';
  signs: string[];
  findings: string;
  topics: string[];
  education: string;
  followUp: string;
  reminded: boolean;
  reported: boolean;
  refer: boolean;
  referral: ReferralDraft;
  tb: { missed: string; pickedUp: YesNo; nextPickup: string };
}

export function newPanelDraft(kind: PanelKind, ageMonths: number | null = null): PanelDraft {
  return {
    kind,
    kindChosen: false,
    // Every type has its text (also those of other panels: switching keeps what was typed).
    measures: Object.fromEntries(MEASUREMENT_TYPES.map((t) => [t, ''])) as Record<MeasurementType, string>,
    // Length lying under two years, height standing from two (the kader can change it).
    position: ageMonths === null ? '' : ageMonths < 24 ? 'lying' : 'standing',
    signs: [],
    findings: '',
    topics: [],
    education: '',
    followUp: '',
    reminded: false,
    reported: false,
    refer: false,
    referral: { reason: '', destination: '', name: '' },
    tb: { missed: '', pickedUp: '', nextPickup: '' },
  };
}

export interface HouseholdFacts {
  latrine: YesNo;
  water_source: WaterSource | '';
  jkn: YesNo;
}

const yesNo = (v: unknown): YesNo => (v === true ? 'yes' : v === false ? 'no' : '');

export function householdFacts(values: Record<string, unknown>): HouseholdFacts {
  const w = values.water_source;
  return {
    latrine: yesNo(values.latrine),
    water_source: typeof w === 'string' && (WATER_SOURCES as readonly string[]).includes(w) ? (w as WaterSource) : '',
    jkn: yesNo(values.jkn),
  };
}

/** Only the facts that changed (a fact cannot be un-answered), or null when none did. */
export function householdUpdate(before: HouseholdFacts, now: HouseholdFacts): HouseholdUpdate | null {
  const out: HouseholdUpdate = {};
  if (now.latrine !== '' && now.latrine !== before.latrine) out.latrine = now.latrine === 'yes';
  if (now.water_source !== '' && now.water_source !== before.water_source) out.water_source = now.water_source;
  if (now.jkn !== '' && now.jkn !== before.jkn) out.jkn = now.jkn === 'yes';
  return Object.keys(out).length > 0 ? out : null;
}

/** A typed number: `22,5` and `22.5` are the same; anything else is not a number. */
export function parseDecimal(text: string): number | null {
  const s = text.trim().replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(s) && !/^\d*\.\d+$/.test(s)) return null;
  return Number(s);
}

export function parseCount(text: string): number | null {
  const s = text.trim();
  return /^\d{1,4}$/.test(s) ? Number(s) : null;
}

/** Words saved into the record are Bahasa Indonesia, the language of the health records,
 *  whatever language the screen is in. */
const recordWord = (key: string): string => dictionaries.id[key] ?? key;

/** Where each part of the payload came from, to put Rust's `field` back on the form. */
export interface SentMap {
  persons: string[];
  /** Per panel: the measurement type at each index of `measurements`. */
  measures: MeasurementType[][];
  /** Per panel: what each screening holds (`signs` or `tb`). */
  screenings: ('signs' | 'tb')[][];
}

export interface BuildResult {
  input: HomeVisitInput | null;
  sent: SentMap;
  /** Refused before sending, by form key (see `formKey`). */
  errors: Record<string, AppError>;
}

const localError = (key: string, field: string, params?: AppError['params']): AppError => ({ key, id: '', en: '', field, params });

export interface VisitForm {
  household: string;
  date: string;
  /** Members visited, in the order they were ticked. */
  visited: string[];
  panels: Record<string, PanelDraft>;
  factsBefore: HouseholdFacts;
  facts: HouseholdFacts;
  acknowledged: boolean;
}

/** The `record_home_visit` payload, or the fields to correct first. */
export function buildVisit(form: VisitForm): BuildResult {
  const errors: Record<string, AppError> = {};
  const sent: SentMap = { persons: [], measures: [], screenings: [] };
  if (!form.date) errors.date = localError('date.invalid', 'date');
  if (form.visited.length === 0) errors.members = localError('visit.error.no_members', 'panels');
  const panels: MemberPanel[] = [];
  for (const pid of form.visited) {
    const d = form.panels[pid];
    if (!d) continue;
    const spec = PANELS[d.kind];
    const measurements: MeasurementInput[] = [];
    const types: MeasurementType[] = [];
    for (const ms of spec.measures) {
      const text = d.measures[ms.key] ?? '';
      if (text.trim() === '') continue;
      const value = parseDecimal(text);
      if (value === null) {
        errors[formKey(pid, `m.${ms.key}`)] = localError('visit.error.number', `m.${ms.key}`);
        continue;
      }
      const input: MeasurementInput = { type: ms.key, value, unit: ms.unit };
      if (ms.key === 'length_height') {
        if (!d.position) {
          errors[formKey(pid, 'm.length_height')] = localError('validation.position_required', 'position');
          continue;
        }
        input.position = d.position;
      }
      measurements.push(input);
      types.push(ms.key);
    }
    const signs = spec.signs.filter((s) => d.signs.includes(s));
    const screenings: ScreeningInput[] = [];
    const screeningKinds: ('signs' | 'tb')[] = [];
    if (d.kind === 'pregnancy' && signs.length > 0) {
      screenings.push({ instrument: 'danger_signs', answers: Object.fromEntries(signs.map((s) => [s, true])) });
      screeningKinds.push('signs');
    }
    const findings: string[] = [];
    if (signs.length > 0) findings.push(`${recordWord('visit.record.signs')}: ${signs.map((s) => recordWord(`visit.sign.${s}`)).join(', ')}`);
    if (d.kind === 'tb') {
      const answers: ScreeningInput['answers'] = { treatment_check: true };
      const missedText = d.tb.missed.trim();
      if (missedText !== '') {
        const missed = parseCount(missedText);
        if (missed === null) errors[formKey(pid, 'tb_missed')] = localError('visit.error.count', 'missed_doses');
        else {
          answers.missed_doses = missed;
          findings.push(`${recordWord('visit.tb.missed')}: ${missed}`);
        }
      }
      if (d.tb.pickedUp) {
        answers.medicine_picked_up = d.tb.pickedUp === 'yes';
        findings.push(`${recordWord('visit.tb.picked_up')}: ${recordWord(`visit.${d.tb.pickedUp}`)}`);
      }
      if (d.tb.nextPickup) {
        answers.next_pickup = d.tb.nextPickup;
        findings.push(`${recordWord('visit.tb.next_pickup')}: ${formatDate(d.tb.nextPickup)}`);
      }
      if (Object.keys(answers).length > 1) {
        screenings.push({ instrument: 'tb', answers });
        screeningKinds.push('tb');
      }
    }
    if (d.findings.trim()) findings.push(d.findings.trim());
    const topics = spec.topics.filter((x) => d.topics.includes(x));
    const education: string[] = [];
    if (topics.length > 0) education.push(`${recordWord('visit.record.topics')}: ${topics.map((x) => recordWord(`visit.topic.${x}`)).join(', ')}`);
    if (d.education.trim()) education.push(d.education.trim());

    let referral: MemberPanel['referral'] = null;
    if (d.refer) {
      const reason = d.referral.reason.trim();
      if (!reason) errors[formKey(pid, 'reason')] = localError('validation.required', 'reason');
      if (!d.referral.destination) errors[formKey(pid, 'destination')] = localError('visit.error.destination', 'destination');
      if (reason && d.referral.destination) {
        referral = { reason, destination: d.referral.destination, destination_name: d.referral.name.trim() || null };
      }
    }
    panels.push({
      person: pid,
      measurements,
      immunisations: [],
      supplements: [],
      screenings,
      findings: findings.length > 0 ? findings.join('; ') : null,
      education: education.length > 0 ? education.join('. ') : null,
      follow_up_date: d.followUp || null,
      reminded_to_facility: d.reminded ? true : null,
      reported_to_health_worker: d.reported && form.date ? form.date : null,
      referral,
    });
    sent.persons.push(pid);
    sent.measures.push(types);
    sent.screenings.push(screeningKinds);
  }
  if (Object.keys(errors).length > 0) return { input: null, sent, errors };
  return {
    input: {
      household: form.household,
      date: form.date,
      panels,
      household_update: householdUpdate(form.factsBefore, form.facts),
      family_acknowledged: form.acknowledged ? true : null,
    },
    sent,
    errors,
  };
}

/** The form's key for a field of one member's panel. */
export function formKey(person: string, part: string): string {
  return `${person}.${part}`;
}

const PANEL_FIELDS: Record<string, string> = {
  findings: 'findings',
  education: 'education',
  follow_up_date: 'follow_up',
  reported_to_health_worker: 'reported',
  reminded_to_facility: 'reminded',
  'referral.reason': 'reason',
  reason: 'reason',
  'referral.destination': 'destination',
  destination: 'destination',
  'referral.destination_name': 'destination_name',
  destination_name: 'destination_name',
};
const MEASURE_PARTS = new Set(['value', 'unit', 'position', 'type']);

/** Which field of the form Rust's `field` names (`panels.0.measurements.1.value` → the
 *  measurement typed for the first member), or null when it names none. */
export function fieldFromRust(field: string | null | undefined, sent: SentMap): string | null {
  if (!field) return null;
  if (field === 'date') return 'date';
  if (field === 'panels') return 'members';
  const hh = /^household_update\.(\w+)$/.exec(field);
  if (hh) return `hh.${hh[1]}`;
  let i: number;
  let rest: string;
  const p = /^panels\.(\d+)(?:\.(.+))?$/.exec(field);
  if (p) {
    i = Number(p[1]);
    rest = p[2] ?? '';
  } else if (sent.persons.length === 1) {
    // A field named without its panel: the only panel there is.
    i = 0;
    rest = field;
    if (MEASURE_PARTS.has(rest) && sent.measures[0]?.length === 1) rest = `measurements.0.${rest}`;
  } else {
    return null;
  }
  const pid = sent.persons[i];
  if (!pid) return null;
  const mm = /^measurements\.(\d+)(?:\.\w+)?$/.exec(rest);
  if (mm) {
    const type = sent.measures[i]?.[Number(mm[1])];
    return type ? formKey(pid, `m.${type}`) : pid;
  }
  const sc = /^screenings\.(\d+)/.exec(rest);
  if (sc) return formKey(pid, sent.screenings[i]?.[Number(sc[1])] === 'tb' ? 'tb_missed' : 'signs');
  if (rest === 'date') return 'date';
  if (rest in PANEL_FIELDS) return formKey(pid, PANEL_FIELDS[rest]);
  return pid;
}
