/**
 * Two processes resuming the same run: the run is leased by the first, the second is refused before it
 * computes anything, with a message naming the first process (pid, host) and since when; every example is
 * computed and stored once. The first is frozen (SIGSTOP, outside a write) while the second tries, so the
 * second always meets a run in progress however fast the machine is; its lease TTL is long enough to outlast
 * the freeze.
 */
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { freezeOutsideWrite, startCli, waitFor } from './cli-process';
import { results, SENTENCES, setup, storedCount } from './tiny-study';

describe('runner: a run is leased by one process', () => {
  it('a second `run --resume` of a running run is refused, naming the holder; the examples are computed once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-double-'));
    const db = join(dir, 'w.sqlite');
    const study = await setup(dir, db);
    const first = startCli(['--db', db, '--json', 'run', study, '--resume'], { RW_LEASE_TTL_MS: '600000' });
    await waitFor(() => storedCount(db) >= 1, 'the first process storing an example');
    await freezeOutsideWrite(first.child.pid!, db);

    const second = startCli(['--db', db, '--json', 'run', study, '--resume']);
    const refused = await second.exited;
    process.kill(first.child.pid!, 'SIGCONT');
    expect(refused).toEqual({ code: 1, signal: null });
    expect(second.stdout()).toBe('');
    // under --json every error is one JSON line on stderr (cli/index.ts)
    const err = JSON.parse(second.stderr()) as { error: { code: string; message: string } };
    expect(err.error.code).toBe('failed');
    expect(err.error.message).toMatch(
      new RegExp(
        `^run 1 is already being run by process ${first.child.pid} on host ${hostname()} since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ` +
          `\\(last heartbeat \\d+ s ago\\); wait for it to finish, or stop it there \\(Ctrl-C, SIGTERM, or Pause in the app\\) and resume$`,
      ),
    );

    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(JSON.parse(first.stdout()).runs).toEqual([expect.objectContaining({ runId: 1, status: 'done', processed: SENTENCES.length, resumed: 0 })]);
    expect(results(db).map((r) => r.external_id)).toEqual(SENTENCES.map((_, i) => `s${i + 1}`));
    // each example stored once: a second computation would have replaced results (new row ids)
    const d = new Database(db, { readonly: true });
    try {
      expect(d.prepare('SELECT min(id) AS lo, max(id) AS hi, count(*) AS n FROM results').get()).toEqual({ lo: 1, hi: SENTENCES.length, n: SENTENCES.length });
      expect(d.prepare('SELECT status FROM runs').pluck().all()).toEqual(['done']);
      expect(d.prepare('SELECT count(*) FROM leases').pluck().get()).toBe(0);
    } finally {
      d.close();
    }
  }, 400_000);
});
