/**
 * The Run monitor shows a run whose process is gone (killed, crashed, machine restarted: its lease is over)
 * as "interrupted — resume", with a Resume button and no Pause, instead of 'running' forever.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { dataset, example, minimalConfig } from '../store/helpers';
import { chromiumAvailable, openBrowserMode } from './harness';

describe.skipIf(!chromiumAvailable)('Run monitor: interrupted runs (Chromium)', () => {
  it('shows "interrupted — resume" with a Resume button', async () => {
    const s = await openBrowserMode();
    try {
      const { store } = s.t.wb;
      const d = store.datasets.insert(dataset('d', [example('1', 'a good film', 'positive', [1])]));
      const m = store.models.register({ path: '/m.gguf', sha256: 'a'.repeat(64), fileSize: 1 });
      const st = store.studies.create('s', minimalConfig(d, m));
      const live = store.runs.create({ studyId: st, modelId: m, datasetId: d, seed: 1, appVersion: 't', total: 1 });
      const gone = store.runs.create({ studyId: st, modelId: m, datasetId: d, seed: 2, appVersion: 't', total: 1 });
      store.runs.claim(live); // held by this (live) process
      store.runs.claim(gone);
      const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
      store.db.prepare(`UPDATE leases SET pid = ? WHERE kind = 'run' AND target_id = ?`).run(deadPid, gone);

      await s.page.getByRole('tab', { name: 'Run monitor' }).click();
      const table = s.page.getByTestId('runs-table');
      await table.waitFor({ timeout: 30_000 });
      const row = (id: number) => table.locator('tbody tr').filter({ has: s.page.locator('td:first-child', { hasText: new RegExp(`^${id}$`) }) });
      await row(gone).locator('td:nth-child(5)', { hasText: 'interrupted — resume' }).waitFor();
      expect(await row(gone).getByRole('button', { name: 'Resume' }).count()).toBe(1);
      expect(await row(gone).getByRole('button', { name: 'Pause' }).count()).toBe(0);
      expect((await row(live).locator('td:nth-child(5)').textContent())?.trim()).toBe('running');
      expect(await row(live).getByRole('button', { name: 'Pause' }).count()).toBe(1);
      await s.shot('runs-interrupted');
      expect(s.pageErrors).toEqual([]);
    } finally {
      await s.close();
    }
  }, 300_000);
});
