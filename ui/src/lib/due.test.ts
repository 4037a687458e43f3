import { describe, expect, it } from 'vitest';
import { dueRoute, distinct, groupCounts, inGroups, placeChoices, placeText, todaySession } from './due';
import type { PosyanduOptions, SessionRef } from './api-health';

const child = { id: 'p-child', household: 'h-1', posyandu: 'P01' };
const loner = { id: 'p-loner', household: null, posyandu: 'P01' };
const session = (over: Partial<SessionRef> = {}): SessionRef => ({
  id: 's-today',
  posyandu: 'P01',
  posyandu_name: 'Posyandu Mawar',
  date: '2025-11-22',
  service_order: 'services_first',
  ...over,
});
const options = (sessions: SessionRef[]): PosyanduOptions => ({
  today: '2025-11-22',
  posyandu: [{ code: 'P01', name: 'Posyandu Mawar' }],
  sessions,
});

describe('dueRoute: the form of a due entry as a screen', () => {
  it('opens the measurement of today’s posyandu day, or the posyandu start screen', () => {
    expect(dueRoute('posyandu_measurement', child, options([session()]))).toEqual({ name: 'attendance', session: 's-today', person: 'p-child' });
    // An older session is not today's.
    expect(dueRoute('posyandu_measurement', child, options([session({ id: 's-old', date: '2025-10-20' })]))).toEqual({ name: 'posyandu' });
    // Today's session of another posyandu is not the child's.
    expect(dueRoute('posyandu_measurement', child, options([session({ posyandu: 'P02' })]))).toEqual({ name: 'posyandu' });
    expect(dueRoute('posyandu_measurement', child, null)).toEqual({ name: 'posyandu' });
  });

  it('opens the immunisation card', () => {
    expect(dueRoute('immunisation', child)).toEqual({ name: 'immunisation', id: 'p-child' });
  });

  it('opens the home visit of the household for the person (ANC and referral too)', () => {
    for (const form of ['home_visit', 'anc', 'referral'] as const) {
      expect(dueRoute(form, child)).toEqual({ name: 'home_visit', household: 'h-1', person: 'p-child' });
      // No household: the profile instead.
      expect(dueRoute(form, loner)).toEqual({ name: 'profile', id: 'p-loner' });
    }
  });

  it('opens the profile to correct a record', () => {
    expect(dueRoute('correct_record', child)).toEqual({ name: 'profile', id: 'p-child' });
  });
});

describe('todaySession', () => {
  it('takes any of today’s sessions for a person of no posyandu', () => {
    expect(todaySession(options([session({ id: 'a', date: '2025-11-21' }), session({ id: 'b', posyandu: 'P02' })]), { posyandu: null })?.id).toBe('b');
  });
});

describe('due list filters', () => {
  const entries = [
    { group: 'vaccines', dusun: 'Naitimu A', rt: '001' },
    { group: 'vaccines', dusun: 'naitimu a ', rt: '002' },
    { group: 'anc', dusun: 'Dusun 2', rt: '010' },
    { group: 'tb', dusun: null, rt: null },
  ] as const;

  it('counts the entries of each group, zero for the others', () => {
    const c = groupCounts([...entries]);
    expect(c.vaccines).toBe(2);
    expect(c.anc).toBe(1);
    expect(c.tb).toBe(1);
    expect(c.growth).toBe(0);
    expect(Object.keys(c)).toHaveLength(8);
  });

  it('keeps Rust’s order when narrowing to groups', () => {
    expect(inGroups([...entries], ['tb', 'vaccines']).map((e) => e.rt)).toEqual(['001', '002', null]);
    expect(inGroups([...entries], [])).toHaveLength(4);
  });

  it('offers each dusun once, and the RTs of the chosen dusun', () => {
    const households = [
      { dusun: 'Dusun 2', rt: '011' },
      { dusun: 'Kampung Baru', rt: '3' },
    ];
    const all = placeChoices([...entries], households, '');
    expect(all.dusun).toEqual(['Dusun 2', 'Kampung Baru', 'Naitimu A']);
    expect(all.rt).toEqual(['001', '002', '3', '010', '011']);
    expect(placeChoices([...entries], households, 'NAITIMU A').rt).toEqual(['001', '002']);
    expect(distinct([' a ', 'A', '', null])).toEqual(['a']);
  });

  it('writes the place of a row', () => {
    expect(placeText('Naitimu A', '003', 'RT')).toBe('Naitimu A · RT 003');
    expect(placeText(null, '003', 'RT')).toBe('RT 003');
    expect(placeText(null, null, 'RT')).toBe('');
  });
});
