/**
 * Metrics of a filtered set of runs and examples, for the Results screen's filters (language,
 * indicator, model, correct or not).
 *
 * Stored metrics are per run, with per-language scopes when a run mixes languages; the run's model,
 * seed and indicator are in every row's scope. So language, indicator and model are answered by
 * choosing runs and scopes from what is stored. "Correct or not" cuts across the stored scopes: the
 * metrics are then recomputed over the chosen examples with the runner's own `runMetrics` (same
 * per-example values, same aggregation and bootstrap as the stored ones), never approximated.
 */
import type { MetricRecord, ResultRecord, RunRecord, StoredExample } from '../store/types';
import type { Store } from '../store';
import { runMetrics } from '../runner/evaluate';
import type { Correctness, FilteredMetric, MetricsFilter, MetricsQueryResult, RunFacet } from './catalogue';

export type { Correctness, FilteredMetric, MetricsFilter, MetricsQueryResult, RunFacet };

const hasLanguage = (m: { scope: Record<string, unknown> }) => Object.prototype.hasOwnProperty.call(m.scope, 'language');

/** Whether a result belongs to the "correct or not" choice; unanswered examples (correct null) belong to neither side. */
export function matchesCorrectness(r: Pick<ResultRecord, 'correct'>, c: Correctness): boolean {
  return c === 'all' || (c === 'correct' ? r.correct === true : r.correct === false);
}

export function queryMetrics(store: Store, filter: MetricsFilter = {}): MetricsQueryResult {
  const correct = filter.correct ?? 'all';
  const all: RunRecord[] = store.runs.list();
  const considered = filter.runIds ? all.filter((r) => filter.runIds!.includes(r.id)) : all;
  const pending: number[] = [];
  const facets: RunFacet[] = [];
  const stored = new Map<number, MetricRecord[]>();
  const examplesOf = new Map<number, Map<number, StoredExample>>();
  const exampleMap = (datasetId: number) => {
    let m = examplesOf.get(datasetId);
    if (!m) examplesOf.set(datasetId, (m = new Map(store.datasets.examples(datasetId).map((e) => [e.id, e]))));
    return m;
  };
  const light = new Map<number, ResultRecord[]>();
  for (const run of considered) {
    const rows = store.metrics.list(run.id);
    // The run-wide "examples" row carries the run's model, seed and indicator as the runner named them.
    const head = rows.find((m) => m.name === 'examples' && !hasLanguage(m));
    if (!head) {
      pending.push(run.id);
      continue;
    }
    stored.set(run.id, rows);
    const results = store.results.list(run.id, { relevance: false });
    light.set(run.id, results);
    const exs = exampleMap(run.datasetId);
    const languages = [...new Set(results.map((r) => exs.get(r.exampleId)?.language ?? ''))].filter((l) => l !== '').sort();
    facets.push({
      runId: run.id,
      studyId: run.studyId,
      seed: run.seed,
      model: String(head.scope.model ?? ''),
      indicator: head.scope.indicator === undefined ? null : String(head.scope.indicator),
      languages,
    });
  }
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  const out: MetricsQueryResult = {
    facets: {
      languages: uniq(facets.flatMap((f) => f.languages)),
      indicators: uniq(facets.flatMap((f) => (f.indicator === null ? [] : [f.indicator]))),
      models: uniq(facets.map((f) => f.model)),
    },
    runs: facets.filter(
      (f) =>
        (filter.language === undefined || f.languages.includes(filter.language)) &&
        (filter.indicator === undefined || f.indicator === filter.indicator) &&
        (filter.model === undefined || f.model === filter.model),
    ),
    pending,
    source: correct === 'all' ? 'stored' : 'recomputed',
    examples: 0,
    metrics: [],
  };

  for (const f of out.runs) {
    const run = considered.find((r) => r.id === f.runId)!;
    const exs = exampleMap(run.datasetId);
    const inLanguage = (r: ResultRecord) => filter.language === undefined || exs.get(r.exampleId)?.language === filter.language;
    out.examples += light.get(f.runId)!.filter((r) => inLanguage(r) && matchesCorrectness(r, correct)).length;
    if (correct === 'all') {
      const rows = stored.get(f.runId)!;
      // A run of one language stores only run-wide rows; a mixed run also stores per-language rows.
      const pick =
        filter.language === undefined || f.languages.length <= 1
          ? rows.filter((m) => !hasLanguage(m))
          : rows.filter((m) => m.scope.language === filter.language);
      out.metrics.push(...pick.map((m) => ({ ...m })));
      continue;
    }
    const rs = store.results.list(f.runId).filter((r) => inLanguage(r) && matchesCorrectness(r, correct));
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
  return out;
}
