// A record health-rules could not use, in the user's words: a key of the translation files
// and its values (ISO dates, dot decimals, dose and indicator codes), worded here. Rust's
// English sentence never reaches the screen.
import { has, placeholders, shownParam, t, tx } from './i18n';
import { vaccineName } from './timeline';

export interface Problem {
  key: string;
  params?: Record<string, string>;
}

/** The problem's values shown the user's way: dates as dd/mm/yyyy, decimals with the
 *  language's separator, a dose by its vaccine name, an index and a measure in words. */
export function problemParams(params: Record<string, string> = {}): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(params)) {
    if (k === 'dose') out[k] = vaccineName(v);
    else if (k === 'indicator') out[k] = has(`child.index.${v}`) ? tx('child.index', v) : v;
    else if (k === 'measure') out[k] = has(`measure.${v}`) ? t(`measure.${v}`) : v;
    else out[k] = shownParam(v);
  }
  return out;
}

/** The text of a problem: the screen's own wording (`prefix.key`) when it has one and every
 *  value it needs, else the key's text, else the generic "a record needs checking". */
export function problemText(p: Problem, prefix?: string): string {
  const params = problemParams(p.params);
  const fits = (key: string) => has(key) && placeholders(t(key)).every((n) => n in params);
  if (prefix && fits(`${prefix}.${p.key}`)) return t(`${prefix}.${p.key}`, params);
  if (fits(p.key)) return t(p.key, params);
  return t('health.problem');
}
