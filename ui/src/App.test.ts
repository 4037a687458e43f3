import { afterEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import App from './App.svelte';
import { appError, home, info, installFake, kader } from './test/fake';
import { session } from './lib/session.svelte';
import type { Settings } from './lib/api';

async function type(testid: string, value: string) {
  await fireEvent.input(screen.getByTestId(testid), { target: { value } });
}

describe('the app', () => {
  afterEach(() => vi.useRealTimers());

  it('enrols on first run (server, code, account, then PIN) and opens Beranda', async () => {
    let enrolled = false;
    let settings: Settings = { locale: 'id', idle_lock_minutes: 5 };
    const fake = installFake({
      app_info: () =>
        enrolled ? info({ unlocked: kader, settings }) : info({ enrolled: false, users: [], suggested_server: 'http://127.0.0.1:9' }),
      enrol: () => {
        enrolled = true;
        return kader;
      },
      save_settings: (a) => (settings = a.settings as Settings),
      home: () => home(),
    });
    render(App);
    await screen.findByTestId('screen-firstrun');
    expect((screen.getByTestId('firstrun-server') as HTMLInputElement).value).toBe('http://127.0.0.1:9');
    await fireEvent.click(screen.getByTestId('firstrun-next'));
    expect(screen.getByTestId('firstrun-code-error').textContent).toBe('Kode pendaftaran tablet wajib diisi.');
    await fireEvent.click(screen.getByTestId('lang-en'));
    expect(screen.getByTestId('firstrun-code-error').textContent).toBe('Enrolment code is required.');
    await type('firstrun-code', 'ABCD-EFGH');
    await type('firstrun-username', 'kader.mawar');
    await type('firstrun-password', 'belu-demo-2025');
    await fireEvent.click(screen.getByTestId('firstrun-next'));
    await type('firstrun-pin', '480516');
    await type('firstrun-pin2', '480517');
    await fireEvent.click(screen.getByTestId('firstrun-finish'));
    expect(screen.getByTestId('firstrun-pin2-error').textContent).toBe('The two PINs differ. Type them again.');
    await type('firstrun-pin2', '480516');
    await fireEvent.click(screen.getByTestId('firstrun-finish'));
    await screen.findByTestId('screen-home');
    expect(fake.called('enrol')[0]).toEqual({
      input: { server_url: 'http://127.0.0.1:9', code: 'ABCD-EFGH', username: 'kader.mawar', password: 'belu-demo-2025', pin: '480516', device_name: 'Tablet Mawar' },
    });
    // The language chosen before enrolment is kept.
    expect(fake.called('save_settings')[0]).toEqual({ settings: { locale: 'en', idle_lock_minutes: 5 } });
    expect(screen.getByTestId('nav-home').textContent).toContain('Home');
  });

  it('goes back to the step of the field Rust refused', async () => {
    installFake({
      app_info: () => info({ enrolled: false, users: [] }),
      enrol: () => {
        throw appError('validation.required', 'code');
      },
    });
    render(App);
    await screen.findByTestId('screen-firstrun');
    await type('firstrun-server', 'http://127.0.0.1:9');
    await type('firstrun-code', 'WRONG');
    await type('firstrun-username', 'kader.mawar');
    await type('firstrun-password', 'x');
    await fireEvent.click(screen.getByTestId('firstrun-next'));
    await type('firstrun-pin', '480516');
    await type('firstrun-pin2', '480516');
    await fireEvent.click(screen.getByTestId('firstrun-finish'));
    expect((await screen.findByTestId('firstrun-code-error')).textContent).toBe('Kode pendaftaran tablet wajib diisi.');
    expect((screen.getByTestId('firstrun-code') as HTMLInputElement).value).toBe('WRONG');
    expect((screen.getByTestId('firstrun-username') as HTMLInputElement).value).toBe('kader.mawar');
  });

  it('locks itself after the idle minutes, and when the shell says so', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let locked = false;
    const fake = installFake({
      app_info: () => info({ unlocked: locked ? null : kader, settings: { locale: 'id', idle_lock_minutes: 1 } }),
      lock: () => {
        locked = true;
        return null;
      },
    });
    render(App);
    await screen.findByTestId('screen-home');
    vi.advanceTimersByTime(30_000);
    window.dispatchEvent(new Event('pointerdown'));
    // The shell hears of the touch too (its own idle lock).
    expect(fake.called('touch')).toHaveLength(1);
    vi.advanceTimersByTime(45_000);
    expect(fake.called('lock')).toHaveLength(0);
    vi.advanceTimersByTime(16_000);
    await waitFor(() => expect(fake.called('lock')).toHaveLength(1));
    await screen.findByTestId('screen-lock');
    vi.useRealTimers();
    await waitFor(() => expect(fake.called('app_info')).toHaveLength(2));
    await new Promise((r) => setTimeout(r, 10));

    // Unlocked again, then the shell locks (e.g. its own timer): the lock screen comes back.
    locked = false;
    session.phase = 'unlocked';
    await screen.findByTestId('screen-home');
    locked = true;
    await fake.emit('app://locked', null);
    await screen.findByTestId('screen-lock');
  });

  it('keeps the form through a lock for the same user and drops it for another', async () => {
    const other = { ...kader, user_id: 'u-2', username: 'kader.melati', display_name: 'Kader Melati' };
    let unlockedAs: typeof kader | null = kader;
    installFake({
      app_info: () => info({ unlocked: unlockedAs, users: [kader, other] }),
      home: () => home(),
      places: () => [],
      check_duplicates: () => [],
      lock: () => {
        unlockedAs = null;
        return null;
      },
      unlock: (a) => (unlockedAs = a.username === other.username ? other : kader),
    });
    const { router, navigate } = await import('./lib/router.svelte');
    render(App);
    await screen.findByTestId('screen-home');
    navigate({ name: 'register' });
    await screen.findByTestId('register-head');
    await type('register-head', 'Budi Fiktif');
    await fireEvent.click(screen.getByTestId('lock-button'));
    await screen.findByTestId('screen-lock');
    // Hidden and inert behind the lock screen.
    expect(screen.getByTestId('shell-held').style.display).toBe('none');
    await fireEvent.click(screen.getByTestId(`lock-user-${kader.username}`));
    await type('lock-pin', '480516');
    await fireEvent.click(screen.getByTestId('lock-unlock'));
    await screen.findByTestId('shell');
    expect(router.route).toEqual({ name: 'register' });
    expect((screen.getByTestId('register-head') as HTMLInputElement).value).toBe('Budi Fiktif');

    // Another user: their own Beranda, an empty form.
    await fireEvent.click(screen.getByTestId('lock-button'));
    await screen.findByTestId('screen-lock');
    await fireEvent.click(screen.getByTestId(`lock-user-${other.username}`));
    await type('lock-pin', '730418');
    await fireEvent.click(screen.getByTestId('lock-unlock'));
    await screen.findByTestId('screen-home');
    navigate({ name: 'register' });
    expect(((await screen.findByTestId('register-head')) as HTMLInputElement).value).toBe('');
  });

  it('says after a wrong password that the enrolment code is still good, and keeps what was typed', async () => {
    installFake({
      app_info: () => info({ enrolled: false, users: [] }),
      enrol: () => {
        throw appError('sync.error.login_failed', 'password');
      },
    });
    render(App);
    await screen.findByTestId('screen-firstrun');
    await type('firstrun-server', 'http://127.0.0.1:9');
    await type('firstrun-code', 'ABC-DEF-GHJ');
    await type('firstrun-username', 'kader.mawar');
    await type('firstrun-password', 'salah');
    await fireEvent.click(screen.getByTestId('firstrun-next'));
    await type('firstrun-pin', '480516');
    await type('firstrun-pin2', '480516');
    await fireEvent.click(screen.getByTestId('firstrun-finish'));
    const after = await screen.findByTestId('firstrun-after');
    expect(after.textContent).toContain('Kode pendaftaran belum terpakai');
    expect((screen.getByTestId('firstrun-password') as HTMLInputElement).value).toBe('salah');
    expect((screen.getByTestId('firstrun-code') as HTMLInputElement).value).toBe('ABC-DEF-GHJ');
  });

  it('reports the network state to the shell', async () => {
    const fake = installFake({ app_info: () => info({ unlocked: kader }) });
    render(App);
    await screen.findByTestId('screen-home');
    window.dispatchEvent(new Event('offline'));
    expect(fake.called('set_online').length).toBeGreaterThanOrEqual(2);
  });
});
