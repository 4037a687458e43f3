import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import DateField from './DateField.svelte';
import { setLocale } from '../lib/i18n';

describe('DateField', () => {
  it('reads dd/mm/yyyy typing as an ISO date', async () => {
    const onchange = vi.fn();
    render(DateField, { testid: 'birth', label: 'Tanggal lahir', onchange });
    const input = screen.getByTestId('birth') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: '14032020' } });
    expect(input.value).toBe('14/03/2020');
    expect(onchange).toHaveBeenLastCalledWith('2020-03-14');
  });

  it('keeps text that is not a date and says why after leaving the field', async () => {
    const onchange = vi.fn();
    render(DateField, { testid: 'birth', label: 'Tanggal lahir', onchange });
    const input = screen.getByTestId('birth') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: '31/02/2020' } });
    expect(onchange).toHaveBeenLastCalledWith('');
    expect(screen.queryByTestId('birth-error')).toBeNull();
    await fireEvent.blur(input);
    expect(input.value).toBe('31/02/2020');
    expect(screen.getByTestId('birth-error').textContent).toContain('hh/bb/tttt');
    expect(input.getAttribute('aria-invalid')).toBe('true');
  });

  it('shows a given ISO value as dd/mm/yyyy, and English hints', () => {
    setLocale('en');
    render(DateField, { testid: 'd', label: 'Date', value: '2025-11-22' });
    expect((screen.getByTestId('d') as HTMLInputElement).value).toBe('22/11/2025');
    expect((screen.getByTestId('d') as HTMLInputElement).placeholder).toBe('dd/mm/yyyy');
  });
});
