import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import PregnancyCard from './PregnancyCard.svelte';
import { appError, installFake } from '../test/fake';
import type { PersonSummary } from '../lib/api';

const maria: PersonSummary = {
  id: 'p-maria',
  posyandu: 'P01',
  household: 'h1',
  name: 'Maria Fiktif',
  sex: 'female',
  birth_date: '1996-05-01',
  birth_date_estimated: false,
  nik: null,
  mother: null,
  status: 'active',
  age_months: 354,
  life_stage: 'adult',
  values: {},
};

const type = (testid: string, value: string) => fireEvent.input(screen.getByTestId(testid), { target: { value } });

describe('PregnancyCard', () => {
  it('records a pregnancy with HPHT, gravida and para', async () => {
    const fake = installFake({ start_pregnancy: () => 'preg-1' });
    const onsaved = vi.fn();
    render(PregnancyCard, { person: maria, pregnancies: [], onsaved });
    await fireEvent.click(screen.getByTestId('pregnancy-start'));
    await type('pregnancy-hpht-input', '01/09/2025');
    await type('pregnancy-gravida', '2');
    await type('pregnancy-para', '1');
    await fireEvent.click(screen.getByTestId('pregnancy-save'));
    await waitFor(() => expect(onsaved).toHaveBeenCalled());
    expect(fake.called('start_pregnancy')).toEqual([{ person: 'p-maria', input: { hpht: '2025-09-01', gravida: 2, para: 1 } }]);
  });

  it('keeps what was typed and shows the refusal at its field', async () => {
    installFake({ start_pregnancy: () => Promise.reject(appError('validation.date_in_future', 'hpht')) });
    const onsaved = vi.fn();
    render(PregnancyCard, { person: maria, pregnancies: [], onsaved });
    await fireEvent.click(screen.getByTestId('pregnancy-start'));
    await type('pregnancy-hpht-input', '01/09/2099');
    await type('pregnancy-gravida', '3');
    await fireEvent.click(screen.getByTestId('pregnancy-save'));
    await waitFor(() => expect(screen.getByTestId('pregnancy-hpht-input-error')).toBeTruthy());
    expect((screen.getByTestId('pregnancy-gravida') as HTMLInputElement).value).toBe('3');
    expect((screen.getByTestId('pregnancy-hpht-input') as HTMLInputElement).value).toBe('01/09/2099');
    expect(onsaved).not.toHaveBeenCalled();
  });

  it('refuses a gravida that is not a whole number before asking Rust', async () => {
    const fake = installFake({ start_pregnancy: () => 'x' });
    render(PregnancyCard, { person: maria, pregnancies: [], onsaved: () => {} });
    await fireEvent.click(screen.getByTestId('pregnancy-start'));
    await type('pregnancy-gravida', '1,5');
    await fireEvent.click(screen.getByTestId('pregnancy-save'));
    await waitFor(() => expect(screen.getByTestId('pregnancy-gravida-error')).toBeTruthy());
    expect(fake.called('start_pregnancy')).toEqual([]);
  });

  it('shows the ongoing pregnancy instead of the form, and nothing for men or girls', () => {
    const { unmount } = render(PregnancyCard, {
      person: maria,
      pregnancies: [{ id: 'g1', status: 'ongoing', hpht: '2025-09-01', gravida: 2 }],
      onsaved: () => {},
    });
    expect(screen.getByTestId('pregnancy-hpht').textContent).toBe('01/09/2025');
    expect(screen.queryByTestId('pregnancy-start')).toBeNull();
    unmount();
    render(PregnancyCard, { person: { ...maria, sex: 'male' }, pregnancies: [], onsaved: () => {} });
    expect(screen.queryByTestId('pregnancy-start')).toBeNull();
  });

  it("shows Rust's reading of the pregnancy: age, HPL, trimester, ANC done and due, KEK, anaemia", async () => {
    installFake({
      pregnancy_view: () => ({
        hpht: '2025-09-01',
        hpl: '2026-06-08',
        weeks: 16,
        days: 3,
        trimester: 'Second',
        past_hpl: false,
        contacts: [
          { k: 1, trimester: 'Second', doctor: true, state: { state: 'done', date: '2025-12-20' } },
          { k: 2, trimester: 'Second', doctor: false, state: { state: 'due', by: '2026-02-16' } },
          { k: 3, trimester: 'Third', doctor: false, state: { state: 'not_yet_due', from: '2026-02-17', by: '2026-06-08' } },
        ],
        done: 1,
        minimum: 6,
        trimesters: [{ trimester: 'First', required: 1, done: 0, from: '2025-09-01', by: '2025-11-24', state: { state: 'short', missing: 1 } }],
        schedule: 'anc-1-2-3-permenkes-21-2021-v1',
        lila: { date: '2025-12-20', value: 22.5 },
        kek: true,
        hb: { date: '2025-12-20', value: 10.8 },
        anaemia: true,
        anaemia_source: 'Kemenkes',
      }),
    });
    render(PregnancyCard, { person: maria, pregnancies: [{ id: 'g1', status: 'ongoing', hpht: '2025-09-01' }], onsaved: () => {} });
    await waitFor(() => expect(screen.getByTestId('pregnancy-ga').textContent).toBe('16 minggu 3 hari'));
    expect(screen.getByTestId('pregnancy-hpl').textContent).toBe('08/06/2026');
    expect(screen.getByTestId('pregnancy-trimester').textContent).toBe('Trimester 2');
    expect(screen.getByTestId('pregnancy-kek').textContent?.trim()).toBe('KEK: LiLA 22,5 cm (20/12/2025)');
    expect(screen.getByTestId('pregnancy-anaemia').textContent?.trim()).toBe('Anemia: Hb 10,8 g/dL (20/12/2025)');
    expect(screen.getByTestId('pregnancy-anc-count').textContent).toBe('1 dari minimal 6 kali');
    expect(screen.getByTestId('pregnancy-anc-k1').textContent).toBe('K1: sudah, 20/12/2025 (oleh dokter)');
    expect(screen.getByTestId('pregnancy-anc-k2').textContent).toBe('K2: harus sebelum 16/02/2026');
    expect(screen.getByTestId('pregnancy-anc-short-1').textContent).toBe('Trimester 1: kurang 1 kali pemeriksaan');
  });

  it('shows her Td status from Rust', async () => {
    installFake({
      pregnancy_view: () => null,
      td_status: () => ({
        status: 2,
        last_dose: null,
        source: 'told',
        protection_years: 3,
        next: { state: 'due', next: 3 },
        table: 'td-wus-permenkes-12-2017-v1',
        label: { key: 'td.state.due', id: '', en: '' },
        offer: 'Td T3',
        earlier_vaccine: null,
        records: [],
        source_text: '',
      }),
    });
    render(PregnancyCard, { person: maria, pregnancies: [{ id: 'g1', status: 'ongoing', hpht: '2025-09-01' }], onsaved: () => {} });
    await waitFor(() => expect(screen.getByTestId('pregnancy-td').textContent).toContain('Status imunisasi Td: T2 · dosis berikutnya T3 hari ini'));
    expect(screen.getByTestId('pregnancy-td').textContent).toContain('menurut keterangan ibu');
  });
});
