/**
 * `runs`: each run with its status; a run another live process is running names that process and since when;
 * a run whose process is gone is "interrupted — resume" with the command that resumes it.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../main/store';
import { cliInProcess } from '../fixtures/cli-in-process';
import { dataset, example, minimalConfig, tempDir } from '../store/helpers';

const tmp = tempDir('rw-cli-runs-');
afterAll(() => tmp.cleanup());

describe('cli runs', () => {
  it('lists running (with its holder), interrupted (with resume) and finished runs', async () => {
    const db = tmp.file();
    const store = openStore(db);
    const d = store.datasets.insert(dataset('d', [example('1', 'a good film', 'positive', [1])]));
    const m = store.models.register({ path: '/m.gguf', sha256: 'a'.repeat(64), fileSize: 1 });
    const s = store.studies.create('my study', minimalConfig(d, m));
    const ids = [1, 2, 3].map((seed) => store.runs.create({ studyId: s, modelId: m, datasetId: d, seed, appVersion: 't', total: 1 }));
    for (const id of ids.slice(0, 2)) store.runs.claim(id);
    const setPid = store.db.prepare(`UPDATE leases SET pid = ? WHERE kind = 'run' AND target_id = ?`);
    setPid.run(process.ppid, ids[0]); // a live process on this host (the test runner)
    setPid.run(spawnSync(process.execPath, ['-e', '']).pid!, ids[1]); // gone
    store.runs.finish(ids[2], { status: 'failed', error: 'model file vanished' });
    const since = store.runs.lease(ids[0])!.acquiredAt;
    store.close();

    const text = await cliInProcess(['--db', db, 'runs']);
    expect(text.code).toBe(0);
    // columns joined by ' | '; the heartbeat's age depends on how fast this machine is
    const lines = text.out.trimEnd().split('\n').map((l) => l.replace(/\s{2,}/g, ' | ').replace(/last heartbeat \d+ s ago/, 'last heartbeat N s ago'));
    expect(lines).toEqual([
      'id | study | seed | status | progress | note',
      `1 | my study | 1 | running | 0/1 | by process ${process.ppid} on host ${hostname()} since ${since} (last heartbeat N s ago)`,
      '2 | my study | 2 | interrupted — resume | 0/1 | resume: run <study.json | my study> --resume',
      '3 | my study | 3 | failed | 0/1 | model file vanished',
    ]);
    const json = await cliInProcess(['--db', db, '--json', 'runs', '--study', String(s)]);
    expect(JSON.parse(json.out).map((r: { id: number; status: string; heldBy: unknown }) => [r.id, r.status, r.heldBy])).toEqual([
      [1, 'running', { pid: process.ppid, host: hostname(), since, heartbeatAt: since }],
      [2, 'interrupted', null],
      [3, 'failed', null],
    ]);
  });
});
