// The posyandu day's form logic: which fields a person's life stage gets, numbers typed
// with a decimal comma, which refused field an error names, the roster search, and how
// Rust's results are shown. No health rule is decided here: Rust judges every value.
import type { AppError, Locale } from './api';
import type { Vials } from './vials';
import type { AttendanceInput, IndicatorCode, RosterRow } from './api-posyandu';
import type {
  CardDose,
  Destination,
  Finding,
  ImmunisationCard,
  ImmunisationInput,
  Level,
  MeasurementInput,
  MeasurementType,
  MeasurementUnit,
  Position,
  ServiceOrder,
  SupplementInput,
} from './api-health';

/** The unit of each measurement type (sync-protocol schema.rs MEASUREMENT_RANGES). */
export const UNITS: Record<MeasurementType, MeasurementUnit> = {
  weight: 'kg',
  length_height: 'cm',
  head: 'cm',
  muac: 'cm',
  waist: 'cm',
  bp_systolic: 'mmHg',
  bp_diastolic: 'mmHg',
  blood_sugar: 'mg/dL',
  hb: 'g/dL',
  temperature: 'C',
};

/** A number as a kader types it: `8,2` (Indonesian decimal comma) or `8.2`; null when it
 *  is not one plain number. */
export function parseDecimal(text: string): number | null {
  const s = text.trim().replace(/\s+/g, '');
  if (!/^\d+([.,]\d+)?$/.test(s) && !/^\d+[.,]$/.test(s)) return null;
  const v = Number(s.replace(',', '.').replace(/[.]$/, ''));
  return Number.isFinite(v) ? v : null;
}

/** A number shown in the user's language: `8,2` in Bahasa Indonesia, `8.2` in English. */
export function formatNumber(v: number | string, locale: Locale): string {
  const s = typeof v === 'number' ? String(v) : v;
  return locale === 'id' ? s.replace('.', ',') : s;
}

/** A Rust ratio (a fraction, null when the denominator is zero) as a percentage. */
export function percent(r: number | null | undefined, locale: Locale): string {
  // One format for a ratio on every screen (the day's summary and Laporan): one decimal.
  if (r === null || r === undefined || !Number.isFinite(r)) return '–';
  return `${formatNumber((r * 100).toFixed(1), locale)}%`;
}

/** Which form a person gets: by Rust's life stage, a pregnant woman's own. */
export type FormKind = 'balita' | 'pregnant' | 'school' | 'adult';

export function formKind(row: Pick<RosterRow, 'pregnant'> & { person: { life_stage: string | null } }): FormKind {
  if (row.pregnant) return 'pregnant';
  switch (row.person.life_stage) {
    case 'balita':
      return 'balita';
    case 'school_adolescent':
      return 'school';
    default:
      return 'adult';
  }
}

/** The measurements asked for at the posyandu table, in the order they are taken. */
export function measureFields(kind: FormKind, person: { age_months: number | null; sex: string | null }): MeasurementType[] {
  const woman = person.sex === 'female';
  const age = person.age_months ?? 0;
  switch (kind) {
    case 'balita':
      return ['weight', 'length_height', 'head', 'muac'];
    case 'pregnant':
      return ['weight', 'muac', 'bp_systolic', 'bp_diastolic', 'hb'];
    case 'school': {
      const f: MeasurementType[] = ['weight', 'length_height'];
      if (woman) f.push('muac');
      f.push('hb');
      // Blood pressure and blood sugar from 15 years (ILP's table for usia sekolah/remaja).
      if (age >= 180) f.push('bp_systolic', 'bp_diastolic', 'blood_sugar');
      return f;
    }
    case 'adult': {
      const f: MeasurementType[] = ['weight', 'length_height', 'waist'];
      if (woman) f.push('muac');
      f.push('bp_systolic', 'bp_diastolic', 'blood_sugar');
      return f;
    }
  }
}

/** The position the chooser starts at: lying under 24 months, standing from 24 months. */
export function defaultPosition(ageMonths: number | null): Position {
  return ageMonths !== null && ageMonths < 24 ? 'lying' : 'standing';
}

export type MeasureValues = Record<MeasurementType, string>;

export function emptyValues(): MeasureValues {
  const v = {} as MeasureValues;
  for (const k of Object.keys(UNITS) as MeasurementType[]) v[k] = '';
  return v;
}

/** What was typed, as Rust's measurements; the fields whose text is not a number. */
export function toMeasurements(
  values: MeasureValues,
  fields: MeasurementType[],
  position: Position,
  oedema = false,
): { measurements: MeasurementInput[]; bad: MeasurementType[] } {
  const measurements: MeasurementInput[] = [];
  const bad: MeasurementType[] = [];
  for (const type of fields) {
    const text = (values[type] ?? '').trim();
    if (text === '') continue;
    const value = parseDecimal(text);
    if (value === null) {
      bad.push(type);
      continue;
    }
    const m: MeasurementInput = { type, value, unit: UNITS[type] };
    if (type === 'length_height') m.position = position;
    // Oedema is seen at the weighing and travels with the weight.
    if (type === 'weight' && oedema) m.oedema = true;
    measurements.push(m);
  }
  return { measurements, bad };
}

