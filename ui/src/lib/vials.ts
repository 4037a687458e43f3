// The vial of each vaccine at a posyandu day: its lot number and expiry date are asked once
// per day per vaccine (not per child), remembered for that day and prefilled for the next
// child, and stay editable (a new vial opened mid-morning). Kept per posyandu day (the
// session's id) in the tablet's local storage; a day's entries are dropped after a week.
import type { AppError } from './api';
import type { CardDose, ImmunisationInput } from './api-health';
import { parseDate } from './format';

/** What the kader typed for one vaccine: the lot and the expiry date (dd/mm/yyyy), as typed. */
export interface Vial {
  lot: string;
  expiry: string;
}

/** By vaccine series (`HB0`, `DPT-HB-Hib`, …): one vial serves every dose of its series. */
export type Vials = Record<string, Vial>;

export const MAX_LOT_CHARS = 40;
const PREFIX = 'jangkau.vials.';
const KEEP_MS = 7 * 24 * 3600 * 1000;

interface Stored {
  saved: number;
  vials: Vials;
}

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/** The vials remembered for this posyandu day (empty for a new day). */
export function loadVials(session: string): Vials {
  const s = storage();
  if (!s) return {};
  try {
    const raw = s.getItem(PREFIX + session);
    if (!raw) return {};
    const v = JSON.parse(raw) as Stored;
    const out: Vials = {};
    for (const [series, vial] of Object.entries(v.vials ?? {})) {
      if (vial && typeof vial.lot === 'string' && typeof vial.expiry === 'string') out[series] = { lot: vial.lot, expiry: vial.expiry };
    }
    return out;
  } catch {
    return {};
  }
}

/** Remembers the vials given at this day (merged over what was remembered), and forgets the
 *  days older than a week. */
export function rememberVials(session: string, vials: Vials, now = Date.now()): void {
  const s = storage();
  if (!s) return;
  const merged = { ...loadVials(session) };
  for (const [series, v] of Object.entries(vials)) {
    if (v.lot.trim() !== '' || v.expiry.trim() !== '') merged[series] = { lot: v.lot.trim(), expiry: v.expiry.trim() };
  }
  try {
    s.setItem(PREFIX + session, JSON.stringify({ saved: now, vials: merged } satisfies Stored));
    for (let i = s.length - 1; i >= 0; i--) {
      const key = s.key(i);
      if (!key || !key.startsWith(PREFIX) || key === PREFIX + session) continue;
      const old = JSON.parse(s.getItem(key) ?? '{}') as Partial<Stored>;
      if (typeof old.saved !== 'number' || now - old.saved > KEEP_MS) s.removeItem(key);
    }
  } catch {
    // A full or unavailable storage only costs the prefill.
  }
}

/** The series of the doses ticked, in the card's order, each once. */
export function tickedSeries(doses: Record<string, boolean>, offer: CardDose[]): string[] {
  const out: string[] = [];
  for (const d of offer) if (doses[d.dose_id] && !out.includes(d.series)) out.push(d.series);
  return out;
}

/** Every ticked series has an entry (prefilled from the day's memory, else empty). */
export function withVials(current: Vials, series: string[], remembered: Vials): Vials {
  const out = { ...current };
  for (const s of series) if (!out[s]) out[s] = remembered[s] ? { ...remembered[s] } : { lot: '', expiry: '' };
  return out;
}

/** The form path of a vial's field (`vial.HB0.lot`). */
export const vialPath = (series: string, field: 'lot' | 'expiry'): string => `vial.${series}.${field}`;

/** Mistakes found on the tablet, by form path: a lot too long, an expiry that is not a date,
 *  or before the posyandu day `day` (YYYY-MM-DD: the vial had expired). The typed text stays. */
export function vialErrors(vials: Vials, series: string[], day: string): Record<string, AppError> {
  const out: Record<string, AppError> = {};
  for (const s of series) {
    const v = vials[s];
    if (!v) continue;
    if (v.lot.trim().length > MAX_LOT_CHARS) {
      out[vialPath(s, 'lot')] = { key: 'validation.text_too_long', id: '', en: '', field: 'batch', params: { max: MAX_LOT_CHARS } };
    }
    if (v.expiry.trim() === '') continue;
    const iso = parseDate(v.expiry);
    if (iso === null) {
      out[vialPath(s, 'expiry')] = { key: 'validation.date_format', id: '', en: '', field: 'expiry' };
    } else if (iso < day) {
      out[vialPath(s, 'expiry')] = { key: 'validation.vial_expired', id: '', en: '', field: 'expiry', params: { expiry: v.expiry.trim(), date: day } };
    }
  }
  return out;
}

/** The ticked doses as Rust's immunisations, each with its vial's lot and expiry (an overdue
 *  dose is a catch-up, *kejar*). Call after [`vialErrors`] found nothing. */
export function dosesWithVials(doses: Record<string, boolean>, offer: CardDose[], vials: Vials): ImmunisationInput[] {
  return offer
    .filter((d) => doses[d.dose_id])
    .map((d) => {
      const v = vials[d.series];
      const im: ImmunisationInput = { vaccine: d.dose_id, catch_up: d.status === 'overdue' };
      const expiry = v ? parseDate(v.expiry) : null;
      if (v && v.lot.trim() !== '') im.batch = v.lot.trim();
      if (expiry) im.expiry = expiry;
      return im;
    });
}
