import type { RunRecord } from '../../../main/api/records';

/**
 * How the Run monitor shows a run's state and what its "Results" button opens. A finished run has its
 * metrics: Results, for that run alone. A partial run (running, queued, paused, stopped, failed,
 * interrupted) with examples stored opens them in the Inspector ("Results so far"): its metrics are
 * computed when it is done.
 */
export const isPartial = (r: Pick<RunRecord, 'status'>): boolean => r.status !== 'done';

export function resultsAction(r: Pick<RunRecord, 'status' | 'progress'>): 'results' | 'so-far' | null {
  if (r.status === 'done') return 'results';
  return r.progress.done > 0 ? 'so-far' : null;
}

/** The status in words. */
export function statusText(r: Pick<RunRecord, 'status'>): string {
  return r.status === 'interrupted' ? 'interrupted — resume' : r.status;
}
