import { describe, it, expect } from 'vitest';
import { maskingDrops, paperMaskingTest, comprehensiveness, sufficiency, aopc } from '../../main/metrics';

// A deterministic stand-in for the model: text positions 0..4 with weights; masking a set removes
// its weight: p = 0.9 * (1 - sum of masked weights). p0 = 0.9.
const W = [0.3, 0.2, 0.1, 0.05, 0.05];
function model() {
  const calls: number[][] = [];
  const fn = async (positions: number[]): Promise<number> => {
    calls.push([...positions].sort((a, b) => a - b));
    const removed = positions.reduce((s, p) => s + (W[p] ?? 0), 0);
    return 0.9 * (1 - removed);
  };
  return { fn, calls };
}

describe("the paper's masking test", () => {
  it('turns p0 and per-set probabilities into drops', () => {
    const r = maskingDrops(0.974, { human: 0.791, self: 0.827 }, { human: 4 });
    expect(r.sets.human.drop).toBeCloseTo(0.183, 12); // 0.974 - 0.791
    expect(r.sets.self.drop).toBeCloseTo(0.147, 12); // 0.974 - 0.827
    expect(r.sets.human.size).toBe(4);
    expect(() => maskingDrops(1.2, {})).toThrow(/probability/);
  });
  it('masks each set at once through the callback', async () => {
    const { fn, calls } = model();
    const r = await paperMaskingTest(
      { human: [1, 1, 0, 0, 0], whole: { positions: [0, 1, 2, 3, 4] }, none: [0, 0, 0, 0, 0] },
      fn,
    );
    expect(r.p0).toBeCloseTo(0.9, 12);
    // human {0,1}: 0.9 * (1 - 0.5) = 0.45, drop 0.45
    expect(r.sets.human.p).toBeCloseTo(0.45, 12);
    expect(r.sets.human.drop).toBeCloseTo(0.45, 12);
    expect(r.sets.human.size).toBe(2);
    // whole {0..4}: 0.9 * (1 - 0.7) = 0.27, drop 0.63
    expect(r.sets.whole.drop).toBeCloseTo(0.63, 12);
    // empty set: no drop
    expect(r.sets.none.drop).toBeCloseTo(0, 12);
    expect(calls).toEqual([[], [0, 1], [0, 1, 2, 3, 4], []]);
  });
});

describe('ERASER comprehensiveness and sufficiency', () => {
  it('hand-computed values', async () => {
    const { fn } = model();
    // rationale {0,2}: comprehensiveness = 0.9 - 0.9*(1 - 0.4) = 0.36
    expect(await comprehensiveness([1, 0, 1, 0, 0], fn)).toBeCloseTo(0.36, 12);
    // sufficiency keeps {0,2}, masks {1,3,4} (weights 0.3): 0.9 - 0.9*0.7 = 0.27
    expect(await sufficiency([1, 0, 1, 0, 0], [0, 1, 2, 3, 4], fn)).toBeCloseTo(0.27, 12);
    // empty rationale: comprehensiveness 0; sufficiency = p0 - p(all masked) = 0.9 - 0.27 = 0.63
    expect(await comprehensiveness([0, 0, 0, 0, 0], fn)).toBeCloseTo(0, 12);
    expect(await sufficiency([0, 0, 0, 0, 0], [0, 1, 2, 3, 4], fn)).toBeCloseTo(0.63, 12);
  });
  it('AOPC at 1/5/10/20/50 % is the mean over bins', async () => {
    const { fn, calls } = model();
    const scores = [0.5, 0.4, 0.3, 0.2, 0.1];
    const pos = [0, 1, 2, 3, 4];
    // n = 5: k = ceil(0.05)=1, ceil(0.25)=1, ceil(0.5)=1, ceil(1)=1, ceil(2.5)=3
    // comprehensiveness: k=1 masks {0}: 0.9 - 0.63 = 0.27; k=3 masks {0,1,2}: 0.9 - 0.36 = 0.54
    // AOPC = (4*0.27 + 0.54) / 5 = 0.324
    const c = await aopc('comprehensiveness', scores, pos, fn, { p0: 0.9 });
    expect(c.bins.map((b) => b.k)).toEqual([1, 1, 1, 1, 3]);
    expect(c.bins[4].value).toBeCloseTo(0.54, 12);
    expect(c.aopc).toBeCloseTo(0.324, 12);
    expect(calls.length).toBe(5); // p0 given: one call per bin
    // sufficiency: k=1 keeps {0}, masks {1,2,3,4} (0.4): 0.9 - 0.54 = 0.36; k=3 masks {3,4} (0.1): 0.9 - 0.81 = 0.09
    // AOPC = (4*0.36 + 0.09) / 5 = 0.306
    const s = await aopc('sufficiency', scores, pos, fn, { p0: 0.9 });
    expect(s.aopc).toBeCloseTo(0.306, 12);
  });
  it('AOPC ranks ties by position and only within the allowed positions', async () => {
    const { fn, calls } = model();
    // all-zero scores over allowed {2,3,4}: 50% of 3 -> ceil(1.5) = 2 -> positions 2, 3 (ties by position)
    const r = await aopc('comprehensiveness', [9, 9, 0, 0, 0], [2, 3, 4], fn, { bins: [50] });
    expect(calls).toEqual([[], [2, 3]]);
    // 0.9 - 0.9*(1 - 0.15) = 0.135
    expect(r.aopc).toBeCloseTo(0.135, 12);
  });
  it('rejects a callback returning a non-probability', async () => {
    await expect(comprehensiveness([1], async () => 2)).rejects.toThrow(/probability/);
  });
});
