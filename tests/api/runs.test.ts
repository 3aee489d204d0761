import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportResult, MetricsQueryResult, PlainResult, Page, ResultsPage } from '../../main/api/catalogue';
import type { WorkbenchEvent } from '../../main/api/catalogue';
import { ensureDemoModel } from '../../main/runner';
import type { MetricRecord, ModelRecord, RunRecord, StudyRecord } from '../../main/store/types';
import { ok, tempWorkbench } from './helpers';

/** A real (tiny, generated) GGUF model run by llama.cpp through the engine process. */
describe('API: runs, results, metrics and export with the demo model', () => {
  const t = tempWorkbench();
  const events: WorkbenchEvent[] = [];
  let model: ModelRecord;
  let study: StudyRecord;
  let doneRun = 0;

  beforeAll(async () => {
    t.wb.onEvent((e) => events.push(e));
    const file = t.upload(await ensureDemoModel(), 'rw-demo.gguf');
    model = (ok(await t.wb.call('registerModel', { file })) as { model: ModelRecord }).model;
    const config = {
      name: 'gui demo',
      task: { kind: 'sentiment' },
      language: 'en',
      dataset: { builtin: 'demo-sentiment-en' },
      models: [{ id: model.id, mode: 'scoring' }],
      seeds: [28],
      explanations: ['human', 'lrp-cp', 'random'],
      onlyCorrect: false,
      limits: { maxExamples: 3 },
    };
    study = (ok(await t.wb.call('saveStudy', { name: 'gui demo', config })) as { study: StudyRecord }).study;
  });
  afterAll(() => t.cleanup());

  it('registers the uploaded model as a copy under the data directory, with metadata and fit', () => {
    expect(model.path.startsWith(`${t.dir}/models/`)).toBe(true);
    expect(existsSync(model.path)).toBe(true);
    expect(model.architecture).toBe('llama');
    expect(model.metadata.displayName).toBe('rw-demo.gguf');
  });

  it('runs the study in the engine process, streaming progress, until done', async () => {
    const started = ok(await t.wb.call('startRun', { studyId: study.id })) as { runIds: number[] };
    expect(started.runIds).toHaveLength(1);
    const runId = started.runIds[0];
    doneRun = runId;
    const again = await t.wb.call('startRun', { studyId: study.id });
    expect(again.ok).toBe(false);
    let run: RunRecord;
    const t0 = Date.now();
    do {
      await new Promise((r) => setTimeout(r, 250));
      run = ok(await t.wb.call('getRun', { runId })) as RunRecord;
    } while ((run.status === 'running' || run.status === 'queued') && Date.now() - t0 < 360_000);
    expect(run.status).toBe('done');
    expect(run.progress).toEqual({ done: 3, total: 3 });
    // the store says done as soon as the runner finalizes the run; the job's closing progress event comes after
    // that, from the engine process: give it time to arrive (it must arrive, and say done)
    const closing = () => events.some((e) => e.type === 'run-progress' && e.run.id === runId && e.run.status === 'done');
    for (const t1 = Date.now(); !closing() && Date.now() - t1 < 10_000; ) await new Promise((r) => setTimeout(r, 50));
    const progress = events.filter((e) => e.type === 'run-progress' && e.run.id === runId);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.type === 'run-progress' && (progress.at(-1) as { run: RunRecord }).run.status).toBe('done');

    const page = ok(await t.wb.call('listResults', { runId })) as Page<PlainResult>;
    expect(page.total).toBe(3);
    const one = ok(await t.wb.call('getResult', { runId, exampleId: page.items[0].exampleId })) as PlainResult;
    const cp = one.relevance.find((r) => r.method === 'lrp-cp');
    expect(cp).toBeDefined();
    expect(Array.isArray(cp!.values)).toBe(true);
    expect(cp!.values.length).toBe(one.tokens!.length);
    const metrics = ok(await t.wb.call('listMetrics', { runId })) as MetricRecord[];
    expect(metrics.length).toBeGreaterThan(0);

    const csv = ok(await t.wb.call('exportRun', { runId, format: 'csv' })) as ExportResult;
    expect(csv.name).toBe(`run-${runId}.csv`);
    const entry = t.wb.files.get(csv.download!)!;
    const lines = readFileSync(entry.path, 'utf8').trim().split('\n');
    expect(lines.length).toBe(1 + 3);
  }, 400_000);

  it('lists for the Inspector exactly the examples the Results screen counts under the same filters', async () => {
    expect(doneRun).toBeGreaterThan(0);
    const { store } = t.wb;
    const results = store.results.list(doneRun, { relevance: false });
    const modelName = String(store.metrics.list(doneRun).find((m) => m.name === 'examples' && !('language' in m.scope))!.scope.model);
    const seen: number[] = [];
    for (const correct of ['all', 'correct', 'incorrect'] as const) {
      for (const more of [{}, { language: 'en', model: modelName }]) {
        const filter = { correct, ...more };
        const q = ok(await t.wb.call('queryMetrics', { runIds: [doneRun], ...filter })) as MetricsQueryResult;
        const page = ok(await t.wb.call('listResults', { runId: doneRun, filter })) as ResultsPage;
        // By hand from the stored answers: every demo example is English, the run's model is the filter's.
        const expected = results.filter((r) => correct === 'all' || r.correct === (correct === 'correct')).map((r) => r.exampleId);
        expect(page.items.map((r) => r.exampleId)).toEqual(expected);
        expect(page.total).toBe(q.examples);
        expect(page.runTotal).toBe(3);
        expect(page.filtered).toEqual({ run: 'in', runsInFilter: [] });
        if (correct !== 'all') seen.push(...page.items.map((r) => r.exampleId));
      }
    }
    // Correct and wrong answers split the answered examples between them (each listed twice above).
    expect(new Set(seen).size).toBe(results.filter((r) => r.correct !== null).length);
    const other = ok(await t.wb.call('listResults', { runId: doneRun, filter: { model: 'no-such-model' } })) as ResultsPage;
    expect(other.total).toBe(0);
    expect(other.filtered).toEqual({ run: 'out', runsInFilter: [] });
  });
});

