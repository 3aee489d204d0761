import { expect } from 'vitest';
import type { Journey } from './context';

/**
 * The end of the story: the analyst is done with her dataset and deletes it. Before anything goes, the GUI
 * shows what would be lost with it — the studies and runs that used it, with their results; she confirms; the
 * dataset is gone, and everything else (the demo's runs, other datasets and studies) is still there.
 */
export const title = 'she deletes her dataset: the GUI shows the studies and runs that go with it, she confirms, the rest stays';

export async function run(j: Journey): Promise<void> {
  const { page } = j.s;
  const store = j.s.t.wb.store;
  const datasetId = j.datasetId!;
  const dataset = store.datasets.get(datasetId)!;
  // what the store holds now, read independently of the deletion code: her runs, and everything else
  const hers = store.runs.list({ datasetId });
  const others = store.runs.list().filter((r) => r.datasetId !== datasetId);
  const otherDatasets = store.datasets.list().filter((d) => d.id !== datasetId);
  const resultsOf = (runId: number) => store.results.list(runId, { relevance: false }).length;
  const hersResults = hers.reduce((n, r) => n + resultsOf(r.id), 0);
  const settled = (s: string) => s !== 'running' && s !== 'queued';
  const othersResults = new Map(others.filter((r) => settled(r.status)).map((r) => [r.id, resultsOf(r.id)]));
  expect(hers.length).toBeGreaterThan(0);

  // She opens the Datasets screen: her dataset is in the list.
  await page.getByRole('tab', { name: 'Datasets' }).click();
  const row = page.getByTestId('datasets-table').locator('tr', { hasText: dataset.name });
  await row.waitFor();
  await j.s.shot('journey-09-datasets');

  // She presses Delete on its row: before anything is deleted, a dialog says what goes with it.
  await page.getByTestId(`row-actions-dataset-${datasetId}`).getByRole('button', { name: 'Delete' }).click();
  const dialog = page.getByTestId('delete-dialog');
  const summary = dialog.getByTestId('delete-summary');
  await summary.waitFor();
  const said = (await summary.textContent())!;
  expect(said).toMatch(new RegExp(`^Deleting dataset “${dataset.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}” \\(${dataset.exampleCount} examples\\) also deletes \\d+ stud(y|ies) and ${hers.length} runs? with ${hersResults.toLocaleString('en-US')} results?\\.$`));
  // the runs that used it, each with its study, are listed
  const runsListed = await dialog.getByTestId('delete-runs').locator('li').allTextContents();
  for (const r of hers.slice(0, 8)) expect(runsListed.some((t) => t.startsWith(`run ${r.id}`))).toBe(true);
  await dialog.getByTestId('delete-studies').waitFor();
  // nothing has gone yet
  expect(store.datasets.get(datasetId)).toBeDefined();
  expect(store.runs.list({ datasetId })).toHaveLength(hers.length);
  await j.s.shot('journey-09-delete-what-goes');

  // She confirms: the dataset leaves the list.
  await dialog.getByRole('button', { name: /^Delete dataset and \d+ runs?$/ }).click();
  await dialog.waitFor({ state: 'detached' });
  await row.waitFor({ state: 'detached' });
  expect(store.datasets.get(datasetId)).toBeUndefined();
  expect(store.runs.list({ datasetId })).toEqual([]);
  await j.s.shot('journey-09-deleted');

  // Everything else is still there: the other datasets, and the demo's runs in the run monitor.
  expect(store.datasets.list().map((d) => d.id)).toEqual(otherDatasets.map((d) => d.id));
  expect(store.runs.list().map((r) => r.id)).toEqual(others.map((r) => r.id));
  for (const [runId, n] of othersResults) expect(resultsOf(runId)).toBe(n);
  await page.getByRole('tab', { name: 'Run monitor' }).click();
  const table = page.getByTestId('runs-table');
  if (others.length) {
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(others.length);
  }
  for (const r of hers) expect(await table.locator('tbody tr td:first-child').allTextContents()).not.toContain(String(r.id));
  await j.s.shot('journey-09-the-rest-stays');
  expect(store.integrityCheck()).toBe('ok');
}
