import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport } from '../../main/api/catalogue';
import { ensureDemoModel } from '../../main/runner';
import type { ModelRecord, StudyRecord } from '../../main/store/types';
import { ok, repoRoot } from '../api/helpers';
import { chromiumAvailable, openBrowserMode } from './harness';
import type { Journey } from './journey/context';
import * as chapter09 from './journey/09-delete-dataset';

/**
 * Housekeeping in the GUI (issue 12 item 6), in Chromium against browser mode: the row actions (Rename inline,
 * Delete with what goes shown first) on the Datasets and Study screens, a saved study reopened in the form, the
 * duplicate-import warning, and the journey's chapter 09 run alone over data set up through the API.
 */
const MINI = join(repoRoot, 'tests/fixtures/sentiment-mini.csv');

/**
 * The analyst's reports, in the form this branch's CSV importer reads (rationales as JSON word lists; the
 * journey's own file, context.ts analystCsv, needs the ';'-separated lists of the import chapter's branch).
 */
function analystReports(dir: string): string {
  const file = join(dir, 'analyst-reports.csv');
  writeFileSync(
    file,
    [
      'id,text,label,language,rationale',
      'a1,"The workers had not been paid for months, the report says.",yes,en,"[""paid"",""months,""]"',
      'a2,"The employer kept her passport. She could not leave.",yes,en,"[""kept"",""passport.""]"',
      'a3,The factory opened a new canteen for its staff.,no,en,[]',
      'a4,Arbejderne fik ikke løn i flere måneder.,yes,da,"[""løn""]"',
      'a5,Medarbejderne holdt sommerfest i haven.,no,da,[]',
      'a6,"The workers stayed at the site for a year and were not paid.",yes,en,"[""paid.""]"',
    ].join('\n') + '\n',
  );
  return file;
}

