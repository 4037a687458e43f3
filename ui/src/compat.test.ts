// index.html's start script (the "WebView too old" message) and compat.ts's fill-ins.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const html = readFileSync(resolve(__dirname, '..', 'index.html'), 'utf8');
const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';

type Win = Window & { __jangkauTooOld?: boolean; __jangkauStarted?: boolean; __jangkauShowCompat?: () => void };
const win = window as Win;

// jsdom has no `noModule` on <script>; every WebView that runs modules has.
if (!('noModule' in HTMLScriptElement.prototype)) {
  Object.defineProperty(HTMLScriptElement.prototype, 'noModule', { value: false, configurable: true });
}

function runStartScript() {
  document.body.innerHTML = '<div id="app"></div>';
  document.documentElement.className = '';
  delete win.__jangkauTooOld;
  delete win.__jangkauStarted;
  new Function(script)();
}

describe('index.html start check', () => {
  const flat = Array.prototype.flat;
  afterEach(() => {
    Array.prototype.flat = flat;
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('shows the message in both languages on a WebView without Chrome 69 features', () => {
    vi.stubGlobal('CSS', { supports: () => true });
    // @ts-expect-error: what Chrome 68 lacks
    delete Array.prototype.flat;
    vi.stubGlobal('navigator', { userAgent: 'Mozilla/5.0 (Linux; Android 7.0) Chrome/66.0.3359.158 Mobile Safari/537.36' });
    runStartScript();
    const box = document.querySelector('[data-testid="compat-message"]');
    expect(box?.textContent).toContain('Jangkau tidak dapat berjalan di tablet ini');
    expect(box?.textContent).toContain('Perbarui Android System WebView');
    expect(box?.textContent).toContain('Jangkau cannot run on this tablet');
    expect(box?.textContent).toContain('(WebView 66)');
    expect(win.__jangkauTooOld).toBe(true);
  });

  it('stays quiet on a supported WebView, and speaks if the bundle never starts', () => {
    vi.useFakeTimers();
    vi.stubGlobal('CSS', { supports: () => true });
    runStartScript();
    expect(document.querySelector('[data-testid="compat-message"]')).toBeNull();
    expect(document.documentElement.getAttribute('data-compat')).toBe('checked');
    vi.advanceTimersByTime(13_000);
    expect(document.querySelector('[data-testid="compat-message"]')?.textContent).toContain('Jangkau cannot run on this tablet');
  });

  it('says nothing once the bundle has started', () => {
    vi.useFakeTimers();
    vi.stubGlobal('CSS', { supports: () => true });
    runStartScript();
    win.__jangkauStarted = true;
    vi.advanceTimersByTime(13_000);
    expect(document.querySelector('[data-testid="compat-message"]')).toBeNull();
  });
});

describe('compat.ts', () => {
  it('keeps what the engine has and provides what the app uses', async () => {
    const { markStarted } = await import('./lib/compat');
    expect([1, 2, 3].at(-1)).toBe(3);
    expect('a-b-c'.replaceAll('-', '/')).toBe('a/b/c');
    expect(Object.fromEntries([['a', 1]])).toEqual({ a: 1 });
    document.body.innerHTML = '<div id="compat-message"></div>';
    markStarted();
    expect(document.getElementById('compat-message')).toBeNull();
    expect(win.__jangkauStarted).toBe(true);
  });
});
