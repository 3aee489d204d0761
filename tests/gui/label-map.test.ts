import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDemoModel } from '../../main/runner/demo-model';
import { chromiumAvailable, openBrowserMode, type BrowserModeSession } from './harness';

/**
 * The study form's gold-label mapping editor, in Chromium against browser mode: a forced-labour CSV with
 * yes/no labels makes the form invalid with the labels listed; mapping them makes it valid, and the saved
 * study carries the mapping (task.labelMap). Screenshot: test-results/screens/label-map-*.png.
 */
describe.skipIf(!chromiumAvailable)('GUI: study form label mapping (Chromium)', () => {
  let s: BrowserModeSession;
  let datasetId = 0;
  beforeAll(async () => {
    s = await openBrowserMode();
    const file = s.t.uploadBytes('fl-yes-no.csv', 'id,text,label\na1,"Fees repaid from wages.",yes\na2,"Wages paid on time.",no\na3,"A debt that grew.",yes\n');
    const r = await s.t.wb.call('importDataset', { file, format: 'csv', language: 'en' });
    if (!r.ok) throw new Error(r.error.message);
    datasetId = (r.value as { dataset: { id: number } }).dataset.id;
    const m = await s.t.wb.call('registerModel', { file: s.t.upload(await ensureDemoModel(), 'rw-demo.gguf') });
    if (!m.ok) throw new Error(m.error.message);
  }, 180_000);
  afterAll(async () => {
    await s?.close();
  });

  it('lists the labels that fit no option, and is valid once each is mapped; the saved study has the mapping', async () => {
    const p = s.page;
    await p.getByRole('tab', { name: 'Study' }).click();
    await p.getByRole('checkbox', { name: 'rw-demo.gguf' }).check();
    await p.getByLabel('Dataset').selectOption(`id:${datasetId}`);
    await p.getByLabel('Task').selectOption('forced-labour');
    // any indicator will do (the input may be a number field or a list of names)
    const ind = p.locator('#st-ind');
    if ((await ind.evaluate((e) => e.tagName)) === 'SELECT') await ind.selectOption({ index: 3 });
    else await ind.fill('3');
    const editor = p.getByTestId('label-map');
    await editor.waitFor();
    await p.getByTestId('field-error-task').filter({ hasText: '"yes" (2), "no" (1)' }).waitFor();
    expect(await editor.textContent()).toContain('(yes, no)');
    expect(await p.getByTestId('study-valid').textContent()).toMatch(/problem/);
    await s.shot('label-map-unmapped');

    await p.getByLabel('map label yes').selectOption('to:yes');
    await p.getByLabel('map label no').selectOption('to:no');
    await p.getByTestId('study-valid').filter({ hasText: 'configuration valid' }).waitFor();
    // the mapped rows stay, with their counts, so the mapping can be changed again
    expect(await editor.textContent()).toContain('2 examples');
    await s.shot('label-map-mapped');
    await p.getByRole('button', { name: 'Save study' }).click();
    await p.getByTestId('study-message').filter({ hasText: 'Saved study' }).waitFor();
    const saved = s.t.wb.store.studies.list().at(-1)!;
    expect((saved.config as { task: { labelMap?: unknown } }).task.labelMap).toEqual({ yes: 'yes', no: 'no' });
    expect(s.pageErrors).toEqual([]);
  });
});
