// The vaccine vial's lot and expiry, asked once per posyandu day per vaccine and prefilled
// for the next child; oedema at a weighing.
import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import Attendance from './Attendance.svelte';
import { installFake, type Fake } from '../../test/fake';
import { router } from '../../lib/router.svelte';
import { setLocale } from '../../lib/i18n';
import { CHILD, SESSION, card, checkT, day, options, summary } from './fixtures';
import { loadVials, rememberVials, vialErrors, withVials } from '../../lib/vials';

async function type(testid: string, value: string) {
  await fireEvent.input(screen.getByTestId(testid), { target: { value } });
}
const value = (testid: string) => (screen.getByTestId(testid) as HTMLInputElement).value;

function fake(): Fake {
  return installFake({
    posyandu_options: () => options(),
    posyandu_day: () => day(),
    immunisation_card: () => card(),
    assess_measurement: () => checkT(),
    record_attendance: () => ({ visit: 'v-1', saved: { measurements: [], immunisations: ['i-1'], supplements: [], screenings: [], referral: null } }),
    session_summary: () => summary(),
  });
}

beforeEach(() => {
  localStorage.clear();
  router.route = { name: 'home' };
  setLocale('id');
});

describe('Attendance: the vial of each vaccine', () => {
  it('asks the lot and expiry once, sends them with the dose, and prefills them for the next child', async () => {
    const f = fake();
    const first = render(Attendance, { session: SESSION, person: CHILD.id });
    await fireEvent.click(await screen.findByTestId('att-dose-MR1'));
    // One vial row per vaccine ticked.
    expect(screen.getByTestId('att-vial-MR')).toBeTruthy();
    expect(screen.queryByTestId('att-vial-OPV')).toBeNull();
    await type('att-vial-MR-lot', 'MR24-0917');
    await type('att-vial-MR-expiry', '31/12/2026');
    await fireEvent.click(screen.getByTestId('att-save'));
    await waitFor(() => expect(f.called('record_attendance')).toHaveLength(1));
    expect(f.called('record_attendance')[0].input).toMatchObject({
      immunisations: [{ vaccine: 'MR1', catch_up: false, batch: 'MR24-0917', expiry: '2026-12-31' }],
    });
    first.unmount();

    // The next child of the same day: the MR vial is filled in, and still editable.
    render(Attendance, { session: SESSION, person: CHILD.id });
    await fireEvent.click(await screen.findByTestId('att-dose-MR1'));
    await waitFor(() => expect(value('att-vial-MR-lot')).toBe('MR24-0917'));
    expect(value('att-vial-MR-expiry')).toBe('31/12/2026');
    expect(screen.getByTestId('att-vial-MR-remembered').textContent).toContain('Terisi dari anak sebelumnya');
    await type('att-vial-MR-lot', 'MR24-1002');
    expect(screen.queryByTestId('att-vial-MR-remembered')).toBeNull();
    await fireEvent.click(screen.getByTestId('att-save'));
    await waitFor(() => expect(f.called('record_attendance')).toHaveLength(2));
    expect(f.called('record_attendance')[1].input).toMatchObject({
      immunisations: [{ vaccine: 'MR1', batch: 'MR24-1002', expiry: '2026-12-31' }],
    });
    expect(loadVials(SESSION).MR).toEqual({ lot: 'MR24-1002', expiry: '31/12/2026' });
  });

  it('refuses an expired or unreadable expiry on the tablet and keeps what was typed', async () => {
    const f = fake();
    render(Attendance, { session: SESSION, person: CHILD.id });
    await fireEvent.click(await screen.findByTestId('att-dose-MR1'));
    await type('att-vial-MR-lot', 'MR24-0917');
    await type('att-vial-MR-expiry', '30/09/2025');
    await fireEvent.click(screen.getByTestId('att-save'));
    expect((await screen.findByTestId('att-form-error')).textContent).toContain('Periksa isian yang ditandai merah');
    expect(screen.getByTestId('att-vial-MR-expiry').getAttribute('aria-invalid')).toBe('true');
    expect(document.body.textContent).toContain('Vaksin sudah kedaluwarsa (30/09/2025)');
    expect(value('att-vial-MR-expiry')).toBe('30/09/2025');
    expect(value('att-vial-MR-lot')).toBe('MR24-0917');
    await type('att-vial-MR-expiry', '31/02/2026');
    await fireEvent.click(screen.getByTestId('att-save'));
    await waitFor(() => expect(document.body.textContent).toContain('bukan tanggal yang sah'));
    expect(f.called('record_attendance')).toEqual([]);
    // In English too, from the same error.
    setLocale('en');
    await waitFor(() => expect(document.body.textContent).toContain('is not a valid date'));
  });
});

describe('Attendance: oedema at the weighing', () => {
  it('sends oedema with the weight, and asks Rust about it', async () => {
    const f = fake();
    render(Attendance, { session: SESSION, person: CHILD.id });
    await screen.findByTestId('att-weight');
    await type('att-weight', '7,2');
    await fireEvent.click(screen.getByTestId('att-oedema'));
    await fireEvent.click(screen.getByTestId('att-check'));
    await waitFor(() => expect(f.called('assess_measurement')).toHaveLength(1));
    expect(f.called('assess_measurement')[0]).toMatchObject({ measurements: [{ type: 'weight', value: 7.2, unit: 'kg', oedema: true }] });
    await fireEvent.click(screen.getByTestId('att-save'));
    await waitFor(() => expect(f.called('record_attendance')).toHaveLength(1));
    expect(f.called('record_attendance')[0].input).toMatchObject({ measurements: [{ type: 'weight', value: 7.2, unit: 'kg', oedema: true }] });
  });
});

describe('vials.ts', () => {
  it('prefills only what the day remembers, and keeps what is on the form', () => {
    const remembered = { MR: { lot: 'A1', expiry: '31/12/2026' } };
    expect(withVials({}, ['MR', 'OPV'], remembered)).toEqual({ MR: { lot: 'A1', expiry: '31/12/2026' }, OPV: { lot: '', expiry: '' } });
    const typed = { MR: { lot: 'B2', expiry: '' } };
    expect(withVials(typed, ['MR'], remembered)).toEqual(typed);
  });

  it('checks the lot length and the expiry against the day', () => {
    const v = { MR: { lot: 'x'.repeat(41), expiry: '21/11/2025' }, OPV: { lot: 'ok', expiry: '22/11/2025' } };
    const e = vialErrors(v, ['MR', 'OPV'], '2025-11-22');
    expect(Object.keys(e).sort()).toEqual(['vial.MR.expiry', 'vial.MR.lot']);
    expect(e['vial.MR.expiry'].key).toBe('validation.vial_expired');
  });

  it('remembers per posyandu day and forgets days older than a week', () => {
    const day0 = Date.UTC(2025, 10, 1);
    rememberVials('old', { MR: { lot: 'L1', expiry: '' } }, day0);
    rememberVials('today', { MR: { lot: 'L2', expiry: '' } }, day0 + 8 * 24 * 3600 * 1000);
    expect(loadVials('old')).toEqual({});
    expect(loadVials('today')).toEqual({ MR: { lot: 'L2', expiry: '' } });
    // An empty entry does not wipe what the day remembers.
    rememberVials('today', { MR: { lot: ' ', expiry: '' } }, day0 + 8 * 24 * 3600 * 1000);
    expect(loadVials('today').MR.lot).toBe('L2');
  });
});
