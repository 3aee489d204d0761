/**
 * Dataset imports are written in bounded chunks as one logical, all-or-nothing import: the dataset is
 * 'pending' (invisible) while its examples are written, one short transaction makes it visible, a failed
 * import deletes what it wrote, and a pending import whose process is gone is deleted at the next open.
 * (The cross-process cases, a concurrent run and a killed import, are in concurrent-import.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { IMPORT_CHUNK_ROWS, openStore, StoreError } from '../../main/store';
import { dataset, example, snapshot, tempDir } from './helpers';

const tmp = tempDir('rw-staged-');
afterAll(() => tmp.cleanup());

const N = 3 * IMPORT_CHUNK_ROWS + 17;
const examples = (n: number, from = 0) => Array.from({ length: n }, (_, i) => example(`e${from + i}`, `text number ${from + i}`, 'positive', [0]));
const count = (store: ReturnType<typeof openStore>, table: string) => store.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;

describe('staged dataset import', () => {
  it('writes many chunks and shows the dataset only once all its examples are in', () => {
    const file = tmp.file();
    const store = openStore(file);
    const reader = openStore(file);
    try {
      const imp = store.datasets.beginImport({ ...dataset('big', []) });
      imp.add(examples(N));
      // written (committed, other connections could see the rows) but not visible as a dataset
      expect(count(reader, 'examples')).toBe(N);
      expect(reader.datasets.list()).toEqual([]);
      expect(reader.datasets.get(imp.datasetId)).toBeUndefined();
      expect(reader.datasets.examples(imp.datasetId)).toEqual([]);
      expect(reader.leases.get('import', imp.datasetId)).toMatchObject({ pid: process.pid, live: true });
      // another process opening the file meanwhile leaves a live import alone
      openStore(file).close();
      expect(count(reader, 'examples')).toBe(N);
      imp.add(examples(5, N));
      expect(imp.commit()).toBe(imp.datasetId);
      expect(reader.datasets.get(imp.datasetId)).toMatchObject({ name: 'big', exampleCount: N + 5 });
      expect(reader.datasets.examples(imp.datasetId).map((e) => e.ordinal)).toEqual(Array.from({ length: N + 5 }, (_, i) => i));
      expect(reader.leases.list()).toEqual([]);
    } finally {
      reader.close();
      store.close();
    }
  });

  it('insert validates every example before writing any: a bad one late in a big dataset changes nothing', () => {
    const store = openStore(tmp.file());
    try {
      const before = snapshot(store);
      const exs = examples(N);
      exs[N - 3] = { ...exs[N - 3], labels: [7 as never] };
      expect(() => store.datasets.insert(dataset('bad', exs))).toThrow(`dataset "bad": example ${N - 3} (id "e${N - 3}"), field "labels": must be a list of strings`);
      expect(snapshot(store)).toEqual(before);
    } finally {
      store.close();
    }
  });

  it('a failure after chunks were written deletes them: nothing visible, no leftovers', () => {
    const store = openStore(tmp.file());
    try {
      const before = snapshot(store);
      const imp = store.datasets.beginImport(dataset('half', []));
      imp.add(examples(N));
      const bad = examples(3, N);
      bad[2] = { ...bad[2], words: [{ text: 'nope', start: 0, end: 4 }] };
      expect(() => imp.add(bad)).toThrow(StoreError);
      imp.abort();
      expect(snapshot(store)).toEqual(before);
      expect(() => imp.add(examples(1))).toThrow('the import is already finished');
    } finally {
      store.close();
    }
  });

  it('at open, pending imports whose process is gone (or whose lease expired elsewhere) are deleted; live ones stay', () => {
    const file = tmp.file();
    const store = openStore(file);
    const begin = (name: string) => {
      const imp = store.datasets.beginImport(dataset(name, []));
      imp.add(examples(IMPORT_CHUNK_ROWS + 1));
      return imp.datasetId;
    };
    const dead = begin('dead process');
    const expired = begin('expired elsewhere');
    const elsewhere = begin('live elsewhere');
    const live = begin('live here');
    const dead_pid = spawnSync(process.execPath, ['-e', '']).pid!;
    const set = store.db.prepare(`UPDATE leases SET pid = ?, host = ?, expires_ms = ? WHERE kind = 'import' AND target_id = ?`);
    set.run(dead_pid, hostname(), Date.now() + 60_000, dead);
    set.run(1, 'other-host', Date.now() - 1, expired);
    set.run(1, 'other-host', Date.now() + 60_000, elsewhere);
    const reopened = openStore(file);
    try {
      const pendingIds = reopened.db.prepare(`SELECT id FROM datasets WHERE state = 'pending' ORDER BY id`).pluck().all();
      expect(pendingIds).toEqual([elsewhere, live]);
      expect(reopened.db.prepare('SELECT DISTINCT dataset_id FROM examples ORDER BY 1').pluck().all()).toEqual([elsewhere, live]);
      expect(reopened.leases.list('import').map((l) => l.targetId)).toEqual([elsewhere, live]);
      expect(reopened.datasets.list()).toEqual([]);
    } finally {
      reopened.close();
      store.close();
    }
  });

  it('deleting a big dataset hides it at once and removes its examples in chunks', () => {
    const store = openStore(tmp.file());
    try {
      const id = store.datasets.insert(dataset('big', examples(N)));
      const keep = store.datasets.insert(dataset('keep', examples(3)));
      expect(store.datasets.delete(id)).toBe(true);
      expect(store.datasets.delete(id)).toBe(false);
      expect(store.datasets.list().map((d) => d.id)).toEqual([keep]);
      expect(count(store, 'examples')).toBe(3);
      expect(store.leases.list()).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('inside an outer transaction (an importer storing a dataset with its run) insert is part of that transaction', () => {
    const store = openStore(tmp.file());
    try {
      const before = snapshot(store);
      expect(() =>
        store.db.transaction(() => {
          store.datasets.insert(dataset('inner', examples(N)));
          throw new Error('the run could not be stored');
        })(),
      ).toThrow('the run could not be stored');
      expect(snapshot(store)).toEqual(before);
      const id = store.db.transaction(() => store.datasets.insert(dataset('inner', examples(2))))();
      expect(store.datasets.get(id)).toMatchObject({ exampleCount: 2 });
    } finally {
      store.close();
    }
  });
});
