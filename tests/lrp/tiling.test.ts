// The LRP backward walks each head's attention map in tiles of query rows (native/src/engine.cpp,
// attention_backward), so its per-thread buffers are [tile, T] rather than [T, T]; the per-key column sums run on
// from tile to tile in [T, hd] accumulators. Tiling must not change a single bit of the relevances: each key's
// column sum is the same sequence of FMAs whatever the tile size. The tile size is forced through
// RW_LRP_ATTN_TILE (read at every explanation) and the relevances compared as raw float32 bits with an untiled
// run (a tile longer than the input). (Checked once by hand as well: 300 tokens, llama Q4_K, qwen3, gemma3 with
// tiles of 7, 16 and 256 give the bits of the engine before tiling, every rule set.)
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openLrpModel, type LrpGate, type LrpRule } from '../../main/lrp/index';
import { modelDir, type TinyOptions } from './models';

const models = modelDir('lrp-tiling-');
afterAll(() => models.cleanup());
afterEach(() => {
  delete process.env.RW_LRP_ATTN_TILE;
});

const T = 100;
const toks = Array.from({ length: T }, (_, i) => (i === 0 ? 1 : 3 + ((i * 97) % 500)));
const ruleSets: [LrpRule, LrpGate][] = [['cp', 'half'], ['cp', 'detach'], ['attn', 'half']];
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

const specs: [string, TinyOptions][] = [
  ['llama F32 (GQA)', { arch: 'llama', weightType: 'F32', contextLength: 128 }],
  ['llama Q8_0', { arch: 'llama', weightType: 'Q8_0', contextLength: 128 }],
  // sliding windows shorter than a tile (whole tiles before the window) and spanning several tiles
  ['gemma3 Q8_0, window 8', { arch: 'gemma3', weightType: 'Q8_0', contextLength: 128, slidingWindow: { window: 8, pattern: 2 } }],
  ['gemma3 F32, window 40', { arch: 'gemma3', weightType: 'F32', contextLength: 128, slidingWindow: { window: 40, pattern: 2 } }],
];

/** Relevance bits of every rule set with the key tile forced to `tile`. */
async function relevances(file: string, tile: number, threads: number): Promise<number[][]> {
  process.env.RW_LRP_ATTN_TILE = String(tile);
  const m = openLrpModel(file, { threads });
  try {
    const out: number[][] = [];
    for (const [rule, gate] of ruleSets) out.push(bits((await m.attribute({ tokens: toks, target: 17, contrast: 40, rule, gate })).relevance));
    return out;
  } finally {
    m.close();
  }
}

describe('LRP backward tiled over query rows', () => {
  for (const [name, spec] of specs) {
    it(`${name}: tiles of 16, 7 and 1 give the untiled relevances bit for bit`, async () => {
      const file = models.model(spec);
      const untiled = await relevances(file, 1 << 20, 2);
      // non-trivial relevances, so that the comparison means something
      const r0 = new Float32Array(new Uint32Array(untiled[2]).buffer);
      expect(Math.max(...Array.from(r0, Math.abs))).toBeGreaterThan(1e-5);
      expect(new Set(untiled[2]).size).toBeGreaterThan(T / 2);
      expect(await relevances(file, 16, 2)).toEqual(untiled);
      expect(await relevances(file, 7, 1)).toEqual(untiled);
      expect(await relevances(file, 1, 3)).toEqual(untiled);
    });
  }

  it('the working-memory estimate grows linearly in T (8,192 tokens: no [T, T] buffers per thread)', async () => {
    // the refusal reports the estimate before anything is allocated; 1 byte of memory refuses any input
    const file = models.model({ arch: 'llama', weightType: 'F32', nEmbd: 256, nHead: 4, nHeadKv: 2, nFf: 512, contextLength: 8192 });
    const m = openLrpModel(file, { threads: 2 });
    const need = async (n: number, rule: LrpRule) => {
      const tokens = Array.from({ length: n }, (_, i) => 3 + (i % 500));
      const err = await m.attribute({ tokens, rule, activations: 'save', memoryLimit: 1 }).then(
        () => null,
        (e: Error) => e.message,
      );
      const gib = /needs about ([0-9.]+) GiB/.exec(err ?? '');
      expect(gib, String(err)).not.toBeNull();
      return Number(gib![1]);
    };
    try {
      for (const rule of ['cp', 'attn'] as LrpRule[]) {
        const [a, b] = [await need(4096, rule), await need(8192, rule)];
        // [T, T] per thread would be 2 x 8192^2 x 4 B = 0.5 GiB (x2 with AttnLRP) and quadruple from 4,096 to
        // 8,192 tokens; the activations of this model over 8,192 tokens are ~0.1 GiB
        expect(b, rule).toBeLessThan(0.25);
        expect(b / a, rule).toBeGreaterThan(1.8);
        expect(b / a, rule).toBeLessThan(2.2);
        // and RW_LRP_ATTN_TILE reaches the engine (so the comparisons above do compare tiled runs): untiled, the
        // estimate has the two threads' [T, T] buffers
        process.env.RW_LRP_ATTN_TILE = String(1 << 20);
        expect(await need(8192, rule), rule).toBeGreaterThan(b + (rule === 'attn' ? 1 : 0.5) - 0.05);
        delete process.env.RW_LRP_ATTN_TILE;
      }
    } finally {
      m.close();
    }
  });
});
