import type { ParsedDataset, ParsedExample } from '../datasets/types';
import type { Db } from './db';
import { fromJson, nowIso, toJson } from './json';
import type { Lease, LeasesRepo } from './leases';
import { nameProblem } from './names';
import { StoreError, type DatasetRecord, type StoredExample } from './types';
import { isBusy, retryBusy, sleepSync, writeTransaction } from './write';

/**
 * An import's examples are written in transactions of at most this many rows and this many milliseconds,
 * with a pause between them, so another process's write (a run storing a result) waits a chunk, not the
 * whole import. SQLite's busy handler polls at most every 100 ms; a pause of IMPORT_PAUSE_MS after each
 * chunk of <= IMPORT_CHUNK_MS gives a waiting writer a fair chance at every poll.
 */
export const IMPORT_CHUNK_ROWS = 500;
export const IMPORT_CHUNK_MS = 50;
export const IMPORT_PAUSE_MS = 10;
/** Rows deleted per transaction when a pending import is removed (failed, killed, or a dataset deleted). */
const PURGE_CHUNK_ROWS = 2000;

/** The metadata of a dataset being imported (a ParsedDataset without its examples). */
export type DatasetMeta = Omit<ParsedDataset, 'examples'>;

/**
 * One logical, all-or-nothing import written in bounded chunks: the dataset stays 'pending' (listed nowhere)
 * while its examples are added; commit() makes it visible in one short transaction; abort() deletes what was
 * written. If the process dies, its import lease ends and the next openStore deletes the leftovers.
 */
export interface DatasetImport {
  readonly datasetId: number;
  /** Validates the examples (all of them, before writing any), then writes them in chunks. */
  add(examples: readonly ParsedExample[]): void;
  /** Makes the dataset visible; returns its id. */
  commit(): number;
  /** Deletes everything this import wrote. Safe to call after a failed add or commit. */
  abort(): void;
}

interface DatasetRow {
  id: number;
  name: string;
  format: string;
  source_path: string;
  source_sha256: string;
  language: string | null;
  label_set: string;
  label_map: string | null;
  created_at: string;
  example_count: number;
  with_rationale: number;
}

interface ExampleRow {
  id: number;
  dataset_id: number;
  ordinal: number;
  external_id: string;
  text: string;
  language: string;
  labels: string;
  words: string;
  rationale_mask: string | null;
  rationale_spans: string;
  annotators: string | null;
  meta: string | null;
}

export interface DatasetsRepo {
  /**
   * Stores the dataset and all its examples, all or nothing: validated first, then written as a staged
   * import (see DatasetImport) so other writers are never locked out for long. Inside an outer transaction
   * (an importer storing a dataset with its run) it is written in that transaction instead.
   */
  insert(parsed: ParsedDataset): number;
  /** Starts a staged import (for importers that produce examples in batches). */
  beginImport(meta: DatasetMeta): DatasetImport;
  /** Deletes pending imports whose process is gone (lease over); returns how many. openStore calls it. */
  purgeStaleImports(): number;
  list(): DatasetRecord[];
  get(id: number): DatasetRecord | undefined;
  /** Examples in file order. */
  examples(datasetId: number, page?: { offset?: number; limit?: number }): StoredExample[];
  example(exampleId: number): StoredExample | undefined;
  /**
   * Deletes the dataset and its examples; refused while a run refers to it. Returns false if absent.
   * The dataset disappears at once (made pending); its examples go in chunks, finished at the next open if killed.
   */
  delete(id: number): boolean;

  // ---- housekeeping (issue 12 item 6): rename, duplicates, deletion with what goes with it (deletions-repo.ts) ----
  /** Gives the dataset another name (names.ts); returns the renamed record. */
  rename(id: number, name: string): DatasetRecord;
  /** The other datasets whose imported file had the same content (SHA-256), oldest first. */
  sameContent(id: number): DatasetRecord[];
  /**
   * The first half of delete(), to run inside a caller's transaction (deletions-repo.ts, which deletes the runs
   * first): hides the dataset (pending, with this process's lease). Returns false if absent.
   */
  hideForDelete(id: number): boolean;
  /** The second half: deletes a hidden dataset's examples in chunks, then the dataset (after the caller's commit). */
  purgeDeleted(id: number): void;
}

const SELECT_DATASET = `
  SELECT d.id, d.name, d.format, d.source_path, d.source_sha256, d.language, d.label_set, d.label_map, d.created_at,
    (SELECT count(*) FROM examples e WHERE e.dataset_id = d.id) AS example_count,
    (SELECT count(*) FROM examples e WHERE e.dataset_id = d.id
       -- a rationale marks something: a mask with a 1, or a span (an all-zero mask is no rationale)
       AND (EXISTS (SELECT 1 FROM json_each(e.rationale_mask) WHERE value = 1) OR json_array_length(e.rationale_spans) > 0)) AS with_rationale
  FROM datasets d WHERE d.state = 'ready'`;

