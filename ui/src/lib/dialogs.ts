// The platform's save and open dialogs (tauri-plugin-dialog), for "Titip data".
//
// WebDriver cannot drive these native dialogs, so an end-to-end run answers them through
// `window.__jangkauE2eDialogPath` (set by ui/e2e/titip.e2e.test.mjs with
// `browser.execute`): the path a user would have picked. Nothing in the app sets it; on a
// user's tablet the real dialog always opens.
import { open, save, type OpenDialogOptions, type SaveDialogOptions } from '@tauri-apps/plugin-dialog';

function e2ePath(): string | undefined {
  const p = (window as unknown as { __jangkauE2eDialogPath?: unknown }).__jangkauE2eDialogPath;
  return typeof p === 'string' ? p : undefined;
}

/** Where to save a file; `null` when the user cancelled. */
export async function pickSavePath(options: SaveDialogOptions): Promise<string | null> {
  return e2ePath() ?? (await save(options));
}

/** One file to open; `null` when the user cancelled. */
export async function pickOpenPath(options: Omit<OpenDialogOptions, 'multiple' | 'directory'>): Promise<string | null> {
  const e2e = e2ePath();
  if (e2e) return e2e;
  const p = await open({ ...options, multiple: false, directory: false });
  return typeof p === 'string' ? p : null;
}
