// Whether a model fits this machine's memory: node-llama-cpp's own estimate (GgufInsights) when it can
// read the file, else weights + KV cache + compute buffer computed from the header.
import { freemem, totalmem } from 'node:os';
import { GgufInsights, readGgufFileInfo } from 'node-llama-cpp';
import type { ModelInfo } from './registry';

export interface FitEstimate {
  /** Bytes of RAM the model plus one context needs. */
  requiredBytes: number;
  weightsBytes: number;
  contextBytes: number;
  contextSize: number;
  freeBytes: number;
  totalBytes: number;
  /** Fits in free memory now. */
  fitsFree: boolean;
  /** Fits in total memory (may need other programs closed). */
  fitsTotal: boolean;
  source: 'node-llama-cpp' | 'header';
}

export interface FitOptions {
  contextSize?: number;
  batchSize?: number;
  /** Override the machine's memory figures (tests). */
  freeBytes?: number;
  totalBytes?: number;
}

/** Own estimate: weights (file size) + F16 KV cache + logits and activations for one batch. */
export function headerEstimate(info: ModelInfo, contextSize: number, batchSize: number): { weights: number; context: number } {
  const h = info.hparams;
  const kv = 2 * h.nLayer * contextSize * h.nHeadKv * h.headDim * 2;
  const compute = batchSize * (info.vocabulary.size * 4 + (h.nFf ?? 4 * h.nEmbd) * 4 * 3 + h.nEmbd * 4 * 8) + contextSize * batchSize * h.nHead * 4;
  return { weights: info.fileSize, context: kv + compute };
}

export async function estimateFit(info: ModelInfo, opts: FitOptions = {}): Promise<FitEstimate> {
  const contextSize = opts.contextSize ?? Math.min(info.contextLength ?? 4096, 4096);
  const batchSize = opts.batchSize ?? 512;
  const freeBytes = opts.freeBytes ?? freemem();
  const totalBytes = opts.totalBytes ?? totalmem();
  let weights: number;
  let context: number;
  let source: FitEstimate['source'] = 'node-llama-cpp';
  try {
    const fileInfo = await readGgufFileInfo(info.path, { logWarnings: false });
    const insights = await GgufInsights.from(fileInfo);
    weights = insights.estimateModelResourceRequirements({ gpuLayers: 0 }).cpuRam;
    context = insights.estimateContextResourceRequirements({ contextSize, modelGpuLayers: 0, batchSize }).cpuRam;
  } catch {
    const e = headerEstimate(info, contextSize, batchSize);
    weights = e.weights;
    context = e.context;
    source = 'header';
  }
  const requiredBytes = weights + context;
  return {
    requiredBytes, weightsBytes: weights, contextBytes: context, contextSize, freeBytes, totalBytes,
    fitsFree: requiredBytes <= freeBytes, fitsTotal: requiredBytes <= totalBytes, source,
  };
}

/** How much of a model fits in a GPU's memory (all layers offloaded, or how many of them). */
export interface GpuFitEstimate {
  /** Layers node-llama-cpp can offload (the blocks plus the output layer). */
  totalLayers: number;
  /** VRAM the model plus one context needs with every layer offloaded. */
  fullBytes: number;
  /** The most layers whose weights and context fit in the free VRAM (0..totalLayers). */
  layersThatFit: number;
  vramFreeBytes: number;
  vramTotalBytes: number;
  source: 'node-llama-cpp' | 'header';
}

/**
 * VRAM fit for GPU offload: node-llama-cpp's estimate of the GPU part of the weights and of one context per
 * number of offloaded layers when it can read the file, else the header's total split evenly over the layers.
 */
export async function estimateGpuFit(info: ModelInfo, vram: { free: number; total: number }, opts: Omit<FitOptions, 'freeBytes' | 'totalBytes'> = {}): Promise<GpuFitEstimate> {
  const contextSize = opts.contextSize ?? Math.min(info.contextLength ?? 4096, 4096);
  const batchSize = opts.batchSize ?? 512;
  let needFor: (layers: number) => number;
  let totalLayers: number;
  let source: GpuFitEstimate['source'] = 'node-llama-cpp';
  try {
    const insights = await GgufInsights.from(await readGgufFileInfo(info.path, { logWarnings: false }));
    totalLayers = insights.totalLayers;
    needFor = (k) =>
      insights.estimateModelResourceRequirements({ gpuLayers: k }).gpuVram +
      insights.estimateContextResourceRequirements({ contextSize, modelGpuLayers: k, batchSize }).gpuVram;
  } catch {
    const e = headerEstimate(info, contextSize, batchSize);
    totalLayers = info.hparams.nLayer + 1;
    needFor = (k) => ((e.weights + e.context) * k) / totalLayers;
    source = 'header';
  }
  let layersThatFit = 0;
  for (let k = 1; k <= totalLayers; k++) if (needFor(k) <= vram.free) layersThatFit = k;
  return { totalLayers, fullBytes: needFor(totalLayers), layersThatFit, vramFreeBytes: vram.free, vramTotalBytes: vram.total, source };
}
