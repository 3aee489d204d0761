import crypto from 'node:crypto';
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../main/store/db';
import { LATEST_VERSION, MIGRATIONS, SchemaVersionError, migrate, openStore, schemaVersion, type Migration } from '../../main/store';
import { encodeFloat32 } from '../../main/store/blob';
import { tempDir } from './helpers';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const NOW = '2024-01-01T00:00:00.000Z';

/**
 * Data written with raw SQL in the shape of each schema version, as an app of that version would
 * have written it. seeds[v] runs on a database at version >= v.
 */
const seeds: Record<number, (db: Db, k: number) => void> = {
  1(db) {
    db.prepare(`INSERT INTO datasets (id, name, format, source_path, source_sha256, language, label_set, created_at)
      VALUES (1, 'mSST da', 'msst', '/d/da.xlsx', 'ab', 'da', '["positiv","negativ"]', ?)`).run(NOW);
    db.prepare(`INSERT INTO examples (id, dataset_id, ordinal, external_id, text, language, labels, words, rationale_mask, rationale_spans)
      VALUES (10, 1, 0, 'x1', 'En rørende film', 'da', '["positiv"]',
        '[{"text":"En","start":0,"end":2},{"text":"rørende","start":3,"end":10},{"text":"film","start":11,"end":15}]',
        '[0,1,0]', '[{"start":3,"end":10}]')`).run();
    db.prepare(`INSERT INTO models (id, path, sha256, file_size, metadata, registered_at) VALUES (5, '/m.gguf', ?, 123, '{"a":1}', ?)`).run(
      'c'.repeat(64),
      NOW,
    );
    db.prepare(`INSERT INTO studies (id, name, config, version, root_id, created_at, updated_at)
      VALUES (7, 'old study', '{"name":"old study"}', 1, 7, ?, ?)`).run(NOW, NOW);
  },
  2(db, k) {
    // at version 4 or later an app writes the indicator by name (migration 4 rewrote older ones): a database
    // created at such a version holds the name, as migration 4 would have left it
    const indicator = k >= 4 ? '"Excessive overtime"' : '5';
    db.prepare(`INSERT INTO runs (id, study_id, model_id, dataset_id, seed, status, progress_done, progress_total, app_version, created_at)
      VALUES (3, 7, 5, 1, 28, 'paused', 1, 1, '0.0.9', ?)`).run(NOW);
    db.prepare(`INSERT INTO results (id, run_id, example_id, raw_outputs, label, correct, answer_prob, created_at)
      VALUES (30, 3, 10, '{"turn1":"a"}', 'positiv', 1, 0.75, ?)`).run(NOW);
    db.prepare(`INSERT INTO result_relevance (result_id, method, relevance) VALUES (30, 'lrp-cp', ?)`).run(encodeFloat32([0.25, -1]));
    db.prepare(`INSERT INTO metrics (run_id, scope, name, value, n) VALUES (3, '{"level":"word"}', 'kappa', 0.5, 1)`).run();
    // a forced-labour study as stored before indicators were named: 5 = RaFoLa's (alphabetical) number
    db.prepare(`INSERT INTO studies (id, name, config, version, root_id, created_at, updated_at)
      VALUES (8, 'overtime', '{"name":"overtime","task":{"kind":"forced-labour","labels":["yes","no"],"indicator":${indicator}}}', 1, 8, ?, ?)`).run(NOW, NOW);
    db.prepare(`INSERT INTO runs (id, study_id, model_id, dataset_id, seed, status, app_version, created_at) VALUES (4, 8, 5, 1, 28, 'done', '0.0.9', ?)`).run(NOW);
    db.prepare(`INSERT INTO metrics (run_id, scope, name, value, n) VALUES (4, '{"model":"m","indicator":${k >= 4 ? indicator : '"5"'}}', 'accuracy', 1, 1)`).run();
  },
  // v3 adds tables only (leases, staged imports); v4 rewrites data only (forced-labour indicators by name)
  3() {},
  4() {},
  // v5 adds columns only (models' chosen chat templates)
  5() {},
};

function createAtVersion(file: string, k: number): void {
  const db = openDatabase(file);
  migrate(db, file, MIGRATIONS.slice(0, k));
  for (let v = 1; v <= k; v++) seeds[v]?.(db, k);
  expect(schemaVersion(db)).toBe(k);
  db.close();
}

