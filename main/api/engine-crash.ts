/**
 * What happens to runs when the engine process running them dies (llama.cpp aborting on a fault, the
 * process killed): each run it was running or about to run is marked failed, with the reason, in the
 * database, so the Run monitor shows a failure instead of a run frozen at `running` or `queued`. A failed
 * run can be resumed: the examples already stored are kept.
 */
import { openStore } from '../store';
import type { RunRecord } from '../store/types';

export type LostRunEvent = { type: 'run-progress'; run: RunRecord } | { type: 'run-error'; runId: number; message: string };

/** Why a run failed when its process stopped `how` (a signal name or "exit code N"). */
export function lostProcessReason(how: string, run: Pick<RunRecord, 'status'>): string {
  const when = run.status === 'queued' ? 'before this run started' : 'during this run';
  return `the engine process running this study stopped (${how}) ${when}; other runs were not affected. ` +
    'Resume the run to continue after its last stored example; if it stops again, check the model (models inspect).';
}

/**
 * Marks failed the runs of `which` (a study's, or the given ids) that are still running or queued, or
 * interrupted with their lease held by the lost process `pid`, and
 * returns the events that tell the app. Never throws: a database that cannot be opened leaves the runs as
 * they are (the lease expiry shows them as interrupted later).
 */
export function failRunsOfLostProcess(dbFile: string, which: { studyId: number } | { runIds: number[] }, how: string, pid?: number): LostRunEvent[] {
  const events: LostRunEvent[] = [];
  let store;
  try {
    store = openStore(dbFile);
  } catch {
    return events;
  }
  try {
    const runs = 'studyId' in which ? store.runs.list({ studyId: which.studyId }) : which.runIds.map((id) => store!.runs.get(id)).filter((r): r is RunRecord => !!r);
    for (const run of runs) {
      // a run whose holder is gone reads as interrupted (store leases): it is this process's when its lease
      // names this process; one interrupted earlier by another process is left as it is
      const ours = run.status === 'interrupted' && pid !== undefined && store.runs.lease(run.id)?.pid === pid;
      if (run.status !== 'running' && run.status !== 'queued' && !ours) continue;
      const message = lostProcessReason(how, run);
      store.runs.finish(run.id, { status: 'failed', error: message });
      events.push({ type: 'run-progress', run: store.runs.get(run.id)! }, { type: 'run-error', runId: run.id, message });
    }
  } finally {
    store.close();
  }
  return events;
}
