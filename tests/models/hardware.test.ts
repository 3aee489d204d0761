import { copyFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { getLlamaGpuTypes } from 'node-llama-cpp';
import { afterAll, describe, expect, it } from 'vitest';
import type { HardwareReport, ModelEntry } from '../../main/api/catalogue';
import { vramFit } from '../../main/api/model-info';
import { detectHardware } from '../../main/models/hardware';
import { inspectModel } from '../../main/models/registry';
import { estimateGpuFit } from '../../main/models/registry-fit';
import { gpuPlan, ModelSession } from '../../main/models/session';
import { physicalCoreCount } from '../../main/models/session-threads';
import { ok, shared, tempWorkbench } from '../api/helpers';
import { storiesPath } from '../protocol/helpers';

/**
 * Hardware (issue 12 item 11): node-llama-cpp's view of this machine's GPU, and GPU offload that falls back
 * to the CPU. This machine has no GPU (node-llama-cpp supports none here: getLlamaGpuTypes('supported') is
 * [false]), so the real answer is "CPU only"; the VRAM fit is checked against given VRAM figures.
 */
describe('hardware detection', () => {
  it('answers what node-llama-cpp reports: on this machine CPU only, with its RAM and cores', async () => {
    const supported = await getLlamaGpuTypes('supported');
    const h = await detectHardware();
    expect(Object.keys(h).sort()).toEqual(['cpuCores', 'gpu', 'ram', 'summary']);
    expect(h.cpuCores).toBe(physicalCoreCount());
    expect(h.ram.totalBytes).toBe(totalmem());
    expect(h.ram.freeBytes).toBeGreaterThan(0);
    if (supported.every((g) => g === false)) {
      expect(h.gpu).toBeNull();
      expect(h.summary).toMatch(/^CPU only \(no GPU found\); \d+ CPU cores?, \d+\.\d GiB RAM$/);
    } else {
      // a machine with a GPU node-llama-cpp can use: its type, device names and VRAM
      expect(h.gpu).toMatchObject({ type: expect.any(String), devices: expect.any(Array), vramTotalBytes: expect.any(Number) });
      expect(h.summary).toMatch(/^GPU: /);
    }
  }, 60_000);
});

describe('GPU offload', () => {
  it('gpuPlan: 0 or absent loads the CPU build only; "auto" or a number asks for the GPU build with that many layers', () => {
    expect(gpuPlan(undefined)).toEqual({ gpu: false, load: {} });
    expect(gpuPlan(0)).toEqual({ gpu: false, load: {} });
    expect(gpuPlan('auto')).toEqual({ gpu: 'auto', load: { gpuLayers: 'auto' } });
    expect(gpuPlan(12)).toEqual({ gpu: 'auto', load: { gpuLayers: 12 } });
  });

  it('a session asking for every layer on the GPU loads and evaluates here, on the CPU', async () => {
    const s = new ModelSession({ gpu: 'auto', gpuLayers: 'auto', threads: 1, contextSize: 128, idleReleaseMs: 0 });
    const n = await s.use(storiesPath, async (m) => {
      expect(m.llama.gpu).toBe(false);
      return m.model.tokenize('Once upon a time').length;
    });
    expect(n).toBeGreaterThan(0);
    await s.release();
  }, 60_000);

  it('VRAM fit: every layer, some layers or none, from node-llama-cpp\'s estimate per layer', async () => {
    const info = await inspectModel(join(shared, 'models/stories260K.gguf'));
    const all = await estimateGpuFit(info, { free: 2 ** 30, total: 2 ** 30 });
    expect(all.source).toBe('node-llama-cpp');
    expect(all.totalLayers).toBe(info.hparams.nLayer + 1);
    expect(all.layersThatFit).toBe(all.totalLayers);
    expect(all.fullBytes).toBeGreaterThan(0);
    const none = await estimateGpuFit(info, { free: 1, total: 1 });
    expect(none.layersThatFit).toBe(0);
    // just under what all layers need: fewer layers fit
    const some = await estimateGpuFit(info, { free: all.fullBytes - 1, total: all.fullBytes });
    expect(some.layersThatFit).toBeLessThan(all.totalLayers);
    const gpu = { type: 'cuda', devices: ['test'], vramTotalBytes: 2 ** 30, vramFreeBytes: 2 ** 30, unifiedMemory: false };
    expect(await vramFit(info, gpu)).toMatchObject({ fits: 'full', totalLayers: all.totalLayers, layersThatFit: all.totalLayers });
    expect((await vramFit(info, { ...gpu, vramFreeBytes: 1 }))!.note).toMatch(/^no layer fits in the 0\.00 GiB VRAM free: runs on the CPU$/);
    expect(await vramFit(info, null)).toBeNull();
  });
});

describe('API: hardwareInfo', () => {
  const t = tempWorkbench();
  afterAll(() => t.cleanup());

  it('reports the machine and, per registered model, RAM fit and VRAM fit (none without a GPU)', async () => {
    const mine = join(t.dir, 'stories.gguf');
    copyFileSync(storiesPath, mine);
    ok(await t.wb.call('registerModel', { file: t.upload(mine) }));
    const [model] = ok(await t.wb.call('listModels', {})) as ModelEntry[];
    const r = ok(await t.wb.call('hardwareInfo', {})) as HardwareReport;
    expect(r.hardware.summary).toMatch(/^(CPU only|GPU: )/);
    expect(r.models).toHaveLength(1);
    expect(r.models[0].modelId).toBe(model.id);
    expect(r.models[0].ram).toMatchObject({ fits: true, needBytes: expect.any(Number), note: expect.stringMatching(/^needs about /) });
    if (!r.hardware.gpu) expect(r.models[0].vram).toBeNull();
  }, 120_000);
});
