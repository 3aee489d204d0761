import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../../main/server/server';
import { startFirstRunDemo, type FirstRunOutcome } from '../../main/api/first-run';
import { repoRoot, tempWorkbench } from '../api/helpers';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENS_DIR = join(repoRoot, 'test-results', 'screens');
export const RENDERER_OUT = join(repoRoot, 'out', 'renderer');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds the renderer when its sources (or the shared API types, or the metric modules it bundles) are newer than the build. */
export function buildRenderer(): void {
  const index = join(RENDERER_OUT, 'index.html');
  const srcTime = Math.max(newest(join(repoRoot, 'renderer')), newest(join(repoRoot, 'main', 'api')), newest(join(repoRoot, 'main', 'metrics')));
  if (existsSync(index) && statSync(index).mtimeMs > srcTime) return;
  execFileSync('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'error'], { cwd: repoRoot, stdio: 'inherit' });
}

export interface BrowserModeSession {
  server: RunningServer;
  browser: Browser;
  page: Page;
  t: ReturnType<typeof tempWorkbench>;
  /** Messages the page logged as errors (uncaught exceptions, console.error, CSP violations). */
  pageErrors: string[];
  shot(name: string): Promise<string>;
  /** The first-run demo's outcome (settles when it ends); 'skipped' unless asked for with `firstRunDemo`. */
  demo: Promise<FirstRunOutcome>;
  close(): Promise<void>;
}

export interface BrowserModeOptions {
  /**
   * Run the first-run demo as `npm start` does on a fresh data directory (main/api/first-run.ts): in the
   * engine process, in the background, started before the page opens. Default false (a fresh, empty database).
   */
  firstRunDemo?: boolean;
}

/** Browser mode over a fresh database, and Debian's Chromium at 1280x800 pointed at it. */
export async function openBrowserMode(o: BrowserModeOptions = {}): Promise<BrowserModeSession> {
  buildRenderer();
  const t = tempWorkbench('browser');
  const server = await startServer({ workbench: t.wb, staticDir: RENDERER_OUT });
  // Not awaited, as in web.ts: the page opens while the demo runs.
  const demo: Promise<FirstRunOutcome> = o.firstRunDemo ? startFirstRunDemo(t.wb, { log: () => undefined }) : Promise.resolve({ status: 'skipped', reason: 'not asked for' });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    // A refused call (400 for bad input, 501 for a missing engine part) is logged by Chromium as a failed
    // resource; the screens show those errors themselves. Everything else (exceptions, CSP) counts.
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of (400|404|501)/.test(m.text())) {
      pageErrors.push(m.text());
    }
  });
  await page.goto(server.openUrl);
  mkdirSync(SCREENS_DIR, { recursive: true });
  return {
    server,
    browser,
    page,
    t,
    pageErrors,
    demo,
    async shot(name) {
      const file = join(SCREENS_DIR, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await browser.close();
      // the demo stops with the engine (close below); its outcome is then 'failed: stopped before...'
      void demo.catch(() => undefined);
      await server.close();
      t.cleanup();
    },
  };
}

export const chromiumAvailable = existsSync(CHROMIUM);
