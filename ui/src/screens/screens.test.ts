import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Profile from './Profile.svelte';
import Households from './Households.svelte';
import Settings from './Settings.svelte';
import HouseholdDetail from './HouseholdDetail.svelte';
import { appError, installFake, personSummary } from '../test/fake';
import { isoDateIn } from '../lib/format';
import { lastSearch } from '../lib/search.svelte';
import { session } from '../lib/session.svelte';
import { router } from '../lib/router.svelte';
import type { PersonSummary, Profile as ProfileT } from '../lib/api';

const person = (over: Partial<PersonSummary> = {}): PersonSummary =>
  personSummary({ household: 'h1', values: { relation: 'child' }, ...over });

const profile = (over: Partial<ProfileT> = {}): ProfileT => ({
  person: person(),
  household: { id: 'h1', head_name: 'Yohanes Fiktif' },
  entries: [
    { id: 'e1', kind: 'measurement', date: '2025-11-22', body: { type: 'weight', value: 8.4, unit: 'kg' }, supersedes: null, superseded_by: null },
    { id: 'e0', kind: 'measurement', date: '2025-10-22', body: { type: 'weight', value: 9, unit: 'kg' }, supersedes: null, superseded_by: 'e1' },
    { id: 'e2', kind: 'immunisation', date: '2025-11-22', body: { vaccine: 'MR1' }, supersedes: null, superseded_by: null },
  ],
  tasks: [],
  ...over,
});

describe('profile', () => {
  it('shows the person and their timeline, without corrected entries', async () => {
    installFake({ profile: () => profile() });
    render(Profile, { id: 'p1' });
    expect((await screen.findByTestId('profile-name')).textContent).toBe('Petrus Fiktif');
    expect(screen.getByTestId('profile-birth').textContent).toBe('14/02/2024');
    expect(screen.getByTestId('profile-age').textContent).toBe('1 tahun 9 bulan');
    const entries = screen.getAllByTestId('timeline-entry').map((e) => e.textContent?.replace(/\s+/g, ' ').trim());
    expect(entries).toEqual(['22/11/2025 Imunisasi Campak-Rubela (MR) 1', '22/11/2025 Pengukuran Berat badan: 8,4 kg']);
  });

  it('marks a person moved on a date typed as dd/mm/yyyy (today by default)', async () => {
    let status = 'active';
    const fake = installFake({
      profile: () => profile({ person: person({ status, values: { relation: 'child', status_date: '2025-11-20' } }) }),
      mark_status: (a) => {
        status = a.status as string;
        return null;
      },
    });
    render(Profile, { id: 'p1' });
    await fireEvent.click(await screen.findByTestId('profile-mark-moved'));
    const date = screen.getByTestId('mark-date') as HTMLInputElement;
    const today = isoDateIn(Date.now()).split('-').reverse().join('/');
    expect(date.value).toBe(today);
    await fireEvent.input(date, { target: { value: '20112025' } });
    await fireEvent.click(screen.getByTestId('mark-confirm'));
    await waitFor(() => expect(fake.called('mark_status')).toEqual([{ id: 'p1', status: 'moved', date: '2025-11-20' }]));
    expect((await screen.findByTestId('profile-status')).textContent).toContain('Pindah · 20/11/2025');
    expect(screen.queryByTestId('profile-mark-died')).toBeNull();
  });

  it('keeps the date and says why when Rust refuses it', async () => {
    installFake({
      profile: () => profile(),
      mark_status: () => {
        throw appError('validation.date_before_birth', 'date', { birth_date: '2020-03-01' });
      },
    });
    render(Profile, { id: 'p1' });
    await fireEvent.click(await screen.findByTestId('profile-mark-died'));
    await fireEvent.input(screen.getByTestId('mark-date'), { target: { value: '01/01/2020' } });
    await fireEvent.click(screen.getByTestId('mark-confirm'));
    expect((await screen.findByTestId('mark-date-error')).textContent).toBe('Tanggal tidak boleh sebelum tanggal lahir (01/03/2020).');
    expect((screen.getByTestId('mark-date') as HTMLInputElement).value).toBe('01/01/2020');
  });
});

