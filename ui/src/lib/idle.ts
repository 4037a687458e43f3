// Locks the app after a quiet spell: any touch, click or key starts the count again.
// Timers may sleep while the tablet's screen is off, so the time is also checked when
// the app becomes visible again.

export const ACTIVITY_EVENTS = ['pointerdown', 'keydown', 'touchstart', 'wheel', 'input'] as const;

export interface IdleOptions {
  minutes: number;
  onIdle: () => void;
  target?: EventTarget;
  now?: () => number;
}

export interface IdleTimer {
  /** Counts from now again (also done on every activity event). */
  reset(): void;
  setMinutes(minutes: number): void;
  stop(): void;
}

export function clampMinutes(m: number): number {
  if (!Number.isFinite(m)) return 5;
  return Math.min(60, Math.max(1, Math.round(m)));
}

export function startIdleTimer(opts: IdleOptions): IdleTimer {
  const target = opts.target ?? window;
  const now = opts.now ?? Date.now;
  let limitMs = clampMinutes(opts.minutes) * 60_000;
  let last = now();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  const fire = () => {
    if (stopped) return;
    const quiet = now() - last;
    if (quiet >= limitMs) {
      stop();
      opts.onIdle();
    } else {
      schedule(limitMs - quiet);
    }
  };
  const schedule = (ms: number) => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(fire, ms);
  };
  const reset = () => {
    if (stopped) return;
    last = now();
    schedule(limitMs);
  };
  const onVisible = () => {
    if (typeof document !== 'undefined' && document.visibilityState === 'visible') fire();
  };
  const stop = () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    for (const e of ACTIVITY_EVENTS) target.removeEventListener(e, reset);
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onVisible);
  };

  for (const e of ACTIVITY_EVENTS) target.addEventListener(e, reset, { passive: true });
  if (typeof document !== 'undefined') document.addEventListener('visibilitychange', onVisible);
  schedule(limitMs);

  return {
    reset,
    setMinutes(m: number) {
      limitMs = clampMinutes(m) * 60_000;
      reset();
    },
    stop,
  };
}

/** Tells the shell about touches (its own idle lock counts from the last one reported),
 *  at most once per `everyMs`; returns the function that stops it. */
export function reportTouches(
  send: () => void,
  { everyMs = 10_000, target = window as EventTarget, now = Date.now }: { everyMs?: number; target?: EventTarget; now?: () => number } = {},
): () => void {
  let last = -Infinity;
  const onTouch = () => {
    const t = now();
    if (t - last >= everyMs) {
      last = t;
      send();
    }
  };
  const events = ['pointerdown', 'keydown'] as const;
  for (const e of events) target.addEventListener(e, onTouch, { passive: true });
  return () => {
    for (const e of events) target.removeEventListener(e, onTouch);
  };
}
