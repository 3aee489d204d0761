import { svelte } from '@sveltejs/vite-plugin-svelte';
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/** The renderer alone (browser mode, `npm run build:renderer`); electron.vite.config.ts reuses these settings. */
export const rendererRoot = resolve(__dirname);
export const rendererOutDir = resolve(__dirname, '../out/renderer');

export default defineConfig({
  root: rendererRoot,
  base: './',
  plugins: [svelte()],
  build: {
    outDir: rendererOutDir,
    emptyOutDir: true,
    // No inline module-preload polyfill script: the CSP forbids inline scripts.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
