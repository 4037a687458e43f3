// Forms in progress survive a trip to another screen (e.g. to look at a possible duplicate):
// what was typed is only dropped when it is saved or the kader cancels.
import type { DuplicateWarning } from './api';
import { newHousehold, newMember, type HouseholdDraft, type MemberDraft } from './members';

export interface RegisterDraft {
  household: HouseholdDraft;
  members: MemberDraft[];
  /** Warnings by member key, and the warnings each member's "continue anyway" accepted. */
  warnings: Record<number, DuplicateWarning[]>;
  accepted: Record<number, string>;
}

export function emptyRegisterDraft(posyandu = ''): RegisterDraft {
  return { household: newHousehold(posyandu), members: [newMember('head', true)], warnings: {}, accepted: {} };
}

export const drafts = $state<{ register: RegisterDraft | null; addMember: Record<string, RegisterDraft> }>({
  register: null,
  addMember: {},
});

/** A message for the next screen (e.g. "saved"), shown once. */
export const flash = $state<{ key: string | null; params: Record<string, string | number> }>({ key: null, params: {} });

export function setFlash(key: string, params: Record<string, string | number> = {}): void {
  flash.key = key;
  flash.params = params;
}

export function takeFlash(): { key: string; params: Record<string, string | number> } | null {
  if (!flash.key) return null;
  const f = { key: flash.key, params: flash.params };
  flash.key = null;
  flash.params = {};
  return f;
}
