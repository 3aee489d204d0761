// Malformed models made by mutating real GGUF files (stories260K, and models from the project's own
// generator) byte by byte: each is refused at inspection with a message naming the field or tensor and its
// value, before llama.cpp (which aborts the process on several of them) ever sees it.
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateModelSync } from '../../main/gguf/generate';
import { GgmlType } from '../../main/gguf/quant/types';
import { inspectHeader, ModelRefusedError } from '../../main/models/registry';
import { tempDir } from './helpers';
import { mutate } from './mutate';

const STORIES = resolve(__dirname, '../../../shared/models/stories260K.gguf');
const tmp = tempDir('malformed-');
afterAll(() => tmp.cleanup());
let n = 0;
const out = () => join(tmp.dir, `m${n++}.gguf`);

/** The refusal's problems (fails the test when the model is accepted). */
function problems(path: string): string[] {
  try {
    inspectHeader(path);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelRefusedError);
    const err = e as ModelRefusedError;
    expect(err.message.startsWith(path)).toBe(true);
    return err.problems;
  }
  throw new Error(`${path} was accepted`);
}

describe('the originals are sound', () => {
  it('accepts stories260K and generated llama, GQA, qwen2 and Mixtral-style models', () => {
    expect(inspectHeader(STORIES).hparams).toMatchObject({ nLayer: 5, nEmbd: 64, nHead: 8, nHeadKv: 4 });
    for (const o of [{}, { arch: 'qwen2' as const }, { nHead: 8, nHeadKv: 2, weightType: 'Q8_0' as const }, { experts: { count: 4, used: 2 } }]) {
      expect(inspectHeader(generateModelSync({ path: out(), ...o }).path).architecture).toBe(o.arch ?? 'llama');
    }
  });
});

describe('malformed hyperparameters (stories260K mutated)', () => {
  it('head_count = 0', () => {
    const p = problems(mutate(STORIES).u32('llama.attention.head_count', 0).write(out()));
    expect(p).toContain('llama.attention.head_count = 0: must be at least 1');
  });

  it('block_count = 1000: beyond llama.cpp\'s limit of 512 layers (it asserts)', () => {
    const p = problems(mutate(STORIES).u32('llama.block_count', 1000).write(out()));
    expect(p).toEqual(['llama.block_count = 1000: must be 1..512']);
  });

  it('block_count = 400: one problem naming the missing blocks, not one per tensor', () => {
    const p = problems(mutate(STORIES).u32('llama.block_count', 400).write(out()));
    expect(p).toEqual(['llama.block_count = 400, but the file has no tensors for blocks 5..399 (it has blocks 0..4)']);
  });

  it('block_count smaller than the layers in the file', () => {
    const p = problems(mutate(STORIES).u32('llama.block_count', 3).write(out()));
    expect(p).toEqual(['llama.block_count = 3, but the file has tensors for blocks 3..4']);
  });

  it('block_count = 0 and absurdly large', () => {
    expect(problems(mutate(STORIES).u32('llama.block_count', 0).write(out()))).toContain('llama.block_count = 0: must be 1..512');
    expect(problems(mutate(STORIES).u32('llama.block_count', 4_000_000_000).write(out()))).toContain('llama.block_count = 4000000000: must be 1..512');
  });

  it('head_count_kv that does not divide head_count', () => {
    const p = problems(mutate(STORIES).u32('llama.attention.head_count_kv', 3).write(out()));
    expect(p).toContain('llama.attention.head_count_kv = 3: does not divide llama.attention.head_count = 8');
  });

  it('head_count_kv larger than head_count', () => {
    const p = problems(mutate(STORIES).u32('llama.attention.head_count_kv', 16).write(out()));
    expect(p).toContain('llama.attention.head_count_kv = 16: more than llama.attention.head_count = 8');
  });

  it('head_count_kv = 0', () => {
    expect(problems(mutate(STORIES).u32('llama.attention.head_count_kv', 0).write(out()))).toContain('llama.attention.head_count_kv = 0: must be at least 1');
  });

  it('context_length = 0', () => {
    const p = problems(mutate(STORIES).u32('llama.context_length', 0).write(out()));
    expect(p).toContain('llama.context_length = 0: must be 1..16777216');
  });

  it('context_length missing', () => {
    const p = problems(mutate(STORIES).rename('llama.context_length', 'llama.context_lengtX').write(out()));
    expect(p).toContain('llama.context_length is missing');
  });

  it('embedding_length not divisible by head_count', () => {
    const p = problems(mutate(STORIES).u32('llama.attention.head_count', 7).u32('llama.attention.head_count_kv', 7).write(out()));
    expect(p).toContain('llama.embedding_length = 64: not divisible by llama.attention.head_count = 7 (and no llama.attention.key_length gives the head size)');
  });

  it('embedding_length that disagrees with the tensors', () => {
    const p = problems(mutate(STORIES).u32('llama.embedding_length', 128).u32('llama.rope.dimension_count', 16).write(out()));
    expect(p).toContain('tensor "token_embd.weight": shape [64, 512], expected [128, 512] (embedding_length x vocabulary size)');
    expect(p).toContain('tensor "output_norm.weight": shape [64], expected [128] (embedding_length)');
    // 5 blocks x 9 tensors + 3 are wrong: the list stops after 12 and counts the rest
    expect(p.at(-1)).toBe('... and 36 more');
  });

  it('head_count stored as a float', () => {
    const p = problems(mutate(STORIES).u32AsF32('llama.attention.head_count', 8).write(out()));
    expect(p).toContain('llama.attention.head_count = 8: must be an integer, not a float');
  });

  it('rope.dimension_count larger than the head size', () => {
    const p = problems(mutate(STORIES).u32('llama.rope.dimension_count', 64).write(out()));
    expect(p).toContain('llama.rope.dimension_count = 64: more than the head size 8');
  });

  it('feed_forward_length that disagrees with the tensors', () => {
    const p = problems(mutate(STORIES).u32('llama.feed_forward_length', 256).write(out()));
    expect(p).toContain('tensor "blk.0.ffn_gate.weight": shape [64, 172], expected [64, 256] (embedding_length x feed_forward_length)');
  });

  it('a special token id outside the vocabulary', () => {
    const p = problems(mutate(STORIES).u32('tokenizer.ggml.bos_token_id', 512).write(out()));
    expect(p).toEqual(['tokenizer.ggml.bos_token_id = 512: not a token id (the vocabulary has 512 tokens)']);
  });
});

