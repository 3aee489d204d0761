/**
 * The store's records of queue runs (migration v8): which runs are computed on workers, their job-id part,
 * why one waits, and per (run, worker) what each worker did for it or that it lacks the run's model. The
 * Run monitor reads queueStatus(); the owner writes (queue/owner.ts).
 */
import { retryBusy, type Store } from '../store';

const nowIsoUtc = () => new Date().toISOString();

export interface QueueRunRecord {
  runId: number;
  /** The queue's URL without its password. */
  queue: string;
  jobPrefix: string;
  modelSha256: string;
  /** Why the run is waiting, e.g. no live worker has its model; null while workers compute it. */
  note: string | null;
  updatedAt: string;
}

export interface QueueWorkerRecord {
  runId: number;
  worker: string;
  host: string;
  /** false: the worker is live but lacks the run's model (it said so). */
  hasModel: boolean;
  /** Examples of the run this worker computed (results stored), and its failed attempts. */
  done: number;
  failed: number;
  /** Time the worker spent on the run's examples. */
  busyMs: number;
  lastSeenAt: string;
}

export interface QueueStatus {
  run: QueueRunRecord;
  workers: QueueWorkerRecord[];
}

interface RunRow { run_id: number; queue: string; job_prefix: string; model_sha256: string; note: string | null; updated_at: string }
interface WorkerRow { run_id: number; worker: string; host: string; has_model: number; done: number; failed: number; busy_ms: number; last_seen_at: string }

export function queueRun(store: Store, runId: number): QueueRunRecord | undefined {
  const r = store.db.prepare(`SELECT * FROM queue_runs WHERE run_id = ?`).get(runId) as RunRow | undefined;
  return r && { runId: r.run_id, queue: r.queue, jobPrefix: r.job_prefix, modelSha256: r.model_sha256, note: r.note, updatedAt: r.updated_at };
}

/** The run's queue record and its workers (undefined: the run is not computed on a queue). */
export function queueStatus(store: Store, runId: number): QueueStatus | undefined {
  const run = queueRun(store, runId);
  if (!run) return undefined;
  const rows = store.db.prepare(`SELECT * FROM queue_workers WHERE run_id = ? ORDER BY worker`).all(runId) as WorkerRow[];
  return {
    run,
    workers: rows.map((w) => ({ runId: w.run_id, worker: w.worker, host: w.host, hasModel: w.has_model === 1, done: w.done, failed: w.failed, busyMs: w.busy_ms, lastSeenAt: w.last_seen_at })),
  };
}

/** The run's queue record, made with `jobPrefix` the first time; an existing one keeps its prefix (resume). */
export function ensureQueueRun(store: Store, runId: number, queue: string, jobPrefix: string, modelSha256: string): QueueRunRecord {
  retryBusy(store.db, 'queue run', () => store.db
    .prepare(`INSERT INTO queue_runs (run_id, queue, job_prefix, model_sha256, note, updated_at) VALUES (?, ?, ?, ?, NULL, ?)
      ON CONFLICT (run_id) DO UPDATE SET queue = excluded.queue, updated_at = excluded.updated_at`)
    .run(runId, queue, jobPrefix, modelSha256, nowIsoUtc()));
  return queueRun(store, runId)!;
}

export function setQueueNote(store: Store, runId: number, note: string | null): void {
  retryBusy(store.db, 'queue note', () => store.db.prepare(`UPDATE queue_runs SET note = ?, updated_at = ? WHERE run_id = ?`).run(note, nowIsoUtc(), runId));
}

/** A worker seen for the run: has or lacks its model. */
export function sawWorker(store: Store, runId: number, w: { id: string; host: string; hasModel: boolean }): void {
  retryBusy(store.db, 'queue worker', () => store.db
    .prepare(`INSERT INTO queue_workers (run_id, worker, host, has_model, last_seen_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (run_id, worker) DO UPDATE SET host = excluded.host, has_model = excluded.has_model, last_seen_at = excluded.last_seen_at`)
    .run(runId, w.id, w.host, w.hasModel ? 1 : 0, nowIsoUtc()));
}

/** One more example of the run done (or one failed attempt) by the worker. */
export function countWorker(store: Store, runId: number, w: { id: string; host: string }, what: { done?: number; failed?: number; busyMs?: number }): void {
  retryBusy(store.db, 'queue worker count', () => store.db
    .prepare(`INSERT INTO queue_workers (run_id, worker, host, has_model, done, failed, busy_ms, last_seen_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?)
      ON CONFLICT (run_id, worker) DO UPDATE SET has_model = 1, done = done + excluded.done, failed = failed + excluded.failed,
        busy_ms = busy_ms + excluded.busy_ms, last_seen_at = excluded.last_seen_at`)
    .run(runId, w.id, w.host, what.done ?? 0, what.failed ?? 0, what.busyMs ?? 0, nowIsoUtc()));
}