/** The same measurements (to know whether a check is still about what is on the form). */
export function sameMeasurements(a: MeasurementInput[], b: MeasurementInput[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Where on the attendance form a refused field belongs: a measurement type, `position`,
 *  `counselling`, `findings`, `follow_up_date`, `referral_reason`, `referral_destination`,
 *  `referral_destination_name`, `immunisations`, `supplements`; null for the form as a whole.
 *  Rust names the body field (`value` with the measurement `type` in `params`) or a path
 *  into the input (`measurements.0.value`). */
export function errorTarget(err: AppError, sent: MeasurementInput[]): string | null {
  const f = err.field ?? '';
  if (!f) return null;
  const parts = f.split('.');
  const indexed = /^(measurements|immunisations|supplements)\.(\d+)(?:\.(\w+))?$/.exec(f);
  if (indexed) {
    const [, list, i, leaf] = indexed;
    if (list === 'measurements') {
      if (leaf === 'position') return 'position';
      return sent[Number(i)]?.type ?? null;
    }
    return list;
  }
  const leaf = parts[parts.length - 1];
  const typeParam = err.params?.type;
  const sentType = typeof typeParam === 'string' ? sent.find((m) => m.type === typeParam)?.type : undefined;
  switch (leaf) {
    case 'value':
    case 'unit':
      if (sentType) return sentType;
      if (sent.length === 1) return sent[0].type;
      // Without params, Rust's sentence names the type (`weight 45 kg …`).
      return sent.find((m) => new RegExp(`(^|[\\s(])${m.type}(?=[\\s.,:;)]|$)`).test(`${err.id} ${err.en}`))?.type ?? null;
    case 'position':
      return 'position';
    case 'counselling':
    case 'findings':
    case 'follow_up_date':
      return leaf;
    case 'reason':
      return 'referral_reason';
    case 'destination':
      return 'referral_destination';
    case 'destination_name':
      return 'referral_destination_name';
    case 'vaccine':
    case 'batch':
    case 'expiry':
    case 'kfa_code':
    case 'catch_up':
    case 'immunisations':
      return 'immunisations';
    case 'supplement':
    case 'quantity':
    case 'supplements':
      return 'supplements';
    default:
      return parts[0] === 'referral' ? 'referral_reason' : null;
  }
}

/** Lower case without accents, for the name search. */
export function fold(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
}

/** The roster rows whose name (or household head) holds every word typed. */
export function filterRoster(rows: RosterRow[], query: string): RosterRow[] {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (words.length === 0) return rows;
  return rows.filter((r) => {
    const hay = fold(`${r.person.name} ${r.household_head ?? ''}`);
    return words.every((w) => hay.includes(w));
  });
}

/** The doses to offer today (due or overdue on Rust's card), and those past their age
 *  limit, shown as no longer allowed. */
export function offerDoses(card: ImmunisationCard | null): { offer: CardDose[]; closed: CardDose[] } {
  const doses = card?.doses ?? [];
  return {
    offer: doses.filter((d) => d.status === 'due' || d.status === 'overdue'),
    closed: doses.filter((d) => d.status === 'no_longer_allowed'),
  };
}

/** ILP steps 4 and 5 in the session's order (services first unless set otherwise). */
export function stepOrder(order: ServiceOrder | null | undefined): ('services' | 'counselling')[] {
  return order === 'counselling_first' ? ['counselling', 'services'] : ['services', 'counselling'];
}

/** The badge colour of a finding's level. */
export function levelTone(level: Level): 'danger' | 'warning' | 'info' | 'ok' {
  switch (level) {
    case 'urgent':
      return 'danger';
    case 'act':
      return 'warning';
    case 'watch':
      return 'info';
    default:
      return 'ok';
  }
}

/** The z-score indicators shown for a child, in report order. */
export const INDICATORS: IndicatorCode[] = ['wfa', 'lhfa', 'wfl', 'wfh', 'bfa', 'hcfa', 'acfa'];

/** The values of a finding worth showing next to its words, as translation keys with
 *  their values (numbers already in the user's decimal style). */
export function findingDetails(
  f: Finding,
  locale: Locale,
  indicatorName: (code: string) => string = (c) => c,
): { key: string; params: Record<string, string> }[] {
  const p = f.params ?? {};
  const n = (k: string) => formatNumber(p[k], locale);
  const out: { key: string; params: Record<string, string> }[] = [];
  if (p.indicator && p.z !== undefined) out.push({ key: 'posyandu.detail.z', params: { indicator: indicatorName(p.indicator), z: n('z') } });
  if (p.gain_g !== undefined) {
    const g = Number(p.gain_g);
    const gain = g > 0 ? `+${p.gain_g}` : p.gain_g;
    if (p.kbm_g !== undefined) out.push({ key: 'posyandu.detail.gain_kbm', params: { gain, kbm: p.kbm_g } });
    else out.push({ key: 'posyandu.detail.gain', params: { gain } });
  }
  if (p.systolic !== undefined || p.diastolic !== undefined)
    out.push({ key: 'posyandu.detail.bp', params: { systolic: p.systolic ?? '–', diastolic: p.diastolic ?? '–' } });
  if (p.muac_cm !== undefined) out.push({ key: 'posyandu.detail.muac', params: { cm: n('muac_cm') } });
  if (p.mg_dl !== undefined) out.push({ key: 'posyandu.detail.sugar', params: { v: n('mg_dl') } });
  if (p.waist_cm !== undefined) out.push({ key: 'posyandu.detail.waist', params: { cm: n('waist_cm'), limit: p.limit_cm ? n('limit_cm') : '–' } });
  if (p.hb !== undefined) out.push({ key: 'posyandu.detail.hb', params: { v: n('hb') } });
  if (p.bmi !== undefined) out.push({ key: 'posyandu.detail.bmi', params: { v: n('bmi') } });
  if (p.celsius !== undefined) out.push({ key: 'posyandu.detail.temperature', params: { v: n('celsius') } });
  return out;
}

/** The services on the attendance form (step 4). */
export interface ServiceDraft {
  /** Doses ticked, by `dose_id`. */
  doses: Record<string, boolean>;
  /** The vial of each ticked vaccine (lot, expiry), by series: see `vials.ts`. */
  vials: Vials;
  vitaminA: 'none' | 'vitamin_a_blue' | 'vitamin_a_red';
  ttd: boolean;
  /** Number of iron tablets given, as typed. */
  ttdQuantity: string;
  deworming: boolean;
  pmt: boolean;
}

export const emptyServices = (): ServiceDraft => ({ doses: {}, vials: {}, vitaminA: 'none', ttd: false, ttdQuantity: '', deworming: false, pmt: false });

/** Which supplements the form offers a life stage (the kader still chooses). */
export function offeredSupplements(kind: FormKind, sex: string | null): { vitaminA: boolean; ttd: boolean; deworming: boolean; pmt: boolean } {
  return {
    vitaminA: kind === 'balita',
    ttd: kind === 'pregnant' || ((kind === 'school' || kind === 'adult') && sex === 'female'),
    deworming: kind === 'balita' || kind === 'school',
    pmt: true,
  };
}

/** The ticked doses as Rust's immunisations (an overdue dose is a catch-up, *kejar*). */
export function toImmunisations(draft: ServiceDraft, offer: CardDose[]): { vaccine: string; catch_up: boolean }[] {
  return offer.filter((d) => draft.doses[d.dose_id]).map((d) => ({ vaccine: d.dose_id, catch_up: d.status === 'overdue' }));
}

/** The supplements given, as Rust's; `bad` when the number of tablets is not a whole number. */
export function toSupplements(
  draft: ServiceDraft,
  offered: ReturnType<typeof offeredSupplements>,
): { supplements: SupplementInput[]; bad: boolean } {
  const out: SupplementInput[] = [];
  let bad = false;
  if (offered.vitaminA && draft.vitaminA !== 'none') out.push({ supplement: draft.vitaminA });
  if (offered.ttd && draft.ttd) {
    const q = draft.ttdQuantity.trim();
    if (q !== '' && !/^\d+$/.test(q)) bad = true;
    out.push({ supplement: 'ttd', quantity: q === '' || bad ? null : Number(q) });
  }
  if (offered.deworming && draft.deworming) out.push({ supplement: 'deworming' });
  if (offered.pmt && draft.pmt) out.push({ supplement: 'pmt' });
  return { supplements: out, bad };
}

/** Step 5 on the attendance form, and the referral. */
export interface CounsellingDraft {
  counselling: string;
  findings: string;
  /** YYYY-MM-DD, or '' while none (or not yet a real date). */
  followUp: string;
  refer: boolean;
  reason: string;
  destination: Destination;
  destinationName: string;
}

export const emptyCounselling = (): CounsellingDraft => ({
  counselling: '',
  findings: '',
  followUp: '',
  refer: false,
  reason: '',
  destination: 'pustu',
  destinationName: '',
});

const orNull = (s: string): string | null => (s.trim() === '' ? null : s.trim());

/** The whole attendance as Rust's `AttendanceInput`. */
export function toAttendanceInput(
  session: string,
  person: string,
  measurements: MeasurementInput[],
  immunisations: ImmunisationInput[],
  supplements: SupplementInput[],
  c: CounsellingDraft,
): AttendanceInput {
  return {
    session,
    person,
    measurements,
    immunisations,
    supplements,
    screenings: [],
    counselling: orNull(c.counselling),
    findings: orNull(c.findings),
    follow_up_date: c.followUp || null,
    referral: c.refer
      ? { reason: c.reason.trim(), destination: c.destination, destination_name: orNull(c.destinationName) }
      : null,
  };
}

/** Rust's order, with those already recorded at this session moved to the end (the next
 *  person to call stays on top). */
export function doneLast(rows: RosterRow[]): RosterRow[] {
  return [...rows.filter((r) => !r.visit), ...rows.filter((r) => r.visit)];
}
