/**
 * Mean with a seeded percentile-bootstrap confidence interval.
 * Deterministic: the same values, seed and B always give the same interval, on every platform
 * (the PRNG is integer arithmetic only).
 */

/** mulberry32: a small 32-bit PRNG; returns a function giving floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash of a string to a 32-bit seed, to derive per-group seeds independent of group order. */
export function hashSeed(text: string, base = 0): number {
  let h = (0x811c9dc5 ^ base) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Quantile with linear interpolation between order statistics (numpy's default `percentile`):
 * position q*(n-1) in the sorted values.
 */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface BootstrapOptions {
  /** Resamples (default 1000). */
  B?: number;
  /** PRNG seed (default 0). */
  seed?: number;
  /** Confidence level (default 0.95 -> 2.5th and 97.5th percentiles). */
  level?: number;
}

export interface MeanCI {
  mean: number;
  lo: number;
  hi: number;
  n: number;
  B: number;
  level: number;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/**
 * Mean and percentile bootstrap CI: B resamples of n values drawn with replacement (index =
 * floor(u * n) from the seeded PRNG), CI = [quantile(alpha/2), quantile(1 - alpha/2)] of the
 * resample means. n = 0 gives NaNs; n = 1 gives a zero-width interval. Values must be finite
 * (filter undefined metric values before, and count them).
 */
export function bootstrapMeanCI(values: readonly number[], opts: BootstrapOptions = {}): MeanCI {
  const B = opts.B ?? 1000;
  const level = opts.level ?? 0.95;
  if (!Number.isInteger(B) || B < 1) throw new Error(`bootstrap: B must be a positive integer, got ${B}`);
  if (!(level > 0 && level < 1)) throw new Error(`bootstrap: level must be in (0, 1), got ${level}`);
  for (const v of values) if (!Number.isFinite(v)) throw new Error(`bootstrap: value ${v} is not finite`);
  const n = values.length;
  const m = mean(values);
  if (n === 0) return { mean: Number.NaN, lo: Number.NaN, hi: Number.NaN, n, B, level };
  const rand = mulberry32(opts.seed ?? 0);
  const means = new Array<number>(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(rand() * n)];
    means[b] = s / n;
  }
  means.sort((a, b) => a - b);
  const alpha = 1 - level;
  return { mean: m, lo: quantileSorted(means, alpha / 2), hi: quantileSorted(means, 1 - alpha / 2), n, B, level };
}

/**
 * Percentile bootstrap of any statistic over n units (examples): B resamples of the n units drawn with
 * replacement (unit = floor(u * n), the same PRNG and draw order as `bootstrapMeanCI`), the statistic
 * evaluated on each resample's unit indices; CI = the alpha/2 and 1 - alpha/2 quantiles of those values.
 * `mean` is the statistic on all units (in order). n = 0 gives NaNs.
 */
export function bootstrapStatisticCI(n: number, statistic: (units: ArrayLike<number>) => number, opts: BootstrapOptions = {}): MeanCI {
  const B = opts.B ?? 1000;
  const level = opts.level ?? 0.95;
  if (!Number.isInteger(B) || B < 1) throw new Error(`bootstrap: B must be a positive integer, got ${B}`);
  if (!(level > 0 && level < 1)) throw new Error(`bootstrap: level must be in (0, 1), got ${level}`);
  if (n === 0) return { mean: Number.NaN, lo: Number.NaN, hi: Number.NaN, n, B, level };
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const point = statistic(all);
  const rand = mulberry32(opts.seed ?? 0);
  const draw = new Int32Array(n);
  const stats = new Array<number>(B);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < n; i++) draw[i] = Math.floor(rand() * n);
    stats[b] = statistic(draw);
  }
  stats.sort((a, b) => a - b);
  const alpha = 1 - level;
  return { mean: point, lo: quantileSorted(stats, alpha / 2), hi: quantileSorted(stats, 1 - alpha / 2), n, B, level };
}

/**
 * Mean over clusters of values with a cluster bootstrap: clusters (e.g. one example's values from every
 * seed of a model) are resampled with replacement, and each resample's statistic is the mean of all values
 * in the drawn clusters (sum / count, so clusters of more values weigh more, as in the pooled mean).
 * `n` is the number of clusters. With one value per cluster this is `bootstrapMeanCI` to the bit (same
 * draws, same summation order). Clusters must be non-empty and values finite.
 */
export function clusterMeanCI(clusters: readonly (readonly number[])[], opts: BootstrapOptions = {}): MeanCI {
  for (const c of clusters) {
    if (c.length === 0) throw new Error('bootstrap: empty cluster');
    for (const v of c) if (!Number.isFinite(v)) throw new Error(`bootstrap: value ${v} is not finite`);
  }
  return bootstrapStatisticCI(
    clusters.length,
    (units) => {
      let s = 0;
      let k = 0;
      for (let i = 0; i < units.length; i++) {
        for (const v of clusters[units[i]]) s += v;
        k += clusters[units[i]].length;
      }
      return s / k;
    },
    opts,
  );
}
