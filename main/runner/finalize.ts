/** After a run's examples are stored: metrics from the stored results, then the run is marked done. */
import { computeRunMetrics } from '../metrics/run-metrics';
import type { Store } from '../store';

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
