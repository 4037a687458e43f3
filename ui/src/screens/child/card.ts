// The immunisation card as the Buku KIA page shows it: the doses grouped by the age they
// are due, each with its state's dates. The states and dates are Rust's (immunisation_card).
import type { CardDose, CardStatus, ImmunisationCard } from '../../lib/api-health';
import { t } from '../../lib/i18n';
import { formatAge, formatDate } from '../../lib/format';

function parts(iso: string): [number, number, number] | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** Whole calendar months from `from` to `to` (31 Jan + 1 month = 28/29 Feb), as the
 *  ages on the card are counted; null when `to` is before `from` or a date is unreadable. */
export function wholeMonths(from: string, to: string): number | null {
  const a = parts(from);
  const b = parts(to);
  if (!a || !b) return null;
  const key = (y: number, m: number, d: number) => y * 10000 + m * 100 + d;
  if (key(...b) < key(...a)) return null;
  let n = (b[0] - a[0]) * 12 + (b[1] - a[1]);
  const after = (k: number) => {
    const total = a[1] - 1 + k;
    const y = a[0] + Math.floor(total / 12);
    const m = (total % 12) + 1;
    const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
    return key(y, m, Math.min(a[2], last));
  };
  while (n > 0 && after(n) > key(...b)) n -= 1;
  return n;
}

/** The age (months) a dose belongs under: the schedule's age when Rust sends it, else the
 *  date of its state (given on, due on); null for doses with neither (no longer allowed,
 *  not for this area), which go last. */
export function doseAge(dose: CardDose, birth: string): number | null {
  if (dose.due_age) return dose.due_age.months;
  const s = dose.state;
  switch (s.state) {
    case 'given':
      return wholeMonths(birth, dose.given?.date ?? s.date);
    case 'due':
    case 'overdue':
    case 'not_yet_due':
      return wholeMonths(birth, s.due_date);
    default:
      return null;
  }
}

export interface DoseGroup {
  /** Months, or null for the doses that have no date any more. */
  months: number | null;
  doses: CardDose[];
}

/** Doses by age, youngest first, in schedule order within an age. */
export function groupDoses(card: Pick<ImmunisationCard, 'doses' | 'birth_date'>): DoseGroup[] {
  const groups = new Map<number | null, CardDose[]>();
  for (const d of card.doses) {
    const age = doseAge(d, card.birth_date);
    const list = groups.get(age) ?? [];
    list.push(d);
    groups.set(age, list);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a - b))
    .map(([months, doses]) => ({ months, doses }));
}

/** The heading of an age group. */
export function groupTitle(g: DoseGroup): string {
  if (g.months === null) return t('child.card.group_other');
  if (g.months === 0) return t('child.card.group_birth');
  return t('child.card.group_age', { age: formatAge(g.months) });
}

/** The dates that go with a dose's state, in words. */
export function stateDates(d: CardDose): string {
  const s = d.state;
  switch (s.state) {
    case 'given':
      return t('child.card.given_on', { date: formatDate(d.given?.date ?? s.date) });
    case 'due':
      return t('child.card.due_until', { due: formatDate(s.due_date), until: formatDate(s.on_time_until) });
    case 'overdue':
      return s.allowed_until
        ? t('child.card.overdue_until', { due: formatDate(s.due_date), until: formatDate(s.allowed_until) })
        : t('child.card.overdue', { due: formatDate(s.due_date) });
    case 'not_yet_due':
      return t('child.card.upcoming_on', { due: formatDate(s.due_date) });
    case 'no_longer_allowed':
      return t('child.card.last_day', { date: formatDate(s.last_day) });
    default:
      return '';
  }
}

/** How many doses are in each state (for the summary at the top). */
export function countByStatus(card: Pick<ImmunisationCard, 'doses'>): Record<CardStatus, number> {
  const out: Record<CardStatus, number> = { given: 0, due: 0, overdue: 0, upcoming: 0, no_longer_allowed: 0, not_applicable: 0 };
  for (const d of card.doses) out[d.status] = (out[d.status] ?? 0) + 1;
  return out;
}
