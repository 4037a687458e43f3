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
});
