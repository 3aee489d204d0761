// Deterministic tiny (or benchmark-sized) llama / mixtral / qwen2 / qwen3 / gemma3 GGUF models with seeded random weights,
// a real or synthetic tokenizer and a chat template. Same options -> same bytes.
import { rmSync } from 'node:fs';
import { hashString, Sfc32 } from './prng';
import { quantize } from './quant/index';
import { GgmlType, TYPE_LAYOUT, type WritableType } from './quant/types';
import { CHAT_TEMPLATES, type ChatTemplateName } from './templates';
import { buildVocab, type VocabSource } from './vocab';
import { kv, writeGguf, type TensorToWrite } from './writer';
import type { GgufKv } from './types';

/** Tensor classes that can get their own weight type. Norms and biases are always F32. */
export type TensorClass = 'embedding' | 'output' | 'attention' | 'ffn' | 'router';

export interface GenerateModelOptions {
  /** Where to write the .gguf file. */
  path: string;
  /**
   * `llama` (NORM rope; with `experts` the Mixtral layout), `qwen2` (q/k/v biases, NEOX rope), `qwen3` (per-head
   * q/k RMS norms, no biases, NEOX rope), `qwen3moe` (qwen3 with `experts`, `expert_feed_forward_length` = nFf) or
   * `gemma3` (q/k norms, post-attention and post-FFN norms, GELU FFN,
   * embeddings scaled by sqrt(d), interleaved sliding-window layers with their own rope base, tied output):
   * llama.cpp's architecture names, hyperparameter keys and tensor names.
   */
  arch?: GeneratedArch;
  seed?: number;
  nLayer?: number;
  nEmbd?: number;
  nHead?: number;
  /** Key/value heads (GQA when < nHead). Defaults to nHead. */
  nHeadKv?: number;
  nFf?: number;
  /** Per-head dimension (`attention.key_length` / `value_length`, written when it differs from nEmbd / nHead). */
  headDim?: number;
  contextLength?: number;
  ropeBase?: number;
  rmsEps?: number;
  /**
   * gemma3's local attention: window (`attention.sliding_window`, default 512), pattern (layer l is local when
   * l % pattern < pattern - 1; written only when given, llama.cpp's default is 6) and the local layers' rope base
   * (`rope.freq_base_swa`, default 10000).
   */
  slidingWindow?: { window?: number; pattern?: number; ropeBase?: number };
  /**
   * Llama 3.1's rope scaling ("rope_type": "llama3"), written as llama.cpp's converter writes it: a `rope_freqs`
   * tensor of per-frequency divisors (convert_hf_to_gguf.py, LlamaModel.generate_extra_tensors). llama only.
   */
  llama3RopeScaling?: { factor: number; lowFreqFactor: number; highFreqFactor: number; originalContext: number };
  /**
   * Linear rope scaling (`rope.scaling.type` linear, `rope.scaling.factor`): angles divided by the factor (Gemma 3
   * 4B and up: factor 8 on the global layers; its local layers keep scale 1).
   */
  ropeScalingLinear?: number;
  /** Mixtral-style experts (llama: the Mixtral layout; required for qwen3moe). */
  experts?: { count: number; used: number };
  vocab?: VocabSource;
  /** Extra whole words for the synthetic vocabulary. */
  syntheticWords?: string[];
  /** Output projection tied to token_embd (no `output` tensor). Default: true for qwen2 and gemma3, false otherwise. */
  tiedOutput?: boolean;
  /** Weight type of every matrix (embedding, output, attention, ffn); default F32. Router stays F32 unless set. */
  weightType?: WritableType;
  /** Per-class overrides of weightType. */
  types?: Partial<Record<TensorClass, WritableType>>;
  /**
   * When a class's type does not divide a row (e.g. K-quants need rows of 256), use ggml's fallback
   * (Q2_K/Q3_K -> Q4_0, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, then F16) instead of throwing.
   */
  typeFallback?: boolean;
  /** A template name, a literal Jinja template, or null for none. Default depends on the vocabulary. */
  chatTemplate?: ChatTemplateName | (string & {}) | null;
  name?: string;
  /** Planted weights: exact float32 values for named tensors (ggml order, rows of shape[0]), replacing random ones. */
  tensors?: Record<string, Float32Array>;
}

