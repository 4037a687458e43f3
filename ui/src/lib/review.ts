// Tinjauan's screen logic: how values of a conflict and of a duplicate pair are worded, the
// corrected value a reviewer types, and the survivor's field choices of a merge. No rule is
// decided here: who may decide, what is a duplicate and what a value changes come from Rust.
import { fieldLabel as baseFieldLabel, label, t } from './i18n';
import { kmsCode } from '../screens/child/growth';
import { problemText } from './problems';
import { formatDate } from './format';
import type { ConflictSide, PairComparison, PairField, ReviewConflict } from './api-review';

/** Person fields that are dates, yes/no or a choice, for wording and typed input. */
const DATE_FIELDS = new Set(['birth_date', 'status_date', 'hpht', 'delivery_date']);
const BOOL_FIELDS = new Set(['birth_date_estimated', 'has_kms', 'jkn', 'latrine']);

/** The label of a record field (`fields.<name>`; the deletion of `_deleted`). */
export function fieldLabel(field: string): string {
  if (field === '_deleted') return t('review.field_deleted');
  return baseFieldLabel(field);
}

/** A value in words: a date as dd/mm/yyyy, yes/no, a sex or relation, empty as a dash. */
export function valueText(field: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return t('review.empty');
  if (field === '_deleted') return value === false ? t('review.kept_alive') : t('review.deleted');
  if (typeof value === 'boolean' || BOOL_FIELDS.has(field)) return value ? t('review.yes') : t('review.no');
  if (typeof value === 'string') {
    if (DATE_FIELDS.has(field) && /^\d{4}-\d{2}-\d{2}$/.test(value)) return formatDate(value);
    if (field === 'sex') return t(`sex.${value}`);
    if (field === 'relation') return t(`relation.${value}`);
    return value;
  }
  return String(value);
}

/** Who made a value: the name when known on this tablet, else the user id's last
 *  characters (a UUIDv7 begins with its time, so two users' ids begin alike). */
export function whoText(name: string | null, id: string): string {
  return name ?? t('review.user_unknown', { id: id.slice(-8) });
}

/** Which tablet: this one, or the other tablet's id's last characters. */
export function tabletText(thisTablet: boolean, device: string): string {
  return thisTablet ? t('review.this_tablet') : t('review.other_tablet', { id: device.slice(-6) });
}

/** What the reviewer typed, as the value to write: a date as typed (YYYY-MM-DD, the date
 *  input's form), yes/no as a boolean, text trimmed. `null` when nothing was typed. */
export function correctedValue(field: string, typed: string): unknown {
  const v = typed.trim();
  if (v === '') return null;
  if (BOOL_FIELDS.has(field)) return v === 'true' || v === 'ya' || v === 'yes';
  return v;
}

/** The input a corrected value is typed in. */
export function inputKind(field: string): 'date' | 'bool' | 'sex' | 'text' {
  if (DATE_FIELDS.has(field)) return 'date';
  if (BOOL_FIELDS.has(field)) return 'bool';
  if (field === 'sex') return 'sex';
  return 'text';
}

/** Whether a conflict can take a typed value (not a deletion). */
export function canCorrect(c: Pick<ReviewConflict, 'field'>): boolean {
  return c.field !== '_deleted';
}

/** A side of a merge: the survivor (`kept`) and the record merged into it. */
export type Side = 'first' | 'second';

/** The survivor's field choices: for each differing field, which record's value it keeps. */
export type Choices = Record<string, Side>;

/** The default survivor: the record with more facts (its history is the longer one), then
 *  the first. */
export function defaultKept(counts: { first: number; second: number }): Side {
  return counts.second > counts.first ? 'second' : 'first';
}

/** The default choices: every differing field keeps the survivor's value, except a value
 *  the survivor lacks and the other has. */
export function defaultChoices(fields: PairField[], kept: Side): Choices {
  const other: Side = kept === 'first' ? 'second' : 'first';
  const out: Choices = {};
  for (const f of fields) {
    if (f.same) continue;
    const mine = f[kept];
    const theirs = f[other];
    out[f.field] = (mine === null || mine === undefined || mine === '') && theirs !== null && theirs !== undefined && theirs !== '' ? other : kept;
  }
  return out;
}

/** The fields the survivor takes from the merged record (what merge_same_person takes). */
export function takeFields(choices: Choices, kept: Side): string[] {
  return Object.entries(choices)
    .filter(([, side]) => side !== kept)
    .map(([field]) => field)
    .sort();
}

/** The ids of a merge: the survivor and the record merged into it. */
export function mergeIds(cmp: PairComparison, kept: Side): { kept: string; merged: string } {
  const k = cmp[kept].timeline.person.id;
  const m = cmp[kept === 'first' ? 'second' : 'first'].timeline.person.id;
  return { kept: k, merged: m };
}

/** How many facts of each kind a side holds (weighings, visits, doses …), for the
 *  comparison; corrected facts count once (the live correction). */
export function factCounts(entries: { kind: string; superseded_by: string | null }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of entries) {
    if (e.superseded_by) continue;
    out[e.kind] = (out[e.kind] ?? 0) + 1;
  }
  return out;
}

/** What a clinical value changes, in words: the latest growth result (KMS and BB/U
 *  category) or the HPL that Rust computed for this value. Empty when nothing changes. */
export function effectText(side: Pick<ConflictSide, 'growth' | 'hpl'>, clinical: boolean): string {
  if (side.hpl) return t('review.effect_hpl', { date: formatDate(side.hpl) });
  if (!clinical) return '';
  const g = side.growth;
  if (!g) return t('review.effect_growth_none');
  const parts: string[] = [];
  const kms = kmsCode(g.kms ?? undefined);
  if (kms) parts.push(t('review.kms_result', { kms }));
  const cat = g.assessment?.wfa?.category;
  if (cat) parts.push(t('review.wfa', { category: label(cat) }));
  if (parts.length === 0) return t('review.effect_growth_none');
  return t('review.effect_growth', { date: formatDate(g.date), age: g.age_months, result: parts.join(' · ') });
}

/** A data problem in words: the task's reason (Rust's label) and, when the problem's key has
 *  a text of its own, that text ("a record needs checking" when it needs values the task
 *  does not carry). */
export function problemLine(entry: { reason: { key: string; id: string; en: string }; params: Record<string, string> }): string {
  const head = label(entry.reason);
  const key = entry.params.problem;
  if (!key) return head;
  return `${head}: ${problemText({ key, params: entry.params })}`;
}

/** A field's value in the comparison: a household by its head's name (the pair's own
 *  households), a mother as "recorded", the rest as {@link valueText}. */
export function pairValueText(cmp: Pick<PairComparison, 'first' | 'second'>, field: string, value: unknown): string {
  if (field === 'household' && typeof value === 'string') {
    const h = [cmp.first.household, cmp.second.household].find((x) => x?.id === value);
    if (h?.head_name) return t('review.household_of', { head: h.head_name });
  }
  if (field === 'mother' && typeof value === 'string' && value) return t('review.recorded');
  return valueText(field, value);
}
