/**
 * ERASER's format (DeYoung et al. 2020): import of a dataset directory (docs.jsonl or docs/, split files),
 * validation that names file, line and field, and the round trip export -> import of a stored run.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { documentOf, documentTokens, importEraser, maskRuns, toEraser, writeEraser } from '../../main/importers/eraser';
import { exportData } from '../../main/reports/exports';
import { openStore } from '../../main/store';
import { cliInProcess } from '../fixtures/cli-in-process';
import { dataset, example, minimalConfig, studyConfig } from '../store/helpers';

const root = mkdtempSync(join(tmpdir(), 'rw-eraser-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const jsonl = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).join('\n') + '\n';
const ev = (docid: string, s: number, e: number, text: string) => ({ docid, start_token: s, end_token: e, start_sentence: -1, end_sentence: -1, text });

function movies(dir: string) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'docs.jsonl'), jsonl([
    { docid: 'neg_1.txt', document: 'the plot is thin .\nthe acting , though , is wooden and dull .' },
    { docid: 'pos_1.txt', document: 'a warm , funny film .' },
  ]));
  writeFileSync(join(dir, 'test.jsonl'), jsonl([
    { annotation_id: 'neg_1.txt', classification: 'NEG', docids: null, query: 'What is the sentiment of this review?', query_type: null,
      evidences: [[ev('neg_1.txt', 2, 4, 'is thin')], [ev('neg_1.txt', 11, 14, 'wooden and dull')]] },
    { annotation_id: 'pos_1.txt', classification: 'POS', docids: null, query: 'What is the sentiment of this review?', query_type: null,
      evidences: [[ev('pos_1.txt', 1, 2, 'warm'), ev('pos_1.txt', 3, 4, 'funny')]] },
  ]));
  writeFileSync(join(dir, 'train.jsonl'), jsonl([
    { annotation_id: 'pos_2.txt', classification: 'POS', docids: ['pos_1.txt'], query: 'q', query_type: null, evidences: [] },
  ]));
}

describe('ERASER format helpers', () => {
  it('tokens are counted over all sentences; a document is written back with one line per sentence', () => {
    const toks = documentTokens('the plot is thin .\nthe acting');
    expect(toks.map((t) => [t.text, t.sentence])).toEqual([['the', 0], ['plot', 0], ['is', 0], ['thin', 0], ['.', 0], ['the', 1], ['acting', 1]]);
    expect(toks[5].start).toBe('the plot is thin .\n'.length);
    expect(documentOf('A  warm,\n\nfunny  film.', [{ text: 'A', start: 0, end: 1 }, { text: 'warm,', start: 3, end: 8 }, { text: 'funny', start: 10, end: 15 }, { text: 'film.', start: 17, end: 22 }])).toBe('A warm,\nfunny film.');
    expect(maskRuns([0, 1, 1, 0, 1])).toEqual([{ start_token: 1, end_token: 3 }, { start_token: 4, end_token: 5 }]);
  });
});

describe('ERASER import', () => {
  it('reads a dataset directory: text, words = ERASER tokens, rationale from the evidences, label, query', () => {
    const dir = join(root, 'movies');
    movies(dir);
    const d = importEraser(dir, { splits: ['test'] });
    expect(d.format).toBe('eraser');
    expect(d.labelSet).toEqual(['NEG', 'POS']);
    expect(d.examples.map((e) => e.externalId)).toEqual(['neg_1.txt', 'pos_1.txt']);
    const [neg, pos] = d.examples;
    expect(neg.text).toBe('the plot is thin .\nthe acting , though , is wooden and dull .');
    expect(neg.words).toHaveLength(15);
    expect(neg.words.filter((_, i) => neg.rationaleMask![i] === 1).map((w) => w.text)).toEqual(['is', 'thin', 'wooden', 'and', 'dull']);
    expect(neg.rationaleSpans.map((s) => neg.text.slice(s.start, s.end))).toEqual(['is', 'thin', 'wooden', 'and', 'dull']);
    expect(neg.labels).toEqual(['NEG']);
    expect(neg.meta).toMatchObject({ split: 'test', docid: 'neg_1.txt', query: 'What is the sentiment of this review?' });
    expect(pos.words.filter((_, i) => pos.rationaleMask![i] === 1).map((w) => w.text)).toEqual(['warm', 'funny']);
    // all splits present by default, each example tagged with its split
    const all = importEraser(dir);
    expect(all.examples.map((e) => [e.externalId, e.meta!.split])).toEqual([['pos_2.txt', 'train'], ['neg_1.txt', 'test'], ['pos_1.txt', 'test']]);
    // an example without evidences has no human rationale (not an empty one)
    expect(all.examples[0].rationaleMask).toBeNull();
  });

  it('reads documents from a docs/ folder too (ERASER drops empty lines there)', () => {
    const dir = join(root, 'folder');
    mkdirSync(join(dir, 'docs'), { recursive: true });
    writeFileSync(join(dir, 'docs', 'd1'), 'good film .\n\nreally good .\n');
    writeFileSync(join(dir, 'val.jsonl'), jsonl([{ annotation_id: 'a1', classification: 'POS', docids: ['d1'], query: 'q', query_type: null, evidences: [[ev('d1', 3, 5, 'really good')]] }]));
    const d = importEraser(join(dir, 'val.jsonl'));
    expect(d.examples[0].words.map((w) => w.text)).toEqual(['good', 'film', '.', 'really', 'good', '.']);
    expect(d.examples[0].rationaleMask).toEqual([0, 0, 0, 1, 1, 0]);
  });

  it('refuses a bad file with every problem at once, naming file, line and field', () => {
    const dir = join(root, 'bad');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'docs.jsonl'), jsonl([{ docid: 'd1', document: 'one two three' }, { docid: 'd2', document: 'two  spaces' }]));
    writeFileSync(join(dir, 'test.jsonl'), jsonl([
      { annotation_id: 'a1', classification: 'POS', docids: ['d1'], query: 'q', evidences: [[ev('d1', 2, 5, 'three')]] },
      { annotation_id: 'a2', classification: 'POS', docids: ['nope'], query: 'q', evidences: [] },
      { annotation_id: 'a3', docids: ['d1'], query: 'q', evidences: [] },
      { annotation_id: 'a4', classification: 'NEG', docids: ['d1'], query: 'q', evidences: [[ev('d1', 0, 1, 'two')]] },
      { annotation_id: 'a5', classification: 'NEG', docids: ['d2'], query: 'q', evidences: [] },
    ]));
    let msg = '';
    try {
      importEraser(dir);
    } catch (e) {
      msg = (e as Error).message;
    }
    const f = join(dir, 'test.jsonl');
    expect(msg).toContain('5 problem(s)');
    expect(msg).toContain(`${f}: line 1, field "evidences" item 1: tokens [2, 5) are not a span of the document's 3 tokens`);
    expect(msg).toContain(`${f}: line 2: document "nope" is not in docs.jsonl`);
    expect(msg).toContain(`${f}: line 3, field "classification": missing or not a string`);
    expect(msg).toContain(`${f}: line 4, field "evidences" item 1: text "two" is not the tokens [0, 1) "one"`);
    expect(msg).toContain(`${f}: line 5: document "d2" has tokens that are not its whitespace words`);
  });
});

describe('ERASER export of a run, and back', () => {
  it('writes docs, annotations (human evidences) and per-method predictions that import back to the same examples', async () => {
    const db = join(root, 'run.sqlite');
    const store = openStore(db);
    let runId: number;
    try {
      const exs = [
        example('s1', 'A warm, funny and charming film.', 'positive', [1, 2, 4]),
        example('s2', 'Dull,  slow\nand far too long.', 'negative', [0, 1]),
      ];
      const d = store.datasets.insert(dataset('sst-mini', exs));
      const m = store.models.register({ path: '/models/m.gguf', sha256: 'b'.repeat(64), fileSize: 1 });
      const s = store.studies.create('s', minimalConfig(d, m));
      runId = store.runs.create({ studyId: s, modelId: m, datasetId: d, seed: 28, appVersion: 't', total: 2 });
      const stored = store.datasets.examples(d);
      const [e1, e2] = stored;
      // prompt tokens: two template tokens, then the text's tokens (offsets into the text), then one more
      const toks = (ex: typeof e1) => [
        { id: 1, text: '<s>', start: 0, end: 3, segment: 'template' },
        ...ex.words.map((w, i) => ({ id: 10 + i, text: w.text, start: w.start, end: w.end, segment: 'text' })),
        { id: 2, text: '?', start: 0, end: 1, segment: 'options' },
      ];
      const t1 = toks(e1);
      store.results.put(runId, e1.id, {
        rawOutputs: { turn1: '(a)', maskedProbs: { '': 0.75, '2,5': 0.5, '1,3-4,6': 0.625 } },
        label: 'positive', correct: true, answerToken: 'a', answerProb: 0.75, optionProbs: { positive: 0.75, negative: 0.125 },
        tokens: t1,
        masks: { 'human/word': [0, 1, 1, 0, 1, 0], 'self/word': [0, 1, 1, 0, 0, 0], 'lrp-cp/word': [0, 1, 0, 0, 1, 0], 'lrp-cp/token': [0, 0, 1, 0, 0, 1, 0, 0] },
        relevance: [{ method: 'lrp-cp', values: [0.5, 0, 0.25, 0, 0, 0.125, 0, 0] }],
      });
      store.results.put(runId, e2.id, { rawOutputs: { turn1: '?' }, label: 'invalid', correct: false, tokens: toks(e2), skippedReason: 'invalid-answer' });
    } finally {
      store.close();
    }
    const out = join(root, 'eraser-out');
    const r = await cliInProcess(['--db', db, 'report', String(runId), '--eraser', out]);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const read = (f: string) => readFileSync(join(out, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const docs = read('docs.jsonl');
    expect(docs).toEqual([{ docid: 's1', document: 'A warm, funny and charming film.' }, { docid: 's2', document: 'Dull, slow\nand far too long.' }]);
    const ann = read('test.jsonl');
    expect(ann[0]).toEqual({
      annotation_id: 's1', query: 'sentiment', classification: 'positive', query_type: null, docids: ['s1'],
      evidences: [[{ text: 'warm, funny', docid: 's1', start_token: 1, end_token: 3, start_sentence: -1, end_sentence: -1 }], [{ text: 'charming', docid: 's1', start_token: 4, end_token: 5, start_sentence: -1, end_sentence: -1 }]],
    });
    const lrp = read('predictions.lrp-cp.jsonl');
    expect(lrp).toHaveLength(1); // the invalid answer has no prediction
    expect(lrp[0]).toEqual({
      annotation_id: 's1',
      rationales: [{ docid: 's1', hard_rationale_predictions: [{ start_token: 1, end_token: 2 }, { start_token: 4, end_token: 5 }], soft_rationale_predictions: [0, 0.25, 0, 0, 0.125, 0] }],
      classification: 'positive',
      classification_scores: { positive: 0.75, negative: 0.125 },
      // lrp-cp/token masks prompt tokens 2 and 5; the text tokens are 1..6, so sufficiency keeps 2, 5 and masks 1, 3, 4, 6
      comprehensiveness_classification_scores: { positive: 0.5 },
      sufficiency_classification_scores: { positive: 0.625 },
    });
    expect(read('predictions.self.jsonl')[0].rationales[0].soft_rationale_predictions).toEqual([0, 1, 1, 0, 0, 0]);
    expect(read('predictions.human.jsonl')[0].rationales[0].hard_rationale_predictions).toEqual([{ start_token: 1, end_token: 3 }, { start_token: 4, end_token: 5 }]);

    // import it back: same words and rationale masks; the double space is ERASER's single space
    const back = importEraser(out);
    const s = openStore(db);
    try {
      const orig = s.datasets.examples(s.runs.get(runId)!.datasetId);
      expect(back.examples.map((e) => e.externalId)).toEqual(orig.map((e) => e.externalId));
      back.examples.forEach((e, i) => {
        expect(e.words.map((w) => w.text)).toEqual(orig[i].words.map((w) => w.text));
        expect(e.rationaleMask).toEqual(orig[i].rationaleMask);
        expect(e.labels).toEqual(orig[i].labels);
      });
      expect(back.examples[1].text).toBe('Dull, slow\nand far too long.');
      // an ERASER export holds one run
      await expect(writeEraser(exportData(s, [runId, runId]), join(root, 'two'))).rejects.toThrow(/one run/);
    } finally {
      s.close();
    }
    // and the CLI imports the directory as a dataset
    const imp = await cliInProcess(['--db', db, '--json', 'import', out, '--format', 'eraser', '--name', 'roundtrip']);
    expect(imp.err).toBe('');
    expect(JSON.parse(imp.out)).toMatchObject({ examples: 2, withRationale: 2 });
  });

  it("a forced-labour run's annotation carries the task's gold answer (yes/no), not the indicator names", async () => {
    const store = openStore(join(root, 'fl.sqlite'));
    try {
      const ind = 'Excessive overtime';
      const d = store.datasets.insert(dataset('news', [example('n1', 'Workers did forced overtime every week.', ind, [2, 3]), example('n2', 'The factory opened a canteen.', 'Abuse of vulnerability')]));
      const m = store.models.register({ path: '/models/m.gguf', sha256: 'c'.repeat(64), fileSize: 1 });
      const s = store.studies.create('fl', studyConfig({ ...minimalConfig(d, m), task: { kind: 'forced-labour', indicator: 'Excessive overtime' } }));
      const runId = store.runs.create({ studyId: s, modelId: m, datasetId: d, seed: 28, appVersion: 't', total: 2 });
      for (const ex of store.datasets.examples(d)) store.results.put(runId, ex.id, { rawOutputs: {}, label: 'yes', correct: null });
      const data = exportData(store, [runId]);
      expect(data.rows.map((r) => [r.gold, r.taskGold])).toEqual([[[ind], 'yes'], [['Abuse of vulnerability'], 'no']]);
      const e = await toEraser(data.runs[0], data.rows);
      expect(e.annotations.map((a) => [a.classification, a.query])).toEqual([['yes', 'forced-labour indicator: Excessive overtime'], ['no', 'forced-labour indicator: Excessive overtime']]);
    } finally {
      store.close();
    }
  });
});
