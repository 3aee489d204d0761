import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FilteredMetric, MetricsQueryResult } from '../../main/api/catalogue';
import { computeRunMetrics } from '../../main/metrics/run-metrics';
import type { ResultInput } from '../../main/store';
import { dataset, example, studyConfig } from '../store/helpers';
import { ok, tempWorkbench } from '../api/helpers';

/**
 * The Results screen's filters through the API (queryMetrics, run in the engine process) over a real
 * SQLite file: runs of two models, one of them a forced-labour indicator, examples in two languages.
 * Expected values are worked out by hand below from the masks and probabilities stored.
 *
 * Word masks (human vs self) and Cohen's kappa, po = observed agreement, pe = chance agreement:
 *   a en "a good film"     human 010 self 010  kappa 1                          correct
 *   b en "so dull really"  human 010 self 110  po 2/3, pe 4/9 -> kappa 0.4      wrong
 *   c da "en god film"     human 011 self 010  po 2/3, pe 4/9 -> kappa 0.4      correct
 *   d da "så kedelig"      human 01  self 11   po 1/2, pe 1/2 -> kappa 0        correct
 * Answer probability after masking the human words: a 0.4, b 0.5, c 0.3, d 0.6.
 */
describe('filtered metrics (queryMetrics)', () => {
  const t = tempWorkbench();
  let runA = 0;
  let runB = 0;
  const q = async (arg: Record<string, unknown>) => ok(await t.wb.call('queryMetrics', arg)) as MetricsQueryResult;
  const pick = (r: MetricsQueryResult, runId: number, name: string, scope: Record<string, unknown> = {}): FilteredMetric | undefined =>
    r.metrics.find((m) => m.runId === runId && m.name === name && Object.entries(scope).every(([k, v]) => m.scope[k] === v));

  beforeAll(() => {
    const { store } = t.wb;
    const d = store.datasets.insert(
      dataset('mixed', [
        example('a', 'a good film', 'positive', [1], 'en'),
        example('b', 'so dull really', 'negative', [1], 'en'),
        example('c', 'en god film', 'positive', [1, 2], 'da'),
        example('d', 'så kedelig', 'negative', [1], 'da'),
      ], null),
    );
    const ids = store.datasets.examples(d).map((e) => e.id);
    const m1 = store.models.register({ path: '/models/alpha.gguf', sha256: 'a'.repeat(64), fileSize: 1 });
    const m2 = store.models.register({ path: '/models/beta.gguf', sha256: 'b'.repeat(64), fileSize: 1 });
    const s1 = store.studies.create('sentiment', studyConfig({ task: { kind: 'sentiment' }, dataset: { id: d }, models: [{ id: m1 }] }));
    // runs name their indicator by name in the metric scopes (ILO 11; it was RaFoLa's number 5 before)
    const s2 = store.studies.create('overtime', studyConfig({ task: { kind: 'forced-labour', indicator: 'Excessive overtime' }, dataset: { id: d }, models: [{ id: m2 }] }));
    runA = store.runs.create({ studyId: s1, modelId: m1, datasetId: d, seed: 28, appVersion: 't', total: 4 });
    runB = store.runs.create({ studyId: s2, modelId: m2, datasetId: d, seed: 79, appVersion: 't', total: 4 });
    const rows: [string, boolean, number[], number[], number][] = [
      ['positive', true, [0, 1, 0], [0, 1, 0], 0.4],
      ['positive', false, [0, 1, 0], [1, 1, 0], 0.5],
      ['positive', true, [0, 1, 1], [0, 1, 0], 0.3],
      ['negative', true, [0, 1], [1, 1], 0.6],
    ];
    for (const run of [runA, runB]) {
      rows.forEach(([label, correct, human, self, p], i) => {
        const r: ResultInput = {
          rawOutputs: { faithfulness: { p0: 0.9, sets: { human: p } } },
          label,
          correct,
          masks: { 'human/word': human, 'self/word': self },
        };
        store.results.put(run, ids[i], r);
      });
      computeRunMetrics(store, run);
    }
  });
  afterAll(() => t.cleanup());

  it('offers the stored runs\' languages, indicators and models as choices', async () => {
    const r = await q({});
    expect(r.facets).toEqual({ languages: ['da', 'en'], indicators: ['Excessive overtime'], models: ['alpha', 'beta'] });
    expect(r.runs.map((x) => [x.runId, x.model, x.indicator, x.languages])).toEqual([
      [runA, 'alpha', null, ['da', 'en']],
      [runB, 'beta', 'Excessive overtime', ['da', 'en']],
    ]);
    expect(r.source).toBe('stored');
    expect(r.examples).toBe(8);
  });

  it('without filters gives the stored run-wide rows', async () => {
    const r = await q({ runIds: [runA] });
    const stored = t.wb.store.metrics.list(runA).filter((m) => !('language' in m.scope));
    expect(r.metrics.map((m) => m.id)).toEqual(stored.map((m) => m.id));
    expect(pick(r, runA, 'kappa', { level: 'word', pair: 'human×self' })!.value).toBeCloseTo((1 + 0.4 + 0.4 + 0) / 4, 12);
    expect(pick(r, runA, 'accuracy')!.value).toBeCloseTo(3 / 4, 12);
  });

  it('by language: the stored per-language scope', async () => {
    const r = await q({ runIds: [runA], language: 'da' });
    expect(r.metrics.every((m) => m.scope.language === 'da')).toBe(true);
    expect(pick(r, runA, 'kappa', { level: 'word', pair: 'human×self' })!.value).toBeCloseTo((0.4 + 0) / 2, 12);
    expect(pick(r, runA, 'p', { set: 'human' })!.value).toBeCloseTo((0.3 + 0.6) / 2, 12);
    expect(r.examples).toBe(2);
  });

  it('by indicator and by model: the matching runs only', async () => {
    const byIndicator = await q({ indicator: 'Excessive overtime' });
    expect(byIndicator.runs.map((x) => x.runId)).toEqual([runB]);
    expect(new Set(byIndicator.metrics.map((m) => m.runId))).toEqual(new Set([runB]));
    expect(byIndicator.metrics.every((m) => m.scope.indicator === 'Excessive overtime' && m.scope.model === 'beta')).toBe(true);
    const byModel = await q({ model: 'alpha' });
    expect(byModel.runs.map((x) => x.runId)).toEqual([runA]);
    expect(byModel.metrics.every((m) => m.runId === runA)).toBe(true);
    expect((await q({ model: 'alpha', indicator: 'Excessive overtime' })).metrics).toEqual([]);
  });

  it('correct or wrong answers only: metrics recomputed over those examples', async () => {
    const c = await q({ runIds: [runA], correct: 'correct' });
    expect(c.source).toBe('recomputed');
    expect(c.examples).toBe(3);
    expect(pick(c, runA, 'accuracy')!.value).toBe(1);
    expect(pick(c, runA, 'examples')!.value).toBe(3);
    const k = pick(c, runA, 'kappa', { level: 'word', pair: 'human×self' })!;
    expect(k.value).toBeCloseTo((1 + 0.4 + 0) / 3, 12);
    expect(k.n).toBe(3);
    expect(k.ciLow!).toBeLessThanOrEqual(k.value!);
    expect(k.ciHigh!).toBeGreaterThanOrEqual(k.value!);
    expect(pick(c, runA, 'p', { set: 'human' })!.value).toBeCloseTo((0.4 + 0.3 + 0.6) / 3, 12);
    expect(c.metrics.some((m) => 'language' in m.scope)).toBe(false);

    const w = await q({ runIds: [runA], correct: 'incorrect' });
    expect(w.examples).toBe(1);
    expect(pick(w, runA, 'accuracy')!.value).toBe(0);
    expect(pick(w, runA, 'kappa', { level: 'word', pair: 'human×self' })!.value).toBeCloseTo(0.4, 12);
    expect(pick(w, runA, 'p', { set: 'human' })!.value).toBeCloseTo(0.5, 12);

    // Combined with a language: correct English answers are example a alone.
    const ce = await q({ runIds: [runA], correct: 'correct', language: 'en' });
    expect(ce.examples).toBe(1);
    expect(pick(ce, runA, 'kappa', { level: 'word', pair: 'human×self' })!.value).toBeCloseTo(1, 12);
  });

  it('refuses a bad filter with the field named', async () => {
    const r = await t.wb.call('queryMetrics', { correct: 'maybe' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(Object.keys(r.error.fields ?? {})).toEqual(['correct']);
  });
});
