import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
