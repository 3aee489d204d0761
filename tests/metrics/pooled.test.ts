/**
 * Pooling over seeds: a cluster bootstrap that resamples examples and takes all seeds' values of each drawn
 * example. Checked against a hand computation and an independent recomputation with a fixed seed; with one
 * value per example it is the per-seed bootstrap to the bit (so the per-seed intervals did not change).
 */
import { describe, expect, it } from 'vitest';
import { aggregatePooled, bootstrapMeanCI, clusterMeanCI, hashSeed, mulberry32, quantileSorted, type ExampleMetrics } from '../../main/metrics';

describe('clusterMeanCI', () => {
  it('one value per cluster is bootstrapMeanCI, bit for bit', () => {
    const r = mulberry32(99);
    const v = Array.from({ length: 37 }, () => r());
    expect(clusterMeanCI(v.map((x) => [x]), { seed: 5 })).toEqual(bootstrapMeanCI(v, { seed: 5 }));
  });
  it('B = 2 by hand: each resample draws 3 clusters and pools their values', () => {
    const clusters = [[1, 0, 1], [0], [1, 1]];
    // pooled mean: 4 ones of 6 values
    const rand = mulberry32(3);
    const draws = [0, 1].map(() => [0, 1, 2].map(() => Math.floor(rand() * 3)));
    const stat = (d: number[]) => d.reduce((s, i) => s + clusters[i].reduce((a, b) => a + b, 0), 0) / d.reduce((s, i) => s + clusters[i].length, 0);
    const stats = draws.map(stat).sort((a, b) => a - b);
    const ci = clusterMeanCI(clusters, { B: 2, seed: 3 });
    expect(ci.mean).toBe(4 / 6);
    expect(ci.n).toBe(3);
    expect(ci.lo).toBe(quantileSorted(stats, 0.025));
    expect(ci.hi).toBe(quantileSorted(stats, 0.975));
  });
  it('refuses empty clusters and non-finite values', () => {
    expect(() => clusterMeanCI([[1], []])).toThrow(/empty cluster/);
    expect(() => clusterMeanCI([[Number.NaN]])).toThrow(/finite/);
  });
});

describe('aggregatePooled', () => {
  // model m, seeds 28 and 79, examples e1..e3:
  //   kappa e1: .5 (28), 1 (79); e2: undefined (28), 0 (79); e3: .25 (28), skipped at 79 (invalid answer)
  const recs: ExampleMetrics[] = [
    { model: 'm', seed: '28', exampleId: 'e1', metrics: { kappa: 0.5 } },
    { model: 'm', seed: '28', exampleId: 'e2', metrics: { kappa: Number.NaN } },
    { model: 'm', seed: '28', exampleId: 'e3', metrics: { kappa: 0.25 } },
    { model: 'm', seed: '79', exampleId: 'e1', metrics: { kappa: 1 } },
    { model: 'm', seed: '79', exampleId: 'e2', metrics: { kappa: 0 } },
    { model: 'm', seed: '79', exampleId: 'e3', metrics: {}, skipped: 'invalid-answer' },
    { model: 'other', seed: '28', exampleId: 'e1', metrics: { kappa: 0.9 } },
  ];
  it('pools the seeds of a model: mean over all defined values, n = examples, skips and undefined counted', () => {
    const out = aggregatePooled(recs, { B: 500, seed: 7 });
    expect(out.map((g) => g.key.model)).toEqual(['m', 'other']);
    const g = out[0];
    expect(g).toMatchObject({ seeds: ['28', '79'], total: 6, evaluated: 5, examples: 3, skipped: { 'invalid-answer': 1 } });
    // (.5 + 1 + 0 + .25) / 4 defined values
    expect(g.metrics.kappa.mean).toBe(1.75 / 4);
    expect(g.metrics.kappa.n).toBe(3);
    expect(g.metrics.kappa.undefinedCount).toBe(1);
  });
  it('interval: independent recomputation resampling example ids with all their seeds’ values', () => {
    const g = aggregatePooled(recs, { B: 500, seed: 7 })[0];
    // clusters in first-appearance order: e1 [.5, 1], e2 [0] (its undefined value left out), e3 [.25]
    const clusters = [[0.5, 1], [0], [0.25]];
    const rand = mulberry32(hashSeed(JSON.stringify(['pooled', 'm', '', '']) + 'kappa', 7));
    const stats: number[] = [];
    for (let b = 0; b < 500; b++) {
      const drawn = [0, 1, 2].map(() => clusters[Math.floor(rand() * 3)]);
      stats.push(drawn.flat().reduce((a, x) => a + x, 0) / drawn.flat().length);
    }
    stats.sort((a, b) => a - b);
    expect(g.metrics.kappa.lo).toBe(quantileSorted(stats, 0.025));
    expect(g.metrics.kappa.hi).toBe(quantileSorted(stats, 0.975));
    // deterministic
    expect(aggregatePooled(recs, { B: 500, seed: 7 })).toEqual(aggregatePooled(recs, { B: 500, seed: 7 }));
  });
});
