/**
 * Issue 15 in the GUI: a study run on queue workers from the Run monitor, with real parts: Debian's Chromium
 * on browser mode, a real redis-server (with a password) on 127.0.0.1, and real worker processes of the CLI
 * (`worker --queue … --models-dir DIR`), over the runner tests' tiny generated model. The app's engine
 * process is the study's owner, as `run --queue` is on the command line.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Workbench } from '../../main/api/service';
import type { Responses } from '../../main/api/catalogue';
import type { StudyRecord } from '../../main/store/types';
import { ensureQueueRun, queueRun } from '../../main/queue/status-repo';
import { ok } from '../api/helpers';
import { query, startWorker, stopAll } from '../queue/helpers';
import { REDIS_PASSWORD, redisMissing, startRedis, type RedisServer } from '../queue/redis';
import { waitFor, type CliProcess } from '../runner/cli-process';
import { setup } from '../runner/tiny-study';
import { chromiumAvailable, openBrowserMode, type BrowserModeSession } from './harness';

const missing = redisMissing();
const ready = (ws: CliProcess[]) => waitFor(() => ws.every((w) => /ready on/.test(w.stderr())), `${ws.length} worker(s) ready`, 120_000);

describe.skipIf(!chromiumAvailable || missing)('Run monitor: a study on queue workers (Chromium, real redis-server, CLI workers)', () => {
  let s: BrowserModeSession;
  let redis: RedisServer;
  let dir: string;
  let studyId: number;
  /** The workers' model folders: the study's model under another name (matched by hash), and none. */
  let modelsDir: string;
  let emptyDir: string;
  const workers: CliProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rw-gui-workers-'));
    [s, redis] = await Promise.all([openBrowserMode(), startRedis()]);
    const { t } = s;
    // the tiny study's dataset, stored in the app's database, and its generated model
    const tiny = JSON.parse(readFileSync(await setup(dir, t.wb.options.dbFile), 'utf8')) as { dataset: { id: number } };
    modelsDir = join(dir, 'worker-models');
    emptyDir = join(dir, 'no-models');
    mkdirSync(modelsDir);
    mkdirSync(emptyDir);
    copyFileSync(join(dir, 'tiny.gguf'), join(modelsDir, 'same-bytes-other-name.gguf'));
    const model = (ok(await t.wb.call('registerModel', { file: t.upload(join(dir, 'tiny.gguf'), 'tiny.gguf') })) as Responses['registerModel']).model;
    const config = {
      task: { kind: 'sentiment' }, language: 'en', dataset: { id: tiny.dataset.id },
      models: [{ id: model.id, mode: 'scoring' }], seeds: [28],
      explanations: ['human', 'random'], metrics: ['accuracy'], onlyCorrect: false,
      limits: { maxExamples: 4, threads: 1 },
    };
    studyId = (ok(await t.wb.call('saveStudy', { name: 'tiny on workers', config })) as { study: StudyRecord }).study.id;
  }, 300_000);

  afterAll(async () => {
    await stopAll(workers);
    await s?.close();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const row = (id: number) => s.page.locator(`tr[data-run="${id}"]`);
  const status = (id: number) => row(id).getAttribute('data-status');
  const waitStatus = (id: number, want: string, ms = 60_000) => s.page.locator(`tr[data-run="${id}"][data-status="${want}"]`).waitFor({ timeout: ms });
  const workersOf = (id: number) => s.page.locator(`tr[data-workers-for="${id}"]`);
  const queueAddress = () => s.page.getByLabel('Queue address', { exact: true });
  async function monitorOnWorkers() {
    await s.page.getByRole('tab', { name: 'Run monitor' }).click();
    await s.page.getByRole('radio', { name: 'workers on a queue' }).check();
  }

  it('a queue address that is not a redis:// URL is refused at its field, before any run, without its password', async () => {
    await monitorOnWorkers();
    await queueAddress().fill('http://analyst:Sup3rS3cret@lab-redis:6379');
    await s.page.getByRole('button', { name: 'Start run' }).click();
    const err = s.page.getByTestId('field-error-queue');
    await expect.poll(() => err.textContent()).toContain('expected a redis:// or rediss:// (TLS) URL');
    expect(await err.textContent()).toContain('http://analyst:***@lab-redis:6379');
    // the address may carry a password: the field hides it like one until the analyst asks to see it
    expect(await queueAddress().getAttribute('type')).toBe('password');
    await s.shot('workers-bad-address');
    await s.page.getByRole('checkbox', { name: 'show' }).check();
    expect(await queueAddress().getAttribute('type')).toBe('text');
    await s.page.getByRole('checkbox', { name: 'show' }).uncheck();
    // (the field itself still holds what the analyst typed, to correct it; the page echoes none of it)
    expect(await s.page.content()).not.toContain('Sup3rS3cret');
    // never a file path (a socket, a file: URL, a redis URL without a host), and the API names the field (the
    // renderer is not its only caller); nothing runs
    const refused = {
      '/var/run/redis/redis.sock': /^queue: expected redis:\/\/.* got something that is not a URL$/,
      'file:///etc/redis/redis.conf': /^queue file:\/\/\/etc\/redis\/redis\.conf: expected a redis:\/\/ or rediss:\/\/ \(TLS\) URL$/,
      'redis:///var/run/redis.sock': /^queue redis:\/\/\/var\/run\/redis\.sock: no host$/,
      [`rediss://:${REDIS_PASSWORD}@lab-redis:6379/jobs`]: /^queue rediss:\/\/:\*\*\*@lab-redis:6379\/jobs: the path must be a database number, got "jobs"$/,
    };
    for (const [queue, why] of Object.entries(refused)) {
      for (const method of ['startRun', 'resumeRun'] as const) {
        const env = await s.t.wb.call(method, method === 'startRun' ? { studyId, queue } : { runId: 1, queue });
        expect(env.ok).toBe(false);
        if (env.ok) continue;
        expect(env.error.code).toBe('invalid');
        expect(env.error.fields?.queue, queue).toMatch(why);
        expect(JSON.stringify(env)).not.toContain(REDIS_PASSWORD);
      }
    }
    expect(ok(await s.t.wb.call('listRuns', {}))).toEqual([]);
  }, 120_000);

  it('started from the Study screen: a worker without the model says so, cancel / resume / pause / resume, then a worker with it finishes the run; per-worker lines survive a reload', async () => {
    const lacking = startWorker(redis.url, emptyDir);
    workers.push(lacking);

    // the analyst opens her study, chooses "workers on a queue" and mistypes the address: refused at the field
    await s.page.getByRole('tab', { name: 'Study' }).click();
    await s.page.getByRole('button', { name: 'Open study “tiny on workers”' }).click();
    await s.page.getByRole('radio', { name: 'workers on a queue' }).check();
    const start = s.page.getByRole('button', { name: 'Save and start run' });
    await expect.poll(() => start.isEnabled(), { timeout: 120_000 }).toBe(true);
    await queueAddress().fill(`redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.port}/queue`);
    await start.click();
    await expect.poll(() => s.page.getByTestId('field-error-queue').textContent()).toBe(`queue redis://:***@127.0.0.1:${redis.port}/queue: the path must be a database number, got "queue"`);
    expect(await s.page.getByTestId('study-message').textContent()).toContain('***');
    expect(await s.page.content()).not.toContain(REDIS_PASSWORD);
    await s.shot('workers-study-bad-address');
    expect(s.t.wb.store.runs.list()).toEqual([]);

    // the lab's address (with its password): the run starts and the Run monitor opens on it
    await ready([lacking]);
    await queueAddress().fill(redis.url);
    await start.click();
    await s.page.getByTestId('runs-table').waitFor({ timeout: 60_000 });
    await waitFor(() => s.t.wb.store.runs.list().length === 1, 'the queue run', 60_000);
    const runId = s.t.wb.store.runs.list()[0].id;

    // the worker without the model is named, and why the run waits
    const lacksLine = workersOf(runId).locator('tr.lacks');
    await lacksLine.waitFor({ timeout: 60_000 });
    expect(await lacksLine.textContent()).toMatch(/worker \S+ lacks model tiny\.gguf \(sha256 [0-9a-f]{12}…\)/);
    await expect.poll(() => workersOf(runId).getByTestId('queue-note').textContent(), { timeout: 30_000 }).toMatch(/^waiting: no live worker has model \S*tiny \(sha256 [0-9a-f]{64}\); \S+ lacks it$/);
    expect(await workersOf(runId).textContent()).toContain(`On workers at redis://:***@127.0.0.1:${redis.port}`);
    await s.shot('workers-waiting');

    // Cancel, Resume, Pause, Resume work as for a local run (the app holds the address in this session)
    await row(runId).getByRole('button', { name: 'Cancel' }).click();
    await waitStatus(runId, 'stopped');
    await row(runId).getByRole('button', { name: 'Resume' }).click();
    await waitStatus(runId, 'running');
    await row(runId).getByRole('button', { name: 'Pause' }).click();
    await waitStatus(runId, 'paused');
    await s.shot('workers-paused');
    await row(runId).getByRole('button', { name: 'Resume' }).click();
    await waitStatus(runId, 'running');

    // a worker with the model (same bytes, another file name) comes: the run finishes
    const good = startWorker(redis.url, modelsDir);
    workers.push(good);
    await waitStatus(runId, 'done', 180_000);
    const goodId = /worker (\S+): ready on/.exec(good.stderr())![1];
    const goodLine = workersOf(runId).locator(`tr[data-worker="${goodId}"]`);
    await expect.poll(() => goodLine.locator('td').allTextContents(), { timeout: 15_000 }).toEqual([goodId, expect.any(String), 'has tiny.gguf', '4', '0', expect.stringMatching(/ s$/)]);
    await s.shot('workers-done');

    // the per-worker lines are the stored records: a reload shows them again
    await s.page.reload();
    await s.page.getByRole('tab', { name: 'Run monitor' }).click();
    await goodLine.waitFor();
    expect(await goodLine.locator('td').nth(3).textContent()).toBe('4');
    expect(await workersOf(runId).locator('tr.lacks').count()).toBe(1);
    expect(await status(runId)).toBe('done');
    await s.shot('workers-after-reload');

    // the run's results and metrics are stored here, by the owner (the app), as for a local run
    expect(query<{ n: number }>(s.t.wb.options.dbFile, 'SELECT count(*) AS n FROM results WHERE run_id = ?', runId)[0].n).toBe(4);
    expect(ok(await s.t.wb.call('listMetrics', { runId })) as unknown[]).not.toEqual([]);

    // the password: not on the page, not in any answer, not in the database
    expect(await s.page.content()).not.toContain(REDIS_PASSWORD);
    for (const [m, a] of [['listRuns', {}], ['listQueueRuns', {}], ['getRun', { runId }]] as const) {
      expect(JSON.stringify(ok(await s.t.wb.call(m, a)))).not.toContain(REDIS_PASSWORD);
    }
    const dump = ['queue_runs', 'queue_workers', 'runs', 'studies'].map((t) => JSON.stringify(query(s.t.wb.options.dbFile, `SELECT * FROM ${t}`))).join();
    expect(dump).not.toContain(REDIS_PASSWORD);
    expect(s.pageErrors).toEqual([]);
  }, 600_000);

  it('a queue that cannot be reached: the run fails with the reason, shown and stored', async () => {
    await monitorOnWorkers();
    // a port nobody listens on
    const before = s.t.wb.store.runs.list().length;
    await queueAddress().fill(`redis://:${REDIS_PASSWORD}@127.0.0.1:1`);
    await s.page.getByRole('button', { name: 'Start run' }).click();
    await waitFor(() => s.t.wb.store.runs.list().length > before && s.t.wb.store.runs.list().at(-1)!.status === 'failed', 'the run failed', 60_000);
    const failed = s.t.wb.store.runs.list().at(-1)!;
    expect(failed.error).toMatch(/queue redis:\/\/:\*\*\*@127\.0\.0\.1:1: cannot connect/);
    await waitStatus(failed.id, 'failed');
    await expect.poll(() => row(failed.id).getByTestId('run-error').textContent()).toContain('cannot connect');
    expect(await s.page.content()).not.toContain(REDIS_PASSWORD);
  }, 120_000);

  it('after a restart the app no longer holds the address: resuming a run on workers asks for it, naming the queue without its password', async () => {
    const { t } = s;
    // a paused run on workers (its queue record), as a previous session of the app leaves it
    const run = t.wb.store.runs.list().find((r) => r.status === 'done' && queueRun(t.wb.store, r.id))!;
    const again = t.wb.store.runs.create({ studyId: run.studyId, modelId: run.modelId, datasetId: run.datasetId, seed: 5, appVersion: 'test', total: 4 });
    t.wb.store.runs.setStatus(again, 'paused');
    const before = queueRun(t.wb.store, run.id)!;
    ensureQueueRun(t.wb.store, again, before.queue, 'abc123', before.modelSha256);
    const restarted = new Workbench({ ...t.wb.options });
    try {
      const env = await restarted.call('resumeRun', { runId: again });
      expect(env.ok).toBe(false);
      if (!env.ok) {
        expect(env.error.code).toBe('invalid');
        expect(env.error.fields?.queue).toBe(`run ${again} is computed on workers (redis://:***@127.0.0.1:${redis.port}): give the queue address again to resume it (its password is not kept after the app stops)`);
      }
      expect((ok(await restarted.call('listQueueRuns', { runIds: [again] })) as Responses['listQueueRuns'])[0].addressKnown).toBe(false);
      expect(t.wb.store.runs.get(again)!.status).toBe('paused');
    } finally {
      restarted.close();
    }
  }, 60_000);
});
