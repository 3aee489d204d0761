// Desktop notifications (issue 12 item 2): which events notify and with what words. The Electron call is in
// main/shell/main.ts; the decision is api/run-notice.ts, tested here over real event shapes.
import { describe, expect, it } from 'vitest';
import { runNoticeText, runNotifier } from '../../main/api/run-notice';
import type { RunRecord } from '../../main/store/types';

const since = '2026-12-03T10:00:00.000Z';
const run = (over: Partial<RunRecord>): RunRecord => ({
  id: 7, studyId: 3, modelId: 2, datasetId: 1, seed: 28, status: 'running', progress: { done: 4, total: 10 },
  appVersion: 't', createdAt: since, startedAt: since, finishedAt: null, timings: {}, error: null, name: null, ...over,
});
const names = { study: (id: number) => (id === 3 ? 'forced labour' : undefined), model: (id: number) => (id === 2 ? 'tiny.gguf' : undefined) };

describe('run notices', () => {
  it('a finished run and a failed run notify once, with the study, model, seed and the reason', () => {
    const n = runNotifier(names, since);
    const done = run({ status: 'done', progress: { done: 10, total: 10 }, finishedAt: '2026-12-03T10:05:00.000Z' });
    expect(n.next({ type: 'run-progress', run: done })).toEqual({ title: 'Run 7 finished', body: '“forced labour” · tiny.gguf · seed 28: 10 of 10 examples. Results are ready.' });
    // the job's closing events repeat the same end: no second notice
    expect(n.next({ type: 'run-progress', run: done })).toBeNull();
    const failed = run({ id: 8, status: 'failed', error: 'model /m/x.gguf could not be loaded: no such file', finishedAt: '2026-12-03T10:06:00.000Z' });
    expect(n.next({ type: 'run-progress', run: failed })).toEqual({ title: 'Run 8 failed', body: '“forced labour” · tiny.gguf · seed 28: model /m/x.gguf could not be loaded: no such file' });
    // resumed and failed again later: a new end, a new notice
    expect(n.next({ type: 'run-progress', run: { ...failed, finishedAt: '2026-12-03T10:09:00.000Z' } })?.title).toBe('Run 8 failed');
  });

  it('progress, pauses, cancels, other events and runs that ended before the app started do not notify', () => {
    const n = runNotifier(names, since);
    expect(n.next({ type: 'run-progress', run: run({}) })).toBeNull();
    expect(n.next({ type: 'run-progress', run: run({ status: 'queued' }) })).toBeNull();
    expect(n.next({ type: 'run-progress', run: run({ status: 'paused', finishedAt: null }) })).toBeNull();
    expect(n.next({ type: 'run-progress', run: run({ status: 'stopped', finishedAt: '2026-12-03T10:05:00.000Z' }) })).toBeNull();
    expect(n.next({ type: 'run-error', runId: 7, message: 'x' })).toBeNull();
    expect(n.next({ type: 'datasets-changed' })).toBeNull();
    // an earlier run of the study, re-sent when the study stops again
    expect(n.next({ type: 'run-progress', run: run({ status: 'done', finishedAt: '2026-12-02T09:00:00.000Z' }) })).toBeNull();
  });

  it('falls back to ids for unknown names and shortens a long reason', () => {
    const long = 'x'.repeat(500);
    const t = runNoticeText(run({ studyId: 9, modelId: 9, status: 'failed', error: long }), names)!;
    expect(t.body.startsWith('study 9 · model 9 · seed 28: xxx')).toBe(true);
    expect(t.body.endsWith('…')).toBe(true);
    expect(t.body.length).toBeLessThan(300);
  });
});
