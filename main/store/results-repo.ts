import { decodeFloat32, encodeFloat32 } from './blob';
import type { Db } from './db';
import { fromJson, nowIso, toJson } from './json';
import { StoreError, type RelevanceRecord, type ResultInput, type ResultRecord } from './types';
import { writeTransaction } from './write';

interface ResultRow {
  id: number;
  run_id: number;
  example_id: number;
  raw_outputs: string;
  label: string | null;
  correct: number | null;
  answer_token: string | null;
  answer_prob: number | null;
  option_probs: string | null;
  self_explanation: string | null;
  alignment: string | null;
  tokens: string | null;
  masks: string | null;
  skipped_reason: string | null;
  created_at: string;
}

interface RelevanceRow {
  result_id: number;
  method: string;
  relevance: Buffer;
  explained_value: number | null;
  meta: string | null;
}

export interface ResultsRepo {
  /**
   * Stores one finished example in its own transaction, with its relevance vectors, and sets the
   * run's progress.done to the number of stored results. A second put for the same (run, example)
   * REPLACES the earlier result atomically (old row and its relevance vectors go, new ones come in
   * the same transaction), so re-running an example on resume is idempotent.
   * A skipped example (skippedReason set) counts as done. Returns the result id.
   */
  put(runId: number, exampleId: number, result: ResultInput): number;
  get(runId: number, exampleId: number): ResultRecord | undefined;
  /** Results of a run in example order; `relevance: false` skips loading the vectors. */
  list(runId: number, options?: { relevance?: boolean }): ResultRecord[];
  /** Example ids with a stored result (the ones a resumed run must not redo), ascending. */
  doneExampleIds(runId: number): number[];
}

const finiteOrNull = (v: number | null | undefined, what: string): number | null => {
  if (v === undefined || v === null) return null;
  if (!Number.isFinite(v)) throw new StoreError(`${what} must be a finite number or null, got ${v}`);
  return v;
};

export function resultsRepo(db: Db): ResultsRepo {
  const runDataset = db.prepare(`SELECT dataset_id FROM runs WHERE id = ?`);
  const exampleDataset = db.prepare(`SELECT dataset_id FROM examples WHERE id = ?`);
  const remove = db.prepare(`DELETE FROM results WHERE run_id = ? AND example_id = ?`);
  const insert = db.prepare(
    `INSERT INTO results (run_id, example_id, raw_outputs, label, correct, answer_token, answer_prob,
       option_probs, self_explanation, alignment, tokens, masks, skipped_reason, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertRel = db.prepare(
    `INSERT INTO result_relevance (result_id, method, relevance, explained_value, meta) VALUES (?, ?, ?, ?, ?)`,
  );
  const syncProgress = db.prepare(
    `UPDATE runs SET progress_done = (SELECT count(*) FROM results WHERE run_id = ?) WHERE id = ?`,
  );
  const one = db.prepare(`SELECT * FROM results WHERE run_id = ? AND example_id = ?`);
  const byRun = db.prepare(
    `SELECT r.* FROM results r JOIN examples e ON e.id = r.example_id WHERE r.run_id = ? ORDER BY e.ordinal, r.example_id`,
  );
  const relOf = db.prepare(`SELECT * FROM result_relevance WHERE result_id = ? ORDER BY id`);
  const relOfRun = db.prepare(
    `SELECT rr.* FROM result_relevance rr JOIN results r ON r.id = rr.result_id WHERE r.run_id = ? ORDER BY rr.id`,
  );
  const done = db.prepare(`SELECT example_id FROM results WHERE run_id = ? ORDER BY example_id`).pluck();

  const toRel = (r: RelevanceRow): RelevanceRecord => ({
    method: r.method,
    values: decodeFloat32(r.relevance),
    explainedValue: r.explained_value,
    meta: fromJson(r.meta),
  });
  const toRecord = (r: ResultRow, relevance: RelevanceRecord[]): ResultRecord => ({
    id: r.id,
    runId: r.run_id,
    exampleId: r.example_id,
    rawOutputs: JSON.parse(r.raw_outputs),
    label: r.label,
    correct: r.correct === null ? null : r.correct === 1,
    answerToken: r.answer_token,
    answerProb: r.answer_prob,
    optionProbs: fromJson(r.option_probs),
    selfExplanation: fromJson(r.self_explanation),
    alignment: fromJson(r.alignment),
    tokens: fromJson(r.tokens),
    masks: fromJson(r.masks),
    skippedReason: r.skipped_reason,
    createdAt: r.created_at,
    relevance,
  });

  const put = writeTransaction(db, 'result put', (runId: number, exampleId: number, res: ResultInput): number => {
    const where = `result (run ${runId}, example ${exampleId})`;
    const run = runDataset.get(runId) as { dataset_id: number } | undefined;
    if (!run) throw new StoreError(`${where}: run ${runId} does not exist`);
    const ex = exampleDataset.get(exampleId) as { dataset_id: number } | undefined;
    if (!ex) throw new StoreError(`${where}: example ${exampleId} does not exist`);
    if (ex.dataset_id !== run.dataset_id) {
      throw new StoreError(`${where}: example belongs to dataset ${ex.dataset_id}, the run to dataset ${run.dataset_id}`);
    }
    if (res.label === null && !res.skippedReason) {
      throw new StoreError(`${where}: field "label" is null but no "skippedReason" is given`);
    }
    if (res.rawOutputs === null || typeof res.rawOutputs !== 'object') {
      throw new StoreError(`${where}: field "rawOutputs" must be an object`);
    }
    const methods = new Set<string>();
    for (const r of res.relevance ?? []) {
      if (methods.has(r.method)) throw new StoreError(`${where}: relevance method "${r.method}" given twice`);
      methods.add(r.method);
    }
    remove.run(runId, exampleId);
    const id = Number(
      insert.run(
        runId,
        exampleId,
        JSON.stringify(res.rawOutputs),
        res.label,
        res.correct === undefined || res.correct === null ? null : res.correct ? 1 : 0,
        res.answerToken ?? null,
        finiteOrNull(res.answerProb, `${where}: field "answerProb"`),
        toJson(res.optionProbs),
        toJson(res.selfExplanation),
        toJson(res.alignment),
        toJson(res.tokens),
        toJson(res.masks),
        res.skippedReason ?? null,
        nowIso(),
      ).lastInsertRowid,
    );
    for (const r of res.relevance ?? []) {
      insertRel.run(
        id,
        r.method,
        encodeFloat32(r.values),
        finiteOrNull(r.explainedValue, `${where}: relevance "${r.method}" explainedValue`),
        toJson(r.meta),
      );
    }
    syncProgress.run(runId, runId);
    return id;
  });

  return {
    put: (runId, exampleId, result) => put(runId, exampleId, result),
    get(runId, exampleId) {
      const r = one.get(runId, exampleId) as ResultRow | undefined;
      return r && toRecord(r, (relOf.all(r.id) as RelevanceRow[]).map(toRel));
    },
    list(runId, { relevance = true } = {}) {
      const rels = new Map<number, RelevanceRecord[]>();
      if (relevance) {
        for (const rr of relOfRun.all(runId) as RelevanceRow[]) {
          const list = rels.get(rr.result_id) ?? [];
          list.push(toRel(rr));
          rels.set(rr.result_id, list);
        }
      }
      return (byRun.all(runId) as ResultRow[]).map((r) => toRecord(r, rels.get(r.id) ?? []));
    },
    doneExampleIds: (runId) => done.all(runId) as number[],
  };
}
