/**
 * Which workbench events become a desktop notification, and with what words. The decision lives here,
 * pure and tested (tests/api/run-notice.test.ts); main/shell only shows what it answers (Electron's
 * Notification). A run that ends (done) or fails notifies once; a pause or cancel does not (the user did
 * it), nor a run the app saw end before it started: the engine re-sends the final state of a study's
 * earlier runs when the study stops again.
 */
import type { WorkbenchEvent } from './catalogue';
import type { RunRecord } from '../store/types';

export interface RunNotice {
  title: string;
  body: string;
}

/** Names for the notice's text; unknown ones fall back to ids. */
export interface NoticeNames {
  study(studyId: number): string | undefined;
  model(modelId: number): string | undefined;
}

/** Longest reason shown in a notification (desktop notifications cut long bodies anyway). */
const MAX_REASON = 240;

export function runNoticeText(run: RunRecord, names: NoticeNames): RunNotice | null {
  const study = names.study(run.studyId);
  const model = names.model(run.modelId);
  const what = `${study ? `“${study}”` : `study ${run.studyId}`} · ${model ?? `model ${run.modelId}`} · seed ${run.seed}`;
  if (run.status === 'done') {
    return { title: `Run ${run.id} finished`, body: `${what}: ${run.progress.done} of ${run.progress.total} examples. Results are ready.` };
  }
  if (run.status === 'failed') {
    const reason = run.error ?? 'no reason stored';
    return { title: `Run ${run.id} failed`, body: `${what}: ${reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason}` };
  }
  return null;
}

/**
 * A notifier over the event stream: `next(event)` answers the notice to show, or null. `since` (ISO time)
 * is when the app started: a run that finished before it is old news.
 */
export function runNotifier(names: NoticeNames, since: string = new Date().toISOString()) {
  const shown = new Set<string>();
  return {
    next(event: WorkbenchEvent): RunNotice | null {
      if (event.type !== 'run-progress') return null;
      const run = event.run;
      if (run.status !== 'done' && run.status !== 'failed') return null;
      if (!run.finishedAt || run.finishedAt < since) return null;
      // the same end arrives more than once (the job's closing events, the crash handler's): once is enough
      const key = `${run.id}:${run.status}:${run.finishedAt}`;
      if (shown.has(key)) return null;
      shown.add(key);
      return runNoticeText(run, names);
    },
  };
}
