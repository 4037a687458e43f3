import { describe, expect, it } from 'vitest';
import { formatAge, formatDate, formatDateTime, formatTime, formatWhen, isoDateIn, maskDateInput, parseDate, zoneAbbrev } from './format';
import { setLocale } from './i18n';

const WITA = 'Asia/Makassar';

describe('dates as dd/mm/yyyy', () => {
  it('shows ISO dates as dd/mm/yyyy', () => {
    expect(formatDate('2024-06-02')).toBe('02/06/2024');
    expect(formatDate('2024-06-02T10:00:00Z')).toBe('02/06/2024');
    expect(formatDate(null)).toBe('');
    expect(formatDate('soon')).toBe('soon');
  });

  it.each([
    ['14/03/2020', '2020-03-14'],
    ['1/3/2020', '2020-03-01'],
    ['14-03-2020', '2020-03-14'],
    ['14.03.2020', '2020-03-14'],
    ['14032020', '2020-03-14'],
    [' 29/02/2024 ', '2024-02-29'],
  ])('reads %s', (typed, iso) => {
    expect(parseDate(typed)).toBe(iso);
  });

  it.each(['29/02/2023', '31/04/2020', '00/01/2020', '12/13/2020', '2020-03-14', '14/03/20', '', 'abc'])('refuses %s', (typed) => {
    expect(parseDate(typed)).toBeNull();
  });

  it('puts slashes in while digits are typed', () => {
    expect(maskDateInput('1')).toBe('1');
    expect(maskDateInput('140')).toBe('14/0');
    expect(maskDateInput('1403')).toBe('14/03');
    expect(maskDateInput('14032')).toBe('14/03/2');
    expect(maskDateInput('140320201')).toBe('14/03/2020');
    expect(maskDateInput('1/3/2020')).toBe('1/3/2020');
    // Key by key: each keystroke lands after the slashes the mask already put in.
    let text = '';
    for (const k of '14032020') text = maskDateInput(text + k);
    expect(text).toBe('14/03/2020');
    expect(maskDateInput('14/032')).toBe('14/03/2');
    expect(maskDateInput('14/03/2020')).toBe('14/03/2020');
  });
});

describe('times in the device zone', () => {
  // 22 Nov 2025 06:05 UTC is 14:05 in Belu (WITA, UTC+8).
  const ms = Date.UTC(2025, 10, 22, 6, 5);

  it('names the Indonesian zones', () => {
    expect(zoneAbbrev('Asia/Makassar')).toBe('WITA');
    expect(zoneAbbrev('Asia/Jakarta')).toBe('WIB');
    expect(zoneAbbrev('Asia/Jayapura')).toBe('WIT');
    expect(zoneAbbrev('UTC')).toBe('UTC');
  });

  it('formats a time in WITA, Indonesian and English style', () => {
    expect(formatTime(ms, WITA)).toBe('14.05 WITA');
    setLocale('en');
    expect(formatTime(ms, WITA)).toBe('14:05 WITA');
    expect(formatDateTime(ms, WITA)).toBe('22/11/2025 14:05 WITA');
  });

  it('uses the zone for the calendar date', () => {
    const lateUtc = Date.UTC(2025, 10, 21, 16, 30); // 00:30 on the 22nd in WITA
    expect(isoDateIn(lateUtc, WITA)).toBe('2025-11-22');
    expect(isoDateIn(lateUtc, 'UTC')).toBe('2025-11-21');
    expect(formatDateTime(lateUtc, WITA)).toBe('22/11/2025 00.30 WITA');
  });

  it('says "today" for a moment of the same day', () => {
    expect(formatWhen(ms, ms + 3_600_000, WITA)).toBe('hari ini 14.05 WITA');
    expect(formatWhen(ms, ms + 86_400_000, WITA)).toBe('22/11/2025 14.05 WITA');
  });

  it('takes the device zone by default (TZ=Asia/Makassar in the test run)', () => {
    expect(formatTime(ms)).toBe('14.05 WITA');
  });
});

describe('ages', () => {
  it('counts months, then years and months, then years', () => {
    expect(formatAge(0)).toBe('0 bulan');
    expect(formatAge(11)).toBe('11 bulan');
    expect(formatAge(12)).toBe('1 tahun');
    expect(formatAge(27)).toBe('2 tahun 3 bulan');
    expect(formatAge(70)).toBe('5 tahun');
    expect(formatAge(null)).toBe('');
    setLocale('en');
    expect(formatAge(27)).toBe('2 years 3 months');
    expect(formatAge(1)).toBe('1 month');
    expect(formatAge(13)).toBe('1 year 1 month');
    expect(formatAge(12)).toBe('1 year');
  });
});
