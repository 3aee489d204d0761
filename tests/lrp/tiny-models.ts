// Tiny deterministic GGUF models for the LRP tests (llama, llama+experts, qwen2), written with the project's
// GGUF writer. The tokenizer is copied from ../shared/models/stories260K.gguf so llama.cpp can load them.
import path from 'node:path';
import { readMinGguf } from './gguf-min';
import { kv, writeGguf, type TensorToWrite } from '../../main/gguf/writer';
import { byteSize, quantize } from '../../main/gguf/quant/index';
import { GgmlType } from '../../main/gguf/quant/types';
import type { GgufKv } from '../../main/gguf/types';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const stories = path.resolve(repoRoot, '../shared/models/stories260K.gguf');

export interface TinySpec {
  arch: 'llama' | 'qwen2' | (string & {});
  type: number;            // ggml type of the matrices (norms and biases stay F32)
  nLayer?: number;
  d?: number;
  nHead?: number;
  nHeadKv?: number;
  ff?: number;
  nExpert?: number;
  nExpertUsed?: number;
  tied?: boolean;          // no output.weight (qwen2 style)
  bias?: boolean;          // q/k/v biases (qwen2)
  seed?: number;
  ctx?: number;
  /** explicit tensor values (float32, ggml order) replacing the random ones */
  overrides?: Record<string, Float32Array>;
  /** tensors written with this type instead (zero bytes): for unsupported-type tests */
  forceType?: Record<string, number>;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let tokenizerKv: GgufKv[] | undefined;
function tokenizer(): GgufKv[] {
  tokenizerKv ??= readMinGguf(stories).kv.filter((e) => e.key.startsWith('tokenizer.'));
  return tokenizerKv;
}
export const VOCAB = 512;

export function writeTinyModel(file: string, s: TinySpec): void {
  const nLayer = s.nLayer ?? 2, d = s.d ?? 64, nHead = s.nHead ?? 4, nHeadKv = s.nHeadKv ?? 2, ff = s.ff ?? 96;
  const hd = d / nHead;
  const rand = rng(s.seed ?? 1);
  const tensors: TensorToWrite[] = [];
  const add = (name: string, shape: number[], scale: number, type: number, base = 0) => {
    const n = shape.reduce((a, b) => a * b, 1);
    let x = s.overrides?.[name];
    if (!x) {
      x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = base + scale * (2 * rand() - 1);
    }
    if (x.length !== n) throw new Error(`override ${name}: ${x.length} values for shape ${shape}`);
    const forced = s.forceType?.[name];
    if (forced !== undefined) {
      tensors.push({ name, shape, type: forced, data: new Uint8Array(byteSize(forced, n)) });
      return;
    }
    const data = type === GgmlType.F32 ? new Uint8Array(x.buffer.slice(0)) : quantize(type, x);
    tensors.push({ name, shape, type, data });
  };
  const W = s.type, F32 = GgmlType.F32;
  add('token_embd.weight', [d, VOCAB], 1.0, W);
  for (let l = 0; l < nLayer; l++) {
    const p = `blk.${l}.`;
    add(p + 'attn_norm.weight', [d], 0.2, F32, 1);
    add(p + 'attn_q.weight', [d, d], 1.5 / Math.sqrt(d), W);
    add(p + 'attn_k.weight', [d, nHeadKv * hd], 1.5 / Math.sqrt(d), W);
    add(p + 'attn_v.weight', [d, nHeadKv * hd], 1.5 / Math.sqrt(d), W);
    if (s.bias) {
      add(p + 'attn_q.bias', [d], 0.2, F32);
      add(p + 'attn_k.bias', [nHeadKv * hd], 0.2, F32);
      add(p + 'attn_v.bias', [nHeadKv * hd], 0.2, F32);
    }
    add(p + 'attn_output.weight', [d, d], 1.5 / Math.sqrt(d), W);
    add(p + 'ffn_norm.weight', [d], 0.2, F32, 1);
    if (s.nExpert) {
      add(p + 'ffn_gate_inp.weight', [d, s.nExpert], 2 / Math.sqrt(d), F32);
      add(p + 'ffn_gate_exps.weight', [d, ff, s.nExpert], 1.5 / Math.sqrt(d), W);
      add(p + 'ffn_up_exps.weight', [d, ff, s.nExpert], 1.5 / Math.sqrt(d), W);
      add(p + 'ffn_down_exps.weight', [ff, d, s.nExpert], 1.5 / Math.sqrt(ff), W);
    } else {
      add(p + 'ffn_gate.weight', [d, ff], 1.5 / Math.sqrt(d), W);
      add(p + 'ffn_up.weight', [d, ff], 1.5 / Math.sqrt(d), W);
      add(p + 'ffn_down.weight', [ff, d], 1.5 / Math.sqrt(ff), W);
    }
  }
  add('output_norm.weight', [d], 0.2, F32, 1);
  if (!s.tied) add('output.weight', [d, VOCAB], 2 / Math.sqrt(d), W);
  const A = s.arch;
  const meta: GgufKv[] = [
    kv.str('general.architecture', A),
    kv.str('general.name', `tiny-${A}`),
    kv.u32(`${A}.block_count`, nLayer),
    kv.u32(`${A}.context_length`, s.ctx ?? 64),
    kv.u32(`${A}.embedding_length`, d),
    kv.u32(`${A}.feed_forward_length`, ff),
    kv.u32(`${A}.attention.head_count`, nHead),
    kv.u32(`${A}.attention.head_count_kv`, nHeadKv),
    kv.f32(`${A}.attention.layer_norm_rms_epsilon`, 1e-5),
    kv.f32(`${A}.rope.freq_base`, 10000),
    kv.u32(`${A}.rope.dimension_count`, hd),
    kv.u32('general.file_type', 0),
    ...(s.nExpert ? [kv.u32(`${A}.expert_count`, s.nExpert), kv.u32(`${A}.expert_used_count`, s.nExpertUsed ?? 2)] : []),
    ...tokenizer(),
  ];
  writeGguf(file, { kv: meta, tensors });
}
