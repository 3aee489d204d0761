import { svelte } from '@sveltejs/vite-plugin-svelte';
import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';

/**
 * The desktop app: main process (shell + the engine host it forks), the sandboxed preload (one
 * CommonJS file), and the renderer (same settings as renderer/vite.config.ts for browser mode).
 */
// RW_OUT_DIR lets a test build into a temporary folder without touching out/ (served by other tests).
const out = resolve(__dirname, process.env.RW_OUT_DIR ?? 'out');

export default defineConfig({
  main: {
    // playwright-core (a devDependency) is only used by the CLI's PDF path; the app prints with Electron's printToPDF.
    plugins: [externalizeDepsPlugin({ include: ['playwright-core'] })],
    build: {
      outDir: resolve(out, 'main'),
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'main/shell/main.ts'),
          // Forked by main/api/engine.ts as out/main/engine-host.js: heavy work off the main process.
          'engine-host': resolve(__dirname, 'main/api/engine-host.ts'),
        },
      },
    },
  },
  preload: {
    plugins: [externalizeDepsPlugin()],
    build: {
      outDir: resolve(out, 'preload'),
      rollupOptions: {
        input: { preload: resolve(__dirname, 'main/shell/preload.ts') },
        // Sandboxed preloads cannot be ES modules.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'renderer'),
    plugins: [svelte()],
    build: {
      outDir: resolve(out, 'renderer'),
      emptyOutDir: true,
      modulePreload: { polyfill: false },
      assetsInlineLimit: 0,
      rollupOptions: { input: resolve(__dirname, 'renderer/index.html') },
    },
  },
});
