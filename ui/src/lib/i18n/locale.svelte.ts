// The current language, as reactive state: every `t()` call in a template re-runs when it changes.
import type { Locale } from '../api';

export const locale = $state<{ current: Locale }>({ current: 'id' });

export function setLocale(l: Locale): void {
  locale.current = l;
  if (typeof document !== 'undefined') document.documentElement.lang = l;
}
