/**
 * The study form's forced-labour fields, in Debian's Chromium against browser mode: the indicator picker lists
 * the 11 indicators by name with the ILO's numbers (not RaFoLa's alphabetical order), a built-in study's
 * indicator arrives as its name, and the definitions in the prompt preview come from the built-in text or
 * from a file chosen in the file picker (uploaded; the study then stores its text).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateModel } from '../../main/gguf/generate';
import { builtinDefinitions, readDefinitionsFile } from '../../main/protocol/indicator-definitions';
import { shared } from '../api/helpers';
import { chromiumAvailable, openBrowserMode, type BrowserModeSession } from './harness';

const RAFOLA_DEFS = join(shared, 'data/rafola/definitions.json');

describe.skipIf(!chromiumAvailable)('study form: forced-labour indicator and definitions', () => {
  let s: BrowserModeSession;
  beforeAll(async () => {
    s = await openBrowserMode();
    // a registered model (the form names models by id), with a chat template for the preview
    const model = join(mkdtempSync(join(tmpdir(), 'rw-gui-defs-')), 'tiny-llama2.gguf');
    await generateModel({ path: model, seed: 5, nLayer: 2, nEmbd: 64, nHead: 4, nHeadKv: 2, nFf: 128, vocab: 'llama-spm', chatTemplate: 'llama2', contextLength: 1024 });
    const r = await s.t.wb.call('registerModel', { file: s.t.wb.files.registerPath(model).handle });
    if (!r.ok) throw new Error(r.error.message);
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  it('lists the indicators by name in ILO order, loads a built-in study by name, previews the chosen definitions', async () => {
    const page = s.page;
    await page.getByRole('tab', { name: 'Study' }).click();
    await page.getByLabel('Task').selectOption('forced-labour');
    const options = await page.locator('#st-ind option').allTextContents();
    expect(options.slice(1)).toEqual([
      '1. Abuse of vulnerability', '2. Deception', '3. Restriction of movement', '4. Isolation', '5. Physical and sexual violence',
      '6. Intimidation and threats', '7. Retention of identity documents', '8. Withholding of wages', '9. Debt bondage',
      '10. Abusive working and living conditions', '11. Excessive overtime',
    ]);
    // the built-in demo (RaFoLa's indicator 5) arrives as its name, shown with its ILO number
    await page.getByLabel('Built-in study').selectOption('demo-forced-labour');
    await page.getByRole('button', { name: 'Load' }).click();
    await page.getByTestId('study-message').filter({ hasText: 'Demo: forced labour' }).waitFor();
    expect(await page.locator('#st-ind').inputValue()).toBe('Excessive overtime');
    expect(await page.locator('#st-ind option:checked').textContent()).toBe('11. Excessive overtime');

    // preview (no model registered: the bare prompt) with the built-in definitions
    const own = builtinDefinitions('ilo-indicators')!.indicators[10].definition;
    await page.getByRole('button', { name: 'Preview the exact prompt' }).click();
    await page.getByTestId('prompt-preview').filter({ hasText: own }).waitFor();

    // a definitions file chosen in the picker: uploaded, read by the engine, its words in the preview
    const rafola = readDefinitionsFile(RAFOLA_DEFS).indicators[10].definition;
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Choose a file…' }).click();
    await (await chooser).setFiles({ name: 'definitions.json', mimeType: 'application/json', buffer: readFileSync(RAFOLA_DEFS) });
    // the upload is streamed to the engine first: the choice shows once its handle is back
    await expect.poll(() => page.locator('#st-defs option:checked').textContent(), { timeout: 30_000 }).toBe('file: definitions.json');
    await page.getByTestId('prompt-preview').filter({ hasText: rafola }).waitFor();
    expect(await page.getByTestId('prompt-preview').textContent()).not.toContain(own);
    await s.shot('study-definitions');
    expect(s.pageErrors).toEqual([]);
  }, 120_000);
});
