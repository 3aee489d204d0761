/**
 * Which runs and results the Results screen's filters (run, language, indicator, model, correct or
 * not) choose. The one definition of those filters: queryMetrics (metrics-query.ts) counts and
 * recomputes over this selection, and listResults pages the Inspector through the same selection,
 * so the examples the Inspector shows are exactly the ones Results counts.
 *
 * Semantics:
 *   - A run is considered when `runIds` names it (default: every run). A considered run without its
 *     run-wide "examples" metric row is pending (still running, or failed before the end): the
 *     filters read the run's model and indicator from that row, as the runner named them, so a
 *     pending run is in no filtered set.
 *   - language: runs with a result on an example of that language, and of those runs the results
 *     on examples of that language.
 *   - indicator, model: runs whose stored scope names them.
 *   - correct: 'correct' / 'incorrect' keep results with correct true / false; unanswered results
 *     (correct null) belong to neither side. Skipped results are kept (they are examples of the run).
 */
import type { MetricRecord, ResultRecord, RunRecord, StoredExample } from '../store/types';
import type { Store } from '../store';
import type { Correctness, MetricsFilter, RunFacet } from './catalogue';

export const hasLanguage = (m: { scope: Record<string, unknown> }) => Object.prototype.hasOwnProperty.call(m.scope, 'language');

/** Whether a result belongs to the "correct or not" choice; unanswered examples (correct null) belong to neither side. */
export function matchesCorrectness(r: Pick<ResultRecord, 'correct'>, c: Correctness): boolean {
  return c === 'all' || (c === 'correct' ? r.correct === true : r.correct === false);
}

export interface ResultSelection {
  /** Considered runs that have stored metrics, as the filters see them (before filtering). */
  facets: RunFacet[];
  /** Considered runs without stored metrics yet. */
  pending: number[];
  /** Runs left after the language, indicator and model filters. */
  runs: RunFacet[];
  /** Run records of `runs`, by id. */
  records: Map<number, RunRecord>;
  /** Stored metric rows of every faceted run. */
  stored: Map<number, MetricRecord[]>;
  /** Per run in `runs`: its results (without relevance vectors) that the filter chooses, in stored order. */
  chosen: Map<number, ResultRecord[]>;
  /** Whether a result of run `runId` belongs to the filtered set (false for a run outside it). */
  matches(runId: number, r: Pick<ResultRecord, 'exampleId' | 'correct'>): boolean;
  /** The examples of a dataset by id (read once per dataset). */
  examplesOf(datasetId: number): Map<number, StoredExample>;
}

export function selectResults(store: Store, filter: MetricsFilter = {}): ResultSelection {
  const correct = filter.correct ?? 'all';
  const all: RunRecord[] = store.runs.list();
  const considered = filter.runIds ? all.filter((r) => filter.runIds!.includes(r.id)) : all;
  const examples = new Map<number, Map<number, StoredExample>>();
  const examplesOf = (datasetId: number) => {
    let m = examples.get(datasetId);
    if (!m) examples.set(datasetId, (m = new Map(store.datasets.examples(datasetId).map((e) => [e.id, e]))));
    return m;
  };
  const pending: number[] = [];
  const facets: RunFacet[] = [];
  const stored = new Map<number, MetricRecord[]>();
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
    const exs = examplesOf(run.datasetId);
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
  const runs = facets.filter(
    (f) =>
      (filter.language === undefined || f.languages.includes(filter.language)) &&
      (filter.indicator === undefined || f.indicator === filter.indicator) &&
      (filter.model === undefined || f.model === filter.model),
  );
  const records = new Map(runs.map((f) => [f.runId, considered.find((r) => r.id === f.runId)!]));
  const matches = (runId: number, r: Pick<ResultRecord, 'exampleId' | 'correct'>) => {
    const run = records.get(runId);
    if (!run) return false;
    const inLanguage = filter.language === undefined || examplesOf(run.datasetId).get(r.exampleId)?.language === filter.language;
    return inLanguage && matchesCorrectness(r, correct);
  };
  const chosen = new Map(runs.map((f) => [f.runId, light.get(f.runId)!.filter((r) => matches(f.runId, r))]));
  return { facets, pending, runs, records, stored, chosen, matches, examplesOf };
}
