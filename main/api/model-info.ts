import { estimateFit, type FitEstimate, type ModelInfo } from '../models/registry';
import { estimateGpuFit } from '../models/registry-fit';
import type { HardwareInfo } from '../models/hardware';
import type { ModelFit, VramFit } from './catalogue';

/** What the engine reports about a GGUF file (the API adds the display name). */
export interface ModelInspectionData {
  size: number;
  sha256: string;
  architecture: string | null;
  parameterCount: number | null;
  quantization: string | null;
  contextLength: number | null;
  chatTemplate: string | null;
  metadata: Record<string, unknown>;
  fit: ModelFit;
}

const gib = (n: number) => `${(n / 2 ** 30).toFixed(n < 2 ** 30 ? 2 : 1)} GiB`;

/** The registry's inspection and memory estimate, in the API's shape. */
export async function toInspection(info: ModelInfo): Promise<ModelInspectionData> {
  const fit = ramFit(await estimateFit(info));
  return {
    size: info.fileSize,
    sha256: info.sha256,
    architecture: info.architecture,
    parameterCount: info.parameterCount,
    quantization: info.quantization.dominant,
    contextLength: info.contextLength,
    chatTemplate: info.chatTemplate,
    metadata: { name: info.name, ggufVersion: info.ggufVersion, tensorCount: info.tensorCount, hparams: info.hparams, vocabulary: info.vocabulary },
    fit,
  };
}

/** The RAM estimate in the API's shape, with the sentence the Models screen shows. */
export function ramFit(f: FitEstimate): ModelFit {
  return {
    needBytes: f.requiredBytes,
    freeBytes: f.freeBytes,
    fits: f.fitsTotal,
    note: f.fitsFree
      ? `needs about ${gib(f.requiredBytes)} with a ${f.contextSize}-token context; ${gib(f.freeBytes)} free now`
      : f.fitsTotal
        ? `needs about ${gib(f.requiredBytes)}: more than the ${gib(f.freeBytes)} free now, close other programs`
        : `needs about ${gib(f.requiredBytes)}, more than this machine's ${gib(f.totalBytes)}`,
  };
}

/** The VRAM fit for GPU offload (null without a GPU: the model runs on the CPU). */
export async function vramFit(info: ModelInfo, gpu: HardwareInfo['gpu']): Promise<VramFit | null> {
  if (!gpu) return null;
  const g = await estimateGpuFit(info, { free: gpu.vramFreeBytes, total: gpu.vramTotalBytes });
  const fits = g.layersThatFit >= g.totalLayers ? 'full' : g.layersThatFit > 0 ? 'partial' : 'none';
  return {
    needBytes: g.fullBytes,
    freeBytes: g.vramFreeBytes,
    totalLayers: g.totalLayers,
    layersThatFit: g.layersThatFit,
    fits,
    note:
      fits === 'full'
        ? `all ${g.totalLayers} layers fit: needs about ${gib(g.fullBytes)} of the ${gib(g.vramFreeBytes)} VRAM free`
        : fits === 'partial'
          ? `${g.layersThatFit} of ${g.totalLayers} layers fit in the ${gib(g.vramFreeBytes)} VRAM free (all need about ${gib(g.fullBytes)}); the rest run on the CPU`
          : `no layer fits in the ${gib(g.vramFreeBytes)} VRAM free: runs on the CPU`,
  };
}
