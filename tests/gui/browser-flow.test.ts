import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msst, repoRoot } from '../api/helpers';
import { displayProblem, findElectronBinary } from '../../main/shell/electron-binary';
import { buildRenderer, chromiumAvailable, openBrowserMode, SCREENS_DIR, type BrowserModeSession } from './harness';
import { ensureDemoModel } from '../../main/runner/demo-model';

/**
 * The whole GUI flow available so far, in Debian's Chromium against browser mode, with a real
 * database, the real importers and the engine process. Screenshots of each screen go to
 * test-results/screens/.
 */
describe.skipIf(!chromiumAvailable)('GUI in browser mode (Chromium)', () => {
  let s: BrowserModeSession;
  beforeAll(async () => {
    s = await openBrowserMode();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('connects with the token from the address and removes it from the address bar', async () => {
    await s.page.getByText(/test · browser mode/).waitFor();
    expect(s.page.url()).not.toContain('token');
    await expect(s.page.getByRole('tab', { name: 'Datasets' }).getAttribute('aria-selected')).resolves.toBe('true');
  });

  it('refuses a malformed dataset with the cause next to the file, storing nothing', async () => {
    const bad = join(s.t.dir, 'reviews.jsonl');
    writeFileSync(bad, '{"text": "A fine film.", "label": "positive", "language": "en"}\n{"text": "", "label": "negative", "language": "en"}\n');
    await s.page.getByLabel('Format').selectOption('jsonl');
    const chooser = s.page.waitForEvent('filechooser');
    await s.page.getByRole('button', { name: 'Choose file…' }).click();
    await (await chooser).setFiles(bad);
    await s.page.getByTestId('ds-file-name').filter({ hasText: 'reviews.jsonl' }).waitFor();
    await s.page.getByRole('button', { name: 'Import' }).click();
    const err = s.page.getByTestId('import-error');
    await err.waitFor({ timeout: 60_000 });
    const text = await err.textContent();
    expect(text).toMatch(/^reviews\.jsonl: row 2/);
    // The message sits right under the file picker it is about.
    const box = await err.boundingBox();
    const picker = await s.page.locator('#ds-file').boundingBox();
    expect(box!.y).toBeGreaterThan(picker!.y);
    expect(box!.y - (picker!.y + picker!.height)).toBeLessThan(40);
    expect(s.t.wb.store.datasets.list()).toHaveLength(0);
    await s.shot('01-datasets-malformed');
  });

  it('imports the Danish mSST file and shows the validation report and highlighted rationales', async () => {
    await s.page.getByLabel('Format').selectOption('msst');
    const chooser = s.page.waitForEvent('filechooser');
    await s.page.getByRole('button', { name: 'Choose file…' }).click();
    await (await chooser).setFiles(msst('DK'));
    await s.page.getByRole('button', { name: 'Import' }).click();
    const report = s.page.getByTestId('import-report');
    await report.waitFor({ timeout: 60_000 }).catch(async (e) => {
      await s.shot('02-datasets-import-FAILED');
      throw e;
    });
    expect(await report.textContent()).toMatch(/250 examples, \d+ with a human rationale/);
    await s.page.getByTestId('examples').waitFor();
    const rows = s.page.getByTestId('examples').locator('tbody tr');
    expect(await rows.count()).toBe(20);
    // The stored Danish text is what the page shows, with the rationale words marked.
    const first = s.t.wb.store.datasets.examples(s.t.wb.store.datasets.list()[0].id, { limit: 1 })[0];
    expect(await rows.first().locator('td').nth(1).textContent()).toBe(first.text);
    const marks = await rows.first().locator('mark.rationale').allTextContents();
    expect(marks).toEqual(first.rationaleSpans.map((sp) => first.text.slice(sp.start, sp.end)));
    expect(marks.length).toBeGreaterThan(0);
    await s.shot('02-datasets-imported');
    await s.page.getByRole('button', { name: 'Next →' }).click();
    await s.page.getByText('21–40 of 250').waitFor();
  });

  it('is usable with the keyboard: arrow keys move between screens', async () => {
    await s.page.getByRole('tab', { name: 'Datasets' }).focus();
    await s.page.keyboard.press('ArrowRight');
    await expect(s.page.getByRole('tab', { name: 'Models' }).getAttribute('aria-selected')).resolves.toBe('true');
    expect(await s.page.evaluate(() => document.activeElement?.textContent)).toBe('Models');
  });

  it('shows the first-run hint on the Models screen and a clear message for a broken GGUF', async () => {
    await s.page.getByTestId('first-run-hint').waitFor();
    const broken = join(s.t.dir, 'broken.gguf');
    writeFileSync(broken, Buffer.from('GGUF\x03\x00\x00\x00 this is not a model'));
    const chooser = s.page.waitForEvent('filechooser');
    await s.page.getByRole('button', { name: 'Choose GGUF file…' }).click();
    await (await chooser).setFiles(broken);
    const err = s.page.getByTestId('model-error');
    await err.waitFor();
    expect(await err.textContent()).toMatch(/broken\.gguf/);
    expect(s.t.wb.store.models.list()).toHaveLength(0);
    await s.shot('03-models-broken');
  });

  it('validates the study form live and shows each error next to its field', async () => {
    await s.page.getByRole('tab', { name: 'Study' }).click();
    await s.page.getByLabel('Task').selectOption('custom');
    await s.page.getByLabel('Seeds').fill('28, 28');
    // No model registered yet, custom task without labels, a duplicated seed.
    await s.page.getByTestId('field-error-models').waitFor();
    expect(await s.page.getByTestId('field-error-models').textContent()).toMatch(/at least 1/);
    expect(await s.page.getByTestId('field-error-task').textContent()).toMatch(/labels.*required for a custom task/);
    expect(await s.page.getByTestId('field-error-seeds').textContent()).toMatch(/duplicate seed/);
    expect(await s.page.getByRole('button', { name: 'Save and start run' }).isDisabled()).toBe(true);
    await s.shot('04-study-invalid');
    await s.page.getByLabel('Labels').fill('yes, no');
    await s.page.getByLabel('Seeds').fill('28, 79');
    await s.page.getByTestId('field-error-seeds').waitFor({ state: 'detached' });
    await s.page.getByTestId('field-error-task').waitFor({ state: 'detached' });
  });

  it('loads a built-in study into the form', async () => {
    await s.page.getByLabel('Built-in study').selectOption('demo-sentiment-en');
    await s.page.getByRole('button', { name: 'Load' }).click();
    await s.page.getByTestId('study-message').filter({ hasText: 'Demo: sentiment, English' }).waitFor();
    expect(await s.page.getByLabel('Name').inputValue()).toBe('Demo: sentiment, English');
    expect(await s.page.getByLabel('Seeds').inputValue()).toBe('28');
    await s.shot('05-study-builtin');
  });

  it('registers a generated GGUF model and shows its metadata and fit', async () => {
    const demo = await ensureDemoModel();
    await s.page.getByRole('tab', { name: 'Models' }).click();
    const chooser = s.page.waitForEvent('filechooser');
    await s.page.getByRole('button', { name: 'Choose GGUF file…' }).click();
    await (await chooser).setFiles(demo);
    const info = s.page.getByTestId('model-inspection');
    await info.waitFor({ timeout: 60_000 });
    expect(await info.textContent()).toMatch(/llama/);
    expect(await s.page.getByTestId('model-fit').textContent()).toMatch(/^yes/);
    await s.page.getByRole('button', { name: 'Register this model' }).click();
    await s.page.getByTestId('models-table').waitFor({ timeout: 60_000 });
    expect(s.t.wb.store.models.list()).toHaveLength(1);
    await s.shot('06-models-registered');
  });

  it('starts a run from the built-in demo study and follows it to the end on the run monitor', async () => {
    await s.page.getByRole('tab', { name: 'Study' }).click();
    await s.page.getByLabel('Built-in study').selectOption('demo-sentiment-en');
    await s.page.getByRole('button', { name: 'Load' }).click();
    await s.page.getByLabel('Max examples').fill('3');
    // Occlusion and contrastive LRP are the slow methods: left out to keep the test short.
    await s.page.getByRole('checkbox', { name: 'occlusion' }).uncheck();
    await s.page.getByRole('checkbox', { name: 'lrp-contrast' }).uncheck();
    await s.page.getByTestId('study-valid').filter({ hasText: 'configuration valid' }).waitFor();
    // The exact prompt: the demo model's own chat template around the first demo sentence.
    await s.page.getByRole('button', { name: 'Preview the exact prompt' }).click();
    const preview = s.page.getByTestId('prompt-preview');
    await preview.waitFor({ timeout: 60_000 });
    const text = (await preview.textContent()) ?? '';
    expect(await preview.locator('.seg-text').count()).toBe(1);
    expect(text).toContain(await preview.locator('.seg-text').textContent());
    expect(await preview.locator('.seg-template').count()).toBeGreaterThan(0);
    await s.shot('07-study-ready');
    await s.page.getByRole('button', { name: 'Save and start run' }).click();
    await s.page.getByTestId('runs-table').waitFor({ timeout: 30_000 });
    // The run lives in the engine process, not the page: a reload does not stop it.
    await s.page.reload();
    await s.page.getByRole('tab', { name: 'Run monitor' }).click();
    await s.page.getByTestId('runs-table').waitFor({ timeout: 30_000 });
    await s.page.getByTestId('runs-table').locator('tbody tr td:nth-child(5)', { hasText: 'done' }).waitFor({ timeout: 360_000 });
    expect(await s.page.getByTestId('runs-table').textContent()).toContain('3/3');
    await s.shot('08-run-monitor');
  }, 400_000);

  it('shows the metrics with intervals on the Results screen', async () => {
    await s.page.getByRole('tab', { name: 'Results' }).click();
    await s.page.getByTestId('metrics-table').waitFor();
    expect(await s.page.getByTestId('metrics-table').locator('tbody tr').count()).toBeGreaterThan(3);
    // The paper's two views: kappa heatmap over source pairs, faithfulness bars per masked set.
    const kappaCells = s.t.wb.store.metrics.list(s.t.wb.store.runs.list()[0].id).filter((m) => m.name === 'kappa' && m.scope.level === 'word');
    expect(await s.page.getByTestId('plausibility-heatmap').locator('tbody tr').count()).toBe(kappaCells.length);
    expect(await s.page.getByTestId('faithfulness-bars').locator('.bar-row').count()).toBeGreaterThan(2);
    await s.shot('09-results');
  });

  it('shows aligned per-token heatmaps in the example inspector', async () => {
    await s.page.getByRole('tab', { name: 'Inspector' }).click();
    await s.page.getByTestId('inspector').waitFor();
    const rowLabels = await s.page.locator('.heatmap .labels .label').allTextContents();
    expect(rowLabels).toContain('lrp-cp');
    expect(await s.page.locator('.heatmap .col').count()).toBeGreaterThan(3);
    await s.shot('10-inspector-tokens');
    await s.page.getByLabel('Granularity').selectOption('word');
    await s.shot('11-inspector-words');
    await s.page.getByLabel('Granularity').selectOption('token');
    await s.page.getByRole('button', { name: 'Next →' }).click();
    await s.page.getByText('example 2 of').waitFor();
  });

  it('exports CSV and the PDF report as downloads', async () => {
    await s.page.getByRole('tab', { name: 'Export' }).click();
    const csvDl = s.page.waitForEvent('download');
    await s.page.getByRole('button', { name: 'CSV' }).click();
    const csv = await csvDl;
    expect(csv.suggestedFilename()).toMatch(/^run-\d+\.csv$/);
    const csvPath = join(SCREENS_DIR, 'run.csv');
    await csv.saveAs(csvPath);
    expect(readFileSync(csvPath, 'utf8').trim().split('\n')).toHaveLength(4);
    const pdfDl = s.page.waitForEvent('download', { timeout: 120_000 });
    await s.page.getByRole('button', { name: 'PDF report' }).click();
    const pdf = await pdfDl;
    const pdfPath = join(SCREENS_DIR, 'report.pdf');
    await pdf.saveAs(pdfPath);
    expect(readFileSync(pdfPath).subarray(0, 5).toString()).toBe('%PDF-');
    await s.shot('12-export');
  });

  it('had no page errors (CSP violations, exceptions)', () => {
    expect(s.pageErrors.join('\n')).toBe('');
  });
});

// In this file (not shell.test.ts) because it serves out/renderer, which this file's flow also serves.
describe('the run command without an Electron binary', () => {
  const bin = findElectronBinary(repoRoot);
  const dataDir = mkdtempSync(join(tmpdir(), 'rw-launch-'));
  beforeAll(() => buildRenderer());
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it.skipIf(bin.ok && !displayProblem())('says why Electron cannot start and serves browser mode on loopback with a token', async () => {
    const child = spawn('npx', ['tsx', 'main/shell/launch.ts'], {
      cwd: repoRoot,
      env: { ...process.env, RW_DATA_DIR: dataDir, RW_REBUILD: '0', RW_NO_DEMO: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no address printed:\n${out}`)), 90_000);
        child.stdout.on('data', () => {
          const m = /Open: (http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64})/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
      });
      expect(out).toMatch(/Electron cannot start here: .+\./);
      const base = url.slice(0, url.indexOf('#'));
      const token = url.slice(url.indexOf('#token=') + 7);
      expect((await fetch(base)).status).toBe(200);
      expect((await fetch(`${base}api/call/appInfo`, { method: 'POST', body: '{}' })).status).toBe(401);
      const ok = await fetch(`${base}api/call/appInfo`, { method: 'POST', body: '{}', headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      const info = (await ok.json()) as { value: { mode: string; dataDir: string } };
      expect(info.value.mode).toBe('browser');
      expect(info.value.dataDir).toBe(dataDir);
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
    }
  });
});
