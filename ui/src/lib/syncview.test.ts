import { describe, expect, it } from 'vitest';
import { chipState } from './syncview';
import { progressFraction } from './session.svelte';
import { status } from '../test/fake';

describe('sync chip', () => {
  it('puts a revoked tablet first, then a running sync', () => {
    expect(chipState(status({ revoked: { at_ms: 1, message: 'm' }, running: true }), null, false).key).toBe('sync.chip.revoked');
    expect(chipState(status({ waiting: 4, online: false }), null, true).tone).toBe('busy');
  });

  it('counts what is sent while pushing', () => {
    const c = chipState(status({ running: true }), { phase: 'pushing', waiting: 6, sent: 4, received: 0 }, false);
    expect(c).toEqual({ tone: 'busy', key: 'sync.chip.sending', params: { sent: 4, total: 10 } });
  });

  it('says offline, failed, waiting or synced', () => {
    expect(chipState(status({ online: false, waiting: 2 }), null, false)).toMatchObject({ tone: 'offline', params: { n: 2 } });
    expect(chipState(status({ last_error: { key: 'k', id: 'i', en: 'e' }, waiting: 2 }), null, false).tone).toBe('danger');
    // The server out of reach with nothing waiting is calm, not red.
    expect(chipState(status({ last_error: { key: 'sync.error.network', id: 'i', en: 'e' }, waiting: 0 }), null, false)).toMatchObject({ tone: 'offline', key: 'sync.chip.unreachable' });
    expect(chipState(status({ last_error: { key: 'sync.error.network', id: 'i', en: 'e' }, waiting: 3 }), null, false)).toMatchObject({ tone: 'offline', key: 'sync.chip.unreachable_waiting', params: { n: 3 } });
    expect(chipState(status({ waiting: 2 }), null, false).tone).toBe('waiting');
    expect(chipState(status(), null, false).tone).toBe('ok');
  });
});

describe('progress bar', () => {
  it('grows through the phases', () => {
    const push1 = progressFraction({ phase: 'pushing', waiting: 9, sent: 1, received: 0 })!;
    const push9 = progressFraction({ phase: 'pushing', waiting: 1, sent: 9, received: 0 })!;
    const pull = progressFraction({ phase: 'pulling', waiting: 0, sent: 10, received: 50 })!;
    expect(push1).toBeLessThan(push9);
    expect(push9).toBeLessThan(pull);
    expect(pull).toBeLessThan(1);
    expect(progressFraction({ phase: 'done', waiting: 0, sent: 10, received: 50 })).toBe(1);
    expect(progressFraction({ phase: 'retrying', waiting: 1, sent: 0, received: 0 })).toBeNull();
    expect(progressFraction(null)).toBeNull();
  });
});
