// A member being typed on the register form, and what Rust receives from it.
import type { AppError, DuplicateWarning, HouseholdInput, PersonInput } from './api';
import { memberPath, optional } from './forms';
import { parseDecimal } from './posyandu';

export type Relation = NonNullable<PersonInput['relation']>;
export const RELATIONS: Relation[] = ['head', 'spouse', 'child', 'parent', 'grandchild', 'other'];

export interface MemberDraft {
  /** Stable key for the list (not sent). */
  key: number;
  name: string;
  sex: 'male' | 'female' | '';
  birth_date: string; // YYYY-MM-DD or '' while the typed text is not a date
  birth_date_estimated: boolean;
  nik: string;
  relation: Relation | '';
  phone: string;
  jkn_number: string;
  /** A newborn's birth: weight in kg and length in cm as typed (decimal comma allowed), the
   *  time of birth as HH:MM. Asked while the birth date is within [`NEWBORN_DAYS`]. */
  birth_weight: string;
  birth_length: string;
  birth_time: string;
  /** The name follows the head's name until the kader edits it (first member only). */
  nameFollowsHead: boolean;
}

/** A member born this many days ago or less is a newborn: the form asks for her birth. */
export const NEWBORN_DAYS = 28;

/** Whether the birth date (YYYY-MM-DD) is within [`NEWBORN_DAYS`] of `today` (YYYY-MM-DD). */
export function isNewborn(birthDate: string, today: string): boolean {
  const b = Date.parse(`${birthDate}T00:00:00Z`);
  const t = Date.parse(`${today}T00:00:00Z`);
  if (Number.isNaN(b) || Number.isNaN(t)) return false;
  const days = (t - b) / 86_400_000;
  return days >= 0 && days <= NEWBORN_DAYS;
}

/** Today on this tablet, YYYY-MM-DD (local calendar). */
export function localToday(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`;
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

/** A time typed as `6.45`, `0645` or `06:45`, as HH:MM; null when it is not a time. */
export function parseTime(text: string): string | null {
  const s = text.trim().replace('.', ':');
  const m = /^(\d{1,2}):?(\d{2})$/.exec(s);
  if (!m) return null;
  const hhmm = `${m[1].padStart(2, '0')}:${m[2]}`;
  return TIME.test(hhmm) ? hhmm : null;
}

/** The birth fields typed on member `index` that are not numbers or not a time, by form path
 *  (Rust checks the ranges). Nothing typed is thrown away. */
export function birthErrors(d: MemberDraft, index: number): Record<string, AppError> {
  const out: Record<string, AppError> = {};
  for (const f of ['birth_weight', 'birth_length'] as const) {
    if (d[f].trim() !== '' && parseDecimal(d[f]) === null) {
      out[memberPath(index, f)] = { key: 'posyandu.not_a_number', id: '', en: '', field: memberPath(index, f) };
    }
  }
  if (d.birth_time.trim() !== '' && parseTime(d.birth_time) === null) {
    out[memberPath(index, 'birth_time')] = { key: 'validation.time_format', id: '', en: '', field: memberPath(index, 'birth_time') };
  }
  return out;
}

export interface HouseholdDraft {
  posyandu: string;
  kk_number: string;
  head_name: string;
  address: string;
  dusun: string;
  rt: string;
  rw: string;
  phone: string;
}

let nextKey = 1;

export function newMember(relation: Relation | '' = '', followsHead = false): MemberDraft {
  return {
    key: nextKey++,
    name: '',
    sex: '',
    birth_date: '',
    birth_date_estimated: false,
    nik: '',
    relation,
    phone: '',
    jkn_number: '',
    birth_weight: '',
    birth_length: '',
    birth_time: '',
    nameFollowsHead: followsHead,
  };
}

export function newHousehold(posyandu = ''): HouseholdDraft {
  return { posyandu, kk_number: '', head_name: '', address: '', dusun: '', rt: '', rw: '', phone: '' };
}

export function toPersonInput(d: MemberDraft): PersonInput {
  const p: PersonInput = {
    name: d.name.trim(),
    sex: d.sex,
    birth_date: d.birth_date,
    birth_date_estimated: d.birth_date_estimated,
    nik: optional(d.nik),
    relation: d.relation === '' ? null : d.relation,
    phone: optional(d.phone),
    jkn_number: optional(d.jkn_number),
  };
  // The birth, when typed (the form asks for it only for a newborn).
  const weight = parseDecimal(d.birth_weight ?? '');
  const length = parseDecimal(d.birth_length ?? '');
  const time = parseTime(d.birth_time ?? '');
  if (weight !== null) p.birth_weight = weight;
  if (length !== null) p.birth_length = length;
  if (time !== null) p.birth_time = time;
  return p;
}

export function toHouseholdInput(h: HouseholdDraft): HouseholdInput {
  return {
    posyandu: h.posyandu,
    kk_number: optional(h.kk_number),
    head_name: h.head_name.trim(),
    address: optional(h.address),
    dusun: optional(h.dusun),
    rt: optional(h.rt),
    rw: optional(h.rw),
    phone: optional(h.phone),
  };
}

/** Enough typed to look for the same person: a name with a birth date, or a full NIK. */
export function readyForDuplicateCheck(d: MemberDraft): boolean {
  const name = d.name.trim();
  return (name.length >= 2 && d.birth_date !== '') || /^\d{16}$/.test(d.nik.trim());
}

/** What identifies a check: the same text asks Rust once. */
export function duplicateQueryKey(d: MemberDraft): string {
  return [d.name.trim().toLowerCase(), d.birth_date, d.nik.trim(), d.sex].join('|');
}

/** The warnings a kader has accepted are tied to the persons they named. */
export function warningSignature(ws: DuplicateWarning[]): string {
  return ws
    .map((w) => w.existing)
    .sort()
    .join(',');
}
