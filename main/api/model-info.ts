import { estimateFit, type ModelInfo } from '../models/registry';
import type { ModelFit } from './catalogue';

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
  const f = await estimateFit(info);
  const fit: ModelFit = {
    needBytes: f.requiredBytes,
    freeBytes: f.freeBytes,
    fits: f.fitsTotal,
    note: f.fitsFree
      ? `needs about ${gib(f.requiredBytes)} with a ${f.contextSize}-token context; ${gib(f.freeBytes)} free now`
      : f.fitsTotal
        ? `needs about ${gib(f.requiredBytes)}: more than the ${gib(f.freeBytes)} free now, close other programs`
        : `needs about ${gib(f.requiredBytes)}, more than this machine's ${gib(f.totalBytes)}`,
  };
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
