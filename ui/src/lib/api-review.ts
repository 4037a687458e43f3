// Tinjauan (issue #17): the commands of src-tauri/src/core/review.rs and their shapes
// (field-core/src/review/: conflicts.rs, duplicates.rs, mod.rs). Rust lists, checks who may
// decide, and writes; the UI shows and asks.
import { invoke } from '@tauri-apps/api/core';
import type { PersonSummary, TimelineEntry } from './api';
import type { GrowthPoint } from './api-health';
import type { DueEntry } from './api-due';

/** field-core `ReviewCounts`. */
export interface ReviewCounts {
  conflicts: number;
  duplicates: number;
  problems: number;
  total: number;
  /** The user merges and reviews conflicts (bidan, perawat); a kader dismisses and corrects. */
  supervisor: boolean;
}

/** field-core `ConflictKey`: what names a conflict for ever. */
export interface ConflictKey {
  record: string;
  field: string;
  /** sync-protocol `Stamp`: `<hlc>.<device>`. */
  loser: string;
}

/** field-core `ConflictSide`. */
export interface ConflictSide {
  value: unknown;
  author: string;
  author_name: string | null;
  device: string;
  this_tablet: boolean;
  at_ms: number;
  /** A child's latest growth result if this birth date / sex is kept. */
  growth: GrowthPoint | null;
  /** A pregnancy's HPL if this HPHT is kept. */
  hpl: string | null;
}

/** field-core `ReviewConflict`. */
export interface ReviewConflict {
  key: ConflictKey;
  kind: string;
  record: string;
  person: string | null;
  label: string;
  posyandu: string | null;
  /** `_deleted` when a deletion was overridden by later edits. */
  field: string;
  clinical: boolean;
  current: ConflictSide;
  other: ConflictSide;
}

/** field-core `Resolution`. */
export type Resolution =
  | { decision: 'keep_winner' }
  | { decision: 'use_loser' }
  | { decision: 'corrected'; value: unknown };

/** field-core `DuplicateReason`. */
export type DuplicateReason = 'same_nik' | 'same_name_birth_date_mother';

/** field-core `PersonBrief`. */
export interface PersonBrief {
  person: PersonSummary;
  household_head: string | null;
  facts: number;
}

/** field-core `DuplicatePair` (`first` < `second`). */
export interface DuplicatePair {
  first: PersonBrief;
  second: PersonBrief;
  reasons: DuplicateReason[];
  source: 'device' | 'server' | 'both';
  found_at: number | null;
}

/** field-core `Timeline`. */
export interface Timeline {
  person: PersonSummary;
  merged_from: string[];
  entries: TimelineEntry[];
  pregnancies: Record<string, unknown>[];
  referrals: Record<string, unknown>[];
  growth: GrowthPoint[];
}

/** field-core `PairSide`. */
export interface PairSide {
  timeline: Timeline;
  household: {
    id: string;
    posyandu: string | null;
    head_name: string | null;
    dusun: string | null;
    rt: string | null;
    members: string[];
  } | null;
  visits: number;
}

/** field-core `PairField`. */
export interface PairField {
  field: string;
  first: unknown;
  second: unknown;
  same: boolean;
}

/** field-core `PairComparison`. */
export interface PairComparison {
  first: PairSide;
  second: PairSide;
  fields: PairField[];
}

/** src-tauri `ReviewQueue`. */
export interface ReviewQueue {
  counts: ReviewCounts;
  conflicts: ReviewConflict[];
  duplicates: DuplicatePair[];
  problems: DueEntry[];
}

const call = <T>(cmd: string, args?: Record<string, unknown>) => invoke<T>(cmd, args);

export const reviewApi = {
  queue: () => call<ReviewQueue>('review_queue'),
  resolveConflict: (key: ConflictKey, resolution: Resolution, note?: string | null) =>
    call<string>('resolve_conflict', { key, resolution, note: note ?? null }),
  comparePair: (first: string, second: string) =>
    call<PairComparison>('compare_pair', { first, second }),
  /** "Orang yang sama": `kept` survives, taking the fields in `take` from `merged`. */
  mergeSamePerson: (kept: string, merged: string, take: string[], reason?: string | null) =>
    call<string>('merge_same_person', { kept, merged, take, reason: reason ?? null }),
  /** "Bukan orang yang sama": never proposed again, on any tablet. */
  dismissDuplicate: (first: string, second: string, note?: string | null) =>
    call<string>('dismiss_duplicate', { first, second, note: note ?? null }),
};
