import { expect } from 'vitest';
import type { Journey } from './context';

export const title = 'configures a forced-labour study with a definitions choice and her model; the too-long text is flagged before the run';

export async function run(j: Journey): Promise<void> {
  const p = j.s.page;
  if (j.datasetId === undefined || j.modelId === undefined) throw new Error('this chapter needs the dataset (chapter 02) and the model (chapter 03)');
  const model = j.s.t.wb.store.models.get(j.modelId)!;
  const modelName = String(model.metadata.displayName ?? model.path.split(/[\\/]/).pop());

  await p.getByRole('tab', { name: 'Study' }).click();
  await p.getByLabel('Name', { exact: true }).fill('Withheld wages in the reports');
  // A forced-labour study about one ILO indicator, with the workbench's own definitions in the prompt.
  await p.getByLabel('Task').selectOption('forced-labour');
  await p.locator('#st-ind').selectOption('Withholding of wages');
  await p.getByLabel('Definitions in the prompt').selectOption('builtin');
  await p.getByLabel('Dataset').selectOption(`id:${j.datasetId}`);
  await p.getByRole('checkbox', { name: modelName }).check();
  // the paper's protocol: the model writes its answer (a tiny model often writes no valid one: chapter 07 shows those)
  await p.getByLabel('Answer mode').selectOption('paper');

  // The label mapping starts from the one she chose at import: yes and no are mapped already.
  const editor = p.getByTestId('label-map');
  await editor.waitFor({ timeout: 60_000 });
  await expect.poll(() => p.getByLabel('map label yes').inputValue(), { timeout: 15_000 }).toBe('to:yes');
  expect(await p.getByLabel('map label no').inputValue()).toBe('to:no');
  expect(await p.getByTestId('label-map-from-dataset').isVisible()).toBe(true);

  // Before any run, every text is counted with her model's tokenizer: the long report does not fit.
  const fit = p.getByTestId('fit-check');
  const tooLong = p.getByTestId('too-long');
  await tooLong.waitFor({ timeout: 120_000 });
  const rows = await tooLong.locator('tbody tr').allTextContents();
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatch(/^a6[\d,]+[\d,]+[\d,]+$/);
  expect(await fit.textContent()).toMatch(new RegExp(`${modelName.replace(/[.]/g, '\\.')}: 1 of 6 texts will not fit its context of [\\d,]+ tokens`));
  // the run cannot start until she chooses what to do with it
  expect(await p.getByTestId('study-valid').textContent()).toMatch(/problem/);
  expect(await p.getByRole('button', { name: 'Save and start run' }).isDisabled()).toBe(true);
  await p.evaluate(() => window.scrollTo(0, 0));
  await j.s.shot('journey-04-too-long-flagged');

  // She skips it: it will be stored as skipped with the reason, never silently dropped.
  await p.getByRole('radio', { name: /Skip them/ }).check();
  await p.getByTestId('study-valid').filter({ hasText: 'configuration valid' }).waitFor();
  expect(await p.getByRole('button', { name: 'Save and start run' }).isDisabled()).toBe(false);
  await p.evaluate(() => window.scrollTo(0, 0));
  await j.s.shot('journey-04-skip-chosen');

  await p.getByRole('button', { name: 'Save study' }).click();
  await p.getByTestId('study-message').filter({ hasText: 'Saved study' }).waitFor();
  const saved = j.s.t.wb.store.studies.list().find((s) => s.name === 'Withheld wages in the reports')!;
  const config = saved.config as { task: { kind: string; indicator: string; labelMap: unknown; definitions: { name: string } }; limits: { tooLong?: string }; models: { id: number }[] };
  expect(config.task).toMatchObject({ kind: 'forced-labour', indicator: 'Withholding of wages', labelMap: { yes: 'yes', no: 'no' }, definitions: { name: 'ilo-indicators' } });
  expect(config.limits.tooLong).toBe('skip');
  expect(config.models.map((m) => m.id)).toEqual([j.modelId]);
  j.studyId = saved.id;
}
