import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import TitipPanel from './TitipPanel.svelte';
import { installFake } from '../test/fake';
import type { TitipOverview } from '../lib/api-titip';

const overview = (over: Partial<TitipOverview> = {}): TitipOverview => ({
  ready: true,
  sent: [],
  carrying: [],
  ...over,
});

describe('titip panel', () => {
  it('shows what was handed over, what the server confirmed, and what is carried for whom', async () => {
    installFake({
      titip_overview: () =>
        overview({
          sent: [
            { created_ms: Date.UTC(2025, 10, 22, 1, 0), first_seq: 5, last_seq: 9, count: 5, bytes: 600, answered_ms: null, confirmed: null, rejected: null, received: null },
            { created_ms: Date.UTC(2025, 10, 20, 1, 0), first_seq: 1, last_seq: 4, count: 4, bytes: 500, answered_ms: 1, confirmed: 4, rejected: 0, received: 2 },
          ],
          carrying: [{ device: '019aaa00-0000-7000-8000-00000000d001', waiting: 2, handed: 1, refused: 1, changes: 30 }],
        }),
    });
    render(TitipPanel);
    await waitFor(() => expect(screen.getByTestId('titip-sent')).toBeTruthy());
    const sent = screen.getByTestId('titip-sent').textContent ?? '';
    expect(sent).toContain('5 data');
    expect(sent).toContain('belum ada balasan');
    expect(sent).toContain('dikonfirmasi server: 4');
    const carrying = screen.getByTestId('titip-carrying').textContent ?? '';
    expect(carrying).toContain('Tablet …0000d001: 2 menunggu sinkron (30 data), 1 sudah diserahkan');
    expect(carrying).toContain('1 ditolak server');
    expect(screen.getByTestId('titip-collect')).toBeTruthy();
  });

  it('saves a bundle where the save dialog points and says how many changes it holds', async () => {
    const fake = installFake({
      titip_overview: () => overview(),
      'plugin:dialog|save': () => '/media/usb/titip-jangkau.titip',
      titip_export: () => ({ path: '/media/usb/titip-jangkau.titip', items: 12, bytes: 900 }),
    });
    render(TitipPanel);
    await waitFor(() => expect((screen.getByTestId('titip-export') as HTMLButtonElement).disabled).toBe(false));
    expect(screen.getByTestId('titip-carrying-none')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('titip-export'));
    await waitFor(() => expect(screen.getByTestId('titip-done').textContent).toContain('12 data'));
    expect(fake.called('titip_export')).toEqual([{ dest: '/media/usb/titip-jangkau.titip' }]);
  });

  it('opens a file: an answer for this tablet is taken in, a refusal is shown in words', async () => {
    let answer = true;
    installFake({
      titip_overview: () => overview(),
      'plugin:dialog|open': () => '/media/usb/balasan.titip',
      titip_import: () => {
        if (answer) return { carried: 0, opened: { answers: 1, confirmed: 7, rejected: 0, received: 3, acked_seq: 7 } };
        throw { key: 'titip.error.bad_file', id: 'x', en: 'x' };
      },
    });
    render(TitipPanel);
    await waitFor(() => expect((screen.getByTestId('titip-import') as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(screen.getByTestId('titip-import'));
    await waitFor(() => expect(screen.getByTestId('titip-done').textContent).toContain('7 data dikonfirmasi, 3 data baru diterima'));
    answer = false;
    await fireEvent.click(screen.getByTestId('titip-import'));
    await waitFor(() => expect(screen.getByTestId('titip-error').textContent).toContain('Berkas titip rusak'));
  });

  it('says what to do on a tablet without titip keys', async () => {
    installFake({ titip_overview: () => overview({ ready: false }) });
    render(TitipPanel);
    await waitFor(() => expect(screen.getByTestId('titip-not-ready')).toBeTruthy());
    expect((screen.getByTestId('titip-export') as HTMLButtonElement).disabled).toBe(true);
  });
});
