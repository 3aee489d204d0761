import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, StoreError, type Store } from '../../main/store';
import { dataset, example, minimalConfig, tempDir } from './helpers';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let store: Store;
let d: number;
let m: number;
beforeEach(() => {
  store = openStore(tmp.file());
  d = store.datasets.insert(dataset('d', [example('1', 'a good film', 'positive', [1])]));
  m = store.models.register({ path: '/models/tiny.gguf', sha256: 'a'.repeat(64), fileSize: 4096, architecture: 'llama' });
});
afterEach(() => store.close());

describe('models repository', () => {
  it('registers, finds by id and sha256, and lists', () => {
    const rec = store.models.get(m)!;
    expect(rec).toMatchObject({ id: m, path: '/models/tiny.gguf', fileSize: 4096, architecture: 'llama', parameterCount: null, vocabulary: null, metadata: {} });
    expect(store.models.bySha('a'.repeat(64))).toEqual(rec);
    expect(store.models.bySha('b'.repeat(64))).toBeUndefined();
    const m2 = store.models.register({
      path: '/models/q.gguf', sha256: 'b'.repeat(64), fileSize: 10, parameterCount: 7_241_732_096, quantization: 'Q4_K_M',
      contextLength: 32768, chatTemplate: '{{ bos }}', vocabulary: { size: 32000, unk: 0 }, metadata: { 'general.name': 'x' },
    });
    expect(store.models.get(m2)).toMatchObject({ parameterCount: 7_241_732_096, vocabulary: { size: 32000, unk: 0 }, metadata: { 'general.name': 'x' } });
    expect(store.models.list().map((x) => x.id)).toEqual([m, m2]);
  });

  it('identifies a model by content: the same sha256 again updates the path and keeps the id', () => {
    const again = store.models.register({ path: '/moved/tiny.gguf', sha256: 'a'.repeat(64), fileSize: 4096 });
    expect(again).toBe(m);
    expect(store.models.get(m)!.path).toBe('/moved/tiny.gguf');
    expect(store.models.list()).toHaveLength(1);
  });

  it('refuses a malformed sha256 or size', () => {
    expect(() => store.models.register({ path: '/x', sha256: 'XYZ', fileSize: 1 })).toThrow('model /x: field "sha256" must be 64 lower-case hex digits');
    expect(() => store.models.register({ path: '/x', sha256: 'c'.repeat(64), fileSize: -1 })).toThrow('field "fileSize"');
  });
});

describe('studies repository', () => {
  it('stores the validated config (defaults filled in by the parse); the name argument wins', () => {
    const s = store.studies.create('Sentiment EN', { ...minimalConfig(d, m), name: 'ignored' });
    const rec = store.studies.get(s)!;
    expect(rec).toMatchObject({ id: s, name: 'Sentiment EN', version: 1, parentId: null, rootId: s });
    expect(rec.config.name).toBe('Sentiment EN');
    expect(rec.config.seeds).toEqual([28, 79, 96]);
    expect(rec.config.task.labels).toEqual(['positive', 'negative']);
  });

  // "refuses an invalid config with the field named" moved to where configurations are now validated, once,
  // as they come in (the store keeps them as given): tests/api/studies.test.ts (saveStudy) and
  // tests/config/study-schema.test.ts (parseStudyConfig).

  it('edits a study without runs in place', () => {
    const s = store.studies.create('s', minimalConfig(d, m));
    const same = store.studies.update(s, { ...minimalConfig(d, m), seeds: [1] }, 'renamed');
    expect(same).toBe(s);
    expect(store.studies.get(s)).toMatchObject({ name: 'renamed', version: 1, config: { seeds: [1], name: 'renamed' } });
    expect(store.studies.list()).toHaveLength(1);
  });

  it('never edits a study that has a run: update makes a new version and returns its id', () => {
    const s = store.studies.create('s', minimalConfig(d, m));
    store.runs.create({ studyId: s, modelId: m, datasetId: d, seed: 28, appVersion: 't' });
    const original = store.studies.get(s)!;
    const v2 = store.studies.update(s, { ...minimalConfig(d, m), seeds: [5] });
    expect(v2).not.toBe(s);
    expect(store.studies.get(s)).toEqual(original);
    expect(store.studies.get(v2)).toMatchObject({ name: 's', version: 2, parentId: s, rootId: s, config: { seeds: [5] } });
    // v2 has no runs yet, so it is edited in place
    expect(store.studies.update(v2, { ...minimalConfig(d, m), seeds: [6] })).toBe(v2);
    // a run on v2 freezes it too; updating the OLD version then gives version 3 of the same study
    store.runs.create({ studyId: v2, modelId: m, datasetId: d, seed: 6, appVersion: 't' });
    const v3 = store.studies.update(s, minimalConfig(d, m));
    expect(store.studies.get(v3)).toMatchObject({ version: 3, parentId: s, rootId: s });
    expect(store.studies.versions(v2).map((x) => x.version)).toEqual([1, 2, 3]);
    expect(store.studies.list({ latestOnly: true }).map((x) => x.id)).toEqual([v3]);
    expect(store.studies.list().map((x) => x.id)).toEqual([s, v2, v3]);
  });

  it('is protected in SQL too: a direct UPDATE of a study with runs is aborted', () => {
    const s = store.studies.create('s', minimalConfig(d, m));
    store.runs.create({ studyId: s, modelId: m, datasetId: d, seed: 28, appVersion: 't' });
    expect(() => store.db.prepare(`UPDATE studies SET config = '{}' WHERE id = ?`).run(s)).toThrow(/cannot be edited in place/);
  });

  it('refuses to update a missing study', () => {
    expect(() => store.studies.update(999, minimalConfig(d, m))).toThrow('study 999 does not exist');
    // validating the new config is the caller's (the API's saveStudy: tests/api/studies.test.ts)
  });

  it('refuses an empty name (the one check the store keeps)', () => {
    expect(() => store.studies.create(' ', minimalConfig(d, m))).toThrow('study: field "name" must be a non-empty string');
    expect(store.studies.list()).toEqual([]);
  });
});

