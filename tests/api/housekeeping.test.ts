import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeletionAnswer, ImportReport } from '../../main/api/catalogue';
import { demoReportPath, startFirstRunDemo } from '../../main/api/first-run';
import { generateModel } from '../../main/gguf/generate';
import { DEMO_MODEL_OPTIONS, ensureDemoModel } from '../../main/runner';
import type { DatasetRecord, ModelRecord, RunRecord, StudyRecord } from '../../main/store/types';
import { ok, repoRoot, tempWorkbench } from './helpers';

/**
 * Housekeeping (issue 12 item 6) through the API, on a real SQLite file with real imports and real GGUF files:
 * renaming, deleting with the consequences first (then `confirm: true`), reopening and editing a saved study
 * (versions when it has runs), and the warning for a duplicate import.
 */
const CSV = join(repoRoot, 'tests/fixtures/sentiment-mini.csv');
const JSONL = join(repoRoot, 'tests/fixtures/sentiment-mini.jsonl');

type Call = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string; fields?: Record<string, string> } };
const fail = (r: Call) => {
  if (r.ok) throw new Error('expected a refusal');
  return r.error;
};

describe('API: housekeeping — rename, delete with consequences, study versions, duplicate imports', () => {
  const t = tempWorkbench('electron');
  const call = async <T>(m: string, a: unknown) => ok((await t.wb.call(m, a)) as never) as T;
  const config = (datasetId: number, modelIds: number[], extra: Record<string, unknown> = {}) => ({
    // the JSONL fixture has one example labelled "0": left out
    task: { kind: 'sentiment', ...(datasetId === other?.id ? { labelMap: { '0': null } } : {}) },
    language: 'en',
    dataset: { id: datasetId },
    models: modelIds.map((id) => ({ id, mode: 'scoring' })),
    seeds: [28],
    ...extra,
  });
  /** A run with one stored result per example (what a run leaves), straight into the store. */
  const runWithResults = (studyId: number, modelId: number, datasetId: number, examples: number) => {
    const s = t.wb.store;
    const runId = s.runs.create({ studyId, modelId, datasetId, seed: 28, appVersion: 'test', total: examples });
    for (const ex of s.datasets.examples(datasetId).slice(0, examples)) s.results.put(runId, ex.id, { rawOutputs: { turn1: 'positive' }, label: 'positive', correct: true });
    s.runs.finish(runId, { status: 'done' });
    return runId;
  };
  const count = (sql: string, ...args: unknown[]) => t.wb.store.db.prepare(sql).pluck().get(...args) as number;

  let csv: DatasetRecord;
  let other: DatasetRecord;
  let copied: ModelRecord; // an upload: the workbench's copy under <data dir>/models
  let own: ModelRecord; // chosen in the dialog: the user's file, registered where it is
  let ownFile: string;

  beforeAll(async () => {
    csv = (await call<ImportReport>('importDataset', { file: t.upload(CSV), format: 'csv' })).dataset;
    other = (await call<ImportReport>('importDataset', { file: t.upload(JSONL), format: 'jsonl', name: 'other data' })).dataset;
    copied = (await call<{ model: ModelRecord }>('registerModel', { file: t.upload(await ensureDemoModel(), 'demo.gguf') })).model;
    ownFile = join(t.dir, 'elsewhere', 'mine.gguf');
    mkdirSync(join(t.dir, 'elsewhere'));
    await generateModel({ ...DEMO_MODEL_OPTIONS, seed: 7, path: ownFile });
    own = (await call<{ model: ModelRecord }>('registerModel', { file: t.wb.files.registerPath(ownFile).handle })).model;
  }, 120_000);
  afterAll(() => t.cleanup());

  it('an import of content already imported says so (duplicateOf and a warning); a new content does not', async () => {
    expect(other.id).not.toBe(csv.id);
    const again = await call<ImportReport>('importDataset', { file: t.upload(CSV, 'copy-of-mini.csv'), format: 'csv', name: 'mini again' });
    expect(again.duplicateOf).toEqual([{ id: csv.id, name: csv.name, createdAt: csv.createdAt }]);
    expect(again.warnings[0]).toBe(`same content as dataset “${csv.name}” imported on ${csv.createdAt.slice(0, 10)}: keep both, or delete the new copy`);
    // the user deletes the new copy: nothing else goes, the first import stays as it was
    const asked = await call<DeletionAnswer>('deleteDataset', { datasetId: again.dataset.id });
    expect(asked.deleted).toBe(false);
    expect(asked.summary).toBe(`Deleting dataset “mini again” (${again.examples} examples) deletes nothing else: no study or run uses it.`);
    expect(t.wb.store.datasets.get(again.dataset.id)).toBeDefined();
    expect((await call<DeletionAnswer>('deleteDataset', { datasetId: again.dataset.id, confirm: true })).deleted).toBe(true);
    expect(t.wb.store.datasets.get(again.dataset.id)).toBeUndefined();
    expect(t.wb.store.datasets.get(csv.id)).toEqual(csv);
    // the first import of a content names no duplicate
    const fresh = await call<ImportReport>('importDataset', { file: t.uploadBytes('fresh.csv', readFileSync(CSV, 'utf8').replace('A warm', 'A cold')), format: 'csv' });
    expect(fresh.duplicateOf).toEqual([]);
    expect(fresh.warnings.some((w) => w.startsWith('same content'))).toBe(false);
    await call('deleteDataset', { datasetId: fresh.dataset.id, confirm: true });
  });

  it('renames a dataset, a model, a study and a run; a bad name or id is refused with the field named', async () => {
    expect((await call<DatasetRecord>('renameDataset', { datasetId: other.id, name: '  Other reviews ' })).name).toBe('Other reviews');
    expect(t.wb.store.datasets.get(other.id)!.name).toBe('Other reviews');
    expect((await call<ModelRecord>('renameModel', { modelId: own.id, name: 'My model' })).metadata.displayName).toBe('My model');
    const study = (await call<{ study: StudyRecord }>('saveStudy', { name: 'to rename', config: config(other.id, [own.id]) })).study;
    const renamed = await call<StudyRecord>('renameStudy', { studyId: study.id, name: 'renamed' });
    expect(renamed).toMatchObject({ id: study.id, name: 'renamed', version: 1 });
    expect((renamed.config as { name: string }).name).toBe('renamed');
    const runId = runWithResults(study.id, own.id, other.id, 1);
    expect((await call<RunRecord>('renameRun', { runId, name: 'first try' })).name).toBe('first try');
    expect(t.wb.store.runs.get(runId)!.name).toBe('first try');

    expect(fail(await t.wb.call('renameDataset', { datasetId: other.id, name: '   ' }) as Call)).toMatchObject({ code: 'invalid', fields: { name: 'must not be empty' } });
    expect(fail(await t.wb.call('renameRun', { runId, name: 'a\u0007b' }) as Call).fields).toEqual({ name: 'must not contain control characters (found U+0007 at 2)' });
    expect(fail(await t.wb.call('renameModel', { modelId: own.id, name: 'x'.repeat(201) }) as Call).fields).toEqual({ name: 'must be at most 200 characters, got 201' });
    expect(fail(await t.wb.call('renameStudy', { studyId: 9999, name: 'x' }) as Call)).toMatchObject({ code: 'not_found', fields: { studyId: 'study 9999 not found' } });
    expect(fail(await t.wb.call('renameDataset', { datasetId: 0, name: 'x' }) as Call).code).toBe('invalid');
    expect(t.wb.store.datasets.get(other.id)!.name).toBe('Other reviews');
    // clean up for the tests below
    await call('deleteStudy', { studyId: study.id, confirm: true });
  });

  it('a saved study reopens and saves under the same id and name; once it has runs, saving makes version 2 under the same name, and the runs keep version 1', async () => {
    const first = (await call<{ study: StudyRecord }>('saveStudy', { name: 'Forced labour, take 1', config: config(csv.id, [copied.id]) })).study;
    // reopened (getStudy) and saved again: the same study, edited in place (no runs yet), no "(v1)" anywhere
    const opened = await call<StudyRecord>('getStudy', { studyId: first.id });
    const edited = (await call<{ study: StudyRecord }>('saveStudy', { studyId: opened.id, name: opened.name, config: config(csv.id, [copied.id], { seeds: [28, 79] }) })).study;
    expect(edited).toMatchObject({ id: first.id, name: 'Forced labour, take 1', version: 1 });
    expect((edited.config as { seeds: number[] }).seeds).toEqual([28, 79]);
    expect((await call<StudyRecord[]>('listStudies', {})).filter((s) => s.rootId === first.rootId).map((s) => s.name)).toEqual(['Forced labour, take 1']);

    const runId = runWithResults(first.id, copied.id, csv.id, 2);
    const v2 = (await call<{ study: StudyRecord }>('saveStudy', { studyId: first.id, name: 'Forced labour, take 1', config: config(csv.id, [copied.id], { seeds: [96] }) })).study;
    expect(v2).toMatchObject({ name: 'Forced labour, take 1', version: 2, parentId: first.id, rootId: first.id });
    expect(v2.id).not.toBe(first.id);
    // the run still points at the configuration it ran, unchanged
    expect(t.wb.store.runs.get(runId)!.studyId).toBe(first.id);
    expect((t.wb.store.studies.get(first.id)!.config as { seeds: number[] }).seeds).toEqual([28, 79]);
    // one row in the list: the newest version, under the same name
    const listed = (await call<StudyRecord[]>('listStudies', {})).filter((s) => s.rootId === first.rootId);
    expect(listed.map((s) => [s.id, s.name, s.version])).toEqual([[v2.id, 'Forced labour, take 1', 2]]);
    // every version, for whoever shows a run's study (the run names the version it ran)
    const all = (await call<StudyRecord[]>('listStudies', { allVersions: true })).filter((s) => s.rootId === first.rootId);
    expect(all.map((s) => [s.id, s.version])).toEqual([[first.id, 1], [v2.id, 2]]);
    // v2 has no runs: saving it again edits it in place
    const v2b = (await call<{ study: StudyRecord }>('saveStudy', { studyId: v2.id, name: 'Forced labour, take 1', config: config(csv.id, [copied.id], { seeds: [96, 5] }) })).study;
    expect([v2b.id, v2b.version]).toEqual([v2.id, 2]);
    // renaming a study whose newest version has runs makes a version with the name; the run keeps its record
    runWithResults(v2.id, copied.id, csv.id, 1);
    const v3 = await call<StudyRecord>('renameStudy', { studyId: first.id, name: 'FL pilot' });
    expect(v3).toMatchObject({ name: 'FL pilot', version: 3, parentId: v2.id });
    expect(t.wb.store.studies.get(v2.id)!.name).toBe('Forced labour, take 1');
    expect((v3.config as { seeds: number[] }).seeds).toEqual([96, 5]);
  });

  it('deleteDataset answers what goes first (studies, runs, results), deletes nothing; confirmed, deletes exactly that in one go', async () => {
    // two studies on the csv dataset (one with two versions), three runs; one study and run on the other dataset
    const s1 = (await call<{ study: StudyRecord }>('saveStudy', { name: 'on csv A', config: config(csv.id, [copied.id]) })).study;
    const s2 = (await call<{ study: StudyRecord }>('saveStudy', { name: 'on csv B', config: config(csv.id, [copied.id, own.id]) })).study;
    const keep = (await call<{ study: StudyRecord }>('saveStudy', { name: 'on other', config: config(other.id, [copied.id]) })).study;
    const r1 = runWithResults(s1.id, copied.id, csv.id, 4);
    const r2 = runWithResults(s2.id, copied.id, csv.id, 3);
    const r3 = runWithResults(s2.id, own.id, csv.id, 2);
    const rk = runWithResults(keep.id, copied.id, other.id, 2);
    // earlier studies of this file's tests on csv (the versioned one above) count too: read them from the store
    const onCsv = t.wb.store.runs.list({ datasetId: csv.id });
    const resultsOnCsv = onCsv.reduce((n, r) => n + t.wb.store.results.list(r.id, { relevance: false }).length, 0);
    const studiesOnCsv = new Set(t.wb.store.studies.list().filter((s) => (s.config as { dataset: { id?: number } }).dataset.id === csv.id).map((s) => s.rootId));
    expect(onCsv.map((r) => r.id)).toEqual(expect.arrayContaining([r1, r2, r3]));

    const asked = await call<DeletionAnswer>('deleteDataset', { datasetId: csv.id });
    expect(asked.deleted).toBe(false);
    expect(asked.impact.refused).toBeNull();
    expect(asked.impact.runs.map((r) => r.id)).toEqual(onCsv.map((r) => r.id));
    expect(asked.impact.results).toBe(resultsOnCsv);
    expect(asked.impact.studies.map((s) => s.name)).toEqual(expect.arrayContaining(['on csv A', 'on csv B', 'FL pilot']));
    expect(asked.impact.studies).toHaveLength(studiesOnCsv.size);
    expect(asked.summary).toBe(
      `Deleting dataset “${csv.name}” (${csv.exampleCount} examples) also deletes ${studiesOnCsv.size} studies and ${onCsv.length} runs with ${resultsOnCsv} results.`,
    );
    // nothing went
    expect(t.wb.store.runs.list({ datasetId: csv.id })).toHaveLength(onCsv.length);
    expect(t.wb.store.datasets.get(csv.id)).toBeDefined();

    const before = { results: count('SELECT count(*) FROM results WHERE run_id = ?', rk), studies: t.wb.store.studies.list().length };
    const done = await call<DeletionAnswer>('deleteDataset', { datasetId: csv.id, confirm: true });
    expect(done.deleted).toBe(true);
    expect(done.summary).toBe(asked.summary);
    expect(t.wb.store.datasets.get(csv.id)).toBeUndefined();
    expect(count('SELECT count(*) FROM examples WHERE dataset_id = ?', csv.id)).toBe(0);
    expect(count(`SELECT count(*) FROM runs WHERE id IN (${onCsv.map((r) => r.id).join(',')})`)).toBe(0);
    expect(count(`SELECT count(*) FROM results WHERE run_id IN (${onCsv.map((r) => r.id).join(',')})`)).toBe(0);
    expect(t.wb.store.studies.get(s1.id)).toBeUndefined();
    expect(t.wb.store.studies.get(s2.id)).toBeUndefined();
    // everything else is still there
    expect(t.wb.store.studies.get(keep.id)).toBeDefined();
    expect(t.wb.store.runs.get(rk)!.status).toBe('done');
    expect(count('SELECT count(*) FROM results WHERE run_id = ?', rk)).toBe(before.results);
    expect(t.wb.store.studies.list().length).toBe(before.studies - [...done.impact.studies].reduce((n, s) => n + s.versions.length, 0));
    expect(t.wb.store.models.get(copied.id)).toBeDefined();
    expect(t.wb.store.integrityCheck()).toBe('ok');
    expect(t.wb.store.db.pragma('foreign_key_check')).toEqual([]);
  });

  it('a dataset named by only some versions of a study: those versions and their runs go, the study stays with its other versions', async () => {
    const a = (await call<ImportReport>('importDataset', { file: t.upload(CSV, 'a.csv'), format: 'csv', name: 'A' })).dataset;
    const v1 = (await call<{ study: StudyRecord }>('saveStudy', { name: 'moves on', config: config(a.id, [copied.id]) })).study;
    const ran = runWithResults(v1.id, copied.id, a.id, 2);
    const v2 = (await call<{ study: StudyRecord }>('saveStudy', { studyId: v1.id, name: 'moves on', config: config(other.id, [copied.id]) })).study;
    const asked = await call<DeletionAnswer>('deleteDataset', { datasetId: a.id });
    expect(asked.impact.studies).toEqual([{ id: v2.id, name: 'moves on', versions: [1], allVersions: false }]);
    expect(asked.impact.runs.map((r) => r.id)).toEqual([ran]);
    await call('deleteDataset', { datasetId: a.id, confirm: true });
    expect(t.wb.store.studies.get(v1.id)).toBeUndefined();
    // version 2 stays, now the first of its study (its parent is gone)
    expect(t.wb.store.studies.get(v2.id)).toMatchObject({ version: 2, parentId: null, rootId: v2.id });
    expect(t.wb.store.studies.versions(v2.id).map((s) => s.id)).toEqual([v2.id]);
    expect((await call<StudyRecord[]>('listStudies', {})).some((s) => s.id === v2.id)).toBe(true);
    expect(t.wb.store.db.pragma('foreign_key_check')).toEqual([]);
  });

  it('deleteModel deletes its runs, keeps the studies that name it (saying so) and the user\'s file; only the workbench\'s own copy is deleted', async () => {
    const s = (await call<{ study: StudyRecord }>('saveStudy', { name: 'two models', config: config(other.id, [copied.id, own.id]) })).study;
    const mine = runWithResults(s.id, own.id, other.id, 3);
    const theirs = runWithResults(s.id, copied.id, other.id, 3);

    const askOwn = await call<DeletionAnswer>('deleteModel', { modelId: own.id });
    expect(askOwn.deleted).toBe(false);
    expect(askOwn.impact.runs.map((r) => r.id)).toEqual([mine]);
    expect(askOwn.impact.keptStudies.map((k) => k.name)).toEqual(['two models']);
    expect(askOwn.file).toEqual({ path: ownFile, deleted: false, reason: 'it is your file, registered where it is (the workbench made no copy)' });
    expect(askOwn.summary).toBe(
      `Deleting model “My model” also deletes its 1 run with 3 results. 1 study names it (“two models”): it stays, and needs another model before it runs again. ` +
        `The file ${ownFile} stays: it is your file, registered where it is (the workbench made no copy).`,
    );
    await call('deleteModel', { modelId: own.id, confirm: true });
    expect(t.wb.store.models.get(own.id)).toBeUndefined();
    expect(existsSync(ownFile)).toBe(true);
    expect(t.wb.store.runs.get(mine)).toBeUndefined();
    expect(t.wb.store.runs.get(theirs)!.status).toBe('done');
    expect(t.wb.store.studies.get(s.id)).toBeDefined();

    // the upload was moved under <data dir>/models: that copy is the workbench's, and goes with the record
    expect(copied.path.startsWith(join(t.dir, 'models'))).toBe(true);
    const backup = join(t.dir, 'backup.gguf');
    copyFileSync(copied.path, backup);
    const askCopied = await call<DeletionAnswer>('deleteModel', { modelId: copied.id });
    expect(askCopied.file).toEqual({ path: copied.path, deleted: true, reason: "it is the workbench's own copy (an upload or a download under the data directory)" });
    expect(askCopied.summary).toContain(`The file ${copied.path} is deleted: it is the workbench's own copy (an upload or a download under the data directory).`);
    expect(existsSync(copied.path)).toBe(true);
    await call('deleteModel', { modelId: copied.id, confirm: true });
    expect(existsSync(copied.path)).toBe(false);
    expect(t.wb.store.runs.list({ modelId: copied.id })).toEqual([]);
    expect(t.wb.store.db.pragma('foreign_key_check')).toEqual([]);
    // registered again for the tests below (from the backup, as an upload)
    copied = (await call<{ model: ModelRecord }>('registerModel', { file: t.upload(backup, 'demo.gguf') })).model;
  });

  it('deleteStudy takes every version and their runs; deleteRun its results; a running run is refused with the reason', async () => {
    const v1 = (await call<{ study: StudyRecord }>('saveStudy', { name: 'short-lived', config: config(other.id, [copied.id]) })).study;
    const r1 = runWithResults(v1.id, copied.id, other.id, 2);
    const v2 = (await call<{ study: StudyRecord }>('saveStudy', { studyId: v1.id, name: 'short-lived', config: config(other.id, [copied.id], { seeds: [5] }) })).study;
    const r2 = runWithResults(v2.id, copied.id, other.id, 1);

    // a run of it is running (its process holds the lease): the study, the run and the dataset are refused
    const live = t.wb.store.runs.create({ studyId: v2.id, modelId: copied.id, datasetId: other.id, seed: 5, appVersion: 'test', total: 1 });
    const lease = t.wb.store.runs.claim(live);
    const reason = `run ${live} of study “short-lived” is running: pause or cancel it first`;
    const askRun = await call<DeletionAnswer>('deleteRun', { runId: live });
    expect(askRun.impact.refused).toBe(`run ${live} cannot be deleted now: ${reason}`);
    const refused = fail((await t.wb.call('deleteRun', { runId: live, confirm: true })) as Call);
    expect(refused).toMatchObject({ code: 'conflict', message: `run ${live} cannot be deleted now: ${reason}` });
    expect(fail((await t.wb.call('deleteStudy', { studyId: v1.id, confirm: true })) as Call).message).toBe(`study “short-lived” cannot be deleted now: ${reason}`);
    expect(fail((await t.wb.call('deleteDataset', { datasetId: other.id, confirm: true })) as Call).message).toContain(reason);
    expect(t.wb.store.runs.get(live)!.status).toBe('running');
    expect(t.wb.store.studies.get(v1.id)).toBeDefined();
    expect(t.wb.store.datasets.get(other.id)).toBeDefined();
    t.wb.store.runs.finish(live, { status: 'stopped' });
    lease.release();

    const askR2 = await call<DeletionAnswer>('deleteRun', { runId: r2 });
    expect(askR2.summary).toBe(`Deleting run ${r2} of study “short-lived” also deletes its 1 result.`);
    await call('deleteRun', { runId: r2, confirm: true });
    expect(t.wb.store.runs.get(r2)).toBeUndefined();
    expect(t.wb.store.studies.get(v2.id)).toBeDefined();

    const askStudy = await call<DeletionAnswer>('deleteStudy', { studyId: v2.id });
    expect(askStudy.impact.runs.map((r) => r.id).sort()).toEqual([r1, live].sort());
    expect(askStudy.summary).toBe(`Deleting study “short-lived” also deletes its 2 versions and its 2 runs with 2 results.`);
    await call('deleteStudy', { studyId: v2.id, confirm: true });
    expect(t.wb.store.studies.get(v1.id)).toBeUndefined();
    expect(t.wb.store.studies.get(v2.id)).toBeUndefined();
    expect(t.wb.store.runs.get(r1)).toBeUndefined();
    expect(fail((await t.wb.call('deleteStudy', { studyId: v2.id })) as Call)).toMatchObject({ code: 'not_found', fields: { studyId: `study ${v2.id} not found` } });
    expect(t.wb.store.integrityCheck()).toBe('ok');
    expect(t.wb.store.db.pragma('foreign_key_check')).toEqual([]);
  });
});

describe('first-run demo after deletions', () => {
  it('a data directory whose demo finished once does not run it again when its runs were deleted', async () => {
    const t = tempWorkbench();
    try {
      // the demo's report is there (it finished once); every run has since been deleted
      mkdirSync(join(t.dir, 'reports'));
      writeFileSync(demoReportPath(t.dir), '%PDF-1.4 demo');
      expect(t.wb.store.runs.list()).toEqual([]);
      const r = await startFirstRunDemo(t.wb, { log: () => undefined });
      expect(r).toEqual({ status: 'skipped', reason: `the demo ran before (its report is ${demoReportPath(t.dir)})` });
      expect(t.wb.store.runs.list()).toEqual([]);
      expect(t.wb.store.datasets.list()).toEqual([]);
    } finally {
      t.cleanup();
    }
  }, 120_000);
});