describe('API: pause and resume a run', () => {
  const t = tempWorkbench();
  afterAll(() => t.cleanup());

  it('pauses after the example in flight and resumes without redoing or duplicating examples', async () => {
    const file = t.upload(await ensureDemoModel(), 'rw-demo.gguf');
    const model = (ok(await t.wb.call('registerModel', { file })) as { model: ModelRecord }).model;
    const config = {
      name: 'pause demo',
      task: { kind: 'sentiment' },
      dataset: { builtin: 'demo-sentiment-en' },
      models: [{ id: model.id, mode: 'scoring' }],
      seeds: [28],
      explanations: ['human', 'lrp-cp'],
      metrics: ['accuracy'],
      onlyCorrect: false,
    };
    const study = (ok(await t.wb.call('saveStudy', { name: 'pause demo', config })) as { study: StudyRecord }).study;
    const [runId] = (ok(await t.wb.call('startRun', { studyId: study.id })) as { runIds: number[] }).runIds;
    let run: RunRecord;
    do {
      await new Promise((r) => setTimeout(r, 50));
      run = ok(await t.wb.call('getRun', { runId })) as RunRecord;
    } while (run.progress.done < 1 && (run.status === 'running' || run.status === 'queued'));
    const paused = ok(await t.wb.call('pauseRun', { runId })) as RunRecord;
    expect(paused.status).toBe('paused');
    expect(paused.progress.done).toBeLessThan(paused.progress.total);
    const doneAtPause = t.wb.store.results.doneExampleIds(runId);

    const resumed = ok(await t.wb.call('resumeRun', { runId })) as RunRecord;
    expect(resumed.id).toBe(runId);
    const t0 = Date.now();
    do {
      await new Promise((r) => setTimeout(r, 250));
      run = ok(await t.wb.call('getRun', { runId })) as RunRecord;
    } while (run.status !== 'done' && run.status !== 'failed' && Date.now() - t0 < 360_000);
    expect(run.status).toBe('done');
    const ids = t.wb.store.results.doneExampleIds(runId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(run.progress.total);
    for (const id of doneAtPause) expect(ids).toContain(id);
    // Still one run for the study: resuming continued it instead of starting another.
    expect((ok(await t.wb.call('listRuns', { studyId: study.id })) as RunRecord[]).map((r) => r.id)).toEqual([runId]);
  }, 400_000);
});
