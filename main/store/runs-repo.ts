import type { Db } from './db';
import { nowIso } from './json';
import { heldByAnotherProcess, isLive, LeaseHeldError, type Lease, type LeaseRecord, type LeasesRepo } from './leases';
import { STORED_RUN_STATUSES, StoreError, type RunInput, type RunRecord, type StoredRunStatus } from './types';
import { retryBusy, writeTransaction } from './write';
import { nameProblem } from './names';

interface RunRow {
  id: number;
  study_id: number;
  model_id: number;
  dataset_id: number;
  seed: number;
  status: StoredRunStatus;
  progress_done: number;
  progress_total: number;
  app_version: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  timings: string;
  error: string | null;
  name: string | null;
  /** From the run's lease (LEFT JOIN): absent when no process has leased the run since it last finished. */
  lease_host: string | null;
  lease_pid: number | null;
  lease_expires_ms: number | null;
}

export interface RunsRepo {
  /** A new run in status 'queued'. The study, model and dataset must exist. */
  create(run: RunInput): number;
  get(id: number): RunRecord | undefined;
  list(filter?: { studyId?: number; datasetId?: number; modelId?: number }): RunRecord[];
  /**
   * Any status change except out of 'done'. 'running' stamps startedAt the first time. ('interrupted' is derived,
   * never set.) setStatus, finish and delete are refused (LeaseHeldError) while another live process runs the run.
   */
  setStatus(id: number, status: StoredRunStatus, error?: string | null): void;
  /**
   * Leases the run to this process and marks it running, in one transaction. Throws LeaseHeldError (naming the
   * process and since when) while another live process has it, and StoreError for a done run. The lease ends
   * with finish() (or lease.release()/abandon()); keep it alive with lease.startHeartbeat().
   */
  claim(id: number): Lease;
  /** The run's lease, if one is recorded (live or not). */
  lease(id: number): LeaseRecord | undefined;
  /** Sets progress explicitly; note that results.put already keeps `done` equal to the stored results. */
  setProgress(id: number, done: number, total?: number): void;
  /** Ends a run: status done|failed|stopped, finishedAt stamped, timings stored (replacing earlier ones), its lease released. */
  finish(id: number, end: { status?: 'done' | 'failed' | 'stopped'; timings?: Record<string, unknown>; error?: string | null }): void;
  /** Deletes the run with its results and metrics (and its lease). */
  delete(id: number): boolean;

  // ---- housekeeping (issue 12 item 6); deleting with what goes with it is deletions-repo.ts ----
  /** Names the run (names.ts); returns the renamed record. */
  rename(id: number, name: string): RunRecord;
}

/** The one rule for 'interrupted': stored as running, and the lease of the process running it is over. */
function statusOf(r: RunRow): RunRecord['status'] {
  if (r.status !== 'running' || r.lease_expires_ms === null) return r.status;
  return isLive({ host: r.lease_host!, pid: r.lease_pid!, expires_ms: r.lease_expires_ms }) ? 'running' : 'interrupted';
}

function toRecord(r: RunRow): RunRecord {
  return {
    id: r.id,
    studyId: r.study_id,
    modelId: r.model_id,
    datasetId: r.dataset_id,
    seed: r.seed,
    status: statusOf(r),
    progress: { done: r.progress_done, total: r.progress_total },
    appVersion: r.app_version,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    timings: JSON.parse(r.timings),
    error: r.error,
    name: r.name ?? null,
  };
}

const SELECT_RUN = `SELECT r.*, l.host AS lease_host, l.pid AS lease_pid, l.expires_ms AS lease_expires_ms
  FROM runs r LEFT JOIN leases l ON l.kind = 'run' AND l.target_id = r.id`;

