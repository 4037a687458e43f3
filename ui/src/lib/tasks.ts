// What makes one due task different from its neighbours: the dose, the visit or the ANC
// contact it is about (Rust's own words, e.g. "DPT-HB-Hib 2", "KN2", "K4").
import type { Task } from './api';

const DETAIL_PARAMS = ['vaccine', 'visit', 'contact'] as const;

export function taskDetail(task: Pick<Task, 'params'>): string | null {
  for (const k of DETAIL_PARAMS) {
    const v = task.params?.[k];
    if (v) return v;
  }
  return null;
}
