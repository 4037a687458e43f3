// A timeline entry as one line: what it was and its main value. Words come from the
// translation files; numbers in the language's way (9,2 kg in Bahasa Indonesia), vaccines by
// name (not their code), and a visit by its kind (posyandu or home visit).
import type { TimelineEntry } from './api';
import { has, t, tx } from './i18n';
import { formatDecimal } from './format';

/** The name of a recorded vaccine (`MR1` → "Campak-Rubela (MR) 1"); the text as recorded
 *  when the schedule does not know it. */
export function vaccineName(v: string): string {
  const key = `vaccine.${v.replace(/[^\p{L}\p{N}]/gu, '').toUpperCase()}`;
  return has(key) ? t(key) : v;
}

export function entryTitle(e: Pick<TimelineEntry, 'kind'> & Partial<Pick<TimelineEntry, 'body'>>): string {
  const type = e.body?.type;
  if (e.kind === 'visit' && typeof type === 'string' && has(`timeline.visit.${type}`)) return t(`timeline.visit.${type}`);
  return tx('kind', e.kind);
}

export function entryDetail(e: TimelineEntry): string {
  const b = e.body;
  const s = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
  switch (e.kind) {
    case 'measurement': {
      const value = typeof b.value === 'number' ? formatDecimal(b.value) : s(b.value);
      return `${tx('measure', s(b.type))}: ${value} ${s(b.unit)}`.trim();
    }
    case 'immunisation':
      return vaccineName(s(b.vaccine)) + (b.catch_up === true ? ` (${t('timeline.catch_up')})` : '');
    case 'supplement':
      return tx('supplement', s(b.supplement));
    case 'screening':
      return tx('screening', s(b.instrument));
    case 'note':
      return s(b.text);
    default:
      return s(b.note) || s(b.outcome);
  }
}