function toRecord(r: DatasetRow): DatasetRecord {
  return {
    id: r.id,
    name: r.name,
    format: r.format as DatasetRecord['format'],
    sourcePath: r.source_path,
    sourceSha256: r.source_sha256,
    language: r.language,
    labelSet: JSON.parse(r.label_set) as string[],
    ...(r.label_map !== null ? { labelMap: JSON.parse(r.label_map) as Record<string, string | null> } : {}),
    createdAt: r.created_at,
    exampleCount: r.example_count,
    withRationale: r.with_rationale,
  };
}

function toExample(r: ExampleRow): StoredExample {
  const ex: StoredExample = {
    id: r.id,
    datasetId: r.dataset_id,
    ordinal: r.ordinal,
    externalId: r.external_id,
    text: r.text,
    language: r.language,
    labels: JSON.parse(r.labels),
    words: JSON.parse(r.words),
    rationaleMask: fromJson<number[]>(r.rationale_mask),
    rationaleSpans: JSON.parse(r.rationale_spans),
  };
  const annotators = fromJson<StoredExample['annotators']>(r.annotators);
  if (annotators) ex.annotators = annotators;
  const meta = fromJson<Record<string, unknown>>(r.meta);
  if (meta) ex.meta = meta;
  return ex;
}

const isInt = (v: unknown): v is number => Number.isInteger(v);

/**
 * Checks the invariants of the ParsedExample contract that SQL cannot see, so an importer bug
 * is reported at the example and field instead of surfacing later as a wrong metric.
 */
function checkExample(datasetName: string, i: number, ex: ParsedExample): void {
  const fail = (field: string, detail: string): never => {
    const id = typeof ex?.externalId === 'string' ? ` (id "${ex.externalId}")` : '';
    throw new StoreError(`dataset "${datasetName}": example ${i}${id}, field "${field}": ${detail}`);
  };
  if (typeof ex !== 'object' || ex === null) fail('(example)', 'not an object');
  if (typeof ex.externalId !== 'string') fail('externalId', 'must be a string');
  if (typeof ex.text !== 'string') fail('text', 'must be a string');
  if (typeof ex.language !== 'string' || ex.language === '') fail('language', 'must be a non-empty string');
  if (!Array.isArray(ex.labels) || ex.labels.some((l) => typeof l !== 'string')) {
    fail('labels', 'must be a list of strings');
  }
  if (!Array.isArray(ex.words)) fail('words', 'must be a list');
  ex.words.forEach((w, j) => {
    if (!w || !isInt(w.start) || !isInt(w.end) || ex.text.slice(w.start, w.end) !== w.text) {
      fail(`words[${j}]`, `offsets ${w?.start}..${w?.end} do not give the word ${JSON.stringify(w?.text)}`);
    }
  });
  if (ex.rationaleMask !== null) {
    if (!Array.isArray(ex.rationaleMask)) fail('rationaleMask', 'must be a list of 0/1 or null');
    if (ex.rationaleMask.length !== ex.words.length) {
      fail('rationaleMask', `has ${ex.rationaleMask.length} entries but the text has ${ex.words.length} words`);
    }
    const bad = ex.rationaleMask.findIndex((v) => v !== 0 && v !== 1);
    if (bad >= 0) fail(`rationaleMask[${bad}]`, `must be 0 or 1, got ${JSON.stringify(ex.rationaleMask[bad])}`);
  }
  if (!Array.isArray(ex.rationaleSpans)) fail('rationaleSpans', 'must be a list');
  ex.rationaleSpans.forEach((s, j) => {
    if (!s || !isInt(s.start) || !isInt(s.end) || s.start < 0 || s.end > ex.text.length || s.start > s.end) {
      fail(`rationaleSpans[${j}]`, `span ${s?.start}..${s?.end} is outside the text (length ${ex.text.length})`);
    }
  });
  if (ex.annotators !== undefined) {
    if (!Array.isArray(ex.annotators)) fail('annotators', 'must be a list');
    ex.annotators.forEach((a, j) => {
      if (!a || typeof a.annotator !== 'string' || !Array.isArray(a.values) || !a.values.every(Number.isFinite)) {
        fail(`annotators[${j}]`, 'must be {annotator: string, values: finite numbers}');
      }
    });
  }
}