describe.skipIf(!chromiumAvailable)('GUI housekeeping (Chromium, browser mode)', () => {
  const j = {} as Journey;
  let model: ModelRecord;
  let demoDataset: number;
  let demoStudy: StudyRecord;
  const call = async <T>(m: string, a: unknown) => ok((await j.s.t.wb.call(m, a)) as never) as T;
  /** A finished run with one result per example, as a run leaves it (straight into the store). */
  const finishedRun = (studyId: number, datasetId: number, n: number) => {
    const s = j.s.t.wb.store;
    const id = s.runs.create({ studyId, modelId: model.id, datasetId, seed: 28, appVersion: 'test', total: n });
    for (const ex of s.datasets.examples(datasetId).slice(0, n)) s.results.put(id, ex.id, { rawOutputs: { turn1: 'yes' }, label: 'yes', correct: true });
    s.runs.finish(id, { status: 'done' });
    return id;
  };

  beforeAll(async () => {
    j.dir = mkdtempSync(join(tmpdir(), 'rw-housekeeping-'));
    j.s = await openBrowserMode();
    const t = j.s.t;
    model = (await call<{ model: ModelRecord }>('registerModel', { file: t.upload(await ensureDemoModel(), 'demo.gguf') })).model;
    // "the demo": a dataset, a study and a finished run that must survive her deletion
    demoDataset = (await call<ImportReport>('importDataset', { file: t.upload(MINI), format: 'csv', name: 'demo sentences' })).dataset.id;
    demoStudy = (await call<{ study: StudyRecord }>('saveStudy', {
      name: 'demo study',
      config: { task: { kind: 'sentiment' }, language: 'en', dataset: { id: demoDataset }, models: [{ id: model.id }], seeds: [28] },
    })).study;
    finishedRun(demoStudy.id, demoDataset, 3);
    // the analyst's dataset, her study and two runs (what the journey's earlier chapters leave)
    j.datasetId = (await call<ImportReport>('importDataset', { file: t.upload(analystReports(j.dir)), format: 'csv', name: 'analyst reports' })).dataset.id;
    const hers = (await call<{ study: StudyRecord }>('saveStudy', {
      name: 'forced labour pilot',
      config: { task: { kind: 'custom', labels: ['yes', 'no'] }, language: 'en', dataset: { id: j.datasetId }, models: [{ id: model.id }], seeds: [28, 79] },
    })).study;
    j.studyId = hers.id;
    j.modelId = model.id;
    j.runIds = [finishedRun(hers.id, j.datasetId, 6), finishedRun(hers.id, j.datasetId, 4)];
    await j.s.page.reload();
  }, 180_000);
  afterAll(async () => {
    await j.s?.close();
    rmSync(j.dir, { recursive: true, force: true });
  });

  it('Datasets: Rename edits the name in place (a bad name is refused next to it); Escape cancels', async () => {
    const { page } = j.s;
    await page.getByRole('tab', { name: 'Datasets' }).click();
    const actions = page.getByTestId(`row-actions-dataset-${demoDataset}`);
    await actions.getByRole('button', { name: 'Rename' }).click();
    const input = actions.getByRole('textbox');
    await input.fill('   ');
    await input.press('Enter');
    await actions.getByRole('alert').filter({ hasText: 'must not be empty' }).waitFor();
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    await j.s.shot('housekeeping-01-rename-refused');
    await input.fill('Demo sentences (EN/DA/IT)');
    await input.press('Enter');
    await page.getByTestId('datasets-table').getByText('Demo sentences (EN/DA/IT)').waitFor();
    expect(j.s.t.wb.store.datasets.get(demoDataset)!.name).toBe('Demo sentences (EN/DA/IT)');
    // renaming does not open the row's examples (the click stays in the actions)
    expect(await page.getByTestId('examples').count()).toBe(0);
    await actions.getByRole('button', { name: 'Rename' }).click();
    await actions.getByRole('textbox').fill('never saved');
    await actions.getByRole('textbox').press('Escape');
    await actions.getByRole('button', { name: 'Rename' }).waitFor();
    expect(j.s.t.wb.store.datasets.get(demoDataset)!.name).toBe('Demo sentences (EN/DA/IT)');
    await j.s.shot('housekeeping-02-renamed');
  });

  it('Datasets: importing the same file again warns, naming the first import; "Delete the new copy" removes only the copy', async () => {
    const { page } = j.s;
    await page.getByLabel('Format').selectOption('csv');
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Choose file…' }).click();
    await (await chooser).setFiles(MINI);
    await page.getByRole('button', { name: 'Import' }).click();
    const warning = page.getByTestId('import-duplicate');
    await warning.waitFor({ timeout: 60_000 });
    const first = j.s.t.wb.store.datasets.get(demoDataset)!;
    expect(await warning.textContent()).toContain(`Same content as dataset “${first.name}” imported on ${first.createdAt.replace('T', ' ').slice(0, 16)}.`);
    expect(j.s.t.wb.store.datasets.list()).toHaveLength(3);
    await j.s.shot('housekeeping-03-duplicate-import');
    await warning.getByRole('button', { name: 'Delete the new copy' }).click();
    await page.getByTestId('duplicate-note').filter({ hasText: `“${first.name}” stays` }).waitFor();
    expect(j.s.t.wb.store.datasets.list().map((d) => d.id)).toEqual([demoDataset, j.datasetId]);
    expect(await page.getByTestId('datasets-table').locator('tbody tr').count()).toBe(2);
  });

  it('Study: a saved study opens in the form, saves under its name; Rename and Delete (what goes shown first) in the list', async () => {
    const { page } = j.s;
    // a study without runs, to delete
    const spare = (await call<{ study: StudyRecord }>('saveStudy', {
      name: 'spare study',
      config: { task: { kind: 'sentiment' }, language: 'en', dataset: { id: demoDataset }, models: [{ id: model.id }], seeds: [5] },
    })).study;
    await page.getByRole('tab', { name: 'Study' }).click();
    const list = page.getByTestId('saved-studies');
    await list.getByText('spare study').waitFor();
    // no "(v1)" next to the names
    expect(await list.textContent()).not.toMatch(/\(v\d+\)/);

    // Open: the form holds the study; saving updates it (same id, same name)
    await page.getByRole('button', { name: 'Open study “spare study”' }).click();
    await page.getByTestId('study-editing').filter({ hasText: 'Editing “spare study”' }).waitFor();
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('spare study');
    expect(await page.getByLabel('Seeds').inputValue()).toBe('5');
    await page.getByLabel('Seeds').fill('5, 6');
    await page.getByTestId('study-valid').filter({ hasText: 'configuration valid' }).waitFor();
    await page.getByRole('button', { name: 'Save study', exact: true }).click();
    await page.getByTestId('study-message').filter({ hasText: `Saved study ${spare.id} “spare study”.` }).waitFor();
    expect((j.s.t.wb.store.studies.get(spare.id)!.config as { seeds: number[] }).seeds).toEqual([5, 6]);
    expect(j.s.t.wb.store.studies.list().filter((s) => s.name === 'spare study')).toHaveLength(1);
    await page.evaluate(() => window.scrollTo(0, 0));
    await j.s.shot('housekeeping-04-study-reopened');

    // the demo study has a run: opened and saved, it becomes version 2 under the same name
    await page.getByRole('button', { name: 'Open study “demo study”' }).click();
    await page.getByLabel('Seeds').fill('28, 79');
    await page.getByTestId('study-valid').filter({ hasText: 'configuration valid' }).waitFor();
    await page.getByRole('button', { name: 'Save study', exact: true }).click();
    await page.getByTestId('study-message').filter({ hasText: 'as version 2: the earlier version keeps the configuration its runs ran' }).waitFor();
    await list.getByText('version 2').waitFor();
    expect(j.s.t.wb.store.runs.list({ studyId: demoStudy.id })).toHaveLength(1);
    expect((j.s.t.wb.store.studies.get(demoStudy.id)!.config as { seeds: number[] }).seeds).toEqual([28]);

    // Rename in the list
    const actions = page.getByTestId(`row-actions-study-${spare.id}`);
    await actions.getByRole('button', { name: 'Rename' }).click();
    await actions.getByRole('textbox').fill('spare, renamed');
    await actions.getByRole('button', { name: 'Save' }).click();
    await list.getByText('spare, renamed').waitFor();
    expect(j.s.t.wb.store.studies.get(spare.id)!.name).toBe('spare, renamed');

    // Delete: the dialog says it goes alone; Cancel keeps it; Delete removes it
    await page.getByTestId(`row-actions-study-${spare.id}`).getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByTestId('delete-dialog');
    await dialog.getByTestId('delete-summary').filter({ hasText: 'Deleting study “spare, renamed” deletes nothing else: it has no runs.' }).waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await j.s.shot('housekeeping-05-delete-study');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(j.s.t.wb.store.studies.get(spare.id)).toBeDefined();
    await page.getByTestId(`row-actions-study-${spare.id}`).getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete study' }).click();
    await dialog.waitFor({ state: 'detached' });
    await list.getByRole('button', { name: 'Open study “spare, renamed”' }).waitFor({ state: 'detached' });
    expect(j.s.t.wb.store.studies.get(spare.id)).toBeUndefined();
    // the study open in the form (the demo study) is still the one being edited
    expect(await page.getByTestId('study-editing').textContent()).toContain('Editing “demo study”, version 2.');
  });

  it('Run monitor: a running run cannot be deleted (the dialog says why); once stopped, Delete removes it with its results', async () => {
    const { page } = j.s;
    const store = j.s.t.wb.store;
    const study = store.studies.latest(demoStudy.id)!;
    const runId = store.runs.create({ studyId: study.id, modelId: model.id, datasetId: demoDataset, seed: 79, appVersion: 'test', total: 4 });
    // this process leases it and marks it running, as a runner does
    const lease = store.runs.claim(runId);
    await page.getByRole('tab', { name: 'Run monitor' }).click();
    const actions = page.getByTestId(`row-actions-run-${runId}`);
    await actions.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByTestId('delete-dialog');
    await dialog.getByRole('alert').filter({ hasText: `run ${runId} cannot be deleted now: run ${runId} of study “demo study” is running: pause or cancel it first` }).waitFor();
    expect(await dialog.getByRole('button', { name: /^Delete/ }).count()).toBe(0);
    await j.s.shot('housekeeping-06-running-run-refused');
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect(store.runs.get(runId)!.status).toBe('running');

    store.runs.finish(runId, { status: 'stopped' });
    lease.release();
    await page.getByRole('tab', { name: 'Datasets' }).click();
    await page.getByRole('tab', { name: 'Run monitor' }).click();
    await actions.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByTestId('delete-summary').filter({ hasText: `Deleting run ${runId} of study “demo study” also deletes its 0 results.` }).waitFor();
    await dialog.getByRole('button', { name: 'Delete run' }).click();
    await actions.waitFor({ state: 'detached' });
    expect(store.runs.get(runId)).toBeUndefined();
  });

  it('Models: Delete says which runs go and that the workbench\'s copy of the file goes with it; Cancel keeps everything', async () => {
    const { page } = j.s;
    await page.getByRole('tab', { name: 'Models' }).click();
    await page.getByTestId(`row-actions-model-${model.id}`).getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByTestId('delete-dialog');
    const runs = j.s.t.wb.store.runs.list({ modelId: model.id }).length;
    await dialog.getByTestId('delete-summary').filter({ hasText: `Deleting model “demo.gguf” also deletes its ${runs} runs` }).waitFor();
    expect(await dialog.getByTestId('delete-file').textContent()).toBe(`The file goes with it: ${model.path}`);
    await j.s.shot('housekeeping-07-delete-model');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(j.s.t.wb.store.models.get(model.id)).toBeDefined();
    expect(j.s.t.wb.store.runs.list({ modelId: model.id })).toHaveLength(runs);
  });

  it(`journey chapter 09 alone: ${chapter09.title}`, async () => {
    await chapter09.run(j);
    // the demo's study and run stay (the chapter checks the store; here: by name)
    expect(j.s.t.wb.store.studies.list({ latestOnly: true }).map((s) => s.name)).toEqual(['demo study']);
    // its run ran version 1 (the study is at version 2 now): the run monitor still names the study
    await j.s.page.getByTestId('runs-table').locator('tbody tr td:nth-child(2)').filter({ hasText: 'demo study' }).waitFor();
    expect(j.s.pageErrors).toEqual([]);
  });
});
