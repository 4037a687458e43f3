import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Attendance from './Attendance.svelte';
import { installFake } from '../../test/fake';
import type { AttendanceInput } from '../../lib/api-posyandu';
import type { TdEarlier, TdView } from '../../lib/td';
import { MOTHER, SESSION, card, day, summary } from './fixtures';

/** Rust's answer as `td_status` gives it: T0 alone; with her answer T2, T3 due today. */
function tdAnswer(earlier: TdEarlier | null): TdView {
  const base: TdView = {
    status: 0,
    last_dose: null,
    source: null,
    protection_years: null,
    next: { state: 'due', next: 1 },
    table: 'td-wus-permenkes-12-2017-v1',
    label: { key: 'td.state.due', id: '', en: '' },
    offer: 'Td T1',
    earlier_vaccine: null,
    records: [],
    source_text: '',
  };
  if (!earlier) return base;
  return { ...base, status: 2, source: 'told', protection_years: 3, next: { state: 'due', next: 3 }, offer: 'Td T3', earlier_vaccine: 'Td T2 (kata ibu)' };
}

const text = (testid: string) => screen.getByTestId(testid).textContent?.replace(/\s+/g, ' ').trim() ?? '';

describe('Attendance: Td for a pregnant woman', () => {
  it('asks her earlier status T, shows the next dose in words and saves both', async () => {
    const f = installFake({
      posyandu_day: () => day(),
      immunisation_card: () => card(),
      session_summary: () => summary(),
      td_status: (args) => tdAnswer((args.earlier as TdEarlier | null) ?? null),
      record_attendance: () => ({ visit: 'v-1', saved: { measurements: [], immunisations: ['i-1', 'i-2'], supplements: [], screenings: [], referral: null } }),
    });
    render(Attendance, { session: SESSION, person: MOTHER.id });
    await waitFor(() => expect(text('att-td-status')).toBe('Status imunisasi Td: T0 · dosis berikutnya T1 hari ini'));
    const on = day().session.date;
    expect(f.called('td_status')[0]).toEqual({ person: MOTHER.id, on, earlier: null });

    await fireEvent.click(screen.getByTestId('att-td-earlier-2'));
    await waitFor(() => expect(text('att-td-status')).toBe('Status imunisasi Td: T2 · dosis berikutnya T3 hari ini'));
    expect(f.called('td_status').slice(-1)[0]).toEqual({ person: MOTHER.id, on, earlier: { status: 2, source: 'told' } });
    expect(text('att-td-source-text')).toBe('menurut keterangan ibu');
    expect(text('att-td')).toContain('Berikan Td T3 hari ini');
    // The Buku KIA asks for the day of that dose.
    await fireEvent.click(screen.getByTestId('att-td-source-buku_kia'));
    expect(screen.getByTestId('att-td-date')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('att-td-source-told'));
    await waitFor(() => expect(text('att-td-status')).toContain('T3 hari ini'));

    await fireEvent.click(screen.getByTestId('att-td-give'));
    await fireEvent.click(screen.getByTestId('att-save'));
    await waitFor(() => expect(f.called('record_attendance')).toHaveLength(1));
    const input = f.called('record_attendance')[0].input as AttendanceInput;
    expect(input.immunisations).toEqual([{ vaccine: 'Td T2 (kata ibu)' }, { vaccine: 'Td T3' }]);
  });
});
