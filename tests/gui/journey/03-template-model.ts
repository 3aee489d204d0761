import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { shared } from '../../api/helpers';
import type { Journey } from './context';

export const title = 'register a template-less GGUF and choose a chat template for it';

/**
 * The analyst brings her own GGUF file. It has no chat template (../shared/models/stories260K.gguf, under
 * her own file name), so the workbench cannot use it as it is. She registers it, sees that it has none,
 * picks the Llama 2 family, checks the rendered two-turn chat, and saves: the model can now run in a study.
 */
export async function run(j: Journey): Promise<void> {
  const { page } = j.s;
  const file = join(j.dir, 'ngo-interviews-q4.gguf');
  copyFileSync(join(shared, 'models/stories260K.gguf'), file);

  // She opens the Models screen and chooses her file.
  await page.getByRole('tab', { name: 'Models' }).click();
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Choose GGUF file…' }).click();
  await (await chooser).setFiles(file);

  // The inspection says what the file holds, and that it has no chat template.
  await page.getByTestId('model-inspection').waitFor({ timeout: 60_000 });
  expect(await page.getByTestId('inspection-template').textContent()).toMatch(/^none: after registering, choose one/);
  await j.s.shot('journey-03-template-model-1-inspected');

  // She registers it; the screen offers the template choice at once, and the list marks the model as not usable yet.
  await page.getByRole('button', { name: 'Register this model' }).click();
  const picker = page.getByTestId('template-picker');
  await picker.waitFor({ timeout: 60_000 });
  expect(await picker.getByRole('heading').first().textContent()).toBe('Chat template for “ngo-interviews-q4.gguf”');
  await page.getByTestId('template-missing').waitFor();
  const model = j.s.t.wb.store.models.list().find((m) => m.metadata.displayName === 'ngo-interviews-q4.gguf')!;
  expect(await page.getByTestId(`model-template-${model.id}`).textContent()).toMatch(/none/);
  await j.s.shot('journey-03-template-model-2-no-template');

  // She picks Llama 2: the preview shows a short two-turn chat with the family's [INST] markers.
  await page.getByLabel('Template', { exact: true }).selectOption({ label: 'Llama 2' });
  const preview = page.getByTestId('template-preview');
  await preview.waitFor({ timeout: 60_000 });
  const text = (await preview.textContent())!;
  expect(text).toContain('[INST] Is this review positive or negative? "A fine film." [/INST] positive');
  expect(await preview.locator('mark').allTextContents()).toEqual(['[INST]', '[/INST]', '[INST]', '[/INST]']);
  await j.s.shot('journey-03-template-model-3-preview');

  // She saves it: the choice is stored with the model, and the list says which template it uses.
  await page.getByRole('button', { name: 'Save template' }).click();
  await page.getByTestId('template-saved').waitFor();
  await picker.waitFor({ state: 'detached' });
  expect(await page.getByTestId(`model-template-${model.id}`).textContent()).toMatch(/Llama 2 \(chosen\)/);
  expect(j.s.t.wb.store.models.get(model.id)!.templateChoice?.family).toBe('llama2');
  await page.getByTestId('hardware-summary').waitFor({ timeout: 60_000 });
  await j.s.shot('journey-03-template-model-4-saved');
  j.modelId = model.id;
}
