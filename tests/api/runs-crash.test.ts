// Faults must not spread: every study runs in an engine process of its own. An engine process killed
// mid-run (SIGKILL, as the OOM killer does; llama.cpp's GGML_ASSERT aborts the same way) with two runs
// active: the healthy run finishes, the killed one is failed with its reason, and resuming it works.
// startRun answers an error with the reason when a study cannot make a run, and a model file broken
// after registration fails its run with the problems instead of aborting the engine.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '../../main/api/catalogue';
import { ensureDemoModel } from '../../main/runner/demo-model';
import type { ModelRecord, RunRecord, StudyRecord } from '../../main/store/types';
import { mutate } from '../gguf/mutate';
import { ok, tempWorkbench } from './helpers';

// The healthy study runs all of them (about 30 s with the demo model), the victim the first VICTIM_EXAMPLES
// (about 15 s): both are under way when the victim's process is killed.
const EXAMPLES = 200;
const VICTIM_EXAMPLES = 100;
const WORDS = ['good', 'bad', 'wonderful', 'boring', 'charming', 'film', 'movie', 'review'];
/** A CSV of EXAMPLES short reviews, deterministic. */
const csv = ['text,label', ...Array.from({ length: EXAMPLES }, (_, i) => `"${WORDS.map((w, j) => WORDS[(i + j * 3) % WORDS.length]).join(' ')} ${i}",${i % 2 ? 'positive' : 'negative'}`)].join('\n');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('API: a crash in one study\'s engine process stays there', () => {
  const t = tempWorkbench();
  const events: WorkbenchEvent[] = [];
  let model: ModelRecord;
  let datasetId: number;
  const config = (name: string, over: Record<string, unknown> = {}) => ({
    name,
    task: { kind: 'sentiment' },
    language: 'en',
    dataset: { id: datasetId },
    models: [{ id: model.id, mode: 'scoring' }],
    seeds: [28],
    explanations: ['human', 'lrp-cp'],
    metrics: ['accuracy'],
    onlyCorrect: false,
    limits: { threads: 1 },
    ...over,
  });
  const save = async (name: string, over: Record<string, unknown> = {}) =>
    (ok(await t.wb.call('saveStudy', { name, config: config(name, over) })) as { study: StudyRecord }).study;
  const getRun = async (runId: number) => ok(await t.wb.call('getRun', { runId })) as RunRecord;
  const waitFor = async (runId: number, done: (r: RunRecord) => boolean, ms = 300_000) => {
    const t0 = Date.now();
    for (;;) {
      const r = await getRun(runId);
      if (done(r) || Date.now() - t0 > ms) return r;
      await sleep(100);
    }
  };

  beforeAll(async () => {
    t.wb.onEvent((e) => events.push(e));
    model = (ok(await t.wb.call('registerModel', { file: t.upload(await ensureDemoModel(), 'rw-demo.gguf') })) as { model: ModelRecord }).model;
    const imported = ok(await t.wb.call('importDataset', { file: t.uploadBytes('reviews.csv', csv), format: 'csv', language: 'en' })) as { dataset: { id: number } };
    datasetId = imported.dataset.id;
  }, 120_000);
  afterAll(() => t.cleanup());

  it('SIGKILL of one study\'s process: the healthy run finishes, the killed run is failed with the reason, and resumes', async () => {
    const healthy = await save('healthy');
    const victim = await save('victim', { limits: { threads: 1, maxExamples: VICTIM_EXAMPLES } });
    const [[a], [b]] = (await Promise.all([healthy, victim].map(async (s) => ok(await t.wb.call('startRun', { studyId: s.id })) as { runIds: number[] }))).map((r) => r.runIds);
    const pidA = t.wb.engine.studyPid(healthy.id);
    const pidB = t.wb.engine.studyPid(victim.id);
    expect(pidA).toBeDefined();
    expect(pidB).toBeDefined();
    expect(new Set([pidA, pidB, process.pid, t.wb.engine.pid]).size).toBe(4);

    // mid-run: the victim has stored an example, the healthy run is still under way
    const t0 = Date.now();
    let [ra, rb] = [await getRun(a), await getRun(b)];
    while (!(ra.status === 'running' && rb.status === 'running' && rb.progress.done >= 1) && rb.status !== 'done' && Date.now() - t0 < 300_000) {
      await sleep(50);
      [ra, rb] = [await getRun(a), await getRun(b)];
    }
    expect([ra.status, rb.status]).toEqual(['running', 'running']);
    process.kill(pidB!, 'SIGKILL');

    const failed = await waitFor(b, (r) => r.status !== 'running');
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^the engine process running this study stopped \(SIGKILL\) during this run; other runs were not affected\. Resume the run/);
    expect(events.some((e) => e.type === 'run-error' && e.runId === b && e.message === failed.error)).toBe(true);

    const done = await waitFor(a, (r) => r.status !== 'running' && r.status !== 'queued');
    expect(done.status).toBe('done');
    expect(done.progress).toEqual({ done: EXAMPLES, total: EXAMPLES });
    // its process ends once the study has stopped
    for (const t0 = Date.now(); t.wb.engine.studyPid(healthy.id) !== undefined && Date.now() - t0 < 20_000; ) await sleep(50);
    expect(t.wb.engine.studyPid(healthy.id)).toBeUndefined();

    // the failed run resumes in a fresh process and keeps what it had stored
    const kept = t.wb.store.results.doneExampleIds(b);
    expect(kept.length).toBeGreaterThanOrEqual(1);
    ok(await t.wb.call('resumeRun', { runId: b }));
    const resumed = await waitFor(b, (r) => r.status !== 'running' && r.status !== 'queued' && r.status !== 'failed');
    expect(resumed.status).toBe('done');
    const ids = t.wb.store.results.doneExampleIds(b);
    expect(ids.length).toBe(VICTIM_EXAMPLES);
    expect(new Set(ids).size).toBe(VICTIM_EXAMPLES);
    for (const id of kept) expect(ids).toContain(id);
  }, 600_000);

  it('the shared engine process, killed, is started afresh on the next call', async () => {
    const { pid } = await t.wb.engine.call('ping', {} as never);
    process.kill(pid, 'SIGKILL');
    for (const t0 = Date.now(); t.wb.engine.pid === pid && Date.now() - t0 < 10_000; ) await sleep(50);
    const again = await t.wb.engine.call('ping', {} as never);
    expect(again.pid).not.toBe(pid);
  });

  it('startRun answers an error with the reason when the study cannot make a run', async () => {
    const study = await save('no dataset', { dataset: { id: 999 } });
    const r = await t.wb.call('startRun', { studyId: study.id });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('failed');
    expect(!r.ok && r.error.message).toMatch(new RegExp(`^study ${study.id} did not start: dataset 999 does not exist in `));
    expect(t.wb.store.runs.list({ studyId: study.id })).toEqual([]);
  }, 120_000);

  it('resumeRun of a study that fails before the run continues: the run is failed with the reason, the answer says it', async () => {
    const study = await save('dataset gone', { dataset: { id: 999 } });
    // a stopped run of that study (made as an older state of the database would have it)
    const runId = t.wb.store.runs.create({ studyId: study.id, modelId: model.id, datasetId, seed: 28, appVersion: 't', total: 1 });
    t.wb.store.runs.setStatus(runId, 'stopped');
    const r = await t.wb.call('resumeRun', { runId });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.code).toBe('failed');
    expect(!r.ok && r.error.message).toMatch(new RegExp(`^run ${runId} did not resume: dataset 999 does not exist in `));
    const stored = t.wb.store.runs.get(runId)!;
    expect(stored.status).toBe('failed');
    expect(stored.error).toMatch(/^resume failed before the run continued: dataset 999 does not exist in /);
  }, 120_000);

  it('a model file broken after registration: its run fails with the problems, the engine is unharmed', async () => {
    const broken = (ok(await t.wb.call('registerModel', { file: t.upload(await ensureDemoModel(), 'broken.gguf') })) as { model: ModelRecord }).model;
    // same content as the first model: register the mutated copy under a path of its own
    const path = `${t.dir}/broken-after.gguf`;
    writeFileSync(path, new Uint8Array(0));
    mutate(broken.path).u32('llama.attention.head_count', 0).write(path);
    t.wb.store.models.register({ ...broken, path, sha256: 'f'.repeat(64) });
    const id = t.wb.store.models.list().find((m) => m.path === path)!.id;
    const study = await save('broken model', { models: [{ id, mode: 'scoring' }] });
    const started = ok(await t.wb.call('startRun', { studyId: study.id })) as { runIds: number[] };
    expect(started.runIds).toHaveLength(1);
    const r = await waitFor(started.runIds[0], (x) => x.status !== 'running' && x.status !== 'queued');
    expect(r.status).toBe('failed');
    // the model as the user named it (the upload's name, kept by the copied record), the problem with its field
    expect(r.error).toBe(`model "broken.gguf" could not be loaded: broken.gguf: llama.attention.head_count = 0: must be at least 1`);
  }, 120_000);
});
