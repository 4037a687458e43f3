// A newborn's birth weight, length and time on the register form (body schema 2).
import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import RegisterHousehold from './RegisterHousehold.svelte';
import { appError, installFake, type Fake } from '../test/fake';
import { drafts } from '../lib/drafts.svelte';
import { setLocale } from '../lib/i18n';
import { router } from '../lib/router.svelte';
import { birthErrors, isNewborn, localToday, newMember, parseTime, toPersonInput } from '../lib/members';

const places = [
  { code: '53.04.05.2001.P01', level: 'posyandu', name: 'Posyandu Mawar', parent: '53.04.05.2001.D1' },
  { code: '53.04.05.2001.D1', level: 'dusun', name: 'Dusun 1 Naitimu', parent: '53.04.05.2001' },
];

async function type(testid: string, value: string) {
  await fireEvent.input(screen.getByTestId(testid), { target: { value } });
}
const value = (testid: string) => (screen.getByTestId(testid) as HTMLInputElement).value;

function daysAgo(n: number): string {
  const d = new Date();
  d.setDate(d.getDate() - n);
  const p = (x: number) => String(x).padStart(2, '0');
  return `${p(d.getDate())}/${p(d.getMonth() + 1)}/${d.getFullYear()}`;
}

describe('register a newborn', () => {
  let fake: Fake;
  let register: () => unknown;

  beforeEach(() => {
    drafts.register = null;
    router.route = { name: 'home' };
    setLocale('id');
    register = () => ({ household: 'h-1', persons: ['p1', 'p2'], duplicates: [], warnings: [] });
    fake = installFake({
      places: () => places,
      check_duplicates: () => [],
      register_household: () => register(),
    });
  });

  async function motherAndBaby(babyBorn: string) {
    render(RegisterHousehold);
    await waitFor(() => expect(screen.getByTestId('register-posyandu-name').textContent).toContain('Posyandu Mawar'));
    await type('register-head', 'Maria Fiktif');
    await fireEvent.click(screen.getByTestId('member-0-sex-female'));
    await type('member-0-birth', '02/04/1998');
    await fireEvent.click(screen.getByTestId('register-add-member'));
    await type('member-1-name', 'Bayi Ny. Maria');
    await fireEvent.click(screen.getByTestId('member-1-sex-female'));
    await type('member-1-birth', babyBorn);
  }

  it('asks a newborn for her birth weight, length and time and sends them', async () => {
    await motherAndBaby(daysAgo(2));
    // Only the newborn is asked.
    expect(screen.queryByTestId('member-0-birth-facts')).toBeNull();
    await type('member-1-birth-weight', '3,1');
    await type('member-1-birth-length', '49,5');
    await type('member-1-birth-time', '06.45');
    await fireEvent.click(screen.getByTestId('register-save'));
    await waitFor(() => expect(fake.called('register_household')).toHaveLength(1));
    const args = fake.called('register_household')[0] as { members: Record<string, unknown>[] };
    expect(args.members[1]).toMatchObject({ name: 'Bayi Ny. Maria', birth_weight: 3.1, birth_length: 49.5, birth_time: '06:45' });
    expect(args.members[0].birth_weight).toBeUndefined();
  });

  it('does not ask an older child', async () => {
    await motherAndBaby(daysAgo(60));
    expect(screen.queryByTestId('member-1-birth-facts')).toBeNull();
  });

  it('marks a weight or time it cannot read without asking Rust, keeping what was typed', async () => {
    await motherAndBaby(daysAgo(1));
    await type('member-1-birth-weight', '3,1 kg');
    await type('member-1-birth-time', '25:10');
    await fireEvent.click(screen.getByTestId('register-save'));
    expect((await screen.findByTestId('register-error')).textContent).toContain('Periksa isian yang ditandai merah');
    expect(screen.getByTestId('member-1-birth-weight').getAttribute('aria-invalid')).toBe('true');
    expect(document.body.textContent).toContain('Jam lahir bukan jam yang sah');
    expect(value('member-1-birth-weight')).toBe('3,1 kg');
    expect(value('member-1-birth-time')).toBe('25:10');
    expect(fake.called('register_household')).toEqual([]);
  });

  it("shows Rust's range refusal at the field, in both languages", async () => {
    register = () => {
      throw appError('validation.out_of_range', 'members.1.birth_weight', { min: '0.3', max: '7' });
    };
    await motherAndBaby(daysAgo(1));
    await type('member-1-birth-weight', '3100');
    await fireEvent.click(screen.getByTestId('register-save'));
    await waitFor(() => expect(screen.getByTestId('member-1-birth-weight').getAttribute('aria-invalid')).toBe('true'));
    expect(document.body.textContent).toContain('Berat lahir harus antara 0,3 dan 7');
    expect(value('member-1-birth-weight')).toBe('3100');
    setLocale('en');
    await waitFor(() => expect(document.body.textContent).toContain('Birth weight must be between 0.3 and 7'));
  });
});

describe('members.ts: the birth', () => {
  it('knows a newborn by her birth date (28 days)', () => {
    expect(isNewborn('2025-11-01', '2025-11-29')).toBe(true);
    expect(isNewborn('2025-11-01', '2025-11-30')).toBe(false);
    expect(isNewborn('2025-11-30', '2025-11-29')).toBe(false);
    expect(isNewborn('', '2025-11-29')).toBe(false);
    expect(localToday(new Date(2025, 0, 5))).toBe('2025-01-05');
  });

  it('reads times as HH:MM', () => {
    expect(parseTime('06:45')).toBe('06:45');
    expect(parseTime('6.45')).toBe('06:45');
    expect(parseTime('0645')).toBe('06:45');
    expect(parseTime('23:59')).toBe('23:59');
    expect(parseTime('24:00')).toBeNull();
    expect(parseTime('06:60')).toBeNull();
    expect(parseTime('pagi')).toBeNull();
  });

  it('sends only what was typed, and names the fields it cannot read', () => {
    const m = { ...newMember('child'), name: 'Bayi', sex: 'female' as const, birth_date: '2025-11-20', birth_weight: '2,95', birth_time: '' };
    const p = toPersonInput(m);
    expect(p.birth_weight).toBe(2.95);
    expect('birth_length' in p).toBe(false);
    expect('birth_time' in p).toBe(false);
    expect(Object.keys(birthErrors({ ...m, birth_length: 'x', birth_time: '7' }, 3))).toEqual(['members.3.birth_length', 'members.3.birth_time']);
  });
});
