import { describe, expect, it } from 'vitest';
import { taskDetail, taskFacts } from './tasks';

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

describe('taskFacts', () => {
  it('gives the window of a newborn visit and the HPL as dates', () => {
    expect(taskFacts({ params: { visit: 'KN2', from: '2026-11-20', until: '2026-11-30' } })).toEqual([
      { key: 'due.fact.window', params: { from: '20/11/2026', until: '30/11/2026' } },
    ]);
    expect(taskFacts({ params: { contact: 'K4', by_doctor: 'false', hpl: '2026-03-01' } })).toEqual([{ key: 'due.fact.hpl', params: { date: '01/03/2026' } }]);
  });
  it('gives the last weighing in kg, the last attendance and the catch-up limit', () => {
    expect(taskFacts({ params: { weighed_on: '2025-11-01', weight_g: '8450', finding: 'bgm' } })).toEqual([
      { key: 'due.fact.weighed_kg', params: { date: '01/11/2025', kg: '8,45' } },
    ]);
    expect(taskFacts({ params: { last_attended: '2025-09-10' } })[0]).toEqual({ key: 'due.fact.last_attended', params: { date: '10/09/2025' } });
    expect(taskFacts({ params: { vaccine: 'BCG', dose_id: 'BCG', allowed_until: '2026-01-14' } })).toEqual([
      { key: 'due.fact.allowed_until', params: { date: '14/01/2026' } },
    ]);
    expect(taskFacts({ params: {} })).toEqual([]);
  });
});
