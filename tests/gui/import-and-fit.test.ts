import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateModel } from '../../main/gguf/generate';
import { chromiumAvailable, openBrowserMode } from './harness';
import type { Journey } from './journey/context';
import * as importCsv from './journey/02-import-csv';
import * as studyForm from './journey/04-study-form';

/**
 * The journey's chapters 02 (import the analyst's CSV) and 04 (the study form flags the too-long text before
 * the run) on their own, in Chromium against browser mode. Chapter 03's model (a GGUF with a chat template
 * chosen for it) is set up here through the API: a generated tiny llama with Llama 2's tokenizer and chat
 * template and a 1,024-token context, so the analyst's long report cannot fit.
 * Screenshots: test-results/screens/journey-02-*.png, journey-04-*.png.
 */
describe.skipIf(!chromiumAvailable)('the import form and the study fit check (journey chapters 02 and 04)', () => {
  const j = {} as Journey;
  beforeAll(async () => {
    j.dir = mkdtempSync(join(tmpdir(), 'rw-journey-import-'));
    j.s = await openBrowserMode();
    const gguf = join(j.dir, 'analyst-model.gguf');
    await generateModel({ path: gguf, seed: 5, nLayer: 2, nEmbd: 32, nHead: 4, nHeadKv: 2, nFf: 64, vocab: 'llama-spm', chatTemplate: 'llama2', contextLength: 1024 });
    const r = await j.s.t.wb.call('registerModel', { file: j.s.t.upload(gguf) });
    if (!r.ok) throw new Error(r.error.message);
    j.modelId = (r.value as { model: { id: number } }).model.id;
  }, 180_000);
  afterAll(async () => {
    await j.s?.close();
    rmSync(j.dir, { recursive: true, force: true });
  });

  it(`02. ${importCsv.title}`, async () => {
    try {
      await importCsv.run(j);
    } catch (e) {
      await j.s.shot('journey-02-import-csv-FAILED').catch(() => undefined);
      throw e;
    }
    expect(j.s.pageErrors).toEqual([]);
  }, 240_000);

  it(`04. ${studyForm.title}`, async () => {
    try {
      await studyForm.run(j);
    } catch (e) {
      await j.s.shot('journey-04-study-form-FAILED').catch(() => undefined);
      throw e;
    }
    expect(j.s.pageErrors).toEqual([]);
  }, 240_000);
});
