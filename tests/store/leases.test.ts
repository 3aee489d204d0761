/**
 * Run leases (main/store/leases.ts): one process at a time works on a run; a second is refused with the
 * holder and since when; a run whose lease is over reads as 'interrupted' (derived, never stored) and can
 * be claimed again (resume). Liveness: expiry, or at once when the holder on this host is gone.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaseHeldError, MIGRATIONS, StoreError, migrate, openStore, type Store } from '../../main/store';
import { dataset, example, minimalConfig, tempDir } from './helpers';

const tmp = tempDir('rw-lease-');
afterAll(() => tmp.cleanup());

let store: Store;
let file: string;
let runId: number;
beforeEach(() => {
  file = tmp.file();
  store = openStore(file);
  const d = store.datasets.insert(dataset('d', [example('1', 'a good film', 'positive', [1])]));
  const m = store.models.register({ path: '/m.gguf', sha256: 'a'.repeat(64), fileSize: 1 });
  const s = store.studies.create('s', minimalConfig(d, m));
  runId = store.runs.create({ studyId: s, modelId: m, datasetId: d, seed: 1, appVersion: 't', total: 1 });
});
afterEach(() => store.close());

/** A pid that existed and is gone now. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}
const setLease = (fields: Record<string, unknown>) => {
  const sets = Object.keys(fields).map((k) => `${k} = @${k}`).join(', ');
  store.db.prepare(`UPDATE leases SET ${sets} WHERE kind = 'run' AND target_id = @id`).run({ ...fields, id: runId });
};

describe('run leases', () => {
  it('a second claim (another connection, as another process would) is refused naming the holder and since when', () => {
    const lease = store.runs.claim(runId);
    expect(store.runs.get(runId)!.status).toBe('running');
    const other = openStore(file);
    try {
      let err: unknown;
      try {
        other.runs.claim(runId);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LeaseHeldError);
      const since = store.runs.lease(runId)!.acquiredAt;
      expect((err as Error).message).toBe(
        `run ${runId} is already being run by process ${process.pid} on host ${hostname()} since ${since} (last heartbeat 0 s ago); ` +
          'wait for it to finish, or stop it there (Ctrl-C, SIGTERM, or Pause in the app) and resume',
      );
      // the refused claim changed nothing
      expect(other.runs.lease(runId)!.owner).toBe(lease.owner);
    } finally {
      other.close();
    }
  });

  it('finish releases the lease; a finished run can be claimed again unless done', () => {
    store.runs.claim(runId);
    store.runs.finish(runId, { status: 'stopped' });
    expect(store.runs.lease(runId)).toBeUndefined();
    expect(store.runs.get(runId)!.status).toBe('stopped');
    store.runs.claim(runId); // resume
    store.runs.finish(runId, { status: 'done' });
    expect(() => store.runs.claim(runId)).toThrow(`run ${runId} is done; its status cannot change to "running"`);
  });

  it('an expired lease reads as interrupted, in get and list, and is claimed again by the next process', () => {
    store.runs.claim(runId);
    setLease({ expires_ms: Date.now() - 1 });
    expect(store.runs.get(runId)!.status).toBe('interrupted');
    expect(store.runs.list().map((r) => r.status)).toEqual(['interrupted']);
    // stored status unchanged: 'interrupted' is derived
    expect(store.db.prepare('SELECT status FROM runs WHERE id = ?').pluck().get(runId)).toBe('running');
    const again = store.runs.claim(runId);
    expect(store.runs.get(runId)!.status).toBe('running');
    expect(store.runs.lease(runId)!.owner).toBe(again.owner);
  });

  it('a lease whose process on this host is gone is over at once; on another host only by its expiry', () => {
    store.runs.claim(runId);
    setLease({ pid: deadPid() });
    expect(store.runs.get(runId)!.status).toBe('interrupted');
    setLease({ host: 'some-other-host', expires_ms: Date.now() + 60_000 });
    expect(store.runs.get(runId)!.status).toBe('running'); // its pid means nothing here: wait for the expiry
    const other = openStore(file);
    expect(() => other.runs.claim(runId)).toThrow(/already being run by process \d+ on host some-other-host/);
    other.close();
    setLease({ expires_ms: Date.now() - 1 });
    expect(store.runs.get(runId)!.status).toBe('interrupted');
  });

  it('the heartbeat keeps a lease alive past its TTL; without it the run is interrupted after the TTL', async () => {
    process.env.RW_LEASE_TTL_MS = '300';
    try {
      const lease = store.runs.claim(runId);
      const hb = lease.startHeartbeat();
      await new Promise((r) => setTimeout(r, 800));
      expect(store.runs.get(runId)!.status).toBe('running');
      hb.stop();
      await new Promise((r) => setTimeout(r, 400));
      expect(store.runs.get(runId)!.status).toBe('interrupted');
      // a lease taken over by another process cannot be renewed by its old holder
      const other = openStore(file);
      const taken = other.runs.claim(runId);
      expect(lease.renew()).toBe(false);
      expect(store.runs.lease(runId)!.owner).toBe(taken.owner);
      other.close();
    } finally {
      delete process.env.RW_LEASE_TTL_MS;
    }
  });

  it("while another live process runs the run, its status is that process's: setStatus, finish and delete are refused", () => {
    store.runs.claim(runId);
    setLease({ pid: process.ppid }); // the test runner: a live process on this host, not this one
    const held = new RegExp(`^run ${runId} is already being run by process ${process.ppid} on host `);
    expect(() => store.runs.setStatus(runId, 'paused')).toThrow(held);
    expect(() => store.runs.finish(runId, { status: 'stopped' })).toThrow(held);
    expect(() => store.runs.delete(runId)).toThrow(held);
    expect(store.runs.get(runId)!.status).toBe('running');
    setLease({ pid: deadPid() }); // that process is gone: the run is interrupted and may be marked
    expect(store.runs.get(runId)!.status).toBe('interrupted');
    store.runs.setStatus(runId, 'stopped');
    expect(store.runs.get(runId)!.status).toBe('stopped');
  });

  it('interrupted is never stored: setStatus refuses it', () => {
    expect(() => store.runs.setStatus(runId, 'interrupted' as never)).toThrow(StoreError);
    expect(() => store.runs.setStatus(runId, 'interrupted' as never)).toThrow(/is not one of queued\|running\|paused\|stopped\|failed\|done/);
  });

  it('deleting a run deletes its lease', () => {
    store.runs.claim(runId);
    expect(store.runs.delete(runId)).toBe(true);
    expect(store.leases.list()).toEqual([]);
  });
});

describe('migration 3 and runs left running by an app without leases', () => {
  it('a run stored as running before leases existed reads as interrupted after the upgrade', () => {
    const f = tmp.file();
    const db = new Database(f);
    migrate(db, f, MIGRATIONS.slice(0, 2));
    db.exec(`
      INSERT INTO datasets (id, name, format, source_path, source_sha256, label_set, created_at) VALUES (1, 'd', 'jsonl', '/d', '${'f'.repeat(64)}', '[]', 'x');
      INSERT INTO models (id, path, sha256, file_size, registered_at) VALUES (1, '/m', '${'a'.repeat(64)}', 1, 'x');
      INSERT INTO studies (id, name, config, root_id, created_at, updated_at) VALUES (1, 's', '{}', 1, 'x', 'x');
      INSERT INTO runs (id, study_id, model_id, dataset_id, seed, status, app_version, created_at) VALUES
        (1, 1, 1, 1, 1, 'running', 'old', 'x'), (2, 1, 1, 1, 2, 'stopped', 'old', 'x'), (3, 1, 1, 1, 3, 'queued', 'old', 'x');
    `);
    db.close();
    const s = openStore(f);
    try {
      expect(s.runs.list().map((r) => [r.id, r.status])).toEqual([[1, 'interrupted'], [2, 'stopped'], [3, 'queued']]);
      s.runs.claim(1); // resumable
      expect(s.runs.get(1)!.status).toBe('running');
    } finally {
      s.close();
    }
  });
});
