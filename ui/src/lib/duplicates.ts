// Search before register: as a member's name and birth date are typed, ask Rust (after a
// short pause) whether the person may already be registered. Answers to older text are
// dropped.
import type { DuplicateWarning, PersonInput } from './api';
import { duplicateQueryKey, readyForDuplicateCheck, toPersonInput, type MemberDraft } from './members';

export interface DuplicateChecker {
  /** The member changed: check again after the pause (or clear if not enough is typed). */
  changed(d: MemberDraft): void;
  /** Stop timers (screen closed). */
  stop(): void;
}

export function createDuplicateChecker(
  ask: (p: PersonInput) => Promise<DuplicateWarning[]>,
  onResult: (key: number, warnings: DuplicateWarning[]) => void,
  delayMs = 400,
): DuplicateChecker {
  const timers = new Map<number, ReturnType<typeof setTimeout>>();
  const latest = new Map<number, string>();

  return {
    changed(d) {
      const ready = readyForDuplicateCheck(d);
      const q = duplicateQueryKey(d);
      // The same text is already asked (or answered): nothing to do.
      if (ready && latest.get(d.key) === q) return;
      const prev = timers.get(d.key);
      if (prev) clearTimeout(prev);
      if (!ready) {
        latest.delete(d.key);
        onResult(d.key, []);
        return;
      }
      latest.set(d.key, q);
      const input = toPersonInput(d);
      timers.set(
        d.key,
        setTimeout(() => {
          timers.delete(d.key);
          ask(input).then(
            (ws) => {
              if (latest.get(d.key) === q) onResult(d.key, ws);
            },
            () => {
              // A failed check is no warning; saving checks again in Rust.
              if (latest.get(d.key) === q) latest.delete(d.key);
            },
          );
        }, delayMs),
      );
    },
    stop() {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
