/**
 * The study's owner on a queue: runStudies prepares the study exactly as for a local run (validation, the
 * stored study, its runs), then this executor enqueues one job per (model, seed, example) not yet stored,
 * and writes each result into the owner's SQLite file as it arrives (results.put: one transaction per
 * example). It holds each run's lease like a local run, so progress, ETA, pause (the signal), resume and
 * "interrupted" mean the same.
 *
 * Exactly once: job ids are deterministic (`<run's job prefix>-<run>-<example>`, the prefix kept in the
 * store), so an owner restarted with --resume finds its jobs (finished ones are collected, pending ones are
 * not added twice); a result is stored only when its example has none yet, then its job is removed.
 * A job that fails for good (its attempts spent, or stalled too often: a poisoned example) is stored as a
 * skipped example with BullMQ's reason (skippedReason "worker-failed"), and the study goes on.
 *
 * A model no live worker has: the runs wait, with the reason stored (queue_runs.note, the runs' error
 * field stays empty), and fail with it when no worker with the model has come for `noWorkerTimeoutMs`.
 */
import { randomBytes } from 'node:crypto';
import type { Job, Queue } from 'bullmq';
import type { Redis, RedisOptions as RedisClientOptions } from 'ioredis';
import { modelName } from '../metrics/run-metrics';
import { sha256File } from '../models/registry';
import { thinkingOf } from '../protocol';
import { finalizeRun, type ModelRuns, type ModelRunsExecutor, type StudyRunOptions } from '../runner';
import { ProgressReporter } from '../runner/progress';
import { writeTransaction, type Lease, type Store, type StoredExample } from '../store';
import { JOB_VERSION, jobConfig } from './job';
import { BULL_PREFIX, listWorkers, queueNameFor, wantModel } from './registry';
import { decodeReturn } from './result';
import { countWorker, ensureQueueRun, sawWorker, setQueueNote } from './status-repo';
import type { QueueAddress } from './url';

export interface OwnerOptions {
  address: QueueAddress;
  /** Attempts per job before it fails for good (a throwing example); default 3. */
  attempts?: number;
  /** Fail a model's runs when no live worker has had the model for this long; default 10 minutes. */
  noWorkerTimeoutMs?: number;
  /** How often finished jobs are looked for; default 200 ms. */
  pollMs?: number;
}

export const WORKER_FAILED = 'worker-failed';

interface QRun {
  runId: number;
  seed: number;
  mr: ModelRuns;
  sha256: string;
  prefix: string;
  lease: Lease;
  heartbeat: { stop(): void };
  lost: boolean;
  examples: StoredExample[];
  /** job id -> example, for the examples without a stored result */
  pending: Map<string, StoredExample>;
  state: { label: string; done: number; total: number; doneHere: number; startedMs: number };
  timings: Record<string, number>;
  /** Per collected job: its worker, when BullMQ gave it to the worker and marked it done, the pipeline's own ms. */
  jobTimes: { worker: string; taken: number; finished: number; ms: number }[];
  ended: boolean;
}

/**
 * The queue's own time per job, from BullMQ's timestamps: in the job (taken to finished, less the pipeline's
 * time and the model's opening: parsing, encoding, the lock) and between one worker's consecutive jobs (moving
 * the last to completed, fetching the next); and the steady rate, once every worker has done its first job.
 * Stored with the run's timings; the bench reports it.
 */
export function queueTimes(jobs: QRun['jobTimes']): { jobs: number; inJobMs: number; betweenJobsMs: number | null; steady: { jobs: number; ms: number } | null } {
  const inJob = jobs.reduce((a, j) => a + Math.max(0, j.finished - j.taken - j.ms), 0);
  const gaps: number[] = [];
  const byWorker = new Map<string, QRun['jobTimes']>();
  for (const j of jobs) byWorker.set(j.worker, [...(byWorker.get(j.worker) ?? []), j]);
  for (const list of byWorker.values()) {
    list.sort((a, b) => a.taken - b.taken);
    for (let i = 1; i < list.length; i++) gaps.push(Math.max(0, list[i].taken - list[i - 1].finished));
  }
  // steady state: the jobs finished after every worker had finished its first (each loads the model on its first)
  const start = Math.max(...[...byWorker.values()].map((l) => l[0].finished));
  const after = jobs.filter((j) => j.finished > start);
  const last = Math.max(...jobs.map((j) => j.finished));
  const steady = after.length ? { jobs: after.length, ms: last - start } : null;
  return { jobs: jobs.length, inJobMs: jobs.length ? inJob / jobs.length : 0, betweenJobsMs: gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : null, steady };
}

const jobId = (prefix: string, runId: number, exampleId: number) => `${prefix}-${runId}-${exampleId}`;

