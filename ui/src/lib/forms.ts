// Errors on forms: which field is at fault, kept as the AppError (so the text follows a
// language change) and never a reason to clear what was typed.
import { isAppError, type AppError } from './api';

export interface FormErrors {
  /** By field path: `head_name`, `members.1.birth_date`, `pin`. */
  fields: Record<string, AppError>;
  /** The error itself, shown at the top of the form (also when it names a field). */
  general: AppError | null;
}

export const noErrors = (): FormErrors => ({ fields: {}, general: null });

/** Anything a command threw, as an AppError (a plain string or Error becomes one). */
export function toAppError(e: unknown): AppError {
  if (isAppError(e)) return e;
  const text = e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e);
  return { key: 'error.unexpected', id: text, en: text, field: null };
}

/** The errors a refused command gives a form. `prefix` maps fields of a single-object
 *  command onto the form's paths (e.g. `members.0.` for add_member's `birth_date`). */
export function formErrorsFrom(e: unknown, prefix = ''): FormErrors {
  const err = toAppError(e);
  const fields: Record<string, AppError> = {};
  if (err.field) fields[prefix + err.field] = err;
  return { fields, general: err };
}

export function memberPath(index: number, field: string): string {
  return `members.${index}.${field}`;
}

/** The member index an error path names, if any. */
export function memberIndexOf(path: string): number | null {
  const m = /^members\.(\d+)\./.exec(path);
  return m ? Number(m[1]) : null;
}

/** Blank strings become null for optional fields sent to Rust. */
export function optional(s: string | null | undefined): string | null {
  const v = (s ?? '').trim();
  return v === '' ? null : v;
}

/** Every required field left empty, all marked at once (not one per try): `fields` maps
 *  each form path to its value. Empty when nothing is missing. The general error counts
 *  them; Rust still checks everything else. */
export function missingFields(fields: Record<string, string | null | undefined>): FormErrors {
  const missing: Record<string, AppError> = {};
  for (const [path, value] of Object.entries(fields)) {
    if ((value ?? '').trim() === '') missing[path] = { key: 'validation.required', id: '', en: '', field: path };
  }
  const n = Object.keys(missing).length;
  if (n === 0) return noErrors();
  return { fields: missing, general: { key: 'form.missing', id: '', en: '', field: null, params: { n } } };
}

export const hasErrors = (f: FormErrors): boolean => f.general !== null || Object.keys(f.fields).length > 0;
