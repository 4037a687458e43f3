// All user-facing text comes from id.json (Bahasa Indonesia, the default) and en.json.
// Keys are flat and dotted ("nav.home"); Rust's message keys ("validation.required") live
// in the same files so known errors are shown in the UI's own words.
import type { AppError, Label, Locale } from '../api';
import baseId from './id.json';
import baseEn from './en.json';
// One pair of files per feature of the field work, so each screen's words sit together.
import posyanduId from './posyandu.id.json';
import posyanduEn from './posyandu.en.json';
import childId from './child.id.json';
import childEn from './child.en.json';
import visitId from './visit.id.json';
import visitEn from './visit.en.json';
import dueId from './due.id.json';
import dueEn from './due.en.json';
import { locale } from './locale.svelte';

/** The base file and the feature files as one dictionary (a key in two files is a bug:
 *  i18n.test.ts checks there is none). */
export const parts: Record<Locale, Record<string, string>[]> = {
  id: [baseId, posyanduId, childId, visitId, dueId],
  en: [baseEn, posyanduEn, childEn, visitEn, dueEn],
};
const id: Record<string, string> = Object.assign({}, ...parts.id);
const en: Record<string, string> = Object.assign({}, ...parts.en);

export { locale, setLocale } from './locale.svelte';

export type Params = Record<string, string | number>;
export const dictionaries: Record<Locale, Record<string, string>> = { id, en };

const PLACEHOLDER = /\{(\w+)\}/g;

/** Replaces `{name}` with `params.name`; unknown placeholders are left as they are. */
export function fill(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(PLACEHOLDER, (m, name: string) =>
    name in params ? String(params[name]) : m,
  );
}

export function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

export function has(key: string): boolean {
  return key in dictionaries[locale.current] || key in dictionaries.id;
}

/** The text for `key` in the current language (Indonesian if the English one is missing). */
export function t(key: string, params?: Params): string {
  const text = dictionaries[locale.current][key] ?? dictionaries.id[key] ?? key;
  return fill(text, params);
}

/** A Rust `Label`: Rust chose the words, the UI picks the language. */
export function label(l: Label): string {
  return locale.current === 'en' ? l.en || l.id : l.id || l.en;
}

/** The label of a form field named by an error path (`members.1.birth_date` → "Tanggal lahir"). */
export function fieldLabel(path: string | null | undefined): string {
  if (!path) return '';
  const last = path.split('.').filter((p) => !/^\d+$/.test(p)).pop() ?? path;
  const key = `fields.${last}`;
  return has(key) ? t(key) : last;
}

/** An error in the user's language: the UI's own text for keys it knows (when every value
 *  the text needs is at hand), otherwise the sentence Rust sent. */
export function errorText(err: AppError): string {
  const key = err.key;
  const template = key ? (dictionaries[locale.current][key] ?? null) : null;
  if (template !== null) {
    const params: Params = { ...(err.params ?? {}) };
    if (err.field && !('field' in params)) params.field = fieldLabel(err.field);
    if (placeholders(template).every((p) => p in params)) return fill(template, params);
  }
  const rust = locale.current === 'en' ? err.en || err.id : err.id || err.en;
  return rust ? humanise(rust, err.field) : t('error.unexpected');
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A sentence from Rust in the UI's terms: ISO dates as dd/mm/yyyy, and the raw field name
 *  Rust filled in (`nik`, `members.2.birth_date`) as the field's label. */
export function humanise(text: string, field?: string | null): string {
  let out = text.replace(/\b(\d{4})-(\d{2})-(\d{2})\b/g, '$3/$2/$1');
  if (field) {
    const raw = field.split('.').filter((p) => !/^\d+$/.test(p)).pop() ?? field;
    const lab = fieldLabel(field);
    if (lab !== raw) {
      const names = [field, raw].map(escapeRe).join('|');
      out = out.replace(new RegExp(`(^|[\\s(])(${names})(?=[\\s.,:;)]|$)`, 'g'), (_m, before: string) => before + lab);
    }
  }
  return out;
}

/** The word for a value of a known family (`tx('relation', 'child')` → "Anak"); a value
 *  the files do not know is shown as it is. */
export function tx(family: string, value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '';
  const key = `${family}.${value}`;
  return has(key) ? t(key) : value;
}
