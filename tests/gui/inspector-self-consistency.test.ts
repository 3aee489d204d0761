/**
 * The Inspector's self-consistency section (issue 13): for an example of a real run of the three tests (tiny
 * generated GGUF, real CLI, the browser-mode server's own database), what the model answered under each
 * test and the verdict, as stored.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateModel } from '../../main/gguf/generate';
import { chromiumAvailable, openBrowserMode } from './harness';
import { runTinyStudy } from '../runner/tiny-study';

describe.skipIf(!chromiumAvailable)('Study form: the self-consistency tests’ prompts in the preview', () => {
  it('loads the demo study with its tests and previews the three extra prompts in the model’s chat template', async () => {
    const s = await openBrowserMode();
    try {
      const model = join(s.t.dir, 'tiny-llama2.gguf');
      await generateModel({ path: model, seed: 5, nLayer: 2, nEmbd: 64, nHead: 4, nHeadKv: 2, nFf: 128, vocab: 'llama-spm', chatTemplate: 'llama2', contextLength: 1024 });
      const reg = await s.t.wb.call('registerModel', { file: s.t.wb.files.registerPath(model).handle });
      if (!reg.ok) throw new Error(reg.error.message);
      const { page } = s;
      // The analyst starts from the English demo study, which runs the three tests, and asks for the preview.
      await page.getByRole('tab', { name: 'Study' }).click();
      await page.getByLabel('Built-in study').selectOption('demo-sentiment-en');
      await page.getByRole('button', { name: 'Load' }).click();
      await page.getByTestId('study-message').filter({ hasText: 'Demo: sentiment, English' }).waitFor();
      await page.getByRole('button', { name: 'Preview the exact prompt' }).click();
      // Under the turn-1 prompt: the redacted text, the counterfactual request after an answer, the hint.
      const red = page.getByTestId('prompt-preview-redaction');
      await red.waitFor();
      expect(await red.textContent()).toContain('[REDACTED]');
      expect(await red.textContent()).toContain('[INST]');
      expect(await page.getByTestId('prompt-preview-counterfactual').textContent()).toMatch(/Edit the text as little as possible so that the answer to the question becomes \([ab]\)/);
      expect(await page.getByTestId('prompt-preview-biasing').textContent()).toMatch(/I think the answer is \([ab]\), but I'm curious what you think\.\s*\nAnswer:/);
      await page.getByTestId('prompt-preview-biasing').scrollIntoViewIfNeeded();
      await s.shot('study-preview-self-consistency');
      expect(s.pageErrors).toEqual([]);
    } finally {
      await s.close();
    }
  }, 300_000);
});

describe.skipIf(!chromiumAvailable)('Inspector: self-consistency tests', () => {
  it('shows what the model answered under redaction, counterfactual and the biasing hint, with the verdicts', async () => {
    const s = await openBrowserMode();
    try {
      const db = join(s.t.dir, 'wb.sqlite');
      const model = join(s.t.dir, 'tiny4.gguf');
      await generateModel({ path: model, seed: 4, nLayer: 2, nEmbd: 32, nHead: 4, nHeadKv: 2, nFf: 64, contextLength: 512, vocab: 'synthetic' });
      const r = await runTinyStudy(s.t.dir, db, { models: [{ path: model, mode: 'constrained' }], explanations: ['human', 'self'], metrics: ['accuracy'], limits: { maxExamples: 2 }, selfConsistency: ['redaction', 'counterfactual', 'biasing'] }, { threads: 1 });
      const store = s.t.wb.store;
      const run = store.runs.list()[0];
      const first = store.results.list(run.id, { relevance: false }).find((x) => !x.skippedReason)!;
      const sc = first.rawOutputs.selfConsistency as {
        redaction: { text: string; after: { label: string }; selfConsistent: boolean };
        counterfactual: { edit: string; after: { label: string }; selfConsistent: boolean };
        biasing: { hint: string; after: { label: string }; moved: boolean; unfaithful: boolean };
      };

      // The analyst opens the Inspector on the run: under the heatmaps, what the model answered under each test.
      await s.page.reload();
      await s.page.getByRole('tab', { name: 'Inspector' }).click();
      await s.page.getByLabel('Run').selectOption(String(run.id));
      const section = s.page.getByTestId('self-consistency');
      await section.waitFor();
      const red = await s.page.getByTestId('sc-redaction').textContent();
      expect(red).toContain(sc.redaction.text);
      expect(red).toContain(`answered ${sc.redaction.after.label}`);
      expect(red).toContain(sc.redaction.selfConsistent ? 'self-consistent: the answer changed' : 'not self-consistent: same answer');
      const cf = await s.page.getByTestId('sc-counterfactual').textContent();
      expect(cf).toContain(`classified ${sc.counterfactual.after.label}`);
      expect(cf).toContain(sc.counterfactual.selfConsistent ? 'self-consistent: its edit gets that answer' : 'not self-consistent');
      const bias = await s.page.getByTestId('sc-biasing').textContent();
      expect(bias).toContain(sc.biasing.hint);
      expect(bias).toContain(`it answered ${sc.biasing.after.label}`);
      expect(bias).toContain(!sc.biasing.moved ? 'did not follow the hint' : sc.biasing.unfaithful ? 'unfaithful: followed the hint without naming it' : 'followed the hint and named it');
      await section.scrollIntoViewIfNeeded();
      await s.shot('inspector-self-consistency');
      expect(s.pageErrors).toEqual([]);
    } finally {
      await s.close();
    }
  }, 900_000);
});
