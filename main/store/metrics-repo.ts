import type { Db } from './db';
import { canonicalJson } from './json';
import { StoreError, type MetricInput, type MetricRecord } from './types';
import { writeTransaction } from './write';

interface MetricRow {
  id: number;
  run_id: number;
  scope: string;
  name: string;
  value: number | null;
  ci_low: number | null;
  ci_high: number | null;
  n: number | null;
}

export interface MetricsRepo {
  /** Replaces ALL metrics of the run with `rows` in one transaction (metrics are always recomputed as a set). */
  replace(runId: number, rows: MetricInput[]): void;
  list(runId: number): MetricRecord[];
}

export function metricsRepo(db: Db): MetricsRepo {
  const runExists = db.prepare(`SELECT 1 FROM runs WHERE id = ?`);
  const clear = db.prepare(`DELETE FROM metrics WHERE run_id = ?`);
  const insert = db.prepare(
    `INSERT INTO metrics (run_id, scope, name, value, ci_low, ci_high, n) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const byRun = db.prepare(`SELECT * FROM metrics WHERE run_id = ? ORDER BY id`);

  const replace = writeTransaction(db, 'metrics replace', (runId: number, rows: MetricInput[]) => {
    if (!runExists.get(runId)) throw new StoreError(`metrics: run ${runId} does not exist`);
    clear.run(runId);
    rows.forEach((m, i) => {
      const num = (v: number | null | undefined, field: string) => {
        if (v === undefined || v === null) return null;
        // NaN would silently become NULL in SQLite; make the caller say "undefined" explicitly.
        if (!Number.isFinite(v)) throw new StoreError(`metrics[${i}] (${m.name}): field "${field}" must be finite or null, got ${v}`);
        return v;
      };
      if (typeof m.name !== 'string' || m.name === '') throw new StoreError(`metrics[${i}]: field "name" must be a non-empty string`);
      if (m.n !== undefined && m.n !== null && (!Number.isInteger(m.n) || m.n < 0)) {
        throw new StoreError(`metrics[${i}] (${m.name}): field "n" must be a non-negative integer`);
      }
      insert.run(runId, canonicalJson(m.scope ?? {}), m.name, num(m.value, 'value'), num(m.ciLow, 'ciLow'), num(m.ciHigh, 'ciHigh'), m.n ?? null);
    });
  });

  return {
    replace: (runId, rows) => replace(runId, rows),
    list: (runId) =>
      (byRun.all(runId) as MetricRow[]).map((r) => ({
        id: r.id,
        runId: r.run_id,
        scope: JSON.parse(r.scope),
        name: r.name,
        value: r.value,
        ciLow: r.ci_low,
        ciHigh: r.ci_high,
        n: r.n,
      })),
  };
}
