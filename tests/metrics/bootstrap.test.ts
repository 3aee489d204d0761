import { describe, it, expect } from 'vitest';
import { mulberry32, quantileSorted, bootstrapMeanCI, aggregate, hashSeed, type ExampleMetrics } from '../../main/metrics';

describe('seeded PRNG', () => {
  it('is deterministic per seed and roughly uniform', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xa = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(xa);
    expect(Array.from({ length: 5 }, c)).not.toEqual(xa);
    const r = mulberry32(1);
    let s = 0;
    for (let i = 0; i < 20000; i++) {
      const u = r();
      expect(u >= 0 && u < 1).toBe(true);
      s += u;
    }
    expect(s / 20000).toBeGreaterThan(0.49);
    expect(s / 20000).toBeLessThan(0.51);
    expect(hashSeed('a')).not.toBe(hashSeed('b'));
  });
});

describe('percentile bootstrap', () => {
  it('quantile interpolates linearly like numpy.percentile', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5); // position 1.5
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBe(1.75); // position 0.75
    expect(quantileSorted([7], 0.9)).toBe(7);
  });
  it('B = 1 draws exactly the values the seeded PRNG picks', () => {
    // n = 2: indices floor(u1*2), floor(u2*2) from mulberry32(5)
    const r = mulberry32(5);
    const v = [10, 20];
    const expected = (v[Math.floor(r() * 2)] + v[Math.floor(r() * 2)]) / 2;
    const ci = bootstrapMeanCI(v, { B: 1, seed: 5 });
    expect(ci.mean).toBe(15);
    expect(ci.lo).toBe(expected);
    expect(ci.hi).toBe(expected);
  });
  it('edge cases: constant, single, empty', () => {
    expect(bootstrapMeanCI([2, 2, 2])).toMatchObject({ mean: 2, lo: 2, hi: 2, n: 3, B: 1000 });
    expect(bootstrapMeanCI([5])).toMatchObject({ mean: 5, lo: 5, hi: 5 });
    const e = bootstrapMeanCI([]);
    expect(e.mean).toBeNaN();
    expect(e.lo).toBeNaN();
    expect(() => bootstrapMeanCI([1, Number.NaN])).toThrow(/finite/);
  });
  it('two values: resample means are 0, .5, 1 with prob 1/4, 1/2, 1/4 -> 95% CI [0, 1]', () => {
    const ci = bootstrapMeanCI([0, 1], { B: 2000, seed: 3 });
    expect(ci.mean).toBe(0.5);
    expect(ci.lo).toBe(0);
    expect(ci.hi).toBe(1);
  });
  it('is reproducible and brackets the mean', () => {
    const v = [0.1, 0.5, 0.9, 0.3, 0.7, 0.2, 0.8];
    const a = bootstrapMeanCI(v, { seed: 11 });
    expect(bootstrapMeanCI(v, { seed: 11 })).toEqual(a);
    expect(a.lo).toBeLessThan(a.mean);
    expect(a.hi).toBeGreaterThan(a.mean);
    // a 50% interval is inside the 95% one
    const narrow = bootstrapMeanCI(v, { seed: 11, level: 0.5 });
    expect(narrow.lo).toBeGreaterThanOrEqual(a.lo);
    expect(narrow.hi).toBeLessThanOrEqual(a.hi);
  });
});

describe('aggregate', () => {
  it('groups by model x seed x language x indicator, counts skips, leaves undefined values out', () => {
    const recs: ExampleMetrics[] = [
      { model: 'm', seed: '28', language: 'en', exampleId: '1', metrics: { f1: 1, kappa: 0.5 } },
      { model: 'm', seed: '28', language: 'en', exampleId: '2', metrics: { f1: 0, kappa: Number.NaN } },
      { model: 'm', seed: '28', language: 'en', exampleId: '3', metrics: { f1: 0.5, kappa: null } },
      { model: 'm', seed: '28', language: 'en', exampleId: '4', metrics: {}, skipped: 'invalid-answer' },
      { model: 'm', seed: '28', language: 'en', exampleId: '5', metrics: {}, skipped: 'wrong-answer' },
      { model: 'm', seed: '28', language: 'en', exampleId: '6', metrics: { f1: 9 }, skipped: 'wrong-answer' },
      { model: 'm', seed: '79', language: 'en', exampleId: '1', metrics: { f1: 0.25 } },
      { model: 'm', seed: '28', language: 'da', exampleId: '1', metrics: { f1: 0.75 } },
    ];
    const out = aggregate(recs, { B: 200, seed: 1 });
    expect(out.map((g) => [g.key.seed, g.key.language])).toEqual([
      ['28', 'da'],
      ['28', 'en'],
      ['79', 'en'],
    ]);
    const en28 = out[1];
    expect(en28.total).toBe(6);
    expect(en28.evaluated).toBe(3);
    expect(en28.skipped).toEqual({ 'invalid-answer': 1, 'wrong-answer': 2 });
    // f1 mean over the three evaluated: (1 + 0 + 0.5) / 3 = 0.5 (the skipped example's 9 is ignored)
    expect(en28.metrics.f1.mean).toBeCloseTo(0.5, 12);
    expect(en28.metrics.f1.n).toBe(3);
    // kappa: only 0.5 is defined; two undefined
    expect(en28.metrics.kappa).toMatchObject({ mean: 0.5, n: 1, undefinedCount: 2, lo: 0.5, hi: 0.5 });
    expect(out[2].metrics.f1.mean).toBe(0.25);
    // deterministic
    expect(aggregate(recs, { B: 200, seed: 1 })).toEqual(out);
  });
});