/** The executor runStudies hands a study's model runs to (StudyRunOptions.executor). */
export function queueExecutor(o: OwnerOptions): ModelRunsExecutor {
  return (store, models, opts) => collect(store, models, opts, o);
}

async function modelSha(store: Store, mr: ModelRuns, runId: number): Promise<string> {
  const rec = store.models.get(store.runs.get(runId)!.modelId);
  return rec?.sha256 ?? sha256File(mr.file);
}

async function collect(store: Store, models: ModelRuns[], opts: StudyRunOptions & { log: (l: string) => void }, o: OwnerOptions): Promise<void> {
  const { log } = opts;
  const { Queue } = await import('bullmq');
  const { Redis: RedisClient } = await import('ioredis');
  const redis: Redis = new RedisClient({ ...(o.address.connection as RedisClientOptions), lazyConnect: true, maxRetriesPerRequest: 3 });
  redis.on('error', () => {});
  await redis.connect().catch((e: unknown) => {
    redis.disconnect(); // no reconnection attempts left running behind the error
    throw new Error(`queue ${o.address.display}: cannot connect: ${e instanceof Error ? e.message : String(e)}`);
  });
  const queues = new Map<string, Queue>();
  const queueOf = (sha: string): Queue => {
    let q = queues.get(sha);
    if (!q) {
      q = new Queue(queueNameFor(sha), { connection: o.address.connection, prefix: BULL_PREFIX });
      q.on('error', () => {});
      queues.set(sha, q);
    }
    return q;
  };
  const attempts = o.attempts ?? 3;
  const runs: QRun[] = [];
  const signal = opts.signal;
  try {
    // ---- enqueue: every run's missing examples, each one job with a deterministic id ----
    for (const mr of models) {
      for (const { seed, runId } of mr.seeds) {
        if (signal?.aborted) break;
        const sha = await modelSha(store, mr, runId);
        // refused here while another process runs the run (as a local run is)
        const lease = store.runs.claim(runId);
        const q: QRun = {
          runId, seed, mr, sha256: sha, prefix: '', lease, heartbeat: { stop() {} }, lost: false, examples: [], pending: new Map(),
          state: { label: `${mr.label} · ${modelName(mr.file)} · seed ${seed}`, done: 0, total: 0, doneHere: 0, startedMs: Date.now() },
          timings: {}, jobTimes: [], ended: false,
        };
        runs.push(q);
        q.heartbeat = lease.startHeartbeat(() => (q.lost = true));
        q.prefix = ensureQueueRun(store, runId, o.address.display, randomBytes(6).toString('hex'), sha).jobPrefix;
        const run = store.runs.get(runId)!;
        let examples = store.datasets.examples(run.datasetId);
        if (mr.config.limits.maxExamples !== undefined) examples = examples.slice(0, mr.config.limits.maxExamples);
        q.examples = examples;
        const done = new Set(store.results.doneExampleIds(runId));
        for (const ex of examples) if (!done.has(ex.id)) q.pending.set(jobId(q.prefix, runId, ex.id), ex);
        q.state.total = examples.length;
        q.state.done = examples.length - q.pending.size;
        store.runs.setProgress(runId, done.size, examples.length);
        if (q.state.done) log(`${q.state.label}: resuming, ${q.state.done} of ${q.state.total} examples already stored`);
        await wantModel(redis, sha, modelName(mr.file));
        const jobs = [...q.pending].map(([id, example]) => ({
          name: 'example',
          data: jobData(q, example),
          opts: { jobId: id, attempts, removeOnComplete: false, removeOnFail: false },
        }));
        // an id already on the queue (an owner restarted) is not added again: BullMQ keeps the existing job
        for (let i = 0; i < jobs.length; i += 200) await queueOf(sha).addBulk(jobs.slice(i, i + 200));
        log(`${q.state.label}: ${jobs.length} example job${jobs.length === 1 ? '' : 's'} on ${o.address.display}`);
      }
    }

    // ---- collect: results as they arrive, until every run is stored or the signal stops us ----
    const reporter = new ProgressReporter(log);
    const noWorkerSince = new Map<string, number>();
    let lastWorkers = 0;
    const pollMs = o.pollMs ?? 200;
    for (const q of runs) reporter.update(q.state, true);
    let lastSweep = 0;
    while (runs.some((q) => !q.ended)) {
      if (signal?.aborted) break;
      const sweep = Date.now() - lastSweep > 5_000;
      if (sweep) lastSweep = Date.now();
      for (const q of runs) {
        if (q.ended) continue;
        if (q.lost) throw new Error(`run ${q.runId}: this process's lease on the run ended (another process may have taken it over)`);
        await collectRun(store, redis, q, queueOf(q.sha256), attempts, log, sweep);
        reporter.update(q.state);
        if (q.pending.size === 0) {
          q.ended = true;
          reporter.update(q.state, true);
          const wallMs = Date.now() - q.state.startedMs;
          finalizeRun(store, q.runId, { ...q.timings, wallMs, threads: q.mr.threads, thinking: thinkingOf(q.mr.template), queue: o.address.display, queueTimes: queueTimes(q.jobTimes), ...(q.mr.defs ? { indicatorDefinitions: { source: q.mr.defs.source, name: q.mr.defs.name, sha256: q.mr.defs.sha256 } } : {}) });
          q.heartbeat.stop();
          q.mr.report.runs.push({ runId: q.runId, model: modelName(q.mr.file), seed: q.seed, outcome: { status: 'done', processed: q.state.doneHere, resumed: q.state.total - q.state.doneHere, total: q.state.total, timings: q.timings, wallMs } });
        }
      }
      // ---- workers: who has each waiting run's model, who lacks it (stored for the Run monitor) ----
      if (Date.now() - lastWorkers > 1_000) {
        lastWorkers = Date.now();
        const workers = await listWorkers(redis);
        for (const q of runs) {
          if (q.ended) continue;
          for (const w of workers) {
            const has = w.models.some((m) => m.sha256 === q.sha256);
            if (has || w.lacks.some((m) => m.sha256 === q.sha256)) sawWorker(store, q.runId, { id: w.id, host: w.host, hasModel: has });
          }
          await wantModel(redis, q.sha256, modelName(q.mr.file));
          const any = workers.some((w) => w.models.some((m) => m.sha256 === q.sha256));
          if (any) {
            if (noWorkerSince.delete(q.sha256)) log(`${q.state.label}: a worker with the model is here`);
            setQueueNote(store, q.runId, null);
            continue;
          }
          const lacking = workers.filter((w) => w.lacks.some((m) => m.sha256 === q.sha256)).map((w) => w.id);
          const why = `no live worker has model ${modelName(q.mr.file)} (sha256 ${q.sha256})${lacking.length ? `; ${lacking.join(', ')} lack${lacking.length === 1 ? 's' : ''} it` : ''}`;
          if (!noWorkerSince.has(q.sha256)) {
            noWorkerSince.set(q.sha256, Date.now());
            log(`${q.state.label}: waiting: ${why}`);
          }
          setQueueNote(store, q.runId, `waiting: ${why}`);
          const timeout = o.noWorkerTimeoutMs ?? 600_000;
          if (Date.now() - noWorkerSince.get(q.sha256)! > timeout) {
            const msg = `${why} (waited ${Math.round(timeout / 1000)} s)`;
            await removeWaiting(queueOf(q.sha256), q);
            endRun(store, q, 'failed', msg);
            q.mr.report.runs.push({ runId: q.runId, model: modelName(q.mr.file), seed: q.seed, outcome: { status: 'failed', processed: q.state.doneHere, resumed: q.state.total - q.state.doneHere - q.pending.size, total: q.state.total, timings: q.timings, wallMs: Date.now() - q.state.startedMs, error: msg } });
            log(`${q.state.label}: failed: ${msg}`);
          }
        }
      }
      if (runs.some((q) => !q.ended)) await sleep(pollMs, signal);
    }
    if (signal?.aborted) {
      // pause / Ctrl-C: jobs not started yet leave the queue; a job in a worker's hands finishes there and is
      // collected on resume (its id is kept)
      for (const q of runs) {
        if (q.ended) continue;
        await removeWaiting(queueOf(q.sha256), q);
        endRun(store, q, 'stopped');
        q.mr.report.runs.push({ runId: q.runId, model: modelName(q.mr.file), seed: q.seed, outcome: { status: 'stopped', processed: q.state.doneHere, resumed: q.state.total - q.state.doneHere - q.pending.size, total: q.state.total, timings: q.timings, wallMs: Date.now() - q.state.startedMs } });
        log(`${q.state.label}: stopped after ${q.state.done}/${q.state.total}; continue with --resume (jobs in workers' hands are collected then)`);
      }
    }
    // as a local run's failure (runner/study.ts runModel): the study ends with the reason, every run's stored
    const failed = runs.map((q) => store.runs.get(q.runId)!).filter((r) => r.status === 'failed');
    if (failed.length) throw new Error(failed.map((r) => `run ${r.id} failed: ${r.error}`).join('; '));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    for (const q of runs) if (!q.ended && !q.lost) endRun(store, q, 'failed', `queue: ${msg}`);
    throw e;
  } finally {
    for (const q of runs) q.heartbeat.stop();
    await Promise.all([...queues.values()].map((q) => q.close().catch(() => {})));
    redis.disconnect();
  }
}