export type GeneratedArch = 'llama' | 'qwen2' | 'qwen3' | 'qwen3moe' | 'gemma3';

export interface GeneratedTensor {
  name: string;
  shape: number[];
  type: number;
  cls: TensorClass | 'norm' | 'bias';
}

export interface GeneratedModel {
  path: string;
  sha256: string;
  bytes: number;
  arch: GeneratedArch;
  nParams: number;
  nVocab: number;
  bos?: number;
  eos?: number;
  vocabKind: string;
  chatTemplate: string | null;
  hparams: {
    nLayer: number; nEmbd: number; nHead: number; nHeadKv: number; headDim: number; nFf: number;
    contextLength: number; ropeBase: number; rmsEps: number; nExpert: number; nExpertUsed: number; tiedOutput: boolean;
    ropeScalingLinear?: number;
    /** gemma3 only */
    slidingWindow?: { window: number; pattern?: number; ropeBase: number };
  };
  tensors: GeneratedTensor[];
  fileType: number;
}

// llama_ftype for a model whose matrices are mostly of this type.
const FILE_TYPE: Record<WritableType, number> = {
  F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q8_0: 7, Q5_0: 8, Q5_1: 9, Q2_K: 10, Q3_K: 11, Q4_K: 14, Q5_K: 16, Q6_K: 18, BF16: 32,
};

const FALLBACK: Partial<Record<WritableType, WritableType>> = {
  Q2_K: 'Q4_0', Q3_K: 'Q4_0', Q4_K: 'Q5_0', Q5_K: 'Q5_1', Q6_K: 'Q8_0',
  Q4_0: 'F16', Q4_1: 'F16', Q5_0: 'F16', Q5_1: 'F16', Q8_0: 'F16',
};

function pickType(want: WritableType, rowLength: number, name: string, fallback: boolean): WritableType {
  let t = want;
  while (rowLength % TYPE_LAYOUT[GgmlType[t]].blockSize !== 0) {
    const next = FALLBACK[t];
    if (!fallback || !next) {
      throw new Error(
        `tensor "${name}": row length ${rowLength} is not a multiple of ${t}'s block size ` +
          `${TYPE_LAYOUT[GgmlType[t]].blockSize} (choose sizes that divide, or pass typeFallback: true)`,
      );
    }
    t = next;
  }
  return t;
}

interface PlannedTensor extends GeneratedTensor {
  /** Half-width of the uniform init and its center. */
  init: { half: number; center: number };
}

