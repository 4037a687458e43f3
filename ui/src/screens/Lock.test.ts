import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Lock from './Lock.svelte';
import { appError, info, installFake, kader } from '../test/fake';
import { session } from '../lib/session.svelte';

const bidan = { user_id: 'u2', username: 'bidan.naitimu', display_name: 'Bidan Naitimu', role: 'bidan' };

describe('lock screen', () => {
  it('unlocks the chosen user with the PIN typed on the keypad', async () => {
    const fake = installFake({ unlock: (a) => ({ ...kader, username: a.username as string }) });
    render(Lock, { info: info({ users: [kader, bidan] }) });
    expect(screen.queryByTestId('lock-pin')).toBeNull();
    await fireEvent.click(screen.getByTestId('lock-user-bidan.naitimu'));
    for (const d of '246813') await fireEvent.click(screen.getByTestId(`lock-key-${d}`));
    expect((screen.getByTestId('lock-pin') as HTMLInputElement).value).toBe('246813');
    await fireEvent.click(screen.getByTestId('lock-unlock'));
    await waitFor(() => expect(fake.called('unlock')).toEqual([{ username: 'bidan.naitimu', pin: '246813' }]));
    await waitFor(() => expect(session.phase).toBe('unlocked'));
  });

  it('says a PIN was wrong and makes the user wait when Rust says so', async () => {
    installFake({
      unlock: () => {
        throw appError('store.pin_locked', 'pin', { wait_seconds: 30 });
      },
    });
    render(Lock, { info: info() });
    await fireEvent.input(screen.getByTestId('lock-pin'), { target: { value: '111111' } });
    await fireEvent.click(screen.getByTestId('lock-unlock'));
    expect((await screen.findByTestId('lock-pin-error')).textContent).toContain('Coba lagi dalam 30 detik.');
    expect(screen.getByTestId('lock-wait').textContent).toMatch(/Tunggu (30|29) detik/);
    await fireEvent.input(screen.getByTestId('lock-pin'), { target: { value: '123456' } });
    expect((screen.getByTestId('lock-unlock') as HTMLButtonElement).disabled).toBe(true);
  });
});