function endRun(store: Store, q: QRun, status: 'failed' | 'stopped', error?: string): void {
  q.ended = true;
  q.heartbeat.stop();
  try {
    store.runs.finish(q.runId, { status, error: error ?? null, timings: { ...q.timings, wallMs: Date.now() - q.state.startedMs } });
  } catch {
    // the store refused (another process took the run over): its status is that process's
  }
}

/** Jobs of the run no worker has started: removed (a job in a worker's hands is locked and stays). */
async function removeWaiting(queue: Queue, q: QRun): Promise<void> {
  for (const id of q.pending.keys()) {
    const job = await queue.getJob(id);
    if (!job) continue;
    const state = await job.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized') await job.remove().catch(() => {});
  }
}

/**
 * Stores the run's finished jobs (completed: the worker's result; failed for good: a skipped example with the
 * reason). Which of the pending jobs are finished is asked of BullMQ's completed and failed sets in one
 * command each (ZMSCORE over the ids: BullMQ's key layout, `<prefix>:<queue>:completed|failed`), so a study
 * of thousands of examples costs two commands per poll, not one per job; only finished jobs are read. Every
 * `sweepMs` the pending jobs are also checked for existence: one removed (a pause removes waiting jobs) is
 * added again with its id.
 */
async function collectRun(store: Store, redis: Redis, q: QRun, queue: Queue, attempts: number, log: (l: string) => void, sweep: boolean): Promise<void> {
  const ids = [...q.pending.keys()];
  const key = `${BULL_PREFIX}:${queue.name}`;
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    const [completed, failed] = await Promise.all([redis.zmscore(`${key}:completed`, ...chunk), redis.zmscore(`${key}:failed`, ...chunk)]);
    if (sweep) {
      const exists = (await redis.pipeline(chunk.map((id) => ['exists', `${key}:${id}`])).exec()) ?? [];
      for (let k = 0; k < chunk.length; k++) {
        if (exists[k]?.[1] !== 0) continue;
        // gone from the queue (a pause removed it, or someone by hand): added again, same id
        await queue.add('example', jobData(q, q.pending.get(chunk[k])!), { jobId: chunk[k], attempts, removeOnComplete: false, removeOnFail: false });
      }
    }
    for (let k = 0; k < chunk.length; k++) {
      if (completed[k] === null && failed[k] === null) continue;
      const id = chunk[k];
      const ex = q.pending.get(id)!;
      const job = (await queue.getJob(id)) as Job | undefined;
      if (!job) continue;
      if (completed[k] !== null) {
        let decoded;
        try {
          decoded = decodeReturn(job.returnvalue);
        } catch (e) {
          storeFailure(store, q, ex, `${e instanceof Error ? e.message : String(e)}`, job.attemptsMade);
          await job.remove().catch(() => {});
          q.pending.delete(id);
          continue;
        }
        // stored once: a result that arrives again (a job computed twice) finds its example stored
        if (!store.results.get(q.runId, ex.id)) {
          // the result and the worker's count in one transaction: a killed owner leaves both or neither
          writeTransaction(store.db, 'queue result', () => {
            store.results.put(q.runId, ex.id, decoded.result);
            countWorker(store, q.runId, decoded.ret.worker, { done: 1, busyMs: decoded.ret.ms });
          })();
          for (const [k2, v] of Object.entries(decoded.ret.timings)) q.timings[k2] = (q.timings[k2] ?? 0) + v;
          if (job.processedOn && job.finishedOn) q.jobTimes.push({ worker: decoded.ret.worker.id, taken: job.processedOn, finished: job.finishedOn, ms: decoded.ret.ms + (decoded.ret.openMs ?? 0) });
          q.state.doneHere++;
        }
        q.state.done++;
        await job.remove().catch(() => {});
        q.pending.delete(id);
      } else {
        const reason = job.failedReason || 'failed without a reason';
        log(`${q.state.label}: example ${ex.externalId} failed on the workers after ${job.attemptsMade} attempt${job.attemptsMade === 1 ? '' : 's'}: ${reason}`);
        if (!store.results.get(q.runId, ex.id)) storeFailure(store, q, ex, reason, job.attemptsMade);
        q.state.done++;
        q.state.doneHere++;
        await job.remove().catch(() => {});
        q.pending.delete(id);
      }
    }
  }
}

function storeFailure(store: Store, q: QRun, ex: StoredExample, reason: string, attemptsMade: number): void {
  store.results.put(q.runId, ex.id, { rawOutputs: { reason, attempts: attemptsMade, queue: true }, label: null, skippedReason: WORKER_FAILED });
}

/** The job of one example of the run: the study's configuration (its model named by hash), template, seed, threads, the example. */
function jobData(q: QRun, example: StoredExample): Record<string, unknown> {
  const config = jobConfig(q.mr.config, q.mr.m, q.sha256);
  return { v: JOB_VERSION, runId: q.runId, seed: q.seed, model: { sha256: q.sha256, name: modelName(q.mr.file) }, template: q.mr.template, threads: q.mr.threads, config, example };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
