/**
 * The runner honours the study's selfExplanation.matching (before, it always used the robust rule; only
 * import-run read the setting), and builds human and self token masks by one rule. A real run of a tiny
 * generated GGUF model (llama.cpp), extractive self-explanations (items are words of the text), on texts
 * whose later words are substrings of earlier ones, so the paper's substring rule and the robust whole-word
 * rule mark different words for almost any item.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importFile } from '../../main/datasets/index';
import { splitWords } from '../../main/datasets/words';
import { generateModel } from '../../main/gguf/generate';
import { alignItems, spansToMask, tokenMaskOfWords } from '../../main/protocol';
import { paperAlignToRawWords, paperOverlapMask } from '../../main/protocol/align-paper';
import { namedStudy } from '../../main/studies/builtins';
import { runStudies } from '../../main/runner/study';
import { openStore, type ResultRecord } from '../../main/store';

const ROWS = [
  { text: 'Heartfelt, heart and art.', label: 'positive', rationale: ['Heartfelt,', 'art.'] },
  { text: 'Spotless, spot and less.', label: 'negative', rationale: ['Spotless,', 'less.'] },
];

/** The paper's reference replay (the importer's, which reproduces the published figures) over text.split(' '). */
function paperReference(text: string, items: string[]): number[] {
  let norm: number[] | null = null;
  for (const it of items) {
    const m = paperOverlapMask(text, it);
    if (m) norm = norm ? norm.map((v, i) => v + m[i]) : m;
  }
  const raw = text.split(' ');
  return paperAlignToRawWords(raw, norm ?? raw.map(() => 0)).map((v) => (v > 0 ? 1 : 0));
}

describe('runner: selfExplanation.matching', () => {
  it('paper and robust runs of the same model and seed get the same items but the masks of their own rule', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-matching-'));
    const data = join(dir, 'd.jsonl');
    writeFileSync(data, ROWS.map((r, i) => JSON.stringify({ id: `m${i}`, language: 'en', ...r })).join('\n') + '\n');
    const db = join(dir, 'db.sqlite');
    const store = openStore(db);
    try {
      const datasetId = store.datasets.insert(importFile(data, { format: 'jsonl' }));
      const model = join(dir, 'tiny.gguf');
      // generator seed 4: its random weights write non-empty item lists under the extractive grammar (seed 7's close the list at once)
      await generateModel({ path: model, seed: 4, nLayer: 2, nEmbd: 32, nHead: 4, nHeadKv: 2, nFf: 64, contextLength: 512, vocab: 'synthetic' });
      const runOf = async (matching: 'paper' | 'robust'): Promise<ResultRecord[]> => {
        const config = {
          name: `matching ${matching}`, task: { kind: 'sentiment' }, language: 'en', dataset: { id: datasetId },
          models: [{ path: model, mode: 'constrained' }], seeds: [28], explanations: ['human', 'self'],
          selfExplanation: { k: 3, extractive: true, matching }, metrics: ['accuracy'], onlyCorrect: false, limits: { maxNewTokens: 8 },
        };
        const [report] = await runStudies(store, [namedStudy(config.name, `${config.name}.json`, config)], { threads: 2, log: () => {} });
        return store.results.list(report.runs[0].runId, { relevance: false });
      };
      const paper = await runOf('paper');
      const robust = await runOf('robust');
      expect(paper).toHaveLength(ROWS.length);
      let differ = 0;
      let explained = 0;
      for (let i = 0; i < ROWS.length; i++) {
        const text = ROWS[i].text;
        const p = paper[i];
        const r = robust[i];
        // generation does not depend on the matching rule
        expect(p.selfExplanation).toEqual(r.selfExplanation);
        if (!p.selfExplanation?.length || !p.masks!['self/word'] || !r.masks!['self/word']) continue;
        explained++;
        const items = p.selfExplanation as string[];
        expect((p.alignment as { rule: string }).rule).toBe('paper');
        expect((r.alignment as { rule: string }).rule).toBe('robust');
        expect(p.masks!['self/word']).toEqual(paperReference(text, items));
        expect(r.masks!['self/word']).toEqual(spansToMask(splitWords(text), alignItems(text, items).matched));
        if (JSON.stringify(p.masks!['self/word']) !== JSON.stringify(r.masks!['self/word'])) differ++;
      }
      expect(explained).toBeGreaterThan(0);
      expect(differ).toBeGreaterThan(0);

      // one token-mask rule for human and self: the word mask's tokens that cover its letters, no
      // punctuation-only token (before, the human mask took the "," of "Heartfelt," and the self mask not)
      let punctuationInMarkedWords = 0;
      for (const [i, res] of [...paper, ...robust].entries()) {
        const text = ROWS[i % ROWS.length].text;
        const words = splitWords(text);
        const spans = res.tokens!.map((t) => (t.segment === 'text' ? t : { start: -1, end: -1 }));
        for (const src of ['human', 'self']) {
          const wm = res.masks![`${src}/word`];
          const tm = res.masks![`${src}/token`];
          if (!wm) continue;
          expect(tm).toEqual(tokenMaskOfWords(text, words, wm, spans));
          res.tokens!.forEach((t, k) => {
            if (t.segment !== 'text' || /[\p{L}\p{N}]/u.test(text.slice(t.start, t.end))) return;
            expect(tm![k], `${src} token ${JSON.stringify(text.slice(t.start, t.end))} of ${JSON.stringify(text)}`).toBe(0);
            if (words.some((w, j) => wm[j] === 1 && w.start <= t.start && t.end <= w.end)) punctuationInMarkedWords++;
          });
        }
      }
      expect(punctuationInMarkedWords).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  }, 400_000);
});
