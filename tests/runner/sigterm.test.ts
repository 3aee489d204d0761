/**
 * Runs are never left 'running' by a process that is gone. SIGTERM (kill, a service manager, a shutdown)
 * stops a real CLI run as Ctrl-C does: the example in flight is dropped, the run is stopped, its lease
 * released, and --resume finishes it. SIGKILL (a crash, a power cut) cannot be handled: the run's lease
 * ends (at once, since its process is gone; elsewhere by its expiry), the run reads as 'interrupted', the
 * `runs` listing says how to resume it, and --resume finishes it with every example once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../main/store';
import { startCli, waitFor } from './cli-process';
import { results, runCli, SENTENCES, setup, storedCount } from './tiny-study';

async function expectResumeCompletes(db: string, study: string, runId: number, partial: number) {
  const b = await runCli(['--db', db, '--json', 'run', study, '--resume']);
  expect(b.stderr).not.toMatch(/error/i);
  expect(b.status).toBe(0);
  expect(JSON.parse(b.stdout).runs).toEqual([expect.objectContaining({ runId, status: 'done', resumed: partial, processed: SENTENCES.length - partial })]);
  const after = results(db);
  expect(after.map((r) => r.external_id)).toEqual(SENTENCES.map((_, i) => `s${i + 1}`));
  const store = openStore(db);
  try {
    expect(store.runs.get(runId)!.status).toBe('done');
    expect(store.runs.lease(runId)).toBeUndefined();
  } finally {
    store.close();
  }
}

describe('runner: SIGTERM and SIGKILL', () => {
  it('SIGTERM stops cleanly (exit 143): stopped, lease released, --resume completes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-sigterm-'));
    const db = join(dir, 'w.sqlite');
    const study = await setup(dir, db);
    const cli = startCli(['--db', db, '--json', 'run', study]);
    await waitFor(() => storedCount(db) >= 2, '2 stored examples');
    process.kill(cli.child.pid!, 'SIGTERM');
    const exit = await cli.exited;
    expect(exit).toEqual({ code: 143, signal: null });
    expect(cli.stderr()).toMatch(/stopping \(SIGTERM\): the example in flight is dropped/);
    expect(cli.stderr()).toMatch(/stopped after \d+\/12/);
    expect(JSON.parse(cli.stdout()).runs[0].status).toBe('stopped');
    const partial = results(db).length;
    expect(partial).toBeGreaterThanOrEqual(2);
    expect(partial).toBeLessThan(SENTENCES.length);
    const store = openStore(db);
    let runId: number;
    try {
      const [run] = store.runs.list();
      runId = run.id;
      expect(run).toMatchObject({ status: 'stopped', progress: { done: partial, total: SENTENCES.length } });
      expect(store.runs.lease(run.id)).toBeUndefined();
    } finally {
      store.close();
    }
    await expectResumeCompletes(db, study, runId, partial);
  }, 400_000);

  it('SIGKILL: the run reads as interrupted once its lease is over, `runs` says resume, --resume completes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-sigkill-'));
    const db = join(dir, 'w.sqlite');
    const study = await setup(dir, db);
    const TTL = 3000;
    const cli = startCli(['--db', db, '--json', 'run', study], { RW_LEASE_TTL_MS: String(TTL) });
    await waitFor(() => storedCount(db) >= 2, '2 stored examples');
    let store = openStore(db);
    const [run] = store.runs.list();
    // while it runs: leased by the CLI process, heartbeat within the TTL
    expect(run.status).toBe('running');
    const lease = store.runs.lease(run.id)!;
    expect(lease).toMatchObject({ pid: cli.child.pid, live: true });
    store.close();

    cli.child.kill('SIGKILL');
    expect(await cli.exited).toMatchObject({ signal: 'SIGKILL' });
    const partial = results(db).length;
    store = openStore(db);
    try {
      // the process is gone: interrupted at once, stored status untouched
      expect(store.runs.get(run.id)!.status).toBe('interrupted');
      expect(store.db.prepare('SELECT status FROM runs WHERE id = ?').pluck().get(run.id)).toBe('running');
      const last = store.runs.lease(run.id)!;
      expect(last.live).toBe(false);
      expect(Date.parse(last.expiresAt) - Date.parse(last.heartbeatAt)).toBe(TTL);
      // and after the expiry (the only sign a machine restart leaves) it still is
      await waitFor(() => Date.now() > Date.parse(last.expiresAt), 'the lease expiry');
      expect(store.runs.list().find((r) => r.id === run.id)!.status).toBe('interrupted');
    } finally {
      store.close();
    }

    const listing = await runCli(['--db', db, 'runs']);
    expect(listing.status).toBe(0);
    expect(listing.stdout).toMatch(new RegExp(`^${run.id}\\s+resume test\\s+28\\s+interrupted — resume\\s+${partial}/12\\s+resume: run <study.json \\| resume test> --resume$`, 'm'));
    const json = await runCli(['--db', db, '--json', 'runs']);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ id: run.id, status: 'interrupted', heldBy: null })]);

    await expectResumeCompletes(db, study, run.id, partial);
  }, 400_000);
});
