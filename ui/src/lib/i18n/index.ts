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
import titipId from './titip.id.json';
import titipEn from './titip.en.json';
// What Rust can refuse or report (store, sync, health-rules), rendered from the key only.
import errorsId from './errors.id.json';
import errorsEn from './errors.en.json';
import healthId from './health.id.json';
import healthEn from './health.en.json';
// Td immunisation of a pregnant woman (status T) and sharing an exported file.
import tdId from './td.id.json';
import tdEn from './td.en.json';
// Tinjauan: conflicts, likely duplicates and data problems (issue #17).
import reviewId from './review.id.json';
import reviewEn from './review.en.json';
import { locale } from './locale.svelte';

/** The base file and the feature files as one dictionary (a key in two files is a bug:
 *  i18n.test.ts checks there is none). */
export const parts: Record<Locale, Record<string, string>[]> = {
  id: [baseId, posyanduId, childId, visitId, dueId, titipId, errorsId, healthId, tdId, reviewId],
  en: [baseEn, posyanduEn, childEn, visitEn, dueEn, titipEn, errorsEn, healthEn, tdEn, reviewEn],
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

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DECIMAL = /^-?\d+\.\d+$/;

/** A parameter Rust sent, shown the user's way: an ISO date as dd/mm/yyyy, a decimal with
 *  the language's separator (8,4 in Bahasa Indonesia). */
export function shownParam(v: string | number): string | number {
  if (typeof v === 'number') return Number.isInteger(v) ? v : v.toLocaleString(locale.current === 'id' ? 'id-ID' : 'en-GB', { useGrouping: false, maximumFractionDigits: 2 });
  const d = ISO_DATE.exec(v);
  if (d) return `${d[3]}/${d[2]}/${d[1]}`;
  if (DECIMAL.test(v)) return shownParam(Number(v));
  return v;
}

/** An error in the user's language, from the key and its parameters only: Rust's sentences
 *  are never shown (a key the files lack reads as the generic error; a test checks that
 *  every key Rust can send has a text in both languages). */
export function errorText(err: AppError): string {
  const key = err.key;
  if (!key || !has(key)) return t('error.unexpected');
  const params: Params = {};
  for (const [k, v] of Object.entries(err.params ?? {})) params[k] = shownParam(v as string | number);
  if (err.field && !('field' in params)) params.field = fieldLabel(err.field);
  // Values the UI words itself: the measure's name, the age in the language's words.
  if (typeof params.type === 'string' && has(`measure.${params.type}`)) params.type = t(`measure.${params.type}`);
  if (params.age_months !== undefined && !('age' in params)) params.age = ageWords(Number(params.age_months));
  return t(key, params);
}

function ageWords(months: number): string {
  if (!Number.isFinite(months) || months < 0) return '';
  if (months < 24) return t(months === 1 ? 'age.month' : 'age.months', { m: months });
  const y = Math.floor(months / 12);
  return t('age.years', { y });
}

/** A household relation in words; a spouse by the person's sex ("Istri" for a woman,
 *  "Suami" for a man, "Istri / Suami" only when the sex is not known). */
export function relationWord(relation: string | null | undefined, sex?: string | null): string {
  if (relation === 'spouse' && (sex === 'female' || sex === 'male')) return t(`relation.spouse_${sex}`);
  return tx('relation', relation);
}

/** The word for a value of a known family (`tx('relation', 'child')` → "Anak"); a value
 *  the files do not know is shown as it is. */
export function tx(family: string, value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '';
  const key = `${family}.${value}`;
  return has(key) ? t(key) : value;
}
