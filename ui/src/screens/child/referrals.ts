// One person's referrals for their profile: the area's referral list (Rust's status and
// dates), plus any referral record in their timeline the list does not hold.
import type { TimelineEntry } from '../../lib/api';
import type { ReferralRow } from '../../lib/api-health';

export interface PersonReferral {
  id: string;
  reason: string;
  destination: string;
  destination_name: string | null;
  status: string;
  made_on: string | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Newest first, as the referral list orders them. */
export function personReferrals(person: string, rows: ReferralRow[], entries: TimelineEntry[]): PersonReferral[] {
  const out: PersonReferral[] = rows
    .filter((r) => r.person === person)
    .map((r) => ({ id: r.id, reason: r.reason, destination: r.destination, destination_name: r.destination_name, status: r.status, made_on: r.made_on }));
  const known = new Set(out.map((r) => r.id));
  const fromTimeline = entries
    .filter((e) => e.kind === 'referral' && !e.superseded_by && !known.has(e.id))
    .map((e) => ({
      id: e.id,
      reason: str(e.body.reason) ?? '',
      destination: str(e.body.destination) ?? '',
      destination_name: str(e.body.destination_name),
      status: str(e.body.status) ?? 'made',
      made_on: str(e.date),
    }))
    .reverse();
  return [...out, ...fromTimeline];
}
