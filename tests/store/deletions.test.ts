import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../main/store';
import { dataset, example, minimalConfig, snapshot, tempDir } from './helpers';

/**
 * Deletion with what goes with it (main/store/deletions-repo.ts) is one transaction: when any part of it fails,
 * nothing is deleted — not the runs, not their results, not the studies, and the dataset stays visible.
 */
const tmp = tempDir();
afterAll(() => tmp.cleanup());

function world(store: Store) {
  const d = store.datasets.insert(dataset('reviews', [example('a', 'A fine film', 'positive', [1]), example('b', 'A dull film', 'negative', [1])]));
  const m = store.models.register({ path: '/models/m.gguf', sha256: 'a'.repeat(64), fileSize: 1 });
  const s = store.studies.create('on reviews', minimalConfig(d, m));
  const run = store.runs.create({ studyId: s, modelId: m, datasetId: d, seed: 28, appVersion: 'test', total: 2 });
  for (const ex of store.datasets.examples(d)) store.results.put(run, ex.id, { rawOutputs: { turn1: 'positive' }, label: 'positive', correct: true });
  store.metrics.replace(run, [{ scope: { level: 'word' }, name: 'kappa', value: 0.5 }]);
  return { d, m, s, run };
}

describe('deletions are one transaction', () => {
  for (const kind of ['dataset', 'model', 'study'] as const) {
    it(`a ${kind} deletion that fails half-way deletes nothing`, () => {
      const store = openStore(tmp.file());
      try {
        const w = world(store);
        const id = { dataset: w.d, model: w.m, study: w.s }[kind];
        // the run (and its results) go first; then the part that fails: deleting the study / hiding the dataset / the model
        const failOn = { dataset: 'UPDATE OF state ON datasets', model: 'DELETE ON models', study: 'DELETE ON studies' }[kind];
        store.db.exec(`CREATE TEMP TRIGGER fail_here BEFORE ${failOn} BEGIN SELECT RAISE(ABORT, 'disk said no'); END`);
        const before = snapshot(store);
        expect(store.deletions.impact(kind, id).runs.map((r) => r.id)).toEqual([w.run]);
        expect(() => store.deletions.delete(kind, id)).toThrow('disk said no');
        expect(snapshot(store)).toEqual(before);
        expect(store.runs.get(w.run)).toBeDefined();
        expect(store.results.list(w.run, { relevance: false })).toHaveLength(2);
        expect(store.datasets.get(w.d)).toBeDefined();
        // without the fault it goes through, and the file is consistent
        store.db.exec('DROP TRIGGER fail_here');
        expect(store.deletions.delete(kind, id).runs.map((r) => r.id)).toEqual([w.run]);
        expect(store.runs.get(w.run)).toBeUndefined();
        expect(store.integrityCheck()).toBe('ok');
        expect(store.db.pragma('foreign_key_check')).toEqual([]);
      } finally {
        store.close();
      }
    });
  }
});
