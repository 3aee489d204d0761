import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, StoreError, type Store } from '../../main/store';
import { dataset, example, minimalConfig, snapshot, tempDir } from './helpers';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let store: Store;
beforeEach(() => {
  store = openStore(tmp.file());
});
afterEach(() => store.close());

const many = (n: number) => Array.from({ length: n }, (_, i) => example(`e${i}`, `sentence number ${i} here`, i % 2 ? 'positive' : 'negative', i % 3 ? [1] : []));

describe('datasets repository', () => {
  it('stores a dataset and returns its examples exactly as given, in file order', () => {
    const da = example('da-1', 'Filmen er  rørende, æøå ÆØÅ.\n', 'positiv', [2], 'da');
    const it_ = example('it-1', 'Un film è così perché «bello» 😀', 'positiva', [0, 5], 'it');
    const id = store.datasets.insert(dataset('mixed', [da, it_], null));
    const rec = store.datasets.get(id)!;
    expect(rec).toMatchObject({ id, name: 'mixed', format: 'jsonl', language: null, labelSet: ['negative', 'positive'], exampleCount: 2, withRationale: 2 });
    expect(rec.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const [a, b] = store.datasets.examples(id);
    expect(a).toEqual({ ...da, id: a.id, datasetId: id, ordinal: 0 });
    expect(b).toEqual({ ...it_, id: b.id, datasetId: id, ordinal: 1 });
    // Byte-for-byte: the UTF-8 encodings are identical (no trimming or normalisation).
    expect(Buffer.from(a.text, 'utf8').equals(Buffer.from(da.text, 'utf8'))).toBe(true);
    expect(Buffer.from(b.text, 'utf8').equals(Buffer.from(it_.text, 'utf8'))).toBe(true);
    expect(a.text.slice(a.rationaleSpans[0].start, a.rationaleSpans[0].end)).toBe('rørende,');
    expect(store.datasets.example(b.id)).toEqual(b);
  });

  it('keeps annotators and meta, and omits them when absent', () => {
    const ex = { ...example('c1', 'ice is melting', 'SUPPORTS', [2]), annotators: [{ annotator: 'A1', values: [0, -1, 1] }], meta: { claim: 'x', rank: [3, 1] } };
    const id = store.datasets.insert(dataset('cf', [ex, example('c2', 'no rationale', 'REFUTES')]));
    const [a, b] = store.datasets.examples(id);
    expect(a.annotators).toEqual([{ annotator: 'A1', values: [0, -1, 1] }]);
    expect(a.meta).toEqual({ claim: 'x', rank: [3, 1] });
    expect('annotators' in b).toBe(false);
    expect('meta' in b).toBe(false);
    expect(b.rationaleMask).toBeNull();
    expect(store.datasets.get(id)!.withRationale).toBe(1);
  });

  it('an all-zero rationale mask is no rationale: "with a human rationale" counts rationales that mark something', () => {
    const empty = { ...example('z', 'nothing marked here', 'positive'), rationaleMask: [0, 0, 0] };
    const id = store.datasets.insert(dataset('zeros', [empty, example('m', 'one word marked', 'negative', [1])]));
    expect(store.datasets.examples(id)[0].rationaleMask).toEqual([0, 0, 0]);
    expect(store.datasets.get(id)!.withRationale).toBe(1);
  });

  it('pages examples with offset and limit', () => {
    const id = store.datasets.insert(dataset('big', many(25)));
    expect(store.datasets.examples(id).map((e) => e.ordinal)).toEqual([...Array(25).keys()]);
    expect(store.datasets.examples(id, { offset: 10, limit: 5 }).map((e) => e.externalId)).toEqual(['e10', 'e11', 'e12', 'e13', 'e14']);
    expect(store.datasets.examples(id, { offset: 23 }).map((e) => e.externalId)).toEqual(['e23', 'e24']);
    // every third example (i % 3 === 0) has no rationale: 0,3,...,24 = 9 of 25
    expect(store.datasets.get(id)!.withRationale).toBe(16);
  });

  it('lists datasets in id order and deletes one with its examples', () => {
    const a = store.datasets.insert(dataset('a', many(3)));
    const b = store.datasets.insert(dataset('b', many(2)));
    expect(store.datasets.list().map((d) => [d.id, d.name, d.exampleCount])).toEqual([[a, 'a', 3], [b, 'b', 2]]);
    expect(store.datasets.delete(a)).toBe(true);
    expect(store.datasets.delete(a)).toBe(false);
    expect(store.datasets.get(a)).toBeUndefined();
    expect(store.db.prepare('SELECT count(*) FROM examples WHERE dataset_id = ?').pluck().get(a)).toBe(0);
    expect(store.datasets.list().map((d) => d.id)).toEqual([b]);
  });

  it('refuses to delete a dataset that a run uses', () => {
    const d = store.datasets.insert(dataset('used', many(1)));
    const m = store.models.register({ path: '/m.gguf', sha256: 'a'.repeat(64), fileSize: 1 });
    const s = store.studies.create('s', minimalConfig(d, m));
    store.runs.create({ studyId: s, modelId: m, datasetId: d, seed: 28, appVersion: 't' });
    expect(() => store.datasets.delete(d)).toThrow(`dataset ${d} is used by 1 run(s); delete those runs first`);
    expect(store.datasets.get(d)!.exampleCount).toBe(1);
  });

  describe('all-or-nothing insert', () => {
    it('a contract violation halfway (example 50 of 100) leaves the database unchanged', () => {
      store.datasets.insert(dataset('existing', many(3)));
      const before = snapshot(store);
      const examples = many(100);
      examples[50] = { ...examples[50], rationaleMask: [1, 0] }; // the text has 4 words
      expect(() => store.datasets.insert(dataset('bad', examples))).toThrow(StoreError);
      expect(() => store.datasets.insert(dataset('bad', examples))).toThrow(
        'dataset "bad": example 50 (id "e50"), field "rationaleMask": has 2 entries but the text has 4 words',
      );
      expect(snapshot(store)).toEqual(before);
      expect(store.integrityCheck()).toBe('ok');
    });

    it('a database constraint failing halfway leaves the database unchanged', () => {
      store.datasets.insert(dataset('existing', many(3)));
      const before = snapshot(store);
      // A trigger that fails on the 61st example stands in for any SQL-level failure mid-insert.
      store.db.exec(`CREATE TEMP TRIGGER fail_midway BEFORE INSERT ON main.examples WHEN NEW.ordinal = 60
        BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
      expect(() => store.datasets.insert(dataset('bad', many(100)))).toThrow('dataset "bad": example 60 (id "e60"): disk says no');
      store.db.exec('DROP TRIGGER fail_midway');
      expect(snapshot(store)).toEqual(before);
      // and the same dataset then goes in whole
      const id = store.datasets.insert(dataset('bad', many(100)));
      expect(store.datasets.get(id)!.exampleCount).toBe(100);
    });

    it('a value that cannot be serialised halfway leaves the database unchanged', () => {
      const before = snapshot(store);
      const examples = many(10);
      examples[7] = { ...examples[7], meta: { big: 10n } as unknown as Record<string, unknown> };
      expect(() => store.datasets.insert(dataset('bad', examples))).toThrow(/BigInt/);
      expect(snapshot(store)).toEqual(before);
    });

    it.each([
      ['words[1]', (e: ReturnType<typeof example>) => ({ ...e, words: [e.words[0], { ...e.words[1], start: 0 }, ...e.words.slice(2)] }), 'offsets 0..'],
      ['rationaleMask[0]', (e: ReturnType<typeof example>) => ({ ...e, rationaleMask: [2, 0, 0, 0] }), 'must be 0 or 1, got 2'],
      ['rationaleSpans[0]', (e: ReturnType<typeof example>) => ({ ...e, rationaleSpans: [{ start: 5, end: 999 }] }), 'span 5..999 is outside the text'],
      ['text', (e: ReturnType<typeof example>) => ({ ...e, text: null as unknown as string }), 'must be a string'],
      ['labels', (e: ReturnType<typeof example>) => ({ ...e, labels: [1] as unknown as string[] }), 'must be a list of strings'],
      ['language', (e: ReturnType<typeof example>) => ({ ...e, language: '' }), 'must be a non-empty string'],
    ])('names the example and field %s', (field, mutate, detail) => {
      const examples = many(3);
      examples[2] = mutate(examples[2]);
      const before = snapshot(store);
      expect(() => store.datasets.insert(dataset('bad', examples))).toThrow(`example 2 (id "e2"), field "${field}": ${detail}`);
      expect(snapshot(store)).toEqual(before);
    });
  });
});
