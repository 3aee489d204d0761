/**
 * A study configuration is parsed once, where it comes in, and not again on its way to the runner or in
 * the store (store/studies-repo.ts): a CLI `run` of a study file parses the file's configuration once; a
 * study saved through the API is parsed once by saveStudy, and a run of it once more, by the API's startRun
 * (the stored configuration may come from an older version's database), not by the engine's startStudy job,
 * which runs the stored configuration as it is, nor by the store. Every call of
 * parseStudyConfig in this test file's processes is counted (the module is wrapped, not replaced).
 * Real runs: a generated tiny GGUF model through llama.cpp, real SQLite files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { jobs } from '../../main/api/jobs';
import { main } from '../../main/cli/index';
import { ensureDemoModel } from '../../main/runner';
import { openStore } from '../../main/store';
import type { ModelRecord, RunRecord, StudyRecord } from '../../main/store/types';
import { ok, tempWorkbench } from '../api/helpers';
import { studyConfig } from '../store/helpers';
import { setup } from './tiny-study';

const parses = vi.hoisted(() => ({ n: 0 }));
vi.mock('../../main/config/study-schema', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../main/config/study-schema')>();
  return {
    ...actual,
    parseStudyConfig: (input: unknown) => {
      parses.n++;
      return actual.parseStudyConfig(input);
    },
  };
});

/** Waits until the run is no longer queued or running (the engine runs it in the background). */
async function settled(get: () => RunRecord | undefined): Promise<RunRecord> {
  const t0 = Date.now();
  for (;;) {
    const run = get();
    if (run && run.status !== 'queued' && run.status !== 'running') return run;
    if (Date.now() - t0 > 240_000) throw new Error(`run still ${run?.status} after 240 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the study configuration is parsed once per run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rw-parse-once-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('CLI run of a study file: one parse (the file), none in the runner or the store', async () => {
    const db = join(dir, 'cli.sqlite');
    await setup(dir, db); // dataset 1 and the generated model
    const model = join(dir, 'tiny.gguf');
    const file = join(dir, 'once.json');
    writeFileSync(file, JSON.stringify({
      name: 'once', task: { kind: 'sentiment' }, language: 'en', dataset: { id: 1 }, models: [{ path: model, mode: 'scoring' }],
      seeds: [28], explanations: ['human'], metrics: ['accuracy'], onlyCorrect: false, limits: { maxExamples: 2 },
    }));
    let err = '';
    parses.n = 0;
    const code = await main(['--db', db, 'run', file, '--threads', '2'], { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) } });
    expect(err).not.toMatch(/error/);
    expect(code).toBe(0);
    expect(parses.n).toBe(1);
    const store = openStore(db);
    try {
      const [study] = store.studies.list();
      expect(study.config).toMatchObject({ name: 'once', seeds: [28], task: { labels: ['positive', 'negative'] } });
      expect(store.runs.list({ studyId: study.id }).map((r) => r.status)).toEqual(['done']);
    } finally {
      store.close();
    }
  }, 300_000);

  it('a stored study started from the app: saveStudy parses once; a run of it once (startRun), none in the engine job', async () => {
    const t = tempWorkbench();
    try {
      const file = t.upload(await ensureDemoModel(), 'rw-demo.gguf');
      const model = (ok(await t.wb.call('registerModel', { file })) as { model: ModelRecord }).model;
      const config = {
        task: { kind: 'sentiment' }, language: 'en', dataset: { builtin: 'demo-sentiment-en' }, models: [{ id: model.id, mode: 'scoring' }],
        seeds: [28], explanations: ['human'], metrics: ['accuracy'], onlyCorrect: false, limits: { maxExamples: 2 },
      };
      parses.n = 0;
      const study = (ok(await t.wb.call('saveStudy', { name: 'stored once', config })) as { study: StudyRecord }).study;
      expect(parses.n).toBe(1);

      // startRun in this process validates the stored configuration once (a database may hold one an older
      // version wrote); the job runs in an engine process of its own (not counted here; see below)
      parses.n = 0;
      const { runIds } = ok(await t.wb.call('startRun', { studyId: study.id })) as { runIds: number[] };
      expect(runIds).toHaveLength(1);
      expect((await settled(() => t.wb.store.runs.get(runIds[0]))).status).toBe('done');
      expect(parses.n).toBe(1);

      // the engine's startStudy job itself, in this process: runs the stored configuration, no parse
      parses.n = 0;
      const started = await jobs.startStudy({ dbFile: join(t.dir, 'wb.sqlite'), studyId: study.id, resume: false, appVersion: 'test' }, () => {});
      expect(started).toMatchObject({ started: true });
      expect(started.runIds).toHaveLength(1);
      expect((await settled(() => t.wb.store.runs.get(started.runIds[0]))).status).toBe('done');
      expect(parses.n).toBe(0);
    } finally {
      t.cleanup();
    }
  }, 300_000);

  it('the store takes the validated configuration as it is and does not parse it', () => {
    const db = join(dir, 'store.sqlite');
    const store = openStore(db);
    try {
      const config = studyConfig({ task: { kind: 'sentiment' }, dataset: { id: 1 }, models: [{ path: 'm.gguf' }] });
      parses.n = 0;
      const id = store.studies.create('s', config);
      store.studies.update(id, { ...config, seeds: [5] });
      expect(parses.n).toBe(0);
      expect(store.studies.get(id)!.config).toEqual({ ...config, name: 's', seeds: [5] });
    } finally {
      store.close();
    }
  });
});
