/**
 * Faithfulness curves over k in the Results screen (issue 12 item 8), in Debian's Chromium against browser mode
 * over a real SQLite file: a real study run (real CLI, a tiny generated GGUF) with k-greedy flipping, shown in
 * Results as a line per method (LRP, random), each with its stored area and interval in the legend, the caption
 * saying lower is more faithful and the heading carrying the glossary's tooltip.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatInterval, formatValue } from '../../renderer/src/lib/results-view';
import { runTinyStudy } from '../runner/tiny-study';
import { chromiumAvailable, openBrowserMode, type BrowserModeSession } from './harness';

describe.skipIf(!chromiumAvailable)('Results: k-greedy flipping curves (Chromium)', () => {
  let s: BrowserModeSession;
  let dir = '';
  beforeAll(async () => {
    s = await openBrowserMode();
    dir = mkdtempSync(join(tmpdir(), 'rw-gui-flip-'));
    const db = s.t.wb.store.file;
    const r = await runTinyStudy(dir, db, { name: 'flip curves', metrics: ['accuracy', 'kappa', 'prob-drop', 'k-greedy-flipping'], limits: { maxExamples: 3 } }, { threads: 2 });
  }, 400_000);
  afterAll(async () => {
    await s?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws one line per method with its area and interval in the legend', async () => {
    const page = s.page;
    const run = s.t.wb.store.runs.list().at(-1)!;
    await page.getByRole('tab', { name: 'Results' }).click();
    const block = page.getByTestId('flipping-curves');
    await block.waitFor();
    const plot = block.getByTestId(`flip-run-${run.id}`);
    // one polyline per stored method, each with points (21: every 5 % of the text)
    const lines = plot.locator('polyline.curve');
    expect((await lines.evaluateAll((ls) => ls.map((l) => l.getAttribute('data-method')))).sort()).toEqual(['lrp-cp', 'random']);
    for (const n of await lines.evaluateAll((ls) => ls.map((l) => l.getAttribute('points')!.trim().split(/\s+/).length))) expect(n).toBe(21);
    // the legend: each method's stored area with its interval
    const stored = s.t.wb.store.metrics.list(run.id).filter((m) => m.name === 'k-greedy-flipping' && m.scope.language === undefined);
    for (const m of stored) {
      const key = plot.locator(`.key[data-method="${m.scope.method}"]`);
      await expect.poll(() => key.textContent()).toContain(`area ${formatValue(m.value)} (${formatInterval(m.ciLow, m.ciHigh)})`);
    }
    expect(await plot.locator('.key').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('LRP'), expect.stringContaining('random')]));
    expect(await block.textContent()).toContain('Lower = more faithful');
    // the heading's term carries the glossary's tooltip
    expect(await block.locator('[data-term="k-greedy-flipping"]').getAttribute('title')).toMatch(/Lower = more faithful/);
    await block.scrollIntoViewIfNeeded();
    await s.shot('results-flipping-curves');
    expect(s.pageErrors).toEqual([]);
  }, 120_000);
});
