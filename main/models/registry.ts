// Model registry: inspect a GGUF file (hash, architecture, size, quantization, template, vocabulary),
// refuse what the workbench cannot run, and record it in the store.
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { GgufError, readGguf } from '../gguf/reader';
import { ggmlTypeName, GgmlType } from '../gguf/quant/types';
import { isGgufArray, type GgufFile } from '../gguf/types';
import { validateModel } from '../gguf/validate';
import type { Store } from '../store/index';

export { estimateFit, type FitEstimate } from './registry-fit';
export { downloadModel, type DownloadOptions } from './registry-download';

/** Architectures the model runner and the LRP engine support. */
export const SUPPORTED_ARCHITECTURES = ['llama', 'qwen2', 'qwen3', 'qwen3moe', 'gemma3'] as const;
/** Tensor types published GGUF files use that the LRP engine supports. */
export const SUPPORTED_TENSOR_TYPES: readonly number[] = [
  GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0,
  GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
];

// llama_ftype names (include/llama.h).
const FILE_TYPE_NAMES: Record<number, string> = {
  0: 'ALL_F32', 1: 'MOSTLY_F16', 2: 'MOSTLY_Q4_0', 3: 'MOSTLY_Q4_1', 7: 'MOSTLY_Q8_0', 8: 'MOSTLY_Q5_0',
  9: 'MOSTLY_Q5_1', 10: 'MOSTLY_Q2_K', 11: 'MOSTLY_Q3_K_S', 12: 'MOSTLY_Q3_K_M', 13: 'MOSTLY_Q3_K_L',
  14: 'MOSTLY_Q4_K_S', 15: 'MOSTLY_Q4_K_M', 16: 'MOSTLY_Q5_K_S', 17: 'MOSTLY_Q5_K_M', 18: 'MOSTLY_Q6_K',
  21: 'MOSTLY_Q2_K_S', 32: 'MOSTLY_BF16',
};

export class ModelRefusedError extends Error {
  /** Every problem found (one or more); `reason` joins them. */
  readonly problems: string[];
  readonly reason: string;
  constructor(public readonly file: string, reason: string | string[]) {
    const problems = Array.isArray(reason) ? reason : [reason];
    const joined = problems.join('; ');
    super(`${file}: ${joined}`);
    this.name = 'ModelRefusedError';
    this.problems = problems;
    this.reason = joined;
  }
}

export interface ModelInfo {
  path: string;
  fileSize: number;
  sha256: string;
  ggufVersion: number;
  name: string | null;
  architecture: string;
  parameterCount: number;
  tensorCount: number;
  quantization: {
    /** The type holding most weight elements among 2-D+ tensors, e.g. "Q4_K". */
    dominant: string;
    /** Tensors per type name. */
    tensorsByType: Record<string, number>;
    /** Elements per type name. */
    elementsByType: Record<string, number>;
    fileType: number | null;
    fileTypeName: string | null;
  };
  contextLength: number | null;
  chatTemplate: string | null;
  vocabulary: {
    model: string | null;
    pre: string | null;
    size: number;
    bos: number | null;
    eos: number | null;
    unk: number | null;
  };
  hparams: {
    nLayer: number;
    nEmbd: number;
    nFf: number | null;
    nHead: number;
    nHeadKv: number;
    headDim: number;
    nExpert: number;
    nExpertUsed: number;
    ropeBase: number | null;
    rmsEps: number | null;
  };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function num(f: GgufFile, key: string): number | null {
  const v = f.metadata.get(key);
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  // Per-layer arrays (e.g. head_count_kv): take the first layer's value.
  if (isGgufArray(v) && v.items.length > 0 && typeof v.items[0] === 'number') return v.items[0] as number;
  return null;
}

function str(f: GgufFile, key: string): string | null {
  const v = f.metadata.get(key);
  return typeof v === 'string' ? v : null;
}

/** Reads the header and checks support; no hashing (fast). Throws ModelRefusedError with the reason. */
export function inspectHeader(path: string): Omit<ModelInfo, 'sha256'> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new ModelRefusedError(abs, 'file not found');
  let f: GgufFile;
  try {
    f = readGguf(abs);
  } catch (e) {
    if (e instanceof GgufError) throw new ModelRefusedError(abs, e.message.slice(abs.length + 2));
    throw e;
  }
  const arch = str(f, 'general.architecture');
  if (!arch) throw new ModelRefusedError(abs, 'no general.architecture in the metadata');
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(arch)) {
    throw new ModelRefusedError(abs, `unsupported architecture "${arch}" (supported: ${SUPPORTED_ARCHITECTURES.join(', ')})`);
  }
  if (f.tensors.length === 0) throw new ModelRefusedError(abs, 'no tensors (a vocab-only file cannot be run)');
  const problems: string[] = [];
  const bad = f.tensors.filter((t) => !SUPPORTED_TENSOR_TYPES.includes(t.type));
  if (bad.length) {
    const types = [...new Set(bad.map((t) => ggmlTypeName(t.type)))];
    problems.push(`unsupported tensor type ${types.join(', ')} (e.g. tensor "${bad[0].name}"; supported: ${SUPPORTED_TENSOR_TYPES.map(ggmlTypeName).join(', ')})`);
  }
  // Hyperparameters, tensor shapes and data layout: a malformed model is refused here with every problem,
  // never handed to llama.cpp, which aborts the process on some of them (gguf/validate.ts).
  problems.push(...validateModel(f, arch).problems);
  if (problems.length) throw new ModelRefusedError(abs, problems);
  const tensorsByType: Record<string, number> = {};
  const elementsByType: Record<string, number> = {};
  const matrixElements: Record<string, number> = {};
  for (const t of f.tensors) {
    const name = ggmlTypeName(t.type);
    tensorsByType[name] = (tensorsByType[name] ?? 0) + 1;
    elementsByType[name] = (elementsByType[name] ?? 0) + t.nElements;
    if (t.shape.length >= 2) matrixElements[name] = (matrixElements[name] ?? 0) + t.nElements;
  }
  const dominant = Object.entries(matrixElements).sort((a, b) => b[1] - a[1])[0]?.[0] ?? Object.keys(elementsByType)[0];
  const fileType = num(f, 'general.file_type');
  const tokens = f.metadata.get('tokenizer.ggml.tokens');
  const nEmbd = num(f, `${arch}.embedding_length`) ?? 0;
  const nHead = num(f, `${arch}.attention.head_count`) ?? 0;
  return {
    path: abs,
    fileSize: f.fileSize,
    ggufVersion: f.version,
    name: str(f, 'general.name'),
    architecture: arch,
    parameterCount: f.tensors.reduce((a, t) => a + t.nElements, 0),
    tensorCount: f.tensors.length,
    quantization: {
      dominant,
      tensorsByType,
      elementsByType,
      fileType,
      fileTypeName: fileType === null ? null : (FILE_TYPE_NAMES[fileType] ?? `unknown(${fileType})`),
    },
    contextLength: num(f, `${arch}.context_length`),
    chatTemplate: str(f, 'tokenizer.chat_template'),
    vocabulary: {
      model: str(f, 'tokenizer.ggml.model'),
      pre: str(f, 'tokenizer.ggml.pre'),
      size: isGgufArray(tokens) ? tokens.items.length : (num(f, `${arch}.vocab_size`) ?? 0),
      bos: num(f, 'tokenizer.ggml.bos_token_id'),
      eos: num(f, 'tokenizer.ggml.eos_token_id'),
      unk: num(f, 'tokenizer.ggml.unknown_token_id'),
    },
    hparams: {
      nLayer: num(f, `${arch}.block_count`) ?? 0,
      nEmbd,
      nFf: num(f, `${arch}.feed_forward_length`),
      nHead,
      nHeadKv: num(f, `${arch}.attention.head_count_kv`) ?? nHead,
      headDim: num(f, `${arch}.attention.key_length`) ?? (nHead ? nEmbd / nHead : 0),
      nExpert: num(f, `${arch}.expert_count`) ?? 0,
      nExpertUsed: num(f, `${arch}.expert_used_count`) ?? 0,
      ropeBase: num(f, `${arch}.rope.freq_base`),
      rmsEps: num(f, `${arch}.attention.layer_norm_rms_epsilon`),
    },
  };
}

