// Issue 12 item 3: a text too long for the model's context is found before the run, with the model's own
// tokenizer and chat template against the context the run will create (runner/fit.ts). A study with such a
// text and no choice is refused before any run exists, the text listed with its tokens and the context; with
// limits.tooLong "skip" it is stored as skipped with the reason; with "truncate" it is cut to fit on a word
// boundary and the result records the cut (original length, rationale spans dropped).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFile } from '../../main/datasets/index';
import { generateModel } from '../../main/gguf/generate';
import { loadVocabOnly } from '../../main/models/session';
import { chatTemplateOf } from '../../main/protocol';
import { cutAfterWords, exampleFit, runContextSize, TooLongError, trainContextOf } from '../../main/runner/fit';
import { runStudies } from '../../main/runner/study';
import { parseStudyConfig, type StudyConfig } from '../../main/config/study-schema';
import { openStore } from '../../main/store';

const dir = mkdtempSync(join(tmpdir(), 'rw-too-long-'));
const db = join(dir, 'db.sqlite');
const model = join(dir, 'tiny.gguf');
const data = join(dir, 'reports.jsonl');
const long = Array.from({ length: 300 }, (_, i) => `Week ${i + 1}: the workers stayed at the site and were not paid.`).join(' ');
const ROWS = [
  { id: 'a1', text: 'The workers had not been paid for months, the report says.', label: 'yes', rationale: 'paid months,' },
  { id: 'a2', text: 'The factory opened a new canteen for its staff.', label: 'no' },
  // rationale: the first word and the last: the last lies beyond any cut that fits 1,024 tokens
  { id: 'long', text: long, label: 'yes', rationale: [[0, 4], [long.length - 5, long.length]] },
];
let datasetId = 0;

afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  writeFileSync(data, ROWS.map((r) => JSON.stringify({ ...r, language: 'en' })).join('\n') + '\n');
  const store = openStore(db);
  datasetId = store.datasets.insert(importFile(data, { format: 'jsonl' }));
  store.close();
  // a real tokenizer (Llama 2's SentencePiece vocabulary) and chat template, a context of 1,024 tokens
  await generateModel({ path: model, seed: 5, nLayer: 2, nEmbd: 32, nHead: 4, nHeadKv: 2, nFf: 64, vocab: 'llama-spm', chatTemplate: 'llama2', contextLength: 1024 });
}, 120_000);

const config = (name: string, tooLong?: 'skip' | 'truncate') => ({
  name, task: { kind: 'forced-labour', indicator: 'Withholding of wages', labelMap: { yes: 'yes', no: 'no' } }, language: 'en', dataset: { id: datasetId },
  models: [{ path: model, mode: 'scoring' }], seeds: [28], explanations: ['human', 'self', 'random'], metrics: ['accuracy'], onlyCorrect: false,
  ...(tooLong ? { limits: { tooLong } } : {}),
});
const parsed = (c: unknown): StudyConfig => {
  const p = parseStudyConfig(c);
  if (!p.ok) throw new Error(JSON.stringify(p.errors));
  return p.config;
};

