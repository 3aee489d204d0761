// LRP relevances are bit-reproducible: a study resumed after an interruption must give the same numbers as an
// uninterrupted run. The engine's only threaded reduction (W^T g in native/src/kernels.cpp) partitions its
// output columns, each summed by one thread in ascending weight-row order, so the bits depend neither on thread
// scheduling nor on the thread count. Compared as raw float32 bits (so -0 vs +0 or a 1-ulp change fails).
import { afterAll, describe, expect, it } from 'vitest';
import { openLrpModel, type LrpGate, type LrpRule } from '../../main/lrp/index';
import { modelDir, stories, type TinyOptions } from './models';

const models = modelDir('lrp-determinism-');
afterAll(() => models.cleanup());

// 40 tokens so every product has several token groups of the 4-wide kernel plus a remainder
const toks = Array.from({ length: 40 }, (_, i) => (i === 0 ? 1 : 3 + ((i * 97) % 500)));
const ruleSets: [LrpRule, LrpGate][] = [['cp', 'half'], ['cp', 'detach'], ['attn', 'half']];
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

const specs: [string, TinyOptions | null][] = [
  ['stories260K (F32)', null],
  ['llama+experts F32', { arch: 'llama', weightType: 'F32', experts: { count: 4, used: 2 } }],
  ['qwen2 Q8_0 (biases)', { arch: 'qwen2', weightType: 'Q8_0' }],
  // one 256-block per row: with 2 or 3 threads the column ranges split inside a block
  ['llama Q4_K', { arch: 'llama', weightType: 'Q4_K', nEmbd: 256, nFf: 512, nLayer: 1 }],
  // q/k norms, post-norms, the threaded GELU and a sliding window that 40 tokens cross
  ['qwen3 F32', { arch: 'qwen3', weightType: 'F32', contextLength: 64 }],
  ['gemma3 Q8_0', { arch: 'gemma3', weightType: 'Q8_0', slidingWindow: { window: 8, pattern: 2 } }],
];

/** Relevance bits and explained value of every rule set, `repeats` times, with `threads` threads. */
async function runs(file: string, threads: number, repeats: number): Promise<{ rel: number[][]; value: number[] }[]> {
  const m = openLrpModel(file, { threads });
  try {
    const out: { rel: number[][]; value: number[] }[] = [];
    for (let k = 0; k < repeats; k++) {
      const rel: number[][] = [], value: number[] = [];
      for (const [rule, gate] of ruleSets) {
        const e = await m.attribute({ tokens: toks, target: 17, contrast: 40, rule, gate });
        rel.push(bits(e.relevance));
        value.push(e.value);
      }
      out.push({ rel, value });
    }
    return out;
  } finally {
    m.close();
  }
}

describe('LRP relevances are bit-identical', () => {
  for (const [name, spec] of specs) {
    it(`${name}: 5 repeats with 2 and with 3 threads, and 1 vs 2 vs 3 threads`, async () => {
      const file = spec ? models.model(spec) : stories;
      const one = await runs(file, 1, 1);
      // the relevances must be non-trivial for the comparison to mean anything
      const r0 = new Float32Array(new Uint32Array(one[0].rel[0]).buffer);
      expect(Math.max(...Array.from(r0, Math.abs))).toBeGreaterThan(1e-5);
      expect(new Set(one[0].rel[0]).size).toBeGreaterThan(toks.length / 2);
      for (const threads of [2, 3]) {
        const rs = await runs(file, threads, 5);
        for (const r of rs) {
          expect(r.rel).toEqual(one[0].rel);
          expect(r.value).toEqual(one[0].value);
        }
      }
    });
  }
});