describe('runs repository', () => {
  let s: number;
  beforeEach(() => {
    s = store.studies.create('s', minimalConfig(d, m));
  });

  it('creates a queued run and walks it through its life', () => {
    const r = store.runs.create({ studyId: s, modelId: m, datasetId: d, seed: 79, appVersion: '0.1.0', total: 250 });
    expect(store.runs.get(r)).toMatchObject({ status: 'queued', seed: 79, progress: { done: 0, total: 250 }, startedAt: null, finishedAt: null, timings: {}, error: null });
    store.runs.setStatus(r, 'running');
    const started = store.runs.get(r)!.startedAt;
    expect(started).not.toBeNull();
    store.runs.setStatus(r, 'paused');
    store.runs.setStatus(r, 'running');
    expect(store.runs.get(r)!.startedAt).toBe(started); // resume keeps the first start
    store.runs.setProgress(r, 10, 300);
    expect(store.runs.get(r)!.progress).toEqual({ done: 10, total: 300 });
    store.runs.finish(r, { timings: { turn1Ms: 1200, lrpMs: 800 } });
    expect(store.runs.get(r)).toMatchObject({ status: 'done', timings: { turn1Ms: 1200, lrpMs: 800 } });
    expect(store.runs.get(r)!.finishedAt).not.toBeNull();
    expect(() => store.runs.setStatus(r, 'running')).toThrow(`run ${r} is done; its status cannot change to "running"`);
  });

  it('records a failure with its error', () => {
    const r = store.runs.create({ studyId: s, modelId: m, datasetId: d, seed: 1, appVersion: 't' });
    store.runs.finish(r, { status: 'failed', error: 'model file vanished' });
    expect(store.runs.get(r)).toMatchObject({ status: 'failed', error: 'model file vanished' });
    store.runs.setStatus(r, 'running'); // a failed run may be resumed
    expect(store.runs.get(r)!.status).toBe('running');
  });

  it('refuses bad references, seeds and statuses', () => {
    expect(() => store.runs.create({ studyId: 999, modelId: m, datasetId: d, seed: 1, appVersion: 't' })).toThrow('run: field "studyId": study 999 does not exist');
    expect(() => store.runs.create({ studyId: s, modelId: 999, datasetId: d, seed: 1, appVersion: 't' })).toThrow('model 999 does not exist');
    expect(() => store.runs.create({ studyId: s, modelId: m, datasetId: 999, seed: 1, appVersion: 't' })).toThrow('dataset 999 does not exist');
    expect(() => store.runs.create({ studyId: s, modelId: m, datasetId: d, seed: 1.5, appVersion: 't' })).toThrow('field "seed" must be an integer');
    const r = store.runs.create({ studyId: s, modelId: m, datasetId: d, seed: 1, appVersion: 't' });
    expect(() => store.runs.setStatus(r, 'exploded' as never)).toThrow(StoreError);
    expect(() => store.runs.setStatus(999, 'running')).toThrow('run 999 does not exist');
    expect(() => store.runs.setProgress(999, 1)).toThrow('run 999 does not exist');
    expect(() => store.runs.finish(r, { status: 'paused' as never })).toThrow('finish status must be done|failed|stopped');
  });

  it('lists with filters and deletes a run with its results and metrics', () => {
    const d2 = store.datasets.insert(dataset('d2', [example('1', 'x y', 'negative')]));
    const r1 = store.runs.create({ studyId: s, modelId: m, datasetId: d, seed: 28, appVersion: 't' });
    const r2 = store.runs.create({ studyId: s, modelId: m, datasetId: d2, seed: 28, appVersion: 't' });
    expect(store.runs.list().map((r) => r.id)).toEqual([r1, r2]);
    expect(store.runs.list({ datasetId: d2 }).map((r) => r.id)).toEqual([r2]);
    expect(store.runs.list({ studyId: s, modelId: m }).map((r) => r.id)).toEqual([r1, r2]);
    const ex = store.datasets.examples(d)[0].id;
    store.results.put(r1, ex, { rawOutputs: {}, label: 'positive', relevance: [{ method: 'lrp-cp', values: [1] }] });
    store.metrics.replace(r1, [{ scope: {}, name: 'accuracy', value: 1 }]);
    expect(store.runs.delete(r1)).toBe(true);
    for (const t of ['results', 'result_relevance', 'metrics']) {
      expect(store.db.prepare(`SELECT count(*) FROM ${t}`).pluck().get()).toBe(0);
    }
  });
});
