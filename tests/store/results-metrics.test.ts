import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type ResultInput, type Store } from '../../main/store';
import { dataset, example, minimalConfig, tempDir } from './helpers';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let store: Store;
let run: number;
let exIds: number[];
beforeEach(() => {
  store = openStore(tmp.file());
  const d = store.datasets.insert(dataset('d', [example('a', 'a good film', 'positive', [1]), example('b', 'so dull', 'negative', [1]), example('c', 'meh', 'negative')]));
  const m = store.models.register({ path: '/m.gguf', sha256: 'a'.repeat(64), fileSize: 1 });
  const s = store.studies.create('s', minimalConfig(d, m));
  run = store.runs.create({ studyId: s, modelId: m, datasetId: d, seed: 28, appVersion: 't', total: 3 });
  exIds = store.datasets.examples(d).map((e) => e.id);
});
afterEach(() => store.close());

const full: ResultInput = {
  rawOutputs: { turn1: '(a) rather positive', turn2: '{"rationales":["good"]}' },
  label: 'positive',
  correct: true,
  answerToken: 'a',
  answerProb: 0.974,
  optionProbs: { a: 0.974, b: 0.026 },
  selfExplanation: [{ rationales: 'good' }],
  alignment: { matched: ['good'], unmatched: [] },
  tokens: [
    { id: 1, text: '<s>', start: 0, end: 0, segment: 'template' },
    { id: 263, text: 'good', start: 2, end: 6, segment: 'text' },
  ],
  masks: { human: [0, 1], self: [0, 1] },
  relevance: [
    { method: 'lrp-cp', values: Float32Array.from([0.125, 2.5]), explainedValue: 2.625, meta: { gate: 'half' } },
    { method: 'lrp-contrast', values: [-0.1, 0.3] },
  ],
};

describe('results repository', () => {
  it('round-trips every field, relevance as float32', () => {
    const id = store.results.put(run, exIds[0], full);
    const r = store.results.get(run, exIds[0])!;
    expect(r.id).toBe(id);
    expect(r).toMatchObject({ runId: run, exampleId: exIds[0], rawOutputs: full.rawOutputs, label: 'positive', correct: true, answerToken: 'a', answerProb: 0.974, optionProbs: full.optionProbs, selfExplanation: full.selfExplanation, alignment: full.alignment, tokens: full.tokens, masks: full.masks, skippedReason: null });
    expect(r.relevance.map((x) => x.method)).toEqual(['lrp-cp', 'lrp-contrast']);
    expect([...r.relevance[0].values]).toEqual([0.125, 2.5]);
    expect(r.relevance[0]).toMatchObject({ explainedValue: 2.625, meta: { gate: 'half' } });
    // -0.1 and 0.3 are not representable: stored as the nearest float32
    expect([...r.relevance[1].values]).toEqual([Math.fround(-0.1), Math.fround(0.3)]);
    expect(r.relevance[1]).toMatchObject({ explainedValue: null, meta: null });
    expect(store.db.prepare('SELECT length(relevance) FROM result_relevance ORDER BY id').pluck().all()).toEqual([8, 8]);
  });

  it('keeps "invalid" as its own label and records skips with their reason', () => {
    store.results.put(run, exIds[0], { rawOutputs: { turn1: 'I cannot say' }, label: 'invalid', correct: false });
    store.results.put(run, exIds[1], { rawOutputs: {}, label: null, skippedReason: 'prompt has 3120 tokens > maxContextTokens 3000' });
    expect(store.results.get(run, exIds[0])).toMatchObject({ label: 'invalid', correct: false });
    expect(store.results.get(run, exIds[1])).toMatchObject({ label: null, correct: null, skippedReason: 'prompt has 3120 tokens > maxContextTokens 3000' });
    expect(store.results.doneExampleIds(run)).toEqual([exIds[0], exIds[1]]);
    expect(store.runs.get(run)!.progress).toEqual({ done: 2, total: 3 });
  });

  it('replaces a second put for the same (run, example) atomically, relevance included', () => {
    store.results.put(run, exIds[0], full);
    store.results.put(run, exIds[0], { rawOutputs: { turn1: 'b' }, label: 'negative', correct: false, relevance: [{ method: 'occlusion', values: [1, 2, 3] }] });
    const r = store.results.get(run, exIds[0])!;
    expect(r).toMatchObject({ label: 'negative', correct: false, tokens: null, masks: null });
    expect(r.relevance.map((x) => [x.method, [...x.values]])).toEqual([['occlusion', [1, 2, 3]]]);
    expect(store.db.prepare('SELECT count(*) FROM results').pluck().get()).toBe(1);
    expect(store.db.prepare('SELECT count(*) FROM result_relevance').pluck().get()).toBe(1);
    expect(store.runs.get(run)!.progress.done).toBe(1);
  });

  it('a refused put leaves the earlier result in place', () => {
    store.results.put(run, exIds[0], full);
    const bad = { ...full, relevance: [{ method: 'x', values: [1] }, { method: 'x', values: [2] }] };
    expect(() => store.results.put(run, exIds[0], bad)).toThrow('relevance method "x" given twice');
    const nan = { ...full, answerProb: NaN };
    expect(() => store.results.put(run, exIds[0], nan)).toThrow('field "answerProb" must be a finite number or null, got NaN');
    expect(store.results.get(run, exIds[0])!.relevance).toHaveLength(2);
  });

  it('refuses results that do not fit the run', () => {
    const other = store.datasets.insert(dataset('other', [example('z', 'zz', 'negative')]));
    const foreign = store.datasets.examples(other)[0].id;
    expect(() => store.results.put(run, foreign, full)).toThrow(`example belongs to dataset ${other}, the run to dataset`);
    expect(() => store.results.put(999, exIds[0], full)).toThrow('run 999 does not exist');
    expect(() => store.results.put(run, 999, full)).toThrow('example 999 does not exist');
    expect(() => store.results.put(run, exIds[0], { rawOutputs: {}, label: null })).toThrow('field "label" is null but no "skippedReason" is given');
    expect(store.results.doneExampleIds(run)).toEqual([]);
  });

  it('lists in example order, optionally without relevance', () => {
    store.results.put(run, exIds[2], { rawOutputs: {}, label: 'negative', relevance: [{ method: 'lrp-cp', values: [1] }] });
    store.results.put(run, exIds[0], full);
    expect(store.results.list(run).map((r) => [r.exampleId, r.relevance.length])).toEqual([[exIds[0], 2], [exIds[2], 1]]);
    expect(store.results.list(run, { relevance: false }).map((r) => r.relevance.length)).toEqual([0, 0]);
  });
});

