// The way an exported file (CSV, PDF) leaves the tablet: "Bagikan…" through Android's share
// sheet (command `share_export`, the in-repo plugin src-tauri/share/), "Simpan ke…" through
// the desktop save dialog (command `save_export_as`). Rust checks the file and its type.
import { invoke } from '@tauri-apps/api/core';

export type ExportAction = 'share' | 'save';

/** Android shares; every other platform saves a copy. */
export function exportAction(userAgent: string | undefined): ExportAction {
  return userAgent && /Android/i.test(userAgent) ? 'share' : 'save';
}

export const shareApi = {
  /** Opens the share sheet for `<data>/exports/<fileName>`; resolves when it is shown. */
  share: (fileName: string) => invoke<void>('share_export', { fileName }),
};
