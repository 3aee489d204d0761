import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricsQueryResult, ResultsPage } from '../../main/api/catalogue';
import { computeRunMetrics } from '../../main/metrics/run-metrics';
import type { ResultInput } from '../../main/store';
import { dataset, example, studyConfig } from '../store/helpers';
import { ok, tempWorkbench } from './helpers';

/**
 * The Inspector follows the Results filters: listResults with a `filter` gives exactly the run's
 * examples that queryMetrics (the Results screen) counts for the same filters. A real SQLite file;
 * results stored as the runner stores them, metrics by the runner's own computeRunMetrics.
 *
 * Six examples, two runs over them (alpha: sentiment; beta: forced-labour indicator Excessive overtime), and a third
 * run (alpha) that has results but no metrics yet (pending):
 *
 *   example  language  run alpha (correct)        run beta (correct)
 *   a        en        true                       false
 *   b        en        false                      true
 *   c        da        false                      true
 *   d        da        true                       false
 *   e        da        false, skipped wrong-answer false
 *   f        it        null (no answer: skipped,     true
 *                       context overflow)
 *
 * So, by hand: model alpha, language da, wrong answers -> run alpha's c and e (e skipped, still an
 * example of the run, as Results counts it); run beta is outside (model), the pending run too.
 */
describe('Inspector list under the Results filters (listResults with filter)', () => {
  const t = tempWorkbench();
  let runA = 0;
  let runB = 0;
  let runC = 0;
  const id: Record<string, number> = {};
  const list = async (arg: Record<string, unknown>) => ok(await t.wb.call('listResults', { limit: 500, ...arg })) as ResultsPage;
  const query = async (arg: Record<string, unknown>) => ok(await t.wb.call('queryMetrics', arg)) as MetricsQueryResult;

  beforeAll(() => {
    const { store } = t.wb;
    const d = store.datasets.insert(
      dataset('mixed', [
        example('a', 'a good film', 'positive', [1], 'en'),
        example('b', 'so dull really', 'negative', [1], 'en'),
        example('c', 'en god film', 'positive', [1, 2], 'da'),
        example('d', 'så kedelig', 'negative', [1], 'da'),
        example('e', 'ret flot', 'positive', [1], 'da'),
        example('f', 'un bel film', 'positive', [1], 'it'),
      ], null),
    );
    for (const e of store.datasets.examples(d)) id[e.externalId] = e.id;
    const m1 = store.models.register({ path: '/models/alpha.gguf', sha256: 'a'.repeat(64), fileSize: 1 });
    const m2 = store.models.register({ path: '/models/beta.gguf', sha256: 'b'.repeat(64), fileSize: 1 });
    const s1 = store.studies.create('sentiment', studyConfig({ task: { kind: 'sentiment' }, dataset: { id: d }, models: [{ id: m1 }] }));
    // runs name their indicator by name in the metric scopes (ILO 11; it was RaFoLa's number 5 before)
    const s2 = store.studies.create('overtime', studyConfig({ task: { kind: 'forced-labour', indicator: 'Excessive overtime' }, dataset: { id: d }, models: [{ id: m2 }] }));
    runA = store.runs.create({ studyId: s1, modelId: m1, datasetId: d, seed: 28, appVersion: 't', total: 6 });
    runB = store.runs.create({ studyId: s2, modelId: m2, datasetId: d, seed: 79, appVersion: 't', total: 6 });
    runC = store.runs.create({ studyId: s1, modelId: m1, datasetId: d, seed: 79, appVersion: 't', total: 6 });
    const put = (run: number, ext: string, correct: boolean | null, extra: Partial<ResultInput> = {}) => {
      const words = store.datasets.example(id[ext])!.words.length;
      const human = Array.from({ length: words }, (_, i) => (i === 1 ? 1 : 0));
      store.results.put(run, id[ext], {
        rawOutputs: { faithfulness: { p0: 0.9, sets: { human: 0.5 } } },
        label: correct === null ? null : 'positive',
        correct,
        masks: { 'human/word': human, 'self/word': human.map((v, i) => (i === 0 ? 1 : v)) },
        ...extra,
      });
    };
    const alpha: [string, boolean | null][] = [['a', true], ['b', false], ['c', false], ['d', true], ['e', false], ['f', null]];
    for (const [ext, c] of alpha) put(runA, ext, c, ext === 'e' ? { skippedReason: 'wrong-answer' } : ext === 'f' ? { skippedReason: 'context-overflow' } : {});
    const beta: [string, boolean][] = [['a', false], ['b', true], ['c', true], ['d', false], ['e', false], ['f', true]];
    for (const [ext, c] of beta) put(runB, ext, c);
    put(runC, 'c', false);
    computeRunMetrics(t.wb.store, runA);
    computeRunMetrics(t.wb.store, runB);
  });
  afterAll(() => t.cleanup());

  it('model alpha, language da, wrong answers: run alpha\'s examples c and e, as Results counts them', async () => {
    const filter = { model: 'alpha', language: 'da', correct: 'incorrect' };
    const page = await list({ runId: runA, filter });
    expect(page.items.map((r) => r.exampleId)).toEqual([id.c, id.e]);
    expect(page.total).toBe(2);
    expect(page.runTotal).toBe(6);
    expect(page.filtered).toEqual({ run: 'in', runsInFilter: [] });
    expect(page.items.map((r) => r.skippedReason)).toEqual([null, 'wrong-answer']);
    // The Results screen, same filters over all runs: the same two examples, in run alpha only.
    const q = await query(filter);
    expect(q.examples).toBe(2);
    expect(q.runs.map((r) => r.runId)).toEqual([runA]);
    expect(q.pending).toEqual([runC]);
  });

  it('says when the run is outside the filters or has no metrics yet, and which runs are in them', async () => {
    const filter = { model: 'alpha', language: 'da', correct: 'incorrect' };
    const out = await list({ runId: runB, filter });
    expect(out.items).toEqual([]);
    expect(out.total).toBe(0);
    expect(out.runTotal).toBe(6);
    expect(out.filtered).toEqual({ run: 'out', runsInFilter: [runA] });
    const pending = await list({ runId: runC, filter: { correct: 'incorrect' } });
    expect(pending.total).toBe(0);
    expect(pending.runTotal).toBe(1);
    expect(pending.filtered).toEqual({ run: 'pending', runsInFilter: [runA, runB] });
  });

  it('other combinations by hand: indicator Excessive overtime with correct Danish answers, Italian of any model, unanswered in neither side', async () => {
    expect((await list({ runId: runB, filter: { indicator: 'Excessive overtime', language: 'da', correct: 'correct' } })).items.map((r) => r.exampleId)).toEqual([id.c]);
    expect((await list({ runId: runA, filter: { indicator: 'Excessive overtime' } })).filtered!.run).toBe('out');
    expect((await list({ runId: runB, filter: { language: 'it' } })).items.map((r) => r.exampleId)).toEqual([id.f]);
    // f has no answer in run alpha: neither a correct nor a wrong one.
    expect((await list({ runId: runA, filter: { correct: 'correct' } })).items.map((r) => r.exampleId)).toEqual([id.a, id.d]);
    expect((await list({ runId: runA, filter: { correct: 'incorrect' } })).items.map((r) => r.exampleId)).toEqual([id.b, id.c, id.e]);
    expect((await list({ runId: runA, filter: { language: 'it', correct: 'incorrect' } })).items).toEqual([]);
  });

  it('for every filter combination, the Inspector lists of the filtered runs add up to what Results counts', async () => {
    const { store } = t.wb;
    let checked = 0;
    for (const language of [undefined, 'en', 'da', 'it', 'fr']) {
      for (const model of [undefined, 'alpha', 'beta']) {
        for (const indicator of [undefined, 'Excessive overtime']) {
          for (const correct of ['all', 'correct', 'incorrect'] as const) {
            const filter = { ...(language ? { language } : {}), ...(model ? { model } : {}), ...(indicator ? { indicator } : {}), correct };
            const q = await query(filter);
            let listed = 0;
            for (const run of [runA, runB, runC]) {
              const page = await list({ runId: run, filter });
              const inResults = q.runs.some((r) => r.runId === run);
              expect(page.filtered!.run).toBe(inResults ? 'in' : run === runC ? 'pending' : 'out');
              // Independently from the store: the run's results on examples of that language with that answer.
              const expected = inResults
                ? store.results
                    .list(run, { relevance: false })
                    .filter((r) => (!language || store.datasets.example(r.exampleId)!.language === language))
                    .filter((r) => correct === 'all' || r.correct === (correct === 'correct'))
                    .map((r) => r.exampleId)
                : [];
              expect(page.items.map((r) => r.exampleId)).toEqual(expected);
              expect(page.total).toBe(expected.length);
              listed += page.total;
            }
            expect(listed).toBe(q.examples);
            checked += listed;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  }, 60_000);

  it('pages through the filtered list, not the whole run', async () => {
    const filter = { correct: 'incorrect' };
    const p1 = await list({ runId: runA, filter, offset: 0, limit: 2 });
    const p2 = await list({ runId: runA, filter, offset: 2, limit: 2 });
    expect([...p1.items, ...p2.items].map((r) => r.exampleId)).toEqual([id.b, id.c, id.e]);
    expect([p1.total, p2.total]).toEqual([3, 3]);
  });

  it('without a filter lists every result of the run (a pending run included)', async () => {
    const all = await list({ runId: runA });
    expect(all.items.map((r) => r.exampleId)).toEqual(['a', 'b', 'c', 'd', 'e', 'f'].map((x) => id[x]));
    expect(all.total).toBe(6);
    expect(all.filtered).toBeUndefined();
    expect((await list({ runId: runC })).items.map((r) => r.exampleId)).toEqual([id.c]);
  });

  it('validates the filter like every other argument, naming the field', async () => {
    const bad = async (filter: unknown) => {
      const r = await t.wb.call('listResults', { runId: runA, filter });
      expect(r.ok).toBe(false);
      return r.ok ? {} : r.error.fields ?? {};
    };
    expect(Object.keys(await bad({ correct: 'maybe' }))).toEqual(['filter.correct']);
    expect(Object.keys(await bad({ language: '' }))).toEqual(['filter.language']);
    expect(Object.keys(await bad({ model: 7 }))).toEqual(['filter.model']);
    // Strict: a key the filter does not have (here the run choice, which is `runId`) is refused.
    expect(Object.keys(await bad({ runIds: [runB] }))).toEqual(['filter']);
    expect(Object.keys(await bad('correct'))).toEqual(['filter']);
    const unknownRun = await t.wb.call('listResults', { runId: 999, filter: {} });
    expect(unknownRun.ok).toBe(false);
    if (!unknownRun.ok) expect(unknownRun.error.fields).toEqual({ runId: 'run 999 not found' });
  });
});
