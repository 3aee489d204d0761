// Generated models: determinism, layout, planted weights, and that llama.cpp (node-llama-cpp) loads and runs
// every variant with finite probabilities that sum to 1.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateModelSync, type GenerateModelOptions } from '../../main/gguf/generate';
import { readGguf, readTensorF32 } from '../../main/gguf/reader';
import { GgmlType, WRITABLE_TYPES } from '../../main/gguf/quant/types';
import { nextTokenProbs, tempDir } from './helpers';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const gen = (o: Omit<GenerateModelOptions, 'path'>) => generateModelSync({ path: join(tmp.dir, `m${n++}.gguf`), ...o });

function expectDistribution(probs: Map<number, number>, nVocab: number): void {
  let sum = 0;
  for (const p of probs.values()) {
    expect(Number.isFinite(p)).toBe(true);
    sum += p;
  }
  expect(probs.size).toBe(nVocab);
  expect(sum).toBeCloseTo(1, 4);
}

describe('generateModel', () => {
  it('is deterministic: same options give the same bytes, another seed different bytes', () => {
    const a = gen({ seed: 7 });
    const b = gen({ seed: 7 });
    const c = gen({ seed: 8 });
    expect(a.sha256).toBe(b.sha256);
    expect(a.sha256).not.toBe(c.sha256);
    expect(a.bytes).toBe(c.bytes);
  });

  it('writes the llama layout with GQA shapes and counts parameters', () => {
    const m = gen({ nLayer: 2, nEmbd: 64, nHead: 8, nHeadKv: 2, nFf: 96 });
    const f = readGguf(m.path);
    const shape = (name: string) => f.tensors.find((t) => t.name === name)?.shape;
    expect(shape('blk.1.attn_q.weight')).toEqual([64, 64]);
    expect(shape('blk.1.attn_k.weight')).toEqual([64, 16]); // 2 kv heads x head dim 8
    expect(shape('blk.0.ffn_down.weight')).toEqual([96, 64]);
    expect(shape('output.weight')).toEqual([64, m.nVocab]);
    expect(f.metadata.get('llama.attention.head_count_kv')).toBe(2);
    // 2*V*64 (embd+output) + 64 (output_norm) + per layer: 2*64 norms + q 64*64 + k,v 2*64*16 + o 64*64 + 3*64*96
    const perLayer = 2 * 64 + 64 * 64 + 2 * 64 * 16 + 64 * 64 + 3 * 64 * 96;
    expect(m.nParams).toBe(2 * m.nVocab * 64 + 64 + 2 * perLayer);
    expect(f.tensors.reduce((a, t) => a + t.nElements, 0)).toBe(m.nParams);
  });

  it('puts planted weights in the file exactly (F32) and rejects unknown names or wrong sizes', () => {
    const vals = Float32Array.from({ length: 64 }, (_, i) => i / 64);
    const m = gen({ tensors: { 'blk.0.attn_norm.weight': vals } });
    expect(Array.from(readTensorF32(readGguf(m.path), 'blk.0.attn_norm.weight'))).toEqual(Array.from(vals));
    expect(() => gen({ tensors: { 'blk.9.attn_norm.weight': vals } })).toThrow(/not part of this model/);
    expect(() => gen({ tensors: { 'blk.0.attn_norm.weight': vals.subarray(1) } })).toThrow(/63 values/);
  });

  it('refuses a type whose block does not divide a row, or falls back like llama.cpp when asked', () => {
    expect(() => gen({ nEmbd: 64, weightType: 'Q4_K' })).toThrow(/row length 64 is not a multiple of Q4_K's block size 256/);
    const m = gen({ nEmbd: 64, weightType: 'Q4_K', typeFallback: true });
    expect(m.tensors.find((t) => t.name === 'blk.0.attn_q.weight')?.type).toBe(GgmlType.Q5_0);
  });
});

describe('llama.cpp runs every generated variant', () => {
  for (const t of WRITABLE_TYPES) {
    it(`weight type ${t}`, async () => {
      const kq = t.endsWith('_K');
      const m = gen({ weightType: t, nLayer: 1, nEmbd: kq ? 256 : 64, nFf: kq ? 256 : 96, nHead: 4, nHeadKv: 2 });
      expectDistribution((await nextTokenProbs(m.path)).probs, m.nVocab);
    });
  }

  it('embeddings/output F32 with Q4_0 blocks', async () => {
    const m = gen({ weightType: 'Q4_0', types: { embedding: 'F32', output: 'F32' } });
    expect(m.tensors.find((t) => t.name === 'token_embd.weight')?.type).toBe(GgmlType.F32);
    expect(m.tensors.find((t) => t.name === 'blk.0.ffn_up.weight')?.type).toBe(GgmlType.Q4_0);
    expectDistribution((await nextTokenProbs(m.path)).probs, m.nVocab);
  });

  it('mixtral layout (experts)', async () => {
    const m = gen({ experts: { count: 4, used: 2 }, weightType: 'Q8_0' });
    const f = readGguf(m.path);
    expect(f.tensors.find((t) => t.name === 'blk.0.ffn_gate_exps.weight')?.shape).toEqual([64, 128, 4]);
    expect(f.tensors.find((t) => t.name === 'blk.0.ffn_down_exps.weight')?.shape).toEqual([128, 64, 4]);
    expect(f.tensors.find((t) => t.name === 'blk.0.ffn_gate_inp.weight')?.type).toBe(GgmlType.F32);
    expect(f.metadata.get('llama.expert_used_count')).toBe(2);
    expectDistribution((await nextTokenProbs(m.path)).probs, m.nVocab);
  });

  it('qwen2 layout (biases, tied output)', async () => {
    const m = gen({ arch: 'qwen2', nHeadKv: 2, weightType: 'F16' });
    const f = readGguf(m.path);
    expect(f.tensors.some((t) => t.name === 'output.weight')).toBe(false);
    expect(f.tensors.find((t) => t.name === 'blk.0.attn_k.bias')?.shape).toEqual([32]);
    expect(f.metadata.get('general.architecture')).toBe('qwen2');
    expectDistribution((await nextTokenProbs(m.path)).probs, m.nVocab);
  });
});
