/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { legacyCssVite } from './tools/legacy-css.mjs';

// The oldest WebView the app runs on: Chrome / Android System WebView 69 (docs/ANDROID.md).
// Syntax is lowered to it here; src/lib/compat.ts fills in the library pieces it lacks;
// tools/legacy-css.mjs rewrites what its CSS engine would drop; index.html's start script
// shows a message on anything older; `npm run check:compat` checks dist/ for it.
export const OLDEST_WEBVIEW = 'chrome69';

// The app loads nothing from the network: fonts come from node_modules into dist/,
// icons are inline SVG. Tauri serves dist/ (frontendDist) and, in dev, this server.
export default defineConfig({
  plugins: [svelte(), legacyCssVite()],
  base: './',
  clearScreen: false,
  resolve: {
    alias: {
      '@fonts': fileURLToPath(new URL('./node_modules/@fontsource/noto-sans/files', import.meta.url)),
    },
    // Svelte's browser build in component tests (jsdom), not its server build.
    ...(process.env.VITEST ? { conditions: ['browser'] } : {}),
  },
  server: { port: 5173, strictPort: true, host: 'localhost' },
  build: {
    target: OLDEST_WEBVIEW,
    cssTarget: OLDEST_WEBVIEW,
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test/setup.ts'],
    env: { TZ: 'Asia/Makassar' },
    // The tests check what the screens show, not how fast: on a loaded machine (2 shared
    // cores, builds beside them) jsdom's rendering of a chart took longer than vitest's
    // default 5 s and failed tests whose result was right. Speed lives in benchmarks.
    testTimeout: 30_000,
  },
});
