/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

// The app loads nothing from the network: fonts come from node_modules into dist/,
// icons are inline SVG. Tauri serves dist/ (frontendDist) and, in dev, this server.
export default defineConfig({
  plugins: [svelte()],
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
    target: 'es2022',
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
  },
});
