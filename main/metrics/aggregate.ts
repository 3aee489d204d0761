/**
 * Aggregation of per-example metric values into groups (model x seed x language x indicator),
 * with bootstrap intervals and counts of skipped examples by reason; and the same pooled over seeds
 * (model x language x indicator), resampling examples with all seeds' values of each drawn example.
 */
import { bootstrapStatisticCI, clusterMeanCI, hashSeed, type MeanCI } from './bootstrap';

/** Why an example has no metric values. Free-form strings are allowed for importer-specific reasons. */
export type SkipReason =
  | 'invalid-answer'
  | 'wrong-answer'
  | 'context-overflow'
  | 'unmatched-self-explanation'
  | 'unparsable-self-explanation'
  | (string & {});

export interface GroupKey {
  model: string;
  seed: string;
  language: string;
  /** RaFoLa indicator, or '' for single-task datasets. */
  indicator: string;
}

export interface ExampleMetrics extends Partial<GroupKey> {
  exampleId: string;
  /** Metric name -> value. NaN or null means "undefined for this example" (e.g. kappa of two empty masks). */
  metrics: Record<string, number | null>;
  /** Set when the example was skipped; its metrics are then ignored. */
  skipped?: SkipReason;
}

export interface MetricSummary extends MeanCI {
  /** Examples (not skipped) whose value for this metric was undefined (NaN/null) and left out of the mean. */
  undefinedCount: number;
}

export interface GroupSummary {
  key: GroupKey;
  /** Examples in the group, skipped ones included. */
  total: number;
  /** Examples that contributed metric values. */
  evaluated: number;
  skipped: Record<string, number>;
  metrics: Record<string, MetricSummary>;
}

/**
 * A figure that is not a mean of per-example values but a function of several such means (ERASER's IOU F1:
 * the F1 of mean precision and mean recall). Its interval resamples examples and recomputes every mean.
 */
export interface DerivedMetric {
  name: string;
  /** Per-example metrics whose means it combines. */
  from: readonly string[];
  /** The figure from the means (a mean is NaN when no drawn example has a value for it). */
  combine(means: readonly number[]): number;
}

export interface AggregateOptions {
  B?: number;
  /** Base seed; each group and metric gets its own seed derived from it and the group key. */
  seed?: number;
  level?: number;
  /** Derived figures, given the per-example metric names present in a group. */
  derived?: (names: readonly string[]) => DerivedMetric[];
}

/** One resampling unit (an example): each metric's defined values (one per seed) and undefined count. */
interface Unit {
  values: Map<string, number[]>;
  undef: Map<string, number>;
}

function addValues(u: Unit, metrics: Record<string, number | null>): void {
  for (const [name, v] of Object.entries(metrics)) {
    if (!u.values.has(name)) u.values.set(name, []);
    if (v === null || Number.isNaN(v)) u.undef.set(name, (u.undef.get(name) ?? 0) + 1);
    else u.values.get(name)!.push(v);
  }
}

/**
 * Mean and bootstrap CI of every metric over the units: a metric's clusters are the units with a defined
 * value for it (so with one value per unit this is `bootstrapMeanCI` over the defined values); derived
 * figures resample the units that have a value for any of their inputs.
 */
function summarise(units: readonly Unit[], key: string, opts: AggregateOptions): Record<string, MetricSummary> {
  const names = [...new Set(units.flatMap((u) => [...u.values.keys()]))].sort();
  const metrics: Record<string, MetricSummary> = {};
  const ciOpts = (name: string) => ({ B: opts.B, level: opts.level, seed: hashSeed(key + name, opts.seed ?? 0) });
  for (const name of names) {
    const clusters = units.flatMap((u) => (u.values.get(name)?.length ? [u.values.get(name)!] : []));
    const undefinedCount = units.reduce((s, u) => s + (u.undef.get(name) ?? 0), 0);
    metrics[name] = { ...clusterMeanCI(clusters, ciOpts(name)), undefinedCount };
  }
  for (const d of opts.derived?.(names) ?? []) {
    const us = units.filter((u) => d.from.some((f) => u.values.get(f)?.length));
    const statistic = (idx: ArrayLike<number>) => {
      const means = d.from.map((f) => {
        let s = 0;
        let k = 0;
        for (let i = 0; i < idx.length; i++) {
          const vs = us[idx[i]].values.get(f);
          if (!vs) continue;
          for (const v of vs) s += v;
          k += vs.length;
        }
        return k ? s / k : Number.NaN;
      });
      return d.combine(means);
    };
    metrics[d.name] = { ...bootstrapStatisticCI(us.length, statistic, ciOpts(d.name)), undefinedCount: 0 };
  }
  return metrics;
}