describe('metrics repository', () => {
  it('replaces the whole set of a run and reads scopes back', () => {
    store.metrics.replace(run, [{ scope: { level: 'word' }, name: 'kappa', value: 0.1 }]);
    store.metrics.replace(run, [
      { scope: { pair: 'human-self', level: 'word', language: 'da' }, name: 'kappa', value: 0.52, ciLow: 0.45, ciHigh: 0.6, n: 250 },
      { scope: { level: 'token' }, name: 'kappa', value: null, n: 0 },
    ]);
    const rows = store.metrics.list(run);
    expect(rows.map(({ id: _id, ...r }) => r)).toEqual([
      { runId: run, scope: { language: 'da', level: 'word', pair: 'human-self' }, name: 'kappa', value: 0.52, ciLow: 0.45, ciHigh: 0.6, n: 250 },
      { runId: run, scope: { level: 'token' }, name: 'kappa', value: null, ciLow: null, ciHigh: null, n: 0 },
    ]);
    // canonical scope JSON (sorted keys) so scopes can be compared in SQL
    expect(store.db.prepare('SELECT scope FROM metrics ORDER BY id LIMIT 1').pluck().get()).toBe('{"language":"da","level":"word","pair":"human-self"}');
  });

  it('refuses NaN and keeps the previous set', () => {
    store.metrics.replace(run, [{ scope: {}, name: 'f1', value: 0.5 }]);
    expect(() => store.metrics.replace(run, [{ scope: {}, name: 'f1', value: 0.7 }, { scope: {}, name: 'kappa', value: NaN }])).toThrow(
      'metrics[1] (kappa): field "value" must be finite or null, got NaN',
    );
    expect(store.metrics.list(run).map((r) => r.value)).toEqual([0.5]);
    expect(() => store.metrics.replace(999, [])).toThrow('metrics: run 999 does not exist');
  });
});
