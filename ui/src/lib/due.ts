// Where a due task takes the kader, and the due list's filter choices. Rust decides what is
// due, how urgent, in which order and which form does it (`DueEntry.form`); this only turns
// the form into a screen of this app.
import type { PersonSummary } from './api';
import type { DueEntry, DueForm, DueGroup } from './api-due';
import type { PosyanduOptions, SessionRef } from './api-health';
import { DUE_GROUPS } from './api-due';
import type { Route } from './router.svelte';

/** Today's posyandu day for a person: a session dated `today` of the person's posyandu
 *  (any of today's sessions when the person has none recorded). */
export function todaySession(options: Pick<PosyanduOptions, 'today' | 'sessions'> | null, person: Pick<PersonSummary, 'posyandu'>): SessionRef | null {
  if (!options) return null;
  const today = options.sessions.filter((s) => s.date === options.today);
  if (person.posyandu) return today.find((s) => s.posyandu === person.posyandu) ?? null;
  return today[0] ?? null;
}

/** The screen that does a due task. */
export function dueRoute(
  form: DueForm,
  person: Pick<PersonSummary, 'id' | 'household' | 'posyandu'>,
  options: Pick<PosyanduOptions, 'today' | 'sessions'> | null = null,
): Route {
  switch (form) {
    case 'posyandu_measurement': {
      const s = todaySession(options, person);
      return s ? { name: 'attendance', session: s.id, person: person.id } : { name: 'posyandu' };
    }
    case 'immunisation':
      return { name: 'immunisation', id: person.id };
    case 'home_visit':
    case 'anc':
    case 'referral':
      return person.household ? { name: 'home_visit', household: person.household, person: person.id } : { name: 'profile', id: person.id };
    case 'correct_record':
    default:
      return { name: 'profile', id: person.id };
  }
}

/** Entries per group, for the chips (every group, zero when none). */
export function groupCounts(entries: Pick<DueEntry, 'group'>[]): Record<DueGroup, number> {
  const out = Object.fromEntries(DUE_GROUPS.map((g) => [g, 0])) as Record<DueGroup, number>;
  for (const e of entries) if (e.group in out) out[e.group] += 1;
  return out;
}

/** The entries of the chosen groups (all when none is chosen), in Rust's order. */
export function inGroups<T extends Pick<DueEntry, 'group'>>(entries: T[], groups: readonly DueGroup[]): T[] {
  if (groups.length === 0) return entries;
  return entries.filter((e) => groups.includes(e.group));
}

const collator = new Intl.Collator('id', { numeric: true, sensitivity: 'base' });

/** Distinct non-blank values (first spelling kept, case and spaces ignored), sorted. */
export function distinct(values: (string | null | undefined)[]): string[] {
  const seen = new Map<string, string>();
  for (const v of values) {
    const s = (v ?? '').trim();
    if (s === '') continue;
    const k = s.toLowerCase();
    if (!seen.has(k)) seen.set(k, s);
  }
  return [...seen.values()].sort(collator.compare);
}

/** Choices of dusun and RT from the due entries and the households of the area; the RTs of
 *  the chosen dusun only, once one is chosen. */
export function placeChoices(
  entries: Pick<DueEntry, 'dusun' | 'rt'>[],
  households: { dusun: string | null; rt: string | null }[],
  dusun: string,
): { dusun: string[]; rt: string[] } {
  const all = [...entries, ...households];
  const want = dusun.trim().toLowerCase();
  const inDusun = want === '' ? all : all.filter((p) => (p.dusun ?? '').trim().toLowerCase() === want);
  return { dusun: distinct(all.map((p) => p.dusun)), rt: distinct(inDusun.map((p) => p.rt)) };
}

/** `dusun · RT 003` as the row shows it. */
export function placeText(dusun: string | null, rt: string | null, rtWord: string): string {
  return [dusun?.trim(), rt?.trim() ? `${rtWord} ${rt.trim()}` : ''].filter(Boolean).join(' · ');
}
