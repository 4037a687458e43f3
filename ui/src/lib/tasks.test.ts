import { describe, expect, it } from 'vitest';
import { taskDetail } from './tasks';

describe('taskDetail', () => {
  it('names the dose of a vaccine task', () => {
    expect(taskDetail({ params: { vaccine: 'DPT-HB-Hib 2', dose_id: 'dpt_hb_hib_2' } })).toBe('DPT-HB-Hib 2');
  });
  it('names the newborn visit and the ANC contact', () => {
    expect(taskDetail({ params: { visit: 'KN2', from: '2026-11-20', until: '2026-11-30' } })).toBe('KN2');
    expect(taskDetail({ params: { contact: 'K4', by_doctor: 'false' } })).toBe('K4');
  });
  it('adds nothing when the reason says it all', () => {
    expect(taskDetail({ params: { last_attended: '2026-10-01' } })).toBeNull();
    expect(taskDetail({ params: {} })).toBeNull();
  });
});
