import { describe, it, expect } from 'vitest';
import { curveAt, flippingK, flipSteps, kGreedyFlipping, meanCurve, trapezoid } from '../../main/metrics';
import { parseStudyConfig } from '../../main/config/study-schema';

// A deterministic stand-in for the model over 8 prompt tokens: 0, 1 and 7 are template, 2..6 the text.
// Replacing a set of tokens by the filler removes their weights: p = 0.9 * (1 - sum of weights).
const W = [0.1, 0.1, 0.1, 0.3, 0.2, 0.05, 0.15, 0.1];
function model() {
  const calls: number[][] = [];
  const fn = async (positions: number[]): Promise<number> => {
    calls.push([...positions].sort((a, b) => a - b));
    return 0.9 * (1 - positions.reduce((s, p) => s + W[p], 0));
  };
  return { fn, calls };
}
const TEXT = [2, 3, 4, 5, 6];
// template tokens carry the largest relevance: they must never be flipped (the authors set relevance
// outside the text to -10e6). Text order by relevance: 3 (0.5), 4 (0.5, tie: the earlier first), 6, 2, 5.
const SCORES = [9, 9, 0.1, 0.5, 0.5, -0.2, 0.3, 9];

describe('k-greedy flipping (hand-computed from the definition)', () => {
  it('k = 1: one text token per step, most relevant first', async () => {
    const { fn, calls } = model();
    const c = await kGreedyFlipping(SCORES, TEXT, 1, fn);
    expect(c.order).toEqual([3, 4, 6, 2, 5]);
    expect(c.flipped).toEqual([0, 1, 2, 3, 4, 5]);
    // 0.9; 0.9*(1-.3)=.63; 0.9*(1-.5)=.45; 0.9*(1-.65)=.315; 0.9*(1-.75)=.225; 0.9*(1-.8)=.18
    const want = [0.9, 0.63, 0.45, 0.315, 0.225, 0.18];
    c.p.forEach((p, i) => expect(p).toBeCloseTo(want[i], 12));
    // trapezoids of width 0.2: 0.2 * (.765 + .54 + .3825 + .27 + .2025) = 0.2 * 2.16 = 0.432
    expect(c.auc).toBeCloseTo(0.432, 12);
    expect(calls).toEqual([[], [3], [3, 4], [3, 4, 6], [2, 3, 4, 6], [2, 3, 4, 5, 6]]);
  });
  it('k = 3: three tokens per step, the last step takes the remainder; p0 given is not read again', async () => {
    const { fn, calls } = model();
    const c = await kGreedyFlipping(SCORES, TEXT, 3, fn, 0.9);
    expect(c.flipped).toEqual([0, 3, 5]);
    const want = [0.9, 0.315, 0.18];
    c.p.forEach((p, i) => expect(p).toBeCloseTo(want[i], 12));
    // x = 0, 0.6, 1: 0.6 * (0.9 + 0.315) / 2 + 0.4 * (0.315 + 0.18) / 2 = 0.3645 + 0.099 = 0.4635
    expect(c.auc).toBeCloseTo(0.4635, 12);
    expect(calls).toEqual([[3, 4, 6], [2, 3, 4, 5, 6]]);
  });
  it('steps, area and the mean curve on the common grid', () => {
    expect(flipSteps(5, 2)).toEqual([0, 2, 4, 5]);
    expect(flipSteps(6, 3)).toEqual([0, 3, 6]);
    expect(() => flipSteps(5, 0)).toThrow(/positive integer/);
    expect(trapezoid([0, 0.5, 1], [1, 0, 1])).toBeCloseTo(0.5, 12);
    const c1 = { n: 5, flipped: [0, 1, 2, 3, 4, 5], p: [0.9, 0.63, 0.45, 0.315, 0.225, 0.18] };
    const c3 = { n: 5, flipped: [0, 3, 5], p: [0.9, 0.315, 0.18] };
    // at x = 0.5: c1 halfway between .45 and .315 = .3825; c3: 0.9 + (0.315 - 0.9) * 0.5/0.6 = 0.4125
    expect(curveAt(c1, 0.5)).toBeCloseTo(0.3825, 12);
    expect(curveAt(c3, 0.5)).toBeCloseTo(0.4125, 12);
    const m = meanCurve([c1, c3]);
    expect(m.x).toHaveLength(21);
    expect(m.p[10]).toBeCloseTo((0.3825 + 0.4125) / 2, 12);
    expect(m.p[0]).toBeCloseTo(0.9, 12);
    expect(m.p[20]).toBeCloseTo(0.18, 12);
  });
  it('refuses a readout that is not a probability and a text without tokens', async () => {
    await expect(kGreedyFlipping([1, 2], [0, 1], 1, async () => 1.5)).rejects.toThrow(/probability/);
    await expect(kGreedyFlipping([1, 2], [], 1, async () => 0.5)).rejects.toThrow(/no tokens/);
  });
});

describe('k per task (the study config)', () => {
  it("'task' gives the final version's k: 1 for sentiment, 3 for RaFoLa and Climate-FEVER", () => {
    expect(flippingK('sentiment')).toBe(1);
    expect(flippingK('forced-labour', 'task')).toBe(3);
    expect(flippingK('claim-verification', 'task')).toBe(3);
    expect(flippingK('sentiment', 4)).toBe(4);
  });
  it('the schema takes flipping.k and the metric, and names a bad k', () => {
    const base = { name: 's', task: { kind: 'sentiment' }, dataset: { id: 1 }, models: [{ path: '/m.gguf' }] };
    const r = parseStudyConfig({ ...base, metrics: ['k-greedy-flipping'], flipping: { k: 2 } });
    expect(r.ok && r.config.flipping).toEqual({ k: 2 });
    const d = parseStudyConfig({ ...base, flipping: {} });
    expect(d.ok && d.config.flipping).toEqual({ k: 'task' });
    const bad = parseStudyConfig({ ...base, flipping: { k: 0 } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.map((e) => e.path)).toContain('flipping.k');
  });
});