export function groupKeyString(k: GroupKey): string {
  return JSON.stringify([k.model, k.seed, k.language, k.indicator]);
}

/** Records grouped by key, in the order of their key strings (the summaries' order; `ks` also seeds the bootstrap). */
function groupsOf<K>(records: readonly ExampleMetrics[], keyOf: (r: ExampleMetrics) => K, keyString: (k: K) => string): { ks: string; key: K; recs: ExampleMetrics[] }[] {
  const groups = new Map<string, { ks: string; key: K; recs: ExampleMetrics[] }>();
  for (const r of records) {
    const key = keyOf(r);
    const ks = keyString(key);
    const g = groups.get(ks) ?? { ks, key, recs: [] };
    g.recs.push(r);
    groups.set(ks, g);
  }
  return [...groups.keys()].sort().map((ks) => groups.get(ks)!);
}

/** Groups records, then for each group and metric: mean + bootstrap CI over defined values. Groups sorted by key. */
export function aggregate(records: readonly ExampleMetrics[], opts: AggregateOptions = {}): GroupSummary[] {
  const out: GroupSummary[] = [];
  const groups = groupsOf(records, (r): GroupKey => ({ model: r.model ?? '', seed: String(r.seed ?? ''), language: r.language ?? '', indicator: r.indicator ?? '' }), groupKeyString);
  for (const { ks, key, recs } of groups) {
    const skipped: Record<string, number> = {};
    const units: Unit[] = [];
    for (const r of recs) {
      if (r.skipped) {
        skipped[r.skipped] = (skipped[r.skipped] ?? 0) + 1;
        continue;
      }
      const u: Unit = { values: new Map(), undef: new Map() };
      addValues(u, r.metrics);
      units.push(u);
    }
    const evaluated = units.length;
    const metrics = summarise(units, ks, opts);
    out.push({ key, total: recs.length, evaluated, skipped, metrics });
  }
  return out;
}

export interface PooledKey {
  model: string;
  language: string;
  indicator: string;
}

export interface PooledSummary {
  key: PooledKey;
  /** The seeds pooled, sorted. */
  seeds: string[];
  /** Records in the group (example x seed), skipped ones included. */
  total: number;
  /** Records that contributed metric values. */
  evaluated: number;
  /** Distinct examples with at least one evaluated record: the resampling units. */
  examples: number;
  skipped: Record<string, number>;
  /**
   * Per metric: the mean over all seeds' defined values, and a cluster-bootstrap CI that resamples
   * examples and takes all seeds' values of each drawn example. `n` counts examples (clusters), not values.
   */
  metrics: Record<string, MetricSummary>;
}

/**
 * Per-example values pooled over seeds: records are grouped by model, language and indicator (not seed),
 * and within a group the records of one example (same `exampleId`) form one resampling unit. The interval
 * thus reflects that the seeds of one example are not independent observations.
 */
export function aggregatePooled(records: readonly ExampleMetrics[], opts: AggregateOptions = {}): PooledSummary[] {
  const out: PooledSummary[] = [];
  const groups = groupsOf(
    records,
    (r): PooledKey => ({ model: r.model ?? '', language: r.language ?? '', indicator: r.indicator ?? '' }),
    (k) => JSON.stringify(['pooled', k.model, k.language, k.indicator]),
  );
  for (const { ks, key, recs } of groups) {
    const skipped: Record<string, number> = {};
    const byExample = new Map<string, Unit>();
    let evaluated = 0;
    for (const r of recs) {
      if (r.skipped) {
        skipped[r.skipped] = (skipped[r.skipped] ?? 0) + 1;
        continue;
      }
      evaluated++;
      let u = byExample.get(r.exampleId);
      if (!u) byExample.set(r.exampleId, (u = { values: new Map(), undef: new Map() }));
      addValues(u, r.metrics);
    }
    // units in a fixed order (first appearance of each example), so the draws do not depend on Map internals
    const units = [...byExample.values()];
    const seeds = [...new Set(recs.map((r) => String(r.seed ?? '')))].sort();
    out.push({ key, seeds, total: recs.length, evaluated, examples: units.length, skipped, metrics: summarise(units, ks, opts) });
  }
  return out;
}