describe('profile: child care and referrals', () => {
  const referral = (id: string, personId: string, status: string, reason: string) => ({
    id,
    person: personId,
    person_name: personId === 'p1' ? 'Petrus Fiktif' : 'Orang Lain',
    household: 'h1',
    posyandu: 'P01',
    reason,
    destination: 'puskesmas',
    destination_name: null,
    status,
    outcome: null,
    made_on: '2025-11-22',
    updated_on: '2025-11-23',
  });

  it('opens the growth chart, the immunisation card and a home visit of a child', async () => {
    installFake({ profile: () => profile(), referrals: () => [] });
    render(Profile, { id: 'p1' });
    await fireEvent.click(await screen.findByTestId('profile-growth'));
    expect(router.route).toEqual({ name: 'growth', id: 'p1' });
    expect(screen.getByTestId('profile-growth').textContent).toContain('Grafik pertumbuhan');
    await fireEvent.click(screen.getByTestId('profile-immunisation'));
    expect(router.route).toEqual({ name: 'immunisation', id: 'p1' });
    expect(screen.getByTestId('profile-immunisation').textContent).toContain('Kartu imunisasi');
    await fireEvent.click(screen.getByTestId('profile-home-visit'));
    expect(router.route).toEqual({ name: 'home_visit', household: 'h1', person: 'p1' });
  });

  it('offers no growth chart or card to an adult, but the home visit', async () => {
    const adult = person({ id: 'p3', name: 'Yohanes Fiktif', birth_date: '1980-05-12', age_months: 546, life_stage: 'adult', values: { relation: 'head' } });
    installFake({ profile: () => profile({ person: adult, entries: [], growth: [] }), referrals: () => [] });
    render(Profile, { id: 'p3' });
    await screen.findByTestId('profile-home-visit');
    expect(screen.queryByTestId('profile-growth')).toBeNull();
    expect(screen.queryByTestId('profile-immunisation')).toBeNull();
  });

  it('offers the growth chart of an older child weighed before five years', async () => {
    const older = person({ birth_date: '2019-01-10', age_months: 82, life_stage: 'school_adolescent' });
    const growth = [{ date: '2023-12-01', age_months: 58, weight_kg: 16.2, length_height_cm: null, assessment: null, kms: null, error_key: null }];
    installFake({ profile: () => profile({ person: older, entries: [], growth }), referrals: () => [] });
    render(Profile, { id: 'p1' });
    await screen.findByTestId('profile-growth');
    expect(screen.queryByTestId('profile-immunisation')).toBeNull();
  });

  it("lists the person's referrals with their status, each opening the referral", async () => {
    const fake = installFake({
      profile: () => profile(),
      referrals: () => [referral('r2', 'p1', 'received', 'BGM, rujuk ke puskesmas'), referral('r9', 'p9', 'made', 'Lain'), referral('r1', 'p1', 'done', 'Demam tinggi')],
    });
    render(Profile, { id: 'p1' });
    const list = await screen.findByTestId('profile-referrals');
    expect(fake.called('referrals')).toEqual([{ status: null }]);
    expect(list.querySelectorAll('button')).toHaveLength(2);
    expect(screen.getByTestId('profile-referral-r2').textContent).toContain('BGM, rujuk ke puskesmas');
    expect(screen.getByTestId('profile-referral-r2').textContent).toContain('Puskesmas · 22/11/2025');
    expect(screen.getByTestId('profile-referral-r2-status').textContent).toBe('Diterima');
    expect(screen.getByTestId('profile-referral-r1-status').textContent).toBe('Selesai');
    expect(screen.queryByTestId('profile-referral-r9')).toBeNull();
    await fireEvent.click(screen.getByTestId('profile-referral-r2'));
    expect(router.route).toEqual({ name: 'referral', id: 'r2' });
  });

  it('still shows referral records of the timeline when the list cannot be read', async () => {
    const entries = [{ id: 'r5', kind: 'referral', date: '2025-11-20', body: { reason: 'Batuk lama', destination: 'pustu', status: 'made' }, supersedes: null, superseded_by: null }];
    installFake({
      profile: () => profile({ entries }),
      referrals: () => {
        throw appError('store.locked');
      },
    });
    render(Profile, { id: 'p1' });
    expect((await screen.findByTestId('profile-referral-r5')).textContent).toContain('Batuk lama');
    expect(screen.getByTestId('profile-referral-r5-status').textContent).toBe('Dirujuk');
    expect(screen.getByTestId('profile-name').textContent).toBe('Petrus Fiktif');
  });
});

describe('households', () => {
  beforeEach(() => Object.assign(lastSearch, { query: '', dusun: '', rt: '' }));

  it('searches by name, dusun and RT, and says which members matched', async () => {
    const fake = installFake({
      search_households: (a) =>
        a.query === 'petrus' ? [{ id: 'h1', head_name: 'Yohanes Fiktif', dusun: 'Dusun 1', rt: '03', members: 3, matched_members: ['Petrus Fiktif'] }] : [],
    });
    render(Households);
    await screen.findByTestId('households-empty');
    await fireEvent.input(screen.getByTestId('households-query'), { target: { value: 'petrus' } });
    await fireEvent.input(screen.getByTestId('households-rt'), { target: { value: '03' } });
    const row = await screen.findByTestId('household-row', {}, { timeout: 2000 });
    expect(row.textContent).toContain('Anggota: Petrus Fiktif');
    expect(row.textContent).toContain('3 anggota');
    expect(fake.called('search_households').at(-1)).toEqual({ query: 'petrus', dusun: null, rt: '03' });
    await fireEvent.click(row);
    expect(router.route).toEqual({ name: 'household', id: 'h1' });
  });

  it('lists the members of a household', async () => {
    installFake({
      household: () => ({ id: 'h1', deleted: false, values: { head_name: 'Yohanes Fiktif', dusun: 'Dusun 1', rt: '03' }, members: [person(), person({ id: 'p2', name: 'Maria', sex: 'female', status: 'died', values: { relation: 'spouse' } })] }),
    });
    render(HouseholdDetail, { id: 'h1' });
    expect((await screen.findByTestId('household-head')).textContent).toBe('Yohanes Fiktif');
    const rows = screen.getAllByTestId('member-row').map((r) => r.textContent?.replace(/\s+/g, ' ').trim());
    expect(rows[0]).toContain('Anak · Laki-laki · 1 tahun 9 bulan · 14/02/2024');
    expect(rows[1]).toContain('Meninggal');
  });
});

describe('settings', () => {
  it('saves the idle lock minutes and the language', async () => {
    session.settings = { locale: 'id', idle_lock_minutes: 5 };
    const fake = installFake({ save_settings: (a) => a.settings });
    render(Settings);
    await fireEvent.click(screen.getByTestId('settings-idle-more'));
    await waitFor(() => expect(fake.called('save_settings').at(-1)).toEqual({ settings: { locale: 'id', idle_lock_minutes: 6 } }));
    expect(screen.getByTestId('settings-idle-minutes').textContent).toBe('6 menit');
    await fireEvent.click(screen.getByTestId('lang-en'));
    await waitFor(() => expect(fake.called('save_settings').at(-1)).toEqual({ settings: { locale: 'en', idle_lock_minutes: 6 } }));
    expect(screen.getByTestId('settings-idle-minutes').textContent).toBe('6 minutes');
  });
});