function plan(o: Required<Pick<GenerateModelOptions, 'arch'>> & GenerateModelOptions, nVocab: number) {
  const nLayer = o.nLayer ?? 2;
  const nEmbd = o.nEmbd ?? 64;
  const nHead = o.nHead ?? 4;
  const nHeadKv = o.nHeadKv ?? nHead;
  const nFf = o.nFf ?? nEmbd * 2;
  if (o.headDim === undefined && nEmbd % nHead !== 0) throw new Error(`nEmbd ${nEmbd} is not divisible by nHead ${nHead}`);
  if (nHead % nHeadKv !== 0) throw new Error(`nHead ${nHead} is not divisible by nHeadKv ${nHeadKv}`);
  const headDim = o.headDim ?? nEmbd / nHead;
  if (headDim % 2 !== 0) throw new Error(`head dimension ${headDim} must be even for RoPE`);
  const experts = o.experts;
  if (experts && o.arch !== 'llama' && o.arch !== 'qwen3moe') throw new Error('experts are only supported with arch "llama" (Mixtral layout) or "qwen3moe"');
  if (!experts && o.arch === 'qwen3moe') throw new Error('arch "qwen3moe" needs experts');
  if (experts && (experts.used < 1 || experts.used > experts.count)) {
    throw new Error(`experts.used ${experts.used} must be in 1..${experts.count}`);
  }
  if (o.slidingWindow && o.arch !== 'gemma3') throw new Error('slidingWindow is only supported with arch "gemma3"');
  if (o.llama3RopeScaling && o.arch !== 'llama') throw new Error('llama3RopeScaling is only supported with arch "llama"');
  const tied = o.tiedOutput ?? (o.arch === 'qwen2' || o.arch === 'gemma3');
  const base = o.weightType ?? 'F32';
  const typeOf = (cls: TensorClass): WritableType => o.types?.[cls] ?? (cls === 'router' ? 'F32' : base);
  const fb = o.typeFallback ?? false;
  const tensors: PlannedTensor[] = [];
  const mat = (name: string, shape: number[], cls: TensorClass, half: number): void => {
    tensors.push({ name, shape, cls, type: GgmlType[pickType(typeOf(cls), shape[0], name, fb)], init: { half, center: 0 } });
  };
  const f32 = (name: string, shape: number[], cls: 'norm' | 'bias'): void => {
    tensors.push({
      name, shape, cls, type: GgmlType.F32,
      init: cls === 'norm' ? { half: 0.1, center: 1 } : { half: 0.1, center: 0 },
    });
  };
  // Uniform half-width sqrt(3/fan_in) gives unit-variance-preserving projections.
  const w = (fanIn: number): number => Math.sqrt(3 / fanIn);
  const qDim = nHead * headDim;
  const kvDim = nHeadKv * headDim;
  // gemma3 multiplies the embeddings by sqrt(d): half-width sqrt(3/d) gives the scaled rows unit variance, as in
  // the real model (unscaled, the tied output's logits for the input token dwarf all others)
  mat('token_embd.weight', [nEmbd, nVocab], 'embedding', o.arch === 'gemma3' ? w(nEmbd) : 1);
  f32('output_norm.weight', [nEmbd], 'norm');
  if (!tied) mat('output.weight', [nEmbd, nVocab], 'output', w(nEmbd));
  if (o.llama3RopeScaling) f32('rope_freqs.weight', [headDim / 2], 'norm');
  for (let i = 0; i < nLayer; i++) {
    const p = `blk.${i}.`;
    f32(`${p}attn_norm.weight`, [nEmbd], 'norm');
    mat(`${p}attn_q.weight`, [nEmbd, qDim], 'attention', w(nEmbd));
    mat(`${p}attn_k.weight`, [nEmbd, kvDim], 'attention', w(nEmbd));
    mat(`${p}attn_v.weight`, [nEmbd, kvDim], 'attention', w(nEmbd));
    if (o.arch === 'qwen2') {
      f32(`${p}attn_q.bias`, [qDim], 'bias');
      f32(`${p}attn_k.bias`, [kvDim], 'bias');
      f32(`${p}attn_v.bias`, [kvDim], 'bias');
    }
    if (o.arch === 'qwen3' || o.arch === 'qwen3moe' || o.arch === 'gemma3') {
      f32(`${p}attn_q_norm.weight`, [headDim], 'norm');
      f32(`${p}attn_k_norm.weight`, [headDim], 'norm');
    }
    mat(`${p}attn_output.weight`, [qDim, nEmbd], 'attention', w(qDim));
    if (o.arch === 'gemma3') f32(`${p}post_attention_norm.weight`, [nEmbd], 'norm');
    f32(`${p}ffn_norm.weight`, [nEmbd], 'norm');
    if (experts) {
      mat(`${p}ffn_gate_inp.weight`, [nEmbd, experts.count], 'router', w(nEmbd));
      mat(`${p}ffn_gate_exps.weight`, [nEmbd, nFf, experts.count], 'ffn', w(nEmbd));
      mat(`${p}ffn_down_exps.weight`, [nFf, nEmbd, experts.count], 'ffn', w(nFf));
      mat(`${p}ffn_up_exps.weight`, [nEmbd, nFf, experts.count], 'ffn', w(nEmbd));
    } else {
      mat(`${p}ffn_gate.weight`, [nEmbd, nFf], 'ffn', w(nEmbd));
      mat(`${p}ffn_down.weight`, [nFf, nEmbd], 'ffn', w(nFf));
      mat(`${p}ffn_up.weight`, [nEmbd, nFf], 'ffn', w(nEmbd));
    }
    if (o.arch === 'gemma3') f32(`${p}post_ffw_norm.weight`, [nEmbd], 'norm');
  }
  const neox = o.arch !== 'llama';
  const hparams = {
    nLayer, nEmbd, nHead, nHeadKv, headDim, nFf,
    contextLength: o.contextLength ?? 512,
    ropeBase: o.ropeBase ?? (neox ? 1_000_000 : 10_000),
    rmsEps: o.rmsEps ?? (neox ? 1e-6 : 1e-5),
    nExpert: experts?.count ?? 0,
    nExpertUsed: experts?.used ?? 0,
    tiedOutput: tied,
    ...(o.ropeScalingLinear !== undefined ? { ropeScalingLinear: o.ropeScalingLinear } : {}),
    ...(o.arch === 'gemma3'
      ? { slidingWindow: { window: o.slidingWindow?.window ?? 512, pattern: o.slidingWindow?.pattern, ropeBase: o.slidingWindow?.ropeBase ?? 10_000 } }
      : {}),
  };
  return { tensors, hparams, dominant: typeOf('attention') };
}