export function datasetsRepo(db: Db, leases: LeasesRepo): DatasetsRepo {
  const insertDataset = db.prepare(
    `INSERT INTO datasets (name, format, source_path, source_sha256, language, label_set, label_map, created_at, state)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertExample = db.prepare(
    `INSERT INTO examples (dataset_id, ordinal, external_id, text, language, labels, words,
       rationale_mask, rationale_spans, annotators, meta)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const getOne = db.prepare(`${SELECT_DATASET} AND d.id = ?`);
  const getAll = db.prepare(`${SELECT_DATASET} ORDER BY d.id`);
  const page = db.prepare(
    `SELECT e.* FROM examples e JOIN datasets d ON d.id = e.dataset_id AND d.state = 'ready'
     WHERE e.dataset_id = ? ORDER BY e.ordinal LIMIT ? OFFSET ?`,
  );
  const oneExample = db.prepare(`SELECT e.* FROM examples e JOIN datasets d ON d.id = e.dataset_id AND d.state = 'ready' WHERE e.id = ?`);
  const runsUsing = db.prepare(`SELECT count(*) AS n FROM runs WHERE dataset_id = ?`);
  const stateOf = db.prepare(`SELECT state FROM datasets WHERE id = ?`).pluck();
  const setState = db.prepare(`UPDATE datasets SET state = ? WHERE id = ?`);
  const pending = db.prepare(`SELECT id FROM datasets WHERE state = 'pending' ORDER BY id`).pluck();
  const purgeExamples = db.prepare(`DELETE FROM examples WHERE id IN (SELECT id FROM examples WHERE dataset_id = ? LIMIT ${PURGE_CHUNK_ROWS})`);
  const delPending = db.prepare(`DELETE FROM datasets WHERE id = ? AND state = 'pending'`);
  const delLease = db.prepare(`DELETE FROM leases WHERE kind = 'import' AND target_id = ?`);
  const rename = db.prepare(`UPDATE datasets SET name = ? WHERE id = ?`);
  const sameSha = db.prepare(`${SELECT_DATASET} AND d.source_sha256 = ? AND d.id <> ? ORDER BY d.id`);

  const checkMeta = (m: DatasetMeta) => {
    if (typeof m?.name !== 'string' || m.name === '') throw new StoreError('dataset: field "name" must be a non-empty string');
  };
  const writeRow = (id: number, name: string, i: number, ex: ParsedExample) => {
    try {
      insertExample.run(
        id,
        i,
        ex.externalId,
        ex.text,
        ex.language,
        JSON.stringify(ex.labels),
        JSON.stringify(ex.words),
        toJson(ex.rationaleMask),
        JSON.stringify(ex.rationaleSpans),
        toJson(ex.annotators),
        toJson(ex.meta),
      );
    } catch (e) {
      if (isBusy(e)) throw e; // not this row's fault: the transaction is retried as a whole
      throw new StoreError(`dataset "${name}": example ${i} (id "${ex.externalId}"): ${(e as Error).message}`);
    }
  };
  const newDataset = (m: DatasetMeta, state: 'pending' | 'ready') =>
    Number(insertDataset.run(m.name, m.format, m.sourcePath, m.sourceSha256, m.language, JSON.stringify(m.labelSet ?? []), m.labelMap ? JSON.stringify(m.labelMap) : null, nowIso(), state).lastInsertRowid);

  /** Deletes a pending dataset's examples chunk by chunk (pausing between chunks), then the dataset and its lease. */
  const purge = (id: number) => {
    while (retryBusy(db, `dataset ${id}: delete`, () => purgeExamples.run(id).changes) > 0) sleepSync(IMPORT_PAUSE_MS);
    writeTransaction(db, `dataset ${id}: delete`, () => {
      delPending.run(id);
      delLease.run(id);
    })();
  };

  // Inside an outer transaction: everything in it, visible when it commits (the old one-transaction path).
  const insertWhole = (parsed: ParsedDataset): number => {
    const id = newDataset(parsed, 'ready');
    parsed.examples.forEach((ex, i) => writeRow(id, parsed.name, i, ex));
    return id;
  };

  // (not 'dataset import': electron-vite's CommonJS shim takes `import '` in code for an import statement and
  // inserts its shim inside this string; tests/gui/shell.test.ts builds the app)
  const beginTx = writeTransaction(db, 'importing a dataset', (m: DatasetMeta): { id: number; lease: Lease } => {
    const id = newDataset(m, 'pending');
    return { id, lease: leases.acquire('import', id, `import of dataset "${m.name}"`) };
  });

  const beginImport = (meta: DatasetMeta): DatasetImport => {
    checkMeta(meta);
    const { id, lease } = beginTx(meta);
    const heartbeat = lease.startHeartbeat();
    let next = 0;
    let ended = false;
    const chunkTx = writeTransaction(db, `dataset "${meta.name}": import`, (rows: readonly ParsedExample[], from: number, deadline: number) => {
      if (!lease.renew()) throw new StoreError(`dataset "${meta.name}": the import was ended by another process (its lease expired)`);
      let n = 0;
      while (n < rows.length && (n === 0 || Date.now() < deadline)) {
        writeRow(id, meta.name, from + n, rows[n]);
        n++;
      }
      return n;
    });
    return {
      datasetId: id,
      add(examples) {
        if (ended) throw new StoreError(`dataset "${meta.name}": the import is already finished`);
        examples.forEach((ex, i) => checkExample(meta.name, next + i, ex));
        for (let at = 0; at < examples.length; ) {
          if (at > 0) sleepSync(IMPORT_PAUSE_MS);
          const rows = examples.slice(at, at + IMPORT_CHUNK_ROWS);
          const n = chunkTx(rows, next, Date.now() + IMPORT_CHUNK_MS);
          at += n;
          next += n;
        }
      },
      commit() {
        if (ended) throw new StoreError(`dataset "${meta.name}": the import is already finished`);
        writeTransaction(db, `dataset "${meta.name}": import`, () => {
          if (!lease.renew()) throw new StoreError(`dataset "${meta.name}": the import was ended by another process (its lease expired)`);
          setState.run('ready', id);
          delLease.run(id);
        })();
        ended = true;
        heartbeat.stop();
        return id;
      },
      abort() {
        heartbeat.stop();
        if (ended) return;
        ended = true;
        if (stateOf.get(id) === 'pending') purge(id);
        else lease.release();
      },
    };
  };

  const insert = (parsed: ParsedDataset): number => {
    checkMeta(parsed);
    if (!Array.isArray(parsed.examples)) throw new StoreError(`dataset "${parsed.name}": field "examples" must be a list`);
    parsed.examples.forEach((ex, i) => checkExample(parsed.name, i, ex));
    if (db.inTransaction) return insertWhole(parsed);
    const imp = beginImport(parsed);
    try {
      imp.add(parsed.examples);
      return imp.commit();
    } catch (e) {
      imp.abort();
      throw e;
    }
  };

  const hideForDelete = writeTransaction(db, 'dataset delete', (id: number): boolean => {
    const { n } = runsUsing.get(id) as { n: number };
    if (n > 0) throw new StoreError(`dataset ${id} is used by ${n} run(s); delete those runs first`);
    if (stateOf.get(id) !== 'ready') return false;
    setState.run('pending', id);
    // the deleting process's lease: if it dies half-way, the next open finishes the delete
    leases.acquire('import', id, `deletion of dataset ${id}`);
    return true;
  });

  return {
    insert,
    beginImport,
    purgeStaleImports() {
      let n = 0;
      for (const id of pending.all() as number[]) {
        const lease = leases.get('import', id);
        if (lease?.live) continue;
        purge(id);
        n++;
      }
      return n;
    },
    list: () => (getAll.all() as DatasetRow[]).map(toRecord),
    get(id) {
      const r = getOne.get(id) as DatasetRow | undefined;
      return r && toRecord(r);
    },
    examples(datasetId, { offset = 0, limit = -1 } = {}) {
      return (page.all(datasetId, limit, offset) as ExampleRow[]).map(toExample);
    },
    example(exampleId) {
      const r = oneExample.get(exampleId) as ExampleRow | undefined;
      return r && toExample(r);
    },
    delete(id) {
      if (db.inTransaction) {
        const { n } = runsUsing.get(id) as { n: number };
        if (n > 0) throw new StoreError(`dataset ${id} is used by ${n} run(s); delete those runs first`);
        return db.prepare(`DELETE FROM datasets WHERE id = ?`).run(id).changes > 0;
      }
      if (!hideForDelete(id)) return false;
      purge(id);
      return true;
    },
    // ---- housekeeping (issue 12 item 6) ----
    rename: writeTransaction(db, 'dataset rename', (id: number, name: string): DatasetRecord => {
      const problem = nameProblem(name);
      if (problem) throw new StoreError(`dataset ${id}: field "name" ${problem}`);
      if (!getOne.get(id)) throw new StoreError(`dataset ${id} does not exist`);
      rename.run(name.trim(), id);
      return toRecord(getOne.get(id) as DatasetRow);
    }),
    sameContent(id) {
      const d = getOne.get(id) as DatasetRow | undefined;
      return d ? (sameSha.all(d.source_sha256, id) as DatasetRow[]).map(toRecord) : [];
    },
    hideForDelete: (id) => hideForDelete(id),
    purgeDeleted: (id) => purge(id),
  };
}
