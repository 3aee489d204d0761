import { afterAll, describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '../../main/api/catalogue';
import { ok, tempWorkbench } from './helpers';

// The engine process inherits this: fail an unreachable download after 3 s instead of 30 s.
process.env.RW_DOWNLOAD_TIMEOUT_MS = '3000';

describe('API: model download from an hf: address', () => {
  const t = tempWorkbench();
  afterAll(() => t.cleanup());

  it('refuses anything but an hf: address or https URL (no local paths)', async () => {
    for (const address of ['/etc/passwd', 'file:///etc/passwd', '../model.gguf', 'http://example.com/m.gguf']) {
      const env = await t.wb.call('downloadModel', { address });
      expect(env.ok).toBe(false);
      if (!env.ok) expect(env.error.fields?.address).toMatch(/hf: address/);
    }
  });

  it('reports an unreachable download as a failed event with the reason, registering nothing', async () => {
    const events: WorkbenchEvent[] = [];
    t.wb.onEvent((e) => events.push(e));
    const { downloadId } = ok(await t.wb.call('downloadModel', { address: 'hf:rationale-workbench/no-such-repo/model.Q4_K_M.gguf' })) as {
      downloadId: number;
    };
    const t0 = Date.now();
    let last: WorkbenchEvent | undefined;
    while (Date.now() - t0 < 60_000) {
      last = events.filter((e) => e.type === 'download' && e.download.downloadId === downloadId).at(-1);
      if (last && last.type === 'download' && last.download.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(last?.type === 'download' && last.download.status).toBe('failed');
    if (last?.type === 'download') expect(last.download.message).toMatch(/hf:rationale-workbench\/no-such-repo/);
    expect(t.wb.store.models.list()).toHaveLength(0);
  });
});
