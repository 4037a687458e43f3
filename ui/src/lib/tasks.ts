// What makes one due task different from its neighbours: the dose, the visit or the ANC
// contact it is about (Rust's own words, e.g. "DPT-HB-Hib 2", "KN2", "K4").
import type { Task } from './api';
import { formatDate, formatDecimal } from './format';

const DETAIL_PARAMS = ['vaccine', 'visit', 'contact'] as const;

export function taskDetail(task: Pick<Task, 'params'>): string | null {
  for (const k of DETAIL_PARAMS) {
    const v = task.params?.[k];
    if (v) return v;
  }
  return null;
}

/** A fact a task's parameters carry, as a translation key and its values (dates dd/mm/yyyy). */
export interface TaskFact {
  key: string;
  params: Record<string, string>;
}

const isoToShown = (iso: string): string => formatDate(iso);

/** The other values Rust put in a task's parameters that help the kader (when the window
 *  of a visit is, the HPL, the last weighing…), in the order shown. */
export function taskFacts(task: Pick<Task, 'params'>): TaskFact[] {
  const p = task.params ?? {};
  const out: TaskFact[] = [];
  if (p.from && p.until) out.push({ key: 'due.fact.window', params: { from: isoToShown(p.from), until: isoToShown(p.until) } });
  if (p.allowed_until) out.push({ key: 'due.fact.allowed_until', params: { date: isoToShown(p.allowed_until) } });
  if (p.hpl) out.push({ key: 'due.fact.hpl', params: { date: isoToShown(p.hpl) } });
  if (p.weighed_on) {
    const g = Number(p.weight_g);
    out.push(
      p.weight_g && Number.isFinite(g)
        ? { key: 'due.fact.weighed_kg', params: { date: isoToShown(p.weighed_on), kg: formatDecimal(g / 1000) } }
        : { key: 'due.fact.weighed', params: { date: isoToShown(p.weighed_on) } },
    );
  }
  if (p.last_attended) out.push({ key: 'due.fact.last_attended', params: { date: isoToShown(p.last_attended) } });
  if (p.missed_doses) out.push({ key: 'due.fact.missed_doses', params: { n: p.missed_doses } });
  if (p.pickup) out.push({ key: 'due.fact.pickup', params: { date: isoToShown(p.pickup) } });
  return out;
}

/** How late a task is, in words: days up to 60, then months, from two years on years
 *  ("887 hari terlambat" read as nothing; "2 tahun terlambat" does). */
export function lateText(days: number, t: (key: string, params?: Record<string, string | number>) => string): string {
  if (days <= 60) return t('due.days_late', { n: days });
  const months = Math.floor(days / 30.4375);
  if (months < 24) return t('due.months_late', { n: months });
  return t('due.years_late', { n: Math.floor(months / 12) });
}
