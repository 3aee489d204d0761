// Runs as the engine job answers them (issue 12 items 2 and 7): every (model, seed) run of a study exists
// and is answered as soon as it starts; a model that cannot load leaves no run of the study without a
// stored state; Resume continues the runs Pause paused together; a study that cannot make a run is refused
// with the field named. Real SQLite, real generated GGUFs run by llama.cpp in the engine processes.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportReport } from '../../main/api/catalogue';
import { generateModel } from '../../main/gguf/generate';
import { ensureDemoModel } from '../../main/runner';
import type { ModelRecord, RunRecord, StudyRecord } from '../../main/store/types';
import { ok, tempWorkbench } from './helpers';

const WORDS = ['good', 'bad', 'wonderful', 'boring', 'charming', 'film', 'movie', 'review'];
const csv = ['text,label', ...Array.from({ length: 40 }, (_, i) => `"${WORDS.map((_, k) => WORDS[(i + k * 3) % WORDS.length]).join(' ')} ${i}",${i % 2 ? 'positive' : 'negative'}`)].join('\n');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('API: run lifecycle answered by the engine job', () => {
  const t = tempWorkbench();
  let demo: ModelRecord;
  let second: ModelRecord;
  let datasetId: number;
  const save = async (name: string, over: Record<string, unknown>) => {
    const config = { name, task: { kind: 'sentiment' }, language: 'en', dataset: { id: datasetId }, models: [{ id: demo.id, mode: 'scoring' }], seeds: [28], explanations: ['human', 'lrp-cp'], metrics: ['accuracy'], onlyCorrect: false, limits: { threads: 1 }, ...over };
    return (ok(await t.wb.call('saveStudy', { name, config })) as { study: StudyRecord }).study;
  };
  const settled = async (ids: number[], ms = 400_000) => {
    const t0 = Date.now();
    for (;;) {
      const runs = ids.map((id) => t.wb.store.runs.get(id)!);
      if (runs.every((r) => !['running', 'queued'].includes(r.status)) || Date.now() - t0 > ms) return runs;
      await sleep(200);
    }
  };

  beforeAll(async () => {
    demo = (ok(await t.wb.call('registerModel', { file: t.upload(await ensureDemoModel(), 'rw-demo.gguf') })) as { model: ModelRecord }).model;
    const file = join(t.dir, 'second.gguf');
    await generateModel({ path: file, seed: 5, nLayer: 1, nEmbd: 32, nHead: 4, nHeadKv: 2, nFf: 64, contextLength: 512, vocab: 'synthetic', chatTemplate: 'chatml' });
    second = (ok(await t.wb.call('registerModel', { file: t.upload(file, 'second.gguf') })) as { model: ModelRecord }).model;
    datasetId = (ok(await t.wb.call('importDataset', { file: t.uploadBytes('reviews.csv', csv), format: 'csv', language: 'en' })) as ImportReport).dataset.id;
  }, 120_000);
  afterAll(() => t.cleanup());

  it('startRun answers every (model, seed) run of the study at once, all of them stored', async () => {
    const study = await save('two models', { models: [{ id: demo.id, mode: 'scoring' }, { id: second.id, mode: 'scoring' }], seeds: [28, 79], limits: { threads: 1, maxExamples: 3 } });
    const { runIds } = ok(await t.wb.call('startRun', { studyId: study.id })) as { runIds: number[] };
    // (before: only the first model's runs existed when startRun answered; the second's came later)
    expect(runIds).toHaveLength(4);
    const stored = t.wb.store.runs.list({ studyId: study.id });
    expect(stored.map((r) => [r.modelId, r.seed])).toEqual([[demo.id, 28], [demo.id, 79], [second.id, 28], [second.id, 79]]);
    expect(stored.map((r) => r.id)).toEqual(runIds);
    const end = await settled(runIds);
    expect(end.map((r) => r.status)).toEqual(['done', 'done', 'done', 'done']);
  }, 600_000);

  it("a model whose file is gone fails its runs with the reason, and the study's other runs are failed with it, none left queued", async () => {
    const file = join(t.dir, 'gone.gguf');
    await generateModel({ path: file, seed: 6, nLayer: 1, nEmbd: 32, nHead: 4, nHeadKv: 2, nFf: 64, contextLength: 512, vocab: 'synthetic', chatTemplate: 'chatml' });
    const gone = (ok(await t.wb.call('registerModel', { file: t.upload(file, 'gone.gguf') })) as { model: ModelRecord }).model;
    rmSync(gone.path);
    const study = await save('gone model', { models: [{ id: gone.id, mode: 'scoring' }, { id: demo.id, mode: 'scoring' }], seeds: [28, 79] });
    const { runIds } = ok(await t.wb.call('startRun', { studyId: study.id })) as { runIds: number[] };
    expect(runIds).toHaveLength(4);
    const end = await settled(runIds);
    expect(end.map((r) => r.status)).toEqual(['failed', 'failed', 'failed', 'failed']);
    const reason = end[0].error!;
    // named as the user knows it (the upload's name), not by the app's private copy
    expect(reason).toMatch(/^model "gone\.gguf" could not be loaded: /);
    expect(reason).not.toContain(gone.path);
    expect(end[1].error).toBe(reason);
    // the demo model's runs never started: they say why
    expect(end[2].error).toBe(`not run: the study stopped before this run: ${reason}`);
    expect(end[3].error).toBe(end[2].error);
  }, 300_000);

  it('Pause pauses the study\'s other runs; Resume continues them too (queued at once), and all finish', async () => {
    const study = await save('pause both', { seeds: [28, 79], limits: { threads: 1, maxExamples: 25 } });
    const { runIds } = ok(await t.wb.call('startRun', { studyId: study.id })) as { runIds: number[] };
    const [a, b] = runIds;
    for (const t0 = Date.now(); t.wb.store.runs.get(a)!.progress.done < 1 && Date.now() - t0 < 300_000; ) await sleep(50);
    const paused = ok(await t.wb.call('pauseRun', { runId: a })) as RunRecord;
    // the job answered once the study had stopped: the record it answers is the run's final state
    expect(paused.status).toBe('paused');
    expect(paused).toEqual(t.wb.store.runs.get(a));
    expect(t.wb.store.runs.get(b)!.status).toBe('paused');
    expect(paused.progress.done).toBeLessThan(paused.progress.total);

    const resumed = ok(await t.wb.call('resumeRun', { runId: a })) as RunRecord;
    expect(['queued', 'running']).toContain(resumed.status);
    // (before: the other run stayed "paused" until the study reached it, and its Resume was refused as a conflict)
    expect(['queued', 'running']).toContain(t.wb.store.runs.get(b)!.status);
    const end = await settled([a, b]);
    expect(end.map((r) => r.status)).toEqual(['done', 'done']);
    for (const r of end) expect(new Set(t.wb.store.results.doneExampleIds(r.id)).size).toBe(25);
  }, 600_000);

  it('Resume leaves a cancelled run of the study alone', async () => {
    const study = await save('cancel one', { seeds: [28, 79], limits: { threads: 1, maxExamples: 2 } });
    const { runIds } = ok(await t.wb.call('startRun', { studyId: study.id })) as { runIds: number[] };
    const [a, b] = runIds;
    const paused = ok(await t.wb.call('pauseRun', { runId: a })) as RunRecord;
    expect(paused.status).toBe('paused');
    // the second run, paused with it, is cancelled: it stays stopped when the first resumes
    expect((ok(await t.wb.call('cancelRun', { runId: b })) as RunRecord).status).toBe('stopped');
    ok(await t.wb.call('resumeRun', { runId: a }));
    const end = await settled([a, b]);
    expect(end.map((r) => r.status)).toEqual(['done', 'stopped']);
  }, 300_000);

  it('a study whose model is not registered is refused before anything runs, naming the field', async () => {
    const study = await save('no such model', { models: [{ id: 999, mode: 'scoring' }] });
    const r = await t.wb.call('startRun', { studyId: study.id });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message).toBe(`study ${study.id} did not start: model 999 is not registered (it was deleted): choose another model`);
      expect(r.error.fields).toEqual({ 'models.0.id': 'model 999 is not registered (it was deleted): choose another model' });
    }
    expect(t.wb.store.runs.list({ studyId: study.id })).toEqual([]);
  }, 60_000);
});
