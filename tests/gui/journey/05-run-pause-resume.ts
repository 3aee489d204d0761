import { expect } from 'vitest';
import { until, type Journey } from './context';

export const title = 'run the study, pause it, reload, resume it: it finishes';

export async function run(j: Journey): Promise<void> {
  const { page } = j.s;
  const store = j.s.t.wb.store;
  const studyId = j.studyId!;
  const runsOf = () => store.runs.list().filter((r) => store.studies.get(r.studyId)?.rootId === store.studies.get(studyId)!.rootId);
  const before = new Set(runsOf().map((r) => r.id));
  const mine = () => runsOf().filter((r) => !before.has(r.id));
  const table = page.getByTestId('runs-table');
  const row = (id: number, status?: string) => table.locator(`tr[data-run="${id}"]${status ? `[data-status="${status}"]` : ''}`);

  // The analyst opens the Run monitor and starts her saved study there.
  await page.getByRole('tab', { name: 'Run monitor' }).click();
  await page.getByLabel('Start a saved study').selectOption(String(studyId));
  await page.getByRole('button', { name: 'Start run' }).click();
  await until(() => mine().length > 0, 60_000, 'the study to make its runs');
  const ids = mine().map((r) => r.id);
  // one run per model and seed, all shown at once, with the study's name
  const studyName = store.studies.get(studyId)!.name;
  for (const id of ids) await expect.poll(() => row(id).locator('td.study').textContent()).toBe(studyName);
  await j.s.shot('journey-05-run-started');

  // When the first example is stored, she pauses the run under way (or, if it just ended, the next one).
  await until(() => mine().some((r) => r.progress.done >= 1), 300_000, 'a stored example');
  let first: number | undefined;
  for (const t0 = Date.now(); first === undefined && Date.now() - t0 < 60_000; ) {
    const live = mine().find((r) => r.status === 'running') ?? mine().find((r) => r.status === 'queued');
    if (!live) throw new Error('the study finished before it could be paused');
    const pause = row(live.id).getByRole('button', { name: 'Pause' });
    if (await pause.isVisible()) {
      await pause.click({ timeout: 2000 }).then(() => (first = live.id), () => undefined);
    }
  }
  if (first === undefined) throw new Error('no Pause button to click');
  // Pause stops after the example in flight; the study's other unfinished runs are paused with it.
  await until(() => mine().every((r) => r.status !== 'running' && r.status !== 'queued'), 120_000, 'the study to stop');
  const paused = mine().filter((r) => r.status !== 'done');
  expect(paused.length).toBeGreaterThan(0);
  expect(paused.map((r) => r.status)).toEqual(paused.map(() => 'paused'));
  for (const r of paused) await row(r.id, 'paused').waitFor();
  expect(mine().reduce((n, r) => n + r.progress.done, 0)).toBeGreaterThanOrEqual(1);
  await j.s.shot('journey-05-paused');

  // She reloads the page: the monitor reads the stored runs, still paused, with their progress.
  await page.reload();
  await page.getByRole('tab', { name: 'Run monitor' }).click();
  for (const r of paused) {
    await row(r.id, 'paused').waitFor();
    expect(await row(r.id).textContent()).toContain(`${r.progress.done}/${r.progress.total}`);
  }
  await j.s.shot('journey-05-paused-after-reload');

  // Resume continues the run, and the study's other paused runs with it (no second click for each).
  await row(paused[0].id).getByRole('button', { name: 'Resume' }).click();
  for (const r of paused) await row(r.id, 'paused').waitFor({ state: 'detached', timeout: 60_000 });
  await j.s.shot('journey-05-resumed');
  await until(() => mine().every((r) => r.status === 'done' || r.status === 'failed'), 600_000, 'the runs to finish');
  for (const id of ids) await row(id, 'done').waitFor({ timeout: 30_000 });
  // nothing was computed twice: each run's results are its examples, once
  for (const id of ids) {
    const done = store.results.doneExampleIds(id);
    expect(new Set(done).size).toBe(store.runs.get(id)!.progress.total);
  }
  await j.s.shot('journey-05-finished');
  j.runIds = ids;

  // The row's "Results" opens that run's results alone, not every run's.
  await row(ids[0]).getByRole('button', { name: 'Results' }).click();
  await expect.poll(() => page.locator('#res-show').inputValue()).toBe(`run:${ids[0]}`);
  await page.getByTestId('results-summary').filter({ hasText: /in 1 run\b/ }).waitFor({ timeout: 60_000 });
  await j.s.shot('journey-05-results-of-one-run');
}
