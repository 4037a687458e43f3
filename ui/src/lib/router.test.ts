import { describe, expect, it } from 'vitest';
import { parseHash, section, toHash, type Route } from './router.svelte';

describe('hash router', () => {
  const routes: Route[] = [
    { name: 'home' },
    { name: 'households' },
    { name: 'register' },
    { name: 'household', id: '0190f3a2-7c1e-7a00-8000-000000000001' },
    { name: 'add_member', id: 'abc' },
    { name: 'profile', id: 'p-1' },
    { name: 'settings' },
    { name: 'sync' },
    { name: 'posyandu' },
    { name: 'posyandu_day', session: 's-1' },
    { name: 'attendance', session: 's-1', person: 'p-1' },
    { name: 'posyandu_summary', session: 's-1' },
    { name: 'growth', id: 'p-1' },
    { name: 'immunisation', id: 'p-1' },
    { name: 'home_visit', household: 'h-1' },
    { name: 'home_visit', household: 'h-1', person: 'p-1' },
    { name: 'referrals' },
    { name: 'referral', id: 'r-1' },
    { name: 'due' },
    { name: 'reports' },
  ];

  it.each(routes)('round-trips %o', (r) => {
    expect(parseHash(toHash(r))).toEqual(r);
  });

  it.each(['', '#', '#/', '#/beranda', '#/nowhere', '#/orang', '#/orang/a/b', '#/orang/..%2F'])('reads %s as home', (h) => {
    expect(parseHash(h)).toEqual({ name: 'home' });
  });

  it('falls back to the household list for odd household paths', () => {
    expect(parseHash('#/keluarga/x/y/z')).toEqual({ name: 'households' });
  });

  it('puts screens under their nav tab', () => {
    expect(section({ name: 'profile', id: 'x' })).toBe('households');
    expect(section({ name: 'sync' })).toBe('home');
    expect(section({ name: 'settings' })).toBe('settings');
    expect(section({ name: 'growth', id: 'x' })).toBe('households');
    expect(section({ name: 'attendance', session: 's', person: 'p' })).toBe('posyandu');
    expect(section({ name: 'referral', id: 'r' })).toBe('referrals');
  });
});