/**
 * Llama 3.1's rope factors as llama.cpp's converter computes them: for each rotary frequency f_i = base^(-2i/dim)
 * (float32), wavelength 2 pi / f_i; short wavelengths keep factor 1, long ones get `factor`, the band between is
 * interpolated smoothly.
 */
export function llama3RopeFactors(base: number, dim: number, s: NonNullable<GenerateModelOptions['llama3RopeScaling']>): Float32Array {
  const lowWavelen = s.originalContext / s.lowFreqFactor;
  const highWavelen = s.originalContext / s.highFreqFactor;
  const out = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) {
    const freq = Math.fround(1 / Math.fround(Math.pow(base, Math.fround((2 * i) / dim))));
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) out[i] = 1;
    else if (wavelen > lowWavelen) out[i] = s.factor;
    else {
      const smooth = (s.originalContext / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      out[i] = 1 / ((1 - smooth) / s.factor + smooth);
    }
  }
  return out;
}

function archKv(arch: string, h: GeneratedModel['hparams'], nVocab: number): GgufKv[] {
  const out = [
    kv.u32(`${arch}.context_length`, h.contextLength),
    kv.u32(`${arch}.embedding_length`, h.nEmbd),
    kv.u32(`${arch}.block_count`, h.nLayer),
    kv.u32(`${arch}.feed_forward_length`, h.nFf),
    kv.u32(`${arch}.attention.head_count`, h.nHead),
    kv.u32(`${arch}.attention.head_count_kv`, h.nHeadKv),
    kv.f32(`${arch}.rope.freq_base`, h.ropeBase),
    kv.f32(`${arch}.attention.layer_norm_rms_epsilon`, h.rmsEps),
    kv.u32(`${arch}.rope.dimension_count`, h.headDim),
    kv.u32(`${arch}.vocab_size`, nVocab),
  ];
  if (h.headDim * h.nHead !== h.nEmbd) {
    out.push(kv.u32(`${arch}.attention.key_length`, h.headDim), kv.u32(`${arch}.attention.value_length`, h.headDim));
  }
  if (h.ropeScalingLinear !== undefined) {
    out.push(kv.str(`${arch}.rope.scaling.type`, 'linear'), kv.f32(`${arch}.rope.scaling.factor`, h.ropeScalingLinear));
  }
  const sw = h.slidingWindow;
  if (sw) {
    out.push(kv.u32(`${arch}.attention.sliding_window`, sw.window), kv.f32(`${arch}.rope.freq_base_swa`, sw.ropeBase));
    if (sw.pattern !== undefined) out.push(kv.u32(`${arch}.attention.sliding_window_pattern`, sw.pattern));
  }
  if (h.nExpert) {
    out.push(kv.u32(`${arch}.expert_count`, h.nExpert), kv.u32(`${arch}.expert_used_count`, h.nExpertUsed));
    if (arch === 'qwen3moe') out.push(kv.u32(`${arch}.expert_feed_forward_length`, h.nFf));
  }
  return out;
}

