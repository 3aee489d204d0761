/**
 * A big import in one process while a run stores results in another (real CLI processes, a generated CSV of
 * 60 000 rows, about 20 MB). Before staged imports the import was one transaction longer than the 5 s busy
 * timeout and the run died with "database is locked", left 'running'. Now the import writes in short chunks
 * (the run's writes get in between, and retry) and stays all or nothing: killed half-way, nothing of it is
 * visible and the next open leaves no rows behind.
 *
 * So that the two meet on any machine, however fast: the run is started first and frozen (SIGSTOP, outside a
 * write, its lease TTL long) once it is running; the import is started, and frozen as soon as it has written
 * its first rows (possibly inside a transaction); the run goes on, and the import FREEZE_MS later (longer than
 * the 5 s busy timeout: a lock held through it must be waited out). The run must store results while the
 * import is still pending, and both must finish.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../main/store';
import { writeBigCsv } from '../fixtures/big-csv';
import { freezeOutsideWrite, startCli, waitFor } from './cli-process';
import { results, SENTENCES, setup, storedCount } from './tiny-study';

const ROWS = 60_000;
const FREEZE_MS = 7_000;
const dir = mkdtempSync(join(tmpdir(), 'rw-concurrent-import-'));
const csv = join(dir, 'big.csv');
beforeAll(() => writeBigCsv(csv, ROWS));

/** One query on a fresh read-only connection (WAL: never blocks the writers); undefined while the file is busy being created. */
function peek<T>(db: string, sql: string): T | undefined {
  try {
    const d = new Database(db, { readonly: true });
    try {
      return d.prepare(sql).get() as T;
    } finally {
      d.close();
    }
  } catch {
    return undefined;
  }
}
const pendingRows = (db: string) =>
  peek<{ n: number }>(db, `SELECT count(*) AS n FROM examples e JOIN datasets d ON d.id = e.dataset_id WHERE d.state = 'pending'`)?.n ?? 0;

describe('a big import while a run writes', () => {
  it('the run finishes and the import lands whole', async () => {
    const db = join(dir, 'concurrent.sqlite');
    const study = await setup(dir, db);
    const run = startCli(['--db', db, '--json', 'run', study], { RW_LEASE_TTL_MS: '600000' });
    await waitFor(() => (peek<{ n: number }>(db, `SELECT count(*) AS n FROM runs WHERE status = 'running'`)?.n ?? 0) > 0, 'the run to start');
    await freezeOutsideWrite(run.child.pid!, db);
    const imp = startCli(['--db', db, '--json', 'import', csv, '--format', 'csv', '--name', 'big']);
    let importDone = false;
    imp.exited.then(() => (importDone = true));
    await waitFor(() => pendingRows(db) > 0 || importDone, 'the import writing its first rows', 300_000, 10);
    process.kill(imp.child.pid!, 'SIGSTOP');
    const storedBefore = storedCount(db);
    process.kill(run.child.pid!, 'SIGCONT');
    // results the run stores while the import is pending (written in part, not yet visible)
    let storedWhilePending = storedBefore;
    const watch = () => {
      const stored = storedCount(db);
      if (pendingRows(db) > 0) storedWhilePending = Math.max(storedWhilePending, stored);
    };
    const frozenAt = Date.now();
    await waitFor(() => (watch(), Date.now() - frozenAt > FREEZE_MS), 'the freeze', 60_000, 100);
    process.kill(imp.child.pid!, 'SIGCONT');
    await waitFor(() => (watch(), importDone), 'the import to finish', 300_000, 50);
    expect(await imp.exited).toEqual({ code: 0, signal: null });
    expect(JSON.parse(imp.stdout())).toMatchObject({ examples: ROWS });
    const runExit = await run.exited;
    expect(run.stderr()).not.toMatch(/locked|error/i);
    expect(runExit).toEqual({ code: 0, signal: null });
    expect(JSON.parse(run.stdout()).runs).toEqual([expect.objectContaining({ status: 'done', processed: SENTENCES.length })]);
    expect(results(db)).toHaveLength(SENTENCES.length);
    expect(storedWhilePending).toBeGreaterThan(storedBefore);
    const store = openStore(db);
    try {
      expect(store.datasets.list().map((d) => [d.name, d.exampleCount])).toEqual([['sst-mini', SENTENCES.length], ['big', ROWS]]);
      expect(store.integrityCheck()).toBe('ok');
      expect(store.leases.list()).toEqual([]);
    } finally {
      store.close();
    }
  }, 600_000);

  it('killed half-way: nothing visible, and no leftovers after reopening', async () => {
    const db = join(dir, 'killed.sqlite');
    openStore(db).close();
    const imp = startCli(['--db', db, 'import', csv, '--format', 'csv', '--name', 'big']);
    await waitFor(() => pendingRows(db) >= 2000, 'the import writing its chunks', 300_000, 20);
    process.kill(imp.child.pid!, 'SIGSTOP'); // at once, however fast it writes: killed mid-way, not at the end
    imp.child.kill('SIGKILL');
    expect(await imp.exited).toMatchObject({ signal: 'SIGKILL' });
    const written = pendingRows(db);
    expect(written).toBeGreaterThanOrEqual(2000);
    expect(written).toBeLessThan(ROWS); // killed mid-way, not after
    // nothing of it visible (the CLI's listing opens the store, which also clears the leftovers)
    const listing = startCli(['--db', db, '--json', 'datasets']);
    expect(await listing.exited).toEqual({ code: 0, signal: null });
    expect(JSON.parse(listing.stdout())).toEqual([]);
    const d = new Database(db, { readonly: true });
    try {
      expect(d.prepare('SELECT (SELECT count(*) FROM datasets) AS datasets, (SELECT count(*) FROM examples) AS examples, (SELECT count(*) FROM leases) AS leases').get()).toEqual({ datasets: 0, examples: 0, leases: 0 });
      expect(d.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      d.close();
    }
  }, 600_000);
});
