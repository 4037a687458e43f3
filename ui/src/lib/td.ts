// Td immunisation of a pregnant woman (status T1–T5, Permenkes 12/2017). Rust decides the
// status, the next dose and its earliest day (health-rules `td.rs`, field-core
// `health/td.rs`, command `td_status` in src-tauri core/care.rs); this file holds the shapes,
// the call, the words of the status, and what the posyandu form sends when it is saved.
import { invoke } from '@tauri-apps/api/core';
import type { Label } from './api';
import type { ImmunisationInput } from './api-health';
import { t } from './i18n';
import { formatDate } from './format';

/** health-rules `TdSource`. */
export type TdSource = 'given' | 'buku_kia' | 'told';

/** health-rules `TdNext`. */
export type TdNext =
  | { state: 'due'; next: number }
  | { state: 'not_yet_due'; next: number; earliest: string }
  | { state: 'complete' };

/** field-core `TdFact`. */
export interface TdFact {
  fact: string;
  status: number;
  date: string;
  source: TdSource;
}

/** field-core `TdView` (health-rules `TdStatus` flattened in). */
export interface TdView {
  status: number;
  last_dose: string | null;
  source: TdSource | null;
  protection_years: number | null;
  next: TdNext;
  table: string;
  label: Label;
  /** The vaccine text to save for the next dose when it is due today. */
  offer: string | null;
  /** The vaccine text to save for the earlier status asked about. */
  earlier_vaccine: string | null;
  records: TdFact[];
  source_text: string;
}

/** src-tauri `TdEarlierInput`: a status from the Buku KIA (with its day) or her answer. */
export interface TdEarlier {
  status: number;
  source: 'buku_kia' | 'told';
  date?: string | null;
}

export const tdApi = {
  /** Her status on `on` (the posyandu day), counting `earlier` as if saved. */
  status: (person: string, on: string | null, earlier: TdEarlier | null = null) =>
    invoke<TdView>('td_status', { person, on, earlier }),
};

const T = (n: number) => `T${n}`;

/** "Status imunisasi Td: T2 · dosis berikutnya T3 hari ini" (and the two other states). */
export function tdStatusText(v: TdView): string {
  const head = t('td.status', { t: T(v.status) });
  const n = v.next;
  if (n.state === 'due') return `${head} · ${t('td.next_today', { next: T(n.next) })}`;
  if (n.state === 'not_yet_due') return `${head} · ${t('td.next_from', { next: T(n.next), date: formatDate(n.earliest) })}`;
  return `${head} · ${t('td.complete')}`;
}

/** Where her status comes from, in words ('' at T0). */
export function tdSourceText(v: TdView): string {
  if (!v.source) return '';
  if (v.source === 'told') return t('td.source.told');
  const date = v.last_dose ? formatDate(v.last_dose) : '';
  return t(v.source === 'buku_kia' ? 'td.source.buku_kia' : 'td.source.given', { date });
}

/** The Td part of the posyandu form. `earlier` is asked only while she has no Td record:
 *  'none' (never, or not known: T0), or '1'…'5'. */
export type TdEarlierChoice = 'none' | '1' | '2' | '3' | '4' | '5';
export const EARLIER_CHOICES: TdEarlierChoice[] = ['none', '1', '2', '3', '4', '5'];

export interface TdDraft {
  earlier: TdEarlierChoice;
  earlierSource: 'told' | 'buku_kia';
  /** The Buku KIA's day of that dose, YYYY-MM-DD or ''. */
  earlierDate: string;
  give: boolean;
}

export const emptyTd = (): TdDraft => ({ earlier: 'none', earlierSource: 'told', earlierDate: '', give: false });

/** The earlier status to ask Rust about, or null (none chosen, or a Buku KIA status whose
 *  day is not typed yet). */
export function tdEarlier(d: TdDraft): TdEarlier | null {
  if (d.earlier === 'none') return null;
  const status = Number(d.earlier);
  if (d.earlierSource === 'told') return { status, source: 'told' };
  return d.earlierDate ? { status, source: 'buku_kia', date: d.earlierDate } : null;
}

/** What saving the form records for Td, from Rust's answer for the same draft: the earlier
 *  status (the Buku KIA's with its own day) and the offered dose when ticked. */
export function toTdImmunisations(view: TdView | null, d: TdDraft): ImmunisationInput[] {
  if (!view) return [];
  const out: ImmunisationInput[] = [];
  const earlier = tdEarlier(d);
  if (earlier && view.earlier_vaccine) {
    out.push({ vaccine: view.earlier_vaccine, ...(earlier.source === 'buku_kia' ? { date: earlier.date } : {}) });
  }
  if (d.give && view.offer) out.push({ vaccine: view.offer });
  return out;
}