/** Writes the model synchronously (tiny models take milliseconds). */
export function generateModelSync(options: GenerateModelOptions): GeneratedModel {
  const arch = options.arch ?? 'llama';
  const o = { ...options, arch };
  const seed = o.seed ?? 1;
  const vocab = buildVocab(o.vocab ?? 'synthetic', { extraWords: o.syntheticWords });
  const { tensors, hparams, dominant } = plan(o, vocab.size);

  const planted: Record<string, Float32Array> = { ...o.tensors };
  if (o.llama3RopeScaling) planted['rope_freqs.weight'] ??= llama3RopeFactors(hparams.ropeBase, hparams.headDim, o.llama3RopeScaling);
  const byName = new Map(tensors.map((t) => [t.name, t]));
  for (const [name, values] of Object.entries(planted)) {
    const t = byName.get(name);
    if (!t) throw new Error(`planted tensor "${name}" is not part of this model (known: ${[...byName.keys()].slice(0, 8).join(', ')}, ...)`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (values.length !== n) {
      throw new Error(`planted tensor "${name}" has ${values.length} values, shape [${t.shape.join(', ')}] needs ${n}`);
    }
  }

  let template: string | null;
  if (o.chatTemplate === undefined) template = vocab.defaultTemplate ? CHAT_TEMPLATES[vocab.defaultTemplate] : null;
  else if (o.chatTemplate === null) template = null;
  else template = (CHAT_TEMPLATES as Record<string, string>)[o.chatTemplate] ?? o.chatTemplate;

  const meta: GgufKv[] = [
    kv.str('general.architecture', arch),
    kv.str('general.name', o.name ?? `generated-${arch}${hparams.nExpert ? '-moe' : ''}`),
    kv.u32('general.file_type', FILE_TYPE[dominant]),
    ...archKv(arch, hparams, vocab.size),
    ...vocab.kv.filter((e) => e.key !== 'tokenizer.chat_template'),
  ];
  if (template !== null) meta.push(kv.str('tokenizer.chat_template', template));

  const toWrite: TensorToWrite[] = tensors.map((t) => ({
    name: t.name,
    shape: t.shape,
    type: t.type,
    data: () => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      // Per-tensor stream: a tensor's values depend only on (seed, name), not on the other tensors.
      const values = planted[t.name] ?? new Sfc32(hashString(seed, t.name)).fillUniform(new Float32Array(n), t.init.half, t.init.center);
      return quantize(t.type, values);
    },
  }));
  let written;
  try {
    written = writeGguf(o.path, { kv: meta, tensors: toWrite });
  } catch (e) {
    rmSync(o.path, { force: true });
    throw e;
  }
  const nParams = tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
  return {
    path: o.path,
    sha256: written.sha256,
    bytes: written.bytes,
    arch,
    nParams,
    nVocab: vocab.size,
    bos: vocab.bos,
    eos: vocab.eos,
    vocabKind: vocab.kind,
    chatTemplate: template,
    hparams,
    tensors: tensors.map(({ name, shape, type, cls }) => ({ name, shape, type, cls })),
    fileType: FILE_TYPE[dominant],
  };
}

/** Async form (same bytes); kept async so large benchmark models can move to worker threads later. */
export async function generateModel(options: GenerateModelOptions): Promise<GeneratedModel> {
  return generateModelSync(options);
}

/** Size presets for benchmarks (llama-spm vocabulary, 32000 tokens). */
export const SIZE_PRESETS = {
  /** About 20M parameters. */
  '20M': { nLayer: 4, nEmbd: 256, nHead: 4, nHeadKv: 4, nFf: 768, vocab: 'llama-spm', tiedOutput: false },
  /** About 100M parameters. */
  '100M': { nLayer: 8, nEmbd: 768, nHead: 12, nHeadKv: 4, nFf: 2048, vocab: 'llama-spm', tiedOutput: false },
} as const satisfies Record<string, Partial<GenerateModelOptions>>;
