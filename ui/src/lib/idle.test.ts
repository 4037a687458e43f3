import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clampMinutes, reportTouches, startIdleTimer } from './idle';

describe('idle lock', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('locks after the configured minutes without activity', () => {
    const onIdle = vi.fn();
    startIdleTimer({ minutes: 2, onIdle });
    vi.advanceTimersByTime(119_000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(600_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('counts again from each touch or key', () => {
    const onIdle = vi.fn();
    const target = new EventTarget();
    startIdleTimer({ minutes: 1, onIdle, target });
    vi.advanceTimersByTime(50_000);
    target.dispatchEvent(new Event('pointerdown'));
    vi.advanceTimersByTime(50_000);
    target.dispatchEvent(new Event('keydown'));
    vi.advanceTimersByTime(59_000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('takes a new limit and can be stopped', () => {
    const onIdle = vi.fn();
    const timer = startIdleTimer({ minutes: 10, onIdle });
    timer.setMinutes(1);
    vi.advanceTimersByTime(60_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
    const other = vi.fn();
    const t2 = startIdleTimer({ minutes: 1, onIdle: other });
    t2.stop();
    vi.advanceTimersByTime(120_000);
    expect(other).not.toHaveBeenCalled();
  });

  it('locks on return when the timer slept longer than the limit', () => {
    let now = 0;
    const onIdle = vi.fn();
    startIdleTimer({ minutes: 5, onIdle, now: () => now });
    now = 10 * 60_000; // the screen was off; no timer ran
    document.dispatchEvent(new Event('visibilitychange'));
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('keeps minutes within 1–60', () => {
    expect(clampMinutes(0)).toBe(1);
    expect(clampMinutes(90)).toBe(60);
    expect(clampMinutes(Number.NaN)).toBe(5);
    expect(clampMinutes(4.6)).toBe(5);
  });
});

describe('touches reported to the shell', () => {
  it('sends at most one per interval', () => {
    let now = 0;
    const send = vi.fn();
    const target = new EventTarget();
    const stop = reportTouches(send, { everyMs: 10_000, target, now: () => now });
    target.dispatchEvent(new Event('pointerdown'));
    now = 4_000;
    target.dispatchEvent(new Event('keydown'));
    expect(send).toHaveBeenCalledTimes(1);
    now = 10_000;
    target.dispatchEvent(new Event('pointerdown'));
    expect(send).toHaveBeenCalledTimes(2);
    stop();
    now = 30_000;
    target.dispatchEvent(new Event('pointerdown'));
    expect(send).toHaveBeenCalledTimes(2);
  });
});
