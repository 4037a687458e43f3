import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import SaveAs from './SaveAs.svelte';
import { appError, installFake } from '../test/fake';
import { exportAction } from '../lib/share';

const ANDROID = 'Mozilla/5.0 (Linux; Android 10; SM-T295) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0 Safari/537.36';

describe('exportAction', () => {
  it('shares on Android and saves a copy elsewhere', () => {
    // (user agent, action)
    const rows: [string | undefined, string][] = [
      [ANDROID, 'share'],
      ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko)', 'save'],
      ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Edg/120', 'save'],
      [undefined, 'save'],
    ];
    for (const [ua, want] of rows) expect(exportAction(ua), String(ua)).toBe(want);
  });
});

describe('SaveAs on Android', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('shows "Bagikan…" instead of "Simpan ke…" and asks Rust to share that file', async () => {
    vi.stubGlobal('navigator', { ...navigator, userAgent: ANDROID });
    const fake = installFake({ share_export: () => null });
    render(SaveAs, { fileName: 'laporan-2026-11.csv', testid: 'report-csv' });
    expect(screen.queryByTestId('report-csv-save-as')).toBeNull();
    const button = screen.getByTestId('report-csv-share');
    expect(button.textContent).toBe('Bagikan…');
    await fireEvent.click(button);
    await waitFor(() => expect(screen.getByTestId('report-csv-shared').textContent).toBe('Pilih aplikasi untuk mengirim file.'));
    expect(fake.called('share_export')).toEqual([{ fileName: 'laporan-2026-11.csv' }]);
  });

  it("shows Rust's refusal in the user's words", async () => {
    vi.stubGlobal('navigator', { ...navigator, userAgent: ANDROID });
    installFake({ share_export: () => Promise.reject(appError('export.share_failed', 'file_name')) });
    render(SaveAs, { fileName: 'gone.pdf', testid: 'kms-pdf' });
    await fireEvent.click(screen.getByTestId('kms-pdf-share'));
    await waitFor(() => expect(screen.getByTestId('kms-pdf-share-error').textContent).toContain('File ini tidak bisa dibagikan.'));
  });
});