function schemaSql(db: Db): string[] {
  return db.prepare(`SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name`).pluck().all() as string[];
}

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('migrations', () => {
  it('are numbered 1..N in order', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(LATEST_VERSION).toBe(MIGRATIONS.length);
    expect(LATEST_VERSION).toBeGreaterThanOrEqual(2);
  });

  it('create the latest schema from an empty file, with WAL and foreign keys on', () => {
    const file = tmp.file();
    const store = openStore(file);
    expect(store.migrated).toEqual({ from: 0, to: LATEST_VERSION });
    expect(schemaVersion(store.db)).toBe(LATEST_VERSION);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5000);
    // migration 3 added the leases table (which process runs a run / writes a pending import); migration 8 the
    // queue's records (queue_runs, queue_workers: runs computed on queue workers, issue 15)
    const tables = store.db.prepare(`SELECT name FROM sqlite_master WHERE type='table' ORDER BY name`).pluck().all();
    expect(tables).toEqual(['datasets', 'examples', 'leases', 'metrics', 'models', 'queue_runs', 'queue_workers', 'result_relevance', 'results', 'runs', 'studies']);
    store.close();
    // Re-opening an up-to-date file applies nothing.
    const again = openStore(file);
    expect(again.migrated).toEqual({ from: LATEST_VERSION, to: LATEST_VERSION });
    again.close();
  });

  for (let k = 1; k < MIGRATIONS.length; k++) {
    it(`migrate a database at version ${k} to ${MIGRATIONS.length} with its data intact`, () => {
      const file = tmp.file();
      createAtVersion(file, k);
      const store = openStore(file);
      expect(store.migrated).toEqual({ from: k, to: LATEST_VERSION });

      const ds = store.datasets.get(1)!;
      expect(ds).toMatchObject({ name: 'mSST da', format: 'msst', language: 'da', labelSet: ['positiv', 'negativ'], exampleCount: 1, withRationale: 1 });
      const [ex] = store.datasets.examples(1);
      expect(ex).toMatchObject({ id: 10, externalId: 'x1', text: 'En rørende film', rationaleMask: [0, 1, 0], rationaleSpans: [{ start: 3, end: 10 }] });
      expect(ex.text.slice(ex.words[1].start, ex.words[1].end)).toBe('rørende');
      expect(store.models.bySha('c'.repeat(64))).toMatchObject({ id: 5, fileSize: 123, metadata: { a: 1 } });
      // v5: models have no chosen chat template until one is chosen; the choice is stored with the model
      expect(store.models.get(5)!.templateChoice).toBeNull();
      expect(store.models.setTemplate(5, { family: 'llama2', template: '{{ messages[0].content }}' })).toBe(true);
      expect(store.models.get(5)!.templateChoice).toEqual({ family: 'llama2', template: '{{ messages[0].content }}' });
      expect(store.studies.get(7)).toMatchObject({ name: 'old study', version: 1, rootId: 7 });
      if (k >= 2) {
        expect(store.runs.get(3)).toMatchObject({ status: 'paused', seed: 28, progress: { done: 1, total: 1 } });
        // v5: runs have a name (none until the user gives one)
        expect(store.runs.get(3)!.name).toBeNull();
        const r = store.results.get(3, 10)!;
        expect(r).toMatchObject({ label: 'positiv', correct: true, answerProb: 0.75 });
        expect([...r.relevance[0].values]).toEqual([0.25, -1]);
        expect(store.metrics.list(3)).toMatchObject([{ name: 'kappa', value: 0.5, scope: { level: 'word' } }]);
        // v4: RaFoLa's number 5 is the name it meant, in the study and its runs' metric scopes (ILO 11); a database
        // created at version 4 or later already holds the name (see createAtVersion), which later migrations keep.
        const indicator = 'Excessive overtime';
        expect((store.studies.get(8)!.config as { task: { indicator: unknown } }).task.indicator).toBe(indicator);
        expect(store.metrics.list(4)).toMatchObject([{ name: 'accuracy', scope: { model: 'm', indicator: String(indicator) } }]);
        // the study has a run: still frozen (the trigger is back)
        expect(() => store.db.prepare(`UPDATE studies SET name = 'x' WHERE id = 8`).run()).toThrow(/cannot be edited in place/);
      }

      // The migrated schema is identical to one created from scratch.
      const fresh = openStore(tmp.file());
      expect(schemaSql(store.db)).toEqual(schemaSql(fresh.db));
      fresh.close();
      // And the new tables work on old data: a run over the old dataset, study and model.
      const run = store.runs.create({ studyId: 7, modelId: 5, datasetId: 1, seed: 79, appVersion: '0.1.0', total: 1 });
      store.results.put(run, 10, { rawOutputs: { turn1: 'b' }, label: 'negativ', correct: false });
      expect(store.results.doneExampleIds(run)).toEqual([10]);
      expect(store.integrityCheck()).toBe('ok');
      store.close();
    });
  }

  it('refuse a database newer than the app, without modifying the file', () => {
    const file = tmp.file();
    openStore(file).close();
    const db = openDatabase(file);
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.pragma('journal_mode = DELETE'); // as a future app might leave it; we must not switch it to WAL
    db.close();
    const before = sha(file);
    expect(() => openStore(file)).toThrow(SchemaVersionError);
    expect(() => openStore(file)).toThrow(
      new RegExp(`schema version ${LATEST_VERSION + 1} is newer than this app supports \\(${LATEST_VERSION}\\)`),
    );
    expect(sha(file)).toBe(before);
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it('apply each migration in its own transaction: a failing one leaves the previous version', () => {
    const file = tmp.file();
    openStore(file).close();
    const broken: Migration = {
      version: LATEST_VERSION + 1,
      name: 'broken',
      up(db) {
        db.exec(`CREATE TABLE half_done (x INTEGER)`);
        db.exec(`INSERT INTO no_such_table VALUES (1)`);
      },
    };
    const db = openDatabase(file);
    expect(() => migrate(db, file, [...MIGRATIONS, broken])).toThrow(/no such table: no_such_table/);
    expect(schemaVersion(db)).toBe(LATEST_VERSION);
    expect(db.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'half_done'`).pluck().get()).toBe(0);
    db.close();
  });
});