describe('a text too long for the context', () => {
  it('is counted with the model\'s tokenizer: the long text needs more than the run\'s context, the others fit', async () => {
    const m = await loadVocabOnly(model);
    try {
      const c = parsed(config('fit'));
      const rt = { model: m, template: chatTemplateOf(m), contextSize: runContextSize(trainContextOf(m), c.limits) };
      expect(rt.contextSize).toBe(1024);
      const store = openStore(db);
      const [a1, a2, lg] = store.datasets.examples(datasetId);
      store.close();
      expect(exampleFit(rt, c, a1).fits).toBe(true);
      expect(exampleFit(rt, c, a2).fits).toBe(true);
      const f = exampleFit(rt, c, lg);
      expect(f.fits).toBe(false);
      // the prompt alone is thousands of tokens (about 17 a sentence of 300)
      expect(f.promptTokens).toBeGreaterThan(4000);
      // the whole protocol: the prompt, the answer (scoring: 8), turn 2's request and its longest answer
      expect(f.need).toBeGreaterThan(f.promptTokens + 8);
      // a cut after 10 words fits; the rationale's last span is dropped by the cut, the first one kept
      const cut = cutAfterWords(lg, 10);
      expect(cut.dropped).toBe(1);
      expect(cut.example.rationaleSpans).toEqual([{ start: 0, end: 4 }]);
      expect(exampleFit(rt, c, cut.example).fits).toBe(true);
    } finally {
      await m.dispose();
    }
  });

  it('with no choice made, refuses the study before any run, listing the text with its tokens and the context', async () => {
    const store = openStore(db);
    try {
      const err = await runStudies(store, [{ name: 'no choice', file: 'x', validated: parsed(config('no choice')) }], { log: () => {} }).catch((e) => e);
      expect(err).toBeInstanceOf(TooLongError);
      expect((err as Error).message).toMatch(/^study "no choice" was not run: 1 text is too long for tiny's context of 1,024 tokens: long \([\d,]+ tokens\); choose what to do with them: limits\.tooLong "skip" .* or "truncate"/);
      expect(store.runs.list()).toEqual([]);
    } finally {
      store.close();
    }
  }, 60_000);

  it('"skip": the text is stored as skipped, with the reason and its figures; the others run', async () => {
    const store = openStore(db);
    try {
      const [r] = (await runStudies(store, [{ name: 'skip', file: 'x', validated: parsed(config('skip', 'skip')) }], { log: () => {} }))[0].runs;
      expect(r.outcome.status).toBe('done');
      const [, , lg] = store.datasets.examples(datasetId);
      const res = store.results.get(r.runId, lg.id)!;
      expect(res.skippedReason).toBe('context-overflow');
      expect(res.rawOutputs.reason).toMatch(/^too long for the context: it needs \d+ tokens, the context holds 1024$/);
      expect(res.rawOutputs.tooLong).toMatchObject({ context: 1024 });
      const others = store.results.list(r.runId, { relevance: false }).filter((x) => x.exampleId !== lg.id);
      expect(others.map((x) => x.skippedReason ?? null)).not.toContain('context-overflow');
    } finally {
      store.close();
    }
  }, 120_000);

  it('"truncate": the text is cut to fit on a word boundary, the result records the cut', async () => {
    const store = openStore(db);
    try {
      const c = parsed(config('truncate', 'truncate'));
      const [r] = (await runStudies(store, [{ name: 'truncate', file: 'x', validated: c }], { log: () => {} }))[0].runs;
      expect(r.outcome.status).toBe('done');
      const [, , lg] = store.datasets.examples(datasetId);
      const res = store.results.get(r.runId, lg.id)!;
      expect(res.skippedReason ?? null).not.toBe('context-overflow');
      const t = res.rawOutputs.truncated as Record<string, number>;
      expect(t).toMatchObject({ originalChars: long.length, originalWords: lg.words.length, droppedRationaleSpans: 1 });
      expect(t.keptWords).toBeGreaterThan(0);
      expect(t.keptWords).toBeLessThan(lg.words.length);
      // on a word boundary: the kept text ends where its last word ends
      expect(t.keptChars).toBe(lg.words[t.keptWords - 1].end);
      expect(t.need).toBeLessThanOrEqual(1024);
      expect(t.originalNeed).toBeGreaterThan(1024);
      // the longest cut that fits: one more word does not
      const m = await loadVocabOnly(model);
      try {
        const rt = { model: m, template: chatTemplateOf(m), contextSize: 1024 };
        expect(exampleFit(rt, c, cutAfterWords(lg, t.keptWords).example).fits).toBe(true);
        expect(exampleFit(rt, c, cutAfterWords(lg, t.keptWords + 1).example).fits).toBe(false);
      } finally {
        await m.dispose();
      }
      // the stored tokens are the cut text's: every text token lies inside the kept characters
      expect(Math.max(...res.tokens!.filter((x) => x.segment === 'text').map((x) => x.end))).toBeLessThanOrEqual(t.keptChars);
    } finally {
      store.close();
    }
  }, 120_000);
});