describe('malformed tensors (stories260K mutated)', () => {
  it('a tensor whose type does not match its data (F32 relabelled F16)', () => {
    const p = problems(mutate(STORIES).tensor('blk.0.attn_q.weight', { type: GgmlType.F16 }).write(out()));
    expect(p).toEqual([
      'tensor "blk.0.attn_k.weight": data starts at offset 278784, but "blk.0.attn_q.weight" before it (F16 [64, 64], 8192 bytes) ends at 270592: a tensor\'s type or shape does not match its data',
    ]);
  });

  it('a tensor whose shape does not match the hyperparameters (same bytes, transposed)', () => {
    const p = problems(mutate(STORIES).tensor('blk.2.ffn_up.weight', { shape: [172, 64] }).write(out()));
    expect(p).toEqual(['tensor "blk.2.ffn_up.weight": shape [172, 64], expected [64, 172] (embedding_length x feed_forward_length)']);
  });

  it('a missing tensor', () => {
    const p = problems(mutate(STORIES).rename('blk.1.attn_v.weight', 'blk.1.attn_v.weighX').write(out()));
    expect(p).toEqual(['tensor "blk.1.attn_v.weight" is missing']);
  });

  it('a vocabulary that disagrees with the embedding', () => {
    const p = problems(mutate(STORIES).tensor('token_embd.weight', { shape: [64, 256] }).write(out()));
    expect(p.some((x) => x.startsWith('tensor "token_embd.weight": shape [64, 256], expected [64, 512]'))).toBe(true);
  });
});

describe('all problems at once', () => {
  it('lists every problem of a file with several, each naming its field and value', () => {
    const path = mutate(STORIES)
      .u32('llama.attention.head_count', 0)
      .u32('llama.context_length', 0)
      .tensor('blk.3.attn_output.weight', { type: GgmlType.F16 })
      .write(out());
    let message = '';
    try {
      inspectHeader(path);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.split('; ')).toHaveLength(3);
    expect(message).toContain('llama.attention.head_count = 0: must be at least 1');
    expect(message).toContain('llama.context_length = 0: must be 1..16777216');
    expect(message).toContain('tensor "blk.3.attn_norm.weight": data starts at offset');
  });
});

describe('generated models mutated', () => {
  it('qwen2 without a q bias', () => {
    const m = generateModelSync({ path: out(), arch: 'qwen2' });
    const p = problems(mutate(m.path).rename('blk.1.attn_q.bias', 'blk.1.attn_q.biaX').write(out()));
    expect(p).toEqual(['tensor "blk.1.attn_q.bias" is missing']);
  });

  it('Mixtral-style experts: expert_used_count above expert_count', () => {
    const m = generateModelSync({ path: out(), experts: { count: 4, used: 2 } });
    const p = problems(mutate(m.path).u32('llama.expert_used_count', 5).write(out()));
    expect(p).toContain('llama.expert_used_count = 5: must be 1..llama.expert_count (4)');
  });

  it('Mixtral-style experts: expert_count that disagrees with the expert tensors', () => {
    const m = generateModelSync({ path: out(), experts: { count: 4, used: 2 } });
    const p = problems(mutate(m.path).u32('llama.expert_count', 8).write(out()));
    expect(p).toContain('tensor "blk.0.ffn_gate_inp.weight": shape [64, 4], expected [64, 8] (embedding_length x expert_count)');
  });

  it('a quantized (Q8_0) tensor relabelled Q4_0', () => {
    const m = generateModelSync({ path: out(), weightType: 'Q8_0' });
    const p = problems(mutate(m.path).tensor('blk.0.attn_k.weight', { type: GgmlType.Q4_0 }).write(out()));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^tensor "blk\.0\.attn_v\.weight": data starts at offset \d+, but "blk\.0\.attn_k\.weight" before it \(Q4_0 \[64, 64\], 2304 bytes\) ends at \d+: a tensor's type or shape does not match its data$/);
  });
});
