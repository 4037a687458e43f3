import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { dictionaries, errorText, fieldLabel, fill, parts, placeholders, setLocale, t, tx } from './index';
import { RELATIONS } from '../members';
import { chipState } from '../syncview';
import type { SyncProgress } from '../api';
import { status } from '../../test/fake';

const ID = dictionaries.id;
const EN = dictionaries.en;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(svelte|ts)$/.test(f) && !f.endsWith('.test.ts') ? [p] : [];
  });
}

describe('translation files', () => {
  it('define each key in one file only', () => {
    for (const lang of ['id', 'en'] as const) {
      const seen = new Map<string, number>();
      parts[lang].forEach((file, i) => {
        for (const k of Object.keys(file)) {
          expect(seen.has(k), `${lang}: ${k} in files ${seen.get(k)} and ${i}`).toBe(false);
          seen.set(k, i);
        }
      });
    }
  });

  it('have the same keys in Bahasa Indonesia and English', () => {
    expect(Object.keys(ID).filter((k) => !(k in EN))).toEqual([]);
    expect(Object.keys(EN).filter((k) => !(k in ID))).toEqual([]);
  });

  it('use the same placeholders in both languages, and no empty text', () => {
    for (const k of Object.keys(ID)) {
      expect(placeholders(EN[k]).sort(), k).toEqual(placeholders(ID[k]).sort());
      expect(ID[k].trim(), k).not.toBe('');
      expect(EN[k].trim(), k).not.toBe('');
    }
  });

  it('hold every key the source asks for with t("...")', () => {
    const root = join(__dirname, '..', '..');
    const used = new Set<string>();
    for (const file of sources(root)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\bt\(\s*'([a-z0-9_.]+)'/g)) used.add(m[1]);
      // Keys named in data (nav items, flash messages, local errors): `key: '...'` and setFlash('...').
      for (const m of text.matchAll(/\bkey: '([a-z0-9_]+\.[a-z0-9_.]+)'/g)) used.add(m[1]);
      for (const m of text.matchAll(/setFlash\('([a-z0-9_.]+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    expect([...used].filter((k) => !(k in ID))).toEqual([]);
  });

  it('name every value of the families shown with tx()', () => {
    const families: Record<string, readonly string[]> = {
      relation: RELATIONS,
      role: ['kader', 'bidan', 'perawat', 'puskesmas_admin', 'dinas_admin'],
      sex: ['male', 'female'],
      status: ['active', 'moved', 'died'],
      stage: ['balita', 'school_adolescent', 'adult', 'lansia'],
      priority: ['urgent', 'high', 'normal'],
      duplicate: ['same_nik', 'same_name_birth_date_mother'],
      'sync.phase': ['status', 'logging_in', 'pushing', 'pulling', 'retrying', 'up_to_date', 'done', 'failed'] satisfies SyncProgress['phase'][],
      kind: ['household', 'person', 'pregnancy', 'referral', 'posyandu_session', 'visit', 'measurement', 'immunisation', 'supplement', 'screening', 'anc_contact', 'referral_event', 'note', 'person_merge', 'conflict_review'],
      measure: ['weight', 'length_height', 'head', 'muac', 'waist', 'bp_systolic', 'bp_diastolic', 'blood_sugar', 'hb', 'temperature'],
    };
    const missing = Object.entries(families).flatMap(([f, vs]) => vs.map((v) => `${f}.${v}`).filter((k) => !(k in ID)));
    expect(missing).toEqual([]);
  });

  it('hold every sync chip state', () => {
    const cases = [
      chipState(null, null, false),
      chipState(status({ revoked: { at_ms: 1, message: '' } }), null, false),
      chipState(status({ running: true }), null, false),
      chipState(status({ running: true }), { phase: 'pushing', waiting: 2, sent: 1, received: 0 }, false),
      chipState(status({ login_required: true }), null, false),
      chipState(status({ online: false }), null, false),
      chipState(status({ online: false, waiting: 3 }), null, false),
      chipState(status({ last_error: { key: 'x', id: 'x', en: 'x' } }), null, false),
      chipState(status({ waiting: 3 }), null, false),
      chipState(status(), null, false),
    ];
    expect(cases.map((c) => c.key).filter((k) => !(k in ID))).toEqual([]);
    expect(new Set(cases.map((c) => c.key)).size).toBe(cases.length);
  });

  it('carry field-core validation keys', () => {
    expect(ID['validation.required']).toBe('{field} wajib diisi.');
    expect(EN['validation.pin_too_simple']).toContain('too easy');
  });
});

describe('t and errorText', () => {
  it('switches language and fills values', () => {
    expect(t('nav.home')).toBe('Beranda');
    setLocale('en');
    expect(t('nav.home')).toBe('Home');
    expect(t('households.members', { n: 3 })).toBe('3 members');
    expect(document.documentElement.lang).toBe('en');
  });

  it('leaves unknown placeholders and keys visible', () => {
    expect(fill('{a} {b}', { a: 1 })).toBe('1 {b}');
    expect(t('no.such.key')).toBe('no.such.key');
  });

  it('shows a value of a family in words, or as it is when unknown', () => {
    expect(tx('relation', 'child')).toBe('Anak');
    expect(tx('relation', 'cousin')).toBe('cousin');
    expect(tx('relation', null)).toBe('');
  });

  it('labels a field from an error path', () => {
    expect(fieldLabel('members.2.birth_date')).toBe('Tanggal lahir');
    expect(fieldLabel('head_name')).toBe('Nama Kepala Keluarga');
    expect(fieldLabel('mystery')).toBe('mystery');
  });

  it('uses its own words for a known key, with the field label', () => {
    const err = { key: 'validation.required', id: 'name wajib diisi.', en: 'name is required.', field: 'members.0.name' };
    expect(errorText(err)).toBe('Nama lengkap wajib diisi.');
    setLocale('en');
    expect(errorText(err)).toBe('Full name is required.');
  });

  it("never shows Rust's sentence: keys only, the generic text for an unknown key", () => {
    const wrongPin = { key: 'store.wrong_pin', id: 'x', en: 'x', field: 'pin' };
    expect(errorText(wrongPin)).toBe('PIN salah.');
    setLocale('en');
    expect(errorText(wrongPin)).toBe('Wrong PIN.');
    expect(errorText({ key: 'x.brand_new', id: 'Hanya Indonesia', en: 'English only' })).toBe(t('error.unexpected'));
  });

  it('shows date and decimal params the language\'s way', () => {
    const e = { key: 'validation.date_in_future', id: '', en: '', field: 'members.0.birth_date', params: { today: '2025-11-22' } };
    expect(errorText(e)).toBe('Tanggal lahir tidak boleh setelah hari ini (22/11/2025).');
    const w = { key: 'validation.implausible_for_age', id: '', en: '', field: 'value', params: { type: 'weight', value: '84.5', unit: 'kg', age_months: '14' } };
    expect(errorText(w)).toBe('Berat badan 84,5 kg tidak masuk akal untuk umur 14 bulan. Periksa lagi.');
    setLocale('en');
    expect(errorText(w)).toBe('Weight 84.5 kg is implausible at age 14 months. Check again.');
  });

  it('fills values Rust sent as params', () => {
    const e = { key: 'validation.text_too_long', id: '', en: '', field: 'name', params: { max: 80 } };
    expect(errorText(e)).toBe('Nama lengkap terlalu panjang (paling banyak 80 huruf).');
  });
});
