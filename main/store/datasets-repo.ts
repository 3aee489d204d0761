import type { ParsedDataset, ParsedExample } from '../datasets/types';
import type { Db } from './db';
import { fromJson, nowIso, toJson } from './json';
import { StoreError, type DatasetRecord, type StoredExample } from './types';

interface DatasetRow {
  id: number;
  name: string;
  format: string;
  source_path: string;
  source_sha256: string;
  language: string | null;
  label_set: string;
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
  /** Stores the dataset and all its examples in ONE transaction: either everything or nothing. */
  insert(parsed: ParsedDataset): number;
  list(): DatasetRecord[];
  get(id: number): DatasetRecord | undefined;
  /** Examples in file order. */
  examples(datasetId: number, page?: { offset?: number; limit?: number }): StoredExample[];
  example(exampleId: number): StoredExample | undefined;
  /** Deletes the dataset and its examples; refused while a run refers to it. Returns false if absent. */
  delete(id: number): boolean;
}

const SELECT_DATASET = `
  SELECT d.*,
    (SELECT count(*) FROM examples e WHERE e.dataset_id = d.id) AS example_count,
    (SELECT count(*) FROM examples e WHERE e.dataset_id = d.id
       AND (e.rationale_mask IS NOT NULL OR json_array_length(e.rationale_spans) > 0)) AS with_rationale
  FROM datasets d`;

function toRecord(r: DatasetRow): DatasetRecord {
  return {
    id: r.id,
    name: r.name,
    format: r.format as DatasetRecord['format'],
    sourcePath: r.source_path,
    sourceSha256: r.source_sha256,
    language: r.language,
    labelSet: JSON.parse(r.label_set) as string[],
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

export function datasetsRepo(db: Db): DatasetsRepo {
  const insertDataset = db.prepare(
    `INSERT INTO datasets (name, format, source_path, source_sha256, language, label_set, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertExample = db.prepare(
    `INSERT INTO examples (dataset_id, ordinal, external_id, text, language, labels, words,
       rationale_mask, rationale_spans, annotators, meta)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const getOne = db.prepare(`${SELECT_DATASET} WHERE d.id = ?`);
  const getAll = db.prepare(`${SELECT_DATASET} ORDER BY d.id`);
  const page = db.prepare(`SELECT * FROM examples WHERE dataset_id = ? ORDER BY ordinal LIMIT ? OFFSET ?`);
  const oneExample = db.prepare(`SELECT * FROM examples WHERE id = ?`);
  const runsUsing = db.prepare(`SELECT count(*) AS n FROM runs WHERE dataset_id = ?`);
  const del = db.prepare(`DELETE FROM datasets WHERE id = ?`);

  const insert = db.transaction((parsed: ParsedDataset): number => {
    if (typeof parsed?.name !== 'string' || parsed.name === '') {
      throw new StoreError('dataset: field "name" must be a non-empty string');
    }
    if (!Array.isArray(parsed.examples)) throw new StoreError(`dataset "${parsed.name}": field "examples" must be a list`);
    const id = Number(
      insertDataset.run(
        parsed.name,
        parsed.format,
        parsed.sourcePath,
        parsed.sourceSha256,
        parsed.language,
        JSON.stringify(parsed.labelSet ?? []),
        nowIso(),
      ).lastInsertRowid,
    );
    parsed.examples.forEach((ex, i) => {
      checkExample(parsed.name, i, ex);
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
        throw new StoreError(`dataset "${parsed.name}": example ${i} (id "${ex.externalId}"): ${(e as Error).message}`);
      }
    });
    return id;
  });

  return {
    insert: (parsed) => insert.immediate(parsed),
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
    delete: db.transaction((id: number): boolean => {
      const { n } = runsUsing.get(id) as { n: number };
      if (n > 0) throw new StoreError(`dataset ${id} is used by ${n} run(s); delete those runs first`);
      return del.run(id).changes > 0;
    }),
  };
}
