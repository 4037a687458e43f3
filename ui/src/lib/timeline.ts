// A timeline entry as one line: what it was and its main value. Words come from the
// translation files; values are shown as recorded.
import type { TimelineEntry } from './api';
import { t, tx } from './i18n';

export function entryTitle(e: Pick<TimelineEntry, 'kind'>): string {
  return tx('kind', e.kind);
}

export function entryDetail(e: TimelineEntry): string {
  const b = e.body;
  const s = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
  switch (e.kind) {
    case 'measurement': {
      const value = typeof b.value === 'number' ? b.value.toLocaleString(undefined, { maximumFractionDigits: 2 }) : s(b.value);
      return `${tx('measure', s(b.type))}: ${value} ${s(b.unit)}`.trim();
    }
    case 'immunisation':
      return s(b.vaccine) + (b.catch_up === true ? ` (${t('timeline.catch_up')})` : '');
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
