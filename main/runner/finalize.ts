/** After a run's examples are stored: metrics from the stored results, then the run is marked done. */
import type { Store } from '../store';
import { runMetrics, type RunContext } from './evaluate';

export function modelName(path: string): string {
  const base = path.replace(/^imported:/, '').split(/[\\/]/).pop() ?? path;
  return base.replace(/\.gguf$/i, '');
}

/** What a run's metrics are labelled and seeded with (model name, seed, indicator): also written into exports. */
export function runContextOf(store: Store, runId: number): RunContext {
  const run = store.runs.get(runId);
  if (!run) throw new Error(`run ${runId} does not exist`);
  const model = store.models.get(run.modelId)!;
  const study = store.studies.get(run.studyId);
  const task = (study?.config as { task?: { indicator?: number } } | undefined)?.task;
  return {
    model: (model.metadata as { name?: string })?.name ?? modelName(model.path),
    seed: run.seed,
    ...(task?.indicator ? { indicator: String(task.indicator) } : {}),
  };
}

/** Recomputes and stores (replacing) all metrics of the run; returns how many rows were stored. */
export function computeRunMetrics(store: Store, runId: number, opts: { B?: number } = {}): number {
  const ctx = runContextOf(store, runId);
  const run = store.runs.get(runId)!;
  const examples = new Map(store.datasets.examples(run.datasetId).map((e) => [e.id, e]));
  const results = store.results.list(runId);
  const rows = runMetrics(results, examples, ctx, opts);
  store.metrics.replace(runId, rows);
  return rows.length;
}

/** Metrics, then 'done'. If the metrics cannot be computed the run is marked failed with the reason (and the error rethrown). */
export function finalizeRun(store: Store, runId: number, timings: Record<string, unknown> = {}): void {
  try {
    computeRunMetrics(store, runId);
  } catch (e) {
    store.runs.finish(runId, { status: 'failed', timings, error: `metrics: ${e instanceof Error ? e.message : String(e)}` });
    throw e;
  }
  store.runs.finish(runId, { status: 'done', timings });
}
