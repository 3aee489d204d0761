/**
 * Issue 13 in the GUI, in Debian's Chromium against browser mode over a real SQLite file:
 *   - the study form's k-greedy flipping field shows the task's k (1 for sentiment, 3 for forced labour and claim
 *     verification) and saves a chosen k as flipping.k; its binarisation option saves includeStructural;
 *   - the Inspector shows, for the shown example, each method's share of relevance per token role, the figures
 *     recomputed here from the stored relevance (|R| per role over the total).
 * The run is a real study (real CLI, a generated Gemma 3 model with its chat template, the LRP engine) stored
 * in the workbench's own database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateModel } from '../../main/gguf/generate';
import { tokenRoles } from '../../main/metrics/token-roles';
import { runTinyStudy } from '../runner/tiny-study';
import { chromiumAvailable, openBrowserMode, type BrowserModeSession } from './harness';

describe.skipIf(!chromiumAvailable)('study form flipping k and binarisation; Inspector relevance by token role (Chromium)', () => {
  let s: BrowserModeSession;
  let dir = '';
  beforeAll(async () => {
    s = await openBrowserMode();
    dir = mkdtempSync(join(tmpdir(), 'rw-gui-roles-'));
    const db = s.t.wb.store.file;
    const model = join(dir, 'gemma3.gguf');
    await generateModel({ path: model, seed: 11, nLayer: 2, nEmbd: 64, nHead: 4, nHeadKv: 2, nFf: 96, contextLength: 1024, arch: 'gemma3', vocab: 'llama-spm', chatTemplate: 'gemma3', slidingWindow: { window: 16, pattern: 2 } });
    const r = await runTinyStudy(dir, db, { name: 'gemma roles', models: [{ path: model, mode: 'scoring' }], explanations: ['human', 'lrp-cp', 'random'], metrics: ['accuracy', 'relevance-share'], limits: { maxExamples: 2 } }, { threads: 2 });
  }, 400_000);
  afterAll(async () => {
    await s?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the flipping k field shows the task’s default and saves a chosen k; the structural option is saved', async () => {
    const page = s.page;
    await page.getByRole('tab', { name: 'Study' }).click();
    const k = page.locator('#st-flip-k');
    await k.waitFor();
    // the task's default, shown while the field is empty
    expect(await k.getAttribute('placeholder')).toBe('1');
    await expect.poll(() => page.locator('label[for="st-flip-k"]').textContent()).toContain('(empty: the default for sentiment, 1)');
    await page.getByLabel('Task', { exact: true }).selectOption('forced-labour');
    expect(await k.getAttribute('placeholder')).toBe('3');
    await page.getByLabel('Task', { exact: true }).selectOption('claim-verification');
    expect(await k.getAttribute('placeholder')).toBe('3');
    await page.getByLabel('Task', { exact: true }).selectOption('sentiment');
    await s.shot('study-flipping-k-default');

    await k.fill('2');
    await page.getByLabel('Binarise among structural tokens too (BOS, chat format, instruction, options)').check();
    await page.locator('#st-name').fill('flip k two');
    // the run's model (registered by the run) and dataset
    await page.getByRole('checkbox', { name: 'gemma3.gguf' }).check();
    await page.getByRole('button', { name: 'Save study', exact: true }).click();
    await page.getByTestId('study-message').filter({ hasText: 'Saved study' }).waitFor();
    await s.shot('study-flipping-k-structural');
    const saved = s.t.wb.store.studies.list().find((x) => x.name === 'flip k two')!;
    expect((saved.config as { flipping?: unknown }).flipping).toEqual({ k: 2 });
    expect((saved.config as { binarisation: unknown }).binarisation).toEqual({ method: 'top-k-human', includeStructural: true });
    expect(s.pageErrors).toEqual([]);
  }, 120_000);

  it('the Inspector shows each method’s share of |R| and of positive R per token role for the shown example', async () => {
    const page = s.page;
    await page.getByRole('tab', { name: 'Inspector' }).click();
    const block = page.getByTestId('role-shares');
    await block.waitFor();
    const head = (await block.locator('thead th').allTextContents()).map((t) => t.trim());
    // Gemma 3's prompt: BOS, the chat format, the instruction, option letters and labels, the text
    expect(head).toEqual(['Method', 'Share', 'BOS', 'chat format', 'instruction', 'option letters', 'option labels', 'text']);

    // the shown example: the first evaluated one of the run, recomputed from its stored relevance
    const run = s.t.wb.store.runs.list().at(-1)!;
    const res = s.t.wb.store.results.list(run.id).filter((r) => !r.skippedReason)[0];
    const roles = tokenRoles(res.tokens!);
    const order = ['bos', 'chat-format', 'instruction', 'option-letter', 'option-label', 'text'];
    const expected = (method: string, f: (v: number) => number) => {
      const v = Array.from(res.relevance.find((r) => r.method === method)!.values);
      const total = v.reduce((a, x) => a + f(x), 0);
      return order.map((role) => `${((v.reduce((a, x, i) => a + (roles[i] === role ? f(x) : 0), 0) / total) * 100).toFixed(1)} %`);
    };
    const cells = async (method: string) => (await block.locator(`tr[data-method="${method}"] td.num`).allTextContents()).map((t) => t.trim());
    expect(await cells('lrp-cp')).toEqual(expected('lrp-cp', Math.abs));
    // random relevance lies on the text only
    expect(await cells('random')).toEqual(['0.0 %', '0.0 %', '0.0 %', '0.0 %', '0.0 %', '100.0 %']);
    await s.shot('inspector-role-shares');

    await block.getByLabel('share of positive R').check();
    await expect.poll(() => cells('lrp-cp')).toEqual(expected('lrp-cp', (x) => Math.max(0, x)));
    await s.shot('inspector-role-shares-positive');
    expect(s.pageErrors).toEqual([]);
  }, 120_000);
});
