/**
 * A queue worker: takes example jobs of any study for the models it has (one BullMQ queue per model hash,
 * so a job only ever reaches a worker with its model), computes each with the local runner's pipeline
 * (runner/model-session.ts, the same processor a local run builds) and returns the result record. Jobs run
 * one at a time per worker process: llama.cpp and the LRP engine already use every thread given.
 *
 * Exactly once is BullMQ's: a job's lock is renewed while it runs; a worker killed mid-example stops
 * renewing, the job is found stalled and given to another worker (up to `maxStalledCount` times, then it
 * fails with BullMQ's reason); a job that throws is retried up to the owner's `attempts`. A job that does not
 * validate is refused at once (UnrecoverableError: no retry). The owner stores each result once.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Job, Worker as BullWorker } from 'bullmq';
import type { Redis, RedisOptions as RedisClientOptions } from 'ioredis';
import type { StudyConfig } from '../config/study-schema';
import { indicatorDefinitionsFor, openModelSession, processorFor, type ModelSession } from '../runner';
import type { RunRecord } from '../store';
import { JobRefusedError, parseJob } from './job';
import { scanModels, type LocalModel } from './models-dir';
import { BULL_PREFIX, listWorkers, publishWorker, queueNameFor, removeWorker, wantedModels, type WorkerRecord } from './registry';
import { encodeResult, type JobReturn } from './result';
import type { QueueAddress } from './url';

export interface WorkerOptions {
  address: QueueAddress;
  modelsDir: string;
  /** llama.cpp / LRP threads; default: the study's (limits.threads, or the owner's --threads). */
  threads?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** BullMQ lock and stalled-check timings (ms); RW_QUEUE_LOCK_MS / RW_QUEUE_STALLED_MS override (tests). */
  lockMs?: number;
  stalledMs?: number;
  /** A stalled job (its worker died) is given to another worker this many times, then failed. */
  maxStalledCount?: number;
  /** Called when the worker has subscribed to its queues (tests, bench). */
  onReady?: (info: { id: string; models: LocalModel[] }) => void;
}

const envMs = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v >= 100 ? v : fallback;
};

/** The session's key: a new configuration of the same model (context size, threads, filler, template) opens it again. */
function sessionKey(file: string, config: StudyConfig, threads: number, template: string): string {
  const m = config.models[0];
  const lrp = config.explanations.some((e) => e.method.startsWith('lrp'));
  return JSON.stringify([file, threads, template, m.filler, m.gpuLayers ?? 0, config.limits.maxContextTokens ?? null, lrp]);
}

/**
 * Test-only fault injection (RW_QUEUE_FAULT=throw:<externalId> or crash:<externalId>): the example with that
 * external id throws, or kills this worker process, on every attempt — a poisoned example.
 */
function injectFault(externalId: string): void {
  const f = process.env.RW_QUEUE_FAULT;
  if (!f) return;
  const [kind, id] = f.split(':', 2);
  if (id !== externalId) return;
  if (kind === 'crash') process.kill(process.pid, 'SIGKILL');
  if (kind === 'throw') throw new Error(`example ${externalId}: injected fault (RW_QUEUE_FAULT)`);
}

