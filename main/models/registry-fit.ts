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
