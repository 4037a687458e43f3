// Titip (sync through another tablet or a file): the Tauri commands of
// src-tauri/src/core/titip.rs and their shapes (field-core/src/sync/relay.rs).
import { invoke } from '@tauri-apps/api/core';

/** field-core `SentBundle`: a bundle this tablet sealed and what the server confirmed. */
export interface SentBundle {
  created_ms: number;
  first_seq: number | null;
  last_seq: number | null;
  count: number;
  bytes: number;
  answered_ms: number | null;
  confirmed: number | null;
  rejected: number | null;
  received: number | null;
}

/** src-tauri `CarriedFor`: the bundles this tablet carries for one other tablet. */
export interface CarriedFor {
  device: string;
  waiting: number;
  handed: number;
  refused: number;
  changes: number;
}

export interface TitipOverview {
  ready: boolean;
  sent: SentBundle[];
  carrying: CarriedFor[];
}

/** field-core `OpenReport`. */
export interface OpenReport {
  answers: number;
  confirmed: number;
  rejected: number;
  received: number;
  acked_seq: number;
}

export interface TitipImported {
  carried: number;
  opened: OpenReport | null;
}

export interface TitipWritten {
  path: string;
  items: number;
  bytes: number;
}

/** field-core `OfferState`: where an offer on the local network stands. */
export type OfferState =
  | { state: 'waiting'; wrong: number }
  | { state: 'delivered'; bytes: number }
  | { state: 'locked' }
  | { state: 'expired' }
  | { state: 'cancelled' };

export type LanWhat = 'bundle' | 'answers';

/** src-tauri `LanOffered`: what the offering tablet shows. */
export interface LanOffered {
  what: LanWhat;
  addresses: string[];
  code: string;
  expires_in_s: number;
  items: number;
  bytes: number;
  state: OfferState;
}

export const titipApi = {
  overview: () => invoke<TitipOverview>('titip_overview'),
  exportTo: (dest: string) => invoke<TitipWritten>('titip_export', { dest }),
  importFrom: (path: string) => invoke<TitipImported>('titip_import', { path }),
  collectTo: (dest: string) => invoke<TitipWritten>('titip_collect', { dest }),
  lanOffer: (what: LanWhat) => invoke<LanOffered>('titip_lan_offer', { what }),
  lanState: () => invoke<OfferState | null>('titip_lan_state'),
  lanCancel: () => invoke<void>('titip_lan_cancel'),
  lanReceive: (address: string, code: string) => invoke<TitipImported>('titip_lan_receive', { address, code }),
};

/** Short label of another tablet: the end of its device id. */
export function deviceLabel(device: string): string {
  return device.length > 8 ? `…${device.slice(-8)}` : device;
}