/** Runs until the signal aborts (the example in hand is finished and returned first). */
export async function runWorker(opts: WorkerOptions): Promise<void> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const { Worker, UnrecoverableError } = await import('bullmq');
  const { Redis: RedisClient } = await import('ioredis');
  const id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const host = hostname();
  const models = await scanModels(opts.modelsDir);
  if (!models.size) log(`worker ${id}: no .gguf model under ${opts.modelsDir}: it will take no job`);
  for (const m of models.values()) log(`worker ${id}: has model ${m.name} (sha256 ${m.sha256.slice(0, 12)}…)`);

  const redis: Redis = new RedisClient({ ...(opts.address.connection as RedisClientOptions), lazyConnect: true });
  redis.on('error', () => {}); // reconnection is ioredis's; failures surface on the next command
  await redis.connect().catch((e: unknown) => {
    redis.disconnect(); // no reconnection attempts left running behind the error
    throw new Error(`queue ${opts.address.display}: cannot connect: ${e instanceof Error ? e.message : String(e)}`);
  });

  const record: WorkerRecord = {
    id,
    host,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    models: [...models.values()].map((m) => ({ sha256: m.sha256, name: m.name })),
    lacks: [],
    busy: null,
    done: 0,
  };
  const told = new Set<string>();
  const heartbeat = async () => {
    try {
      const wanted = await wantedModels(redis);
      record.lacks = wanted.filter((w) => !models.has(w.sha256));
      for (const l of record.lacks) {
        if (told.has(l.sha256)) continue;
        told.add(l.sha256);
        log(`worker ${id}: lacks model ${l.name} (sha256 ${l.sha256}) that a study wants: put that file in ${opts.modelsDir} to take its jobs`);
      }
      await publishWorker(redis, record);
    } catch {
      // Redis away for a moment: the record expires, and comes back with the next heartbeat
    }
  };
  await heartbeat();
  const beat = setInterval(() => void heartbeat(), 3_000);

  let session: { key: string; s: ModelSession } | null = null;
  let chain: Promise<unknown> = Promise.resolve();
  const abort = new AbortController();

  const process1 = async (job: Job, sha: string): Promise<JobReturn> => {
    let parsed;
    try {
      parsed = parseJob(job.data);
    } catch (e) {
      if (e instanceof JobRefusedError) {
        log(`worker ${id}: ${e.message}`);
        throw new UnrecoverableError(e.message);
      }
      throw e;
    }
    if (parsed.model.sha256 !== sha) throw new UnrecoverableError(`job refused: it names model ${parsed.model.sha256} but came on the queue of model ${sha}`);
    const local = models.get(sha)!;
    const threads = Math.max(1, opts.threads ?? parsed.threads);
    const key = sessionKey(local.file, parsed.config, threads, parsed.template);
    const o0 = performance.now();
    if (session?.key !== key) {
      await session?.s.dispose();
      session = null;
      session = { key, s: await openModelSession(local.file, parsed.config.models[0], parsed.config, threads, parsed.template) };
    }
    const openMs = performance.now() - o0;
    const ex = parsed.example;
    record.busy = { jobId: String(job.id), since: new Date().toISOString() };
    log(`worker ${id}: job ${job.id}: example ${ex.externalId} of run ${parsed.runId} (attempt ${job.attemptsMade + 1})`);
    const t0 = performance.now();
    try {
      injectFault(ex.externalId);
      const processor = processorFor(session.s, parsed.config, parsed.config.models[0], parsed.seed, indicatorDefinitionsFor(parsed.config)?.indicators);
      const timings: Record<string, number> = {};
      // the pipeline reads only the signal and timings of its context; the run is the owner's
      const result = await processor(ex, { run: { id: parsed.runId } as RunRecord, signal: abort.signal, timings });
      record.done++;
      return { v: 1, result: encodeResult(result), worker: { id, host }, ms: performance.now() - t0, openMs, timings };
    } finally {
      record.busy = null;
    }
  };

  const lockDuration = envMs('RW_QUEUE_LOCK_MS', opts.lockMs ?? 30_000);
  const stalledInterval = envMs('RW_QUEUE_STALLED_MS', opts.stalledMs ?? 30_000);
  const workers: BullWorker[] = [];
  for (const m of models.values()) {
    const w = new Worker(
      queueNameFor(m.sha256),
      // one example at a time in this process, whichever model queue it came from
      (job: Job) => {
        const next = chain.then(() => process1(job, m.sha256));
        chain = next.catch(() => {});
        return next;
      },
      { connection: opts.address.connection, prefix: BULL_PREFIX, concurrency: 1, lockDuration, stalledInterval, maxStalledCount: opts.maxStalledCount ?? 2 },
    );
    w.on('error', (e) => log(`worker ${id}: queue error: ${e.message}`));
    w.on('failed', (job, e) => job && log(`worker ${id}: job ${job.id} failed: ${e.message}`));
    workers.push(w);
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  log(`worker ${id}: ready on ${opts.address.display} (${models.size} model${models.size === 1 ? '' : 's'})`);
  opts.onReady?.({ id, models: [...models.values()] });

  await new Promise<void>((resolve) => {
    if (opts.signal?.aborted) resolve();
    else opts.signal?.addEventListener('abort', () => resolve(), { once: true });
    if (!opts.signal) return;
  });
  log(`worker ${id}: stopping: the example in hand is finished first`);
  clearInterval(beat);
  await Promise.all(workers.map((w) => w.close()));
  await (session as { s: ModelSession } | null)?.s.dispose();
  await removeWorker(redis, id).catch(() => {});
  redis.disconnect();
}

export { listWorkers };
