// Commands of the home visit (kunjungan rumah) and the referrals (rujukan). Shapes follow
// field-core's `HomeVisitInput`/`MemberPanel`/`HomeVisit` (domain/services.rs) and
// `ReferralView` (worklists.rs); those shared with other features (`MeasurementInput`,
// `ReferralInput`, `ReferralRow`, …) are in api-health.ts. The Tauri commands are in
// src-tauri/src/commands.rs.
import { invoke } from '@tauri-apps/api/core';
import type { Profile } from './api';
import type {
  ImmunisationInput,
  MeasurementInput,
  ReferralInput,
  ReferralRow,
  ReferralStatus,
  ServicesSaved,
  SupplementInput,
} from './api-health';

/** A screening as structured answers (plain values or short lists of them). */
export interface ScreeningInput {
  instrument: 'tb' | 'ptm' | 'lansia_aks' | 'lansia_skilas' | 'mental_health' | 'breastfeeding' | 'danger_signs';
  answers: Record<string, string | number | boolean | null>;
  result?: string | null;
}

/** field-core `MemberPanel` (its `Services` flattened in). */
export interface MemberPanel {
  person: string;
  measurements: MeasurementInput[];
  immunisations: ImmunisationInput[];
  supplements: SupplementInput[];
  screenings: ScreeningInput[];
  findings?: string | null;
  education?: string | null;
  follow_up_date?: string | null;
  reminded_to_facility?: boolean | null;
  /** The date the kader reported to the health worker. */
  reported_to_health_worker?: string | null;
  referral?: ReferralInput | null;
}

/** Household facts checked during the visit (only those that changed). */
export interface HouseholdUpdate {
  latrine?: boolean;
  water_source?: WaterSource;
  jkn?: boolean;
}

export type WaterSource = 'piped' | 'well' | 'spring' | 'rain' | 'river' | 'bought' | 'other';
export const WATER_SOURCES: readonly WaterSource[] = ['piped', 'well', 'spring', 'rain', 'river', 'bought', 'other'];

export interface HomeVisitInput {
  household: string;
  date: string;
  panels: MemberPanel[];
  household_update?: HouseholdUpdate | null;
  family_acknowledged?: boolean | null;
}

export interface MemberPanelSaved {
  person: string;
  visit: string;
  saved: ServicesSaved;
}

export interface HomeVisit {
  panels: MemberPanelSaved[];
}

export const REFERRAL_STATUSES: readonly ReferralStatus[] = ['made', 'received', 'done'];

export interface ReferralEvent {
  id: string;
  status: ReferralStatus;
  date: string;
  note: string | null;
}

export interface ReferralView {
  referral: ReferralRow;
  /** Oldest first. */
  events: ReferralEvent[];
}

/** The profile as the home visit reads it: the pregnancies (field-core `Timeline.pregnancies`,
 *  bodies with their `id`) when the shell sends them. */
export type VisitProfile = Profile & { pregnancies?: Record<string, unknown>[] };

export const visitApi = {
  recordHomeVisit: (input: HomeVisitInput) => invoke<HomeVisit>('record_home_visit', { input }),
  referrals: (status: ReferralStatus | null) => invoke<ReferralRow[]>('referrals', { status }),
  referral: (id: string) => invoke<ReferralView>('referral', { id }),
  advanceReferral: (id: string, status: 'received' | 'done', date: string, outcome: string | null) =>
    invoke<ReferralRow>('advance_referral', { id, status, date, outcome }),
  profile: (id: string) => invoke<VisitProfile>('profile', { id }),
};
