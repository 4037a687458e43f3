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

  it('offers over the network: shows the address and the code, then that it was delivered', async () => {
    let polled = 0;
    const fake = installFake({
      titip_overview: () => overview(),
      titip_lan_offer: () => ({
        what: 'bundle',
        addresses: ['192.168.43.7:40123', '127.0.0.1:40123'],
        code: '042917',
        expires_in_s: 600,
        items: 12,
        bytes: 900,
        state: { state: 'waiting', wrong: 0 },
      }),
      titip_lan_state: () => (++polled < 2 ? { state: 'waiting', wrong: 1 } : { state: 'delivered', bytes: 900 }),
    });
    render(TitipPanel);
    await waitFor(() => expect((screen.getByTestId('titip-lan-send') as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(screen.getByTestId('titip-lan-send'));
    await waitFor(() => expect(screen.getByTestId('titip-lan-code').textContent).toBe('042 917'));
    expect(screen.getByTestId('titip-lan-address').textContent).toBe('192.168.43.7:40123');
    expect(screen.getByTestId('titip-lan-offer').textContent).toContain('12 data');
    expect(fake.called('titip_lan_offer')).toEqual([{ what: 'bundle' }]);
    await waitFor(() => expect(screen.getByTestId('titip-lan-wrong').textContent).toContain('1 kali kode salah'), { timeout: 3000 });
    await waitFor(() => expect(screen.getByTestId('titip-lan-delivered').textContent).toContain('Terkirim'), { timeout: 3000 });
  });

  it('receives over the network with the typed address and code; a wrong code is said in words', async () => {
    let right = false;
    const fake = installFake({
      titip_overview: () => overview(),
      titip_lan_receive: () => {
        if (right) return { carried: 1, opened: null };
        throw { key: 'titip.error.lan_wrong_code', id: 'x', en: 'x' };
      },
    });
    render(TitipPanel);
    await waitFor(() => expect((screen.getByTestId('titip-lan-receive') as HTMLButtonElement).disabled).toBe(false));
    await fireEvent.click(screen.getByTestId('titip-lan-receive'));
    await fireEvent.input(screen.getByTestId('titip-lan-address-input'), { target: { value: '192.168.43.7:40123' } });
    await fireEvent.input(screen.getByTestId('titip-lan-code-input'), { target: { value: '042 917' } });
    await fireEvent.click(screen.getByTestId('titip-lan-receive-go'));
    await waitFor(() => expect(screen.getByTestId('titip-error').textContent).toContain('Kode salah'));
    right = true;
    await fireEvent.click(screen.getByTestId('titip-lan-receive-go'));
    await waitFor(() => expect(screen.getByTestId('titip-done').textContent).toContain('1 titipan diterima'));
    expect(fake.called('titip_lan_receive')).toEqual([
      { address: '192.168.43.7:40123', code: '042 917' },
      { address: '192.168.43.7:40123', code: '042 917' },
    ]);
  });
});
