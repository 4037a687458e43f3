import { afterEach } from 'vitest';
import { cleanup } from '@testing-library/svelte';
import { clearMocks } from '@tauri-apps/api/mocks';
import { setLocale } from '../lib/i18n';

afterEach(() => {
  cleanup();
  clearMocks();
  setLocale('id');
  location.hash = '';
});

// jsdom has no layout: scrolling a field into view is a no-op here.
if (!Element.prototype.scrollIntoView) Element.prototype.scrollIntoView = () => {};
