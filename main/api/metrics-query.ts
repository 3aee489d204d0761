/**
 * Metrics of a filtered set of runs and examples, for the Results screen's filters (language,
 * indicator, model, correct or not).
 *
 * Stored metrics are per run, with per-language scopes when a run mixes languages; the run's model,
 * seed and indicator are in every row's scope. So language, indicator and model are answered by
 * choosing runs and scopes from what is stored. "Correct or not" cuts across the stored scopes: the
 * metrics are then recomputed over the chosen examples with the runner's own `runMetrics` (same
 * per-example values, same aggregation and bootstrap as the stored ones), never approximated.
 * Figures pooled over seeds (per model) are always computed over the filtered examples.
 * Which runs and results the filters choose is result-filter.ts, shared with the Inspector.
 */
import type { Store } from '../store';
import { pooledByModel, runMetrics } from '../metrics/run-metrics';
import { meanCurvesByMethod, type StoredFlipping } from '../metrics/flipping';
import type { Correctness, FilteredMetric, MetricsFilter, MetricsQueryResult, PooledModelMetrics, RunFacet } from './catalogue';
import { hasLanguage, selectResults } from './result-filter';

export type { Correctness, FilteredMetric, MetricsFilter, MetricsQueryResult, PooledModelMetrics, RunFacet };

export function queryMetrics(store: Store, filter: MetricsFilter = {}): MetricsQueryResult {
  const correct = filter.correct ?? 'all';
  // Which runs and examples the filters choose: the same selection the Inspector pages through.
  const sel = selectResults(store, filter);
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  const out: MetricsQueryResult = {
    facets: {
      languages: uniq(sel.facets.flatMap((f) => f.languages)),
      indicators: uniq(sel.facets.flatMap((f) => (f.indicator === null ? [] : [f.indicator]))),
      models: uniq(sel.facets.map((f) => f.model)),
    },
    runs: sel.runs,
    pending: sel.pending,
    source: correct === 'all' ? 'stored' : 'recomputed',
    examples: 0,
    metrics: [],
    pooled: [],
    flipping: [],
  };

  for (const f of out.runs) {
    out.examples += sel.chosen.get(f.runId)!.length;
    if (correct === 'all') {
      const rows = sel.stored.get(f.runId)!;
      // A run of one language stores only run-wide rows; a mixed run also stores per-language rows.
      const pick =
        filter.language === undefined || f.languages.length <= 1
          ? rows.filter((m) => !hasLanguage(m))
          : rows.filter((m) => m.scope.language === filter.language);
      out.metrics.push(...pick.map((m) => ({ ...m })));
      continue;
    }
    const rs = store.results.list(f.runId).filter((r) => sel.matches(f.runId, r));
    const exs = sel.examplesOf(sel.records.get(f.runId)!.datasetId);
    const ctx = { model: f.model, seed: f.seed, ...(f.indicator !== null ? { indicator: f.indicator } : {}) };
    const rows = runMetrics(rs, exs, ctx).filter((m) => !hasLanguage(m));
    out.metrics.push(
      ...rows.map((m) => ({
        id: null,
        runId: f.runId,
        scope: m.scope,
        name: m.name,
        value: m.value,
        ciLow: m.ciLow ?? null,
        ciHigh: m.ciHigh ?? null,
        n: m.n ?? null,
      })),
    );
  }
  // pooled over seeds: the filtered examples of each run (with their relevance, for AUPRC)
  const poolRuns = out.runs.map((f) => ({ run: sel.records.get(f.runId)!, results: store.results.list(f.runId).filter((r) => sel.matches(f.runId, r)) }));
  out.pooled = pooledByModel(store, poolRuns).map((p) => ({
    model: p.model,
    indicator: p.indicator ?? null,
    runIds: p.runIds,
    seeds: p.seeds,
    metrics: p.rows
      .filter((m) => !hasLanguage(m))
      .map((m) => ({ scope: m.scope, name: m.name, value: m.value, ciLow: m.ciLow ?? null, ciHigh: m.ciHigh ?? null, n: m.n ?? null })),
  }));
  // faithfulness curves over k: each run's mean curve per method over its filtered, evaluated examples
  for (const f of out.runs) {
    const stored = sel.chosen.get(f.runId)!.flatMap((r) => (!r.skippedReason && r.rawOutputs?.flipping ? [r.rawOutputs.flipping as StoredFlipping] : []));
    const mean = meanCurvesByMethod(stored);
    if (mean) out.flipping!.push({ runId: f.runId, ...mean });
  }
  return out;
}
