import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import RegisterHousehold from './RegisterHousehold.svelte';
import { appError, installFake, type Fake } from '../test/fake';
import { drafts } from '../lib/drafts.svelte';
import { setLocale } from '../lib/i18n';
import { router } from '../lib/router.svelte';
import type { DuplicateWarning } from '../lib/api';

const places = [
  { code: '53.04.05.2001.P01', level: 'posyandu', name: 'Posyandu Mawar', parent: '53.04.05.2001.D1' },
  { code: '53.04.05.2001.D1', level: 'dusun', name: 'Dusun 1 Naitimu', parent: '53.04.05.2001' },
];
const dup: DuplicateWarning = { member: 0, existing: 'p-ani', existing_name: 'Ani Fiktif', reason: 'same_name_birth_date_mother' };

async function type(testid: string, value: string) {
  await fireEvent.input(screen.getByTestId(testid), { target: { value } });
}

describe('register a household', () => {
  let fake: Fake;
  let dupFor: (name: string) => DuplicateWarning[];
  let register: () => unknown;

  beforeEach(() => {
    drafts.register = null;
    dupFor = () => [];
    register = () => ({ household: 'h-1', persons: ['p1', 'p2'], duplicates: [], warnings: [] });
    fake = installFake({
      places: () => places,
      check_duplicates: (a) => dupFor((a.person as { name: string }).name),
      register_household: () => register(),
    });
  });

  it('fills the head as the first member and saves household and members', async () => {
    render(RegisterHousehold);
    await waitFor(() => expect(screen.getByTestId('register-posyandu-name').textContent).toContain('Posyandu Mawar'));
    await type('register-head', 'Budi Fiktif');
    expect((screen.getByTestId('member-0-name') as HTMLInputElement).value).toBe('Budi Fiktif');
    await fireEvent.click(screen.getByTestId('member-0-sex-male'));
    await type('member-0-birth', '01021980');
    await type('register-dusun', 'Dusun 1 Naitimu');
    await type('register-rt', '01');
    await fireEvent.click(screen.getByTestId('register-add-member'));
    await type('member-1-name', 'Ani Fiktif');
    await fireEvent.click(screen.getByTestId('member-1-sex-female'));
    await type('member-1-birth', '14/03/1985');
    await fireEvent.click(screen.getByTestId('register-save'));
    await waitFor(() => expect(fake.called('register_household')).toHaveLength(1));
    const args = fake.called('register_household')[0] as { household: Record<string, unknown>; members: Record<string, unknown>[] };
    expect(args.household).toMatchObject({ posyandu: '53.04.05.2001.P01', head_name: 'Budi Fiktif', dusun: 'Dusun 1 Naitimu', rt: '01', kk_number: null });
    expect(args.members).toEqual([
      expect.objectContaining({ name: 'Budi Fiktif', sex: 'male', birth_date: '1980-02-01', relation: 'head' }),
      expect.objectContaining({ name: 'Ani Fiktif', sex: 'female', birth_date: '1985-03-14', relation: 'spouse' }),
    ]);
    await waitFor(() => expect(router.route).toEqual({ name: 'household', id: 'h-1' }));
    expect(drafts.register).toBeNull();
  });

  it('warns of a likely duplicate and saves only after "register anyway"', async () => {
    dupFor = (name) => (name === 'Ani Fiktif' ? [dup] : []);
    render(RegisterHousehold);
    await type('register-head', 'Budi Fiktif');
    await fireEvent.click(screen.getByTestId('member-0-sex-male'));
    await type('member-0-birth', '01/02/1980');
    await fireEvent.click(screen.getByTestId('register-add-member'));
    await type('member-1-name', 'Ani Fiktif');
    await fireEvent.click(screen.getByTestId('member-1-sex-female'));
    await type('member-1-birth', '14/03/1985');
    const warning = await screen.findByTestId('member-1-dup', {}, { timeout: 2000 });
    expect(warning.textContent).toContain('Mungkin sudah terdaftar: Ani Fiktif');
    expect(screen.getByTestId('member-1-dup-open').getAttribute('data-existing')).toBe('p-ani');
    expect(fake.called('check_duplicates').at(-1)).toEqual({ person: expect.objectContaining({ name: 'Ani Fiktif', birth_date: '1985-03-14' }) });

    await fireEvent.click(screen.getByTestId('register-save'));
    expect(screen.getByTestId('register-dup-pending')).toBeTruthy();
    expect(fake.called('register_household')).toHaveLength(0);

    await fireEvent.click(screen.getByTestId('member-1-dup-continue'));
    await fireEvent.click(screen.getByTestId('register-save'));
    await waitFor(() => expect(fake.called('register_household')).toHaveLength(1));
  });

  it('keeps every value when Rust refuses a field, marks it, and says why in the chosen language', async () => {
    register = () => {
      throw appError('validation.digits', 'members.0.nik', { len: 16 });
    };
    render(RegisterHousehold);
    await type('register-head', 'Budi Fiktif');
    await type('register-rt', '07');
    await fireEvent.click(screen.getByTestId('member-0-sex-male'));
    await type('member-0-birth', '01/02/1980');
    await type('member-0-nik', '12345');
    await fireEvent.click(screen.getByTestId('register-save'));
    const err = await screen.findByTestId('member-0-nik-error');
    // The key and its params, in the UI's own words.
    expect(err.textContent).toBe('NIK harus 16 angka.');
    expect(screen.getByTestId('register-error').textContent).toContain('Periksa isian "NIK" yang ditandai merah.');
    expect(screen.getByTestId('member-0-nik').getAttribute('aria-invalid')).toBe('true');
    expect((screen.getByTestId('register-head') as HTMLInputElement).value).toBe('Budi Fiktif');
    expect((screen.getByTestId('register-rt') as HTMLInputElement).value).toBe('07');
    expect((screen.getByTestId('member-0-birth') as HTMLInputElement).value).toBe('01/02/1980');
    expect((screen.getByTestId('member-0-nik') as HTMLInputElement).value).toBe('12345');
    setLocale('en');
    await waitFor(() => expect(screen.getByTestId('member-0-nik-error').textContent).toBe('NIK (national ID number) must be exactly 16 digits.'));
  });

  it('uses its own words, with the field label, for a key it knows', async () => {
    register = () => {
      throw appError('validation.required', 'head_name');
    };
    render(RegisterHousehold);
    await fireEvent.click(screen.getByTestId('register-save'));
    const err = await screen.findByTestId('register-head-error');
    expect(err.textContent).toBe('Nama Kepala Keluarga wajib diisi.');
  });

  it('marks every empty required field at once, not one per try', async () => {
    render(RegisterHousehold);
    await fireEvent.click(screen.getByTestId('register-add-member'));
    await fireEvent.click(screen.getByTestId('register-save'));
    expect(screen.getByTestId('register-head-error').textContent).toBe('Nama Kepala Keluarga wajib diisi.');
    for (const i of [0, 1]) {
      expect(screen.getByTestId(`member-${i}-name-error`).textContent).toBe('Nama lengkap wajib diisi.');
      expect(screen.getByTestId(`member-${i}-sex-error`).textContent).toBe('Jenis kelamin wajib diisi.');
      expect(screen.getByTestId(`member-${i}-birth-error`).textContent).toBe('Tanggal lahir wajib diisi.');
    }
    expect(screen.getByTestId('register-error').textContent).toContain('7 isian wajib belum diisi');
    expect(fake.called('register_household')).toHaveLength(0);
  });

  it('keeps the draft when the kader leaves to look at the existing person', async () => {
    const first = render(RegisterHousehold);
    await type('register-head', 'Budi Fiktif');
    first.unmount();
    render(RegisterHousehold);
    expect((screen.getByTestId('register-head') as HTMLInputElement).value).toBe('Budi Fiktif');
  });
});
