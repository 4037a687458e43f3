import { describe, expect, it } from 'vitest';
import { formErrorsFrom, memberIndexOf, optional, toAppError } from './forms';

describe('form errors', () => {
  it('marks the field an AppError names and keeps it as the general error', () => {
    const err = { key: 'validation.digits', id: 'a', en: 'b', field: 'members.1.nik' };
    const f = formErrorsFrom(err);
    expect(f.fields['members.1.nik']).toBe(err);
    expect(f.general).toBe(err);
    expect(memberIndexOf('members.1.nik')).toBe(1);
    expect(memberIndexOf('head_name')).toBeNull();
  });

  it("maps a single-person command's field onto the form's path", () => {
    const f = formErrorsFrom({ key: 'k', id: 'a', en: 'b', field: 'birth_date' }, 'members.0.');
    expect(Object.keys(f.fields)).toEqual(['members.0.birth_date']);
  });

  it('turns anything thrown into an AppError', () => {
    expect(toAppError('boom')).toMatchObject({ key: 'error.unexpected', id: 'boom', en: 'boom' });
    expect(toAppError(new Error('bad'))).toMatchObject({ id: 'bad' });
    expect(formErrorsFrom('x').fields).toEqual({});
  });

  it('sends blank optional fields as null', () => {
    expect(optional('  ')).toBeNull();
    expect(optional(' 01 ')).toBe('01');
    expect(optional(undefined)).toBeNull();
  });
});
