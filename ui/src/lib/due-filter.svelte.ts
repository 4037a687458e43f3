// The due list's filter, kept while the kader opens a form and comes back.
import type { DueGroup } from './api-due';

export const dueFilter = $state<{
  posyandu: string;
  dusun: string;
  rt: string;
  groups: DueGroup[];
  /** null: not chosen yet (on when a posyandu day is open today). */
  onPosyanduDay: boolean | null;
}>({ posyandu: '', dusun: '', rt: '', groups: [], onPosyanduDay: null });

export function resetDueFilter(): void {
  Object.assign(dueFilter, { posyandu: '', dusun: '', rt: '', groups: [], onPosyanduDay: null });
}
