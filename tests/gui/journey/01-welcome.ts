import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { FirstRunStatus } from '../../../main/api/catalogue';
import type { Journey } from './context';

export const title = 'first run: the welcome screen, the demo running, its results inside the app, then "get a real model"';

/** The demo runs four small studies on a generated model: about 1.5 minutes here, more on a loaded machine. */
const DEMO_MS = 900_000;

/** Most of a screen's height the Results page of one demo study may take (it was 13,000 px for all runs). */
export const RESULTS_MAX_HEIGHT = 2600;

export async function run(j: Journey): Promise<void> {
  const { page } = j.s;
  // A fresh installation: the app opens on the welcome screen, which says in a few sentences what the
  // workbench is for, while the built-in demo runs in the background.
  const welcome = page.getByTestId('welcome');
  await welcome.waitFor();
  expect(await page.getByRole('heading', { name: 'Welcome to Rationale Workbench' }).isVisible()).toBe(true);
  expect(await welcome.textContent()).toMatch(/can you trust that explanation\?/);
  // the terms it uses carry their glossary text as a tooltip
  expect(await welcome.locator('[data-term="plausibility-faithfulness"]').first().getAttribute('title')).toMatch(/^Plausibility vs faithfulness: /);
  await j.s.shot('journey-01-welcome');

  // The demo's progress shows while it runs: examples done of the runs made so far.
  const status = () => j.s.t.wb.call('firstRunStatus', {}).then((r) => (r.ok ? (r.value as FirstRunStatus) : null));
  if ((await status())?.demo.state === 'running') {
    const progress = page.getByTestId('demo-progress');
    await progress.waitFor();
    expect(await progress.textContent()).toMatch(/Preparing the built-in demo|The built-in demo is running on a small generated model: study \d of \d, \d+ of \d+ examples done so far/);
    // once its first run exists, which study it is on and how many examples are done (unless it ends first)
    await Promise.race([progress.filter({ hasText: 'examples done so far' }).waitFor({ timeout: DEMO_MS }), page.getByTestId('demo-done').waitFor({ timeout: DEMO_MS })]);
    await j.s.shot('journey-01-demo-running');
  }

  // When the demo is done, the welcome screen says so and offers its results and its PDF report.
  await page.getByTestId('demo-done').waitFor({ timeout: DEMO_MS });
  const outcome = await j.s.demo;
  expect(outcome.status).toBe('done');
  const s = (await status())!;
  expect(s.ownRuns).toBe(0);
  expect(s.demo.done).toBe(s.demo.total);
  await j.s.shot('journey-01-demo-done');

  // The PDF report downloads by its built-in name (no path crosses the API) and is the one the demo wrote.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save the PDF report' }).click()]);
  expect(download.suggestedFilename()).toBe('demo-report.pdf');
  const saved = join(j.dir, 'demo-report.pdf');
  await download.saveAs(saved);
  expect(readFileSync(saved).subarray(0, 5).toString()).toBe('%PDF-');
  expect(readFileSync(saved).equals(readFileSync(join(j.s.t.wb.options.dataDir, 'reports', 'demo-report.pdf')))).toBe(true);

  // "Open the demo's results": the report's figures inside the app, on the Results screen, one demo study at a
  // time (the others in its chooser), with plots and intervals, on a page of a reasonable height.
  await page.getByRole('button', { name: "Open the demo's results" }).click();
  expect(await page.getByRole('tab', { name: 'Results' }).getAttribute('aria-selected')).toBe('true');
  await page.getByTestId('results-summary').filter({ hasText: /\d+ examples? in 1 run/ }).waitFor({ timeout: 60_000 });
  expect(await page.getByLabel('Show').inputValue()).toBe(`study:${s.demo.studyIds[0]}`);
  await page.getByTestId('kappa-plot').waitFor();
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  expect(height).toBeLessThanOrEqual(RESULTS_MAX_HEIGHT);
  await j.s.shot('journey-01-demo-results');

  // The next step: a real model. The welcome screen stays reachable from the header.
  await page.getByRole('button', { name: 'Welcome', exact: true }).click();
  await page.getByRole('button', { name: 'Get a real model' }).click();
  expect(await page.getByRole('tab', { name: 'Models' }).getAttribute('aria-selected')).toBe('true');
  await j.s.shot('journey-01-models');
}
