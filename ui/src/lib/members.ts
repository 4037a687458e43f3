// A member being typed on the register form, and what Rust receives from it.
import type { DuplicateWarning, HouseholdInput, PersonInput } from './api';
import { optional } from './forms';

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
  /** The name follows the head's name until the kader edits it (first member only). */
  nameFollowsHead: boolean;
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
    nameFollowsHead: followsHead,
  };
}

export function newHousehold(posyandu = ''): HouseholdDraft {
  return { posyandu, kk_number: '', head_name: '', address: '', dusun: '', rt: '', rw: '', phone: '' };
}

export function toPersonInput(d: MemberDraft): PersonInput {
  return {
    name: d.name.trim(),
    sex: d.sex,
    birth_date: d.birth_date,
    birth_date_estimated: d.birth_date_estimated,
    nik: optional(d.nik),
    relation: d.relation === '' ? null : d.relation,
    phone: optional(d.phone),
    jkn_number: optional(d.jkn_number),
  };
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
