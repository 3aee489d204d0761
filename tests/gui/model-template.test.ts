import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateModel } from '../../main/gguf/generate';
import { ok } from '../api/helpers';
import { chromiumAvailable, openBrowserMode } from './harness';
import type { Journey } from './journey/context';
import * as chapter from './journey/03-template-model';

/**
 * The Models screen's chat template picker (issue 12 item 1) in Chromium, browser mode: the journey's
 * chapter 3 on its own (it needs nothing from the chapters before it), then a custom template that does
 * not render, refused with the render error next to the field, and the machine's hardware line.
 */
describe.skipIf(!chromiumAvailable)('Models: choosing a chat template (Chromium)', () => {
  const j = {} as Journey;
  beforeAll(async () => {
    j.s = await openBrowserMode();
    j.dir = j.s.t.dir;
  });
  afterAll(async () => {
    await j.s?.close();
  });

  it(`journey chapter 03: ${chapter.title}`, async () => {
    try {
      await chapter.run(j);
    } catch (e) {
      await j.s.shot('journey-03-template-model-FAILED').catch(() => undefined);
      throw e;
    }
    expect(j.modelId).toBe(j.s.t.wb.store.models.list()[0].id);
    expect(j.s.pageErrors).toEqual([]);
  }, 180_000);

  it('a custom Jinja text that does not render: the error next to the field, nothing stored', async () => {
    const { page } = j.s;
    // the picker opens again for a model with a chosen template ("Change…")
    await page.getByRole('button', { name: 'Change…' }).click();
    const picker = page.getByTestId('template-picker');
    await picker.waitFor();
    await page.getByLabel('Template', { exact: true }).selectOption({ label: 'Custom Jinja text…' });
    await page.getByLabel(/Jinja chat template/).fill('{% for m in messages %}{{ m.content }');
    await page.getByRole('button', { name: 'Preview' }).click();
    const err = page.getByTestId('template-error');
    await err.waitFor({ timeout: 60_000 });
    expect(await err.textContent()).toMatch(/^does not render a two-turn chat: /);
    // right under the text field it is about
    const box = await err.boundingBox();
    const field = await page.getByLabel(/Jinja chat template/).boundingBox();
    expect(box!.y).toBeGreaterThan(field!.y + field!.height - 1);
    expect(box!.y - (field!.y + field!.height)).toBeLessThan(60);
    await page.getByRole('button', { name: 'Save template' }).click();
    await err.waitFor();
    expect(j.s.t.wb.store.models.get(j.modelId!)!.templateChoice?.family).toBe('llama2');
    await j.s.shot('models-template-custom-error');
    // a custom text that renders is previewed and saved
    await page.getByLabel(/Jinja chat template/).fill("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}");
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByTestId('template-preview').filter({ hasText: '<|user|>Is this review positive or negative?' }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.getByTestId('template-saved').waitFor();
    await page.getByTestId(`model-template-${j.modelId}`).filter({ hasText: 'custom Jinja text (chosen)' }).waitFor();
    expect(j.s.t.wb.store.models.get(j.modelId!)!.templateChoice).toMatchObject({ family: null });
  }, 120_000);

  it('shows this machine: CPU only here, and that LRP stays on the CPU', async () => {
    const hw = j.s.page.getByTestId('hardware');
    expect(await j.s.page.getByTestId('hardware-summary').textContent()).toMatch(/^CPU only \(no GPU found\)/);
    expect(await hw.textContent()).toMatch(/LRP always runs on the CPU engine/);
    expect(await j.s.page.getByTestId(`model-vram-${j.modelId}`).textContent()).toMatch(/CPU only/);
    expect(await j.s.page.getByTestId(`model-ram-${j.modelId}`).textContent()).toMatch(/fits/);
    await j.s.shot('models-hardware');
  });

  it('the study form refuses a model without a template, naming it and the Models screen; offers GPU offload', async () => {
    const { page } = j.s;
    // a second template-less model (generated), registered but left without a template
    const file = join(j.dir, 'plain.gguf');
    await generateModel({ path: file, arch: 'llama', seed: 7, nLayer: 1, nEmbd: 32, nHead: 2, nFf: 64, vocab: 'synthetic', chatTemplate: null });
    ok(await j.s.t.wb.call('registerModel', { file: j.s.t.upload(file) }));
    await page.getByRole('tab', { name: 'Study' }).click();
    await page.getByLabel('Built-in study').selectOption('demo-sentiment-en');
    await page.getByRole('button', { name: 'Load' }).click();
    await page.getByTestId('study-message').filter({ hasText: 'Demo: sentiment, English' }).waitFor();
    await page.getByRole('checkbox', { name: 'plain.gguf' }).check();
    const err = page.getByTestId('field-error-models');
    await err.filter({ hasText: 'plain.gguf' }).waitFor({ timeout: 30_000 });
    expect(await err.textContent()).toMatch(/model "plain\.gguf" \(id \d+\) cannot be used: it has no chat template .*choose one for it on the Models screen/);
    expect(await page.getByTestId('study-valid').textContent()).toMatch(/problem/);
    await j.s.shot('study-model-without-template');
    // GPU offload: chosen next to the models, with what it covers and that LRP stays on the CPU
    await page.getByRole('checkbox', { name: 'plain.gguf' }).uncheck();
    await page.getByLabel(/GPU offload/).selectOption('auto');
    expect(await page.locator('label[for="st-gpu"]').textContent()).toMatch(/LRP always runs on the CPU/);
    await page.getByTestId('study-valid').filter({ hasText: 'configuration valid' }).waitFor({ timeout: 30_000 });
    await j.s.shot('study-gpu-offload');
  }, 120_000);
});
