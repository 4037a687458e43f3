import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDuplicateChecker } from './duplicates';
import { newMember, readyForDuplicateCheck, toHouseholdInput, toPersonInput, warningSignature } from './members';
import type { DuplicateWarning } from './api';

const warn = (existing: string): DuplicateWarning => ({ member: 0, existing, existing_name: 'Ani', reason: 'same_name_birth_date_mother' });

describe('members', () => {
  it('is ready to look for duplicates with a name and birth date, or a whole NIK', () => {
    const m = newMember();
    expect(readyForDuplicateCheck(m)).toBe(false);
    m.name = 'Ani';
    expect(readyForDuplicateCheck(m)).toBe(false);
    m.birth_date = '2020-03-14';
    expect(readyForDuplicateCheck(m)).toBe(true);
    const n = newMember();
    n.nik = '5304011403200001';
    expect(readyForDuplicateCheck(n)).toBe(true);
  });

  it('sends trimmed text and null for blanks', () => {
    const m = newMember('child');
    Object.assign(m, { name: ' Ani  ', sex: 'female', birth_date: '2020-03-14', nik: ' ' });
    expect(toPersonInput(m)).toEqual({
      name: 'Ani',
      sex: 'female',
      birth_date: '2020-03-14',
      birth_date_estimated: false,
      nik: null,
      relation: 'child',
      phone: null,
      jkn_number: null,
    });
    expect(toHouseholdInput({ posyandu: 'P', kk_number: '', head_name: ' Budi ', address: '', dusun: 'Dusun 1', rt: '01', rw: '', phone: '' })).toEqual({
      posyandu: 'P',
      kk_number: null,
      head_name: 'Budi',
      address: null,
      dusun: 'Dusun 1',
      rt: '01',
      rw: null,
      phone: null,
    });
  });

  it('ties an accepted warning to the persons it named', () => {
    expect(warningSignature([warn('b'), warn('a')])).toBe('a,b');
  });
});

describe('search before register', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('asks once after the pause, with the latest text', async () => {
    const ask = vi.fn(async () => [warn('x')]);
    const got = vi.fn();
    const c = createDuplicateChecker(ask, got, 400);
    const m = newMember();
    Object.assign(m, { name: 'An', birth_date: '2020-03-14' });
    c.changed(m);
    vi.advanceTimersByTime(200);
    m.name = 'Ani';
    c.changed(m);
    c.changed(m); // same text: no second question
    await vi.advanceTimersByTimeAsync(400);
    expect(ask).toHaveBeenCalledTimes(1);
    expect(ask.mock.calls[0]).toEqual([expect.objectContaining({ name: 'Ani', birth_date: '2020-03-14' })]);
    expect(got).toHaveBeenCalledWith(m.key, [warn('x')]);
  });

  it('drops an answer to text that has changed since', async () => {
    let release: (w: DuplicateWarning[]) => void = () => {};
    const ask = vi.fn(() => new Promise<DuplicateWarning[]>((r) => (release = r)));
    const got = vi.fn();
    const c = createDuplicateChecker(ask, got, 10);
    const m = newMember();
    Object.assign(m, { name: 'Ani', birth_date: '2020-03-14' });
    c.changed(m);
    await vi.advanceTimersByTimeAsync(10);
    m.birth_date = '2020-03-15';
    c.changed(m);
    release([warn('old')]);
    await vi.advanceTimersByTimeAsync(0);
    expect(got).not.toHaveBeenCalledWith(m.key, [warn('old')]);
  });

  it('clears the warning when too little is typed', () => {
    const got = vi.fn();
    const c = createDuplicateChecker(vi.fn(), got);
    const m = newMember();
    c.changed(m);
    expect(got).toHaveBeenCalledWith(m.key, []);
  });
});
