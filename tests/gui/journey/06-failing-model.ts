import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { generateModel } from '../../../main/gguf/generate';
import type { ModelRecord, StudyRecord } from '../../../main/store/types';
import { ok } from '../../api/helpers';
import type { Journey } from './context';

export const title = "a model whose file is gone: its run shows failed with the reason and the study's name, after a reload";

export async function run(j: Journey): Promise<void> {
  const { page, t } = j.s;
  const store = t.wb.store;

  // The analyst had registered a second model (set up here through the API: a small generated GGUF with
  // a chat template); since then its file has been deleted from the disk.
  const file = join(j.dir, 'second-model.gguf');
  await generateModel({ path: file, seed: 11, nLayer: 1, nEmbd: 32, nHead: 4, nHeadKv: 2, nFf: 64, contextLength: 512, vocab: 'synthetic', chatTemplate: 'chatml' });
  const model = (ok(await t.wb.call('registerModel', { file: t.upload(file, 'second-model.gguf') })) as { model: ModelRecord }).model;
  j.failingModelId = model.id;
  rmSync(model.path);

  // She copies her study for that model (the same configuration, the other model).
  const base = store.studies.get(j.studyId!)!;
  const config = base.config as Record<string, unknown> & { models: { mode?: string }[] };
  const name = `${base.name} — second model`;
  const study = (ok(await t.wb.call('saveStudy', { name, config: { ...config, name, models: [{ id: model.id, mode: config.models[0].mode ?? 'paper' }] } })) as { study: StudyRecord }).study;

  // She starts it from the Run monitor: every run of it (one per seed) is there at once, failed, with the reason.
  await page.getByRole('tab', { name: 'Run monitor' }).click();
  await page.reload();
  await page.getByRole('tab', { name: 'Run monitor' }).click();
  await page.getByLabel('Start a saved study').selectOption(String(study.id));
  await page.getByRole('button', { name: 'Start run' }).click();
  const table = page.getByTestId('runs-table');
  const failedRows = table.locator('tr[data-status="failed"]', { hasText: name });
  await expect.poll(() => failedRows.count(), { timeout: 120_000 }).toBe(config.seeds ? (config.seeds as number[]).length : 1);
  const runs = store.runs.list({ studyId: study.id });
  for (const r of runs) {
    expect(r.status).toBe('failed');
    // named as she knows it, not by the app's private copy of her upload
    expect(r.error).toMatch(/^model "second-model\.gguf" could not be loaded: /);
    expect(r.error).not.toContain(model.path);
  }
  expect(await failedRows.first().getByTestId('run-error').textContent()).toBe(runs[0].error);
  await j.s.shot('journey-06-failed-run');

  // After a reload the failure is still there: it is the run's stored state, not a passing message.
  await page.reload();
  await page.getByRole('tab', { name: 'Run monitor' }).click();
  await expect.poll(() => failedRows.count()).toBe(runs.length);
  for (const r of runs) {
    const row = table.locator(`tr[data-run="${r.id}"][data-status="failed"]`);
    expect(await row.locator('td.study').textContent()).toBe(name);
    expect(await row.getByTestId('run-error').textContent()).toBe(r.error);
  }
  await j.s.shot('journey-06-failed-after-reload');
}
