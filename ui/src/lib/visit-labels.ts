// Words of the home visit and referral screens that depend on a value: a form field's label
// (for the message that points at it), units, statuses, destinations.
import type { AppError } from './api';
import type { Destination, MeasurementUnit, ReferralStatus } from './api-health';
import { t } from './i18n';
import type { PanelKind } from './visit';

export const unitLabel = (u: MeasurementUnit): string => (u === 'C' ? '°C' : u);

export const kindLabel = (k: PanelKind): string => t(`visit.kind.${k}`);

export const statusLabel = (s: ReferralStatus | string): string =>
  ['made', 'received', 'done'].includes(s) ? t(`visit.ref.status.${s}`) : s;

export const destinationLabel = (d: Destination | string, name?: string | null): string => {
  const word = ['pustu', 'puskesmas', 'hospital'].includes(d) ? t(`visit.dest.${d}`) : d;
  return name ? `${word} (${name})` : word;
};

const PART_LABELS: Record<string, string> = {
  findings: 'visit.findings',
  education: 'visit.education_text',
  follow_up: 'visit.follow_up',
  reported: 'visit.reported',
  reminded: 'visit.reminded',
  reason: 'visit.referral.reason',
  destination: 'visit.referral.destination',
  destination_name: 'visit.referral.name',
  tb_missed: 'visit.tb.missed',
  tb_next: 'visit.tb.next_pickup',
  members: 'visit.members_title',
};

/** The label of a form key (`date`, `hh.latrine`, `<person>.m.muac`, `<person>.reason`). */
export function formKeyLabel(key: string, kind?: PanelKind): string {
  if (key === 'date') return t('visit.date');
  if (key in PART_LABELS) return t(PART_LABELS[key]);
  const hh = /^hh\.(\w+)$/.exec(key);
  if (hh) return t(`visit.fact.${hh[1]}`);
  const dot = key.indexOf('.');
  if (dot < 0) return '';
  const part = key.slice(dot + 1);
  if (part.startsWith('m.')) return t(`measure.${part.slice(2)}`);
  if (part === 'signs') return t(`visit.signs_title.${kind ?? 'adult'}`);
  return part in PART_LABELS ? t(PART_LABELS[part]) : part;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The error with the form's own label for `{field}`, also in Rust's own sentences, which
 *  name the field by its path or its last part (`value harus antara 5 dan 60.`). */
export function withLabel(err: AppError | null | undefined, label: string): AppError | null {
  if (!err) return null;
  let { id, en } = err;
  const field = err.field ?? '';
  const raw = field.split('.').filter((p) => !/^\d+$/.test(p)).pop() ?? '';
  if (raw && label) {
    const names = new RegExp(`(^|[\\s("])(${[field, raw].map(escapeRe).join('|')})(?=[\\s.,:;)"]|$)`, 'g');
    id = id.replace(names, (_m, before: string) => before + label);
    en = en.replace(names, (_m, before: string) => before + label);
  }
  return { ...err, id, en, params: { ...(err.params ?? {}), field: label } };
}