/** Full inspection: header checks plus a streaming sha256 of the whole file. */
export async function inspectModel(path: string): Promise<ModelInfo> {
  const header = inspectHeader(path);
  return { ...header, sha256: await sha256File(header.path) };
}

export interface RegisterOptions {
  /** Copy the file into this directory first (named <sha256-prefix>-<name>); by default the file stays put. */
  copyTo?: string;
  /**
   * Move the file into this directory instead (same name rule): for a temporary upload, which then
   * needs no second copy. A same-content file already there is kept and the upload removed.
   */
  moveTo?: string;
}

export interface RegisteredModel {
  id: number;
  info: ModelInfo;
}

/** rename(2), or copy then delete where the directories are on different file systems. */
function moveFile(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    copyFileSync(from, to);
    rmSync(from);
  }
}

/** Inspects and records a model; registering the same content again updates the existing row. */
export async function registerModel(store: Store, path: string, opts: RegisterOptions = {}): Promise<RegisteredModel> {
  let info = await inspectModel(path);
  if (opts.copyTo) {
    mkdirSync(opts.copyTo, { recursive: true });
    const dest = resolve(join(opts.copyTo, `${info.sha256.slice(0, 12)}-${basename(info.path)}`));
    if (dest !== info.path) {
      if (!existsSync(dest) || statSync(dest).size !== info.fileSize) copyFileSync(info.path, dest);
      const copied = await sha256File(dest);
      if (copied !== info.sha256) throw new ModelRefusedError(dest, `copy has sha256 ${copied}, source ${info.sha256}`);
      info = { ...info, path: dest };
    }
  } else if (opts.moveTo) {
    mkdirSync(opts.moveTo, { recursive: true });
    const dest = resolve(join(opts.moveTo, `${info.sha256.slice(0, 12)}-${basename(info.path)}`));
    if (dest !== info.path) {
      if (existsSync(dest) && (await sha256File(dest)) === info.sha256) rmSync(info.path);
      else moveFile(info.path, dest);
      info = { ...info, path: dest };
    }
  }
  const id = store.models.register({
    path: info.path,
    sha256: info.sha256,
    fileSize: info.fileSize,
    architecture: info.architecture,
    parameterCount: info.parameterCount,
    quantization: info.quantization.dominant,
    contextLength: info.contextLength,
    chatTemplate: info.chatTemplate,
    vocabulary: { ...info.vocabulary },
    metadata: { name: info.name, ggufVersion: info.ggufVersion, tensorCount: info.tensorCount, quantization: info.quantization, hparams: info.hparams },
  });
  return { id, info };
}