export function runsRepo(db: Db, leases: LeasesRepo): RunsRepo {
  const insert = db.prepare(
    `INSERT INTO runs (study_id, model_id, dataset_id, seed, progress_total, app_version, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const byId = db.prepare(`${SELECT_RUN} WHERE r.id = ?`);
  const filtered = db.prepare(
    `${SELECT_RUN} WHERE (@studyId IS NULL OR r.study_id = @studyId)
       AND (@datasetId IS NULL OR r.dataset_id = @datasetId) AND (@modelId IS NULL OR r.model_id = @modelId)
     ORDER BY r.id`,
  );
  const exists = (table: 'studies' | 'models' | 'datasets', id: number) =>
    db.prepare(`SELECT 1 FROM ${table} WHERE id = ?`).get(id) !== undefined;
  const status = db.prepare(
    `UPDATE runs SET status = ?, error = ?, started_at = CASE WHEN ? = 'running' THEN coalesce(started_at, ?) ELSE started_at END
     WHERE id = ?`,
  );
  const progress = db.prepare(`UPDATE runs SET progress_done = ?, progress_total = coalesce(?, progress_total) WHERE id = ?`);
  const finish = db.prepare(
    `UPDATE runs SET status = ?, finished_at = ?, timings = coalesce(?, timings), error = ? WHERE id = ?`,
  );
  const del = db.prepare(`DELETE FROM runs WHERE id = ?`);
  const dropLease = db.prepare(`DELETE FROM leases WHERE kind = 'run' AND target_id = ?`);
  const rename = db.prepare(`UPDATE runs SET name = ? WHERE id = ?`);

  const current = (id: number): RunRow => {
    const r = byId.get(id) as RunRow | undefined;
    if (!r) throw new StoreError(`run ${id} does not exist`);
    return r;
  };
  const checkChange = (r: RunRow, to: StoredRunStatus) => {
    if (!STORED_RUN_STATUSES.includes(to)) throw new StoreError(`run ${r.id}: status "${to}" is not one of ${STORED_RUN_STATUSES.join('|')}`);
    if (r.status === 'done' && to !== 'done') throw new StoreError(`run ${r.id} is done; its status cannot change to "${to}"`);
  };

  // Another live process is running the run: its status is that process's to change (stop it there).
  const notHeldElsewhere = (id: number) => {
    const l = leases.get('run', id);
    if (l && heldByAnotherProcess(l)) throw new LeaseHeldError(`run ${id}`, l);
  };

  const claim = writeTransaction(db, 'run claim', (id: number): Lease => {
    checkChange(current(id), 'running');
    const lease = leases.acquire('run', id, `run ${id}`);
    status.run('running', null, 'running', nowIso(), id);
    return lease;
  });

  return {
    create(run) {
      const refs = [['studies', 'studyId', 'study'], ['models', 'modelId', 'model'], ['datasets', 'datasetId', 'dataset']] as const;
      for (const [table, key, noun] of refs) {
        if (!exists(table, run[key])) throw new StoreError(`run: field "${key}": ${noun} ${run[key]} does not exist`);
      }
      if (!Number.isInteger(run.seed)) throw new StoreError(`run: field "seed" must be an integer, got ${run.seed}`);
      const total = run.total ?? 0;
      if (!Number.isInteger(total) || total < 0) throw new StoreError(`run: field "total" must be a non-negative integer`);
      return retryBusy(db, 'run create', () => Number(insert.run(run.studyId, run.modelId, run.datasetId, run.seed, total, run.appVersion, nowIso()).lastInsertRowid));
    },
    get(id) {
      const r = byId.get(id) as RunRow | undefined;
      return r && toRecord(r);
    },
    list: (f = {}) =>
      (filtered.all({ studyId: f.studyId ?? null, datasetId: f.datasetId ?? null, modelId: f.modelId ?? null }) as RunRow[]).map(toRecord),
    setStatus: writeTransaction(db, 'run status', (id: number, to: StoredRunStatus, error: string | null = null) => {
      checkChange(current(id), to);
      notHeldElsewhere(id);
      status.run(to, error, to, nowIso(), id);
    }),
    claim,
    lease: (id) => leases.get('run', id),
    setProgress(id, done, total) {
      if (!Number.isInteger(done) || done < 0) throw new StoreError(`run ${id}: progress done must be a non-negative integer`);
      if (retryBusy(db, 'run progress', () => progress.run(done, total ?? null, id).changes) === 0) throw new StoreError(`run ${id} does not exist`);
    },
    finish: writeTransaction(db, 'run finish', (id: number, end: Parameters<RunsRepo['finish']>[1]) => {
      const to = end.status ?? 'done';
      if (!['done', 'failed', 'stopped'].includes(to)) throw new StoreError(`run ${id}: finish status must be done|failed|stopped`);
      checkChange(current(id), to);
      notHeldElsewhere(id);
      finish.run(to, nowIso(), end.timings ? JSON.stringify(end.timings) : null, end.error ?? null, id);
      dropLease.run(id);
    }),
    delete: writeTransaction(db, 'run delete', (id: number) => {
      notHeldElsewhere(id);
      dropLease.run(id);
      return del.run(id).changes > 0;
    }),
    // ---- housekeeping (issue 12 item 6) ----
    rename(id, name) {
      const problem = nameProblem(name);
      if (problem) throw new StoreError(`run ${id}: field "name" ${problem}`);
      if (retryBusy(db, 'run rename', () => rename.run(name.trim(), id).changes) === 0) throw new StoreError(`run ${id} does not exist`);
      return toRecord(current(id));
    },
  };
}
