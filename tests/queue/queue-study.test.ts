/**
 * Issue 15 with real parts: a real redis-server on 127.0.0.1, worker and owner processes of the real CLI,
 * the runner tests' tiny generated model. Each queue run is compared field by field (relevance bytes,
 * metrics) with a local run of the same study in the same file layout.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../main/store';
import { waitFor, type CliProcess } from '../runner/cli-process';
import { storedCount } from '../runner/tiny-study';
import { dbCopy, fixture, localRun, query, startOwner, startWorker, stopAll, storedResults, type QueueFixture } from './helpers';
import { REDIS_PASSWORD, redisMissing, startRedis, type RedisServer } from './redis';

const missing = redisMissing();
const jobLines = (w: CliProcess) => w.stderr().split('\n').filter((l) => / example s\d+ of run /.test(l));
const jobIdsOf = (w: CliProcess) => jobLines(w).map((l) => / job (\S+):/.exec(l)![1]);
const ready = (ws: CliProcess[]) => waitFor(() => ws.every((w) => /ready on/.test(w.stderr())), `${ws.length} worker(s) ready`, 120_000);

describe.skipIf(missing)('studies on queue workers (BullMQ on a real redis-server)', () => {
  let dir: string;
  let f: QueueFixture;
  let redis: RedisServer;
  let localFull: string;
  let localQuick: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rw-queue-'));
    f = await fixture(dir);
    [redis, localFull, localQuick] = await Promise.all([startRedis(), localRun(f, f.study, 'local-full.db'), localRun(f, f.quick, 'local-quick.db')]);
  }, 240_000);
  afterAll(async () => {
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('three workers and one owner: results bit-identical to a local run, each stored once, per-worker shares, no password printed', async () => {
    const workers = [0, 1, 2].map(() => startWorker(redis.url, f.modelsDir));
    try {
      await ready(workers);
      const db = dbCopy(f, 'owner.db');
      const owner = startOwner(db, f.study, redis.url);
      const end = await owner.exited;
      expect(end.code, owner.stderr()).toBe(0);
      expect(owner.stdout()).toMatch(/done\t3\/3/);
      const local = storedResults(localFull);
      const remote = storedResults(db);
      expect(remote.results).toHaveLength(3);
      expect(remote.results).toEqual(local.results);
      expect(remote.metrics).toEqual(local.metrics);
      expect(query(db, `SELECT status, error FROM runs`)).toEqual([{ status: 'done', error: null }]);
      // per-worker progress (the Run monitor's): every example counted once, by the worker that computed it
      const shares = query<{ done: number; has_model: number }>(db, `SELECT done, has_model FROM queue_workers`);
      expect(shares.reduce((a, w) => a + w.done, 0)).toBe(3);
      expect(shares.every((w) => w.has_model === 1)).toBe(true);
      expect(query(db, `SELECT queue, note FROM queue_runs`)).toEqual([{ queue: `redis://:***@127.0.0.1:${redis.port}`, note: null }]);
      // every job computed once over all workers
      expect(workers.flatMap(jobIdsOf)).toHaveLength(3);
      // the queue's password: in no process's output, not in the store
      for (const p of [owner, ...workers]) expect(p.stdout() + p.stderr()).not.toContain(REDIS_PASSWORD);
      expect(JSON.stringify(query(db, `SELECT * FROM queue_runs`)) + JSON.stringify(query(db, `SELECT timings FROM runs`))).not.toContain(REDIS_PASSWORD);
    } finally {
      await stopAll(workers);
    }
  }, 240_000);

  it('a worker SIGKILLed mid-example: its job stalls, another worker computes it, nothing is lost', async () => {
    const [a, b] = [startWorker(redis.url, f.modelsDir), startWorker(redis.url, f.modelsDir)];
    try {
      await ready([a, b]);
      const db = dbCopy(f, 'killed-worker.db');
      const owner = startOwner(db, f.quick, redis.url);
      // killed as soon as it has taken its second example (it is computing it: nothing of it is returned)
      await waitFor(() => jobLines(a).length >= 2, 'worker A on its second example', 120_000, 5);
      a.child.kill('SIGKILL');
      const inHand = jobIdsOf(a).at(-1)!;
      const end = await owner.exited;
      expect(end.code, owner.stderr()).toBe(0);
      expect(storedResults(db).results).toEqual(storedResults(localQuick).results);
      // the job A died with was retried by B after its lock ran out
      expect(jobIdsOf(b)).toContain(inHand);
      expect(query(db, `SELECT status FROM runs`)).toEqual([{ status: 'done' }]);
    } finally {
      await stopAll([a, b]);
    }
  }, 240_000);

  it('the owner paused (SIGTERM), killed (SIGKILL) and resumed: results left on the queue are collected, no job is computed twice', async () => {
    const workers = [startWorker(redis.url, f.modelsDir), startWorker(redis.url, f.modelsDir)];
    try {
      await ready(workers);
      const db = dbCopy(f, 'owner-restart.db');
      // pause: SIGTERM once two results are stored; the run is stopped, its waiting jobs leave the queue
      const first = startOwner(db, f.quick, redis.url);
      await waitFor(() => storedCount(db) >= 2, 'two results stored', 120_000, 20);
      first.child.kill('SIGTERM');
      expect((await first.exited).code).toBe(143);
      expect(query(db, `SELECT status FROM runs`)).toEqual([{ status: 'stopped' }]);
      // resumed, then killed outright: the run is shown interrupted, workers go on computing what they have
      const second = startOwner(db, f.quick, redis.url, ['--resume']);
      const before = storedCount(db);
      await waitFor(() => storedCount(db) > before, 'a result stored after resuming', 120_000, 20);
      second.child.kill('SIGKILL');
      await second.exited;
      const store = openStore(db);
      try {
        expect(store.runs.list()[0].status).toBe('interrupted');
      } finally {
        store.close();
      }
      // resumed again: everything finished meanwhile is collected from the queue
      const third = startOwner(db, f.quick, redis.url, ['--resume']);
      const end = await third.exited;
      expect(end.code, third.stderr()).toBe(0);
      expect(storedResults(db).results).toEqual(storedResults(localQuick).results);
      expect(query(db, `SELECT status FROM runs`)).toEqual([{ status: 'done' }]);
      // each example's job was computed by exactly one worker, once (jobs have deterministic ids: not added twice)
      const ids = workers.flatMap(jobIdsOf);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(6);
      // each result counted once, for the worker that computed it (stored with its count in one transaction)
      expect(query<{ n: number }>(db, `SELECT sum(done) AS n FROM queue_workers`)[0].n).toBe(6);
    } finally {
      await stopAll(workers);
    }
  }, 240_000);

  it('a worker without the model says so; the run fails with that reason, and is computed once a worker with the model comes', async () => {
    const empty = join(dir, 'no-models');
    mkdirSync(empty, { recursive: true });
    // a database of its own on the server (the URL's /db): the workers of the tests before, killed, are still
    // listed in database 0 until their records expire
    const url = `${redis.url}/3`;
    const lacking = startWorker(url, empty);
    const workers = [lacking];
    try {
      await ready([lacking]);
      const db = dbCopy(f, 'no-model.db');
      const owner = startOwner(db, f.quick, url, ['--wait-workers', '3']);
      const end = await owner.exited;
      expect(end.code).toBe(1);
      const why = /no live worker has model tiny \(sha256 [0-9a-f]{64}\); \S+ lacks it/;
      expect(owner.stderr()).toMatch(why);
      const [run] = query<{ status: string; error: string }>(db, `SELECT status, error FROM runs`);
      expect(run.status).toBe('failed');
      expect(run.error).toMatch(why);
      expect(query(db, `SELECT has_model, done FROM queue_workers`)).toEqual([{ has_model: 0, done: 0 }]);
      expect(lacking.stderr()).toMatch(/lacks model tiny \(sha256 [0-9a-f]{64}\) that a study wants/);
      // a worker that has it: the run, resumed, goes to it alone
      const good = startWorker(url, f.modelsDir);
      workers.push(good);
      await ready([good]);
      const again = startOwner(db, f.quick, url, ['--resume']);
      expect((await again.exited).code, again.stderr()).toBe(0);
      expect(storedResults(db).results).toEqual(storedResults(localQuick).results);
      expect(jobLines(lacking)).toHaveLength(0);
    } finally {
      await stopAll(workers);
    }
  }, 240_000);

  it('a queue that cannot be reached: the run fails with the reason (no silent "queued"), the password not printed', async () => {
    const db = dbCopy(f, 'unreachable.db');
    const owner = startOwner(db, f.quick, `redis://:${REDIS_PASSWORD}@127.0.0.1:1`);
    expect((await owner.exited).code).toBe(1);
    expect(owner.stderr()).toMatch(/error: queue redis:\/\/:\*\*\*@127\.0\.0\.1:1: cannot connect/);
    expect(owner.stdout() + owner.stderr()).not.toContain(REDIS_PASSWORD);
    const [run] = query<{ status: string; error: string }>(db, `SELECT status, error FROM runs`);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/cannot connect/);
    expect(run.error).not.toContain(REDIS_PASSWORD);
  }, 120_000);

  it('a poisoned example fails with its reason after its attempts and the study goes on; a job that does not validate is refused', async () => {
    const env = { RW_QUEUE_FAULT: 'throw:s3' };
    const workers = [startWorker(redis.url, f.modelsDir, env), startWorker(redis.url, f.modelsDir, env)];
    try {
      await ready(workers);
      const db = dbCopy(f, 'poison.db');
      const owner = startOwner(db, f.quick, redis.url, ['--attempts', '2']);
      const end = await owner.exited;
      expect(end.code, owner.stderr()).toBe(0);
      expect(owner.stderr()).toMatch(/example s3 failed on the workers after 2 attempts: example s3: injected fault/);
      const remote = storedResults(db).results as { external_id: string; skipped_reason: string | null; raw_outputs: string }[];
      const local = storedResults(localQuick).results as typeof remote;
      expect(remote.filter((r) => r.external_id !== 's3')).toEqual(local.filter((r) => r.external_id !== 's3'));
      const s3 = remote.find((r) => r.external_id === 's3')!;
      expect(s3.skipped_reason).toBe('worker-failed');
      expect(JSON.parse(s3.raw_outputs)).toMatchObject({ reason: 'example s3: injected fault (RW_QUEUE_FAULT)', attempts: 2 });
      expect(query(db, `SELECT status FROM runs`)).toEqual([{ status: 'done' }]);

      // a job that does not validate against the job and study schema: refused at once, never retried
      const { Queue } = await import('bullmq');
      const { parseQueueUrl } = await import('../../main/queue');
      const sha = query<{ model_sha256: string }>(db, `SELECT model_sha256 FROM queue_runs`)[0].model_sha256;
      const q = new Queue(`m-${sha}`, { connection: parseQueueUrl(redis.url).connection, prefix: 'rw' });
      try {
        const job = await q.add('example', { v: 1, runId: 'one', config: { name: '' } }, { jobId: 'bad-1', attempts: 3 });
        let state = '';
        const t0 = Date.now();
        while (state !== 'failed' && Date.now() - t0 < 60_000) {
          state = await job.getState();
          await new Promise((r) => setTimeout(r, 100));
        }
        const failed = (await q.getJob('bad-1'))!;
        expect(state).toBe('failed');
        expect(failed.attemptsMade).toBe(1);
        expect(failed.failedReason).toMatch(/^job refused: it does not validate against the job and study schema: .*runId: .*config/);
      } finally {
        await q.close();
      }
    } finally {
      await stopAll(workers);
    }
  }, 240_000);
});
