import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { displayProblem, findElectronBinary } from '../../main/shell/electron-binary';
import { msst, repoRoot } from '../api/helpers';
import { SCREENS_DIR } from './harness';

/**
 * The same flow against the real Electron app through Playwright's _electron, when an Electron
 * binary exists (node_modules/electron/dist or ELECTRON_OVERRIDE_DIST_PATH) and a display is there.
 * Otherwise the suite is skipped and its title says why.
 */
const bin = findElectronBinary(repoRoot);
const reason = !bin.ok ? bin.reason : displayProblem();

describe.skipIf(reason !== null)(`GUI in Electron${reason ? ` — SKIPPED: ${reason}` : ''}`, () => {
  let app: ElectronApplication;
  let page: Page;
  const userData = mkdtempSync(join(tmpdir(), 'rw-electron-'));

  beforeAll(async () => {
    execFileSync('npx', ['electron-vite', 'build', '--logLevel', 'error'], { cwd: repoRoot, stdio: 'inherit' });
    app = await _electron.launch({
      executablePath: bin.ok ? bin.path : '',
      args: [repoRoot],
      env: { ...process.env, RW_USER_DATA: userData },
    });
    page = await app.firstWindow();
    await page.setViewportSize({ width: 1280, height: 800 });
    mkdirSync(SCREENS_DIR, { recursive: true });
  });
  afterAll(async () => {
    await app?.close();
    rmSync(userData, { recursive: true, force: true });
  });

  it('exposes window.workbench and no Node to the page', async () => {
    const probe = await page.evaluate(() => ({
      methods: Object.keys((window as unknown as { workbench: object }).workbench).length,
      require: typeof (globalThis as { require?: unknown }).require,
      process: typeof (globalThis as { process?: unknown }).process,
    }));
    expect(probe.methods).toBeGreaterThan(20);
    expect(probe.require).toBe('undefined');
    expect(probe.process).toBe('undefined');
  });

  it('imports a dataset through the native dialog (answered by the test) into userData', async () => {
    await app.evaluate(({ dialog }, file) => {
      dialog.showOpenDialog = (async () => ({ canceled: false, filePaths: [file] })) as typeof dialog.showOpenDialog;
    }, msst('DK'));
    await page.getByRole('button', { name: 'Choose file…' }).click();
    await page.getByTestId('ds-file-name').filter({ hasText: 'Multilingual_Interpretability_DK.xlsx' }).waitFor();
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByTestId('import-report').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('import-report').textContent()).toMatch(/250 examples/);
    await page.screenshot({ path: join(SCREENS_DIR, 'electron-01-datasets.png') });
    const dataDir = await app.evaluate(({ app: a }) => a.getPath('userData'));
    expect(dataDir).toBe(userData);
  });

  it('blocks navigation and new windows', async () => {
    const before = page.url();
    const opened = await page.evaluate(() => window.open('https://example.com') === null);
    expect(opened).toBe(true);
    await page.evaluate(() => {
      location.href = 'https://example.com/';
    });
    await page.waitForTimeout(500);
    expect(page.url()).toBe(before);
    expect(app.windows()).toHaveLength(1);
  });
});
