// The runs of an engine process that died are failed with the reason in the database (real SQLite file):
// a running run "during this run", a queued one "before this run started"; finished runs are left alone.
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { failRunsOfLostProcess } from '../../main/api/engine-crash';
import { openStore } from '../../main/store';
import { dataset, example, minimalConfig, tempDir } from '../store/helpers';

const tmp = tempDir('rw-lost-');
afterAll(() => tmp.cleanup());

function setUp() {
  const file = tmp.file();
  const store = openStore(file);
  const d = store.datasets.insert(dataset('d', [example('1', 'a good film', 'positive')]));
  const m = store.models.register({ path: '/m.gguf', sha256: 'a'.repeat(64), fileSize: 1 });
  const study = store.studies.create('s', minimalConfig(d, m));
  const other = store.studies.create('t', minimalConfig(d, m));
  const run = (studyId: number, seed: number, status: 'running' | 'queued' | 'done' | 'paused') => {
    const id = store.runs.create({ studyId, modelId: m, datasetId: d, seed, appVersion: 't', total: 1 });
    if (status !== 'queued') store.runs.setStatus(id, status);
    return id;
  };
  const ids = { running: run(study, 1, 'running'), queued: run(study, 2, 'queued'), done: run(study, 3, 'done'), paused: run(study, 4, 'paused'), otherStudy: run(other, 1, 'running') };
  store.close();
  return { file, study, ids };
}

describe('failRunsOfLostProcess', () => {
  it('fails the study\'s running and queued runs with the reason, and says so in events', () => {
    const { file, study, ids } = setUp();
    const events = failRunsOfLostProcess(file, { studyId: study }, 'SIGABRT');
    const store = openStore(file);
    try {
      const running = store.runs.get(ids.running)!;
      expect(running.status).toBe('failed');
      expect(running.error).toBe('the engine process running this study stopped (SIGABRT) during this run; other runs were not affected. Resume the run to continue after its last stored example; if it stops again, check the model (models inspect).');
      expect(running.finishedAt).not.toBeNull();
      const queued = store.runs.get(ids.queued)!;
      expect(queued.status).toBe('failed');
      expect(queued.error).toMatch(/^the engine process running this study stopped \(SIGABRT\) before this run started;/);
      expect(store.runs.get(ids.done)!.status).toBe('done');
      expect(store.runs.get(ids.paused)!.status).toBe('paused');
      expect(store.runs.get(ids.otherStudy)!.status).toBe('running');
      expect(events.map((e) => e.type === 'run-progress' ? `progress ${e.run.id} ${e.run.status}` : `error ${e.runId}`)).toEqual([
        `progress ${ids.running} failed`, `error ${ids.running}`, `progress ${ids.queued} failed`, `error ${ids.queued}`,
      ]);
    } finally {
      store.close();
    }
  });

  it('by run ids (the shared process\'s runs), leaving the others', () => {
    const { file, ids } = setUp();
    failRunsOfLostProcess(file, { runIds: [ids.otherStudy] }, 'exit code 134');
    const store = openStore(file);
    try {
      expect(store.runs.get(ids.otherStudy)!.error).toMatch(/stopped \(exit code 134\) during this run/);
      expect(store.runs.get(ids.running)!.status).toBe('running');
    } finally {
      store.close();
    }
  });

  it('never throws when the database cannot be opened', () => {
    expect(failRunsOfLostProcess(`${tmp.dir}/no/such/dir/x.sqlite`, { studyId: 1 }, 'SIGKILL')).toEqual([]);
  });
});

describe('failRunsOfLostProcess and run leases', () => {
  /** A run claimed by a process that has exited: it reads as interrupted (its lease names a dead pid). */
  function leasedByDead(file: string, runId: number): number {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const store = openStore(file);
    try {
      store.db.prepare(`INSERT INTO leases (kind, target_id, owner, pid, host, acquired_ms, heartbeat_ms, expires_ms) VALUES ('run', ?, ?, ?, ?, ?, ?, ?)`)
        .run(runId, `${hostname()}:${dead}:x`, dead, hostname(), Date.now(), Date.now(), Date.now() + 600_000);
      expect(store.runs.get(runId)!.status).toBe('interrupted');
    } finally {
      store.close();
    }
    return dead;
  }

  it("fails an interrupted run whose lease names the lost process, and leaves one another process left", () => {
    const { file, study, ids } = setUp();
    const lost = leasedByDead(file, ids.running);
    leasedByDead(file, ids.otherStudy);
    failRunsOfLostProcess(file, { runIds: [ids.otherStudy] }, 'SIGKILL', lost);
    failRunsOfLostProcess(file, { studyId: study }, 'SIGKILL', lost);
    const store = openStore(file);
    try {
      expect(store.runs.get(ids.running)!).toMatchObject({ status: 'failed', error: expect.stringMatching(/stopped \(SIGKILL\) during this run/) });
      // interrupted by another (earlier) process: not this crash's to report
      expect(store.runs.get(ids.otherStudy)!.status).toBe('interrupted');
    } finally {
      store.close();
    }
  });
});
