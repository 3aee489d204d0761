import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FirstRunStatus } from '../../main/api/catalogue';
import { GLOSSARY } from '../../main/api/vocabulary';
import { maxThreads } from '../../main/models/session-threads';
import { formatInterval, formatValue } from '../../renderer/src/lib/results-view';
import { chromiumAvailable, openBrowserMode } from './harness';
import type { Journey } from './journey/context';
import * as welcome from './journey/01-welcome';
import * as exportChapter from './journey/08-export';

/**
 * Issue 12 items 8, 9, 12, 13 in Chromium (browser mode) over a fresh data directory where the first-run demo
 * runs, as `npm start` does: the journey's chapters 01 (welcome, the demo's progress, its results inside the
 * app, "get a real model") and 08 (export PDF, CSV, JSONL; here on a demo run, which the earlier chapters'
 * study run replaces in the whole journey), then the Results screen over every demo run (its height, each
 * bar's own label, κ intervals, the κ plot), the Glossary and its tooltips, and Settings.
 */
describe.skipIf(!chromiumAvailable)('welcome, results, glossary, settings and export (Chromium, browser mode, first-run demo)', () => {
  const j = {} as Journey;
  beforeAll(async () => {
    j.dir = mkdtempSync(join(tmpdir(), 'rw-welcome-'));
    j.s = await openBrowserMode({ firstRunDemo: true });
  }, 180_000);
  afterAll(async () => {
    await j.s?.close();
    rmSync(j.dir, { recursive: true, force: true });
  });

  it(`01. ${welcome.title}`, async () => {
    await welcome.run(j);
    expect(j.s.pageErrors).toEqual([]);
  }, 1_000_000);

  it('Results over every demo run: compact, each bar labelled with its own value, κ with intervals, the κ plot', async () => {
    const { page } = j.s;
    const { store } = j.s.t.wb;
    await page.getByRole('tab', { name: 'Results' }).click();
    const runs = store.runs.list();
    await page.getByLabel('Show').selectOption('all');
    await page.getByTestId('results-summary').filter({ hasText: `in ${runs.length} runs` }).waitFor({ timeout: 60_000 });
    // every run of the demo on one page: it was 13,000 px tall, now a few screens
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    expect(height).toBeLessThanOrEqual(4000);
    // each faithfulness bar carries its own stored value (they were all "0.001")
    const bars = page.getByTestId('faithfulness-bars');
    const labels: string[] = [];
    for (const r of runs) {
      const ps = store.metrics.list(r.id).filter((m) => m.name === 'p' && m.scope.language === undefined && m.scope.set !== 'unmasked');
      expect(ps.length).toBeGreaterThan(0);
      for (const m of ps) {
        const text = await bars.locator(`.bar-row[data-run="${r.id}"][data-set="${String(m.scope.set)}"] .num`).textContent();
        expect(text).toBe(formatValue(m.value));
        labels.push(text!);
      }
    }
    expect(new Set(labels).size).toBeGreaterThan(1);
    // κ cells show their 95 % interval, and the tooltip says what good looks like
    const k = store.metrics.list(runs[0].id).find((m) => m.name === 'kappa' && m.scope.level === 'word' && m.scope.pair === 'human×self' && m.scope.language === undefined)!;
    const cell = page.getByTestId('plausibility-heatmap').locator(`td[data-pair="human×self"][data-run="${runs[0].id}"]`);
    expect(await cell.locator('.val').textContent()).toBe(formatValue(k.value));
    expect(await cell.locator('.cell-ci').textContent()).toBe(formatInterval(k.ciLow, k.ciHigh));
    expect(await cell.getAttribute('title')).toMatch(/Good: 1 = perfect agreement, 0 = no better than chance/);
    // the κ plot: one dot per run for each method with a word-level κ against the human rationale
    const plotted = runs.flatMap((r) =>
      store.metrics.list(r.id).filter((m) => m.name === 'kappa' && m.scope.level === 'word' && String(m.scope.pair).startsWith('human×') && m.scope.language === undefined && m.value !== null),
    );
    expect(await page.getByTestId('kappa-plot').locator('.point').count()).toBe(plotted.length);
    await j.s.shot('welcome-results-every-run');
    // back to one study: shorter again
    await page.getByLabel('Show').selectOption(`study:${runs[0].studyId}`);
    await page.getByTestId('results-summary').filter({ hasText: /in 1 run\b/ }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(welcome.RESULTS_MAX_HEIGHT);
    await page.getByTestId('kappa-plot').screenshot({ path: join(j.dir, 'kappa-plot.png') });
    expect(j.s.pageErrors).toEqual([]);
  }, 120_000);

  it('Glossary from the header: every term with what good looks like; a term in Results opens it', async () => {
    const { page } = j.s;
    await page.getByTestId('comparison').locator('[data-term="kappa"]').first().click();
    const g = page.getByTestId('glossary');
    await g.waitFor();
    expect(await g.locator('[data-entry]').count()).toBe(GLOSSARY.length);
    expect(await g.locator('[data-entry="kappa"]').textContent()).toContain('What good looks like: 1 = perfect agreement, 0 = no better than chance');
    await j.s.shot('welcome-glossary');
    await page.getByRole('button', { name: 'Glossary', exact: true }).click();
    await g.waitFor();
    expect(j.s.pageErrors).toEqual([]);
  });

  it('Settings: data directory read-only in browser mode; threads and context size checked by the engine, saved to the settings file', async () => {
    const { page } = j.s;
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    const panel = page.getByTestId('settings');
    await panel.waitFor();
    expect(await page.getByTestId('data-dir').textContent()).toBe(j.s.t.wb.options.dataDir);
    await page.getByTestId('data-dir-readonly').waitFor();
    await page.getByLabel('Threads').fill(String(maxThreads() + 1));
    await page.getByLabel('Context size (prompt tokens)').fill('0');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByTestId('field-error-threads').waitFor();
    expect(await page.getByTestId('field-error-contextSize').textContent()).toBe('context size must be greater than 0, got number 0');
    expect(await page.getByLabel('Threads').getAttribute('aria-invalid')).toBe('true');
    await j.s.shot('welcome-settings-refused');
    await page.getByLabel('Threads').fill('1');
    await page.getByLabel('Context size (prompt tokens)').fill('2048');
    await page.getByRole('button', { name: 'Save settings' }).click();
    expect(await page.getByTestId('settings-saved').textContent()).toBe('Saved. New studies use this context size and these threads unless they set their own.');
    const file = j.s.t.wb.options.settingsFile!;
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ contextSize: 2048, threads: 1, dataDir: null });
    await j.s.shot('welcome-settings-saved');
    expect(j.s.pageErrors).toEqual([]);
  });

  it(`08. ${exportChapter.title} (on a demo run)`, async () => {
    const s = (await j.s.t.wb.call('firstRunStatus', {})) as { ok: true; value: FirstRunStatus };
    j.studyId = s.value.demo.studyIds[0];
    j.runIds = j.s.t.wb.store.runs.list({ studyId: j.studyId }).map((r) => r.id);
    await exportChapter.run(j);
    expect(j.s.pageErrors).toEqual([]);
  }, 600_000);
});
