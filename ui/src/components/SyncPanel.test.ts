import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import SyncPanel from './SyncPanel.svelte';
import SyncChip from './SyncChip.svelte';
import { installFake, status } from '../test/fake';
import { startEvents, sync } from '../lib/session.svelte';
import { router } from '../lib/router.svelte';

describe('sync panel and chip', () => {
  it('leads from the conflicts waiting to Tinjauan', async () => {
    installFake({});
    sync.status = status({ open_conflicts: 2 });
    render(SyncPanel);
    expect(screen.getByTestId('sync-conflicts').textContent).toContain('2 data berbeda antar tablet');
    await fireEvent.click(screen.getByTestId('sync-conflicts'));
    expect(router.route).toEqual({ name: 'review' });
  });

  it('shows what waits, when it last worked and what failed, in WITA', () => {
    installFake({});
    sync.status = status({
      waiting: 7,
      last_success_ms: Date.UTC(2025, 10, 20, 1, 0),
      last_attempt_ms: Date.UTC(2025, 10, 22, 6, 5),
      last_error: { key: 'sync.error.network', id: 'x', en: 'x' },
    });
    render(SyncPanel);
    render(SyncChip);
    expect(screen.getByTestId('sync-waiting').textContent).toBe('7');
    expect(screen.getByTestId('sync-last-success').textContent?.trim()).toBe('20/11/2025 09.00 WITA');
    expect(screen.getByTestId('sync-last-error').textContent).toContain('Gagal 22/11/2025 14.05 WITA');
    expect(screen.getByTestId('sync-last-error').textContent).toContain('Server tidak dapat dihubungi.');
    expect(screen.getByTestId('sync-chip').textContent).toContain('Server tak terjangkau · 7 menunggu');
  });

  it('starts a run and follows its progress events', async () => {
    const fake = installFake({ sync_now: () => null });
    sync.status = status({ waiting: 10 });
    sync.starting = false;
    const stop = startEvents();
    render(SyncPanel);
    render(SyncChip);
    await fireEvent.click(screen.getByTestId('sync-button'));
    expect(fake.called('sync_now')).toEqual([{ password: null }]);
    await fake.emit('sync://progress', { phase: 'pushing', waiting: 6, sent: 4, received: 0 });
    await waitFor(() => expect(screen.getByTestId('sync-progress').getAttribute('data-phase')).toBe('pushing'));
    expect(screen.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('29');
    expect(screen.getByTestId('sync-progress-text').textContent?.trim()).toBe('Mengirim data… · terkirim 4, diterima 0');
    expect(screen.getByTestId('sync-chip').textContent).toContain('Mengirim 4/10');
    expect((screen.getByTestId('sync-button') as HTMLButtonElement).disabled).toBe(true);
    await fake.emit('sync://finished', status({ waiting: 0, last_success_ms: Date.now() }));
    await waitFor(() => expect(screen.queryByTestId('sync-progress')).toBeNull());
    expect(screen.getByTestId('sync-waiting').textContent).toBe('0');
    expect(screen.getByTestId('sync-chip').getAttribute('data-tone')).toBe('ok');
    stop();
  });

  it('asks for the password when the session ended', async () => {
    const fake = installFake({ sync_now: () => null });
    sync.status = status({ login_required: true, waiting: 2 });
    render(SyncPanel);
    const button = screen.getByTestId('sync-button') as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    await fireEvent.input(screen.getByTestId('sync-password'), { target: { value: 'rahasia' } });
    await fireEvent.click(button);
    expect(fake.called('sync_now')).toEqual([{ password: 'rahasia' }]);
  });

  it('says how many titip bundles it carries for how many tablets', () => {
    installFake({});
    sync.status = status({ titip_carrying: 3, titip_tablets: 2 });
    render(SyncPanel);
    expect(screen.getByTestId('sync-titip-carrying').textContent).toContain('Membawa 3 titipan dari 2 tablet lain');
    expect(screen.getByTestId('titip-link').textContent).toContain('Titip data');
  });
});
